"""Reads of the child-friendly map: lists, search, near me, trip plans, paths, the basemap."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from yimi.analysis.geo import haversine_m
from yimi.analysis.tour import TourUnreachable, shortest_tour
from yimi.core.services import ServiceError
from yimi.places.models import BasemapFeature, Place, Route, Theme
from yimi.places.network import get_walk_graph, public_place_index, subset_snap

MAX_TRIP_STOPS = 12


def parse_bbox(bbox: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(x) for x in bbox.split(",")]
        if len(parts) != 4:
            raise ValueError
    except ValueError as exc:
        raise ServiceError(_("bbox must be min_lon,min_lat,max_lon,max_lat.")) from exc
    x0, y0, x1, y1 = parts
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ServiceError(_("bbox must be min_lon,min_lat,max_lon,max_lat."))
    return x0, y0, x1, y1


def place_list(
    *,
    user,
    category: str | list[str] | None = None,
    area: str | None = None,
    theme: str | None = None,
    bbox: str | None = None,
    q: str | None = None,
    verification: str | None = None,
) -> QuerySet[Place]:
    qs = Place.objects.visible_to(user).select_related("area")
    if category:
        cats = category if isinstance(category, list) else category.split(",")
        qs = qs.filter(category__in=cats)
    if area:
        qs = qs.filter(area__path__contains=f"/{area}/")
    if theme:
        qs = qs.filter(themes__slug=theme)
    if bbox:
        x0, y0, x1, y1 = parse_bbox(bbox)
        qs = qs.filter(lon__gte=x0, lon__lte=x1, lat__gte=y0, lat__lte=y1)
    if verification:
        qs = qs.filter(verification=verification)
    qs = place_search(qs, q) if q else qs.order_by("category", "name", "id")
    return qs.distinct() if theme else qs


def place_search(qs: QuerySet[Place], q: str) -> QuerySet[Place]:
    """Chinese substring search: every term must appear; exact and prefix matches rank first.

    Chinese has no spaces between words, so substring matching (not tokenising) is what finds
    two-character words such as 公园 or 书屋 inside longer names.
    """
    terms = [t for t in q.replace("，", " ").replace(",", " ").split() if t][:5]
    for t in terms:
        qs = qs.filter(Q(name__icontains=t) | Q(name_en__icontains=t) | Q(address__icontains=t))
    first = terms[0] if terms else q
    return qs.annotate(
        rank=Case(
            When(name=first, then=Value(0)),
            When(name__startswith=first, then=Value(1)),
            When(name__icontains=first, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    ).order_by("rank", "name", "id")


def category_counts(qs: QuerySet[Place]) -> dict[str, int]:
    return dict(qs.order_by().values_list("category").annotate(n=Count("id")))


def place_nearby(
    *,
    user,
    lon: float,
    lat: float,
    radius_m: float,
    category: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Public places within ``radius_m`` walking metres, nearest first ("near me").

    Falls back to straight-line distance (and says so) when no walking network is loaded or
    the point is off the network. Works on the in-memory index of public places, so a request
    reads no place rows but the ones it returns.
    """
    radius_m = float(min(max(radius_m, 1.0), settings.YIMI_NEARBY_MAX_RADIUS_M))
    graph = get_walk_graph()
    kind = "walking" if graph is not None else "straight_line"
    index = public_place_index()
    # A walk of length r never leaves the disc of radius r: the box, then the disc, are
    # complete pre-filters.
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    mask = (
        (index.lon >= lon - dlon)
        & (index.lon <= lon + dlon)
        & (index.lat >= lat - dlat)
        & (index.lat <= lat + dlat)
    )
    if category:
        mask &= np.isin(index.category, category.split(","))
    cand = np.flatnonzero(mask)
    straight = haversine_m(lon, lat, index.lon[cand], index.lat[cand])
    keep = straight <= radius_m * (1 + 1e-6) + 0.01
    cand, straight = cand[keep], straight[keep]
    dist = straight
    if graph is not None and cand.size and index.snap is not None:
        src = graph.snap([lon], [lat], component="largest")
        if src.snapped[0]:
            dst = subset_snap(index.snap, cand)
            dist = graph.distance_matrix_snapped(src, dst, limit=radius_m)[0]
        else:  # nothing to snap to: straight-line, and say so
            kind = "straight_line"
    ok = np.flatnonzero(np.isfinite(dist) & (dist <= radius_m))
    if ok.size > limit:
        ok = ok[np.argpartition(dist[ok], limit - 1)[:limit]]
    ok = ok[np.lexsort((index.ids[cand[ok]], dist[ok]))]
    ids = index.ids[cand[ok]].tolist()
    objs = Place.objects.select_related("area").prefetch_related("themes").in_bulk(ids)
    results = [
        {"place": objs[pid], "distance_m": float(dist[i]), "straight_m": float(straight[i])}
        for pid, i in zip(ids, ok, strict=True)
        if pid in objs
    ]
    return {"distance": kind, "results": results}


def walking_path(points: list[tuple[float, float]]) -> dict[str, Any]:
    """The walking path through ``points`` in order (straight lines when there is no network)."""
    graph = get_walk_graph()
    legs = []
    coords_all: list[tuple[float, float]] = []
    total = 0.0
    straight = graph is None
    for (a_lon, a_lat), (b_lon, b_lat) in zip(points, points[1:], strict=False):
        leg_coords = [(a_lon, a_lat), (b_lon, b_lat)]
        length = float(haversine_m(a_lon, a_lat, b_lon, b_lat))
        leg_straight = True
        if graph is not None:
            try:
                res = graph.path(a_lon, a_lat, b_lon, b_lat, component="largest")
                leg_coords, length, leg_straight = list(res.coords), float(res.length_m), False
            except Exception:
                straight = True
        legs.append({"length_m": length, "straight_line": leg_straight})
        total += length
        coords_all.extend(leg_coords if not coords_all else leg_coords[1:])
    return {
        "geometry": {
            "type": "LineString",
            "coordinates": [[round(x, 7), round(y, 7)] for x, y in coords_all],
        },
        "length_m": total,
        "legs": legs,
        "straight_line": straight,
    }


def trip_plan(
    *,
    user,
    place_ids: list[int],
    start: tuple[float, float] | None = None,
    return_to_start: bool = False,
) -> dict[str, Any]:
    """The shortest order to visit 2–12 places (exact), and the walking path through them."""
    ids = list(dict.fromkeys(place_ids))
    if not 2 <= len(ids) <= MAX_TRIP_STOPS:
        raise ServiceError(_("Pick between 2 and %(n)s places.") % {"n": MAX_TRIP_STOPS})
    places = {p.pk: p for p in Place.objects.visible_to(user).filter(pk__in=ids)}
    missing = [i for i in ids if i not in places]
    if missing:
        raise ServiceError(
            _("No such place: %(ids)s") % {"ids": ", ".join(str(i) for i in missing)},
            code="not_found",
        )
    ordered = [places[i] for i in ids]
    pts = [(p.lon, p.lat) for p in ordered]
    if start is not None:
        pts = [start, *pts]
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    graph = get_walk_graph()
    kind = "walking"
    if graph is not None:
        dist = graph.distance_matrix(lon, lat, lon, lat, component="largest")
    else:
        dist = None
    if dist is None or not np.isfinite(dist).all():
        # No network, or some stops are not connected on foot: fall back to straight lines
        # for the order and say so.
        kind = "straight_line"
        dist = haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    try:
        tour = shortest_tour(
            dist, start=0 if start is not None else None, return_to_start=return_to_start
        )
    except TourUnreachable as exc:
        raise ServiceError(_("These places cannot all be reached on foot.")) from exc
    order = list(tour.order)
    visit_pts = [pts[i] for i in order]
    if return_to_start and start is not None:
        visit_pts.append(pts[0])
    path = walking_path(visit_pts)
    stops = [
        ordered[i - 1] if start is not None else ordered[i]
        for i in order
        if not (start is not None and i == 0)
    ]
    return {
        "distance": kind if not path["straight_line"] else "straight_line",
        "order": [p.pk for p in stops],
        "stops": stops,
        "length_m": path["length_m"],
        "duration_min": path["length_m"] / settings.YIMI_WALK_SPEED_M_PER_MIN,
        "path": path["geometry"],
        "legs": path["legs"],
        "optimal": True,
    }


def theme_list(*, user) -> QuerySet[Theme]:
    return (
        Theme.objects.visible_to(user)
        .annotate(
            n_places=Count("places", filter=~Q(places__verification=Place.Verification.RETIRED))
        )
        .order_by("slug")
    )


def route_list(*, user) -> QuerySet[Route]:
    return (
        Route.objects.visible_to(user)
        .select_related("theme")
        .prefetch_related("stops__place")
        .order_by("slug")
    )


def basemap_geojson(
    *, bbox: str | None = None, kinds: list[str] | None = None, limit: int = 20000
) -> dict[str, Any]:
    qs = BasemapFeature.objects.all()
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if bbox:
        x0, y0, x1, y1 = parse_bbox(bbox)
        qs = qs.filter(max_lon__gte=x0, min_lon__lte=x1, max_lat__gte=y0, min_lat__lte=y1)
    feats = [
        {
            "type": "Feature",
            "geometry": f.geometry,
            "properties": {"kind": f.kind, "name": f.name, "highway": f.highway},
        }
        for f in qs.order_by("kind", "id")[:limit]
    ]
    return {"type": "FeatureCollection", "features": feats}


def map_extent() -> tuple[float, float, float, float] | None:
    from django.db.models import Max, Min

    agg = BasemapFeature.objects.aggregate(
        a=Min("min_lon"), b=Min("min_lat"), c=Max("max_lon"), d=Max("max_lat")
    )
    if agg["a"] is None:
        agg = Place.objects.aggregate(a=Min("lon"), b=Min("lat"), c=Max("lon"), d=Max("lat"))
    if agg["a"] is None:
        return None
    return agg["a"], agg["b"], agg["c"], agg["d"]
