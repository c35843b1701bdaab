"""The child-friendly map's API: places, near me, themes, routes, trip plans, import/export."""

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

from yimi.places import exports, selectors, services, tabular
from yimi.places.models import Category, Place, Route, Theme

router = Router(tags=["places"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class PlaceSchema(Schema):
    id: int
    name: str
    name_en: str
    category: str
    category_label: str
    lon: float
    lat: float
    geometry: dict | None
    address: str
    opening_hours: str
    age_min: int | None
    age_max: int | None
    capacity: int | None
    accessible: bool | None
    nursing_room: bool | None
    family_toilet: bool | None
    fee: str
    phone: str
    website: str
    description: str
    source: str
    source_ref: str
    area: str | None = Field(None, description="division code of the place's area")
    area_name: str | None
    verification: str
    themes: list[str] = []
    updated_at: datetime

    @staticmethod
    def resolve_category_label(obj: Place) -> str:
        return str(Category(obj.category).label)

    @staticmethod
    def resolve_area(obj: Place) -> str | None:
        return obj.area.code if obj.area_id else None

    @staticmethod
    def resolve_area_name(obj: Place) -> str | None:
        return obj.area.name if obj.area_id else None

    @staticmethod
    def resolve_themes(obj: Place) -> list[str]:
        return [t.slug for t in obj.themes.all()]


class PlacePage(Schema):
    count: int
    page: int
    page_size: int
    category_counts: dict[str, int]
    results: list[PlaceSchema]


class PlaceFilter(Schema):
    category: str | None = Field(None, description="category code(s), comma-separated")
    area: str | None = Field(None, description="division code; places in that area and below")
    theme: str | None = Field(None, description="theme code")
    bbox: str | None = Field(None, description="min_lon,min_lat,max_lon,max_lat (WGS-84)")
    q: str | None = Field(None, description="text in the name or address (Chinese substrings)")
    verification: str | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=500)


class NearbyResult(Schema):
    place: PlaceSchema
    distance_m: float
    straight_m: float


class NearbyResponse(Schema):
    distance: str = Field(description="'walking' over the network, or 'straight_line' fallback")
    radius_m: float
    results: list[NearbyResult]


class PlaceIn(Schema):
    name: str
    category: str
    lon: float
    lat: float
    crs: str = "wgs84"
    name_en: str = ""
    address: str = ""
    opening_hours: str = ""
    age_min: int | None = None
    age_max: int | None = None
    capacity: int | None = Field(None, ge=0)
    accessible: bool | None = None
    nursing_room: bool | None = None
    family_toilet: bool | None = None
    fee: str = ""
    phone: str = ""
    website: str = ""
    description: str = ""


class PlacePatch(Schema):
    name: str | None = None
    category: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    name_en: str | None = None
    address: str | None = None
    opening_hours: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    capacity: int | None = Field(None, ge=0)
    accessible: bool | None = None
    nursing_room: bool | None = None
    family_toilet: bool | None = None
    fee: str | None = None
    phone: str | None = None
    website: str | None = None
    description: str | None = None


class VerifyIn(Schema):
    state: str = "verified"
    note: str = ""


class CategorySchema(Schema):
    code: str
    label: str
    count: int


class ThemeSchema(Schema):
    slug: str
    name: str
    name_en: str
    description: str
    color: str
    place_ids: list[int]

    @staticmethod
    def resolve_place_ids(obj: Theme) -> list[int]:
        return sorted(
            p.pk for p in obj.places.all() if p.verification != Place.Verification.RETIRED
        )


class RouteStopSchema(Schema):
    position: int
    place_id: int
    name: str
    lon: float
    lat: float


class RouteSchema(Schema):
    slug: str
    name: str
    description: str
    theme: str | None
    length_m: float | None
    duration_min: float | None
    straight_line: bool
    stops: list[RouteStopSchema]
    path: dict | None

    @staticmethod
    def resolve_theme(obj: Route) -> str | None:
        return obj.theme.slug if obj.theme_id else None

    @staticmethod
    def resolve_stops(obj: Route) -> list[dict]:
        return [
            {
                "position": s.position,
                "place_id": s.place_id,
                "name": s.place.name,
                "lon": s.place.lon,
                "lat": s.place.lat,
            }
            for s in obj.stops.all()
        ]


class PointIn(Schema):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class TripIn(Schema):
    places: list[int] = Field(description="2–12 place ids", min_length=2, max_length=12)
    start: PointIn | None = None
    return_to_start: bool = False


class TripOut(Schema):
    distance: str
    optimal: bool
    order: list[int]
    stops: list[PlaceSchema]
    length_m: float
    duration_min: float
    path: dict
    legs: list[dict]


class ImportResult(Schema):
    created: int
    updated: int
    unchanged: int


def _require_staff(request: HttpRequest) -> None:
    if not getattr(request.user, "is_yimi_staff", False):
        raise PermissionDenied(_("Only staff may change the map."))


@router.get("/places", response=PlacePage, summary="Places on the child-friendly map")
def places_list(request: HttpRequest, filters: Query[PlaceFilter]):
    qs = selectors.place_list(
        user=request.user,
        category=filters.category,
        area=filters.area,
        theme=filters.theme,
        bbox=filters.bbox,
        q=filters.q,
        verification=filters.verification,
    )
    counts = selectors.category_counts(
        selectors.place_list(
            user=request.user,
            area=filters.area,
            theme=filters.theme,
            bbox=filters.bbox,
            q=filters.q,
            verification=filters.verification,
        )
    )
    total = qs.count()
    start = (filters.page - 1) * filters.page_size
    rows = list(qs.prefetch_related("themes")[start : start + filters.page_size])
    return {
        "count": total,
        "page": filters.page,
        "page_size": filters.page_size,
        "category_counts": counts,
        "results": rows,
    }


@router.get(
    "/places/nearby",
    response=NearbyResponse,
    summary="Places near a point, by walking distance where a network is loaded",
)
def places_nearby(
    request: HttpRequest,
    lat: float = Query(..., ge=-90, le=90),
    lon: float = Query(..., ge=-180, le=180),
    radius: float = Query(1000, gt=0),
    category: str | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    res = selectors.place_nearby(
        user=request.user, lon=lon, lat=lat, radius_m=radius, category=category, limit=limit
    )
    return {"distance": res["distance"], "radius_m": radius, "results": res["results"]}


@router.get(
    "/places/categories",
    response=list[CategorySchema],
    summary="The fixed category vocabulary with counts",
)
def places_categories(request: HttpRequest):
    counts = selectors.category_counts(selectors.place_list(user=request.user))
    return [
        {"code": c, "label": str(label), "count": counts.get(c, 0)} for c, label in Category.choices
    ]


@router.get("/places/template.xlsx", summary="The Chinese Excel import template")
def places_template(request: HttpRequest):
    resp = HttpResponse(
        tabular.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    resp["Content-Disposition"] = "attachment; filename*=UTF-8''yimi-places-template.xlsx"
    return resp


@router.get("/places/export", summary="Export places as GeoJSON, Excel or CSV in a chosen CRS")
def places_export(
    request: HttpRequest, filters: Query[PlaceFilter], format: str = "geojson", crs: str = "wgs84"
):
    qs = selectors.place_list(
        user=request.user,
        category=filters.category,
        area=filters.area,
        theme=filters.theme,
        bbox=filters.bbox,
        q=filters.q,
        verification=filters.verification,
    ).prefetch_related("themes")
    rows = list(qs)
    try:
        content, ctype, ext = exports.export_places(rows, fmt=format, crs=crs)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc
    exports.audit_export(actor=request.user, fmt=format, crs=crs, count=len(rows))
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = f"attachment; filename=yimi-places.{ext}"
    return resp


@router.post(
    "/places/import",
    response=ImportResult,
    auth=django_auth,
    summary="Import places from .xlsx, .csv or .geojson (all rows or none)",
)
def places_import(request: HttpRequest, file: File[UploadedFile], crs: Form[str] = "wgs84"):
    _require_staff(request)
    if file.size > MAX_UPLOAD_BYTES:
        raise HttpError(413, _("The file is larger than 20 MB."))
    content = file.read()
    name = file.name or "upload"
    try:
        if name.lower().endswith((".geojson", ".json")):
            parsed = tabular.parse_geojson(content, name, default_crs=crs)
            source = Place.Source.GEOJSON
        else:
            parsed = tabular.parse_table(content, name, default_crs=crs)
            source = Place.Source.TABLE
    except tabular.ImportFileError as exc:
        raise HttpError(400, str(exc)) from exc
    if parsed.errors:
        from yimi.core.services import ServiceError

        raise ServiceError(
            _("The file has errors; nothing was imported."),
            details=[e.as_dict() for e in parsed.errors],
        )
    return services.places_import_rows(
        actor=request.user, rows=parsed.rows, source=source, file_name=name
    )


@router.get("/places/{int:place_id}", response=PlaceSchema, summary="One place")
def places_detail(request: HttpRequest, place_id: int):
    return get_object_or_404(
        Place.objects.visible_to(request.user).select_related("area"), pk=place_id
    )


def _coords_in(data: dict) -> dict:
    from yimi.analysis import coords

    crs = data.pop("crs", "wgs84")
    if data.get("lon") is not None and data.get("lat") is not None:
        try:
            data["lon"], data["lat"] = coords.to_wgs84(data["lon"], data["lat"], crs)
        except ValueError as exc:
            raise HttpError(400, str(exc)) from exc
    return data


@router.post("/places", response={201: PlaceSchema}, auth=django_auth, summary="Add a place")
def places_create(request: HttpRequest, payload: PlaceIn):
    _require_staff(request)
    place = services.place_create(actor=request.user, **_coords_in(payload.dict()))
    return Status(201, place)


@router.patch(
    "/places/{int:place_id}", response=PlaceSchema, auth=django_auth, summary="Change a place"
)
def places_update(request: HttpRequest, place_id: int, payload: PlacePatch):
    _require_staff(request)
    place = get_object_or_404(Place.objects.visible_to(request.user), pk=place_id)
    fields = _coords_in(payload.dict(exclude_unset=True))
    return services.place_update(actor=request.user, place=place, **fields)


@router.post(
    "/places/{int:place_id}/verify",
    response=PlaceSchema,
    auth=django_auth,
    summary="Verify (or retire) a place",
)
def places_verify(request: HttpRequest, place_id: int, payload: VerifyIn):
    _require_staff(request)
    place = get_object_or_404(Place.objects.visible_to(request.user), pk=place_id)
    return services.place_verify(
        actor=request.user, place=place, state=payload.state, note=payload.note
    )


@router.get("/themes", response=list[ThemeSchema], summary="Themes that group places")
def themes_list(request: HttpRequest):
    return selectors.theme_list(user=request.user).prefetch_related("places")


@router.get("/themes/{slug}", response=ThemeSchema, summary="One theme")
def themes_detail(request: HttpRequest, slug: str):
    return get_object_or_404(Theme.objects.visible_to(request.user), slug=slug)


@router.get("/routes", response=list[RouteSchema], summary="Curated routes")
def routes_list(request: HttpRequest):
    return selectors.route_list(user=request.user)


@router.get("/routes/{slug}", response=RouteSchema, summary="One curated route")
def routes_detail(request: HttpRequest, slug: str):
    return get_object_or_404(selectors.route_list(user=request.user), slug=slug)


@router.post(
    "/trips",
    response=TripOut,
    summary="Plan a trip: the shortest order to visit 2–12 places, exact, and its path",
)
def trips_plan(request: HttpRequest, payload: TripIn):
    start = (payload.start.lon, payload.start.lat) if payload.start else None
    return selectors.trip_plan(
        user=request.user,
        place_ids=payload.places,
        start=start,
        return_to_start=payload.return_to_start,
    )


@router.get("/basemap", summary="Streets, parks, water and buildings for the offline basemap")
def basemap(request: HttpRequest, bbox: str | None = None, kind: str | None = None):
    return selectors.basemap_geojson(bbox=bbox, kinds=kind.split(",") if kind else None)
