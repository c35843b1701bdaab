"""Voice pages for staff and departments: the landing page (/voice/staff/), the moderation queue
and one letter (publish, edit, hide, route, reassign, supervise), disclosures for care staff,
department settings, batch entry of paper letters, and a department's inbox with the answer.

Every action is a POST to its own URL that calls one service; refusals come back as messages.
Reading a child's own words (or the original picture) writes an audit row.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yimi.core.http import client_ip
from yimi.core.models import Department
from yimi.core.services import ServiceError

from ..models import Adoption, Disclosure, Suggestion, Topic
from ..selectors import handling as sel
from ..services import batch as batch_svc
from ..services import handling as svc
from ..services import moderation as mod
from ..services.mailbox import receipt_code_display
from .public import _image_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Department kinds the shipped routing rules name (a city may add its own).
KIND_LABELS = {
    "parks": "园林绿化",
    "transport": "交通",
    "edu": "教育",
    "culture": "文化",
    "health": "卫生健康",
    "sanitation": "城市管理（环境卫生）",
    "fegw": "妇儿工委办",
}
# "Open" means 办理中 elsewhere; for a disclosure it means nobody has taken it on yet.
DISCLOSURE_LABELS = {
    Disclosure.Status.OPEN: gettext_lazy("New: nobody has taken it on yet"),
    Disclosure.Status.ACKNOWLEDGED: gettext_lazy("Being followed up"),
    Disclosure.Status.CLOSED: gettext_lazy("Closed"),
}
LETTER_VIEWS = ("pending", "unassigned", "assigned", "overdue", "supervised", "answered", "hidden")


def _moderator(request) -> None:
    if not mod.can_moderate(request.user):
        raise DjangoPermissionDenied(
            _("Only the women and children's committee office may do this.")
        )


def _care(request) -> None:
    if not mod.is_care_staff(request.user):
        raise DjangoPermissionDenied(_("Disclosures are for the care staff of the area."))


def _department(request) -> None:
    if not svc.is_department_user(request.user):
        raise DjangoPermissionDenied(_("The inbox is for department staff."))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _letter(request, pk) -> Suggestion:
    s = sel.staff_letters(request.user).filter(pk=_int(pk)).first()
    if s is None:
        raise Http404
    return s


def _image(s: Suggestion) -> HttpResponse:
    return _image_response(bytes(s.image), s.image_type or "application/octet-stream", public=False)


def _page(request, template: str, ctx: dict, status: int = 200) -> HttpResponse:
    """Render a staff page with what its sub-navigation needs."""
    user = request.user
    ctx = {
        "vs_moderate": mod.can_moderate(user),
        "vs_care": mod.is_care_staff(user),
        "vs_department": svc.is_department_user(user),
        **ctx,
    }
    return render(request, template, ctx, status=status)


def _refused(request, exc: ServiceError) -> None:
    if exc.code == "not_found":
        raise Http404
    messages.error(request, exc.message)


# ------------------------------------------------------------------------------ landing


@login_required
def staff_home(request):
    user = request.user
    if not user.is_yimi_staff:
        raise DjangoPermissionDenied(_("These pages are for staff."))
    return _page(
        request,
        "voice/staff_home.html",
        {
            "counts": sel.staff_counts(user),
            "can_moderate": mod.can_moderate(user),
            "is_care": mod.is_care_staff(user),
            "is_department": svc.is_department_user(user),
            "can_batch": batch_svc.can_batch(user),
        },
    )


# ------------------------------------------------------------------------------ letters


@login_required
def moderation_queue(request):
    _moderator(request)
    return _letter_list(request, "pending")


@login_required
def letter_list(request):
    _moderator(request)
    view = request.GET.get("view", "unassigned")
    return _letter_list(request, view if view in LETTER_VIEWS else "unassigned")


def _letter_list(request, view: str):
    qs = sel.letter_list(request.user, view)
    rows = [sel.letter_row(s) for s in qs[:300]]
    return _page(
        request,
        "voice/staff_letters.html",
        {"rows": rows, "total": qs.count(), "view": view, "views": LETTER_VIEWS},
    )


@login_required
def letter_detail(request, pk):
    _moderator(request)
    s = _letter(request, pk)
    mod.suggestion_read_original(
        actor=request.user, suggestion=s, why="moderation: original letter", ip=client_ip(request)
    )
    departments = list(svc.departments_for(s, request.user))
    suggested = svc.department_suggest(s, request.user)
    confirm = request.session.pop(f"voice_confirm_{s.pk}", None)
    return _page(
        request,
        "voice/staff_letter.html",
        {
            "s": s,
            "code": receipt_code_display(s.receipt_code),
            "marks": sel.highlight(s.text),
            "flag_rows": sel.flag_rows(s.flags),
            "suggested_topic_label": (
                Topic(s.suggested_topic).label if s.suggested_topic in Topic.values else ""
            ),
            "events": s.moderation_events.select_related("actor"),
            "assignments": s.assignments.select_related("department", "assigned_by"),
            "escalations": sel.escalations_of(s),
            "departments": departments,
            "suggested_department": suggested,
            "topics": Topic.choices,
            "topic_initial": s.topic
            if s.status != Suggestion.Status.RECEIVED
            else (s.suggested_topic or s.topic),
            "days_overdue": svc.days_overdue(s),
            "confirm": confirm,
            "suggested_kind_label": KIND_LABELS.get(
                s.suggested_department_kind, s.suggested_department_kind
            ),
            "disclosure": Disclosure.objects.filter(suggestion=s).first(),
        },
    )


@login_required
def letter_image(request, pk):
    _moderator(request)
    s = _letter(request, pk)
    if not s.image:
        raise Http404
    mod.suggestion_read_original(
        actor=request.user, suggestion=s, why="moderation: original picture", ip=client_ip(request)
    )
    return _image(s)


def _back(s: Suggestion):
    return redirect("voice:staff-letter", pk=s.pk)


@login_required
@require_POST
def letter_publish(request, pk):
    _moderator(request)
    s = _letter(request, pk)
    text = request.POST.get("published_text", "")
    try:
        mod.suggestion_publish(
            actor=request.user,
            suggestion=s,
            published_text=text,
            publish_image=request.POST.get("publish_image") == "1",
            confirm=request.POST.get("confirm") == "1",
            ip=client_ip(request),
        )
    except ServiceError as exc:
        if exc.code == "confirm":
            # Keep what the moderator typed; the page asks for an explicit confirmation.
            request.session[f"voice_confirm_{s.pk}"] = {
                "text": text,
                "findings": exc.details,
                "publish_image": request.POST.get("publish_image") == "1",
            }
        _refused(request, exc)
        return _back(s)
    messages.success(request, _("Published."))
    return _back(s)


def _letter_post(request, pk, service, message, **fields):
    """A moderator's POST on one letter: the service is called with the user and address, the
    page says what happened (``message``, or ``message(result)``) or why not, and goes back to
    the letter."""
    _moderator(request)
    s = _letter(request, pk)
    try:
        result = service(actor=request.user, suggestion=s, ip=client_ip(request), **fields)
        messages.success(request, message(result) if callable(message) else message)
    except ServiceError as exc:
        _refused(request, exc)
    return _back(s)


def _given_to(a) -> str:
    return _("Given to %(dept)s; deadline %(due)s.") % {
        "dept": a.department.name,
        "due": a.due_on.isoformat(),
    }


@login_required
@require_POST
def letter_edit(request, pk):
    return _letter_post(
        request,
        pk,
        mod.suggestion_edit,
        _("The text to publish was saved; the child's letter is kept."),
        published_text=request.POST.get("published_text", ""),
    )


@login_required
@require_POST
def letter_hide(request, pk):
    return _letter_post(
        request, pk, mod.suggestion_hide, _("Hidden."), reason=request.POST.get("reason", "")
    )


@login_required
@require_POST
def letter_unhide(request, pk):
    return _letter_post(
        request,
        pk,
        mod.suggestion_unhide,
        _("Back in the review queue."),
        reason=request.POST.get("reason", ""),
    )


def _dept(value) -> Department | None:
    try:
        return Department.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def letter_route(request, pk):
    return _letter_post(
        request,
        pk,
        svc.suggestion_route,
        _given_to,
        topic=request.POST.get("topic", ""),
        department=_dept(request.POST.get("department")),
    )


@login_required
@require_POST
def letter_reassign(request, pk):
    return _letter_post(
        request,
        pk,
        svc.suggestion_reassign,
        _given_to,
        department=_dept(request.POST.get("department")),
        reason=request.POST.get("reason", ""),
    )


@login_required
@require_POST
def letter_supervise(request, pk):
    return _letter_post(
        request,
        pk,
        svc.suggestion_supervise,
        _("Supervision (督办) sent to the department."),
        note=request.POST.get("note", ""),
    )


@login_required
@require_POST
def escalate_now(request):
    """The committee office queues the daily 催办/督办 run (the same task the timer runs)."""
    _moderator(request)
    from ..tasks import voice_escalate_task

    result = voice_escalate_task.enqueue()
    done = result.return_value if result.status == "SUCCESSFUL" else None
    if done is not None:
        messages.success(
            request,
            _("Checked the late letters: %(r)d reminded (催办), %(s)d supervised (督办).")
            % {"r": done["reminded"], "s": done["supervised"]},
        )
    else:
        messages.success(request, _("The check for late letters has been queued."))
    return redirect(reverse("voice:staff-letters") + "?view=overdue")


# ------------------------------------------------------------------------------ disclosures


@login_required
def disclosure_list(request):
    _care(request)
    status = request.GET.get("status", "")
    qs = sel.disclosures(request.user, status)
    if not status:
        qs = qs.exclude(status=Disclosure.Status.CLOSED)
    return _page(
        request,
        "voice/staff_disclosures.html",
        {
            "rows": [(d, DISCLOSURE_LABELS[d.status]) for d in qs[:300]],
            "status": status,
            "statuses": list(DISCLOSURE_LABELS.items()),
        },
    )


def _disclosure(request, pk) -> Disclosure:
    d = sel.disclosures(request.user).filter(pk=_int(pk)).first()
    if d is None:
        raise Http404
    return d


@login_required
def disclosure_detail(request, pk):
    _care(request)
    d = _disclosure(request, pk)
    mod.disclosure_read(actor=request.user, disclosure=d, ip=client_ip(request))
    s = d.suggestion
    return _page(
        request,
        "voice/staff_disclosure.html",
        {
            "d": d,
            "s": s,
            "status_label": DISCLOSURE_LABELS[d.status],
            "code": receipt_code_display(s.receipt_code),
            "kind_labels": [sel.kind_label("disclosure", k) for k in d.kinds],
        },
    )


@login_required
def disclosure_image(request, pk):
    _care(request)
    d = _disclosure(request, pk)
    if not d.suggestion.image:
        raise Http404
    mod.disclosure_read(actor=request.user, disclosure=d, ip=client_ip(request))
    return _image(d.suggestion)


@login_required
@require_POST
def disclosure_acknowledge(request, pk):
    _care(request)
    d = _disclosure(request, pk)
    try:
        mod.disclosure_acknowledge(
            actor=request.user,
            disclosure=d,
            note=request.POST.get("note", ""),
            ip=client_ip(request),
        )
        messages.success(request, _("You are following this up."))
    except ServiceError as exc:
        _refused(request, exc)
    return redirect("voice:staff-disclosure", pk=d.pk)


@login_required
@require_POST
def disclosure_close(request, pk):
    _care(request)
    d = _disclosure(request, pk)
    try:
        mod.disclosure_close(
            actor=request.user,
            disclosure=d,
            note=request.POST.get("note", ""),
            ip=client_ip(request),
        )
        messages.success(request, _("Closed."))
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("voice:staff-disclosure", pk=d.pk)
    return redirect("voice:staff-disclosures")


# ------------------------------------------------------------------------------ departments


@login_required
def department_settings(request):
    _moderator(request)
    depts = svc.departments_editable(request.user).select_related("voice_setting")
    if request.method == "POST":
        dept = depts.filter(pk=_int(request.POST.get("department"))).first()
        if dept is None:
            raise Http404
        try:
            svc.department_setting_save(
                actor=request.user,
                department=dept,
                kind=request.POST.get("kind", ""),
                deadline_days=request.POST.get("deadline_days", ""),
                ip=client_ip(request),
            )
            messages.success(request, _("Saved: %(dept)s.") % {"dept": dept.name})
        except ServiceError as exc:
            _refused(request, exc)
        return redirect("voice:staff-departments")
    rows = []
    for d in depts[:500]:
        setting = getattr(d, "voice_setting", None)
        rows.append(
            {
                "d": d,
                "kind": setting.kind if setting else "",
                "deadline_days": setting.deadline_days if setting else svc.DEFAULT_DEADLINE_DAYS,
                "configured": setting is not None,
            }
        )
    return _page(
        request,
        "voice/staff_departments.html",
        {"rows": rows, "kind_labels": KIND_LABELS, "supervise_days": svc.supervise_days()},
    )


# ------------------------------------------------------------------------------ batch entry


@login_required
def batch(request):
    if not batch_svc.can_batch(request.user):
        raise DjangoPermissionDenied(_("Only staff may enter paper letters."))
    ctx: dict = {"columns": batch_svc.COLUMNS, "notes": batch_svc.NOTES}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            ctx["file_error"] = _("No file was uploaded.")
            return _page(request, "voice/staff_batch.html", ctx, status=400)
        try:
            result = batch_svc.letters_import(
                actor=request.user,
                file=upload.read(),
                filename=upload.name,
                ip=client_ip(request),
            )
        except ServiceError as exc:
            ctx["file_error"] = exc.message
            return _page(request, "voice/staff_batch.html", ctx, status=400)
        if not result.ok:
            ctx["result"] = result
            return _page(request, "voice/staff_batch.html", ctx, status=400)
        return _page(request, "voice/staff_batch_done.html", {"result": result})
    return _page(request, "voice/staff_batch.html", ctx)


@login_required
def batch_template(request):
    if not batch_svc.can_batch(request.user):
        raise DjangoPermissionDenied(_("Only staff may enter paper letters."))
    resp = HttpResponse(batch_svc.letters_template(), content_type=XLSX)
    resp["Content-Disposition"] = "attachment; filename=voice-letters-template.xlsx"
    return resp


# ------------------------------------------------------------------------------ department


@login_required
def dept_inbox(request):
    _department(request)
    view = "answered" if request.GET.get("view") == "answered" else "open"
    qs = sel.inbox(request.user, view)
    return _page(
        request,
        "voice/dept_inbox.html",
        {
            "rows": [sel.inbox_row(s) for s in qs[:300]],
            "view": view,
            "escalations": sel.inbox_escalations(request.user)[:50],
            "department": request.user.department,
        },
    )


def _inbox_letter(request, pk) -> Suggestion:
    s = svc.inbox_queryset(request.user).select_related("area").filter(pk=_int(pk)).first()
    if s is None:
        raise Http404
    return s


@login_required
def dept_letter(request, pk):
    _department(request)
    s = _inbox_letter(request, pk)
    return _dept_page(request, s, form={}, errors={})


def _dept_page(request, s: Suggestion, *, form, errors, status=200):
    return _page(
        request,
        "voice/dept_letter.html",
        {
            "r": sel.inbox_row(s),
            "escalations": sel.escalations_of(s),
            "adoptions": Adoption.choices,
            "reason_required": sorted(svc.REASON_REQUIRED),
            "actionable": s.adoption in svc.ACTIONABLE,
            "form": form,
            "errors": errors,
            "reply_max": svc.REPLY_MAX,
        },
        status=status,
    )


@login_required
def dept_image(request, pk):
    _department(request)
    s = _inbox_letter(request, pk)
    if not sel.picture_public(s):
        raise Http404
    return _image(s)


@login_required
@require_POST
def dept_answer(request, pk):
    _department(request)
    s = _inbox_letter(request, pk)
    form = {
        "adoption": request.POST.get("adoption", ""),
        "adoption_reason": request.POST.get("adoption_reason", ""),
        "public_reply": request.POST.get("public_reply", ""),
    }
    try:
        svc.suggestion_answer(actor=request.user, suggestion=s, ip=client_ip(request), **form)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise Http404 from None
        errors = {e["field"]: e["message"] for e in exc.details} or {"": exc.message}
        return _dept_page(request, s, form=form, errors=errors, status=400)
    messages.success(request, _("Answered. The child can read your reply with the receipt code."))
    return redirect("voice:dept-letter", pk=s.pk)


urlpatterns = [
    path("staff/", staff_home, name="staff-home"),
    path("staff/moderation/", moderation_queue, name="staff-moderation"),
    path("staff/letters/", letter_list, name="staff-letters"),
    path("staff/letters/<int:pk>/", letter_detail, name="staff-letter"),
    path("staff/letters/<int:pk>/image", letter_image, name="staff-letter-image"),
    path("staff/letters/<int:pk>/publish", letter_publish, name="staff-letter-publish"),
    path("staff/letters/<int:pk>/edit", letter_edit, name="staff-letter-edit"),
    path("staff/letters/<int:pk>/hide", letter_hide, name="staff-letter-hide"),
    path("staff/letters/<int:pk>/unhide", letter_unhide, name="staff-letter-unhide"),
    path("staff/letters/<int:pk>/route", letter_route, name="staff-letter-route"),
    path("staff/letters/<int:pk>/reassign", letter_reassign, name="staff-letter-reassign"),
    path("staff/letters/<int:pk>/supervise", letter_supervise, name="staff-letter-supervise"),
    path("staff/escalate/", escalate_now, name="staff-escalate"),
    path("staff/disclosures/", disclosure_list, name="staff-disclosures"),
    path("staff/disclosures/<int:pk>/", disclosure_detail, name="staff-disclosure"),
    path("staff/disclosures/<int:pk>/image", disclosure_image, name="staff-disclosure-image"),
    path(
        "staff/disclosures/<int:pk>/acknowledge",
        disclosure_acknowledge,
        name="staff-disclosure-acknowledge",
    ),
    path("staff/disclosures/<int:pk>/close", disclosure_close, name="staff-disclosure-close"),
    path("staff/departments/", department_settings, name="staff-departments"),
    path("staff/batch/", batch, name="staff-batch"),
    path("staff/batch/template.xlsx", batch_template, name="staff-batch-template"),
    path("dept/", dept_inbox, name="dept-inbox"),
    path("dept/<int:pk>/", dept_letter, name="dept-letter"),
    path("dept/<int:pk>/image", dept_image, name="dept-image"),
    path("dept/<int:pk>/answer", dept_answer, name="dept-answer"),
]
