"""Reads of orders (点单) and department tasks, scoped by :mod:`yimi.care.policy`.

Lists name the child only for identified users (caseworkers, departments); the 妇儿工委办 and
administrators see the file number and a masked name. A department sees only its own tasks, and
of the child only the sections the policy names (:func:`~yimi.care.policy.sections_for`); every
read that shows a child is audited (:func:`~yimi.care.services.common.audit_child_read`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimi.core.models import Department, User

from .. import policy
from ..masking import mask_name
from ..matching import age_on
from ..models import Category, Child, Order, OrderStep, OrderTask, Policy, Risk, Section
from ..services.common import audit_child_read
from ..services.orders import (
    LATE_STEP_LABELS,
    OPEN_STATES,
    days_late,
    departments_for,
    order_late_steps,
)

STEP_LABELS = {
    "applied": _("Applied"),
    "confirmed": _("Confirmed by the child director"),
    "dispatched": _("Sent to the department"),
    "accepted": _("Accepted by the department"),
    "completed": _("Handled by the department"),
    "declined": _("Declined by the department"),
    "done": _("Completed (办结)"),
    "followed_up": _("Follow-up visit"),
    "rejected": _("Rejected"),
    "withdrawn": _("Withdrawn"),
    "escalated": _("Escalated (督办)"),
    "supervised": _("Supervision note"),
}
# The order states in which something is still to be done (and can be late).
ACTIVE_STATES = (*OPEN_STATES, Order.State.DONE)


def child_label(user: User | None, child: Child) -> str:
    """How a list shows the child: the name for identified users, else the masked name."""
    return child.name if policy.identified(user) else mask_name(child.name)


# ------------------------------------------------------------------------------ orders


def order_list(
    user: User | None,
    *,
    state: str = "",
    department: int | str | None = None,
    overdue: bool = False,
    escalated: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[Order]:
    """The orders ``user`` may see (area, or own department with consent), filtered."""
    now = now or timezone.now()
    qs = policy.orders_visible_to(user).select_related(
        "child__area", "policy__lead_department", "area"
    )
    if state:
        qs = qs.filter(state=state)
    if department:
        try:
            qs = qs.filter(tasks__department_id=int(department)).distinct()
        except (TypeError, ValueError):
            qs = qs.none()
    if overdue:
        late_task = Q(
            state=Order.State.HANDLING,
            tasks__state=OrderTask.State.OPEN,
            tasks__due__lt=now,
        )
        late_step = Q(state__in=(Order.State.APPLIED, Order.State.DONE), step_due__lt=now)
        qs = qs.filter(late_task | late_step).distinct()
    if escalated:
        qs = qs.filter(escalated_at__isnull=False, state__in=ACTIVE_STATES)
    return qs.prefetch_related(
        Prefetch("tasks", queryset=OrderTask.objects.select_related("department"))
    ).order_by("-created_at", "-id")


def order_get(user: User | None, pk: int | str) -> Order:
    """An order the user may see, or 404 (never 403: existence is not disclosed)."""
    try:
        return (
            order_list(user)
            .select_related("created_by")
            .prefetch_related(
                Prefetch(
                    "steps",
                    queryset=OrderStep.objects.select_related("department", "evidence"),
                )
            )
            .get(pk=int(pk))
        )
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def late_rows(order: Order, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Which step (and department) of ``order`` is late, by how many days."""
    return [
        {
            "step": late.step,
            "step_label": str(LATE_STEP_LABELS[late.step]),
            "department": late.department.name if late.department else "",
            "department_id": late.department.pk if late.department else None,
            "due": late.due,
            "days_late": late.days_late,
        }
        for late in order_late_steps(order, now=now)
    ]


def order_row(user: User | None, order: Order, *, now: dt.datetime | None = None) -> dict:
    """One order as a list shows it (no record sections: file number and the name or mask)."""
    now = now or timezone.now()
    return {
        "id": order.pk,
        "number": order.number,
        "state": order.state,
        "state_label": str(order.get_state_display()),
        "channel": order.channel,
        "child_id": order.child_id,
        "file_no": order.child.file_no,
        "child": child_label(user, order.child),
        "name_masked": not policy.identified(user),
        "area": order.area.name,
        "policy_id": order.policy_id,
        "policy": order.policy.name,
        "lead_department": order.policy.lead_department.name,
        "created_at": order.created_at,
        "step_due": order.step_due,
        "overdue_days": days_late(order.step_due, now) if order.step_due else 0,
        "escalated_at": order.escalated_at,
        "escalations": order.escalations,
        "late": late_rows(order, now=now),
        "tasks": [task_row(t, now=now) for t in order.tasks.all()],
    }


def task_row(task: OrderTask, *, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "id": task.pk,
        "order_id": task.order_id,
        "department_id": task.department_id,
        "department": task.department.name,
        "role": task.role,
        "role_label": str(task.get_role_display()),
        "state": task.state,
        "state_label": str(task.get_state_display()),
        "due": task.due,
        "overdue_days": days_late(task.due, now)
        if task.due and task.state == OrderTask.State.OPEN
        else 0,
        "accepted": task.handled_by_id is not None,
        "done_at": task.done_at,
    }


# Notes the committee office reads: its own 督办 notes and Yimi's escalation notes. Other notes
# (the request, results, reasons) may describe the child and stay with identified users.
OVERSIGHT_NOTE_STEPS = frozenset({"escalated", "supervised"})


def _note_visible(user: User | None, step: OrderStep) -> bool:
    if policy.is_caseworker(user):
        return True
    if policy.is_department(user):
        # The department's own steps, the caseworker's steps and 督办; not other departments'.
        return step.department_id in (None, user.department_id)
    return step.step in OVERSIGHT_NOTE_STEPS


def step_rows(order: Order, user: User | None = None) -> list[dict[str, Any]]:
    """The log of ``order``; notes only where ``user`` may read them (see ``_note_visible``)."""
    return [
        {
            "id": s.pk,
            "step": s.step,
            "step_label": str(STEP_LABELS.get(s.step, s.step)),
            "at": s.at,
            "actor": s.actor_name,
            "department": s.department.name if s.department_id else "",
            "note": s.note if _note_visible(user, s) else "",
            "evidence_id": s.evidence_id,
            "evidence_title": s.evidence.title if s.evidence_id else "",
        }
        for s in order.steps.all()
    ]


def order_detail(
    user: User | None, order: Order, *, ip: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The order with its steps and tasks; the request and applicant only for caseworkers.

    Showing the order names the child to identified users, so the read is audited (section
    "orders").
    """
    data = order_row(user, order, now=now)
    caseworker = policy.is_caseworker(user)
    data["request"] = order.request if caseworker or policy.is_department(user) else ""
    data["applicant"] = order.applicant if caseworker else ""
    data["channel_label"] = str(order.get_channel_display())
    data["steps"] = step_rows(order, user)
    data["closed_at"] = order.closed_at
    if policy.is_department(user):
        data["tasks"] = [t for t in data["tasks"] if t["department_id"] == user.department_id]
    audit_child_read(actor=user, child=order.child, sections=[Section.ORDERS], what="order", ip=ip)
    return data


def order_actions(user: User | None, order: Order) -> dict[str, bool]:
    """Which buttons the order page shows to ``user`` (the services check again)."""
    caseworker = policy.is_caseworker(user)
    state = order.state
    return {
        "confirm": caseworker and state == Order.State.APPLIED,
        "reject": caseworker and state == Order.State.APPLIED,
        "withdraw": caseworker and state in OPEN_STATES,
        "follow_up": caseworker and state == Order.State.DONE,
        "supervise": policy.is_oversight(user) and state in ACTIVE_STATES,
    }


def consent_gaps(order: Order) -> list[Department]:
    """The receiving departments still without the guardian's referral consent."""
    from ..services.orders import departments_without_consent

    return departments_without_consent(order.child, departments_for(order.policy))


def department_choices(user: User | None) -> list[Department]:
    """Departments to filter the order list by: those with tasks the user can see."""
    ids = policy.tasks_visible_to(user).values_list("department_id", flat=True).distinct()
    return list(Department.objects.filter(pk__in=ids).order_by("name"))


def policy_choices(user: User | None, child: Child) -> list[Policy]:
    """Active policies of the menus covering the child's area (its own and ancestors')."""
    parts = [c for c in child.area.path.split("/") if c]
    prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return list(
        Policy.objects.filter(active=True, area__path__in=prefixes)
        .select_related("lead_department")
        .order_by("domain", "code")
    )


# ------------------------------------------------------------------------------ tasks


def task_list(
    user: User | None, *, state: str = "", now: dt.datetime | None = None
) -> QuerySet[OrderTask]:
    """A department's inbox: only its own tasks, only while consent holds."""
    qs = policy.tasks_visible_to(user).select_related(
        "order__child__area", "order__policy", "order__area", "department"
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "due", "id")


def task_get(user: User | None, pk: int | str) -> OrderTask:
    try:
        return task_list(user).get(pk=int(pk))
    except (OrderTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _section_values(child: Child, section: str, today: dt.date) -> list[tuple[str, Any]]:
    """Label/value pairs of one record section (only the sections a task may show)."""
    if section == Section.BASIC:
        return [
            (_("Child's name"), child.name),
            (_("Sex"), child.get_sex_display()),
            (_("Age"), age_on(child.birth_date, today)),
            (_("Categories"), "、".join(str(Category(c).label) for c in child.categories or [])),
            (_("Risk level"), Risk(child.risk_level).label),
        ]
    if section == Section.CONTACT:
        return [
            (_("Area"), child.area.name),
            (_("Address"), child.address),
            (_("Phone"), child.phone),
        ]
    if section == Section.EDUCATION:
        extra = child.education or {}
        return [
            (_("School stage"), child.get_school_stage_display()),
            (_("School"), child.school),
            *[(str(k), v) for k, v in extra.items()],
        ]
    if section == Section.HEALTH:
        return [(str(k), v) for k, v in (child.health or {}).items()]
    if section == Section.DISABILITY:
        return [(str(k), v) for k, v in (child.disability or {}).items()]
    if section == Section.WELFARE:
        return [
            (
                _("Subsistence or extreme-poverty household"),
                _("Yes") if child.low_income else _("No"),
            ),
            *[(str(k), v) for k, v in (child.welfare or {}).items()],
        ]
    if section == Section.FAMILY:
        return [
            (
                m.get_relation_display(),
                f"{m.name} {m.phone}".strip() if m.is_guardian else m.get_situation_display(),
            )
            for m in child.family.all()
        ]
    return []


# Sections a task card shows (orders are the card itself; identity never leaves caseworkers).
TASK_CARD_SECTIONS = (
    Section.BASIC,
    Section.CONTACT,
    Section.FAMILY,
    Section.EDUCATION,
    Section.HEALTH,
    Section.DISABILITY,
    Section.WELFARE,
)


def task_card(
    user: User | None, task: OrderTask, *, ip: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """One task of the inbox with the child's sections the user may read; the read is audited."""
    now = now or timezone.now()
    child = task.order.child
    sections = policy.sections_for(user, child)
    shown = [s for s in TASK_CARD_SECTIONS if s in sections]
    today = timezone.localdate(now)
    card = task_row(task, now=now)
    card.update(
        {
            "order_number": task.order.number,
            "order_state": task.order.state,
            "order_state_label": str(task.order.get_state_display()),
            "policy": task.order.policy.name,
            "benefit": task.order.policy.benefit,
            "request": task.order.request,
            "file_no": child.file_no,
            "child": child_label(user, child),
            "result": task.result if task.state != OrderTask.State.OPEN else "",
            "sections": [
                {
                    "code": s,
                    "label": str(Section(s).label),
                    "rows": [
                        {"label": str(label), "value": "" if value is None else str(value)}
                        for label, value in _section_values(child, s, today)
                    ],
                }
                for s in shown
            ],
        }
    )
    if sections:
        audit_child_read(actor=user, child=child, sections=sections, what="task", ip=ip)
    return card
