"""The whole life-circle analysis of one area in one call: the entry point the Django app uses.

Nearest facility per rule, facility counts within each life circle, 2SFCA, coverage tables and
H3 gap maps, from a walking graph, facilities, children and a rule pack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from yimi.analysis.access._arrays import FloatArray, IntArray
from yimi.analysis.access.demand import DemandPoints
from yimi.analysis.access.facilities import Facilities
from yimi.analysis.access.fca import Decay, FcaResult, two_step_fca
from yimi.analysis.access.network import NetworkArrays, NetworkIndex, take
from yimi.analysis.access.results import (
    CoverageRow,
    GapCell,
    coverage_table,
    h3_cells,
    h3_gap_map,
)
from yimi.analysis.access.rulepack import RulePack, load_rule_pack
from yimi.analysis.graph import ComponentChoice, WalkGraph

__all__ = ["AccessResult", "District", "RuleResult", "analyse_access", "analyse_district"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RuleResult:
    """Everything computed for one rule.

    Attributes
    ----------
    rule_id : str
    facilities : ndarray of int64
        Indices into the input :class:`Facilities` of the facilities that count for the rule.
    nearest_m : ndarray of float64, shape (n_demand,)
        Walking distance from each demand point to the nearest of them (``inf``: none
        reachable).
    nearest_facility : ndarray of int64, shape (n_demand,)
        Which one (index into the input facilities), -1 where none is reachable.
    counts : dict of float to ndarray of int32
        Distance → number of the rule's facilities within it, per demand point (for each life
        circle and the rule's threshold).
    fca : FcaResult or None
        2SFCA with the rule's threshold as catchment and its supply attribute; ``ratio`` is
        indexed like ``fca_facilities``. None when no facility has a known supply.
    fca_facilities : ndarray of int64
        The facilities (input indices) in the 2SFCA: those with a known, finite supply.
    children_unreachable : float
        Children of the rule's age groups who reach none of its facilities.
    """

    rule_id: str
    facilities: IntArray
    nearest_m: FloatArray
    nearest_facility: IntArray
    counts: dict[float, np.ndarray]
    fca: FcaResult | None
    fca_facilities: IntArray
    children_unreachable: float


@dataclass(frozen=True)
class AccessResult:
    """The result of :func:`analyse_access`.

    Attributes
    ----------
    rule_pack_id : str
    rule_pack_version : int
    rules : dict of str to RuleResult
        In pack order.
    coverage : list of CoverageRow
    gaps : dict of str to list of GapCell
        The H3 gap map of each rule.
    h3_resolution : int
    demand_unsnapped, facilities_unsnapped : int
        Points too far from any edge (with ``max_offset_m``) or not finite: left out.
    generated : bool
        True when the demand or the facilities are synthetic: never show as real.
    """

    rule_pack_id: str
    rule_pack_version: int
    rules: dict[str, RuleResult]
    coverage: list[CoverageRow]
    gaps: dict[str, list[GapCell]]
    h3_resolution: int
    demand_unsnapped: int
    facilities_unsnapped: int
    generated: bool

    @property
    def nearest_m(self) -> dict[str, FloatArray]:
        """Rule id → nearest-facility distance per demand point."""
        return {k: r.nearest_m for k, r in self.rules.items()}


@dataclass(frozen=True)
class District:
    """Inputs of one district's analysis, as plain (picklable) data for parallel runs.

    Attributes
    ----------
    network : NetworkArrays
        The district's walking network (with a margin around it, so that children near the
        boundary reach facilities just outside).
    facilities : Facilities
    demand : DemandPoints
    options : dict
        Keyword options of :func:`analyse_access` for this district.
    """

    network: NetworkArrays
    facilities: Facilities
    demand: DemandPoints
    options: dict[str, Any] = field(default_factory=dict)


def analyse_access(
    graph: WalkGraph,
    facilities: Facilities,
    demand: DemandPoints,
    rule_pack: RulePack | None = None,
    *,
    rule_ids: Sequence[str] | None = None,
    decay: Decay = "flat",
    h3_resolution: int = 9,
    max_offset_m: float | None = None,
    component: ComponentChoice = None,
    index: NetworkIndex | None = None,
    progress: Progress | None = None,
) -> AccessResult:
    """Run the life-circle analysis of one area.

    Parameters
    ----------
    graph : WalkGraph
    facilities : Facilities
    demand : DemandPoints
    rule_pack : RulePack, optional
        The shipped life-circle pack by default.
    rule_ids : sequence of str, optional
        Only these rules (all by default).
    decay : {'flat', 'gaussian'}, default 'flat'
        Distance decay of the 2SFCA.
    h3_resolution : int, default 9
        Resolution of the gap maps.
    max_offset_m, component
        Snapping options (see :meth:`WalkGraph.snap`). With ``component=None`` (the default)
        a home next to a disconnected footway is reported unreachable rather than moved to the
        main network: the gap is shown and the data can be fixed.
    index : NetworkIndex, optional
        A prepared index of ``graph`` (saves its set-up when analyses repeat).
    progress : callable, optional
        Called as ``progress(step, done, total)``.

    Returns
    -------
    AccessResult

    Notes
    -----
    One nearest-facility search per rule over the whole graph; one set of bounded searches
    for all facilities used by any rule, up to the largest distance needed, shared by the
    rules' counts and 2SFCA catchments.
    """
    pack = rule_pack if rule_pack is not None else load_rule_pack()
    rules = pack.rules if rule_ids is None else tuple(pack.rule(r) for r in rule_ids)
    idx = index if index is not None else NetworkIndex(graph)
    if idx.graph is not graph:
        raise ValueError("index was built for another graph")
    total_steps = 2 * len(rules) + 3
    step = 0

    def tick(name: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(name, step, total_steps)

    home = graph.snap(demand.lon, demand.lat, max_offset_m=max_offset_m, component=component)
    fac = graph.snap(facilities.lon, facilities.lat, max_offset_m=max_offset_m, component=component)
    tick("snap")
    members = {r.id: facilities.select(r) for r in rules}
    used = np.unique(np.concatenate([np.empty(0, np.int64), *members.values()]))
    reach_limit = max([*pack.distances_m, *(r.threshold_m for r in rules)], default=0.0)
    # Homes indexed once for the bounded searches and every rule's nearest search.
    home_t = idx.prepare_targets(home)
    reach_all = idx.reach(take(fac, used), home_t, reach_limit)
    tick("bounded searches")

    out: dict[str, RuleResult] = {}
    for rule in rules:
        sel = members[rule.id]
        near = idx.nearest(take(fac, sel), home_t)
        nearest_fac = np.full(len(demand), -1, dtype=np.int64)
        nearest_fac[near.reachable] = sel[near.source[near.reachable]]
        tick(f"nearest {rule.id}")
        reach = reach_all.select_sources(np.searchsorted(used, sel))
        counts = {
            d: reach.counts(d).astype(np.int32)
            for d in sorted({*pack.distances_m, rule.threshold_m})
        }
        supply = facilities.supply_of(rule.supply)[sel]
        known = np.flatnonzero(np.isfinite(supply) & (supply >= 0))
        kids = demand.children(rule.age_groups)
        fca = None
        if known.size:
            fca = two_step_fca(
                reach.select_sources(known),
                supply[known],
                kids,
                catchment_m=rule.threshold_m,
                decay=decay,
            )
        tick(f"2SFCA {rule.id}")
        out[rule.id] = RuleResult(
            rule_id=rule.id,
            facilities=sel,
            nearest_m=near.dist_m,
            nearest_facility=nearest_fac,
            counts=counts,
            fca=fca,
            fca_facilities=sel[known],
            children_unreachable=float(kids[~near.reachable].sum()),
        )

    nearest = {k: r.nearest_m for k, r in out.items()}
    cells = h3_cells(demand.lon, demand.lat, h3_resolution)
    gaps = {
        rule.id: h3_gap_map(
            demand,
            nearest[rule.id],
            threshold_m=rule.threshold_m,
            resolution=h3_resolution,
            groups=rule.age_groups,
            cells=cells,
        )
        for rule in rules
    }
    sub_pack = pack if rule_ids is None else replace(pack, rules=rules)
    coverage = coverage_table(demand, nearest, sub_pack)
    tick("results")
    return AccessResult(
        rule_pack_id=pack.id,
        rule_pack_version=pack.version,
        rules=out,
        coverage=coverage,
        gaps=gaps,
        h3_resolution=h3_resolution,
        demand_unsnapped=int((~home.snapped).sum()),
        facilities_unsnapped=int((~fac.snapped).sum()),
        generated=bool(demand.generated or facilities.generated),
    )


def analyse_district(
    district: District, rule_pack: RulePack | None = None, **options: Any
) -> AccessResult:
    """Build the district's graph and run :func:`analyse_access` (what each Dask task runs).

    ``options`` (and ``district.options``, which they override) are passed to
    :func:`analyse_access`.
    """
    graph = district.network.to_graph()
    merged = {**district.options, **options}
    return analyse_access(graph, district.facilities, district.demand, rule_pack, **merged)
