"""Pages of the child-friendly map: the public mobile map and the staff pages."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimi.analysis import coords
from yimi.core.services import ServiceError
from yimi.places import selectors, services, tabular
from yimi.places.forms import ImportForm, PlaceForm, RouteForm, ThemeForm
from yimi.places.models import Category, Place, Route, Theme


def _basemap_config() -> dict:
    kind = settings.YIMI_BASEMAP
    if kind == "osm":
        return {
            "kind": "tiles",
            "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "attribution": "© OpenStreetMap contributors",
            "maxZoom": 19,
        }
    if kind == "tianditu" and settings.YIMI_TIANDITU_KEY:
        key = settings.YIMI_TIANDITU_KEY
        return {
            "kind": "tiles",
            "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
            "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
            "subdomains": "01234567",
            "attribution": "© 天地图 · © OpenStreetMap contributors",
            "maxZoom": 18,
        }
    if kind == "custom" and settings.YIMI_BASEMAP_URL:
        return {
            "kind": "tiles",
            "url": settings.YIMI_BASEMAP_URL,
            "attribution": settings.YIMI_BASEMAP_ATTRIBUTION or "© OpenStreetMap contributors",
            "maxZoom": 19,
        }
    return {"kind": "own", "attribution": "© OpenStreetMap contributors"}


def map_view(request):
    extent = selectors.map_extent()
    config = {
        "api": "/api/v1",
        "basemap": _basemap_config(),
        "extent": extent,
        "center": settings.YIMI_MAP_CENTER or None,
        "categories": [{"code": c, "label": str(label)} for c, label in Category.choices],
        "walkSpeed": settings.YIMI_WALK_SPEED_M_PER_MIN,
        "isStaff": bool(getattr(request.user, "is_yimi_staff", False)),
        "maxStops": selectors.MAX_TRIP_STOPS,
    }
    return render(
        request, "places/map.html", {"config_json": json.dumps(config, ensure_ascii=False)}
    )


def _staff(request) -> None:
    if not getattr(request.user, "is_yimi_staff", False):
        raise PermissionDenied(_("Only staff may change the map."))


@login_required
def staff_places(request):
    _staff(request)
    qs = selectors.place_list(
        user=request.user,
        category=request.GET.get("category") or None,
        q=request.GET.get("q") or None,
        verification=request.GET.get("verification") or None,
    )
    qs = qs.filter(pk__in=Place.objects.visible_to(request.user, "change").values("pk"))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "places/staff_places.html",
        {
            "page": page,
            "categories": Category.choices,
            "states": Place.Verification.choices,
            "q": request.GET,
        },
    )


@login_required
def staff_place_edit(request, pk: int | None = None):
    _staff(request)
    place = None
    if pk is not None:
        place = get_object_or_404(Place.objects.visible_to(request.user, "change"), pk=pk)
    form = PlaceForm(request.POST or None, instance=place)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "crs"}
        data["lon"], data["lat"] = coords.to_wgs84(
            data["lon"], data["lat"], form.cleaned_data["crs"]
        )
        try:
            if place is None:
                place = services.place_create(actor=request.user, **data)
            else:
                # The form edited the instance in memory; the service compares against the
                # stored row.
                stored = Place.objects.get(pk=place.pk)
                place = services.place_update(actor=request.user, place=stored, **data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved %(name)s.") % {"name": place.name})
            return redirect("places:place-edit", pk=place.pk)
    return render(request, "places/staff_place_edit.html", {"form": form, "place": place})


@login_required
@require_POST
def staff_place_verify(request, pk: int):
    _staff(request)
    place = get_object_or_404(Place.objects.visible_to(request.user, "change"), pk=pk)
    state = request.POST.get("state", Place.Verification.VERIFIED)
    try:
        services.place_verify(actor=request.user, place=place, state=state)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(name)s: %(state)s")
            % {"name": place.name, "state": Place.Verification(state).label},
        )
    return redirect(request.POST.get("next") or "places:staff")


@login_required
def staff_import(request):
    _staff(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list = []
    result = None
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        content = f.read()
        try:
            if f.name.lower().endswith((".geojson", ".json")):
                parsed = tabular.parse_geojson(
                    content, f.name, default_crs=form.cleaned_data["crs"]
                )
                source = Place.Source.GEOJSON
            else:
                parsed = tabular.parse_table(content, f.name, default_crs=form.cleaned_data["crs"])
                source = Place.Source.TABLE
            if parsed.errors:
                errors = [e.as_dict() for e in parsed.errors]
            else:
                result = services.places_import_rows(
                    actor=request.user, rows=parsed.rows, source=source, file_name=f.name
                )
        except tabular.ImportFileError as exc:
            form.add_error("file", str(exc))
        except ServiceError as exc:
            errors = exc.details or [{"row": "", "column": "", "message": exc.message}]
    return render(
        request, "places/staff_import.html", {"form": form, "errors": errors, "result": result}
    )


@login_required
def staff_themes(request):
    _staff(request)
    themes = selectors.theme_list(user=request.user)
    return render(request, "places/staff_themes.html", {"themes": themes})


@login_required
def staff_theme_edit(request, slug: str):
    _staff(request)
    theme = (
        None
        if slug == "new"
        else get_object_or_404(Theme.objects.visible_to(request.user, "change"), slug=slug)
    )
    initial = {}
    if theme is not None:
        initial = {
            "slug": theme.slug,
            "name": theme.name,
            "name_en": theme.name_en,
            "description": theme.description,
            "color": theme.color,
            "places": list(theme.places.all()),
        }
    form = ThemeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if theme is None:
                theme = services.theme_create(
                    actor=request.user,
                    slug=d["slug"],
                    name=d["name"],
                    name_en=d["name_en"],
                    description=d["description"],
                    color=d["color"],
                    places=d["places"],
                    area=request.user.area,
                )
            else:
                services.theme_update(
                    actor=request.user,
                    theme=theme,
                    name=d["name"],
                    name_en=d["name_en"],
                    description=d["description"],
                    color=d["color"],
                    places=d["places"],
                )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved %(name)s.") % {"name": theme.name})
            return redirect("places:themes")
    return render(request, "places/staff_theme_edit.html", {"form": form, "theme": theme})


@login_required
def staff_routes(request):
    _staff(request)
    return render(
        request, "places/staff_routes.html", {"routes": selectors.route_list(user=request.user)}
    )


@login_required
def staff_route_edit(request, slug: str):
    _staff(request)
    route = (
        None
        if slug == "new"
        else get_object_or_404(Route.objects.visible_to(request.user, "change"), slug=slug)
    )
    initial = {"place_ids": request.GET.get("places", "")}
    if route is not None:
        initial = {
            "slug": route.slug,
            "name": route.name,
            "description": route.description,
            "place_ids": ",".join(str(s.place_id) for s in route.stops.all()),
        }
    form = RouteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        places = d["place_ids"]
        try:
            if d["optimise"]:
                plan = selectors.trip_plan(user=request.user, place_ids=[p.pk for p in places])
                places = plan["stops"]
            if route is None:
                route = services.route_create(
                    actor=request.user,
                    slug=d["slug"],
                    name=d["name"],
                    description=d["description"],
                    places=places,
                    area=request.user.area,
                )
            else:
                services.route_update(
                    actor=request.user,
                    route=route,
                    name=d["name"],
                    description=d["description"],
                    places=places,
                )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved %(name)s.") % {"name": route.name})
            return redirect("places:routes")
    return render(request, "places/staff_route_edit.html", {"form": form, "route": route})
