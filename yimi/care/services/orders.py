"""Orders (点单): 申请 → 儿童主任确认 → 部门办理 (lead + cooperating units) → 办结 → 回访, and 督办.

Every transition is one keyword-only atomic service that checks who may do it (through
:mod:`yimi.care.policy`), writes an :class:`~yimi.care.models.OrderStep`, a timeline entry
(section "orders", no names) and an audit row (``care_snapshot``: no names, no ID numbers).
Each step has a deadline from ``policy.step_days``; :func:`orders_escalate` finds the late ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimi.core.models import AuditLog, Department, User
from yimi.core.services import PermissionDenied, ServiceError, audit_record

from .. import matching
from .. import policy as care_policy
from ..models import (
    Benefit,
    Child,
    ChildEvent,
    Consent,
    Document,
    Order,
    OrderStep,
    OrderTask,
    Policy,
    Purpose,
    Section,
    Status,
    WorklistItem,
)
from .common import actor_name, care_snapshot, event_add

# Days allowed for each step when a policy does not say.
DEFAULT_STEP_DAYS = {"confirm": 3, "handle": 15, "follow_up": 30}
# An order still late this many days after it was escalated is escalated again.
ESCALATE_AGAIN_DAYS = 7

# The steps that have a deadline, as people call them.
LATE_STEP_LABELS = {
    "confirm": gettext_lazy("Confirmation by the child director"),
    "handle": gettext_lazy("Handling by the department"),
    "follow_up": gettext_lazy("Follow-up visit"),
}

OPEN_STATES = (Order.State.APPLIED, Order.State.CONFIRMED, Order.State.HANDLING)
CLOSED_STATES = (Order.State.FOLLOWED_UP, Order.State.REJECTED, Order.State.WITHDRAWN)
FINISHED_TASK_STATES = (OrderTask.State.DONE, OrderTask.State.DECLINED, OrderTask.State.CANCELLED)


def step_days(pol: Policy, step: str) -> int:
    """The days allowed for ``step`` ("confirm", "handle", "follow_up") under ``pol``."""
    value = (pol.step_days or {}).get(step)
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = DEFAULT_STEP_DAYS[step]
    return max(days, 0)


def _due(pol: Policy, step: str, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=step_days(pol, step))


def _real(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _step(
    order: Order,
    step: str,
    *,
    actor: User | None,
    note: str = "",
    department: Department | None = None,
    evidence: Document | None = None,
) -> OrderStep:
    return OrderStep.objects.create(
        order=order,
        step=step,
        actor=_real(actor),
        actor_name=actor_name(actor),
        department=department,
        note=note,
        evidence=evidence,
    )


def _timeline(order: Order, summary: str, *, actor: User | None) -> ChildEvent:
    return event_add(
        child=order.child,
        kind=ChildEvent.Kind.ORDER,
        summary=f"{order.number} {summary}",
        actor=actor,
        section=Section.ORDERS,
        obj=order,
    )


def _audit(
    actor: User | None, obj: Order | OrderTask, before: dict | None, note: str, **extra
) -> AuditLog:
    order = obj if isinstance(obj, Order) else obj.order
    after = care_snapshot(obj)
    after.update(extra)
    return audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE if before is None else AuditLog.Action.UPDATE,
        obj=obj,
        before=before,
        after=after,
        note=note,
        area_path=order.area.path,
    )


def _lock(order: Order) -> Order:
    """The order re-read under a row lock, so two clicks cannot both move it."""
    return (
        Order.objects.select_for_update()
        .select_related("child__area", "policy", "area")
        .get(pk=order.pk)
    )


def _need_state(order: Order, *states: str) -> None:
    if order.state not in states:
        raise ServiceError(
            _("The order is “%(state)s”; this step is not possible now.")
            % {"state": order.get_state_display()},
            code="conflict",
        )


def _need_caseworker(actor: User | None, order: Order) -> None:
    """The child's director or supervisor: a caseworker of the area the order belongs to."""
    if (
        not care_policy.can_edit_records(actor)
        or not care_policy.orders_visible_to(actor).filter(pk=order.pk).exists()
    ):
        raise PermissionDenied(
            _("Only the child director or supervisor of the child's area may do this.")
        )


def _need_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("Please give %(what)s.") % {"what": what})
    return value


def departments_for(pol: Policy) -> list[Department]:
    """The receiving departments of a policy: the lead first, then the cooperating units."""
    depts = [pol.lead_department]
    depts += [d for d in pol.cooperating.order_by("code") if d.pk != pol.lead_department_id]
    return depts


def departments_without_consent(child: Child, departments: list[Department]) -> list[Department]:
    """The departments for which the child's guardian has no active referral consent."""
    consented = set(
        Consent.objects.filter(
            child=child,
            purpose=Purpose.REFERRAL,
            department__in=departments,
            withdrawn_on__isnull=True,
        ).values_list("department_id", flat=True)
    )
    return [d for d in departments if d.pk not in consented]


# ------------------------------------------------------------------------------ the caseworker


@transaction.atomic
def order_create(
    *,
    actor: User | None,
    child: Child,
    policy: Policy,
    channel: str = Order.Channel.DIRECTOR,
    applicant: str = "",
    request: str = "",
    worklist_item: WorklistItem | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """申请: the child's caseworker orders ``policy`` for ``child`` (also on a guardian's behalf)."""
    pol = policy  # the argument shadows nothing: the module is imported as care_policy
    now = now or timezone.now()
    if (
        not care_policy.can_edit_records(actor)
        or not care_policy.children_visible_to(actor).filter(pk=child.pk).exists()
    ):
        raise PermissionDenied(
            _("Only the child director or supervisor of the child's area may place an order.")
        )
    if channel not in Order.Channel.values:
        raise ServiceError(_("Unknown channel “%(c)s”.") % {"c": channel})
    if child.status != Status.ACTIVE or child.anonymised_at is not None:
        raise ServiceError(_("The child is not on the register; no order can be placed."))
    if not pol.active or not child.area.path.startswith(pol.area.path):
        raise ServiceError(_("This policy is not on the menu of the child's area."))
    if Order.objects.filter(child=child, policy=pol, state__in=OPEN_STATES).exists():
        raise ServiceError(
            _("The child already has an open order for “%(policy)s”.") % {"policy": pol.name},
            code="conflict",
        )
    today = timezone.localdate()
    if (
        Benefit.objects.filter(child=child, policy=pol, since__lte=today)
        .exclude(until__lt=today)
        .exists()
    ):
        raise ServiceError(
            _("The child already receives “%(policy)s”.") % {"policy": pol.name}, code="conflict"
        )
    if worklist_item is None:
        worklist_item = WorklistItem.objects.filter(
            child=child, policy=pol, state=WorklistItem.State.OPEN
        ).first()
    elif (worklist_item.child_id, worklist_item.policy_id) != (child.pk, pol.pk):
        raise ServiceError(_("The worklist entry is for another child or policy."))
    elif worklist_item.state != WorklistItem.State.OPEN:
        raise ServiceError(_("The worklist entry has already been handled."), code="conflict")

    order = Order.objects.create(
        number=uuid.uuid4().hex,
        child=child,
        policy=pol,
        area=child.area,
        state=Order.State.APPLIED,
        channel=channel,
        applicant=(applicant or "").strip(),
        request=(request or "").strip(),
        created_by=_real(actor),
        step_due=_due(pol, "confirm", now),
    )
    # Readable and unique without a counter table: the date and the row id.
    order.number = f"DD{timezone.localtime(now):%Y%m%d}{order.pk:06d}"
    order.save(update_fields=["number"])
    _step(order, "applied", actor=actor, note=order.request)
    if worklist_item is not None:
        worklist_item.state = WorklistItem.State.ORDERED
        worklist_item.resolved_at = now
        worklist_item.resolved_by = _real(actor)
        worklist_item.note = order.number
        worklist_item.save(update_fields=["state", "resolved_at", "resolved_by", "note"])
    _timeline(order, _("applied for: %(policy)s") % {"policy": pol.name}, actor=actor)
    _audit(actor, order, None, "order_create")
    return order


@transaction.atomic
def order_confirm(
    *, actor: User | None, order: Order, note: str = "", now: dt.datetime | None = None
) -> Order:
    """儿童主任确认, then dispatch one task per receiving department (each needs consent)."""
    now = now or timezone.now()
    order = _lock(order)
    _need_caseworker(actor, order)
    _need_state(order, Order.State.APPLIED)
    departments = departments_for(order.policy)
    missing = departments_without_consent(order.child, departments)
    if missing:
        # Sharing a child's record with a department without the guardian's consent is refused.
        raise ServiceError(
            _(
                "The guardian has not consented to referral to: %(departments)s. "
                "Record the consent first."
            )
            % {"departments": "、".join(d.name for d in missing)},
            code="consent_required",
            details=[{"department": d.code, "name": d.name} for d in missing],
        )
    before = care_snapshot(order)
    order.state = Order.State.CONFIRMED
    order.escalated_at = None
    _step(order, "confirmed", actor=actor, note=(note or "").strip())
    due = _due(order.policy, "handle", now)
    for dept in departments:
        OrderTask.objects.create(
            order=order,
            department=dept,
            role=OrderTask.Role.LEAD
            if dept.pk == order.policy.lead_department_id
            else OrderTask.Role.COOPERATING,
            state=OrderTask.State.OPEN,
            due=due,
        )
        _step(order, "dispatched", actor=actor, department=dept)
    order.state = Order.State.HANDLING
    order.step_due = due
    order.save(update_fields=["state", "step_due", "escalated_at"])
    _timeline(
        order,
        _("confirmed and sent to %(n)d department(s)") % {"n": len(departments)},
        actor=actor,
    )
    _audit(actor, order, before, "order_confirm", departments=[d.code for d in departments])
    return order


def _close(order: Order, state: str, now: dt.datetime) -> None:
    order.state = state
    order.step_due = None
    order.escalated_at = None
    order.closed_at = now
    order.save(update_fields=["state", "step_due", "escalated_at", "closed_at"])


def _cancel_open_tasks(order: Order, *, actor: User | None) -> int:
    n = 0
    for task in order.tasks.exclude(state__in=FINISHED_TASK_STATES):
        before = care_snapshot(task)
        task.state = OrderTask.State.CANCELLED
        task.save(update_fields=["state"])
        _audit(actor, task, before, "task_cancel")
        n += 1
    return n


@transaction.atomic
def order_reject(
    *, actor: User | None, order: Order, reason: str, now: dt.datetime | None = None
) -> Order:
    """The child director refuses the application (with a reason)."""
    now = now or timezone.now()
    order = _lock(order)
    _need_caseworker(actor, order)
    _need_state(order, Order.State.APPLIED)
    reason = _need_text(reason, _("a reason"))
    before = care_snapshot(order)
    _close(order, Order.State.REJECTED, now)
    _step(order, "rejected", actor=actor, note=reason)
    _timeline(order, _("rejected by the child director"), actor=actor)
    _audit(actor, order, before, "order_reject")
    return order


@transaction.atomic
def order_withdraw(
    *, actor: User | None, order: Order, reason: str = "", now: dt.datetime | None = None
) -> Order:
    """The application is withdrawn (by the guardian, through the caseworker); open tasks end."""
    now = now or timezone.now()
    order = _lock(order)
    _need_caseworker(actor, order)
    _need_state(order, *OPEN_STATES)
    before = care_snapshot(order)
    cancelled = _cancel_open_tasks(order, actor=actor)
    _close(order, Order.State.WITHDRAWN, now)
    _step(order, "withdrawn", actor=actor, note=(reason or "").strip())
    _timeline(order, _("withdrawn"), actor=actor)
    _audit(actor, order, before, "order_withdraw", tasks_cancelled=cancelled)
    return order


@transaction.atomic
def order_follow_up(
    *,
    actor: User | None,
    order: Order,
    note: str,
    satisfied: bool,
    now: dt.datetime | None = None,
) -> Order:
    """回访: the caseworker asks the family how the aid went; the order is closed."""
    now = now or timezone.now()
    order = _lock(order)
    _need_caseworker(actor, order)
    _need_state(order, Order.State.DONE)
    note = _need_text(note, _("what the family said"))
    before = care_snapshot(order)
    _close(order, Order.State.FOLLOWED_UP, now)
    verdict = _("Satisfied") if satisfied else _("Not satisfied")
    _step(order, "followed_up", actor=actor, note=f"{verdict}：{note}")
    _timeline(order, _("followed up (%(verdict)s)") % {"verdict": verdict}, actor=actor)
    _audit(actor, order, before, "order_follow_up", satisfied=bool(satisfied))
    return order


# ------------------------------------------------------------------------------ 督办


@transaction.atomic
def order_supervise(*, actor: User | None, order: Order, note: str) -> Order:
    """督办: the 妇儿工委办 of the area adds a supervision note to an order."""
    if (
        not care_policy.is_oversight(actor)
        or not care_policy.orders_visible_to(actor).filter(pk=order.pk).exists()
    ):
        raise PermissionDenied(_("Only the women and children's committee office may supervise."))
    order = _lock(order)
    if order.state in CLOSED_STATES:
        raise ServiceError(_("The order is closed."), code="conflict")
    note = _need_text(note, _("a supervision note"))
    step = _step(order, "supervised", actor=actor, note=note)
    _timeline(order, _("supervised by the committee office"), actor=actor)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=order,
        after={"step": "supervised", "order_step": step.pk},
        note="order_supervise",
        area_path=order.area.path,
    )
    return order


# ------------------------------------------------------------------------------ departments


def _need_department(actor: User | None, task: OrderTask) -> OrderTask:
    """The task re-read under a lock, if ``actor`` works in its department (and consent holds)."""
    if (
        not care_policy.is_department(actor)
        or not care_policy.tasks_visible_to(actor).filter(pk=task.pk).exists()
    ):
        raise PermissionDenied(_("Only the staff of the task's department may handle it."))
    return (
        OrderTask.objects.select_for_update()
        .select_related("order__child__area", "order__policy", "order__area", "department")
        .get(pk=task.pk)
    )


def _need_task_open(task: OrderTask) -> None:
    if task.state != OrderTask.State.OPEN:
        raise ServiceError(
            _("The task is “%(state)s”; this step is not possible now.")
            % {"state": task.get_state_display()},
            code="conflict",
        )
    if task.order.state != Order.State.HANDLING:
        raise ServiceError(_("The order is no longer being handled."), code="conflict")


@transaction.atomic
def task_accept(*, actor: User | None, task: OrderTask, note: str = "") -> OrderTask:
    """The department takes the task on (受理)."""
    task = _need_department(actor, task)
    _need_task_open(task)
    if task.handled_by_id is not None:
        raise ServiceError(_("The task has already been accepted."), code="conflict")
    before = care_snapshot(task)
    task.handled_by = _real(actor)
    task.save(update_fields=["handled_by"])
    _step(
        task.order, "accepted", actor=actor, department=task.department, note=(note or "").strip()
    )
    _timeline(
        task.order,
        _("accepted by %(department)s") % {"department": task.department.name},
        actor=actor,
    )
    _audit(actor, task, before, "task_accept")
    return task


def evidence_document(*, actor: User | None, child: Child, upload, title: str) -> Document:
    """Store an uploaded file (encrypted) in the child's file, section "orders"."""
    data = upload.read()
    if len(data) > Document.MAX_BYTES:
        raise ServiceError(
            _("The file is larger than %(mb)d MB.") % {"mb": Document.MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    if not data:
        raise ServiceError(_("The file is empty."))
    doc = Document.objects.create(
        child=child,
        title=title[:200],
        section=Section.ORDERS,
        filename=(getattr(upload, "name", "") or "evidence")[:200],
        content_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=_real(actor),
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=doc,
        after=care_snapshot(doc),
        note="order evidence",
        area_path=child.area.path,
    )
    return doc


def _order_finish_if_done(order: Order, *, actor: User | None, now: dt.datetime) -> bool:
    """办结 once the lead and every cooperating unit are finished; grants the benefit."""
    tasks = list(order.tasks.all())
    if any(t.state == OrderTask.State.OPEN for t in tasks):
        return False
    lead = next((t for t in tasks if t.role == OrderTask.Role.LEAD), None)
    if lead is None or lead.state != OrderTask.State.DONE:
        return False
    before = care_snapshot(order)
    order.state = Order.State.DONE
    order.step_due = _due(order.policy, "follow_up", now)
    order.escalated_at = None
    order.save(update_fields=["state", "step_due", "escalated_at"])
    _step(order, "done", actor=actor)
    benefit = Benefit.objects.create(
        child=order.child, policy=order.policy, since=timezone.localdate(now), source="order"
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=benefit,
        after=care_snapshot(benefit),
        note=f"order {order.number}",
        area_path=order.area.path,
    )
    _timeline(
        order, _("completed: %(policy)s granted") % {"policy": order.policy.name}, actor=actor
    )
    _audit(actor, order, before, "order_done")
    matching.child_rematch(child=order.child, actor=actor)
    return True


@transaction.atomic
def task_complete(
    *,
    actor: User | None,
    task: OrderTask,
    result: str,
    evidence=None,
    now: dt.datetime | None = None,
) -> OrderTask:
    """The department reports its task done, with the result and optional evidence (a file)."""
    now = now or timezone.now()
    task = _need_department(actor, task)
    _need_task_open(task)
    result = _need_text(result, _("the result"))
    doc = None
    if evidence is not None:
        doc = evidence_document(
            actor=actor,
            child=task.order.child,
            upload=evidence,
            title=_("Evidence of %(order)s (%(department)s)")
            % {"order": task.order.number, "department": task.department.name},
        )
    before = care_snapshot(task)
    task.state = OrderTask.State.DONE
    task.done_at = now
    task.result = result
    task.handled_by = task.handled_by or _real(actor)
    task.save(update_fields=["state", "done_at", "result", "handled_by"])
    _step(
        task.order, "completed", actor=actor, department=task.department, note=result, evidence=doc
    )
    _timeline(
        task.order,
        _("handled by %(department)s") % {"department": task.department.name},
        actor=actor,
    )
    _audit(actor, task, before, "task_complete", evidence=doc.pk if doc else None)
    _order_finish_if_done(task.order, actor=actor, now=now)
    return task


@transaction.atomic
def task_decline(
    *, actor: User | None, task: OrderTask, reason: str, now: dt.datetime | None = None
) -> OrderTask:
    """The department declines its task (不予受理), with a reason.

    A cooperating unit's refusal does not hold the order up; the lead department's refusal ends
    the order (rejected) and cancels the other units' open tasks.
    """
    now = now or timezone.now()
    task = _need_department(actor, task)
    _need_task_open(task)
    reason = _need_text(reason, _("a reason"))
    before = care_snapshot(task)
    task.state = OrderTask.State.DECLINED
    task.done_at = now
    task.result = reason
    task.handled_by = task.handled_by or _real(actor)
    task.save(update_fields=["state", "done_at", "result", "handled_by"])
    order = task.order
    _step(order, "declined", actor=actor, department=task.department, note=reason)
    _timeline(
        order,
        _("declined by %(department)s") % {"department": task.department.name},
        actor=actor,
    )
    _audit(actor, task, before, "task_decline")
    if task.role == OrderTask.Role.LEAD:
        order_before = care_snapshot(order)
        _cancel_open_tasks(order, actor=actor)
        _close(order, Order.State.REJECTED, now)
        _step(order, "rejected", actor=actor, department=task.department, note=reason)
        _audit(actor, order, order_before, "order_reject_by_lead")
    else:
        _order_finish_if_done(order, actor=actor, now=now)
    return task


# ------------------------------------------------------------------------------ escalation


@dataclass
class Late:
    """One late step of an order: which step, which department (for tasks), how many days."""

    step: str
    due: dt.datetime
    days_late: int
    department: Department | None = None


def days_late(due: dt.datetime, now: dt.datetime) -> int:
    """Whole days past ``due``; anything less than a day late counts as one day."""
    seconds = (now - due).total_seconds()
    return max(1, int(seconds // 86400)) if seconds > 0 else 0


def order_late_steps(order: Order, *, now: dt.datetime | None = None) -> list[Late]:
    """What is late on ``order`` now: the confirmation, a department's task, or the 回访."""
    now = now or timezone.now()
    if order.state == Order.State.APPLIED and order.step_due and order.step_due < now:
        return [Late("confirm", order.step_due, days_late(order.step_due, now))]
    if order.state == Order.State.HANDLING:
        return [
            Late("handle", t.due, days_late(t.due, now), t.department)
            for t in order.tasks.all()
            if t.state == OrderTask.State.OPEN and t.due and t.due < now
        ]
    if order.state == Order.State.DONE and order.step_due and order.step_due < now:
        return [Late("follow_up", order.step_due, days_late(order.step_due, now))]
    return []


@dataclass
class EscalationSummary:
    checked: int = 0
    escalated: int = 0
    late_steps: int = 0
    orders: list[str] = field(default_factory=list)


def orders_escalate(*, now: dt.datetime | None = None, actor: User | None = None):
    """督办: escalate every order with a step past its deadline to the 妇儿工委办 of its area.

    An order is escalated once per late deadline, and again every ``ESCALATE_AGAIN_DAYS`` days
    while it stays late. Each escalation is one transaction: an OrderStep "escalated" per late
    step (with the department for a late task), ``escalated_at``/``escalations`` and an audit row.
    """
    now = now or timezone.now()
    summary = EscalationSummary()
    candidates = (
        Order.objects.filter(
            state__in=(Order.State.APPLIED, Order.State.HANDLING, Order.State.DONE),
        )
        .select_related("area", "child__area", "policy")
        .prefetch_related("tasks__department")
        .order_by("pk")
    )
    for order in candidates.iterator(chunk_size=500):
        summary.checked += 1
        late = order_late_steps(order, now=now)
        if not late:
            continue
        first_due = min(item.due for item in late)
        if order.escalated_at is not None and (
            order.escalated_at >= first_due
            and order.escalated_at > now - dt.timedelta(days=ESCALATE_AGAIN_DAYS)
        ):
            continue
        with transaction.atomic():
            locked = _lock(order)
            before = care_snapshot(locked)
            locked.escalated_at = now
            locked.escalations += 1
            locked.save(update_fields=["escalated_at", "escalations"])
            for item in late:
                _step(
                    locked,
                    "escalated",
                    actor=actor,
                    department=item.department,
                    note=_("%(step)s is %(days)d day(s) late")
                    % {"step": LATE_STEP_LABELS[item.step], "days": item.days_late},
                )
            _audit(
                actor,
                locked,
                before,
                "order_escalate",
                late=[
                    {
                        "step": i.step,
                        "department": i.department.code if i.department else None,
                        "days_late": i.days_late,
                    }
                    for i in late
                ],
            )
        summary.escalated += 1
        summary.late_steps += len(late)
        summary.orders.append(order.number)
    return summary
