"""Tests for maximal-coverage siting: greedy vs the exact MILP, lazy vs plain greedy, candidates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from yimi.analysis.access.demand import demand_from_points
from yimi.analysis.access.network import NetworkIndex
from yimi.analysis.access.rulepack import load_rule_pack
from yimi.analysis.access.siting import (
    candidates_along_edges,
    candidates_at_nodes,
    coverage_matrix,
    exact_max_cover,
    greedy_max_cover,
    suggest_sites,
)
from yimi.analysis.graph import WalkGraph
from yimi.analysis.tests.test_access_support import (
    geodesic,
    perturbed_grid,
    random_geometric,
    random_points,
)


def random_cover(
    seed: int, n_cand: int = 14, n_dem: int = 40, density: float = 0.15
) -> tuple[sp.csr_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    cov = rng.random((n_cand, n_dem)) < density
    # Integer weights with repeats, so ties between candidates happen.
    w = rng.integers(0, 5, n_dem).astype(float)
    return sp.csr_array(cov), w


def brute_force_optimum(cov: np.ndarray, w: np.ndarray, k: int) -> float:
    from itertools import combinations

    best = 0.0
    for r in range(1, k + 1):
        for sites in combinations(range(cov.shape[0]), r):
            best = max(best, float(w[cov[list(sites)].any(axis=0)].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("k", [1, 2, 4])
def test_greedy_is_within_the_bound_of_the_optimum(seed: int, k: int) -> None:
    cov, w = random_cover(seed)
    greedy = greedy_max_cover(cov, w, k)
    exact = exact_max_cover(cov, w, k)
    assert exact.optimal
    assert exact.covered_weight >= greedy.covered_weight - 1e-9
    assert greedy.covered_weight >= (1 - 1 / math.e) * exact.covered_weight - 1e-9
    # The reported optimum really covers that much with at most k sites.
    dense = cov.toarray()
    assert len(exact.sites) <= k
    assert w[dense[exact.sites].any(axis=0)].sum() == pytest.approx(exact.covered_weight)
    if seed < 4 and k <= 2:
        assert exact.covered_weight == pytest.approx(brute_force_optimum(dense, w, k))


@pytest.mark.parametrize("seed", range(20))
def test_lazy_greedy_equals_plain_greedy(seed: int) -> None:
    cov, w = random_cover(seed, n_cand=25, n_dem=60, density=0.1)
    covered = np.random.default_rng(seed + 100).random(60) < 0.2
    for k in (1, 3, 8, 30):
        lazy = greedy_max_cover(cov, w, k, covered=covered, lazy=True)
        plain = greedy_max_cover(cov, w, k, covered=covered, lazy=False)
        assert lazy.sites.tolist() == plain.sites.tolist()
        assert lazy.gains.tolist() == plain.gains.tolist()
        assert np.array_equal(lazy.covered, plain.covered)


def test_greedy_is_optimal_on_disjoint_sets_and_reports_gains() -> None:
    # Candidate j covers a block of its own; weights make the order clear.
    blocks = [[0, 1], [2], [3, 4, 5], [6]]
    w = np.array([1.0, 1.0, 5.0, 2.0, 2.0, 2.0, 0.5])
    cov = np.zeros((4, 7), dtype=bool)
    for j, cols in enumerate(blocks):
        cov[j, cols] = True
    res = greedy_max_cover(cov, w, 3)
    assert res.sites.tolist() == [2, 1, 0]
    assert res.gains.tolist() == [6.0, 5.0, 2.0]
    assert res.covered_weight == exact_max_cover(cov, w, 3).covered_weight == 13.0
    assert res.covered.tolist() == [True] * 6 + [False]


def test_greedy_stops_when_nothing_is_left_and_respects_covered() -> None:
    cov = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    w = np.array([1.0, 1.0, 4.0])
    res = greedy_max_cover(cov, w, 3, covered=[True, False, False])
    assert res.sites.tolist() == [0]  # ties with candidate 1: the lower index
    assert res.gains.tolist() == [1.0]
    assert exact_max_cover(cov, w, 3, covered=[True, False, False]).covered_weight == 1.0
    assert greedy_max_cover(cov, w, 0).sites.size == 0
    with pytest.raises(ValueError, match="one column per demand"):
        greedy_max_cover(cov, w[:2], 1)


def test_candidates_along_edges_spacing() -> None:
    lon, lat, u, v, _ = perturbed_grid(3)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    nlon, nlat = candidates_at_nodes(graph)
    assert nlon.size == int((graph.component_labels == 0).sum())
    clon, clat = candidates_along_edges(graph, 20.0)
    assert np.array_equal(clon[: nlon.size], nlon)
    extra = clon.size - nlon.size
    main = graph.component_labels[graph.edge_u] == 0
    expected = np.maximum(np.ceil(graph.edge_length_m[main] / 20.0) - 1, 0).sum()
    assert extra == expected
    # Interior points lie on their edges: snapping them moves them by (almost) nothing.
    s = graph.snap(clon[nlon.size :], clat[nlon.size :])
    assert s.offset_m.max() < 1e-3
    with pytest.raises(ValueError, match="every_m"):
        candidates_along_edges(graph, 0.0)


def test_coverage_matrix_matches_dense_distances() -> None:
    lon, lat, u, v, rng = random_geometric(7)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    cand = graph.snap(*random_points(rng, lon, lat, 15))
    home = graph.snap(*random_points(rng, lon, lat, 70))
    cov = coverage_matrix(NetworkIndex(graph), cand, home, 300.0)
    dense = graph.distance_matrix_snapped(cand, home)
    np.testing.assert_array_equal(cov.toarray(), dense <= 300.0)


def test_siting_on_a_network_end_to_end() -> None:
    lon, lat, u, v, rng = perturbed_grid(4, nx_=14, ny=12)
    graph = WalkGraph.from_arrays(lon, lat, u, v, geodesic(lon[u], lat[u], lon[v], lat[v]))
    homes = graph.snap(*random_points(rng, lon, lat, 60))
    weights = rng.integers(1, 10, 60).astype(float)
    cand = graph.snap(*candidates_along_edges(graph, 120.0))
    cov = coverage_matrix(NetworkIndex(graph), cand, homes, 250.0)
    greedy = greedy_max_cover(cov, weights, 3)
    exact = exact_max_cover(cov, weights, 3, time_limit_s=60)
    assert greedy.covered_weight >= (1 - 1 / math.e) * exact.covered_weight
    assert greedy.covered_weight <= exact.covered_weight + 1e-9
    assert np.all(np.diff(greedy.gains) <= 0)  # submodular: gains never grow


def test_suggest_sites_for_a_rule() -> None:
    lon, lat, u, v, rng = perturbed_grid(6, nx_=16, ny=12)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    index = NetworkIndex(graph)
    hlon, hlat = random_points(rng, lon, lat, 80)
    demand = demand_from_points(hlon, hlat, rng.integers(0, 4, (80, 4)).astype(float))
    rule = load_rule_pack().rule("kindergarten")
    existing = graph.snap(lon[:1], lat[:1])
    nearest = index.nearest(existing, graph.snap(hlon, hlat)).dist_m
    got = suggest_sites(index, demand, nearest, rule, 3, every_m=50.0)
    kids = demand.children(rule.age_groups)
    assert got.children_covered_before == kids[nearest <= 300.0].sum()
    assert got.children_total == kids.sum()
    assert got.children_covered_after == pytest.approx(
        got.children_covered_before + got.children_added.sum()
    )
    # Building the suggested sites really covers that many children.
    new = graph.snap(np.append(lon[:1], got.lon), np.append(lat[:1], got.lat))
    after = index.nearest(new, graph.snap(hlon, hlat)).dist_m
    assert kids[after <= 300.0].sum() == pytest.approx(got.children_covered_after)
    # User-given candidates.
    mine = suggest_sites(index, demand, nearest, rule, 1, candidates=(lon[5:9], lat[5:9]))
    assert mine.candidate.tolist() and mine.candidate[0] < 4
