"""Handling of letters by departments: the 妇儿工委办 routes a letter (topic + department) with a
handling deadline (办理时限), reassigns it, and supervises it; late letters are escalated daily
(催办 after one day, 督办 after ``YIMI_VOICE_SUPERVISE_DAYS``); the department answers on the
adoption scale with a public reply written for children.

Deadlines are counted in calendar days (``DepartmentSetting.deadline_days``, default 15): simple
to explain to a child and to check, with no holiday calendar to maintain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import AuditLog, Department, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record

from ..models import Adoption, Assignment, DepartmentSetting, Escalation, Suggestion, Topic
from .moderation import can_moderate

DEFAULT_DEADLINE_DAYS = 15
MAX_DEADLINE_DAYS = 365
MAX_KIND = 40
MAX_REASON = 500
MAX_NOTE = 1000
REPLY_MIN = 10
REPLY_MAX = 500
ADOPTION_REASON_MAX = 2000
# Adoption decisions that must say why.
REASON_REQUIRED = frozenset({Adoption.PARTLY, Adoption.NOT_NOW})
# Decisions after which a public action can follow.
ACTIONABLE = frozenset({Adoption.ADOPTED, Adoption.PARTLY, Adoption.PLANNED})


def supervise_days() -> int:
    """Days late after which a letter is supervised (督办); 7 unless configured."""
    return max(2, int(getattr(settings, "YIMI_VOICE_SUPERVISE_DAYS", 7) or 7))


def _today() -> date:
    return timezone.localdate()


def _repr(s: Suggestion) -> str:
    return f"{s.get_topic_display()} · #{s.pk}"


def _audit(actor: User | None, s: Suggestion, before: dict, after: dict, note: str, ip=None):
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=s,
        object_repr=_repr(s),
        before=before,
        after=after,
        note=note,
        ip=ip,
    )


def _handling_state(s: Suggestion) -> dict:
    return {
        "status": s.status,
        "topic": s.topic,
        "department": s.department_id,
        "due_on": s.due_on.isoformat() if s.due_on else None,
        "escalation_level": s.escalation_level,
    }


def _for_wcco(actor: User, suggestion: Suggestion) -> Suggestion:
    if not can_moderate(actor):
        raise PermissionDenied(_("Only the women and children's committee office may do this."))
    found = (
        Suggestion.objects.visible_to(actor, action="route")
        # Only the letter's row: the scope may outer-join its (nullable) area, which PostgreSQL
        # cannot lock.
        .select_for_update(of=("self",))
        .filter(pk=suggestion.pk)
        .first()
    )
    if found is None:
        raise ServiceError(_("Not found."), code="not_found")
    return found


# ------------------------------------------------------------------------------ departments


def departments_for(suggestion: Suggestion, actor: User | None = None):
    """Departments that may handle a letter: those of its area or an area above it. A letter
    without an area may go to any department within the actor's area."""
    qs = Department.objects.select_related("area", "voice_setting")
    if suggestion.area_id:
        codes = [c for c in suggestion.area.path.split("/") if c]
        return qs.filter(area__code__in=codes).order_by("-area__level", "code")
    if actor is not None and not (actor.is_superuser or actor.role == Role.ADMIN):
        if actor.area_id is None:
            return qs.none()
        qs = qs.filter(area__path__startswith=actor.area.path)
    return qs.order_by("area__level", "code")


def department_suggest(suggestion: Suggestion, actor: User | None = None) -> Department | None:
    """The nearest department whose kind is the one the routing rules suggest."""
    kind = suggestion.suggested_department_kind
    if not kind:
        return None
    return departments_for(suggestion, actor).filter(voice_setting__kind=kind).first()


def deadline_days(department: Department) -> int:
    setting = DepartmentSetting.objects.filter(department=department).first()
    return setting.deadline_days if setting else DEFAULT_DEADLINE_DAYS


def departments_editable(actor: User):
    """Departments whose handling settings ``actor`` may change (within the actor's area)."""
    if not can_moderate(actor):
        return Department.objects.none()
    qs = Department.objects.select_related("area").order_by("area__path", "code")
    if actor.is_superuser or actor.role == Role.ADMIN:
        return qs
    return qs.filter(area__path__startswith=actor.area.path)


@transaction.atomic
def department_setting_save(
    *, actor: User, department: Department, kind: str, deadline_days: int, ip: str | None = None
) -> DepartmentSetting:
    """Set a department's kind (the routing rules' name: edu, parks …) and deadline in days."""
    if not departments_editable(actor).filter(pk=department.pk).exists():
        raise PermissionDenied(_("You may not change this department's settings."))
    kind = (kind or "").strip()
    if not kind:
        raise ServiceError(_("Please give the department kind."))
    if len(kind) > MAX_KIND:
        raise ServiceError(_("The department kind is too long (at most 40 characters)."))
    try:
        days = int(deadline_days)
    except (TypeError, ValueError):
        raise ServiceError(_("The deadline must be a whole number of days.")) from None
    if not 1 <= days <= MAX_DEADLINE_DAYS:
        raise ServiceError(_("The deadline must be between 1 and 365 days."))
    setting = DepartmentSetting.objects.filter(department=department).first()
    before = {"kind": setting.kind, "deadline_days": setting.deadline_days} if setting else None
    if setting is None:
        setting = DepartmentSetting(department=department)
    setting.kind = kind
    setting.deadline_days = days
    setting.save()
    after = {"kind": kind, "deadline_days": days}
    if before != after:
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE if before is None else AuditLog.Action.UPDATE,
            obj=setting,
            before=before,
            after=after,
            area_path=department.area.path,
            ip=ip,
        )
    return setting


# ------------------------------------------------------------------------------ routing


def _check_target(actor: User, s: Suggestion, topic: str, department: Department | None) -> None:
    if topic not in Topic.values:
        raise ServiceError(_("Please choose a topic."))
    if department is None:
        raise ServiceError(_("Please choose a department."))
    if not departments_for(s, actor).filter(pk=department.pk).exists():
        raise ServiceError(
            _("%(dept)s does not serve the letter's area.") % {"dept": department.name}
        )


@transaction.atomic
def suggestion_route(
    *,
    actor: User,
    suggestion: Suggestion,
    topic: str,
    department: Department | None,
    today: date | None = None,
    ip: str | None = None,
) -> Assignment:
    """The 妇儿工委办 confirms the topic and gives the letter to a department, with a deadline."""
    s = _for_wcco(actor, suggestion)
    if s.status != Suggestion.Status.RECEIVED:
        raise ServiceError(_("This letter has already been given to a department."))
    _check_target(actor, s, topic, department)
    return _assign(actor, s, topic, department, today=today, reason="", ip=ip, note="routed")


@transaction.atomic
def suggestion_reassign(
    *,
    actor: User,
    suggestion: Suggestion,
    department: Department | None,
    reason: str,
    topic: str | None = None,
    today: date | None = None,
    ip: str | None = None,
) -> Assignment:
    """Give a letter to another department: the old assignment ends, a new deadline starts."""
    s = _for_wcco(actor, suggestion)
    if s.status != Suggestion.Status.ASSIGNED:
        raise ServiceError(_("Only a letter being handled can be given to another department."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Please give a reason for the reassignment."))
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason is too long (at most 500 characters)."))
    topic = topic or s.topic
    _check_target(actor, s, topic, department)
    if department.pk == s.department_id:
        raise ServiceError(_("The letter is already with this department."))
    now = timezone.now()
    Assignment.objects.filter(suggestion=s, ended_at__isnull=True).update(ended_at=now)
    return _assign(
        actor, s, topic, department, today=today, reason=reason, ip=ip, note="reassigned"
    )


def _assign(
    actor: User,
    s: Suggestion,
    topic: str,
    department: Department,
    *,
    today: date | None,
    reason: str,
    ip: str | None,
    note: str,
) -> Assignment:
    before = _handling_state(s)
    due = (today or _today()) + timedelta(days=deadline_days(department))
    assignment = Assignment.objects.create(
        suggestion=s, department=department, assigned_by=actor, due_on=due, reason=reason
    )
    s.topic = topic
    s.department = department
    s.status = Suggestion.Status.ASSIGNED
    s.assigned_at = timezone.now()
    s.due_on = due
    s.escalation_level = 0
    s.save(
        update_fields=["topic", "department", "status", "assigned_at", "due_on", "escalation_level"]
    )
    _audit(actor, s, before, _handling_state(s), note + (f": {reason}" if reason else ""), ip)
    return assignment


# ------------------------------------------------------------------------------ escalation


@dataclass
class EscalationSummary:
    checked: int = 0
    reminded: int = 0  # 催办
    supervised: int = 0  # 督办
    letters: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "reminded": self.reminded,
            "supervised": self.supervised,
            "letters": self.letters,
        }


def days_overdue(s: Suggestion, today: date | None = None) -> int:
    if s.status != Suggestion.Status.ASSIGNED or s.due_on is None:
        return 0
    return max(0, ((today or _today()) - s.due_on).days)


def suggestions_escalate(*, today: date | None = None) -> EscalationSummary:
    """催办 a letter one day late, 督办 one ``supervise_days()`` late. Idempotent: a letter is
    escalated to a level once (its ``escalation_level`` remembers); a run the same day or a
    second run does nothing new. Each letter is its own small transaction."""
    today = today or _today()
    limit = supervise_days()
    summary = EscalationSummary()
    late = Suggestion.objects.filter(overdue_q(today), escalation_level__lt=2).values_list(
        "pk", flat=True
    )
    for pk in list(late):
        summary.checked += 1
        with transaction.atomic():
            s = Suggestion.objects.select_for_update().get(pk=pk)
            days = days_overdue(s, today)
            level = 2 if days >= limit else 1 if days >= 1 else 0
            if level <= s.escalation_level or s.department_id is None:
                continue
            _escalate(None, s, level, days, note="")
        summary.letters.append(pk)
        if level == 2:
            summary.supervised += 1
        else:
            summary.reminded += 1
    return summary


def _escalate(actor: User | None, s: Suggestion, level: int, days: int, *, note: str, ip=None):
    before = _handling_state(s)
    esc = Escalation.objects.create(
        suggestion=s,
        department_id=s.department_id,
        level=level,
        days_overdue=days,
        actor=actor,
        note=note,
    )
    s.escalation_level = max(s.escalation_level, level)
    s.save(update_fields=["escalation_level"])
    label = "督办" if level == 2 else "催办"
    _audit(actor, s, before, _handling_state(s), f"{label}: {days} day(s) late", ip)
    return esc


@transaction.atomic
def suggestion_supervise(
    *,
    actor: User,
    suggestion: Suggestion,
    note: str,
    today: date | None = None,
    ip: str | None = None,
) -> Escalation:
    """The 妇儿工委办 supervises (督办) a letter by hand, with a note to the department."""
    s = _for_wcco(actor, suggestion)
    if s.status != Suggestion.Status.ASSIGNED:
        raise ServiceError(_("Only a letter being handled can be supervised."))
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Please write a note to the department."))
    if len(note) > MAX_NOTE:
        raise ServiceError(_("The note is too long (at most 1000 characters)."))
    return _escalate(actor, s, Escalation.Level.SUPERVISE, days_overdue(s, today), note=note, ip=ip)


# ------------------------------------------------------------------------------ the answer


def is_department_user(user: User | None) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.role == Role.DEPARTMENT
        and user.department_id is not None
    )


def inbox_queryset(user: User):
    """The letters a department user may see: assigned to their department (scoping by
    ``visible_to``, never the public rows)."""
    if not is_department_user(user):
        return Suggestion.objects.none()
    return Suggestion.objects.visible_to(user, action="handle").filter(
        department_id=user.department_id,
        status__in=(Suggestion.Status.ASSIGNED, Suggestion.Status.ANSWERED),
    )


def answer_errors(*, adoption: str, reason: str, public_reply: str) -> list[dict[str, str]]:
    errors = []
    if adoption not in Adoption.values:
        errors.append({"field": "adoption", "message": _("Please choose the adoption decision.")})
    if adoption in REASON_REQUIRED and not reason:
        errors.append(
            {
                "field": "adoption_reason",
                "message": _("Please give the reasons (required for partly or not adopted)."),
            }
        )
    if len(reason) > ADOPTION_REASON_MAX:
        errors.append(
            {"field": "adoption_reason", "message": _("The reasons are too long (at most 2000).")}
        )
    if len(public_reply) < REPLY_MIN:
        errors.append(
            {
                "field": "public_reply",
                "message": _("Please write a reply for the child (at least 10 characters)."),
            }
        )
    elif len(public_reply) > REPLY_MAX:
        errors.append(
            {
                "field": "public_reply",
                "message": _("The reply is too long: at most 500 characters, in simple words."),
            }
        )
    return errors


@transaction.atomic
def suggestion_answer(
    *,
    actor: User,
    suggestion: Suggestion,
    adoption: str,
    public_reply: str,
    adoption_reason: str = "",
    ip: str | None = None,
) -> Suggestion:
    """The department answers: a decision on the adoption scale, reasons, and a reply for the
    child (public: shown by receipt code). The letter becomes answered."""
    if not (is_department_user(actor) or actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied(_("Only the department handling the letter may answer it."))
    qs = (
        inbox_queryset(actor)
        if is_department_user(actor)
        else Suggestion.objects.filter(department__isnull=False)
    )
    s = qs.select_for_update(of=("self",)).filter(pk=suggestion.pk).first()
    if s is None:
        raise ServiceError(_("Not found."), code="not_found")
    if s.status == Suggestion.Status.ANSWERED:
        raise ServiceError(_("This letter has already been answered."), code="conflict")
    reason = (adoption_reason or "").strip()
    reply = (public_reply or "").strip()
    errors = answer_errors(adoption=adoption, reason=reason, public_reply=reply)
    if errors:
        raise ServiceError(errors[0]["message"], details=errors)
    before = _handling_state(s) | {"adoption": s.adoption}
    s.adoption = adoption
    s.adoption_reason = reason
    s.public_reply = reply
    s.answered_at = timezone.now()
    s.answered_by = actor
    s.status = Suggestion.Status.ANSWERED
    s.save(
        update_fields=[
            "adoption",
            "adoption_reason",
            "public_reply",
            "answered_at",
            "answered_by",
            "status",
        ]
    )
    Assignment.objects.filter(suggestion=s, ended_at__isnull=True).update(ended_at=s.answered_at)
    after = _handling_state(s) | {"adoption": adoption, "public_reply": reply}
    _audit(actor, s, before, after, "answered", ip)
    return s


def overdue_q(today: date | None = None) -> Q:
    return Q(status=Suggestion.Status.ASSIGNED, due_on__lt=today or _today())
