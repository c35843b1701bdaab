"""Voice API: co-building. Public events with the places left, a parent's registration (no
account, rate-limited), and the alliance with its service items. Nothing personal is answered:
a registration returns only its check-in code."""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from yimi.core.services import ServiceError

from . import ratelimit
from .models import AgeGroup
from .selectors import community as sel
from .services import cobuilding

router = Router(tags=["voice"])


class EventOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str
    organiser: str
    area: str
    place_id: int | None
    place: str
    lon: float | None
    lat: float | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    places_left: int
    registration_open: bool
    description: str


class RegistrationIn(Schema):
    guardian_name: str = Field(description="A parent's or guardian's name (kept encrypted)")
    guardian_contact: str = Field(description="A phone number (kept encrypted)")
    children: int = Field(1, description="How many children (1–10, at most the places left)")
    age_group: str = Field(description=" / ".join(AgeGroup.values))
    website: str = Field("", description="Leave empty (a field only bots fill in)")


class RegistrationOut(Schema):
    check_in_code: str = Field(description="Shown at the door; also cancels the registration")
    event_id: int
    children: int


class ServiceItemOut(Schema):
    id: int
    title: str
    description: str
    member_id: int
    member: str
    place_id: int | None
    place: str
    lon: float | None
    lat: float | None
    age_from: int
    age_to: int
    is_free: bool
    schedule: str


class AllianceMemberOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    area: str
    joined_on: date
    open_space_m2: int
    contact: str = Field(description="The organisation's public contact")
    description: str
    services: list[ServiceItemOut]


class AllianceTotals(Schema):
    members: int
    open_space_m2: int
    service_items: int


class AllianceOut(Schema):
    totals: AllianceTotals
    members: list[AllianceMemberOut]


def _event_out(e) -> dict:
    return {
        "id": e.pk,
        "title": e.title,
        "kind": e.kind,
        "kind_label": e.get_kind_display(),
        "organiser": e.organiser.name if e.organiser else "",
        "area": e.area.name,
        "place_id": e.place_id,
        "place": e.place.name if e.place else "",
        "lon": e.place.lon if e.place else None,
        "lat": e.place.lat if e.place else None,
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "capacity": e.capacity,
        "places_left": sel.remaining(e),
        "registration_open": sel.registration_open_now(e),
        "description": e.description,
    }


@router.get(
    "/events",
    response=list[EventOut],
    summary="Upcoming co-building events (儿童友好日 …) with the places left",
)
def events_list(request: HttpRequest):
    return [_event_out(e) for e in sel.public_events(upcoming=True)]


@router.post(
    "/events/{event_id}/registrations",
    response={201: RegistrationOut},
    summary="Register children for an event (no account; returns the check-in code only)",
)
def registration_create(request: HttpRequest, event_id: int, data: RegistrationIn):
    if not ratelimit.hit(request, "register"):
        raise HttpError(429, _("Too many requests. Please wait ten minutes and try again."))
    try:
        event = sel.public_event_get(event_id)
    except Http404:
        raise HttpError(404, _("No such event.")) from None
    try:
        registration = cobuilding.registration_create(
            event=event,
            guardian_name=data.guardian_name,
            guardian_contact=data.guardian_contact,
            children=data.children,
            age_group=data.age_group,
            honeypot=data.website,
        )
    except ServiceError as exc:
        raise HttpError(409 if exc.code in ("full", "closed") else 400, exc.message) from None
    return Status(
        201,
        {
            "check_in_code": cobuilding.code_display(registration.code),
            "event_id": event.pk,
            "children": registration.children,
        },
    )


@router.get(
    "/alliance",
    response=AllianceOut,
    summary="The co-building alliance: member organisations, service items, totals",
)
def alliance(request: HttpRequest):
    data = sel.public_alliance()
    return {"totals": data["totals"], "members": data["members"]}
