"""Co-building (共建共享): alliance member organisations, the service items they offer (where on
the map), events such as the monthly 儿童友好日 with registration by parents (no account),
check-in codes, walk-ins and participation counts.

Staff writes need the area (see :func:`groups.can_manage_area`); a parent's registration and its
cancellation need only the event and the check-in code. The places of an event are taken under
the event's row lock (``select_for_update``; SQLite runs Yimi's transactions IMMEDIATE, so the
write lock is taken at the start): two parents cannot both take the last place."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, User
from yimi.core.services import ServiceError, audit_record, snapshot
from yimi.places.models import Place

from ..models import AgeGroup, AllianceMember, Event, Registration, ServiceItem
from .groups import require_area
from .mailbox import RECEIPT_ALPHABET, redacted_snapshot
from .mailbox import receipt_code_normalise as code_normalise

CODE_LENGTH = 8  # 27**8 ≈ 2**38: a code is shown at the door, guessing it gains nothing much
MAX_CHILDREN = 10
MAX_NAME = 60
MAX_CONTACT = 100
# Registrations that hold places.
HOLDING = (Registration.Status.REGISTERED, Registration.Status.CHECKED_IN)


def code_display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def places_taken(event: Event) -> int:
    return event.registrations.filter(status__in=HOLDING).aggregate(n=Sum("children"))["n"] or 0


# Alliance members ------------------------------------------------------------------------------


def _member_fields(
    *,
    name: str,
    kind: str,
    contact: str,
    joined_on: dt.date | None,
    open_space_m2: int,
    description: str,
) -> dict[str, Any]:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Please give the organisation's name (at most 120 characters)."))
    if kind not in AllianceMember.Kind.values:
        raise ServiceError(_("Please choose the kind of organisation."))
    if joined_on is None:
        raise ServiceError(_("Please give the date it joined the alliance."))
    try:
        m2 = int(open_space_m2 or 0)
    except (TypeError, ValueError):
        raise ServiceError(_("The space must be a whole number of square metres.")) from None
    if not 0 <= m2 <= 10_000_000:
        raise ServiceError(_("The space must be between 0 and 10,000,000 m²."))
    return {
        "name": name,
        "kind": kind,
        "contact": (contact or "").strip()[:120],
        "joined_on": joined_on,
        "open_space_m2": m2,
        "description": (description or "").strip(),
    }


@transaction.atomic
def alliance_member_create(
    *,
    actor: User,
    area: Area,
    name: str,
    kind: str,
    joined_on: dt.date | None,
    open_space_m2: int = 0,
    contact: str = "",
    description: str = "",
    ip: str | None = None,
) -> AllianceMember:
    require_area(actor, area)
    fields = _member_fields(
        name=name,
        kind=kind,
        contact=contact,
        joined_on=joined_on,
        open_space_m2=open_space_m2,
        description=description,
    )
    member = AllianceMember.objects.create(area=area, **fields)
    audit_record(
        actor=actor, action=AuditLog.Action.CREATE, obj=member, after=snapshot(member), ip=ip
    )
    return member


@transaction.atomic
def alliance_member_update(
    *,
    actor: User,
    member: AllianceMember,
    name: str,
    kind: str,
    joined_on: dt.date | None,
    open_space_m2: int = 0,
    contact: str = "",
    description: str = "",
    is_active: bool = True,
    ip: str | None = None,
) -> AllianceMember:
    member = AllianceMember.objects.select_for_update().get(pk=member.pk)
    require_area(actor, member.area)
    before = snapshot(member)
    fields = _member_fields(
        name=name,
        kind=kind,
        contact=contact,
        joined_on=joined_on,
        open_space_m2=open_space_m2,
        description=description,
    )
    for key, value in fields.items():
        setattr(member, key, value)
    member.is_active = bool(is_active)
    member.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=member,
        before=before,
        after=snapshot(member),
        ip=ip,
    )
    return member


# Service items ---------------------------------------------------------------------------------


def _service_fields(
    *,
    title: str,
    description: str,
    place: Place | None,
    lon: float | None,
    lat: float | None,
    age_from: int,
    age_to: int,
    is_free: bool,
    schedule: str,
) -> dict[str, Any]:
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise ServiceError(_("Please give the service a title (at most 120 characters)."))
    try:
        age_from, age_to = int(age_from), int(age_to)
    except (TypeError, ValueError):
        raise ServiceError(_("The ages must be whole numbers from 0 to 18.")) from None
    if not (0 <= age_from <= age_to <= 18):
        raise ServiceError(_("The ages must be from 0 to 18, the first not above the second."))
    if place is not None:
        lon = lat = None  # the place's own position is used
    elif (lon is None) != (lat is None):
        raise ServiceError(_("Please pick the point on the map (both coordinates)."))
    elif lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ServiceError(_("The point on the map is not a valid position."))
    return {
        "title": title,
        "description": (description or "").strip(),
        "place": place,
        "lon": lon,
        "lat": lat,
        "age_from": age_from,
        "age_to": age_to,
        "is_free": bool(is_free),
        "schedule": (schedule or "").strip()[:120],
    }


@transaction.atomic
def service_item_create(
    *,
    actor: User,
    member: AllianceMember,
    title: str,
    description: str = "",
    place: Place | None = None,
    lon: float | None = None,
    lat: float | None = None,
    age_from: int = 0,
    age_to: int = 18,
    is_free: bool = True,
    schedule: str = "",
    ip: str | None = None,
) -> ServiceItem:
    require_area(actor, member.area)
    fields = _service_fields(
        title=title,
        description=description,
        place=place,
        lon=lon,
        lat=lat,
        age_from=age_from,
        age_to=age_to,
        is_free=is_free,
        schedule=schedule,
    )
    item = ServiceItem.objects.create(member=member, **fields)
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=item,
        after=snapshot(item),
        area_path=member.area.path,
        ip=ip,
    )
    return item


@transaction.atomic
def service_item_update(
    *,
    actor: User,
    item: ServiceItem,
    title: str,
    description: str = "",
    place: Place | None = None,
    lon: float | None = None,
    lat: float | None = None,
    age_from: int = 0,
    age_to: int = 18,
    is_free: bool = True,
    schedule: str = "",
    is_active: bool = True,
    ip: str | None = None,
) -> ServiceItem:
    item = ServiceItem.objects.select_for_update().select_related("member__area").get(pk=item.pk)
    require_area(actor, item.member.area)
    before = snapshot(item)
    fields = _service_fields(
        title=title,
        description=description,
        place=place,
        lon=lon,
        lat=lat,
        age_from=age_from,
        age_to=age_to,
        is_free=is_free,
        schedule=schedule,
    )
    for key, value in fields.items():
        setattr(item, key, value)
    item.is_active = bool(is_active)
    item.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=item,
        before=before,
        after=snapshot(item),
        area_path=item.member.area.path,
        ip=ip,
    )
    return item


# Events ----------------------------------------------------------------------------------------


def _event_fields(
    *,
    area: Area,
    title: str,
    kind: str,
    organiser: AllianceMember | None,
    place: Place | None,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    capacity: int,
    description: str,
    registration_open: bool,
    is_public: bool,
) -> dict[str, Any]:
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise ServiceError(_("Please give the event a title (at most 120 characters)."))
    if kind not in Event.Kind.values:
        raise ServiceError(_("Please choose the kind of event."))
    if starts_at is None or ends_at is None:
        raise ServiceError(_("Please give when the event starts and ends."))
    if ends_at <= starts_at:
        raise ServiceError(_("The event must end after it starts."))
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        raise ServiceError(_("The capacity must be a whole number.")) from None
    if not 1 <= capacity <= 100_000:
        raise ServiceError(_("The capacity must be between 1 and 100,000 children."))
    if organiser is not None and not organiser.is_active:
        raise ServiceError(_("The organiser is no longer an active alliance member."))
    return {
        "title": title,
        "kind": kind,
        "organiser": organiser,
        "place": place,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": capacity,
        "description": (description or "").strip(),
        "registration_open": bool(registration_open),
        "is_public": bool(is_public),
    }


@transaction.atomic
def event_create(
    *,
    actor: User,
    area: Area,
    title: str,
    kind: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    capacity: int,
    organiser: AllianceMember | None = None,
    place: Place | None = None,
    description: str = "",
    registration_open: bool = True,
    is_public: bool = True,
    ip: str | None = None,
) -> Event:
    require_area(actor, area)
    fields = _event_fields(
        area=area,
        title=title,
        kind=kind,
        organiser=organiser,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        description=description,
        registration_open=registration_open,
        is_public=is_public,
    )
    event = Event.objects.create(area=area, **fields)
    audit_record(
        actor=actor, action=AuditLog.Action.CREATE, obj=event, after=snapshot(event), ip=ip
    )
    return event


@transaction.atomic
def event_update(
    *,
    actor: User,
    event: Event,
    title: str,
    kind: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    capacity: int,
    organiser: AllianceMember | None = None,
    place: Place | None = None,
    description: str = "",
    registration_open: bool = True,
    is_public: bool = True,
    ip: str | None = None,
) -> Event:
    event = Event.objects.select_for_update().select_related("area").get(pk=event.pk)
    require_area(actor, event.area)
    before = snapshot(event)
    fields = _event_fields(
        area=event.area,
        title=title,
        kind=kind,
        organiser=organiser,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        description=description,
        registration_open=registration_open,
        is_public=is_public,
    )
    taken = places_taken(event)
    if fields["capacity"] < taken:
        raise ServiceError(
            _("%(n)s places are already taken: the capacity cannot be lower.") % {"n": taken}
        )
    for key, value in fields.items():
        setattr(event, key, value)
    event.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=event,
        before=before,
        after=snapshot(event),
        ip=ip,
    )
    return event


# Registrations ---------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(CODE_LENGTH))


def registration_create(
    *,
    event: Event,
    guardian_name: str,
    guardian_contact: str,
    children: int,
    age_group: str,
    honeypot: str = "",
) -> Registration:
    """A parent registers children for an event (no account); returns the registration with its
    check-in code. Raises :class:`ServiceError` (``full`` when not enough places are left)."""
    if honeypot:
        raise ServiceError(_("Your registration could not be sent."), code="spam")
    guardian_name = (guardian_name or "").strip()
    guardian_contact = (guardian_contact or "").strip()
    errors = []
    if not guardian_name:
        errors.append({"field": "guardian_name", "message": _("Please give your name.")})
    elif len(guardian_name) > MAX_NAME:
        errors.append({"field": "guardian_name", "message": _("The name is too long.")})
    if not guardian_contact:
        errors.append({"field": "guardian_contact", "message": _("Please give a phone number.")})
    elif len(guardian_contact) > MAX_CONTACT:
        errors.append({"field": "guardian_contact", "message": _("The contact is too long.")})
    try:
        children = int(children)
    except (TypeError, ValueError):
        children = 0
    if not 1 <= children <= MAX_CHILDREN:
        errors.append(
            {
                "field": "children",
                "message": _("Please register 1 to %(n)s children.") % {"n": MAX_CHILDREN},
            }
        )
    if age_group not in AgeGroup.values:
        errors.append({"field": "age_group", "message": _("Please choose the children's age.")})
    if errors:
        raise ServiceError(errors[0]["message"], details=errors)
    with transaction.atomic():
        # The row lock (and SQLite's IMMEDIATE write lock) makes count-then-insert one step.
        event = Event.objects.select_for_update().get(pk=event.pk)
        if not event.is_public or not event.registration_open:
            raise ServiceError(_("Registration for this event is closed."), code="closed")
        if event.starts_at <= timezone.now():
            raise ServiceError(_("This event has already started."), code="closed")
        left = event.capacity - places_taken(event)
        if children > left:
            if left <= 0:
                msg = _("Sorry, the event is full.")
            else:
                msg = _("Only %(n)s places are left.") % {"n": left}
            raise ServiceError(msg, code="full", details=[{"field": "children", "message": msg}])
        registration = _insert_with_fresh_code(
            event=event,
            guardian_name=guardian_name,
            guardian_contact=guardian_contact,
            children=children,
            age_group=age_group,
        )
        audit_record(
            actor=None,
            action=AuditLog.Action.CREATE,
            obj=registration,
            after=redacted_snapshot(registration),
            note="online registration",
            area_path=event.area.path,
        )
    return registration


def _insert_with_fresh_code(**fields: Any) -> Registration:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Registration.objects.create(code=_new_code(), **fields)
        except IntegrityError:
            continue
    raise ServiceError(_("Please try again."), code="conflict")


@transaction.atomic
def registration_cancel(*, event: Event, code: str) -> Registration:
    """A parent cancels with the check-in code; the places go back to the event."""
    registration = (
        Registration.objects.select_for_update()
        .filter(event=event, code=code_normalise(code))
        .first()
    )
    if registration is None:
        raise ServiceError(_("No registration for this event has this code."), code="not_found")
    if registration.status == Registration.Status.CHECKED_IN:
        raise ServiceError(_("This registration was already checked in."))
    if registration.status == Registration.Status.CANCELLED:
        raise ServiceError(_("This registration was already cancelled."))
    before = redacted_snapshot(registration)
    registration.status = Registration.Status.CANCELLED
    registration.save(update_fields=["status"])
    audit_record(
        actor=None,
        action=AuditLog.Action.UPDATE,
        obj=registration,
        before=before,
        after=redacted_snapshot(registration),
        note="cancelled by the family with the code",
        area_path=event.area.path,
    )
    return registration


@transaction.atomic
def registration_check_in(
    *, actor: User, event: Event, code: str, ip: str | None = None
) -> Registration:
    """Staff at the door: the code shown by a family marks its registration checked in."""
    require_area(actor, event.area)
    registration = (
        Registration.objects.select_for_update()
        .filter(event=event, code=code_normalise(code))
        .first()
    )
    if registration is None:
        raise ServiceError(_("No registration for this event has this code."), code="not_found")
    if registration.status == Registration.Status.CANCELLED:
        raise ServiceError(_("This registration was cancelled."))
    if registration.status == Registration.Status.CHECKED_IN:
        when = timezone.localtime(registration.checked_in_at).strftime("%H:%M")
        raise ServiceError(_("Already checked in at %(t)s.") % {"t": when}, code="duplicate")
    before = redacted_snapshot(registration)
    registration.status = Registration.Status.CHECKED_IN
    registration.checked_in_at = timezone.now()
    registration.save(update_fields=["status", "checked_in_at"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=registration,
        before=before,
        after=redacted_snapshot(registration),
        note="checked in",
        area_path=event.area.path,
        ip=ip,
    )
    return registration


@transaction.atomic
def walk_ins_add(*, actor: User, event: Event, count: int, ip: str | None = None) -> Event:
    """Count children who came without registering (a negative number corrects a miscount)."""
    require_area(actor, event.area)
    try:
        count = int(count)
    except (TypeError, ValueError):
        raise ServiceError(_("Please give a whole number of children.")) from None
    if count == 0 or abs(count) > 1000:
        raise ServiceError(_("Please give a number from 1 to 1000 (negative to correct)."))
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.walk_ins + count < 0:
        raise ServiceError(_("Walk-ins cannot go below zero."))
    before = event.walk_ins
    Event.objects.filter(pk=event.pk).update(walk_ins=F("walk_ins") + count)
    event.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=event,
        before={"walk_ins": before},
        after={"walk_ins": event.walk_ins},
        note="walk-ins counted",
        ip=ip,
    )
    return event


@transaction.atomic
def registration_reveal(
    *, actor: User, registration: Registration, ip: str | None = None
) -> dict[str, str]:
    """A family's name and contact in full for one staff member, recorded as a read."""
    event = registration.event
    require_area(actor, event.area)
    audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        obj=registration,
        after={"fields": ["guardian_name", "guardian_contact"]},
        note="event registration: guardian shown",
        area_path=event.area.path,
        ip=ip,
    )
    return {
        "guardian_name": registration.guardian_name,
        "guardian_contact": registration.guardian_contact,
    }


def audit_registration_list(
    *, actor: User, event: Event, count: int, ip: str | None = None
) -> None:
    audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        obj=event,
        after={"registrations": count, "masked": True},
        note="event registrations (masked)",
        ip=ip,
    )
