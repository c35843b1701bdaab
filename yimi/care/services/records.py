"""Writes to children's records (一人一档): the record, family, assessments, documents, consent,
closing and reopening, retention (anonymising closed records) and key rotation.

Every service is keyword-only and atomic, checks :mod:`yimi.care.policy`, writes an audit row
through :func:`.common.care_snapshot` (no name or ID number in the audit log) and a timeline
entry through :func:`.common.event_add`; changes that matter re-run 政策找人 for the child and
the visit schedule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimi.core import keys
from yimi.core.crypto import Cipher, DecryptionError, normalise
from yimi.core.models import Area, AuditLog, Department, User
from yimi.core.services import PermissionDenied, ServiceError, audit_record

from .. import matching, policy, schedule
from ..identity import IdNumberError, validate_id_number
from ..models import (
    Assessment,
    Category,
    Child,
    ChildEvent,
    Consent,
    Document,
    FamilyMember,
    Order,
    OrderStep,
    OrderTask,
    Pairing,
    Purpose,
    Risk,
    SchoolStage,
    Section,
    Sex,
    Status,
    Visit,
    VolunteerLog,
)
from .common import care_snapshot, encrypted_field_names, event_add

Progress = Callable[[str, int, int | None], None]

# ------------------------------------------------------------------------------ validation

# The record's editable fields and the section each belongs to (for timeline entries).
FIELD_SECTIONS: dict[str, str] = {
    "name": Section.BASIC,
    "birth_date": Section.BASIC,
    "sex": Section.BASIC,
    "categories": Section.BASIC,
    "risk_level": Section.BASIC,
    "notes": Section.BASIC,
    "area": Section.CONTACT,
    "id_number": Section.IDENTITY,
    "address": Section.CONTACT,
    "phone": Section.CONTACT,
    "school_stage": Section.EDUCATION,
    "school": Section.EDUCATION,
    "education": Section.EDUCATION,
    "health": Section.HEALTH,
    "disability": Section.DISABILITY,
    "low_income": Section.WELFARE,
    "welfare": Section.WELFARE,
}
TEXT_FIELDS = ("address", "phone", "school", "notes")
JSON_FIELDS = ("education", "health", "disability", "welfare")
# Changes to these are logged as "changed" only, never with values: they are encrypted (or, for
# the birth date, derived from the ID number).
SENSITIVE_FIELDS = frozenset(encrypted_field_names(Child)) | {"birth_date"}
MAX_NAME = 50


def _field_label(name: str) -> str:
    # "name" alone is ambiguous in Chinese (名称 / 姓名): the timeline says whose name.
    if name == "name":
        return _("Full name")
    return str(Child._meta.get_field(name).verbose_name)


def _labels(choices) -> dict[str, str]:
    """Code and label (in Chinese and English) → code, so a ledger may use either."""
    out: dict[str, str] = {}
    for code, label in choices:
        out[code.lower()] = code
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                out[str(label).strip().lower()] = code
    return out


def _choice(value: Any, choices, field: str, errors: list, default: str | None = None):
    if value in (None, ""):
        if default is None:
            errors.append({"field": field, "message": _("This field is required.")})
        return default
    code = _labels(choices).get(str(value).strip().lower())
    if code is None:
        errors.append(
            {"field": field, "message": _("“%(value)s” is not a valid choice.") % {"value": value}}
        )
    return code


def _date(value: Any, field: str, errors: list) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(
            {
                "field": field,
                "message": _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value},
            }
        )
        return None


def _area(value: Any, errors: list) -> Area | None:
    if value in (None, ""):
        errors.append({"field": "area", "message": _("This field is required.")})
        return None
    area = value if isinstance(value, Area) else Area.objects.filter(code=str(value)).first()
    if area is None:
        errors.append(
            {"field": "area", "message": _("Unknown area code “%(code)s”.") % {"code": value}}
        )
        return None
    if area.level < Area.Level.COMMUNITY:
        errors.append(
            {"field": "area", "message": _("A child is registered in a community or a grid.")}
        )
        return None
    return area


def _categories(value: Any, errors: list) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").replace("、", ",").split(",") if v.strip()]
    value = list(value or [])
    if not value:
        errors.append({"field": "categories", "message": _("Give at least one category.")})
        return []
    table = _labels(Category.choices)
    codes, bad = set(), []
    for v in value:
        code = table.get(str(v).strip().lower())
        if code is None:
            bad.append(str(v))
        else:
            codes.add(code)
    if bad:
        errors.append(
            {
                "field": "categories",
                "message": _("Unknown categories: %(values)s") % {"values": "、".join(bad)},
            }
        )
    return [c for c in Category.values if c in codes]


def _json(value: Any, field: str, errors: list) -> dict | None:
    if value in (None, "", {}):
        return None
    if not isinstance(value, Mapping):
        errors.append({"field": field, "message": _("Expected a set of named values.")})
        return None
    return dict(value)


def child_validate(data: Mapping[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """Check and normalise a child's record; raise :class:`ServiceError` naming every bad field.

    Pure apart from looking the area up by its code. The ID number (GB 11643) gives the birth
    date and sex; when those are given as well they must agree with it. Used by
    :func:`child_create`, :func:`child_update` and the ledger import.

    ``details`` of the error: ``[{"field": ..., "message": ...}, ...]``.
    """
    today = today or timezone.localdate()
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {}

    name = str(data.get("name") or "").strip()
    if not name:
        errors.append({"field": "name", "message": _("This field is required.")})
    elif len(name) > MAX_NAME:
        errors.append(
            {"field": "name", "message": _("At most %(n)s characters.") % {"n": MAX_NAME}}
        )
    out["name"] = name

    birth = _date(data.get("birth_date"), "birth_date", errors)
    sex = None
    if data.get("sex") not in (None, ""):
        sex = _choice(data.get("sex"), Sex.choices, "sex", errors)
    # Full-width digits and spaces from spreadsheets: the same normal form as the keyed hash.
    raw_id = normalise(str(data.get("id_number") or ""))
    out["id_number"] = ""
    if raw_id:
        try:
            idn = validate_id_number(raw_id, today=today)
        except IdNumberError as exc:
            errors.append({"field": "id_number", "message": str(exc)})
        else:
            out["id_number"] = idn.number
            if birth is not None and birth != idn.birth_date:
                errors.append(
                    {
                        "field": "birth_date",
                        "message": _("The date of birth does not match the ID number."),
                    }
                )
            if sex is not None and sex != idn.sex:
                errors.append(
                    {"field": "sex", "message": _("The sex does not match the ID number.")}
                )
            birth, sex = idn.birth_date, idn.sex
    if birth is None and not any(e["field"] in ("birth_date", "id_number") for e in errors):
        errors.append(
            {"field": "birth_date", "message": _("Give the date of birth or the ID number.")}
        )
    elif birth is not None and birth > today:
        errors.append({"field": "birth_date", "message": _("The date of birth is in the future.")})
    if sex is None and not any(e["field"] in ("sex", "id_number") for e in errors):
        errors.append({"field": "sex", "message": _("Give the sex or the ID number.")})
    out["birth_date"], out["sex"] = birth, sex

    out["categories"] = _categories(data.get("categories"), errors)
    out["risk_level"] = _choice(data.get("risk_level"), Risk.choices, "risk_level", errors, "low")
    out["school_stage"] = _choice(
        data.get("school_stage"), SchoolStage.choices, "school_stage", errors, "none"
    )
    out["area"] = _area(data.get("area"), errors)
    low = data.get("low_income")
    if isinstance(low, str):
        low = low.strip().lower() in ("1", "true", "yes", "on", "是", "y")
    out["low_income"] = bool(low)
    for f in TEXT_FIELDS:
        out[f] = str(data.get(f) or "").strip()
    if len(out["phone"]) > 40:
        errors.append({"field": "phone", "message": _("At most %(n)s characters.") % {"n": 40}})
    for f in JSON_FIELDS:
        out[f] = _json(data.get(f), f, errors)
    grade = (out["disability"] or {}).get("grade")
    if grade not in (None, "") and not (str(grade).isdigit() and 1 <= int(grade) <= 4):
        errors.append({"field": "disability", "message": _("The disability grade must be 1 to 4.")})
    elif grade not in (None, ""):
        out["disability"]["grade"] = int(grade)
    if errors:
        raise ServiceError(_("The child's record is not valid."), details=errors)
    return out


# ------------------------------------------------------------------------------ permissions


def _check_edit(actor: User | None, child: Child) -> None:
    """Caseworkers of the child's area only; others learn nothing about whether it exists."""
    if not policy.can_edit_records(actor):
        raise PermissionDenied(_("Only child directors and supervisors may change records."))
    if not policy.children_visible_to(actor).filter(pk=child.pk).exists():
        raise ServiceError(_("Not found."), code="not_found")
    if child.anonymised_at is not None:
        raise ServiceError(_("This record has been anonymised and can no longer be changed."))


def _check_area(actor: User, area: Area) -> None:
    if actor.area_id is None or not area.path.startswith(actor.area.path):
        raise PermissionDenied(_("You may only register children in your own area."))


def _after_change(child: Child, actor: User | None) -> None:
    """Keep 政策找人 and the visit schedule current (both incremental, for this child only)."""
    schedule.child_schedule_refresh(child=child)
    matching.child_rematch(child=child, actor=actor)


def _audit(actor, action, obj, before=None, after=None, note="", child: Child | None = None):
    child = child or getattr(obj, "child", None) or obj
    return audit_record(
        actor=actor,
        action=action,
        obj=obj,
        before=before,
        after=after,
        note=note,
        area_path=child.area.path,
    )


# ------------------------------------------------------------------------------ the record


def file_no_next(area: Area) -> str:
    """``<area code>-<5-digit sequence>``, the next free number of the area."""
    prefix = f"{area.code}-"
    last = Child.objects.filter(file_no__startswith=prefix).aggregate(m=Max("file_no")).get("m")
    seq = 1
    if last:
        tail = last[len(prefix) :]
        seq = int(tail) + 1 if tail.isdigit() else Child.objects.filter(area=area).count() + 1
    return f"{prefix}{seq:05d}"


def _duplicate(actor: User | None, id_number: str, exclude_pk: int | None = None) -> None:
    if not id_number:
        return
    qs = Child.objects.filter(id_hash=keys.match_hash(id_number, purpose="id_number"))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    existing = qs.first()
    if existing is None:
        return
    if policy.children_visible_to(actor).filter(pk=existing.pk).exists():
        msg = _("A child with this ID number is already registered (file %(file_no)s).") % {
            "file_no": existing.file_no
        }
    else:
        msg = _("A child with this ID number is already registered in another area.")
    raise ServiceError(msg, code="conflict", details=[{"field": "id_number", "message": msg}])


def _hashes(name: str, id_number: str) -> dict[str, Any]:
    return {
        "name_hash": keys.match_hash(name, purpose="child_name"),
        "id_hash": keys.match_hash(id_number, purpose="id_number") if id_number else None,
    }


@transaction.atomic
def child_create(
    *,
    actor: User | None,
    area: Area | str,
    name: str,
    categories: list[str] | str,
    risk_level: str = Risk.LOW,
    id_number: str = "",
    birth_date: dt.date | str | None = None,
    sex: str | None = None,
    is_demo: bool = False,
    **fields: Any,
) -> Child:
    """Register a child (登记建档): one file, numbered ``<area code>-<seq>``."""
    if not policy.can_edit_records(actor):
        raise PermissionDenied(_("Only child directors and supervisors may register children."))
    unknown = set(fields) - set(FIELD_SECTIONS)
    if unknown:
        raise ServiceError(
            _("These fields cannot be set: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    data = child_validate(
        {
            **fields,
            "area": area,
            "name": name,
            "categories": categories,
            "risk_level": risk_level,
            "id_number": id_number,
            "birth_date": birth_date,
            "sex": sex,
        }
    )
    _check_area(actor, data["area"])
    _duplicate(actor, data["id_number"])
    child = Child.objects.create(
        file_no=file_no_next(data["area"]),
        is_demo=is_demo,
        **data,
        **_hashes(data["name"], data["id_number"]),
    )
    _audit(actor, AuditLog.Action.CREATE, child, after=care_snapshot(child))
    event_add(
        child=child, kind=ChildEvent.Kind.CREATED, summary=_("Registered"), actor=actor, obj=child
    )
    _after_change(child, actor)
    return child


def _display(name: str, value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if name == "categories":
        return "、".join(str(Category(c).label) for c in value)
    if name == "area":
        return value.name
    if name == "low_income":
        return _("yes") if value else _("no")
    field = Child._meta.get_field(name)
    if field.choices:
        return str(dict(field.choices).get(value, value))
    return str(value)


def child_change_summary(name: str, old: Any, new: Any) -> str:
    """The timeline text of one change: values only for non-sensitive fields."""
    label = _field_label(name)
    if name in SENSITIVE_FIELDS:
        return _("%(field)s changed") % {"field": label}
    return _("%(field)s: %(old)s → %(new)s") % {
        "field": label,
        "old": _display(name, old),
        "new": _display(name, new),
    }


@transaction.atomic
def child_update(*, actor: User | None, child: Child, **changes: Any) -> Child:
    """Change a record; one timeline entry per changed field."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    _check_edit(actor, child)
    unknown = set(changes) - set(FIELD_SECTIONS)
    if unknown:
        raise ServiceError(
            _("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    current = {f: getattr(child, f) for f in FIELD_SECTIONS}
    merged = {**current, **changes}
    if changes.get("id_number"):
        # The new number's birth date and sex replace the stored ones unless given as well.
        for f in ("birth_date", "sex"):
            if f not in changes:
                merged.pop(f)
    data = child_validate(merged)
    # A new ID number brings its own birth date and sex.
    considered = set(changes) | ({"birth_date", "sex"} if "id_number" in changes else set())
    changed = [f for f in FIELD_SECTIONS if f in considered and data[f] != current[f]]
    if not changed:
        return child
    if "area" in changed:
        _check_area(actor, data["area"])
    if "id_number" in changed:
        _duplicate(actor, data["id_number"], exclude_pk=child.pk)
    before = care_snapshot(child)
    for f in changed:
        setattr(child, f, data[f])
    if "name" in changed or "id_number" in changed:
        for k, v in _hashes(child.name, child.id_number).items():
            setattr(child, k, v)
    child.save()
    _audit(actor, AuditLog.Action.UPDATE, child, before=before, after=care_snapshot(child))
    for f in changed:
        event_add(
            child=child,
            kind=ChildEvent.Kind.UPDATED,
            summary=child_change_summary(f, current[f], data[f]),
            actor=actor,
            section=FIELD_SECTIONS[f],
            obj=child,
        )
    _after_change(child, actor)
    return child


@transaction.atomic
def child_close(*, actor: User | None, child: Child, status: str, reason: str) -> Child:
    """Close the case (结案) or record a transfer out (转出)."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    _check_edit(actor, child)
    if status not in (Status.CLOSED, Status.TRANSFERRED):
        raise ServiceError(
            _("A record is closed or transferred out."),
            details=[{"field": "status", "message": _("Choose closed or transferred out.")}],
        )
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(
            _("Give the reason."),
            details=[{"field": "reason", "message": _("This field is required.")}],
        )
    if child.status != Status.ACTIVE:
        raise ServiceError(_("This record is not on the register."))
    before = care_snapshot(child)
    child.status = status
    child.closed_on = timezone.localdate()
    child.close_reason = reason[:200]
    child.save()
    _audit(actor, AuditLog.Action.UPDATE, child, before=before, after=care_snapshot(child))
    event_add(
        child=child,
        kind=ChildEvent.Kind.STATUS,
        summary=_("Status: %(old)s → %(new)s")
        % {"old": Status(Status.ACTIVE).label, "new": Status(status).label},
        actor=actor,
        obj=child,
    )
    _after_change(child, actor)
    return child


@transaction.atomic
def child_reopen(*, actor: User | None, child: Child, reason: str = "") -> Child:
    """Put a closed or transferred record back on the register."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    _check_edit(actor, child)
    if child.status == Status.ACTIVE:
        raise ServiceError(_("This record is already on the register."))
    before = care_snapshot(child)
    old = child.status
    child.status = Status.ACTIVE
    child.closed_on = None
    child.close_reason = ""
    child.save()
    _audit(
        actor,
        AuditLog.Action.UPDATE,
        child,
        before=before,
        after=care_snapshot(child),
        note=(reason or "")[:500],
    )
    event_add(
        child=child,
        kind=ChildEvent.Kind.STATUS,
        summary=_("Status: %(old)s → %(new)s")
        % {"old": Status(old).label, "new": Status(Status.ACTIVE).label},
        actor=actor,
        obj=child,
    )
    _after_change(child, actor)
    return child


# ------------------------------------------------------------------------------ family


FAMILY_FIELDS = ("relation", "is_guardian", "situation", "name", "phone", "id_number", "notes")


def _family_validate(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {
        "relation": _choice(
            data.get("relation"), FamilyMember.Relation.choices, "relation", errors
        ),
        "situation": _choice(
            data.get("situation"), FamilyMember.Situation.choices, "situation", errors, "present"
        ),
        "is_guardian": bool(data.get("is_guardian")),
        "name": str(data.get("name") or "").strip(),
        "phone": str(data.get("phone") or "").strip(),
        "notes": str(data.get("notes") or "").strip(),
        "id_number": "",
    }
    if not out["name"]:
        errors.append({"field": "name", "message": _("This field is required.")})
    raw = normalise(str(data.get("id_number") or ""))
    if raw:
        try:
            out["id_number"] = validate_id_number(raw).number
        except IdNumberError as exc:
            errors.append({"field": "id_number", "message": str(exc)})
    if errors:
        raise ServiceError(_("The family member is not valid."), details=errors)
    return out


def _family_label(m: FamilyMember) -> str:
    label = str(m.get_relation_display())
    return label + (_(" (guardian)") if m.is_guardian else "")


@transaction.atomic
def family_member_add(*, actor: User | None, child: Child, **fields: Any) -> FamilyMember:
    _check_edit(actor, child)
    data = _family_validate(fields)
    member = FamilyMember.objects.create(child=child, **data)
    _audit(actor, AuditLog.Action.CREATE, member, after=care_snapshot(member))
    event_add(
        child=child,
        kind=ChildEvent.Kind.UPDATED,
        summary=_("Family member added: %(who)s") % {"who": _family_label(member)},
        actor=actor,
        section=Section.FAMILY,
        obj=member,
    )
    return member


@transaction.atomic
def family_member_update(
    *, actor: User | None, member: FamilyMember, **changes: Any
) -> FamilyMember:
    child = member.child
    _check_edit(actor, child)
    unknown = set(changes) - set(FAMILY_FIELDS)
    if unknown:
        raise ServiceError(
            _("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    current = {f: getattr(member, f) for f in FAMILY_FIELDS}
    data = _family_validate({**current, **changes})
    changed = [f for f in FAMILY_FIELDS if data[f] != current[f]]
    if not changed:
        return member
    before = care_snapshot(member)
    for f in changed:
        setattr(member, f, data[f])
    member.save()
    _audit(actor, AuditLog.Action.UPDATE, member, before=before, after=care_snapshot(member))
    event_add(
        child=child,
        kind=ChildEvent.Kind.UPDATED,
        summary=_("Family member changed: %(who)s (%(fields)s)")
        % {
            "who": _family_label(member),
            "fields": "、".join(
                _("Full name") if f == "name" else str(FamilyMember._meta.get_field(f).verbose_name)
                for f in changed
            ),
        },
        actor=actor,
        section=Section.FAMILY,
        obj=member,
    )
    return member


@transaction.atomic
def family_member_remove(*, actor: User | None, member: FamilyMember) -> None:
    child = member.child
    _check_edit(actor, child)
    before = care_snapshot(member)
    label = _family_label(member)
    _audit(actor, AuditLog.Action.DELETE, member, before=before)
    member.delete()
    event_add(
        child=child,
        kind=ChildEvent.Kind.UPDATED,
        summary=_("Family member removed: %(who)s") % {"who": label},
        actor=actor,
        section=Section.FAMILY,
    )


# ------------------------------------------------------------------------------ assessments


@transaction.atomic
def assessment_add(
    *,
    actor: User | None,
    child: Child,
    risk_level: str,
    assessed_on: dt.date | None = None,
    aspects: dict | None = None,
    summary: str = "",
) -> Assessment:
    """Record an assessment; it sets the child's risk level (and so the visit schedule)."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    _check_edit(actor, child)
    errors: list[dict] = []
    risk = _choice(risk_level, Risk.choices, "risk_level", errors)
    assessed_on = assessed_on or timezone.localdate()
    if assessed_on > timezone.localdate():
        errors.append({"field": "assessed_on", "message": _("The date is in the future.")})
    if errors:
        raise ServiceError(_("The assessment is not valid."), details=errors)
    item = Assessment.objects.create(
        child=child,
        assessed_on=assessed_on,
        assessor=actor if actor is not None and actor.is_authenticated else None,
        risk_level=risk,
        aspects=aspects or None,
        summary=(summary or "").strip(),
    )
    _audit(actor, AuditLog.Action.CREATE, item, after=care_snapshot(item))
    old = child.risk_level
    if old != risk:
        before = care_snapshot(child)
        child.risk_level = risk
        child.save(update_fields=["risk_level", "updated_at"])
        _audit(actor, AuditLog.Action.UPDATE, child, before=before, after=care_snapshot(child))
    event_add(
        child=child,
        kind=ChildEvent.Kind.ASSESSMENT,
        summary=_("Assessment: %(field)s %(old)s → %(new)s")
        % {"field": _field_label("risk_level"), "old": Risk(old).label, "new": Risk(risk).label},
        actor=actor,
        section=Section.VISITS,
        obj=item,
    )
    _after_change(child, actor)
    return item


# ------------------------------------------------------------------------------ documents


@transaction.atomic
def document_upload(
    *,
    actor: User | None,
    child: Child,
    title: str,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    section: str = Section.DOCUMENTS,
) -> Document:
    """Add a document to the file (at most 10 MB); its content is encrypted in the database."""
    _check_edit(actor, child)
    errors = []
    title = (title or "").strip() or (filename or "").strip()
    if not title:
        errors.append({"field": "title", "message": _("This field is required.")})
    if len(content) > Document.MAX_BYTES:
        errors.append({"field": "file", "message": _("The file is larger than 10 MB.")})
    if not content:
        errors.append({"field": "file", "message": _("The file is empty.")})
    if section not in Section.values or section == Section.IDENTITY:
        errors.append({"field": "section", "message": _("Choose a section of the record.")})
    if errors:
        raise ServiceError(_("The document cannot be added."), details=errors)
    doc = Document.objects.create(
        child=child,
        title=title[:200],
        section=section,
        filename=(filename or "document")[:255],
        content_type=(content_type or "application/octet-stream")[:100],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _audit(actor, AuditLog.Action.CREATE, doc, after=care_snapshot(doc))
    event_add(
        child=child,
        kind=ChildEvent.Kind.DOCUMENT,
        summary=_("Document added: %(title)s") % {"title": doc.title},
        actor=actor,
        section=section,
        obj=doc,
    )
    return doc


@transaction.atomic
def document_delete(*, actor: User | None, document: Document) -> None:
    child = document.child
    _check_edit(actor, child)
    before = care_snapshot(document)
    title, section = document.title, document.section
    _audit(actor, AuditLog.Action.DELETE, document, before=before)
    document.delete()
    event_add(
        child=child,
        kind=ChildEvent.Kind.DOCUMENT,
        summary=_("Document removed: %(title)s") % {"title": title},
        actor=actor,
        section=section,
    )


# ------------------------------------------------------------------------------ consent


@transaction.atomic
def consent_grant(
    *,
    actor: User | None,
    child: Child,
    purpose: str,
    given_by: str,
    relation: str,
    department: Department | None = None,
    given_on: dt.date | None = None,
    evidence: str = "",
) -> Consent:
    """Record a guardian's consent for one purpose and one receiving department."""
    _check_edit(actor, child)
    errors: list[dict] = []
    purpose = _choice(purpose, Purpose.choices, "purpose", errors)
    relation = _choice(relation, FamilyMember.Relation.choices, "relation", errors)
    given_by = (given_by or "").strip()
    if not given_by:
        errors.append({"field": "given_by", "message": _("This field is required.")})
    if purpose in (Purpose.REFERRAL, Purpose.SHARING) and department is None:
        errors.append(
            {"field": "department", "message": _("Name the department that receives the record.")}
        )
    given_on = given_on or timezone.localdate()
    if given_on > timezone.localdate():
        errors.append({"field": "given_on", "message": _("The date is in the future.")})
    if errors:
        raise ServiceError(_("The consent is not valid."), details=errors)
    if purpose == Purpose.VOLUNTEER:
        department = None
    if Consent.objects.filter(
        child=child, purpose=purpose, department=department, withdrawn_on__isnull=True
    ).exists():
        raise ServiceError(_("This consent is already recorded and active."), code="conflict")
    consent = Consent.objects.create(
        child=child,
        purpose=purpose,
        department=department,
        given_by=given_by,
        relation=relation,
        given_on=given_on,
        evidence=(evidence or "").strip()[:200],
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _audit(actor, AuditLog.Action.CREATE, consent, after=care_snapshot(consent))
    event_add(
        child=child,
        kind=ChildEvent.Kind.CONSENT,
        summary=_consent_summary(_("Consent given"), consent),
        actor=actor,
        section=Section.FAMILY,
        obj=consent,
    )
    return consent


def _consent_summary(prefix: str, consent: Consent) -> str:
    text = f"{prefix}：{consent.get_purpose_display()}"
    if consent.department_id:
        text += f" → {consent.department.name}"
    return text


@transaction.atomic
def consent_withdraw(
    *, actor: User | None, consent: Consent, withdrawn_on: dt.date | None = None
) -> Consent:
    """Withdraw a consent: the department stops seeing the child at once."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    child = consent.child
    _check_edit(actor, child)
    if consent.withdrawn_on is not None:
        raise ServiceError(_("This consent is already withdrawn."))
    before = care_snapshot(consent)
    consent.withdrawn_on = withdrawn_on or timezone.localdate()
    consent.save(update_fields=["withdrawn_on"])
    _audit(actor, AuditLog.Action.UPDATE, consent, before=before, after=care_snapshot(consent))
    event_add(
        child=child,
        kind=ChildEvent.Kind.CONSENT,
        summary=_consent_summary(_("Consent withdrawn"), consent),
        actor=actor,
        section=Section.FAMILY,
        obj=consent,
    )
    return consent


# ------------------------------------------------------------------------------ retention


def retention_due(today: dt.date | None = None):
    """Closed or transferred records past ``YIMI_CARE_RETENTION_DAYS``, not yet anonymised."""
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=settings.YIMI_CARE_RETENTION_DAYS)
    return Child.objects.filter(
        status__in=(Status.CLOSED, Status.TRANSFERRED), anonymised_at__isnull=True
    ).filter(Q(closed_on__lt=cutoff) | Q(closed_on__isnull=True, updated_at__date__lt=cutoff))


@transaction.atomic
def child_anonymise(*, actor: User | None, child: Child) -> dict[str, int]:
    """Clear everything that identifies a child or says anything personal about them.

    Kept for statistics: file number, area, categories, risk, status, sex, year of birth,
    school stage, low-income flag, and counts of visits, orders and timeline entries.
    """
    child = Child.objects.select_for_update().get(pk=child.pk)
    if child.anonymised_at is not None:
        return {}
    before = care_snapshot(child)
    counts = {
        "family": FamilyMember.objects.filter(child=child).update(
            name="", phone="", id_number="", notes=""
        ),
        "documents": Document.objects.filter(child=child).delete()[0],
        "visits": Visit.objects.filter(child=child).update(findings=None, follow_ups=None),
        "assessments": Assessment.objects.filter(child=child).update(aspects=None, summary=""),
        "consents": Consent.objects.filter(child=child).update(given_by="", evidence=""),
        "orders": Order.objects.filter(child=child).update(applicant="", request=""),
    }
    OrderStep.objects.filter(order__child=child).update(note="")
    OrderTask.objects.filter(order__child=child).update(result="")
    VolunteerLog.objects.filter(pairing__in=Pairing.objects.filter(child=child)).update(notes="")
    Child.objects.filter(pk=child.pk).update(
        name="",
        name_hash="",
        id_number="",
        id_hash=None,
        birth_date=child.birth_date.replace(month=1, day=1),
        address="",
        phone="",
        school="",
        education=None,
        health=None,
        disability=None,
        welfare=None,
        notes="",
        close_reason="",
        next_visit_due=None,
        anonymised_at=timezone.now(),
    )
    child.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=child,
        before=before,
        after=care_snapshot(child),
        note="anonymised (retention)",
        area_path=child.area.path,
    )
    event_add(
        child=child,
        kind=ChildEvent.Kind.ANONYMISED,
        summary=_("Anonymised after the retention period"),
        actor=actor,
    )
    return counts


def retention_run(
    *,
    actor: User | None = None,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Anonymise every record past the retention period; returns totals of what was cleared."""
    ids = list(retention_due(today).values_list("pk", flat=True))
    totals = {"children": len(ids)}
    if dry_run:
        return totals
    for i, pk in enumerate(ids, 1):
        counts = child_anonymise(actor=actor, child=Child(pk=pk))
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
        if progress:
            progress("anonymise", i, len(ids))
    return totals


# ------------------------------------------------------------------------------ key rotation


def encrypted_columns() -> list[tuple[type, str, str, bool]]:
    """(model, table, column, is_binary) for every encrypted column of every installed model.

    All apps, not only care: after a rotation the old keys may be dropped only if nothing is
    left under them anywhere.
    """
    from yimi.core.fields import EncryptedBinaryField

    out = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = encrypted_field_names(model)
        for f in model._meta.concrete_fields:
            if f.attname in names:
                out.append(
                    (model, model._meta.db_table, f.column, isinstance(f, EncryptedBinaryField))
                )
    return out


def _raw_rows(table: str, pk: str, column: str):
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {q(pk)}, {q(column)} FROM {q(table)} WHERE {q(column)} IS NOT NULL"  # noqa: S608 (names from the model registry)
        )
        return cur.fetchall()


def keys_rotate(*, progress: Progress | None = None) -> dict[str, int]:
    """Re-encrypt every encrypted value under the first key of ``YIMI_FIELD_KEYS``.

    Works on the raw ciphertexts (:meth:`Cipher.rotate`): plaintexts never become Python
    objects outside the cipher. One transaction: all values move or none.
    """
    keys.reset()
    cipher = keys.cipher()
    q = connection.ops.quote_name
    counts: dict[str, int] = {}
    columns = encrypted_columns()
    with transaction.atomic():
        for i, (model, table, column, binary) in enumerate(columns, 1):
            pk = model._meta.pk.column
            rows = _raw_rows(table, pk, column)
            updates = []
            for row_pk, value in rows:
                if binary:
                    updates.append((cipher.rotate_bytes(bytes(value)), row_pk))
                elif value != "":
                    updates.append((cipher.rotate(value), row_pk))
            if updates:
                with connection.cursor() as cur:
                    cur.executemany(
                        f"UPDATE {q(table)} SET {q(column)} = %s WHERE {q(pk)} = %s",  # noqa: S608
                        updates,
                    )
            counts[f"{table}.{column}"] = len(updates)
            if progress:
                progress("rotate", i, len(columns))
    return counts


def keys_check(*, progress: Progress | None = None) -> dict[str, int]:
    """Count the values that the first key alone cannot decrypt, per column (all 0: done)."""
    first = Cipher(keys.field_keys()[:1])
    failures: dict[str, int] = {}
    columns = encrypted_columns()
    for i, (model, table, column, binary) in enumerate(columns, 1):
        bad = 0
        for _pk, value in _raw_rows(table, model._meta.pk.column, column):
            try:
                if binary:
                    first.decrypt_bytes(bytes(value))
                elif value != "":
                    first.decrypt(value)
            except DecryptionError:
                bad += 1
        failures[f"{table}.{column}"] = bad
        if progress:
            progress("check", i, len(columns))
    return failures
