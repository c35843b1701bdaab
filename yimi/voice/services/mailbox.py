"""Writes to the children's mailbox. Every service is keyword-only, atomic, and audited."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, User
from yimi.core.services import REDACTED, PermissionDenied, ServiceError, audit_record
from yimi.core.services import redacted_snapshot as core_redacted_snapshot
from yimi.places.models import Place

from ..images import ImageRejected, clean_image
from ..models import CONSENT_AGE_GROUPS, Activity, AgeGroup, Suggestion, Topic
from . import moderation

# No 0/O, 1/I/L, 8/B, 5/S: a child copies the code from paper without mistaking a letter.
RECEIPT_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"
RECEIPT_LENGTH = 12  # 27**12 ≈ 2**57 codes
MAX_TEXT = 2000
MAX_CONTACT = 100


def receipt_code_new() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def receipt_code_normalise(code: str) -> str:
    """What a child typed (lower case, spaces, dashes) as stored."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def receipt_code_display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def redacted_snapshot(obj) -> dict[str, Any]:
    """:func:`yimi.core.services.redacted_snapshot` without the codes that open a row (a
    letter's receipt code, a registration's check-in code)."""
    return core_redacted_snapshot(obj, drop=("receipt_code", "code"))


def _audit_snapshot(obj: Suggestion) -> dict[str, Any]:
    data = redacted_snapshot(obj)
    # The text to publish is the child's words with personal data masked: not for the log either.
    if data.get("published_text"):
        data["published_text"] = REDACTED
    return data


def _check(
    *,
    text: str,
    age_group: str,
    topic: str,
    guardian_consent: bool,
    guardian_contact: str,
    place: Place | None,
    area: Area | None,
) -> list[dict[str, str]]:
    errors = []
    if not text.strip():
        errors.append({"field": "text", "message": _("Please write your suggestion.")})
    elif len(text) > MAX_TEXT:
        errors.append({"field": "text", "message": _("Please keep it under 2000 characters.")})
    if age_group not in AgeGroup.values:
        errors.append({"field": "age_group", "message": _("Please choose your age.")})
    if topic not in Topic.values:
        errors.append({"field": "topic", "message": _("Please choose what it is about.")})
    if age_group in CONSENT_AGE_GROUPS:
        if not guardian_consent:
            errors.append(
                {
                    "field": "guardian_consent",
                    "message": _("Under 14: please ask a parent or guardian to agree."),
                }
            )
        if not guardian_contact.strip():
            errors.append(
                {
                    "field": "guardian_contact",
                    "message": _("Under 14: please give a parent's or guardian's phone number."),
                }
            )
    if len(guardian_contact) > MAX_CONTACT:
        errors.append({"field": "guardian_contact", "message": _("The contact is too long.")})
    if place is not None and area is not None:
        errors.append(
            {"field": "area", "message": _("Please choose a place or an area, not both.")}
        )
    return errors


def suggestion_submit(
    *,
    text: str,
    age_group: str,
    topic: str,
    guardian_consent: bool = False,
    guardian_contact: str = "",
    place: Place | None = None,
    area: Area | None = None,
    image: bytes | None = None,
    honeypot: str = "",
    actor: User | None = None,
    source: str = Suggestion.Source.ONLINE,
    ip: str | None = None,
    activity: Activity | None = None,
) -> Suggestion:
    """Take one letter, online from a child (no account) or on paper entered by staff.

    Raises :class:`ServiceError` (code ``invalid``, per-field ``details``) when something is
    missing, and :class:`PermissionDenied` when a paper letter is entered by someone not staff.
    """
    if honeypot:
        # A hidden field a person never sees: only a bot fills it in.
        raise ServiceError(_("Your letter could not be sent."), code="spam")
    if source in (Suggestion.Source.PAPER, Suggestion.Source.ACTIVITY):
        if actor is None or not actor.is_yimi_staff:
            raise PermissionDenied(_("Only staff may enter paper letters."))
        # A suggestion raised in an observer group's activity is linked to it (and only then).
        if (source == Suggestion.Source.ACTIVITY) != (activity is not None):
            raise ServiceError(_("A suggestion from an activity needs its activity."))
    elif source != Suggestion.Source.ONLINE:
        raise ServiceError(_("Unknown source."))
    text = (text or "").strip()
    guardian_contact = (guardian_contact or "").strip()
    checked = None
    if source == Suggestion.Source.PAPER and not topic and text:
        # A paper letter may leave the topic to the routing rules (batch entry).
        checked = moderation.fields_for_new(text)
        topic = checked[1].topic
    errors = _check(
        text=text,
        age_group=age_group,
        topic=topic,
        guardian_consent=guardian_consent,
        guardian_contact=guardian_contact,
        place=place,
        area=area,
    )
    clean = None
    if image:
        try:
            clean = clean_image(image)
        except ImageRejected as exc:
            errors.append({"field": "image", "message": str(exc)})
    if errors:
        raise ServiceError(errors[0]["message"], details=errors)
    fields = {
        "text": text,
        "age_group": age_group,
        "topic": topic,
        "guardian_consent": bool(guardian_consent),
        "guardian_contact": guardian_contact,
        "place": place,
        "area": area or (place.area if place is not None else None),
        "image": clean.data if clean else None,
        "image_type": clean.content_type if clean else "",
        "source": source,
        "entered_by": actor if source != Suggestion.Source.ONLINE else None,
        "activity": activity,
    }
    # The text rules (personal data, 敏感词, disclosure triage, routing) are pure functions of
    # the text: run here, outside the transaction, like the picture above. SQLite's write lock
    # is held only for the inserts, which land together or not at all.
    moderation_fields, analysis = checked or moderation.fields_for_new(text)
    fields.update(moderation_fields)
    with transaction.atomic():
        suggestion = _insert_with_fresh_code(fields)
        _audit_create(suggestion, actor=actor, source=source, ip=ip)
        moderation.on_new_letter(suggestion=suggestion, analysis=analysis)
    return suggestion


def _insert_with_fresh_code(fields: dict[str, Any]) -> Suggestion:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Suggestion.objects.create(receipt_code=receipt_code_new(), **fields)
        except IntegrityError:  # a receipt code already taken (≈ never): draw another
            continue
    raise ServiceError(_("Please try again."), code="conflict")


def _audit_create(suggestion: Suggestion, *, actor: User | None, source: str, ip: str | None):
    audit_record(
        actor=actor if source != Suggestion.Source.ONLINE else None,
        action=AuditLog.Action.CREATE,
        obj=suggestion,
        object_repr=f"{suggestion.get_topic_display()} · #{suggestion.pk}",
        after=_audit_snapshot(suggestion),
        note={
            Suggestion.Source.PAPER: "paper letter entered by staff",
            Suggestion.Source.ACTIVITY: "raised in an observer group activity, entered by staff",
        }.get(source, "online"),
        # A child's IP address is personal data and is not kept; staff's is, as elsewhere.
        ip=ip if source != Suggestion.Source.ONLINE else None,
    )
