"""Observer-group pages (观察团).

Public: /voice/groups/ (groups and their activities' outcomes, no member named). Staff (the
area's 妇儿工委办, supervisors, directors): /voice/staff/groups/ … — groups, members (consent to a
version of the terms, names masked, full names only through an audited POST), activities and the
letters raised in them; another area's objects answer 404."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.http import client_ip
from yimi.core.services import ServiceError

from ..models import (
    Activity,
    AgeGroup,
    GroupMember,
    Topic,
)
from ..selectors import community as sel
from ..services import groups
from .community_common import (
    _area,
    _areas_for,
    _checked,
    _date,
    _errors,
    _form,
    _int,
    _place,
    staff_view,
)


def groups_public(request: HttpRequest) -> HttpResponse:
    """The observer groups and what came of their activities; members only counted."""
    return render(request, "voice/group_public.html", {"groups": sel.public_groups()})


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


urlpatterns = [
    path("groups/", groups_public, name="groups"),
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
]
