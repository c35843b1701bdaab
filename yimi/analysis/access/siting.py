"""Where to build next: maximal-coverage siting over candidate street locations.

Greedy with lazy evaluation for real use, an exact MILP for checking it on small cases, and
helpers that turn the street network into candidate sites.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pyproj import Transformer
from scipy.optimize import Bounds, LinearConstraint, milp

from yimi.analysis.access._arrays import BoolArray, FloatArray, IntArray, float_vector
from yimi.analysis.access.demand import DemandPoints
from yimi.analysis.access.network import NetworkIndex
from yimi.analysis.access.rulepack import Rule
from yimi.analysis.graph import ComponentChoice, Snap, WalkGraph

__all__ = [
    "CoverResult",
    "SiteSuggestion",
    "candidates_along_edges",
    "candidates_at_nodes",
    "coverage_matrix",
    "exact_max_cover",
    "greedy_max_cover",
    "suggest_sites",
]


@dataclass(frozen=True)
class CoverResult:
    """Chosen sites and what they add.

    Attributes
    ----------
    sites : ndarray of int64
        Candidate indices in the order chosen (for the exact solver: increasing index).
    gains : ndarray of float64
        Demand weight newly covered by each site, given the sites before it (and the demand
        already covered).
    covered_weight : float
        Demand weight newly covered by all chosen sites together.
    covered : ndarray of bool
        Demand points covered after siting (including those already covered).
    optimal : bool
        True when the solver proved the choice optimal (exact solver only).
    """

    sites: IntArray
    gains: FloatArray
    covered_weight: float
    covered: BoolArray
    optimal: bool = False


def candidates_at_nodes(
    graph: WalkGraph, *, component: ComponentChoice = "largest"
) -> tuple[FloatArray, FloatArray]:
    """Every network node as a candidate site.

    Parameters
    ----------
    graph : WalkGraph
    component : {'largest', None}, default 'largest'
        Only nodes of the largest component (a new facility should serve the city, not a
        stray footway).

    Returns
    -------
    lon, lat : ndarray of float64
    """
    keep = np.ones(graph.n_nodes, dtype=bool)
    if component == "largest" and graph.n_nodes:
        keep = graph.component_labels == 0
    return graph.lon[keep].copy(), graph.lat[keep].copy()


def candidates_along_edges(
    graph: WalkGraph, every_m: float, *, component: ComponentChoice = "largest"
) -> tuple[FloatArray, FloatArray]:
    """Candidate sites every ``every_m`` metres along the edges, plus the nodes.

    Parameters
    ----------
    graph : WalkGraph
    every_m : float
        Spacing along each edge (positive); an edge of length L gets ``ceil(L / every_m) - 1``
        interior points, evenly spaced.
    component : {'largest', None}, default 'largest'

    Returns
    -------
    lon, lat : ndarray of float64
        Nodes first, then interior points edge by edge.
    """
    if not every_m > 0:
        raise ValueError("every_m must be positive")
    nlon, nlat = candidates_at_nodes(graph, component=component)
    edges = np.arange(graph.n_edges)
    if component == "largest" and graph.n_edges:
        edges = edges[graph.component_labels[graph.edge_u] == 0]
    length = graph.edge_length_m[edges]
    k = np.maximum(np.ceil(length / every_m).astype(np.int64) - 1, 0)
    owner = np.repeat(np.arange(edges.shape[0]), k)
    if not owner.size:
        return nlon, nlat
    step = np.arange(owner.shape[0]) - np.repeat(np.cumsum(k) - k, k) + 1
    t = step / (k[owner] + 1)
    fwd = Transformer.from_crs("EPSG:4326", graph.crs, always_xy=True)
    inv = Transformer.from_crs(graph.crs, "EPSG:4326", always_xy=True)
    e = edges[owner]
    ax, ay = fwd.transform(graph.lon[graph.edge_u[e]], graph.lat[graph.edge_u[e]])
    bx, by = fwd.transform(graph.lon[graph.edge_v[e]], graph.lat[graph.edge_v[e]])
    lon, lat = inv.transform(ax + t * (bx - ax), ay + t * (by - ay))
    return np.concatenate([nlon, np.asarray(lon)]), np.concatenate([nlat, np.asarray(lat)])


def coverage_matrix(
    index: NetworkIndex, candidates: Snap, demand: Snap, threshold_m: float
) -> sp.csr_array:
    """Which demand points each candidate would cover (walking distance within threshold).

    Parameters
    ----------
    index : NetworkIndex
    candidates, demand : Snap
        Snapped to ``index.graph``.
    threshold_m : float

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (n_candidates, n_demand)
    """
    return index.reach(candidates, demand, threshold_m).coverage(threshold_m)


def _prepare(
    coverage: sp.sparray | sp.spmatrix | ArrayLike,
    weights: ArrayLike,
    k: int,
    covered: ArrayLike | None,
) -> tuple[sp.csr_array, FloatArray, BoolArray]:
    cov = sp.csr_array(coverage, dtype=bool)
    cov.sum_duplicates()
    w = float_vector(weights, "weights")
    if cov.shape[1] != w.shape[0]:
        raise ValueError("coverage must have one column per demand weight")
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise ValueError("weights must be finite and non-negative")
    if k < 0:
        raise ValueError("k must be non-negative")
    done = np.zeros(w.shape[0], dtype=bool)
    if covered is not None:
        done = np.asarray(covered, dtype=bool).copy()
        if done.shape != w.shape:
            raise ValueError("covered must have one entry per demand weight")
    return cov, w, done


def _gain(cov: sp.csr_array, j: int, w: FloatArray, done: BoolArray) -> float:
    cols = cov.indices[cov.indptr[j] : cov.indptr[j + 1]]
    cols = cols[~done[cols]]
    return float(w[cols].sum())


def greedy_max_cover(
    coverage: sp.sparray | sp.spmatrix | ArrayLike,
    weights: ArrayLike,
    k: int,
    *,
    covered: ArrayLike | None = None,
    lazy: bool = True,
) -> CoverResult:
    """Choose up to ``k`` sites greedily, each covering the most not-yet-covered demand.

    Parameters
    ----------
    coverage : sparse matrix or array_like of bool, shape (n_candidates, n_demand)
        ``coverage[j, i]``: candidate j would cover demand point i.
    weights : array_like of float, shape (n_demand,)
        Demand weight (children) of each point.
    k : int
        Number of sites to choose.
    covered : array_like of bool, optional
        Demand already covered (by existing facilities): it earns nothing.
    lazy : bool, default True
        Lazy evaluation: a priority queue of upper bounds (a site's gain can only shrink as
        others are chosen), re-evaluating a site only when it reaches the top. Chooses exactly
        the same sites as the plain greedy (``lazy=False``), usually after far fewer gain
        evaluations.

    Returns
    -------
    CoverResult
        Stops early when no candidate adds anything. Ties go to the lowest candidate index.
        The covered weight is at least ``1 - 1/e`` of the optimum (Nemhauser, Wolsey & Fisher
        1978).
    """
    cov, w, done = _prepare(coverage, weights, k, covered)
    n_cand = cov.shape[0]
    sites: list[int] = []
    gains: list[float] = []
    if lazy:
        # Entries (-bound, candidate, round the bound was computed in).
        heap = [(-_gain(cov, j, w, done), j, 0) for j in range(n_cand)]
        heapq.heapify(heap)
        chosen_round = 0
        while len(sites) < k and heap:
            neg, j, when = heapq.heappop(heap)
            if when == chosen_round:
                if -neg <= 0:
                    break
                sites.append(j)
                gains.append(-neg)
                _mark(cov, j, done)
                chosen_round += 1
                continue
            heapq.heappush(heap, (-_gain(cov, j, w, done), j, chosen_round))
    else:
        available = np.ones(n_cand, dtype=bool)
        while len(sites) < k and available.any():
            g = np.array([_gain(cov, j, w, done) if available[j] else -1.0 for j in range(n_cand)])
            j = int(np.argmax(g))  # the first maximum: lowest index on ties
            if g[j] <= 0:
                break
            sites.append(j)
            gains.append(float(g[j]))
            available[j] = False
            _mark(cov, j, done)
    return CoverResult(
        sites=np.asarray(sites, dtype=np.int64),
        gains=np.asarray(gains, dtype=np.float64),
        covered_weight=float(math.fsum(gains)),
        covered=done,
    )


def _mark(cov: sp.csr_array, j: int, done: BoolArray) -> None:
    done[cov.indices[cov.indptr[j] : cov.indptr[j + 1]]] = True


def exact_max_cover(
    coverage: sp.sparray | sp.spmatrix | ArrayLike,
    weights: ArrayLike,
    k: int,
    *,
    covered: ArrayLike | None = None,
    time_limit_s: float | None = None,
) -> CoverResult:
    """The optimal choice of at most ``k`` sites, by mixed-integer programming (HiGHS).

    Meant for checking :func:`greedy_max_cover` on small cases: the problem is NP-hard.

    Parameters
    ----------
    coverage, weights, k, covered
        As for :func:`greedy_max_cover`.
    time_limit_s : float, optional
        Stop the solver after this long (the result is then not proven optimal).

    Returns
    -------
    CoverResult
        ``sites`` in increasing index; ``gains`` are the marginal gains in that order.

    Notes
    -----
    Maximise ``sum_i w_i y_i`` subject to ``y_i <= sum_{j covers i} x_j``,
    ``sum_j x_j <= k``, ``x`` binary and ``0 <= y <= 1`` (y need not be integer: at the optimum
    it is 1 exactly where some chosen site covers i). Demand already covered is left out.
    """
    cov, w, done = _prepare(coverage, weights, k, covered)
    n_cand = cov.shape[0]
    open_cols = np.flatnonzero(~done & (w > 0))
    m = open_cols.shape[0]
    if n_cand == 0 or m == 0 or k == 0:
        return CoverResult(np.empty(0, np.int64), np.empty(0), 0.0, done, optimal=True)
    sub = cov[:, open_cols].T.tocsr().astype(np.float64)  # (m, n_cand)
    # Variables: x (n_cand), then y (m). Rows: y_i - sum_j a_ij x_j <= 0, then sum x <= k.
    a_cover = sp.hstack([-sub, sp.identity(m, format="csr")], format="csr")
    a_count = sp.hstack([sp.csr_array(np.ones((1, n_cand))), sp.csr_array((1, m))], format="csr")
    constraints = [
        LinearConstraint(a_cover, -np.inf, 0.0),
        LinearConstraint(a_count, -np.inf, float(k)),
    ]
    c = np.concatenate([np.zeros(n_cand), -w[open_cols]])
    integrality = np.concatenate([np.ones(n_cand), np.zeros(m)])
    options = {} if time_limit_s is None else {"time_limit": float(time_limit_s)}
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0.0, 1.0),
        options=options,
    )
    if res.x is None:
        raise RuntimeError(f"the MILP solver found no solution: {res.message}")
    chosen = np.flatnonzero(res.x[:n_cand] > 0.5)
    gains = []
    for j in chosen.tolist():
        gains.append(_gain(cov, j, w, done))
        _mark(cov, j, done)
    # Chosen sites that add nothing are dropped, as the greedy would never pick them.
    keep = np.asarray(gains) > 0
    return CoverResult(
        sites=chosen[keep].astype(np.int64),
        gains=np.asarray(gains, dtype=np.float64)[keep],
        covered_weight=float(math.fsum(gains)),
        covered=done,
        optimal=bool(res.status == 0),
    )


@dataclass(frozen=True)
class SiteSuggestion:
    """New sites for one rule, in the order to build them.

    Attributes
    ----------
    lon, lat : ndarray of float64
        The chosen candidate positions.
    candidate : ndarray of int64
        Their indices among the candidates.
    children_added : ndarray of float64
        Children newly within the rule's threshold thanks to each site (given the earlier ones).
    children_covered_before, children_covered_after : float
        Children of the rule's age groups within the threshold before and after.
    children_total : float
    """

    lon: FloatArray
    lat: FloatArray
    candidate: IntArray
    children_added: FloatArray
    children_covered_before: float
    children_covered_after: float
    children_total: float


def suggest_sites(
    index: NetworkIndex,
    demand: DemandPoints,
    nearest_m: ArrayLike,
    rule: Rule,
    k: int,
    *,
    candidates: tuple[ArrayLike, ArrayLike] | None = None,
    every_m: float = 100.0,
    max_offset_m: float | None = None,
) -> SiteSuggestion:
    """Where to build ``k`` new facilities of a rule to bring the most children within reach.

    Parameters
    ----------
    index : NetworkIndex
    demand : DemandPoints
    nearest_m : array_like of float
        Current nearest-facility distance of each demand point for this rule
        (``RuleResult.nearest_m``); children already within the threshold count as covered.
    rule : Rule
        Gives the threshold and the age groups.
    k : int
        Number of new sites.
    candidates : (lon, lat), optional
        Candidate positions given by the user (e.g. vacant plots); by default every network
        node of the main component and points every ``every_m`` metres along its edges.
    every_m : float, default 100
    max_offset_m : float, optional
        Snapping option for candidates and homes (see :meth:`WalkGraph.snap`).

    Returns
    -------
    SiteSuggestion
        Chosen greedily with lazy evaluation (:func:`greedy_max_cover`).
    """
    graph = index.graph
    dist = float_vector(nearest_m, "nearest_m")
    if dist.shape[0] != len(demand):
        raise ValueError("nearest_m must have one entry per demand point")
    if candidates is None:
        clon, clat = candidates_along_edges(graph, every_m)
    else:
        clon, clat = float_vector(candidates[0], "lon"), float_vector(candidates[1], "lat")
    kids = demand.children(rule.age_groups)
    covered = dist <= rule.threshold_m
    homes = graph.snap(demand.lon, demand.lat, max_offset_m=max_offset_m)
    sites = graph.snap(clon, clat, max_offset_m=max_offset_m)
    cov = coverage_matrix(index, sites, homes, rule.threshold_m)
    res = greedy_max_cover(cov, kids, k, covered=covered)
    before = float(kids[covered].sum())
    return SiteSuggestion(
        lon=clon[res.sites],
        lat=clat[res.sites],
        candidate=res.sites,
        children_added=res.gains,
        children_covered_before=before,
        children_covered_after=before + res.covered_weight,
        children_total=float(kids.sum()),
    )
