"""Reads of the access part: rules, population, runs and their results, siting, comparisons and
safe routes to school. Every run read goes through :func:`run_get` (the ``visible_to`` scope).
"""

from __future__ import annotations

import functools
from typing import Any

import h3
import numpy as np
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yimi.analysis.access import (
    AGE_GROUPS,
    RulePack,
    candidates_at_nodes,
    load_rule_pack,
    safe_route,
    school_routes,
    suggest_sites,
    worst_served,
)
from yimi.analysis.graph import Unreachable
from yimi.core.models import Area, User
from yimi.core.services import ServiceError
from yimi.places.models import Category, Place

from .models import AnalysisRun, ChildPopulation, DemandSet, PlannedFacility
from .storage import demand_of, gap_cells, num, read_arrays

# Colours of the gap map, from "few children covered" to "all covered" (ColorBrewer RdYlGn, 5).
LEGEND_BREAKS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
LEGEND_COLORS = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
MAX_SITES = 50
MAX_CANDIDATE_POINTS = 5000
MAX_ROUTES = 30
SCHOOL_AGE_GROUPS = ("6-12", "12-15")
SCHOOL_RULES = ("primary_school", "middle_school")


def rule_pack() -> RulePack:
    """The shipped life-circle rule pack, read again when the file changes (it is editable)."""
    from yimi.analysis.access.rulepack import DEFAULT_RULE_PACK

    return _cached_pack(DEFAULT_RULE_PACK.stat().st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _cached_pack(_mtime: int) -> RulePack:
    return load_rule_pack()


def _zh() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def rule_label(rule_id: str, pack: RulePack | None = None) -> str:
    """A rule's label in the user's language (its id when the pack no longer has it)."""
    pack = pack or rule_pack()
    try:
        rule = pack.rule(rule_id)
    except KeyError:
        return rule_id
    return rule.label_zh if _zh() or not rule.label_en else rule.label_en


# ---------------------------------------------------------------------- rules


def rules_payload() -> dict[str, Any]:
    pack = rule_pack()
    zh = _zh()
    return {
        "id": pack.id,
        "version": pack.version,
        "walking_speed_m_per_min": pack.walking_speed_m_per_min,
        "life_circles": [
            {
                "minutes": c.minutes,
                "distance_m": c.distance_m,
                "label": c.label_zh if zh or not c.label_en else c.label_en,
                "source": c.source,
                "verified": c.verified,
            }
            for c in pack.life_circles
        ],
        "rules": [
            {
                "id": r.id,
                "label": r.label_zh if zh or not r.label_en else r.label_en,
                "label_zh": r.label_zh,
                "label_en": r.label_en,
                "categories": list(r.categories),
                "threshold_m": r.threshold_m,
                "life_circle": r.life_circle,
                "age_groups": list(r.age_groups),
                "supply": r.supply,
                "source": r.source,
                "verified": r.verified,
                "notes": r.notes,
            }
            for r in pack.rules
        ],
    }


# ---------------------------------------------------------------------- population and inputs


def population_list(*, user: User, area: str | None = None) -> QuerySet[ChildPopulation]:
    qs = ChildPopulation.objects.visible_to(user).select_related("area")
    if area:
        a = Area.objects.filter(code=area).first()
        if a is None:
            raise ServiceError(
                _("There is no area with division code “%(code)s”.") % {"code": area},
                code="not_found",
            )
        qs = qs.filter(area__path__startswith=a.path)
    return qs.order_by("area__path", "-year", "age_group")


def demand_list(*, user: User) -> QuerySet[DemandSet]:
    return DemandSet.objects.visible_to(user).defer("data")


def planned_list(*, user: User) -> QuerySet[PlannedFacility]:
    return PlannedFacility.objects.visible_to(user)


def school_list() -> list[dict[str, Any]]:
    return [
        {"id": p.pk, "name": p.name, "lon": p.lon, "lat": p.lat}
        for p in Place.objects.visible_to(None)
        .filter(category=Category.SCHOOL)
        .order_by("name", "id")
    ]


def area_choices(*, user: User) -> list[dict[str, Any]]:
    """Areas a user may analyse (their subtree; administrators all)."""
    qs = Area.objects.all()
    if not (user.is_superuser or user.role == "admin"):
        if user.area_id is None:
            return []
        qs = qs.filter(path__startswith=user.area.path)
    return [{"code": a.code, "name": a.name, "level": a.level} for a in qs.order_by("path")]


# ---------------------------------------------------------------------- runs


def run_list(*, user: User) -> QuerySet[AnalysisRun]:
    return AnalysisRun.objects.visible_to(user).select_related("area").defer("tables")


def run_get(*, user: User, pk: int, done: bool = False) -> AnalysisRun:
    """A run the user may see (404 otherwise); ``done`` also requires finished results."""
    run = AnalysisRun.objects.visible_to(user).select_related("area").filter(pk=pk).first()
    if run is None:
        raise Http404
    if done and run.status != AnalysisRun.Status.DONE:
        raise ServiceError(
            _("Analysis #%(id)s has no results (it is %(status)s).")
            % {"id": run.pk, "status": run.get_status_display()},
            code="conflict",
        )
    return run


def stage_label(stage: str) -> str:
    """The stored stage key of a run as text in the user's language."""
    fixed = {
        "": "",
        "queued": _("Waiting for a worker"),
        "network": _("Loading the walking network"),
        "facilities": _("Loading facilities"),
        "demand": _("Placing children in their homes"),
        "snap": _("Snapping homes and facilities to the streets"),
        "bounded searches": _("Searching the streets around each facility"),
        "results": _("Gap maps and coverage"),
        "tables": _("Coverage by area"),
        "store": _("Saving the results"),
        "done": _("Done"),
        "failed": _("Failed"),
    }
    if stage in fixed:
        return fixed[stage]
    kind, _sep, rule = stage.partition(" ")
    if kind == "nearest":
        return _("Nearest facility: %(rule)s") % {"rule": rule_label(rule)}
    if kind == "2SFCA":
        return _("Supply and demand (2SFCA): %(rule)s") % {"rule": rule_label(rule)}
    return stage


def run_summary(run: AnalysisRun) -> dict[str, Any]:
    """The stored summary with rule labels in the user's language."""
    s = dict(run.summary or {})
    if not s:
        return {"children": 0, "demand_points": 0, "unsnapped": 0, "rules": []}
    pack = rule_pack()
    s["rules"] = [{**r, "label": rule_label(r["rule"], pack)} for r in s.get("rules", [])]
    return s


def _run_rules(run: AnalysisRun) -> list[str]:
    return list(run.params.get("rules") or [])


def run_rule(run: AnalysisRun, rule: str | None) -> str:
    rules = _run_rules(run)
    if rule is None:
        if not rules:
            raise ServiceError(_("This analysis has no rules."))
        return rules[0]
    if rule not in rules:
        raise ServiceError(
            _("Analysis #%(id)s did not compute the rule “%(r)s”.") % {"id": run.pk, "r": rule},
            code="not_found",
        )
    return rule


def run_coverage(
    run: AnalysisRun, *, rule: str | None = None, area: str | None = None
) -> list[dict[str, Any]]:
    pack = rule_pack()
    rows = run.tables.get("coverage", [])
    if rule is not None:
        run_rule(run, rule)
        rows = [r for r in rows if r["rule"] == rule]
    if area is not None:
        rows = [r for r in rows if r["area"] == area]
    return [{**r, "label": rule_label(r["rule"], pack)} for r in rows]


def run_gaps(run: AnalysisRun, *, rule: str | None) -> dict[str, Any]:
    """The gap map of one rule: H3 hexagons as GeoJSON, with a legend."""
    rule = run_rule(run, rule)
    table = run.tables.get("gaps", {}).get(rule)
    res = int(run.params.get("h3_resolution", 9))
    features = []
    for cell, area in gap_cells(table or {"columns": [], "rows": []}, res):
        ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell.cell)]
        ring.append(ring[0])
        share = 1.0 - cell.children_not_covered / cell.children if cell.children > 0 else None
        features.append(
            {
                "type": "Feature",
                "id": cell.cell,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "cell": cell.cell,
                    "children": num(cell.children),
                    "not_covered": num(cell.children_not_covered),
                    "share_covered": num(share, 4),
                    "mean_m": num(cell.mean_nearest_m, 1),
                    "max_m": num(cell.max_nearest_m, 1),
                    "unreachable": num(cell.children_unreachable),
                    "homes": cell.n_points,
                    "area": area,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "rule": rule,
        "label": rule_label(rule),
        "h3_resolution": res,
        "generated": bool(run.generated_demand),
        "legend": {
            "field": "share_covered",
            "breaks": LEGEND_BREAKS,
            "colors": LEGEND_COLORS,
        },
        "features": features,
    }


def run_worst(run: AnalysisRun, *, rule: str | None, n: int = 10) -> list[dict[str, Any]]:
    """The H3 cells with the most children not covered by the rule."""
    rule = run_rule(run, rule)
    table = run.tables.get("gaps", {}).get(rule) or {"columns": [], "rows": []}
    pairs = gap_cells(table, int(run.params.get("h3_resolution", 9)))
    area_of = {c.cell: a for c, a in pairs}
    names = dict(
        Area.objects.filter(code__in={a for a in area_of.values() if a}).values_list("code", "name")
    )
    out = []
    for c in worst_served([c for c, _a in pairs], max(0, min(n, 500))):
        code = area_of.get(c.cell)
        out.append(
            {
                "cell": c.cell,
                "lon": round(c.lon, 7),
                "lat": round(c.lat, 7),
                "children": num(c.children),
                "not_covered": num(c.children_not_covered),
                "unreachable": num(c.children_unreachable),
                "nearest_m": num(c.mean_nearest_m, 1),
                "max_m": num(c.max_nearest_m, 1),
                "area": code,
                "area_name": names.get(code or "", ""),
            }
        )
    return out


def run_compare(
    run: AnalysisRun, other: AnalysisRun, *, area: str | None = None
) -> list[dict[str, Any]]:
    """Children within each rule's threshold in ``run`` (before) and ``other`` (after).

    City-wide (the runs' whole scope) by default, or for one area present in both.
    """
    pack = rule_pack()

    def covered(r: AnalysisRun) -> dict[str, tuple[float, float | None]]:
        if area is None:
            return {
                x["rule"]: (x["covered"] or 0.0, x["share"]) for x in r.summary.get("rules", [])
            }
        return {
            x["rule"]: (x["covered"] or 0.0, x["share"])
            for x in r.tables.get("coverage", [])
            if x["area"] == area and x["is_threshold"]
        }

    before, after = covered(run), covered(other)
    out = []
    for rule_id in [r for r in _run_rules(run) if r in after and r in before]:
        b, sb = before[rule_id]
        a, sa = after[rule_id]
        out.append(
            {
                "rule": rule_id,
                "label": rule_label(rule_id, pack),
                "covered_before": b,
                "covered_after": a,
                "share_before": sb,
                "share_after": sa,
                "delta": num(a - b),
                "share_delta": num(sa - sb, 6) if sa is not None and sb is not None else None,
            }
        )
    return out


def _arrays(run: AnalysisRun) -> dict[str, np.ndarray]:
    if not run.result_file:
        raise ServiceError(_("Analysis #%(id)s has no stored results.") % {"id": run.pk})
    try:
        return read_arrays(run.result_file)
    except OSError as exc:
        raise ServiceError(
            _("The results of analysis #%(id)s are missing from the data folder.") % {"id": run.pk}
        ) from exc


def _graph():
    from yimi.places.network import get_walk_graph

    graph = get_walk_graph()
    if graph is None or graph.n_edges == 0:
        raise ServiceError(_("No walking network is stored: import an OSM extract first."))
    return graph


def run_siting(
    run: AnalysisRun,
    *,
    rule: str,
    k: int,
    candidates: str | list[tuple[float, float]] = "edges",
    every_m: float = 100.0,
) -> dict[str, Any]:
    """Where to build ``k`` new facilities of a rule: greedy maximal covering from the run's
    homes and their current distances, with each site's marginal gain."""
    from .inputs import network_index

    rule = run_rule(run, rule)
    if not 1 <= k <= MAX_SITES:
        raise ServiceError(_("k must be between 1 and %(n)s.") % {"n": MAX_SITES})
    if not 10 <= every_m <= 2000:
        raise ServiceError(_("The spacing along streets must be between 10 and 2000 m."))
    graph = _graph()
    arrays = _arrays(run)
    demand = demand_of(arrays, generated=run.generated_demand)
    nearest = arrays[f"nearest_m__{rule}"]
    if isinstance(candidates, str):
        if candidates == "nodes":
            cand = candidates_at_nodes(graph)
        elif candidates == "edges":
            cand = None
        else:
            raise ServiceError(_("Candidates must be “nodes”, “edges” or a list of points."))
    else:
        if not candidates:
            raise ServiceError(_("Give at least one candidate point."))
        if len(candidates) > MAX_CANDIDATE_POINTS:
            raise ServiceError(_("At most %(n)s candidate points.") % {"n": MAX_CANDIDATE_POINTS})
        cand = (
            np.array([p[0] for p in candidates], dtype=np.float64),
            np.array([p[1] for p in candidates], dtype=np.float64),
        )
    pack = rule_pack()
    sug = suggest_sites(
        network_index(graph),
        demand,
        nearest,
        pack.rule(rule),
        k,
        candidates=cand,
        every_m=every_m,
    )
    cumulative = sug.children_covered_before + np.cumsum(sug.children_added)
    return {
        "rule": rule,
        "label": rule_label(rule, pack),
        "k": k,
        "covered_before": num(sug.children_covered_before),
        "covered_after": num(sug.children_covered_after),
        "total_children": num(sug.children_total),
        "generated": bool(run.generated_demand),
        "sites": [
            {
                "rank": i + 1,
                "lon": round(float(x), 7),
                "lat": round(float(y), 7),
                "gain": num(g),
                "cumulative": num(c),
            }
            for i, (x, y, g, c) in enumerate(
                zip(sug.lon, sug.lat, sug.children_added, cumulative, strict=True)
            )
        ],
    }


def run_safe_routes(run: AnalysisRun, *, school_id: int, max_routes: int = 20) -> dict[str, Any]:
    """Shortest and safest walks from the homes whose nearest school is this one, and the road
    crossings most of their children's safest routes use."""
    from .inputs import safety_network

    school = Place.objects.visible_to(None).filter(pk=school_id, category=Category.SCHOOL).first()
    if school is None:
        raise Http404
    net = safety_network()
    if net is None:
        raise ServiceError(_("No walking network is stored: import an OSM extract first."))
    arrays = _arrays(run)
    demand = demand_of(arrays)
    # A primary school serves 6-12 year-olds and competes with the other primary schools, a
    # middle school 12-15 year-olds; the rule pack's name filters tell them apart. A school
    # they do not classify serves every school-age child.
    pack = rule_pack()
    kinds = [pack.rule(r) for r in SCHOOL_RULES if r in {x.id for x in pack.rules}]
    all_schools = list(
        Place.objects.visible_to(None)
        .filter(category=Category.SCHOOL)
        .order_by("id")
        .values_list("id", "lon", "lat", "name", "area_m2")
    )
    mine_kinds = [r for r in kinds if r.matches(Category.SCHOOL, school.name, school.area_m2)]
    groups = sorted({g for r in mine_kinds for g in r.age_groups}, key=AGE_GROUPS.index)
    schools = [
        s
        for s in all_schools
        if not mine_kinds or any(r.matches(Category.SCHOOL, s[3], s[4]) for r in mine_kinds)
    ]
    kids = demand.children(groups or SCHOOL_AGE_GROUPS)
    homes = np.flatnonzero(kids > 0)
    target = next(i for i, s in enumerate(schools) if s[0] == school.pk)
    g = net.length_graph
    h_snap = g.snap(demand.lon[homes], demand.lat[homes])
    s_snap = g.snap([s[1] for s in schools], [s[2] for s in schools])
    nearest = net.index.nearest(s_snap, h_snap)
    mine = homes[nearest.source == target]
    empty = {"type": "FeatureCollection", "features": []}
    head = {
        "school": {"id": school.pk, "name": school.name, "lon": school.lon, "lat": school.lat},
        "age_groups": list(groups or SCHOOL_AGE_GROUPS),
        "homes": int(mine.shape[0]),
        "children": num(kids[mine].sum()),
        "generated": bool(run.generated_demand),
    }
    if not mine.size:
        return {**head, "routes": empty, "hotspots": [], "stats": {}}
    res = school_routes(
        net,
        demand.lon[mine],
        demand.lat[mine],
        [school.lon],
        [school.lat],
        children=kids[mine],
        school_of=np.zeros(mine.shape[0], dtype=np.int64),
        max_hotspots=20,
    )
    ok = res.school >= 0
    w = kids[mine]
    stats = {}
    if ok.any():
        stats = {
            "shortest_m": num(np.average(res.shortest_m[ok], weights=w[ok]), 1),
            "safest_m": num(np.average(res.safest_m[ok], weights=w[ok]), 1),
            "shortest_crossings": num(np.average(res.shortest_crossings[ok], weights=w[ok]), 2),
            "safest_crossings": num(np.average(res.safest_crossings[ok], weights=w[ok]), 2),
        }
    features = []
    order = np.flatnonzero(ok)
    order = order[np.lexsort((order, -w[order]))][: max(0, min(max_routes, MAX_ROUTES))]
    for j in order.tolist():
        i = int(mine[j])
        try:
            comp = safe_route(
                net, float(demand.lon[i]), float(demand.lat[i]), school.lon, school.lat
            )
        except Unreachable:
            continue
        for kind, route in (("shortest", comp.shortest), ("safest", comp.safest)):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(x, 7), round(y, 7)] for x, y in route.coords],
                    },
                    "properties": {
                        "kind": kind,
                        "home": i,
                        "children": num(w[j]),
                        "length_m": num(route.length_m, 1),
                        "cost": num(route.cost, 1),
                        "crossings": int(route.crossings.shape[0]),
                    },
                }
            )
    hotspots = [
        {
            "rank": r + 1,
            "lon": round(h.lon, 7),
            "lat": round(h.lat, 7),
            "road": h.name or "",
            "road_class": h.highway,
            "children": num(h.children),
            "homes": h.homes,
            "penalty": num(h.penalty_m, 1),
            "signals": h.signals,
            "marked": h.marked,
        }
        for r, h in enumerate(res.hotspots)
    ]
    return {
        **head,
        "routes": {"type": "FeatureCollection", "features": features},
        "hotspots": hotspots,
        "stats": stats,
    }


def age_groups_payload() -> list[dict[str, str]]:
    from .models import AgeGroup

    return [{"code": g, "label": str(AgeGroup(g).label)} for g in AGE_GROUPS]


__all__ = [
    "LEGEND_BREAKS",
    "LEGEND_COLORS",
    "age_groups_payload",
    "area_choices",
    "demand_list",
    "planned_list",
    "population_list",
    "rule_label",
    "rules_payload",
    "run_compare",
    "run_coverage",
    "run_gaps",
    "run_get",
    "run_list",
    "run_safe_routes",
    "run_siting",
    "run_summary",
    "run_worst",
    "school_list",
    "stage_label",
]
