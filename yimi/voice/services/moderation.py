"""Moderation of letters: what the text rules find on arrival, the queue's publish / edit / hide /
unhide, and disclosures (a letter that may tell of abuse, neglect, bullying or self-harm) handed
to the care staff of the child's area. Services are keyword-only, atomic and audited.

The child's own ``text`` is never changed: moderation works on ``published_text``, and every
edit keeps the text before and after in a :class:`ModerationEvent` (encrypted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import AuditLog, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record

from ..models import Disclosure, ModerationEvent, Suggestion, Topic
from ..text import pii, routing, screening, triage
from ..text._rules import RULES_DIR

MAX_PUBLISHED = 2000
MAX_REASON = 500
MAX_NOTE = 2000

# The routing rules name topics in Chinese; the model's topics are codes. One map, here.
# A city's own rule file may add topics: those not listed are filed under "other".
ROUTING_TOPICS: dict[str, str] = {
    "公园与游戏": Topic.PLAY,
    "出行安全": Topic.TRAFFIC,
    "学校": Topic.SCHOOL,
    "图书与文化": Topic.CULTURE,
    "医疗卫生": Topic.HEALTH,
    "环境卫生": Topic.NATURE,
    "其他": Topic.OTHER,
}

RULE_FILES = ("pii", "screening", "triage", "routing")
_MODULES = {"pii": pii, "screening": screening, "triage": triage, "routing": routing}


# ------------------------------------------------------------------------------ rule files


def rules_path(name: str) -> Path:
    """The rule file in use for ``name`` (pii, screening, triage, routing).

    In order: the setting ``YIMI_VOICE_<NAME>_RULES`` (a file; from the environment), a
    ``<name>.yaml`` in ``YIMI_VOICE_RULES_DIR``, else the file shipped in ``text/rules/``.
    Rule files are read once per process (restart after editing one).
    """
    single = getattr(settings, f"YIMI_VOICE_{name.upper()}_RULES", "")
    if single:
        return Path(single)
    folder = getattr(settings, "YIMI_VOICE_RULES_DIR", "")
    if folder and (Path(folder) / f"{name}.yaml").is_file():
        return Path(folder) / f"{name}.yaml"
    return RULES_DIR / f"{name}.yaml"


def rules(name: str) -> Any:
    """The loaded rules of one file (cached by the text library per path)."""
    return _MODULES[name].load_rules(rules_path(name))


# ------------------------------------------------------------------------------ analysis


@dataclass
class Analysis:
    """What the rules found in one text: kinds and rule names only are stored (``flags``)."""

    masked: str
    pii_kinds: list[str] = field(default_factory=list)
    screening: list[str] = field(default_factory=list)
    disclosure: list[str] = field(default_factory=list)
    disclosure_negated: list[str] = field(default_factory=list)
    topic: str = ""
    department_kind: str = ""

    @property
    def flags(self) -> dict[str, list[str]]:
        out = {
            "pii": self.pii_kinds,
            "screening": self.screening,
            "disclosure": self.disclosure,
        }
        if self.disclosure_negated:
            out["disclosure_negated"] = self.disclosure_negated
        return {k: v for k, v in out.items() if v}

    @property
    def is_disclosure(self) -> bool:
        return bool(self.disclosure)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def analyse(text: str) -> Analysis:
    """Run the four rule sets on a letter (pure: no database)."""
    masked = pii.mask_pii(text, rules("pii"))
    hits = screening.screen(text, rules("screening"))
    found = triage.triage(text, rules("triage"))
    route = routing.suggest(text, rules("routing"))[0]
    return Analysis(
        masked=masked.masked,
        pii_kinds=_unique(s.kind for s in masked.spans),
        screening=_unique(h.category for h in hits),
        disclosure=found.kinds,
        disclosure_negated=_unique(h.kind for h in found.negated),
        topic=ROUTING_TOPICS.get(route.topic, Topic.OTHER),
        department_kind=route.department,
    )


def findings(text: str) -> dict[str, list[str]]:
    """What is still found in a text about to be published (pii, 敏感词, disclosure)."""
    a = analyse(text)
    out = {"pii": a.pii_kinds, "screening": a.screening, "disclosure": a.disclosure}
    return {k: v for k, v in out.items() if v}


def fields_for_new(text: str) -> tuple[dict[str, Any], Analysis]:
    """The moderation fields a new letter is created with, and the analysis behind them."""
    a = analyse(text)
    fields = {
        "flags": a.flags,
        "published_text": a.masked,
        "suggested_topic": a.topic,
        "suggested_department_kind": a.department_kind,
        "visibility": (
            Suggestion.Visibility.HIDDEN if a.is_disclosure else Suggestion.Visibility.PENDING
        ),
    }
    return fields, a


def on_new_letter(*, suggestion: Suggestion, analysis: Analysis) -> Disclosure | None:
    """Called by ``suggestion_submit`` inside its transaction: a possible disclosure is hidden at
    once (AUTO_HIDE) and handed to the care staff of the letter's area (city level without one)."""
    if not analysis.is_disclosure:
        return None
    ModerationEvent.objects.create(
        suggestion=suggestion,
        kind=ModerationEvent.Kind.AUTO_HIDE,
        reason="disclosure: " + ", ".join(analysis.disclosure),
    )
    disclosure = Disclosure.objects.create(
        suggestion=suggestion, area=suggestion.area, kinds=analysis.disclosure
    )
    audit_record(
        actor=None,
        action=AuditLog.Action.CREATE,
        obj=disclosure,
        after={"suggestion": suggestion.pk, "kinds": analysis.disclosure, "status": "open"},
        note="letter hidden by the triage rules and flagged to care staff",
    )
    return disclosure


# ------------------------------------------------------------------------------ who may


def _role(user: User | None) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    return Role.ADMIN if user.is_superuser else user.role


def can_moderate(user: User | None) -> bool:
    """The 妇儿工委办 of an area (and administrators) moderate and route that area's letters."""
    r = _role(user)
    return r == Role.ADMIN or (r == Role.WCCO and user.area_id is not None)


def is_care_staff(user: User | None) -> bool:
    """Who sees disclosures: directors, supervisors and the 妇儿工委办 of the area; admins."""
    r = _role(user)
    return r == Role.ADMIN or (
        r in (Role.WCCO, Role.SUPERVISOR, Role.DIRECTOR) and user.area_id is not None
    )


def _moderatable(actor: User, suggestion: Suggestion) -> None:
    if not can_moderate(actor):
        raise PermissionDenied(_("Only the women and children's committee office may do this."))
    visible = Suggestion.objects.visible_to(actor, action="moderate").filter(pk=suggestion.pk)
    if not visible.exists():
        raise ServiceError(_("Not found."), code="not_found")


def _audit(actor: User, suggestion: Suggestion, before: dict, note: str, ip: str | None) -> None:
    after = _state(suggestion)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=suggestion,
        object_repr=f"{suggestion.get_topic_display()} · #{suggestion.pk}",
        before=before,
        after=after,
        note=note,
        ip=ip,
    )


def _state(s: Suggestion) -> dict[str, Any]:
    # The published text is public once published; before that it is still the child's words
    # (masked), so the log says only how long it is.
    return {
        "visibility": s.visibility,
        "publish_image": s.publish_image,
        "published_text_length": len(s.published_text or ""),
    }


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(_("The published text cannot be empty."))
    if len(text) > MAX_PUBLISHED:
        raise ServiceError(_("Please keep it under 2000 characters."))
    return text


# ------------------------------------------------------------------------------ the queue


@transaction.atomic
def suggestion_publish(
    *,
    actor: User,
    suggestion: Suggestion,
    published_text: str,
    publish_image: bool = False,
    confirm: bool = False,
    ip: str | None = None,
) -> Suggestion:
    """Publish a letter with ``published_text``. When the text still has findings (personal
    data, 敏感词 or disclosure words) it needs ``confirm`` (ServiceError code ``confirm``)."""
    _moderatable(actor, suggestion)
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    text = _clean_text(published_text)
    left = findings(text)
    if left and not confirm:
        raise ServiceError(
            _("The text to publish still has findings; confirm to publish anyway."),
            code="confirm",
            details=[{"field": k, "message": ", ".join(v)} for k, v in left.items()],
        )
    if publish_image and not suggestion.image:
        publish_image = False
    before = _state(suggestion)
    old_text = suggestion.published_text
    if old_text != text:
        ModerationEvent.objects.create(
            suggestion=suggestion,
            kind=ModerationEvent.Kind.EDIT,
            actor=actor,
            text_before=old_text,
            text_after=text,
        )
    suggestion.published_text = text
    suggestion.publish_image = bool(publish_image)
    suggestion.visibility = Suggestion.Visibility.PUBLISHED
    suggestion.moderated_at = timezone.now()
    suggestion.moderated_by = actor
    suggestion.save(
        update_fields=[
            "published_text",
            "publish_image",
            "visibility",
            "moderated_at",
            "moderated_by",
        ]
    )
    ModerationEvent.objects.create(
        suggestion=suggestion,
        kind=ModerationEvent.Kind.PUBLISH,
        actor=actor,
        text_after=text,
        reason=("confirmed with findings: " + "; ".join(left)) if left else "",
    )
    _audit(actor, suggestion, before, "published" + (" (findings confirmed)" if left else ""), ip)
    return suggestion


@transaction.atomic
def suggestion_edit(
    *, actor: User, suggestion: Suggestion, published_text: str, ip: str | None = None
) -> Suggestion:
    """Change the text to publish; the child's ``text`` stays as it was written."""
    _moderatable(actor, suggestion)
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    text = _clean_text(published_text)
    if text == suggestion.published_text:
        return suggestion
    before = _state(suggestion)
    ModerationEvent.objects.create(
        suggestion=suggestion,
        kind=ModerationEvent.Kind.EDIT,
        actor=actor,
        text_before=suggestion.published_text,
        text_after=text,
    )
    suggestion.published_text = text
    suggestion.moderated_at = timezone.now()
    suggestion.moderated_by = actor
    suggestion.save(update_fields=["published_text", "moderated_at", "moderated_by"])
    _audit(actor, suggestion, before, "published text edited", ip)
    return suggestion


@transaction.atomic
def suggestion_hide(
    *, actor: User, suggestion: Suggestion, reason: str, ip: str | None = None
) -> Suggestion:
    _moderatable(actor, suggestion)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Please give a reason for hiding the letter."))
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason is too long (at most 500 characters)."))
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.visibility == Suggestion.Visibility.HIDDEN:
        raise ServiceError(_("The letter is already hidden."))
    before = _state(suggestion)
    suggestion.visibility = Suggestion.Visibility.HIDDEN
    suggestion.moderated_at = timezone.now()
    suggestion.moderated_by = actor
    suggestion.save(update_fields=["visibility", "moderated_at", "moderated_by"])
    ModerationEvent.objects.create(
        suggestion=suggestion, kind=ModerationEvent.Kind.HIDE, actor=actor, reason=reason
    )
    _audit(actor, suggestion, before, "hidden", ip)
    return suggestion


@transaction.atomic
def suggestion_unhide(
    *, actor: User, suggestion: Suggestion, reason: str = "", ip: str | None = None
) -> Suggestion:
    """Back to the queue (awaiting review): it is published again only by a new decision."""
    _moderatable(actor, suggestion)
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.visibility != Suggestion.Visibility.HIDDEN:
        raise ServiceError(_("The letter is not hidden."))
    before = _state(suggestion)
    suggestion.visibility = Suggestion.Visibility.PENDING
    suggestion.moderated_at = timezone.now()
    suggestion.moderated_by = actor
    suggestion.save(update_fields=["visibility", "moderated_at", "moderated_by"])
    ModerationEvent.objects.create(
        suggestion=suggestion,
        kind=ModerationEvent.Kind.UNHIDE,
        actor=actor,
        reason=(reason or "").strip()[:MAX_REASON],
    )
    _audit(actor, suggestion, before, "shown again (back to review)", ip)
    return suggestion


def suggestion_read_original(
    *, actor: User, suggestion: Suggestion, why: str, ip: str | None = None
) -> None:
    """Record that ``actor`` read the child's own words (and picture): a read of personal data."""
    audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        obj=suggestion,
        object_repr=f"{suggestion.get_topic_display()} · #{suggestion.pk}",
        note=why,
        ip=ip,
    )


# ------------------------------------------------------------------------------ disclosures


def _disclosure_for(actor: User, disclosure: Disclosure) -> Disclosure:
    if not is_care_staff(actor):
        raise PermissionDenied(_("Disclosures are for the care staff of the area."))
    qs = Disclosure.objects.visible_to(actor, action="handle").select_for_update(of=("self",))
    found = qs.filter(pk=disclosure.pk).first()
    if found is None:
        raise ServiceError(_("Not found."), code="not_found")
    return found


def disclosure_read(*, actor: User, disclosure: Disclosure, ip: str | None = None) -> None:
    """Care staff opened a disclosure with the child's own words: audited."""
    audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        obj=disclosure,
        note="disclosure opened with the original letter",
        ip=ip,
    )


@transaction.atomic
def disclosure_acknowledge(
    *, actor: User, disclosure: Disclosure, note: str = "", ip: str | None = None
) -> Disclosure:
    """A member of the care staff takes it on (being followed up)."""
    d = _disclosure_for(actor, disclosure)
    if d.status != Disclosure.Status.OPEN:
        raise ServiceError(_("This disclosure is already being followed up or closed."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ServiceError(_("The note is too long (at most 2000 characters)."))
    d.status = Disclosure.Status.ACKNOWLEDGED
    d.handled_by = actor
    if note:
        d.note = note
    d.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=d,
        before={"status": "open"},
        after={"status": d.status, "handled_by": actor.pk, "note": "[encrypted]" if note else ""},
        ip=ip,
    )
    return d


@transaction.atomic
def disclosure_close(
    *, actor: User, disclosure: Disclosure, note: str, ip: str | None = None
) -> Disclosure:
    """Close with a note on what was done (kept encrypted)."""
    d = _disclosure_for(actor, disclosure)
    if d.status == Disclosure.Status.CLOSED:
        raise ServiceError(_("This disclosure is already closed."))
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Please write what was done before closing."))
    if len(note) > MAX_NOTE:
        raise ServiceError(_("The note is too long (at most 2000 characters)."))
    before = {"status": d.status}
    d.status = Disclosure.Status.CLOSED
    d.handled_by = actor
    d.note = note
    d.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=d,
        before=before,
        after={"status": d.status, "handled_by": actor.pk, "note": "[encrypted]"},
        ip=ip,
    )
    return d
