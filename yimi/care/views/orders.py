"""Care pages: orders (点单) — the scoped list, a new order, one order, a department's inbox.

Every action is a POST to its own URL that calls one service; refusals come back as messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimi.core.http import client_ip
from yimi.core.services import ServiceError

from .. import policy
from ..models import Child, Order, OrderTask, WorklistItem
from ..selectors import orders as sel
from ..services import orders as svc


def _care_user(request) -> None:
    if not policy.may_use_care(request.user) or policy.is_volunteer(request.user):
        raise DjangoPermissionDenied(_("The order pages are for child welfare staff."))


def _flag(request, name: str) -> bool:
    return request.GET.get(name) in ("1", "true", "on", "yes")


# ------------------------------------------------------------------------------ the list


@login_required
def order_list(request):
    _care_user(request)
    user = request.user
    now = timezone.now()
    q = {
        "state": request.GET.get("state", ""),
        "department": request.GET.get("department", ""),
        "overdue": _flag(request, "overdue"),
        "escalated": _flag(request, "escalated"),
    }
    if q["state"] not in Order.State.values:
        q["state"] = ""
    qs = sel.order_list(user, now=now, **q)
    rows = [sel.order_row(user, o, now=now) for o in qs[:200]]
    return render(
        request,
        "care/orders/list.html",
        {
            "rows": rows,
            "total": qs.count(),
            "q": q,
            "states": Order.State.choices,
            "departments": sel.department_choices(user),
            "identified": policy.identified(user),
            "can_escalate": policy.is_oversight(user),
            "is_department": policy.is_department(user),
        },
    )


@login_required
@require_POST
def order_escalate_now(request):
    """The committee office queues the 督办 run (the same task the daily timer runs)."""
    if not policy.is_oversight(request.user):
        raise DjangoPermissionDenied(
            _("Only the women and children's committee office may do this.")
        )
    from ..tasks import orders_escalate_task

    result = orders_escalate_task.enqueue()
    done = result.return_value if result.status == "SUCCESSFUL" else None
    if done is not None:
        messages.success(
            request,
            _("Checked for late orders: %(n)d escalated.") % {"n": done["escalated"]},
        )
    else:
        messages.success(request, _("The check for late orders has been queued."))
    return redirect(reverse("care:orders") + "?escalated=1")


# ------------------------------------------------------------------------------ a new order


def _child_for(request, pk):
    try:
        return policy.children_visible_to(request.user).select_related("area").get(pk=int(pk))
    except (Child.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


@login_required
def order_new(request):
    user = request.user
    if not policy.can_edit_records(user):
        raise DjangoPermissionDenied(
            _("Only the child director or supervisor of the child's area may place an order.")
        )
    source = request.POST if request.method == "POST" else request.GET
    if not source.get("child"):
        messages.error(request, _("Choose a child first: open the child's file or the worklist."))
        return redirect("care:orders")
    child = _child_for(request, source.get("child"))
    choices = sel.policy_choices(user, child)
    chosen = None
    if source.get("policy"):
        chosen = next((p for p in choices if str(p.pk) == str(source.get("policy"))), None)
        if chosen is None:
            raise Http404
    item = None
    if chosen is not None:
        item = WorklistItem.objects.filter(
            child=child, policy=chosen, state=WorklistItem.State.OPEN
        ).first()
    form = {
        "channel": source.get(
            "channel", Order.Channel.WORKLIST if item else Order.Channel.DIRECTOR
        ),
        "applicant": source.get("applicant", ""),
        "request": source.get("request", ""),
    }
    if request.method == "POST":
        if chosen is None:
            messages.error(request, _("Choose a policy."))
        else:
            try:
                order = svc.order_create(
                    actor=user,
                    child=child,
                    policy=chosen,
                    channel=form["channel"],
                    applicant=form["applicant"],
                    request=form["request"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Order %(n)s placed.") % {"n": order.number})
                return redirect("care:order", pk=order.pk)
    return render(
        request,
        "care/orders/new.html",
        {
            "child": child,
            "child_label": sel.child_label(user, child),
            "policies": choices,
            "chosen": chosen,
            "item": item,
            "form": form,
            "channels": Order.Channel.choices,
            "departments": svc.departments_for(chosen) if chosen else [],
            "missing": svc.departments_without_consent(child, svc.departments_for(chosen))
            if chosen
            else [],
        },
    )


# ------------------------------------------------------------------------------ one order


@login_required
def order_view(request, pk: int):
    _care_user(request)
    user = request.user
    order = sel.order_get(user, pk)
    detail = sel.order_detail(user, order, ip=client_ip(request))
    actions = sel.order_actions(user, order)
    my_tasks = []
    if policy.is_department(user):
        my_tasks = [t for t in order.tasks.all() if t.department_id == user.department_id]
    return render(
        request,
        "care/orders/detail.html",
        {
            "o": detail,
            "order": order,
            "actions": actions,
            "missing": sel.consent_gaps(order) if actions["confirm"] else [],
            "my_tasks": my_tasks,
            "open_task": OrderTask.State.OPEN,
        },
    )


def _order_action(request, pk: int, run, done: str):
    order = sel.order_get(request.user, pk)
    try:
        run(order)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("care:order", pk=order.pk)


@login_required
@require_POST
def order_confirm(request, pk: int):
    return _order_action(
        request,
        pk,
        lambda o: svc.order_confirm(actor=request.user, order=o, note=request.POST.get("note", "")),
        _("Confirmed and sent to the departments."),
    )


@login_required
@require_POST
def order_reject(request, pk: int):
    return _order_action(
        request,
        pk,
        lambda o: svc.order_reject(
            actor=request.user, order=o, reason=request.POST.get("reason", "")
        ),
        _("The application was rejected."),
    )


@login_required
@require_POST
def order_withdraw(request, pk: int):
    return _order_action(
        request,
        pk,
        lambda o: svc.order_withdraw(
            actor=request.user, order=o, reason=request.POST.get("reason", "")
        ),
        _("The order was withdrawn."),
    )


@login_required
@require_POST
def order_follow_up(request, pk: int):
    satisfied = request.POST.get("satisfied") == "1"
    return _order_action(
        request,
        pk,
        lambda o: svc.order_follow_up(
            actor=request.user, order=o, note=request.POST.get("note", ""), satisfied=satisfied
        ),
        _("Follow-up recorded; the order is closed."),
    )


@login_required
@require_POST
def order_supervise(request, pk: int):
    return _order_action(
        request,
        pk,
        lambda o: svc.order_supervise(
            actor=request.user, order=o, note=request.POST.get("note", "")
        ),
        _("Supervision note added."),
    )


# ------------------------------------------------------------------------------ department inbox


@login_required
def task_list(request):
    user = request.user
    if not policy.is_department(user):
        raise DjangoPermissionDenied(_("The task inbox is for department staff."))
    state = request.GET.get("state", OrderTask.State.OPEN)
    if state not in OrderTask.State.values and state != "all":
        state = OrderTask.State.OPEN
    now = timezone.now()
    tasks = sel.task_list(user, state="" if state == "all" else state)[:100]
    cards = [sel.task_card(user, t, ip=client_ip(request), now=now) for t in tasks]
    return render(
        request,
        "care/orders/tasks.html",
        {
            "cards": cards,
            "state": state,
            "states": OrderTask.State.choices,
            "department": user.department,
        },
    )


def _task_action(request, pk: int, run, done: str):
    task = sel.task_get(request.user, pk)
    try:
        run(task)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    back = request.POST.get("next", "")
    if back == "order":
        return redirect("care:order", pk=task.order_id)
    return redirect("care:tasks")


@login_required
@require_POST
def task_accept(request, pk: int):
    return _task_action(
        request,
        pk,
        lambda t: svc.task_accept(actor=request.user, task=t, note=request.POST.get("note", "")),
        _("Task accepted."),
    )


@login_required
@require_POST
def task_complete(request, pk: int):
    return _task_action(
        request,
        pk,
        lambda t: svc.task_complete(
            actor=request.user,
            task=t,
            result=request.POST.get("result", ""),
            evidence=request.FILES.get("evidence"),
        ),
        _("Task reported done."),
    )


@login_required
@require_POST
def task_decline(request, pk: int):
    return _task_action(
        request,
        pk,
        lambda t: svc.task_decline(
            actor=request.user, task=t, reason=request.POST.get("reason", "")
        ),
        _("Task declined."),
    )


urlpatterns = [
    path("orders/", order_list, name="orders"),
    path("orders/escalate/", order_escalate_now, name="orders_escalate"),
    path("orders/new/", order_new, name="order_new"),
    path("orders/<int:pk>/", order_view, name="order"),
    path("orders/<int:pk>/confirm/", order_confirm, name="order_confirm"),
    path("orders/<int:pk>/reject/", order_reject, name="order_reject"),
    path("orders/<int:pk>/withdraw/", order_withdraw, name="order_withdraw"),
    path("orders/<int:pk>/follow-up/", order_follow_up, name="order_follow_up"),
    path("orders/<int:pk>/supervise/", order_supervise, name="order_supervise"),
    path("tasks/", task_list, name="tasks"),
    path("tasks/<int:pk>/accept/", task_accept, name="task_accept"),
    path("tasks/<int:pk>/complete/", task_complete, name="task_complete"),
    path("tasks/<int:pk>/decline/", task_decline, name="task_decline"),
]
