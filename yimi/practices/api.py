"""Practice library API under /api/v1/practices: the cases (public, searchable), the measures
with "How Yimi helps", and the city's self-assessment (staff read; WCCO and administrators write,
audited)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import Field

from yimi.core.http import client_ip
from yimi.core.models import Department

from . import policy, selectors, services
from .models import Case, EvidenceKind, MeasureProgress, ProgressStatus

router = Router(tags=["practices"])


class FigureSchema(Schema):
    label: str
    value: float
    unit: str = ""


class CaseSchema(Schema):
    id: str = Field(description="Stable id, e.g. 3-1-1-kunshan")
    source: str = Field(description="The item of the national list, e.g. 三(一)1")
    area: int = Field(description="Policy area 1–7")
    measure: str = Field(description="Measure code, e.g. 三(一)")
    province: str
    city: str
    district: str
    title: str
    summary: str
    years: list[int]
    figures: list[FigureSchema]
    documents: list[str]
    tags: list[str]
    lon: float
    lat: float


class CaseHitSchema(CaseSchema):
    score: int = Field(description="Rank: title 8, document 4, summary 2, measure title 1 per term")


class CaseDetailSchema(CaseSchema):
    measure_title: str
    item_title: str
    yimi_parts: list[dict]
    yimi_planned: list[str]
    supported: bool


class CaseFilterSchema(Schema):
    q: str = Field("", description="Words, all required (substrings: 口袋, 托育, 学径)")
    area: int | None = Field(None, ge=1, le=7)
    province: str = ""
    city: str = ""
    tag: str = ""


def _case(c: Case) -> dict:
    m = c.item.measure
    return {
        "id": c.key,
        "source": c.source,
        "area": m.area.number,
        "measure": m.code,
        "province": c.province,
        "city": c.city,
        "district": c.district,
        "title": c.title,
        "summary": c.summary,
        "years": c.years,
        "figures": c.figures,
        "documents": c.documents,
        "tags": c.tags,
        "lon": c.lon,
        "lat": c.lat,
    }


@router.get("/cases", response=list[CaseHitSchema], summary="Search the cases (public)")
def case_list(request: HttpRequest, filters: Query[CaseFilterSchema]):
    f = selectors.CaseFilter(
        q=filters.q[: selectors.MAX_QUERY],
        area=filters.area,
        province=filters.province,
        city=filters.city,
        tag=filters.tag,
    )
    return [{**_case(h.case), "score": h.score} for h in selectors.case_search(f)]


@router.get("/cases/{case_id}", response=CaseDetailSchema, summary="One case (public)")
def case_detail(request: HttpRequest, case_id: str):
    c = selectors.case_get(case_id)
    if c is None:
        raise HttpError(404, _("No case has this id."))
    help_ = selectors.yimi_help(c.item.measure)
    return {
        **_case(c),
        "measure_title": c.item.measure.title,
        "item_title": c.item.title,
        "yimi_parts": help_["parts"],
        "yimi_planned": help_["planned"],
        "supported": help_["supported"],
    }


class PartSchema(Schema):
    key: str
    name: str
    what: str
    url: str


class MeasureSchema(Schema):
    code: str
    slug: str
    area: int
    area_title: str
    title: str
    tags: list[str]
    items: int
    cases: int
    yimi_parts: list[PartSchema]
    yimi_planned: list[str] = Field(description="Parts Yimi does not have yet")
    supported: bool = Field(description="False: Yimi does not support this measure yet")


@router.get("/measures", response=list[MeasureSchema], summary="Measures with How Yimi helps")
def measure_list(request: HttpRequest):
    out = []
    for m in selectors.measure_list(with_cases=True):
        h = selectors.yimi_help(m)
        items = list(m.items.all())
        out.append(
            {
                "code": m.code,
                "slug": m.slug,
                "area": m.area.number,
                "area_title": m.area.title,
                "title": m.title,
                "tags": m.tags,
                "items": len(items),
                "cases": sum(len(i.cases.all()) for i in items),
                "yimi_parts": h["parts"],
                "yimi_planned": h["planned"],
                "supported": h["supported"],
            }
        )
    return out


class ProgressSchema(Schema):
    measure: str
    measure_title: str
    area: int
    status: str = Field(description=" / ".join(ProgressStatus.values))
    status_label: str
    note: str
    department_id: int | None
    department: str
    target_date: dt.date | None
    overdue: bool
    evidence_kind: str = Field(description=" / ".join(v or '""' for v in EvidenceKind.values))
    evidence_object_id: int | None
    evidence_label: str
    updated_at: dt.datetime | None


class ProgressIn(Schema):
    status: str = Field(description=" / ".join(ProgressStatus.values))
    note: str = ""
    department_id: int | None = None
    target_date: dt.date | None = None
    evidence_kind: str = Field("", description="theme / route / analysis / policy, or empty")
    evidence_object_id: int | None = None


def _progress(m, p: MeasureProgress | None) -> dict:
    return {
        "measure": m.code,
        "measure_title": m.title,
        "area": m.area.number,
        "status": p.status if p else ProgressStatus.NOT_STARTED.value,
        "status_label": selectors.status_label(p),
        "note": p.note if p else "",
        "department_id": p.department_id if p else None,
        "department": p.department.name if p and p.department else "",
        "target_date": p.target_date if p else None,
        "overdue": selectors.is_overdue(p),
        "evidence_kind": p.evidence_kind if p else "",
        "evidence_object_id": p.evidence_object_id if p else None,
        "evidence_label": p.evidence_label if p else "",
        "updated_at": p.updated_at if p else None,
    }


@router.get(
    "/progress",
    response=list[ProgressSchema],
    auth=django_auth,
    summary="The city's self-assessment (staff)",
)
def progress_list(request: HttpRequest):
    if not policy.can_view_progress(request.user):
        raise PermissionDenied(_("The self-assessment is for staff."))
    return [_progress(m, p) for m, p in selectors.progress_rows(request.user)]


@router.put(
    "/progress/{measure_code}",
    response=ProgressSchema,
    auth=django_auth,
    summary="Set the self-assessment of one measure (WCCO, administrators; audited)",
)
def progress_put(request: HttpRequest, measure_code: str, data: ProgressIn):
    if not policy.can_edit_progress(request.user):
        raise PermissionDenied(
            _(
                "Only the Women and Children Working Committee Office and administrators may change the self-assessment."
            )
        )
    m = selectors.measure_get(measure_code)
    if m is None:
        raise HttpError(404, _("No measure has this code."))
    if data.evidence_kind == EvidenceKind.FILE:
        raise HttpError(400, _("Upload evidence files on the measure's page."))
    department = None
    if data.department_id is not None:
        department = Department.objects.filter(pk=data.department_id).first()
        if department is None:
            raise HttpError(400, _("No department has this id."))
    p = services.progress_update(
        actor=request.user,
        measure=m,
        status=data.status,
        note=data.note,
        department=department,
        target_date=data.target_date,
        evidence_kind=data.evidence_kind,
        evidence_object_id=data.evidence_object_id,
        ip=client_ip(request),
    )
    return _progress(m, p)
