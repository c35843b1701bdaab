"""Reads for moderation and handling: the staff counts, the moderation queue, letters to route,
disclosures for care staff, a department's inbox. Every list passes through ``visible_to``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimi.core.models import User

from ..models import Disclosure, Escalation, Suggestion
from ..services.handling import days_overdue, inbox_queryset, is_department_user, overdue_q
from ..services.moderation import can_moderate, is_care_staff, rules
from ..text import pii


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def staff_letters(user: User) -> QuerySet[Suggestion]:
    """Letters the 妇儿工委办 (or an admin) moderates and routes: their area, never others."""
    if not can_moderate(user):
        return Suggestion.objects.none()
    return Suggestion.objects.visible_to(user, action="moderate").select_related(
        "area", "department"
    )


def disclosures(user: User, status: str = "") -> QuerySet[Disclosure]:
    if not is_care_staff(user):
        return Disclosure.objects.none()
    qs = Disclosure.objects.visible_to(user, action="handle").select_related(
        "area", "suggestion", "handled_by"
    )
    if status in Disclosure.Status.values:
        qs = qs.filter(status=status)
    return qs


def staff_counts(user: User, today: date | None = None) -> dict[str, int | None]:
    """The landing page's counts (``None``: not the user's business)."""
    out: dict[str, int | None] = {
        "pending": None,
        "unassigned": None,
        "overdue": None,
        "supervised": None,
        "disclosures": None,
        "inbox": None,
    }
    if can_moderate(user):
        c = staff_letters(user).aggregate(
            pending=Count("pk", filter=Q(visibility=Suggestion.Visibility.PENDING)),
            unassigned=Count("pk", filter=Q(status=Suggestion.Status.RECEIVED)),
            overdue=Count("pk", filter=overdue_q(_today(today))),
            supervised=Count(
                "pk", filter=Q(status=Suggestion.Status.ASSIGNED, escalation_level__gte=2)
            ),
        )
        out.update(c)
    if is_care_staff(user):
        out["disclosures"] = disclosures(user).exclude(status=Disclosure.Status.CLOSED).count()
    if is_department_user(user):
        out["inbox"] = inbox_queryset(user).filter(status=Suggestion.Status.ASSIGNED).count()
    return out


def letter_list(user: User, view: str, today: date | None = None) -> QuerySet[Suggestion]:
    """The 妇儿工委办's lists: pending (moderation), unassigned, assigned, overdue, supervised,
    answered, hidden."""
    # A list row never shows the child's own words, picture or contact: no need to decrypt them.
    qs = staff_letters(user).defer("text", "image", "guardian_contact")
    t = _today(today)
    filters = {
        "pending": Q(visibility=Suggestion.Visibility.PENDING),
        "hidden": Q(visibility=Suggestion.Visibility.HIDDEN),
        "unassigned": Q(status=Suggestion.Status.RECEIVED),
        "assigned": Q(status=Suggestion.Status.ASSIGNED),
        "overdue": overdue_q(t),
        "supervised": Q(status=Suggestion.Status.ASSIGNED, escalation_level__gte=2),
        "answered": Q(status=Suggestion.Status.ANSWERED),
    }
    qs = qs.filter(filters.get(view, Q()))
    if view in ("overdue", "supervised"):
        return qs.order_by("due_on", "pk")
    return qs.order_by("created_at", "pk") if view == "pending" else qs


def letter_row(s: Suggestion, today: date | None = None) -> dict[str, Any]:
    """A list row: never the child's own words, only the masked text's beginning."""
    return {
        "id": s.pk,
        "topic": s.get_topic_display(),
        "age_group": s.get_age_group_display(),
        "area": s.area.name if s.area_id else "",
        "excerpt": _excerpt(s.published_text),
        "status": s.status,
        "status_label": s.get_status_display(),
        "visibility": s.visibility,
        "visibility_label": s.get_visibility_display(),
        "department": s.department.name if s.department_id else "",
        "due_on": s.due_on,
        "days_overdue": days_overdue(s, today),
        "escalation_level": s.escalation_level,
        "flags": flag_rows(s.flags),
        "created_at": s.created_at,
        "source": s.get_source_display(),
        "has_image": bool(s.image_type),
    }


def _excerpt(text: str, n: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n] + "…"


def highlight(text: str) -> dict[str, list[tuple[str, str]]]:
    """The original with the personal data marked, and the masked form with the masks marked:
    lists of (piece, kind, label) where kind is "" for plain text."""
    spans = pii.detect_pii(text, rules("pii"))
    original: list[tuple[str, str, str]] = []
    masked: list[tuple[str, str, str]] = []
    pos = 0
    for s in spans:
        if s.start > pos:
            original.append((text[pos : s.start], "", ""))
            masked.append((text[pos : s.start], "", ""))
        label = str(PII_LABELS.get(s.kind, s.kind))
        original.append((s.text, s.kind, label))
        masked.append((s.replacement, s.kind, label))
        pos = s.end
    if pos < len(text):
        original.append((text[pos:], "", ""))
        masked.append((text[pos:], "", ""))
    return {"original": original, "masked": masked}


def inbox(user: User, view: str = "open") -> QuerySet[Suggestion]:
    # The picture and the guardian's contact are never in an inbox row: not loaded nor decrypted.
    qs = inbox_queryset(user).select_related("area").defer("image", "guardian_contact")
    if view == "answered":
        return qs.filter(status=Suggestion.Status.ANSWERED).order_by("-answered_at")
    return qs.filter(status=Suggestion.Status.ASSIGNED).order_by("due_on", "pk")


def inbox_row(s: Suggestion, today: date | None = None) -> dict[str, Any]:
    """What a department sees: the masked text, never the guardian's contact; the picture only
    once published."""
    return {
        "id": s.pk,
        "topic": s.get_topic_display(),
        "topic_code": s.topic,
        "age_group": s.get_age_group_display(),
        "area": s.area.name if s.area_id else "",
        "text": s.published_text or pii.mask_pii(s.text, rules("pii")).masked,
        "status": s.status,
        "status_label": s.get_status_display(),
        "due_on": s.due_on,
        "days_overdue": days_overdue(s, today),
        "escalation_level": s.escalation_level,
        "received_on": timezone.localtime(s.created_at).date(),
        "assigned_at": s.assigned_at,
        "adoption": s.adoption,
        "adoption_label": s.get_adoption_display() if s.adoption else "",
        "adoption_reason": s.adoption_reason,
        "public_reply": s.public_reply,
        "answered_at": s.answered_at,
        "picture": picture_public(s),
    }


def picture_public(s: Suggestion) -> bool:
    return bool(
        s.image_type and s.publish_image and s.visibility == Suggestion.Visibility.PUBLISHED
    )


def escalations_of(s: Suggestion) -> QuerySet[Escalation]:
    return s.escalations.select_related("department", "actor")


def inbox_escalations(user: User) -> QuerySet[Escalation]:
    """The reminders and supervisions of the department's open letters (its banner)."""
    if not is_department_user(user):
        return Escalation.objects.none()
    open_ids = inbox_queryset(user).filter(status=Suggestion.Status.ASSIGNED).values("pk")
    return (
        Escalation.objects.filter(suggestion_id__in=open_ids, department_id=user.department_id)
        .select_related("suggestion")
        .order_by("-created_at")
    )


PII_LABELS = {
    "id_number": _("ID number"),
    "mobile": _("mobile number"),
    "landline": _("landline number"),
    "email": _("e-mail"),
    "qq": _("QQ id"),
    "wechat": _("WeChat id"),
    "address": _("address"),
    "school": _("school"),
    "class": _("class"),
    "name": _("personal name"),
    "number": _("long number"),
}


def kind_label(group: str, kind: str) -> str:
    """A finding's name for people: personal data kinds translated, rule kinds as the rule
    files label them (a city's own file brings its own labels)."""
    if group == "pii":
        return str(PII_LABELS.get(kind, kind))
    if group == "screening":
        cats = {c.key: c.label for c in rules("screening").categories}
        return cats.get(kind, kind)
    if group in ("disclosure", "disclosure_negated"):
        kinds = {k.key: k.label for k in rules("triage").kinds}
        return kinds.get(kind, kind)
    return kind


def flag_rows(flags: dict) -> list[dict[str, Any]]:
    """The stored findings as (group label, css class, [kind labels])."""
    groups = [
        ("pii", _("Personal data masked"), "vs-warn"),
        ("screening", _("Sensitive words"), "vs-warn"),
        ("disclosure", _("Possible disclosure"), "vs-danger"),
        ("disclosure_negated", _("Disclosure words cancelled by a negation"), "vs-plain"),
    ]
    out = []
    for key, label, css in groups:
        kinds = (flags or {}).get(key) or []
        if kinds:
            out.append(
                {
                    "key": key,
                    "label": label,
                    "css": css,
                    "kinds": [kind_label(key, k) for k in kinds],
                }
            )
    return out
