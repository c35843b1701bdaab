"""Care API: volunteers (爱心妈妈) — registry, background check, 1+1 pairings, logs, and the
volunteer's minimal view of the paired child (``/my-children``).

Managers (caseworkers and the 妇儿工委办 of the area) use the registry and pairings; the
volunteer reads ``/my-children`` only. Out-of-scope objects answer 404.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import django_auth

from yimi.core.http import client_ip

from .. import policy
from ..models import Pairing, Volunteer, VolunteerLog
from ..selectors import volunteers as selectors
from ..services import volunteers as services

router = Router(tags=["care"], auth=django_auth)


def _manager(request: HttpRequest) -> None:
    if not policy.can_manage_volunteers(request.user):
        raise PermissionDenied(_("Only caseworkers and the WCCO office manage volunteers."))


# ------------------------------------------------------------------------------ schemas


class VolunteerSchema(Schema):
    id: int
    code: str
    name: str
    area: str
    area_name: str
    organisation: str
    check_state: str
    checked_on: dt.date | None
    check_reference: str
    check_valid_until: dt.date | None
    check_valid: bool
    active: bool
    has_account: bool
    paired: bool


class VolunteerIn(Schema):
    area: str
    name: str
    phone: str = ""
    id_number: str
    organisation: str = ""


class CheckIn(Schema):
    state: str
    checked_on: dt.date | None = None
    reference: str = ""
    valid_until: dt.date | None = None


class PairingSchema(Schema):
    id: int
    volunteer_id: int
    volunteer: str
    child_id: int
    child_file_no: str
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str


class PairingIn(Schema):
    volunteer_id: int
    child_id: int
    started_on: dt.date


class PairingEndIn(Schema):
    ended_on: dt.date
    reason: str
    rotate_to: int | None = None


class LogIn(Schema):
    date: dt.date
    activity: str
    notes: str = ""


class LogSchema(Schema):
    id: int
    date: dt.date
    activity: str
    notes: str


class MyChildSchema(Schema):
    pairing_id: int
    given_name: str
    age: int
    school_stage: str
    school_stage_label: str
    community: str
    started_on: dt.date
    logs: list[LogSchema]


def _volunteer_out(request: HttpRequest, v: Volunteer) -> dict:
    paired = getattr(v, "paired", None)
    if paired is None:
        paired = v.pairings.filter(ended_on__isnull=True).exists()
    return {
        "id": v.pk,
        "code": str(v),
        "name": selectors.volunteer_name_for(request.user, v),
        "area": v.area.code,
        "area_name": v.area.name,
        "organisation": v.organisation,
        "check_state": v.check_state,
        "checked_on": v.checked_on,
        "check_reference": v.check_reference,
        "check_valid_until": v.check_valid_until,
        "check_valid": services.check_is_valid(v),
        "active": v.active,
        "has_account": v.user_id is not None,
        "paired": paired,
    }


def _pairing_out(p: Pairing) -> dict:
    return {
        "id": p.pk,
        "volunteer_id": p.volunteer_id,
        "volunteer": str(p.volunteer),
        "child_id": p.child_id,
        "child_file_no": p.child.file_no,
        "started_on": p.started_on,
        "ended_on": p.ended_on,
        "end_reason": p.end_reason,
    }


def _log_out(e: VolunteerLog) -> dict:
    return {"id": e.pk, "date": e.date, "activity": e.activity, "notes": e.notes}


# ------------------------------------------------------------------------------ registry


@router.get("/volunteers", response=list[VolunteerSchema], summary="Volunteers of my area")
def volunteers_list(request, check: str | None = None, active: bool | None = True):
    _manager(request)
    qs = selectors.volunteer_list(user=request.user, check=check, active=active)[:1000]
    return [_volunteer_out(request, v) for v in qs]


@router.post("/volunteers", response={201: VolunteerSchema}, summary="Register a volunteer")
def volunteers_create(request, payload: VolunteerIn):
    _manager(request)
    area = get_object_or_404(selectors.volunteer_area_choices(request.user), code=payload.area)
    v = services.volunteer_register(
        actor=request.user,
        area=area,
        name=payload.name,
        phone=payload.phone,
        id_number=payload.id_number,
        organisation=payload.organisation,
    )
    return Status(201, _volunteer_out(request, v))


@router.get("/volunteers/{volunteer_id}", response=VolunteerSchema, summary="One volunteer")
def volunteers_get(request, volunteer_id: int):
    _manager(request)
    return _volunteer_out(request, selectors.volunteer_get(user=request.user, pk=volunteer_id))


@router.post(
    "/volunteers/{volunteer_id}/check",
    response=VolunteerSchema,
    summary="Record the background check (入职查询)",
)
def volunteers_check(request, volunteer_id: int, payload: CheckIn):
    _manager(request)
    v = selectors.volunteer_get(user=request.user, pk=volunteer_id)
    v = services.volunteer_check_record(
        actor=request.user,
        volunteer=v,
        state=payload.state,
        checked_on=payload.checked_on,
        reference=payload.reference,
        valid_until=payload.valid_until,
    )
    return _volunteer_out(request, v)


# ------------------------------------------------------------------------------ pairings


@router.post("/pairings", response={201: PairingSchema}, summary="Start a 1+1 pairing")
def pairings_create(request, payload: PairingIn):
    _manager(request)
    v = selectors.volunteer_get(user=request.user, pk=payload.volunteer_id)
    child = get_object_or_404(policy.children_visible_to(request.user), pk=payload.child_id)
    p = services.pairing_start(
        actor=request.user, volunteer=v, child=child, started_on=payload.started_on
    )
    return Status(201, _pairing_out(p))


@router.post(
    "/pairings/{pairing_id}/end",
    response=PairingSchema,
    summary="End a pairing, or rotate the child to another volunteer (rotate_to)",
)
def pairings_end(request, pairing_id: int, payload: PairingEndIn):
    _manager(request)
    p = selectors.pairing_get(user=request.user, pk=pairing_id)
    if payload.rotate_to is not None:
        other = selectors.volunteer_get(user=request.user, pk=payload.rotate_to)
        new = services.pairing_rotate(
            actor=request.user,
            pairing=p,
            volunteer=other,
            on=payload.ended_on,
            reason=payload.reason,
        )
        return _pairing_out(new)
    p = services.pairing_end(
        actor=request.user, pairing=p, ended_on=payload.ended_on, reason=payload.reason
    )
    return _pairing_out(p)


@router.post(
    "/pairings/{pairing_id}/logs",
    response={201: LogSchema},
    summary="Add to a pairing's log (the volunteer, or a caseworker)",
)
def pairings_log(request, pairing_id: int, payload: LogIn):
    if policy.is_volunteer(request.user):
        p = selectors.my_pairing_get(user=request.user, pk=pairing_id)
    else:
        _manager(request)
        p = selectors.pairing_get(user=request.user, pk=pairing_id)
    entry = services.volunteer_log_add(
        actor=request.user,
        pairing=p,
        date=payload.date,
        activity=payload.activity,
        notes=payload.notes,
    )
    return Status(201, _log_out(entry))


# ------------------------------------------------------------------------------ the volunteer


@router.get(
    "/my-children",
    response=list[MyChildSchema],
    summary="The volunteer's paired child: minimal view (audited)",
)
def my_children(request):
    if not policy.is_volunteer(request.user):
        raise PermissionDenied(_("This page is for volunteers."))
    out = []
    for c in selectors.my_children(user=request.user, ip=client_ip(request)):
        out.append({**c.__dict__, "logs": [_log_out(e) for e in c.logs]})
    return out
