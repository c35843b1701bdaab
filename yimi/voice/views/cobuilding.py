"""Co-building pages (共建共享): the alliance, its service items and events.

Public (no account): /voice/alliance/ (members, totals, a map of service items), /voice/events/
and an event's page where a parent registers, gets a check-in code, and can cancel with it.
Staff: /voice/staff/alliance/ …, /voice/staff/events/ … (check-in, walk-ins, participation)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.http import client_ip
from yimi.core.models import Area
from yimi.core.services import ServiceError

from .. import ratelimit
from ..models import (
    AgeGroup,
    AllianceMember,
    Event,
    Registration,
)
from ..selectors import community as sel
from ..services import cobuilding
from .community_common import (
    SESSION_CODE,
    _area,
    _areas_for,
    _checked,
    _date,
    _datetime,
    _errors,
    _float,
    _form,
    _int,
    _local,
    _place,
    staff_view,
)
from .mailbox import _too_many


def alliance_public(request: HttpRequest) -> HttpResponse:
    data = sel.public_alliance()
    return render(
        request,
        "voice/alliance_public.html",
        {"data": data, "points": data["points"], "has_map": bool(data["points"])},
    )


def events_public(request: HttpRequest) -> HttpResponse:
    upcoming = list(sel.public_events(upcoming=True))
    past = list(sel.public_events(upcoming=False)[:12])
    for e in upcoming + past:
        e.left = sel.remaining(e)
        e.open_now = sel.registration_open_now(e)
    return render(request, "voice/event_list.html", {"upcoming": upcoming, "past": past})


def _event_ctx(event: Event, form=None, errors: dict | None = None, error_list=None) -> dict:
    event.left = sel.remaining(event)
    return {
        "event": event,
        "left": event.left,
        "open_now": sel.registration_open_now(event),
        "ended": event.ends_at < timezone.now(),
        "age_groups": AgeGroup.choices,
        "max_children": min(cobuilding.MAX_CHILDREN, max(event.left, 1)),
        "form": form or {},
        "errors": errors or {},
        "error_list": error_list or [],
    }


def event_public(request: HttpRequest, pk: int) -> HttpResponse:
    """An event's page: a parent registers children (no account) and gets a check-in code."""
    event = sel.public_event_get(pk)
    if request.method == "POST":
        if not ratelimit.hit(request, "register"):
            return _too_many(
                request, _("Many registrations were sent just now. Please wait ten minutes.")
            )
        data = request.POST
        try:
            registration = cobuilding.registration_create(
                event=event,
                guardian_name=data.get("guardian_name", ""),
                guardian_contact=data.get("guardian_contact", ""),
                children=_int(data.get("children"), 0),
                age_group=data.get("age_group", ""),
                honeypot=data.get("website", ""),
            )
        except ServiceError as exc:
            err = _errors(exc)
            event = sel.public_event_get(pk)
            ctx = _event_ctx(event, data, err["errors"], err["error_list"])
            return render(request, "voice/event_detail.html", ctx, status=400)
        request.session[SESSION_CODE] = [event.pk, registration.code]
        return redirect("voice:event-registered", pk=event.pk)
    return render(request, "voice/event_detail.html", _event_ctx(event))


def event_registered(request: HttpRequest, pk: int) -> HttpResponse:
    """The check-in code, shown once after registering (to show at the door or to cancel)."""
    event = sel.public_event_get(pk)
    saved = request.session.get(SESSION_CODE)
    if not saved or saved[0] != event.pk:
        return redirect("voice:event", pk=event.pk)
    registration = Registration.objects.filter(event=event, code=saved[1]).first()
    if registration is None:
        return redirect("voice:event", pk=event.pk)
    return render(
        request,
        "voice/event_registered.html",
        {
            "event": event,
            "code": cobuilding.code_display(registration.code),
            "children": registration.children,
            "status": registration.status,
        },
    )


def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a registration with its check-in code (no account)."""
    event = sel.public_event_get(pk)
    message, error, status = "", "", 200
    if request.method == "POST":
        if not ratelimit.hit(request, "lookup"):
            return _too_many(
                request, _("Too many requests. Please wait ten minutes and try again.")
            )
        try:
            cobuilding.registration_cancel(event=event, code=request.POST.get("code", ""))
            message = _("Your registration is cancelled. The places are free for others.")
            request.session.pop(SESSION_CODE, None)
        except ServiceError as exc:
            error, status = exc.message, 400
    return render(
        request,
        "voice/event_cancel.html",
        {"event": event, "message": message, "error": error},
        status=status,
    )


# Staff: observer groups ------------------------------------------------------------------------


def _alliance_fields(user, data, *, with_area: bool) -> list[dict]:
    fields = []
    if with_area:
        fields.append(
            {
                "name": "area",
                "label": _("Area"),
                "type": "select",
                "choices": [(a.pk, a.name) for a in _areas_for(user)],
                "value": data.get("area", user.area_id or ""),
                "required": True,
            }
        )
    fields += [
        {
            "name": "name",
            "label": _("Organisation"),
            "value": data.get("name", ""),
            "required": True,
        },
        {
            "name": "kind",
            "label": _("Kind"),
            "type": "select",
            "choices": AllianceMember.Kind.choices,
            "value": data.get("kind", ""),
            "required": True,
        },
        {
            "name": "joined_on",
            "label": _("Joined on"),
            "type": "date",
            "value": data.get("joined_on", timezone.localdate().isoformat()),
            "required": True,
        },
        {
            "name": "open_space_m2",
            "label": _("Space opened to children (m²)"),
            "type": "number",
            "min": 0,
            "value": data.get("open_space_m2", 0),
        },
        {
            "name": "contact",
            "label": _("Organisation contact (public)"),
            "value": data.get("contact", ""),
            "help": _("The organisation's public phone or desk, not a private person's."),
        },
        {
            "name": "description",
            "label": _("Description"),
            "type": "textarea",
            "value": data.get("description", ""),
        },
    ]
    return fields


@staff_view
def staff_alliance(request: HttpRequest) -> HttpResponse:
    members = list(sel.alliance_for(request.user).order_by("name"))
    active = [m for m in members if m.is_active]
    totals = {
        "members": len(active),
        "open_space_m2": sum(m.open_space_m2 for m in active),
        "service_items": sum(m.n_services for m in active),
    }
    return render(request, "voice/alliance_staff_list.html", {"members": members, "totals": totals})


@staff_view
def staff_alliance_new(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else {}
    fields = _alliance_fields(request.user, data, with_area=True)
    back = reverse("voice:staff-alliance")
    title = _("New alliance member")
    if request.method == "POST":
        try:
            area = _area(request.user, data.get("area"))
            if area is None:
                raise ServiceError(_("Please choose an area of yours."))
            member = cobuilding.alliance_member_create(
                actor=request.user,
                area=area,
                name=data.get("name", ""),
                kind=data.get("kind", ""),
                joined_on=_date(data.get("joined_on")),
                open_space_m2=_int(data.get("open_space_m2"), -1),
                contact=data.get("contact", ""),
                description=data.get("description", ""),
                ip=client_ip(request),
            )
        except ServiceError as exc:
            return _form(request, title=title, fields=fields, back=back, status=400, **_errors(exc))
        return redirect("voice:staff-alliance-member", pk=member.pk)
    return _form(request, title=title, fields=fields, back=back)


@staff_view
def staff_alliance_member(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a member (POST) and list its service items."""
    member = sel.alliance_member_get(request.user, pk)
    data = (
        request.POST
        if request.method == "POST"
        else {
            "name": member.name,
            "kind": member.kind,
            "joined_on": member.joined_on.isoformat(),
            "open_space_m2": member.open_space_m2,
            "contact": member.contact,
            "description": member.description,
            "is_active": "1" if member.is_active else "",
        }
    )
    fields = [
        *_alliance_fields(request.user, data, with_area=False),
        {
            "name": "is_active",
            "label": _("Active"),
            "type": "checkbox",
            "value": _checked(data, "is_active"),
        },
    ]
    ctx = {"member": member, "services": member.services.select_related("place"), "fields": fields}
    status = 200
    if request.method == "POST":
        try:
            cobuilding.alliance_member_update(
                actor=request.user,
                member=member,
                name=data.get("name", ""),
                kind=data.get("kind", ""),
                joined_on=_date(data.get("joined_on")),
                open_space_m2=_int(data.get("open_space_m2"), -1),
                contact=data.get("contact", ""),
                description=data.get("description", ""),
                is_active=_checked(data, "is_active"),
                ip=client_ip(request),
            )
            return redirect("voice:staff-alliance-member", pk=member.pk)
        except ServiceError as exc:
            ctx.update(_errors(exc))
            status = 400
    ctx.setdefault("errors", {})
    return render(request, "voice/alliance_staff_member.html", ctx, status=status)


def _service_fields(member, data, place_list) -> list[dict]:
    return [
        {"name": "title", "label": _("Service"), "value": data.get("title", ""), "required": True},
        {
            "name": "description",
            "label": _("Description"),
            "type": "textarea",
            "value": data.get("description", ""),
        },
        {
            "name": "age_from",
            "label": _("From age"),
            "type": "number",
            "min": 0,
            "max": 18,
            "value": data.get("age_from", 0),
        },
        {
            "name": "age_to",
            "label": _("To age"),
            "type": "number",
            "min": 0,
            "max": 18,
            "value": data.get("age_to", 18),
        },
        {
            "name": "is_free",
            "label": _("Free of charge"),
            "type": "checkbox",
            "value": _checked(data, "is_free"),
        },
        {
            "name": "schedule",
            "label": _("When"),
            "value": data.get("schedule", ""),
            "help": _("e.g. 每周六 9:00–11:00"),
        },
        {
            "name": "place",
            "label": _("Place on the map"),
            "type": "select",
            "choices": [(p.pk, p.name) for p in place_list],
            "value": data.get("place", ""),
            "empty": _("— pick a point on the map below instead —"),
        },
        {
            "name": "point",
            "label": _("Or a point on the map"),
            "type": "point",
            "lon": data.get("lon", ""),
            "lat": data.get("lat", ""),
            "help": _("Tap the map to set the point (used when no place is chosen)."),
        },
    ]


def _service_kwargs(request) -> dict:
    data = request.POST
    return {
        "actor": request.user,
        "title": data.get("title", ""),
        "description": data.get("description", ""),
        "place": _place(data.get("place")),
        "lon": _float(data.get("lon")),
        "lat": _float(data.get("lat")),
        "age_from": _int(data.get("age_from"), -1),
        "age_to": _int(data.get("age_to"), -1),
        "is_free": _checked(data, "is_free"),
        "schedule": data.get("schedule", ""),
        "ip": client_ip(request),
    }


def _map_extent(area: Area) -> list[float] | None:
    """The area's boundary box (min lon, min lat, max lon, max lat), or None without one."""
    if not (area.boundary or {}).get("coordinates"):
        return None
    from shapely.geometry import shape  # only the pages with a map need it

    return list(shape(area.boundary).bounds)


@staff_view
def staff_service_new(request: HttpRequest, pk: int) -> HttpResponse:
    member = sel.alliance_member_get(request.user, pk)
    places = sel.place_choices(member.area)
    data = request.POST if request.method == "POST" else {"is_free": "1"}
    back = reverse("voice:staff-alliance-member", args=[member.pk])
    title = _("New service of %(name)s") % {"name": member.name}
    extra = {"extent": _map_extent(member.area), "has_map": True}
    if request.method == "POST":
        try:
            cobuilding.service_item_create(member=member, **_service_kwargs(request))
        except ServiceError as exc:
            fields = _service_fields(member, data, places)
            return _form(
                request, title=title, fields=fields, back=back, status=400, **extra, **_errors(exc)
            )
        return redirect(back)
    return _form(
        request, title=title, fields=_service_fields(member, data, places), back=back, **extra
    )


@staff_view
def staff_service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = sel.service_item_get(request.user, pk)
    member = item.member
    places = sel.place_choices(member.area)
    if item.place and item.place not in places:
        places.insert(0, item.place)
    back = reverse("voice:staff-alliance-member", args=[member.pk])
    title = _("Edit %(name)s") % {"name": item.title}
    extra = {"extent": _map_extent(member.area), "has_map": True}
    if request.method == "POST":
        data = request.POST
        try:
            cobuilding.service_item_update(
                item=item, is_active=_checked(data, "is_active"), **_service_kwargs(request)
            )
        except ServiceError as exc:
            fields = _service_fields(member, data, places)
            return _form(
                request, title=title, fields=fields, back=back, status=400, **extra, **_errors(exc)
            )
        return redirect(back)
    data = {
        "title": item.title,
        "description": item.description,
        "age_from": item.age_from,
        "age_to": item.age_to,
        "is_free": "1" if item.is_free else "",
        "schedule": item.schedule,
        "place": item.place_id or "",
        "lon": item.lon if item.lon is not None else "",
        "lat": item.lat if item.lat is not None else "",
    }
    fields = _service_fields(member, data, places) + [
        {"name": "is_active", "label": _("Active"), "type": "checkbox", "value": item.is_active}
    ]
    return _form(request, title=title, fields=fields, back=back, **extra)


# Staff: events ---------------------------------------------------------------------------------


def _event_fields(user, data, *, with_area: bool, place_list, organisers) -> list[dict]:
    fields = []
    if with_area:
        fields.append(
            {
                "name": "area",
                "label": _("Area"),
                "type": "select",
                "choices": [(a.pk, a.name) for a in _areas_for(user)],
                "value": data.get("area", user.area_id or ""),
                "required": True,
            }
        )
    fields += [
        {"name": "title", "label": _("Title"), "value": data.get("title", ""), "required": True},
        {
            "name": "kind",
            "label": _("Kind"),
            "type": "select",
            "choices": Event.Kind.choices,
            "value": data.get("kind", Event.Kind.FRIENDLY_DAY),
            "required": True,
        },
        {
            "name": "organiser",
            "label": _("Organiser"),
            "type": "select",
            "choices": [(m.pk, m.name) for m in organisers],
            "value": data.get("organiser", ""),
            "empty": _("— none —"),
        },
        {
            "name": "place",
            "label": _("Place"),
            "type": "select",
            "choices": [(p.pk, p.name) for p in place_list],
            "value": data.get("place", ""),
            "empty": _("— no place on the map —"),
        },
        {
            "name": "starts_at",
            "label": _("Starts"),
            "type": "datetime-local",
            "value": data.get("starts_at", ""),
            "required": True,
        },
        {
            "name": "ends_at",
            "label": _("Ends"),
            "type": "datetime-local",
            "value": data.get("ends_at", ""),
            "required": True,
        },
        {
            "name": "capacity",
            "label": _("Capacity (children)"),
            "type": "number",
            "min": 1,
            "value": data.get("capacity", 30),
            "required": True,
        },
        {
            "name": "description",
            "label": _("Description"),
            "type": "textarea",
            "value": data.get("description", ""),
        },
        {
            "name": "registration_open",
            "label": _("Registration open"),
            "type": "checkbox",
            "value": _checked(data, "registration_open"),
        },
        {
            "name": "is_public",
            "label": _("Public"),
            "type": "checkbox",
            "value": _checked(data, "is_public"),
        },
    ]
    return fields


def _event_kwargs(request) -> dict:
    data = request.POST
    organiser = None
    if (data.get("organiser") or "").isdigit():
        organiser = sel.alliance_for(request.user).filter(pk=data["organiser"]).first()
    return {
        "actor": request.user,
        "title": data.get("title", ""),
        "kind": data.get("kind", ""),
        "organiser": organiser,
        "place": _place(data.get("place")),
        "starts_at": _datetime(data.get("starts_at")),
        "ends_at": _datetime(data.get("ends_at")),
        "capacity": _int(data.get("capacity"), 0),
        "description": data.get("description", ""),
        "registration_open": _checked(data, "registration_open"),
        "is_public": _checked(data, "is_public"),
        "ip": client_ip(request),
    }


@staff_view
def staff_events(request: HttpRequest) -> HttpResponse:
    events = list(sel.events_for(request.user).order_by("-starts_at"))
    for e in events:
        e.counts = sel.participation(e)
    return render(
        request,
        "voice/event_staff_list.html",
        {"events": events, "totals": sel.participation(events)},
    )


@staff_view
def staff_event_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = (
        request.POST if request.method == "POST" else {"registration_open": "1", "is_public": "1"}
    )
    area_hint = user.area or Area.objects.order_by("path").first()
    places = sel.place_choices(area_hint) if area_hint else []
    organisers = list(sel.alliance_for(user).filter(is_active=True).order_by("name"))
    fields = _event_fields(user, data, with_area=True, place_list=places, organisers=organisers)
    back = reverse("voice:staff-events")
    title = _("New event")
    if request.method == "POST":
        try:
            area = _area(user, data.get("area"))
            if area is None:
                raise ServiceError(_("Please choose an area of yours."))
            event = cobuilding.event_create(area=area, **_event_kwargs(request))
        except ServiceError as exc:
            return _form(request, title=title, fields=fields, back=back, status=400, **_errors(exc))
        return redirect("voice:staff-event", pk=event.pk)
    return _form(request, title=title, fields=fields, back=back)


@staff_view
def staff_event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = sel.event_get(request.user, pk)
    places = sel.place_choices(event.area)
    if event.place and event.place not in places:
        places.insert(0, event.place)
    organisers = list(sel.alliance_for(request.user).filter(is_active=True).order_by("name"))
    back = reverse("voice:staff-event", args=[event.pk])
    title = _("Edit %(name)s") % {"name": event.title}
    if request.method == "POST":
        try:
            cobuilding.event_update(event=event, **_event_kwargs(request))
        except ServiceError as exc:
            fields = _event_fields(
                request.user,
                request.POST,
                with_area=False,
                place_list=places,
                organisers=organisers,
            )
            return _form(request, title=title, fields=fields, back=back, status=400, **_errors(exc))
        return redirect(back)
    data = {
        "title": event.title,
        "kind": event.kind,
        "organiser": event.organiser_id or "",
        "place": event.place_id or "",
        "starts_at": _local(event.starts_at),
        "ends_at": _local(event.ends_at),
        "capacity": event.capacity,
        "description": event.description,
        "registration_open": "1" if event.registration_open else "",
        "is_public": "1" if event.is_public else "",
    }
    fields = _event_fields(
        request.user, data, with_area=False, place_list=places, organisers=organisers
    )
    return _form(request, title=title, fields=fields, back=back)


@staff_view
def staff_event(request: HttpRequest, pk: int) -> HttpResponse:
    """The check-in desk: enter (or scan) a code, count walk-ins, see the registrations (masked)
    and the participation counts; POST ``reveal`` shows one family's contact (audited)."""
    event = sel.event_get(request.user, pk)
    message, error, revealed = "", "", None
    status = 200
    if request.method == "POST":
        data = request.POST
        try:
            if "code" in data:
                reg = cobuilding.registration_check_in(
                    actor=request.user,
                    event=event,
                    code=data.get("code", ""),
                    ip=client_ip(request),
                )
                message = _("Checked in: %(n)s children (%(age)s).") % {
                    "n": reg.children,
                    "age": reg.get_age_group_display(),
                }
            elif "walk_ins" in data:
                cobuilding.walk_ins_add(
                    actor=request.user,
                    event=event,
                    count=_int(data.get("walk_ins"), 0),
                    ip=client_ip(request),
                )
                message = _("Walk-ins counted.")
            elif "reveal" in data:
                reg = sel.registration_get(request.user, event, _int(data.get("reveal"), 0))
                revealed = {"pk": reg.pk} | cobuilding.registration_reveal(
                    actor=request.user, registration=reg, ip=client_ip(request)
                )
        except ServiceError as exc:
            error, status = exc.message, 400
        event = sel.event_get(request.user, pk)
    rows = sel.registration_rows(event)
    cobuilding.audit_registration_list(
        actor=request.user, event=event, count=len(rows), ip=client_ip(request)
    )
    response = render(
        request,
        "voice/event_staff_detail.html",
        {
            "event": event,
            "rows": rows,
            "counts": sel.participation(event),
            "left": sel.remaining(event),
            "message": message,
            "error": error,
            "revealed": revealed,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("alliance/", alliance_public, name="alliance"),
    path("events/", events_public, name="events"),
    path("events/<int:pk>/", event_public, name="event"),
    path("events/<int:pk>/registered/", event_registered, name="event-registered"),
    path("events/<int:pk>/cancel/", event_cancel, name="event-cancel"),
    path("staff/alliance/", staff_alliance, name="staff-alliance"),
    path("staff/alliance/new/", staff_alliance_new, name="staff-alliance-new"),
    path("staff/alliance/<int:pk>/", staff_alliance_member, name="staff-alliance-member"),
    path("staff/alliance/<int:pk>/services/new/", staff_service_new, name="staff-service-new"),
    path("staff/services/<int:pk>/", staff_service_edit, name="staff-service-edit"),
    path("staff/events/", staff_events, name="staff-events"),
    path("staff/events/new/", staff_event_new, name="staff-event-new"),
    path("staff/events/<int:pk>/", staff_event, name="staff-event"),
    path("staff/events/<int:pk>/edit/", staff_event_edit, name="staff-event-edit"),
]
