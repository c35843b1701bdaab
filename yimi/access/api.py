"""Life-circle accessibility API (staff only): rules, population, demand tables, planned
facilities, analysis runs and their results, siting, before/after, safe routes to school.

Anonymous requests get 401, the public and experts 403; runs are scoped by area (``visible_to``),
so a run of another district answers 404.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from . import exports, selectors, services, tabular
from .models import AnalysisRun, ChildPopulation, DemandSet, PlannedFacility

router = Router(tags=["access"], auth=django_auth)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _staff(request: HttpRequest) -> None:
    if not services.is_staff(request.user):
        raise PermissionDenied(_("Only staff may use the accessibility analysis."))


# ---------------------------------------------------------------------- schemas


class LifeCircleSchema(Schema):
    minutes: int
    distance_m: float
    label: str
    source: str
    verified: bool


class RuleSchema(Schema):
    id: str
    label: str = Field(description="in the user's language")
    label_zh: str
    label_en: str
    categories: list[str]
    threshold_m: float
    life_circle: int | None
    age_groups: list[str]
    supply: str = Field(description="'seats' (capacity), 'area_m2' or 'count'")
    source: str
    verified: bool
    notes: str


class RulesOut(Schema):
    id: str
    version: int
    walking_speed_m_per_min: float
    life_circles: list[LifeCircleSchema]
    rules: list[RuleSchema]


class AreaChoice(Schema):
    code: str
    name: str
    level: int


class PopulationRow(Schema):
    area: str
    area_name: str
    level: int
    age_group: str
    count: int
    year: int
    source: str

    @staticmethod
    def resolve_area(obj: ChildPopulation) -> str:
        return obj.area.code

    @staticmethod
    def resolve_area_name(obj: ChildPopulation) -> str:
        return obj.area.name

    @staticmethod
    def resolve_level(obj: ChildPopulation) -> int:
        return obj.area.level


class PopulationIn(Schema):
    area: str = Field(description="division code of a 社区 or 街道")
    age_group: str = Field(description="'0-3', '3-6', '6-12' or '12-15'")
    count: int = Field(ge=0)
    year: int = Field(ge=1949, le=2100)
    source: str = ""


class PopulationResult(Schema):
    created: int
    updated: int
    unchanged: int
    rows: list[PopulationRow] = []


class DemandSetSchema(Schema):
    id: int
    name: str
    kind: str
    rows: int
    children: float
    generated: bool = Field(description="synthetic population: never show as real children")
    file_name: str
    area: str | None
    created_at: datetime

    @staticmethod
    def resolve_area(obj: DemandSet) -> str | None:
        return obj.area.code if obj.area_id else None


class GenerateIn(Schema):
    n_points: int = Field(1000, ge=1, le=1_000_000)
    seed: int = 0
    name: str = ""


class PlannedSchema(Schema):
    id: int
    name: str
    category: str
    lon: float
    lat: float
    capacity: int | None
    area_m2: float | None
    note: str
    area: str | None

    @staticmethod
    def resolve_area(obj: PlannedFacility) -> str | None:
        return obj.area.code if obj.area_id else None


class PlannedIn(Schema):
    name: str
    category: str
    lon: float
    lat: float
    crs: str = "wgs84"
    capacity: int | None = Field(None, ge=0)
    area_m2: float | None = Field(None, ge=0)
    note: str = ""


class RunIn(Schema):
    area: str | None = Field(None, description="division code; your own area when omitted")
    rules: list[str] | None = Field(None, description="rule ids; all when omitted")
    h3_resolution: int = 9
    decay: str = Field("flat", description="'flat' or 'gaussian' (2SFCA distance decay)")
    demand: str | int = Field("buildings", description="'buildings' or a demand table id")
    include_planned: bool = False
    year: int | None = Field(None, description="population year; each area's latest by default")


class RuleSummary(Schema):
    rule: str
    label: str
    threshold_m: float
    life_circle: int | None = None
    facilities: int
    planned: int = 0
    children: float | None
    covered: float | None
    share: float | None
    unreachable: float | None
    mean_m: float | None
    supply_per_child: float | None = None


class RunSummary(Schema):
    children: float | None = 0
    demand_points: int = 0
    unsnapped: int = 0
    demand_kind: str = ""
    generated: bool = False
    rules: list[RuleSummary] = []


class RunSchema(Schema):
    id: int
    status: str
    progress: int
    stage: str = Field(description="what the run is doing, in the user's language")
    stage_code: str
    params: dict
    area: str | None
    area_name: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    generated_demand: bool
    summary: RunSummary

    @staticmethod
    def resolve_stage(obj: AnalysisRun) -> str:
        return selectors.stage_label(obj.stage)

    @staticmethod
    def resolve_stage_code(obj: AnalysisRun) -> str:
        return obj.stage

    @staticmethod
    def resolve_area(obj: AnalysisRun) -> str | None:
        return obj.area.code if obj.area_id else None

    @staticmethod
    def resolve_area_name(obj: AnalysisRun) -> str | None:
        return obj.area.name if obj.area_id else None

    @staticmethod
    def resolve_summary(obj: AnalysisRun) -> dict:
        return selectors.run_summary(obj)


class CoverageRow(Schema):
    area: str | None = Field(description="division code; null for the whole run")
    area_name: str
    level: int = Field(description="0 for the whole run, else the area's level")
    rule: str
    label: str
    distance_m: float
    minutes: int | None
    is_threshold: bool
    children: float | None
    covered: float | None
    share: float | None
    unreachable: float | None


class Legend(Schema):
    field: str
    breaks: list[float] = Field(description="class limits; colors[i] is for breaks[i]..breaks[i+1]")
    colors: list[str]


class GapsOut(Schema):
    type: str = "FeatureCollection"
    rule: str
    label: str
    h3_resolution: int
    generated: bool
    legend: Legend
    features: list[dict]


class WorstRow(Schema):
    cell: str
    lon: float
    lat: float
    children: float | None
    not_covered: float | None
    unreachable: float | None
    nearest_m: float | None = Field(description="child-weighted mean nearest distance in the cell")
    max_m: float | None
    area: str | None
    area_name: str


class CandidatePointIn(Schema):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class SitingIn(Schema):
    rule: str
    k: int = Field(5, ge=1, le=selectors.MAX_SITES)
    candidates: str | list[CandidatePointIn] = Field(
        "edges", description="'nodes', 'edges' (every every_m metres) or a list of points"
    )
    every_m: float = Field(100.0, ge=10, le=2000)


class SiteOut(Schema):
    rank: int
    lon: float
    lat: float
    gain: float | None = Field(description="children newly covered by this site")
    cumulative: float | None = Field(description="children covered after building up to it")


class SitingOut(Schema):
    rule: str
    label: str
    k: int
    covered_before: float | None
    covered_after: float | None
    total_children: float | None
    generated: bool
    sites: list[SiteOut]


class CompareRow(Schema):
    rule: str
    label: str
    covered_before: float | None
    covered_after: float | None
    share_before: float | None
    share_after: float | None
    delta: float | None = Field(description="covered_after - covered_before (children)")
    share_delta: float | None


class SchoolSchema(Schema):
    id: int
    name: str
    lon: float
    lat: float


class HotspotOut(Schema):
    rank: int
    lon: float
    lat: float
    road: str
    road_class: str
    children: float | None
    homes: int
    penalty: float | None
    signals: bool
    marked: bool


class SafeRoutesOut(Schema):
    school: SchoolSchema
    homes: int = Field(description="homes whose nearest school of this kind this is")
    age_groups: list[str] = Field(description="the children counted (primary: 6-12 …)")
    children: float | None
    generated: bool
    routes: dict = Field(description="GeoJSON LineStrings: kind 'shortest' or 'safest'")
    hotspots: list[HotspotOut]
    stats: dict


class ImportCounts(Schema):
    created: int
    updated: int
    unchanged: int


def _xlsx(content: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(content, content_type=exports.FORMATS["xlsx"][0])
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return resp


def _read_upload(file: UploadedFile) -> bytes:
    if file.size > MAX_UPLOAD_BYTES:
        raise HttpError(413, _("The file is larger than 20 MB."))
    return file.read()


# ---------------------------------------------------------------------- rules and areas


@router.get("/rules", response=RulesOut, summary="The life-circle rule pack")
def rules(request: HttpRequest):
    _staff(request)
    return selectors.rules_payload()


@router.get("/areas", response=list[AreaChoice], summary="Areas you may analyse")
def areas(request: HttpRequest):
    _staff(request)
    return selectors.area_choices(user=request.user)


# ---------------------------------------------------------------------- population


@router.get("/population", response=list[PopulationRow], summary="Children per area and age group")
def population_list(request: HttpRequest, area: str | None = None):
    _staff(request)
    return selectors.population_list(user=request.user, area=area)


@router.put(
    "/population",
    response=PopulationResult,
    summary="Set children per area, age group and year (妇儿工委办; all rows or none)",
)
def population_set(request: HttpRequest, payload: list[PopulationIn]):
    _staff(request)
    counts = services.population_set(actor=request.user, rows=[p.dict() for p in payload])
    codes = {p.area for p in payload}
    rows = selectors.population_list(user=request.user).filter(area__code__in=codes)
    return {**counts, "rows": rows}


@router.get("/population/template.xlsx", summary="The Chinese Excel template for population")
def population_template(request: HttpRequest, year: int = 2020):
    _staff(request)
    choices = [
        (a["code"], a["name"]) for a in selectors.area_choices(user=request.user) if a["level"] >= 3
    ]
    return _xlsx(
        tabular.population_template_xlsx(choices, year), "yimi-child-population-template.xlsx"
    )


@router.post(
    "/population/import",
    response=ImportCounts,
    summary="Import population totals from .xlsx or .csv (all rows or none)",
)
def population_import(request: HttpRequest, file: File[UploadedFile]):
    _staff(request)
    content = _read_upload(file)
    return services.population_import(
        actor=request.user, content=content, file_name=file.name or "upload"
    )


# ---------------------------------------------------------------------- demand tables


@router.get("/demand", response=list[DemandSetSchema], summary="Uploaded demand tables")
def demand_list(request: HttpRequest):
    _staff(request)
    return selectors.demand_list(user=request.user).select_related("area")


@router.post(
    "/demand",
    response={201: DemandSetSchema},
    summary="Upload children by point or H3 cell (.xlsx or .csv; all rows or none)",
)
def demand_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[str] = "points",
    name: Form[str] = "",
    generated: Form[bool] = False,
):
    _staff(request)
    content = _read_upload(file)
    ds = services.demand_set_upload(
        actor=request.user,
        content=content,
        file_name=file.name or "upload",
        kind=kind,
        name=name,
        generated=generated,
    )
    return Status(201, ds)


@router.post(
    "/demand/generate",
    response={201: DemandSetSchema},
    summary="A GENERATED population on the stored network (labelled generated)",
)
def demand_generate(request: HttpRequest, payload: GenerateIn):
    _staff(request)
    ds = services.demand_set_generate(
        actor=request.user, n_points=payload.n_points, seed=payload.seed, name=payload.name
    )
    return Status(201, ds)


@router.get("/demand/template.xlsx", summary="The Chinese Excel template for demand tables")
def demand_template(request: HttpRequest, kind: str = "points"):
    _staff(request)
    if kind not in DemandSet.Kind.values:
        raise HttpError(400, _("The kind must be points or h3."))
    return _xlsx(tabular.demand_template_xlsx(kind), f"yimi-demand-{kind}-template.xlsx")


# ---------------------------------------------------------------------- planned facilities


@router.get("/planned", response=list[PlannedSchema], summary="Planned facilities")
def planned_list(request: HttpRequest):
    _staff(request)
    return selectors.planned_list(user=request.user).select_related("area")


@router.post("/planned", response={201: PlannedSchema}, summary="Add a planned facility")
def planned_create(request: HttpRequest, payload: PlannedIn):
    from yimi.analysis import coords

    _staff(request)
    data = payload.dict()
    try:
        data["lon"], data["lat"] = coords.to_wgs84(data["lon"], data["lat"], data.pop("crs"))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc
    return Status(201, services.planned_facility_create(actor=request.user, **data))


@router.delete(
    "/planned/{int:planned_id}", response={204: None}, summary="Remove a planned facility"
)
def planned_delete(request: HttpRequest, planned_id: int):
    _staff(request)
    fac = get_object_or_404(selectors.planned_list(user=request.user), pk=planned_id)
    services.planned_facility_delete(actor=request.user, facility=fac)
    return Status(204, None)


# ---------------------------------------------------------------------- runs


@router.post("/runs", response={201: RunSchema}, summary="Start an analysis (background task)")
def runs_create(request: HttpRequest, payload: RunIn):
    _staff(request)
    run = services.run_create(
        actor=request.user,
        area=payload.area or None,
        rules=payload.rules,
        h3_resolution=payload.h3_resolution,
        decay=payload.decay,
        demand=payload.demand,
        include_planned=payload.include_planned,
        year=payload.year,
    )
    return Status(201, selectors.run_get(user=request.user, pk=run.pk))


@router.get("/runs", response=list[RunSchema], summary="Analyses you may see, newest first")
def runs_list(request: HttpRequest, limit: int = Query(50, ge=1, le=500)):
    _staff(request)
    return list(selectors.run_list(user=request.user)[:limit])


@router.get("/runs/{int:run_id}", response=RunSchema, summary="One analysis with its progress")
def runs_detail(request: HttpRequest, run_id: int):
    _staff(request)
    return selectors.run_get(user=request.user, pk=run_id)


@router.get(
    "/runs/{int:run_id}/coverage",
    response=list[CoverageRow],
    summary="Children within each life circle, city-wide and per area",
)
def runs_coverage(
    request: HttpRequest, run_id: int, rule: str | None = None, area: str | None = None
):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    return selectors.run_coverage(run, rule=rule, area=area)


@router.get(
    "/runs/{int:run_id}/gaps",
    response=GapsOut,
    summary="The H3 gap map of one rule (GeoJSON with a legend)",
)
def runs_gaps(request: HttpRequest, run_id: int, rule: str | None = None):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    return selectors.run_gaps(run, rule=rule)


@router.get(
    "/runs/{int:run_id}/worst",
    response=list[WorstRow],
    summary="The worst-served H3 cells of one rule",
)
def runs_worst(
    request: HttpRequest, run_id: int, rule: str | None = None, n: int = Query(10, ge=1, le=500)
):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    return selectors.run_worst(run, rule=rule, n=n)


@router.get(
    "/runs/{int:run_id}/export",
    summary="Download results: xlsx (coverage, gap cells), geojson or geoparquet (gap cells)",
)
def runs_export(request: HttpRequest, run_id: int, format: str = "xlsx", rule: str | None = None):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    content, ctype, ext = exports.export_run(run, fmt=format, rule=rule)
    exports.audit_export(actor=request.user, run=run, fmt=format, rule=rule)
    resp = HttpResponse(content, content_type=ctype)
    suffix = f"-{rule}" if rule else ""
    resp["Content-Disposition"] = f"attachment; filename=yimi-access-{run.pk}{suffix}.{ext}"
    return resp


@router.post(
    "/runs/{int:run_id}/siting",
    response=SitingOut,
    summary="Where to build next: greedy maximal covering with marginal gains",
)
def runs_siting(request: HttpRequest, run_id: int, payload: SitingIn):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    cands = (
        payload.candidates
        if isinstance(payload.candidates, str)
        else [(p.lon, p.lat) for p in payload.candidates]
    )
    return selectors.run_siting(
        run, rule=payload.rule, k=payload.k, candidates=cands, every_m=payload.every_m
    )


@router.get(
    "/runs/{int:run_id}/compare/{int:other_id}",
    response=list[CompareRow],
    summary="Before (this run) and after (the other) per rule",
)
def runs_compare(request: HttpRequest, run_id: int, other_id: int, area: str | None = None):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    other = selectors.run_get(user=request.user, pk=other_id, done=True)
    return selectors.run_compare(run, other, area=area)


@router.get("/schools", response=list[SchoolSchema], summary="Schools on the map")
def schools(request: HttpRequest):
    _staff(request)
    return selectors.school_list()


@router.get(
    "/runs/{int:run_id}/safe-routes",
    response=SafeRoutesOut,
    summary="Safe routes to one school: shortest vs safest walks and risky crossings",
)
def runs_safe_routes(
    request: HttpRequest,
    run_id: int,
    school: int,
    routes: int = Query(20, ge=0, le=selectors.MAX_ROUTES),
):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=run_id, done=True)
    return selectors.run_safe_routes(run, school_id=school, max_routes=routes)
