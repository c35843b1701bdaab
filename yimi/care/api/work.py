"""Care API: visits (the schedule and visit records), the aid menu, the 政策找人 worklist.

Every list starts from :mod:`yimi.care.policy`; a child, visit or item outside the caller's
scope answers 404. Visit findings are a read of the child's record and are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import Field

from yimi.core.http import client_ip

from .. import policy
from ..models import Child, Policy, Section, Visit, WorklistItem
from ..selectors import work as sel
from ..services import work as svc
from ..services.common import audit_child_read

router = Router(tags=["care"], auth=django_auth)


def _caseworker(request: HttpRequest) -> None:
    if not policy.is_caseworker(request.user):
        raise PermissionDenied(_("This is for community child directors and street supervisors."))


# ------------------------------------------------------------------------------ visits


class VisitDueSchema(Schema):
    child_id: int
    file_no: str
    name: str
    area: str
    area_name: str
    risk_level: str
    next_visit_due: dt.date
    days_overdue: int = Field(description="days past the due date; 0 when not yet due")


class FollowUpSchema(Schema):
    action: str
    due: dt.date
    done: bool = False
    done_on: dt.date | None = None


class FollowUpIn(Schema):
    action: str
    due: dt.date


class VisitIn(Schema):
    child_id: int
    visited_on: dt.date
    kind: Literal["home", "phone", "school", "other"] = "home"
    findings: dict[str, str] = Field(description="what was found, for each of the 8 aspects")
    concerns: list[str] = Field(default=[], description="aspects that need attention")
    follow_ups: list[FollowUpIn] = []
    risk_after: Literal["", "high", "medium", "low"] = ""


class VisitSchema(Schema):
    id: int
    child_id: int
    visited_on: dt.date
    kind: str
    visitor: str | None
    findings: dict[str, str]
    concerns: list[str]
    follow_ups: list[FollowUpSchema]
    risk_after: str
    next_visit_due: dt.date | None


def _visit_out(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "child_id": visit.child_id,
        "visited_on": visit.visited_on,
        "kind": visit.kind,
        "visitor": str(visit.visitor) if visit.visitor else None,
        "findings": visit.findings or {},
        "concerns": visit.concerns or [],
        "follow_ups": visit.follow_ups or [],
        "risk_after": visit.risk_after,
        "next_visit_due": Child.objects.filter(pk=visit.child_id)
        .values_list("next_visit_due", flat=True)
        .first(),
    }


@router.get(
    "/visits",
    response=list[VisitDueSchema],
    summary="Children due a visit (caseworkers: own community or street)",
)
def visits_due(
    request: HttpRequest,
    due: Literal["overdue", "due", "upcoming"] = Query(
        "due", description="overdue; due (within 7 days); upcoming (8–14 days)"
    ),
):
    _caseworker(request)
    today = timezone.localdate()
    return [
        {
            "child_id": c.pk,
            "file_no": c.file_no,
            "name": c.name,
            "area": c.area.code,
            "area_name": c.area.name,
            "risk_level": c.risk_level,
            "next_visit_due": c.next_visit_due,
            "days_overdue": max(0, (today - c.next_visit_due).days),
        }
        for c in sel.visit_schedule(request.user, due=due)
    ]


@router.post("/visits", response={201: VisitSchema}, summary="Record a visit")
def visit_create(request: HttpRequest, payload: VisitIn):
    try:
        child = policy.children_visible_to(request.user).get(pk=payload.child_id)
    except Child.DoesNotExist as exc:
        raise HttpError(404, _("Not found.")) from exc
    visit = svc.visit_record(
        actor=request.user,
        child=child,
        visited_on=payload.visited_on,
        kind=payload.kind,
        findings=payload.findings,
        concerns=payload.concerns,
        follow_ups=[f.model_dump() for f in payload.follow_ups],
        risk_after=payload.risk_after,
    )
    return Status(201, _visit_out(visit))


@router.get("/visits/{int:visit_id}", response=VisitSchema, summary="One visit (audited read)")
def visit_detail(request: HttpRequest, visit_id: int):
    try:
        visit = sel.visit_get(request.user, visit_id)
    except Visit.DoesNotExist as exc:
        raise HttpError(404, _("Not found.")) from exc
    audit_child_read(
        actor=request.user,
        child=visit.child,
        sections=[Section.VISITS],
        what="visit",
        ip=client_ip(request),
    )
    return _visit_out(visit)


@router.post(
    "/visits/{int:visit_id}/follow-ups/{int:index}/done",
    response=VisitSchema,
    summary="Mark a follow-up action done (index from 0)",
)
def visit_follow_up_done(request: HttpRequest, visit_id: int, index: int):
    try:
        visit = sel.visit_get(request.user, visit_id)
    except Visit.DoesNotExist as exc:
        raise HttpError(404, _("Not found.")) from exc
    return _visit_out(svc.visit_follow_up_done(actor=request.user, visit=visit, index=index))


# ------------------------------------------------------------------------------ the menu


class StepDaysSchema(Schema):
    confirm: int = Field(ge=1, le=365)
    handle: int = Field(ge=1, le=365)
    follow_up: int = Field(ge=1, le=365)


class PolicySchema(Schema):
    id: int
    code: str
    name: str
    domain: str
    benefit: str
    basis: str
    lead_department: int = Field(description="department id")
    lead_department_name: str
    cooperating: list[int]
    step_days: dict[str, int]
    eligibility: dict
    sections: list[str]
    area: str
    active: bool

    @staticmethod
    def resolve_lead_department(obj: Policy) -> int:
        return obj.lead_department_id

    @staticmethod
    def resolve_lead_department_name(obj: Policy) -> str:
        return obj.lead_department.name

    @staticmethod
    def resolve_cooperating(obj: Policy) -> list[int]:
        return [d.pk for d in obj.cooperating.all()]

    @staticmethod
    def resolve_area(obj: Policy) -> str:
        return obj.area.code


class PolicyIn(Schema):
    name: str
    code: str = ""
    domain: Literal["life", "education", "medical", "legal", "psychological"]
    benefit: str
    basis: str = ""
    lead_department: int
    cooperating: list[int] = []
    step_days: StepDaysSchema
    eligibility: dict = Field(description="a rule: {field, op, value} or {all|any: [rules]}")
    sections: list[str] = ["basic"]
    active: bool = True


class PolicyPatch(Schema):
    name: str | None = None
    domain: Literal["life", "education", "medical", "legal", "psychological"] | None = None
    benefit: str | None = None
    basis: str | None = None
    lead_department: int | None = None
    cooperating: list[int] | None = None
    step_days: StepDaysSchema | None = None
    eligibility: dict | None = None
    sections: list[str] | None = None
    active: bool | None = None


def _policy(request: HttpRequest, policy_id: int) -> Policy:
    try:
        return sel.policy_get(request.user, policy_id)
    except Policy.DoesNotExist as exc:
        raise HttpError(404, _("Not found.")) from exc


@router.get("/policies", response=list[PolicySchema], summary="The aid menu of the caller's area")
def policies_list(request: HttpRequest, domain: str | None = None):
    if not (policy.may_use_care(request.user) or request.user.is_yimi_staff):
        raise PermissionDenied(_("The aid menu is for staff."))
    qs = sel.policy_list(request.user, include_inactive=policy.can_manage_menu(request.user))
    return list(qs.filter(domain=domain) if domain else qs)


@router.get("/policies/{int:policy_id}", response=PolicySchema, summary="One policy")
def policy_detail(request: HttpRequest, policy_id: int):
    return _policy(request, policy_id)


@router.post("/policies", response={201: PolicySchema}, summary="Add a policy (妇儿工委办)")
def policy_create(request: HttpRequest, payload: PolicyIn):
    data = payload.model_dump()
    data["step_days"] = payload.step_days.model_dump()
    item = svc.policy_create(actor=request.user, **data)
    return Status(201, sel.policy_get(request.user, item.pk))


@router.patch("/policies/{int:policy_id}", response=PolicySchema, summary="Change a policy")
def policy_update(request: HttpRequest, policy_id: int, payload: PolicyPatch):
    item = _policy(request, policy_id)
    data = payload.model_dump(exclude_unset=True)
    if payload.step_days is not None:
        data["step_days"] = payload.step_days.model_dump()
    svc.policy_update(actor=request.user, policy_obj=item, **data)
    return sel.policy_get(request.user, item.pk)


# ------------------------------------------------------------------------------ the worklist


class WorklistItemSchema(Schema):
    id: int
    child_id: int
    file_no: str
    name: str
    area: str
    policy_id: int
    policy_name: str
    reasons: list[str]
    found_at: dt.datetime
    state: str


class DismissIn(Schema):
    note: str = Field(min_length=1, max_length=300)


def _item_out(i: WorklistItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "child_id": i.child_id,
        "file_no": i.child.file_no,
        "name": i.child.name,
        "area": i.child.area.code,
        "policy_id": i.policy_id,
        "policy_name": i.policy.name,
        "reasons": i.reasons,
        "found_at": i.found_at,
        "state": i.state,
    }


@router.get(
    "/worklist", response=list[WorklistItemSchema], summary="政策找人: open matches (caseworkers)"
)
def worklist(request: HttpRequest, policy_id: int | None = None):
    _caseworker(request)
    qs = sel.worklist_open(request.user)
    if policy_id:
        qs = qs.filter(policy_id=policy_id)
    return [_item_out(i) for i in qs[:2000]]


@router.post(
    "/worklist/{int:item_id}/dismiss",
    response=WorklistItemSchema,
    summary="Take a match off the worklist, with a note",
)
def worklist_dismiss(request: HttpRequest, item_id: int, payload: DismissIn):
    _caseworker(request)
    try:
        item = sel.worklist_item_get(request.user, item_id)
    except WorklistItem.DoesNotExist as exc:
        raise HttpError(404, _("Not found.")) from exc
    return _item_out(svc.worklist_dismiss(actor=request.user, item=item, note=payload.note))
