"""The analysis core's inputs built from the database: facilities, demand and the safety network.

Read-only. The walking graph itself comes from ``yimi.places.network.get_walk_graph()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from yimi.analysis.access import (
    AGE_GROUPS,
    DemandPoints,
    EdgeAttributes,
    Facilities,
    NetworkIndex,
    SafetyNetwork,
    allocate_children,
    demand_from_h3,
    demand_from_points,
)
from yimi.analysis.graph import WalkGraph
from yimi.core.models import Area
from yimi.places.models import Building, Place, WalkEdge, WalkNode
from yimi.places.network import network_version

from .models import ChildPopulation, DemandSet, PlannedFacility

_lock = threading.RLock()
_cache: dict[str, tuple[object, object]] = {}


# ---------------------------------------------------------------------- areas


@dataclass
class AreaTable:
    """Every area by code, for mapping points to areas and areas to their ancestors."""

    by_code: dict[str, Area]

    @classmethod
    def load(cls) -> AreaTable:
        return cls({a.code: a for a in Area.objects.all()})

    def chain(self, code: str | None) -> list[Area]:
        """The area and its ancestors, from the top."""
        if not code or code not in self.by_code:
            return []
        return [self.by_code[c] for c in self.by_code[code].path.split("/") if c in self.by_code]

    def at_level(self, code: str | None, level: int) -> Area | None:
        for a in self.chain(code):
            if a.level == level:
                return a
        return None

    def within(self, code: str | None, scope: Area | None) -> bool:
        if scope is None:
            return True
        a = self.by_code.get(code or "")
        return a is not None and a.path.startswith(scope.path)


def _point_areas(lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """The deepest area containing each point (its division code), or None."""
    from yimi.core.selectors import area_index

    idx = area_index()
    out: list[str | None] = []
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        a = idx.lookup(x, y)
        out.append(a.code if a is not None else None)
    return out


# ---------------------------------------------------------------------- facilities


def facilities_load(*, planned: Iterable[PlannedFacility] = ()) -> Facilities:
    """Public places (not retired) and the given planned facilities as the core's Facilities.

    Supply: ``seats`` is a place's capacity (学位/托位; unknown for most OSM places),
    ``area_m2`` its mapped area, ``count`` one each (see the rule pack's ``supply``). Ids are
    ``place/<pk>`` and ``planned/<pk>``.
    """
    rows = list(
        Place.objects.visible_to(None)
        .order_by("id")
        .values_list("id", "lon", "lat", "category", "name", "area_m2", "capacity")
    )
    plans = list(planned)
    lon = [r[1] for r in rows] + [p.lon for p in plans]
    lat = [r[2] for r in rows] + [p.lat for p in plans]
    return Facilities.from_arrays(
        lon,
        lat,
        [r[3] for r in rows] + [p.category for p in plans],
        name=[r[4] for r in rows] + [p.name for p in plans],
        area_m2=[np.nan if r[5] is None else r[5] for r in rows]
        + [np.nan if p.area_m2 is None else p.area_m2 for p in plans],
        supply={
            "seats": [np.nan if r[6] is None else r[6] for r in rows]
            + [np.nan if p.capacity is None else p.capacity for p in plans]
        },
        ids=[f"place/{r[0]}" for r in rows] + [f"planned/{p.pk}" for p in plans],
    )


# ---------------------------------------------------------------------- demand


@dataclass
class Demand:
    """Demand points with the area code of each (the deepest area the home lies in).

    ``info`` says how the demand was made (for the run's summary).
    """

    points: DemandPoints
    area_codes: list[str | None]
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _BuildingRow:
    """A stored building as the core's ``BuildingLike``."""

    osm_type: str
    osm_id: int
    building: str | None
    is_landuse: bool
    levels: int | None
    area_m2: float
    lon: float
    lat: float


def population_totals(year: int | None = None) -> tuple[dict[str, dict[str, float]], dict]:
    """Area code → {age group → children}: the given year, or each area's latest year."""
    qs = ChildPopulation.objects.select_related("area")
    if year is not None:
        qs = qs.filter(year=year)
    latest: dict[str, int] = {}
    rows = list(qs.values_list("area__code", "age_group", "count", "year"))
    for code, _g, _c, y in rows:
        latest[code] = max(latest.get(code, y), y)
    totals: dict[str, dict[str, float]] = {}
    for code, g, c, y in rows:
        if y == latest[code]:
            totals.setdefault(code, {})[g] = float(c)
    return totals, {"years": sorted(set(latest.values()))}


def _residual_totals(
    totals: dict[str, dict[str, float]], areas: AreaTable
) -> dict[str, dict[str, float]]:
    """Nested totals made disjoint: an area keeps what its nearest entered descendants leave.

    When a 街道 and some of its 社区 both have totals, the 社区 get theirs and the 街道's
    buildings outside them share the rest (never below 0).
    """
    paths = {c: areas.by_code[c].path for c in totals if c in areas.by_code}
    out: dict[str, dict[str, float]] = {}
    for code, path in paths.items():
        # The nearest entered descendants: entered areas below this one with no entered area
        # between them and this one.
        below = [c for c, p in paths.items() if c != code and p.startswith(path)]
        nearest = [
            c
            for c in below
            if not any(
                o != c and paths[c].startswith(paths[o]) and paths[o] != paths[c] for o in below
            )
        ]
        rest = {}
        for g in AGE_GROUPS:
            mine = totals[code].get(g, 0.0)
            rest[g] = max(mine - sum(totals[c].get(g, 0.0) for c in nearest), 0.0)
        out[code] = rest
    return out


def demand_from_buildings(*, scope: Area | None, year: int | None = None) -> Demand:
    """Children allocated from the entered totals to residential buildings by floor area.

    Each building belongs to the deepest area with totals that contains it (by the stored
    building's area, or its position when it has none). Areas with totals but no residential
    building get their children at the boundary's representative point. Only homes inside
    ``scope`` are kept.
    """
    import shapely
    from shapely.geometry import shape

    areas = AreaTable.load()
    totals, info = population_totals(year)
    entered = _residual_totals(totals, areas)
    entered_paths = sorted(((areas.by_code[c].path, c) for c in entered), key=lambda t: -len(t[0]))
    blds = list(
        Building.objects.order_by("id").values_list(
            "osm_type",
            "osm_id",
            "building",
            "is_landuse",
            "levels",
            "footprint_m2",
            "lon",
            "lat",
            "area__code",
            "geometry",
        )
    )
    rows = [_BuildingRow(b[0], b[1], b[2] or None, b[3], b[4], b[5], b[6], b[7]) for b in blds]
    where: list[str | None] = [b[8] for b in blds]
    missing = [i for i, code in enumerate(where) if code is None]
    if missing:
        found = _point_areas(
            np.array([rows[i].lon for i in missing]), np.array([rows[i].lat for i in missing])
        )
        for i, code in zip(missing, found, strict=True):
            where[i] = code

    def owner(code: str | None) -> str | None:
        if code is None or code not in areas.by_code:
            return None
        path = areas.by_code[code].path
        for p, c in entered_paths:
            if path.startswith(p):
                return c
        return None

    landuse = {
        f"{b[0]}/{b[1]}": shape(b[9]) for b in blds if b[3] and b[9] and b[9].get("coordinates")
    }
    alloc = allocate_children(
        rows,
        entered,
        building_area=[owner(c) for c in where],
        landuse_geometries=landuse or None,
    )
    d = alloc.demand
    idx = alloc.building_index
    point_area: list[str | None] = [where[i] if i >= 0 else None for i in idx.tolist()]
    lon, lat, weights = d.lon, d.lat, d.weights
    labels = list(d.labels or ())
    # Areas with children but no homes: at the boundary's representative point.
    extra = []
    for code, groups in alloc.unallocated.items():
        a = areas.by_code.get(code)
        if a is None or not a.boundary:
            continue
        p = shapely.make_valid(shape(a.boundary)).representative_point()
        extra.append((code, float(p.x), float(p.y), [groups[g] for g in AGE_GROUPS]))
    if extra:
        lon = np.concatenate([lon, [e[1] for e in extra]])
        lat = np.concatenate([lat, [e[2] for e in extra]])
        weights = np.vstack([weights, np.array([e[3] for e in extra])])
        point_area += [e[0] for e in extra]
        labels += ["area"] * len(extra)
    keep = np.array([areas.within(c, scope) for c in point_area], dtype=bool).reshape(-1)
    kept_areas = [c for c, k in zip(point_area, keep.tolist(), strict=True) if k]
    points = demand_from_points(
        lon[keep],
        lat[keep],
        weights[keep],
        area=kept_areas,
        labels=[s for s, k in zip(labels, keep.tolist(), strict=True) if k],
    )
    points = _as_kind(points, "buildings", generated=False)
    info.update(
        {
            "areas_with_totals": sorted(totals),
            "buildings": len(rows),
            "fallback_areas": sorted(alloc.fallback_areas) + sorted(e[0] for e in extra),
            "unallocated": {
                c: g for c, g in alloc.unallocated.items() if c not in {e[0] for e in extra}
            },
            "buildings_outside": alloc.buildings_outside,
            "landuse_used": alloc.landuse_used,
        }
    )
    return Demand(points=points, area_codes=kept_areas, info=info)


def demand_from_set(demand_set: DemandSet, *, scope: Area | None) -> Demand:
    """A stored demand table as demand points (H3 cells at their centres), inside ``scope``."""
    data = demand_set.data
    counts = np.asarray(data.get("counts", []), dtype=np.float64).reshape(-1, len(AGE_GROUPS))
    if demand_set.kind == DemandSet.Kind.H3:
        pts = demand_from_h3(data.get("cells", []), counts, generated=demand_set.generated)
    else:
        pts = demand_from_points(
            data.get("lon", []),
            data.get("lat", []),
            counts,
            labels=data.get("labels"),
            generated=demand_set.generated,
        )
    codes = _point_areas(pts.lon, pts.lat)
    areas = AreaTable.load()
    keep = np.array([areas.within(c, scope) for c in codes], dtype=bool).reshape(-1)
    kept = [c for c, k in zip(codes, keep.tolist(), strict=True) if k]
    points = demand_from_points(
        pts.lon[keep],
        pts.lat[keep],
        pts.weights[keep],
        area=kept,
        labels=[s for s, k in zip(pts.labels or (), keep.tolist(), strict=True) if k] or None,
        generated=demand_set.generated,
    )
    points = _as_kind(points, demand_set.kind, generated=demand_set.generated)
    return Demand(
        points=points,
        area_codes=kept,
        info={"demand_set": demand_set.pk, "name": demand_set.name, "rows": demand_set.rows},
    )


def _as_kind(points: DemandPoints, kind: str, *, generated: bool) -> DemandPoints:
    from dataclasses import replace

    return replace(points, kind="generated" if generated else kind, generated=generated)


# ---------------------------------------------------------------------- cached network objects


def network_index(graph: WalkGraph) -> NetworkIndex:
    """A NetworkIndex of the stored graph, kept while the graph is the same object."""
    with _lock:
        cached = _cache.get("index")
        if cached is not None and cached[0] is graph:
            return cached[1]  # type: ignore[return-value]
        index = NetworkIndex(graph)
        _cache["index"] = (graph, index)
        return index


def safety_network() -> SafetyNetwork | None:
    """The stored walking network with child-safety costs (cached per network version).

    The stored network keeps each edge's ``highway``, ``name``, ``sidewalk`` and crossing flag,
    and each node's mapped crossing and traffic signals.
    """
    version = network_version()
    if version is None:
        return None
    with _lock:
        cached = _cache.get("safety")
        if cached is not None and cached[0] == version:
            return cached[1]  # type: ignore[return-value]
        nodes = list(
            WalkNode.objects.order_by("id").values_list(
                "id", "lon", "lat", "crossing", "traffic_signals"
            )
        )
        pos = {n[0]: i for i, n in enumerate(nodes)}
        edges = list(
            WalkEdge.objects.order_by("id").values_list(
                "u_id", "v_id", "length_m", "highway", "name", "sidewalk", "crossing"
            )
        )
        attrs = EdgeAttributes.build(
            len(nodes),
            [e[3] for e in edges],
            sidewalk=[e[5] for e in edges],
            crossing=[e[6] for e in edges],
            name=[e[4] or None for e in edges],
            node_crossing=[n[3] for n in nodes],
            node_signals=[n[4] for n in nodes],
        )
        net = SafetyNetwork.from_arrays(
            [n[1] for n in nodes],
            [n[2] for n in nodes],
            [pos[e[0]] for e in edges],
            [pos[e[1]] for e in edges],
            [e[2] for e in edges],
            attributes=attrs,
        )
        _cache["safety"] = (version, net)
        return net
