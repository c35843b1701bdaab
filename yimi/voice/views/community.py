"""Observer groups and co-building pages.

Public (no account): /voice/groups/ (groups and their activities' outcomes, no member named),
/voice/alliance/ (members, totals, a map of service items), /voice/events/ and an event's page
where a parent registers, gets a check-in code, and can cancel with it.

Staff (the area's 妇儿工委办, supervisors, directors): /voice/staff/groups/ …, /voice/staff/alliance/
…, /voice/staff/events/ … — lists scoped to their area (another area's objects answer 404),
names masked, full names only through an audited POST."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.http import client_ip
from yimi.core.models import Area
from yimi.core.services import ServiceError
from yimi.places.models import Place

from .. import ratelimit
from ..models import (
    Activity,
    AgeGroup,
    AllianceMember,
    Event,
    GroupMember,
    Registration,
    Topic,
)
from ..selectors import community as sel
from ..services import cobuilding, groups
from ..services.groups import COMMUNITY_ROLES

SESSION_CODE = "voice_event_code"


# Helpers ---------------------------------------------------------------------------------------


def _community_staff(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_superuser or getattr(user, "role", None) in COMMUNITY_ROLES):
        raise DjangoPermissionDenied(
            _("Only the 妇儿工委办, supervisors and directors run observer groups and co-building.")
        )


def staff_view(fn: Callable) -> Callable:
    @login_required
    def wrapped(request, *args, **kwargs):
        _community_staff(request)
        return fn(request, *args, **kwargs)

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _datetime(value: str | None) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _float(value: str | None) -> float | None:
    try:
        return float(value) if (value or "").strip() else None
    except ValueError:
        return None


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def _place(value: str | None) -> Place | None:
    if not value or not str(value).isdigit():
        return None
    return Place.objects.exclude(verification=Place.Verification.RETIRED).filter(pk=value).first()


def _checked(data, name: str) -> bool:
    return data.get(name) in ("1", "on", "true")


def _areas_for(user) -> list[Area]:
    qs = Area.objects.all()
    if not (user.is_superuser or user.role == "admin"):
        qs = qs.filter(path__startswith=user.area.path) if user.area_id else qs.none()
    return list(qs.order_by("path"))


def _area(user, value: str | None) -> Area | None:
    areas = {str(a.pk): a for a in _areas_for(user)}
    return areas.get(str(value or ""))


def _errors(exc: ServiceError) -> dict:
    details = exc.details or [{"field": "", "message": exc.message}]
    return {
        "errors": {d["field"]: d["message"] for d in details if d.get("field")},
        "error_list": [d["message"] for d in details],
    }


def _form(request, *, title: str, fields: list[dict], back: str, status: int = 200, **extra):
    ctx = {"title": title, "fields": fields, "back": back, "errors": {}, "error_list": []}
    ctx.update(extra)
    return render(request, "voice/group_form.html", ctx, status=status)


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


# Public pages ----------------------------------------------------------------------------------


def groups_public(request: HttpRequest) -> HttpResponse:
    """The observer groups and what came of their activities; members only counted."""
    return render(request, "voice/group_public.html", {"groups": sel.public_groups()})


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
            return render(
                request,
                "voice/too_many.html",
                {"message": _("Many registrations were sent just now. Please wait ten minutes.")},
                status=429,
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
            return render(
                request,
                "voice/too_many.html",
                {"message": _("Too many requests. Please wait ten minutes and try again.")},
                status=429,
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


def _group_fields(data, errors=None) -> list[dict]:
    return [
        {"name": "name", "label": _("Name"), "value": data.get("name", ""), "required": True},
        {
            "name": "description",
            "label": _("Description"),
            "type": "textarea",
            "value": data.get("description", ""),
        },
        {
            "name": "terms",
            "label": _("Terms (章程)"),
            "type": "textarea",
            "rows": 8,
            "value": data.get("terms", ""),
            "help": _("Guardians consent to these terms; changed terms need a new version."),
        },
        {
            "name": "terms_version",
            "label": _("Terms version"),
            "value": data.get("terms_version", "1"),
            "required": True,
        },
        {
            "name": "term_months",
            "label": _("Term of membership (months)"),
            "type": "number",
            "value": data.get("term_months", 12),
            "min": 1,
            "max": 60,
            "required": True,
        },
    ]


@staff_view
def staff_groups(request: HttpRequest) -> HttpResponse:
    items = list(sel.groups_for(request.user).order_by("name"))
    return render(request, "voice/group_staff_list.html", {"groups": items})


@staff_view
def staff_group_new(request: HttpRequest) -> HttpResponse:
    areas = _areas_for(request.user)
    data = request.POST if request.method == "POST" else {}
    area_field = {
        "name": "area",
        "label": _("Area"),
        "type": "select",
        "choices": [(a.pk, a.name) for a in areas],
        "value": data.get("area", request.user.area_id or ""),
        "required": True,
    }
    fields = [area_field, *_group_fields(data)]
    if request.method == "POST":
        try:
            area = _area(request.user, data.get("area"))
            if area is None:
                raise ServiceError(_("Please choose an area of yours."))
            group = groups.group_create(
                actor=request.user,
                name=data.get("name", ""),
                area=area,
                description=data.get("description", ""),
                terms=data.get("terms", ""),
                terms_version=data.get("terms_version", ""),
                term_months=_int(data.get("term_months"), 0),
                ip=client_ip(request),
            )
        except ServiceError as exc:
            return _form(
                request,
                title=_("New observer group"),
                fields=fields,
                back=reverse("voice:staff-groups"),
                status=400,
                **_errors(exc),
            )
        return redirect("voice:staff-group", pk=group.pk)
    return _form(
        request, title=_("New observer group"), fields=fields, back=reverse("voice:staff-groups")
    )


@staff_view
def staff_group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = sel.group_get(request.user, pk)
    data = (
        request.POST
        if request.method == "POST"
        else {
            "name": group.name,
            "description": group.description,
            "terms": group.terms,
            "terms_version": group.terms_version,
            "term_months": group.term_months,
            "is_active": "1" if group.is_active else "",
        }
    )
    fields = [
        *_group_fields(data),
        {
            "name": "is_active",
            "label": _("Active"),
            "type": "checkbox",
            "value": _checked(data, "is_active"),
        },
    ]
    back = reverse("voice:staff-group", args=[group.pk])
    title = _("Edit %(name)s") % {"name": group.name}
    if request.method == "POST":
        try:
            groups.group_update(
                actor=request.user,
                group=group,
                name=data.get("name", ""),
                description=data.get("description", ""),
                terms=data.get("terms", ""),
                terms_version=data.get("terms_version", ""),
                term_months=_int(data.get("term_months"), 0),
                is_active=_checked(data, "is_active"),
                ip=client_ip(request),
            )
        except ServiceError as exc:
            return _form(request, title=title, fields=fields, back=back, status=400, **_errors(exc))
        return redirect(back)
    return _form(request, title=title, fields=fields, back=back)


@staff_view
def staff_group(request: HttpRequest, pk: int) -> HttpResponse:
    group = sel.group_get(request.user, pk)
    rows = sel.member_rows(group)
    groups.audit_member_list(
        actor=request.user, group=group, count=len(rows), ip=client_ip(request)
    )
    activities = group.activities.select_related("place").order_by("-held_on", "-id")
    return render(
        request,
        "voice/group_staff_detail.html",
        {"group": group, "members": rows, "activities": activities},
    )


@staff_view
def staff_members_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The member list as CSV, masked like the page (never the full names), audited."""
    group = sel.group_get(request.user, pk)
    rows = sel.member_rows(group)
    groups.audit_member_list(
        actor=request.user, group=group, count=len(rows), export=True, ip=client_ip(request)
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="observer-group-{group.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("No."),
            _("Name"),
            _("Age group"),
            _("Guardian"),
            _("Guardian contact"),
            _("Consented on"),
            _("Terms version"),
            _("Term starts"),
            _("Term ends"),
            _("Status"),
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.pk,
                r.name,
                r.age_group,
                r.guardian_name,
                r.guardian_contact,
                r.consent_on,
                r.terms_version,
                r.term_start,
                r.term_end,
                _("Term ended") if r.expired else r.status_label,
            ]
        )
    return response


@staff_view
def staff_member_new(request: HttpRequest, pk: int) -> HttpResponse:
    group = sel.group_get(request.user, pk)
    data = request.POST if request.method == "POST" else {}
    today = timezone.localdate().isoformat()
    fields = [
        {
            "name": "name",
            "label": _("Child's name"),
            "value": data.get("name", ""),
            "required": True,
        },
        {
            "name": "age_group",
            "label": _("Age group"),
            "type": "select",
            "choices": AgeGroup.choices,
            "value": data.get("age_group", ""),
            "required": True,
        },
        {
            "name": "guardian_name",
            "label": _("Guardian's name"),
            "value": data.get("guardian_name", ""),
            "required": True,
        },
        {
            "name": "guardian_contact",
            "label": _("Guardian's contact"),
            "type": "tel",
            "value": data.get("guardian_contact", ""),
            "required": True,
        },
        {
            "name": "guardian_consent",
            "label": _("The guardian has read and consented to the terms (version %(v)s)")
            % {"v": group.terms_version},
            "type": "checkbox",
            "value": _checked(data, "guardian_consent"),
        },
        {
            "name": "consent_on",
            "label": _("Date of consent"),
            "type": "date",
            "value": data.get("consent_on", today),
            "required": True,
        },
        {
            "name": "terms_version",
            "label": _("Terms version consented to"),
            "value": data.get("terms_version", group.terms_version),
            "required": True,
        },
        {
            "name": "term_start",
            "label": _("Term starts"),
            "type": "date",
            "value": data.get("term_start", today),
            "help": _("The term ends %(n)s months later.") % {"n": group.term_months},
        },
    ]
    back = reverse("voice:staff-group", args=[group.pk])
    title = _("New member of %(name)s") % {"name": group.name}
    if request.method == "POST":
        try:
            groups.member_add(
                actor=request.user,
                group=group,
                name=data.get("name", ""),
                age_group=data.get("age_group", ""),
                guardian_name=data.get("guardian_name", ""),
                guardian_contact=data.get("guardian_contact", ""),
                guardian_consent=_checked(data, "guardian_consent"),
                consent_on=_date(data.get("consent_on")),
                terms_version=data.get("terms_version", ""),
                term_start=_date(data.get("term_start")),
                ip=client_ip(request),
            )
        except ServiceError as exc:
            return _form(
                request,
                title=title,
                fields=fields,
                back=back,
                status=400,
                terms=group.terms,
                **_errors(exc),
            )
        return redirect(back)
    return _form(request, title=title, fields=fields, back=back, terms=group.terms)


@staff_view
def staff_member(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    """One member, masked; POST ``reveal`` shows the full name and guardian (audited), POST
    ``end`` ends the membership."""
    group = sel.group_get(request.user, pk)
    member = sel.member_get(request.user, group, mid)
    revealed, error = None, ""
    if request.method == "POST":
        try:
            if "reveal" in request.POST:
                revealed = groups.member_reveal(
                    actor=request.user, member=member, ip=client_ip(request)
                )
            elif "end" in request.POST:
                groups.member_end(
                    actor=request.user,
                    member=member,
                    ended_on=_date(request.POST.get("ended_on")),
                    reason=request.POST.get("reason", ""),
                    ip=client_ip(request),
                )
                return redirect("voice:staff-member", pk=group.pk, mid=member.pk)
            elif "renew" in request.POST:
                groups.member_renew(
                    actor=request.user,
                    member=member,
                    guardian_consent=_checked(request.POST, "guardian_consent"),
                    consent_on=_date(request.POST.get("consent_on")),
                    terms_version=request.POST.get("terms_version", ""),
                    ip=client_ip(request),
                )
                return redirect("voice:staff-member", pk=group.pk, mid=member.pk)
        except ServiceError as exc:
            error = exc.message
    row = next(r for r in sel.member_rows(group) if r.pk == member.pk)
    response = render(
        request,
        "voice/group_member.html",
        {
            "group": group,
            "m": row,
            "revealed": revealed,
            "error": error,
            "activities": member.activities.order_by("-held_on"),
            "today": timezone.localdate().isoformat(),
        },
        status=400 if error else 200,
    )
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


def _activity_fields(group, data, place_list) -> list[dict]:
    chosen = (
        {int(v) for v in data.getlist("attendees")}
        if hasattr(data, "getlist")
        else set(data.get("attendees", []))
    )
    return [
        {
            "name": "kind",
            "label": _("Kind"),
            "type": "select",
            "choices": Activity.Kind.choices,
            "value": data.get("kind", ""),
            "required": True,
        },
        {"name": "title", "label": _("Title"), "value": data.get("title", ""), "required": True},
        {
            "name": "held_on",
            "label": _("Date"),
            "type": "date",
            "value": data.get("held_on", timezone.localdate().isoformat()),
            "required": True,
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
            "name": "attendees",
            "label": _("Attending members"),
            "type": "checkboxes",
            "choices": [
                (pk, f"{label} ({age})")
                for pk, label, age in sel.member_choices(group, include=chosen)
            ],
            "value": chosen,
        },
        {
            "name": "accompanying_adults",
            "label": _("Accompanying adults"),
            "type": "textarea",
            "rows": 2,
            "value": data.get("accompanying_adults", ""),
            "help": _("Roles and organisations, e.g. 社区儿童主任 1 人、社工 2 人."),
        },
        {
            "name": "minutes",
            "label": _("Minutes"),
            "type": "textarea",
            "rows": 6,
            "value": data.get("minutes", ""),
        },
        {
            "name": "outcomes",
            "label": _("Outcomes (public)"),
            "type": "textarea",
            "rows": 4,
            "value": data.get("outcomes", ""),
            "help": _("Shown on the public page: do not name children."),
        },
    ]


def _activity_save(request, group, activity=None):
    data = request.POST
    ids = {int(v) for v in data.getlist("attendees") if v.isdigit()}
    attendees = list(GroupMember.objects.filter(group=group, pk__in=ids))
    kwargs = {
        "actor": request.user,
        "kind": data.get("kind", ""),
        "title": data.get("title", ""),
        "held_on": _date(data.get("held_on")),
        "place": _place(data.get("place")),
        "minutes": data.get("minutes", ""),
        "accompanying_adults": data.get("accompanying_adults", ""),
        "outcomes": data.get("outcomes", ""),
        "attendees": attendees,
        "ip": client_ip(request),
    }
    if activity is None:
        return groups.activity_create(group=group, **kwargs)
    return groups.activity_update(activity=activity, **kwargs)


@staff_view
def staff_activity_new(request: HttpRequest, pk: int) -> HttpResponse:
    group = sel.group_get(request.user, pk)
    places = sel.place_choices(group.area)
    data = request.POST if request.method == "POST" else {}
    back = reverse("voice:staff-group", args=[group.pk])
    title = _("New activity of %(name)s") % {"name": group.name}
    if request.method == "POST":
        try:
            activity = _activity_save(request, group)
        except ServiceError as exc:
            fields = _activity_fields(group, data, places)
            return _form(request, title=title, fields=fields, back=back, status=400, **_errors(exc))
        return redirect("voice:staff-activity", pk=group.pk, aid=activity.pk)
    return _form(request, title=title, fields=_activity_fields(group, data, places), back=back)


@staff_view
def staff_activity_edit(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    group = sel.group_get(request.user, pk)
    activity = sel.activity_get(request.user, group, aid)
    places = sel.place_choices(group.area)
    if activity.place and activity.place not in places:
        places.insert(0, activity.place)
    back = reverse("voice:staff-activity", args=[group.pk, activity.pk])
    title = _("Edit %(name)s") % {"name": activity.title}
    if request.method == "POST":
        try:
            _activity_save(request, group, activity)
        except ServiceError as exc:
            fields = _activity_fields(group, request.POST, places)
            return _form(request, title=title, fields=fields, back=back, status=400, **_errors(exc))
        return redirect(back)
    data = {
        "kind": activity.kind,
        "title": activity.title,
        "held_on": activity.held_on.isoformat(),
        "place": activity.place_id or "",
        "minutes": activity.minutes,
        "accompanying_adults": activity.accompanying_adults,
        "outcomes": activity.outcomes,
        "attendees": set(activity.attendees.values_list("pk", flat=True)),
    }
    return _form(request, title=title, fields=_activity_fields(group, data, places), back=back)


@staff_view
def staff_activity(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    """An activity's record and the suggestions raised in it; POST enters a new suggestion
    through the mailbox service, linked to the activity."""
    group = sel.group_get(request.user, pk)
    activity = sel.activity_get(request.user, group, aid)
    form, errors, error_list, status, added = {}, {}, [], 200, None
    if request.method == "POST":
        form = request.POST
        member = None
        if (form.get("member") or "").isdigit():
            member = GroupMember.objects.filter(group=group, pk=form["member"]).first()
        try:
            added = groups.activity_suggestion_add(
                actor=request.user,
                activity=activity,
                text=form.get("text", ""),
                topic=form.get("topic", ""),
                member=member,
                age_group=form.get("age_group", ""),
                ip=client_ip(request),
            )
            form = {}
        except ServiceError as exc:
            err = _errors(exc)
            errors, error_list, status = err["errors"], err["error_list"], 400
    attendees = [
        r
        for r in sel.member_rows(group)
        if r.pk in set(activity.attendees.values_list("pk", flat=True))
    ]
    return render(
        request,
        "voice/group_activity.html",
        {
            "group": group,
            "activity": activity,
            "attendees": attendees,
            "suggestions": sel.activity_suggestions(activity),
            "members": sel.member_choices(group),
            "topics": Topic.choices,
            "age_groups": AgeGroup.choices,
            "form": form,
            "errors": errors,
            "error_list": error_list,
            "added": added,
        },
        status=status,
    )


# Staff: alliance and service items -------------------------------------------------------------


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
    geom = area.boundary or {}
    coords: list = []

    def walk(c):
        if c and isinstance(c[0], int | float):
            coords.append(c)
        else:
            for x in c:
                walk(x)

    walk(geom.get("coordinates") or [])
    if not coords:
        return None
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    return [min(xs), min(ys), max(xs), max(ys)]


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
    path("groups/", groups_public, name="groups"),
    path("alliance/", alliance_public, name="alliance"),
    path("events/", events_public, name="events"),
    path("events/<int:pk>/", event_public, name="event"),
    path("events/<int:pk>/registered/", event_registered, name="event-registered"),
    path("events/<int:pk>/cancel/", event_cancel, name="event-cancel"),
    path("staff/groups/", staff_groups, name="staff-groups"),
    path("staff/groups/new/", staff_group_new, name="staff-group-new"),
    path("staff/groups/<int:pk>/", staff_group, name="staff-group"),
    path("staff/groups/<int:pk>/edit/", staff_group_edit, name="staff-group-edit"),
    path("staff/groups/<int:pk>/members.csv", staff_members_export, name="staff-members-export"),
    path("staff/groups/<int:pk>/members/new/", staff_member_new, name="staff-member-new"),
    path("staff/groups/<int:pk>/members/<int:mid>/", staff_member, name="staff-member"),
    path("staff/groups/<int:pk>/activities/new/", staff_activity_new, name="staff-activity-new"),
    path("staff/groups/<int:pk>/activities/<int:aid>/", staff_activity, name="staff-activity"),
    path(
        "staff/groups/<int:pk>/activities/<int:aid>/edit/",
        staff_activity_edit,
        name="staff-activity-edit",
    ),
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
