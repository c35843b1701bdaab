"""Care API: children's records — the scoped, masked list; one file by the sections the caller
may read (audited); registering and changing a record; recording and withdrawing consent.

A child the caller may not see answers 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from yimi.core.http import client_ip
from yimi.core.models import Department

from .. import policy
from ..models import Consent
from ..selectors import records as sel
from ..services import records as svc
from ..services.common import audit_list_read

router = Router(tags=["care"], auth=django_auth)


def _care_user(request: HttpRequest) -> None:
    if not policy.may_use_care(request.user):
        raise PermissionDenied(_("The care pages are for child welfare staff."))


# ------------------------------------------------------------------------------ schemas


class ChildRowSchema(Schema):
    id: int
    file_no: str
    name: str = Field(
        description="full for caseworkers, departments and volunteers; masked (张**) for others"
    )
    name_masked: bool
    id_number: str = Field(description="always masked (110***********1234); empty when none")
    sex: str
    age: int | None
    categories: list[str]
    risk_level: str
    status: str
    area: str = Field(description="division code of the community or grid")
    area_name: str
    next_visit_due: dt.date | None
    overdue: bool
    anonymised: bool


class ChildListSchema(Schema):
    count: int
    items: list[ChildRowSchema]


class ChildFilter(Schema):
    q: str = Field(
        "",
        description="file number; for identified users also the full ID number or exact full name",
    )
    category: str = ""
    risk: str = ""
    status: str = ""
    area: str = Field("", description="division code: children of this area and below")
    due: str = Field("", description="'overdue' or 'soon' (within 14 days)")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class TimelineEntrySchema(Schema):
    at: dt.datetime
    kind: str
    summary: str
    actor: str
    section: str


class FamilyMemberSchema(Schema):
    id: int
    relation: str
    is_guardian: bool
    situation: str
    name: str
    phone: str
    id_number: str = Field(description="masked")
    notes: str


class ConsentSchema(Schema):
    id: int
    purpose: str
    department_id: int | None
    department: str
    given_by: str
    given_on: dt.date
    evidence: str
    withdrawn_on: dt.date | None
    active: bool


class DocumentSchema(Schema):
    id: int
    title: str
    section: str
    size: int
    content_type: str
    uploaded_at: dt.datetime


class AssessmentSchema(Schema):
    id: int
    assessed_on: dt.date
    risk_level: str
    summary: str


class OrderRowSchema(Schema):
    id: int
    number: str
    policy: str
    state: str
    created_at: dt.datetime


class ChildDetailSchema(Schema):
    child: ChildRowSchema
    sections: dict[str, dict[str, Any]] = Field(
        description="only the sections the caller may read, decrypted; the ID number masked"
    )
    section_list: list[str]
    timeline: list[TimelineEntrySchema]
    family: list[FamilyMemberSchema] | None = None
    consents: list[ConsentSchema] | None = None
    assessments: list[AssessmentSchema] | None = None
    orders: list[OrderRowSchema] | None = None
    documents: list[DocumentSchema] | None = None


class ChildInSchema(Schema):
    area: str = Field(description="division code of a community or grid")
    name: str
    id_number: str = ""
    birth_date: dt.date | None = None
    sex: str | None = None
    categories: list[str]
    risk_level: str = "low"
    school_stage: str = "none"
    low_income: bool = False
    address: str = ""
    phone: str = ""
    school: str = ""
    education: dict[str, Any] | None = None
    health: dict[str, Any] | None = None
    disability: dict[str, Any] | None = None
    welfare: dict[str, Any] | None = None
    notes: str = ""


class ChildPatchSchema(Schema):
    area: str | None = None
    name: str | None = None
    id_number: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    categories: list[str] | None = None
    risk_level: str | None = None
    school_stage: str | None = None
    low_income: bool | None = None
    address: str | None = None
    phone: str | None = None
    school: str | None = None
    education: dict[str, Any] | None = None
    health: dict[str, Any] | None = None
    disability: dict[str, Any] | None = None
    welfare: dict[str, Any] | None = None
    notes: str | None = None


class ConsentInSchema(Schema):
    purpose: str = Field(description="referral, sharing or volunteer")
    department_id: int | None = None
    given_by: str
    relation: str
    given_on: dt.date | None = None
    evidence: str = ""


# ------------------------------------------------------------------------------ endpoints


@router.get("/children", response=ChildListSchema, summary="Children the caller may see (masked)")
def children_list(request: HttpRequest, filters: Query[ChildFilter]):
    _care_user(request)
    f = filters.dict()
    limit, offset = f.pop("limit"), f.pop("offset")
    if f["due"] not in sel.DUE_CHOICES:
        f["due"] = ""
    qs = sel.child_list(request.user, **f)
    page = list(qs[offset : offset + limit])
    audit_list_read(actor=request.user, children=page, what="register (API)", ip=client_ip(request))
    return {"count": qs.count(), "items": [sel.child_row(request.user, c) for c in page]}


@router.get(
    "/children/{int:child_id}",
    response=ChildDetailSchema,
    summary="One child's file: the sections the caller may read (the read is audited)",
)
def children_get(request: HttpRequest, child_id: int):
    _care_user(request)
    child = sel.child_get(request.user, child_id)
    return sel.child_detail(request.user, child, ip=client_ip(request))


@router.post(
    "/children", response={201: ChildRowSchema}, summary="Register a child (child directors)"
)
def children_create(request: HttpRequest, payload: ChildInSchema):
    child = svc.child_create(actor=request.user, **payload.dict())
    return Status(201, sel.child_row(request.user, child))


@router.patch("/children/{int:child_id}", response=ChildRowSchema, summary="Change a record")
def children_update(request: HttpRequest, child_id: int, payload: ChildPatchSchema):
    _care_user(request)
    child = sel.child_get(request.user, child_id)
    changes = payload.dict(exclude_unset=True)
    child = svc.child_update(actor=request.user, child=child, **changes)
    return sel.child_row(request.user, child)


def _consent_out(c: Consent) -> dict[str, Any]:
    return {
        "id": c.pk,
        "purpose": c.purpose,
        "department_id": c.department_id,
        "department": c.department.name if c.department_id else "",
        "given_by": c.given_by,
        "given_on": c.given_on,
        "evidence": c.evidence,
        "withdrawn_on": c.withdrawn_on,
        "active": c.active,
    }


@router.post(
    "/children/{int:child_id}/consents",
    response={201: ConsentSchema},
    summary="Record a guardian's consent for one purpose and department",
)
def consents_create(request: HttpRequest, child_id: int, payload: ConsentInSchema):
    _care_user(request)
    child = sel.child_get(request.user, child_id)
    data = payload.dict()
    dept_id = data.pop("department_id")
    department = None
    if dept_id is not None:
        department = Department.objects.filter(pk=dept_id).first()
        if department is None:
            raise Http404
    consent = svc.consent_grant(actor=request.user, child=child, department=department, **data)
    return Status(201, _consent_out(consent))


@router.post(
    "/consents/{int:consent_id}/withdraw",
    response=ConsentSchema,
    summary="Withdraw a consent: the department stops seeing the child at once",
)
def consents_withdraw(request: HttpRequest, consent_id: int):
    _care_user(request)
    consent = (
        Consent.objects.filter(pk=consent_id, child__in=policy.children_visible_to(request.user))
        .select_related("department", "child")
        .first()
    )
    if consent is None:
        raise Http404
    return _consent_out(svc.consent_withdraw(actor=request.user, consent=consent))
