"""Tests for :mod:`yimi.analysis.access.network`: nearest facility and bounded searches.

Every distance is compared with networkx on a model where edges are split at the snapped places
(see ``test_access_support``), on synthetic and on the real sample network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yimi.analysis.access.network import NetworkIndex, Reach
from yimi.analysis.graph import Snap, WalkGraph
from yimi.analysis.tests.test_access_support import (
    ATOL,
    geodesic,
    near_points,
    nx_graph,
    nx_of,
    parse_osm,
    perturbed_grid,
    random_geometric,
    random_points,
    reference_distances,
    reference_nearest,
    to_lonlat,
)


def places(
    graph: WalkGraph, rng: np.random.Generator, n_fac: int, n_home: int
) -> tuple[Snap, Snap]:
    """Facilities and homes; a third of the homes right next to facilities (same edge)."""
    flon, flat = random_points(rng, graph.lon, graph.lat, n_fac)
    hlon, hlat = random_points(rng, graph.lon, graph.lat, n_home)
    k = min(n_fac, n_home // 3)
    nlon, nlat = near_points(rng, flon[:k], flat[:k], 2e-5)
    hlon[-k:], hlat[-k:] = nlon, nlat
    return graph.snap(flon, flat), graph.snap(hlon, hlat)


def check_nearest(graph: WalkGraph, fac: Snap, home: Snap) -> None:
    index = NetworkIndex(graph, cell_m=50.0)
    got = index.nearest(fac, home)
    ref = reference_nearest(nx_of(graph), fac, home)
    np.testing.assert_allclose(got.dist_m, ref, rtol=0, atol=ATOL)
    # The compiled search (chains contracted) and scipy's dijkstra: equal to rounding.
    np.testing.assert_allclose(
        got.dist_m, index.nearest(fac, home, method="scipy").dist_m, rtol=0, atol=1e-9
    )
    assert np.array_equal(got.reachable, np.isfinite(ref))
    # The reported facility really is (one of) the nearest.
    full = reference_distances(nx_of(graph), fac, home)
    ok = got.reachable
    np.testing.assert_allclose(
        full[got.source[ok], np.flatnonzero(ok)], got.dist_m[ok], rtol=0, atol=ATOL
    )
    same = fac.edge[:, None] == home.edge[None, :]
    assert (same & (fac.edge[:, None] >= 0)).any(), "exercise places on the same edge"


def check_reach(graph: WalkGraph, fac: Snap, home: Snap, limit: float) -> Reach:
    """The compiled kernel and both scipy methods (grouped with one window and with many small
    ones), against networkx; the kernel's pairs are the very numbers of the grouped method."""
    full = reference_distances(nx_of(graph), fac, home)
    expected = np.argwhere(full <= limit)
    index = NetworkIndex(graph, cell_m=40.0)
    small = NetworkIndex(graph, cell_m=40.0)
    small._tile_cells = 2  # tiles of 2 x 2 cells: sources spread over many windows
    prepared = small.prepare_targets(home)
    runs = [
        index.reach(fac, home, limit),
        index.reach(fac, home, limit, method="local", max_batch_nodes=150),
        small.reach(fac, prepared, limit, method="grouped"),
        small.reach(fac, prepared, 0.5 * limit, method="grouped"),  # reuses the wider windows
        index.reach(fac, prepared, limit, method="grouped"),
    ]
    np.testing.assert_array_equal(runs[0].dist_m, runs[-1].dist_m)
    assert small._tiles is not None and len(small._tiles.windows) > 1
    for reach in runs:
        lim = reach.limit_m
        got = np.column_stack([reach.source, reach.target])
        assert got.tolist() == np.argwhere(full <= lim).tolist()
        np.testing.assert_allclose(reach.dist_m, full[full <= lim], rtol=0, atol=ATOL)
        for t in (0.4 * lim, lim):
            np.testing.assert_array_equal(reach.counts(t), (full <= t).sum(axis=0))
    assert expected.shape[0] == len(runs[0])
    return runs[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_on_perturbed_grid_matches_networkx(seed: int) -> None:
    lon, lat, u, v, rng = perturbed_grid(seed)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    assert graph.dropped_parallel > 0  # duplicate edges are part of the case
    fac, home = places(graph, rng, 7, 60)
    check_nearest(graph, fac, home)


@pytest.mark.parametrize("seed", [3, 4])
def test_nearest_on_disconnected_graph_reports_unreachable(seed: int) -> None:
    lon, lat, u, v, rng = random_geometric(seed)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    assert graph.n_components > 1
    fac, home = places(graph, rng, 5, 80)
    got = NetworkIndex(graph).nearest(fac, home)
    assert (~got.reachable).any(), "some homes should sit on pieces without a facility"
    assert np.isinf(got.dist_m[~got.reachable]).all()
    assert (got.source[~got.reachable] == -1).all()
    check_nearest(graph, fac, home)


def test_nearest_with_given_lengths_and_parallel_edges() -> None:
    lon, lat, u, v, rng = perturbed_grid(5)
    # Lengths longer than the straight line, different for each parallel copy.
    length = geodesic(lon[u], lat[u], lon[v], lat[v]) * rng.uniform(1.0, 1.5, u.size)
    graph = WalkGraph.from_arrays(lon, lat, u, v, length)
    fac, home = places(graph, rng, 6, 50)
    check_nearest(graph, fac, home)
    check_reach(graph, fac, home, 400.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("limit", [150.0, 420.0])
def test_reach_on_perturbed_grid_matches_networkx(seed: int, limit: float) -> None:
    lon, lat, u, v, rng = perturbed_grid(seed)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac, home = places(graph, rng, 9, 70)
    reach = check_reach(graph, fac, home, limit)
    # The bounded pairs agree with the unbounded nearest search.
    nearest = NetworkIndex(graph).nearest(fac, home)
    within = reach.nearest()
    close = nearest.dist_m <= limit
    np.testing.assert_allclose(within.dist_m[close], nearest.dist_m[close], rtol=0, atol=ATOL)
    assert np.isinf(within.dist_m[~close]).all()


def test_reach_on_disconnected_graph() -> None:
    lon, lat, u, v, rng = random_geometric(6)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac, home = places(graph, rng, 8, 60)
    check_reach(graph, fac, home, 500.0)


def test_reach_zero_length_edges_and_points_on_nodes() -> None:
    # A path 0-1-2-3 where 1 and 2 share a position (a zero-length edge).
    lon, lat = to_lonlat([0.0, 100.0, 100.0, 200.0], [0.0, 0.0, 0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 1, 2], [1, 2, 3])
    fac = graph.snap(*to_lonlat([0.0], [0.0]))  # exactly on node 0, offset 0
    home = graph.snap(*to_lonlat([0.0, 100.0, 150.0, 200.0], [0.0, 0.0, 3.0, 0.0]))
    index = NetworkIndex(graph)
    reach = index.reach(fac, home, 160.0)
    assert reach.target.tolist() == [0, 1, 2]
    np.testing.assert_allclose(reach.dist_m, [0.0, 100.0, 153.0], atol=1e-3)
    assert reach.dist_m[0] == 0.0  # a zero distance is a real pair, not dropped
    near = index.nearest(fac, home)
    np.testing.assert_allclose(near.dist_m, [0.0, 100.0, 153.0, 200.0], atol=1e-3)


def test_same_edge_going_round_is_shorter() -> None:
    # A 1000 m edge (a long curved way) whose ends are also joined by a 102 m detour.
    lon, lat = to_lonlat([0.0, 100.0, 50.0], [0.0, 0.0, 5.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 0, 2], [1, 2, 1], [1000.0, 51.0, 51.0])
    fac = graph.snap(*to_lonlat([1.0], [-0.5]))
    home = graph.snap(*to_lonlat([99.0], [-0.5]))
    assert fac.edge[0] == home.edge[0]
    ref = reference_nearest(nx_of(graph), fac, home)
    index = NetworkIndex(graph)
    assert index.nearest(fac, home).dist_m[0] == pytest.approx(ref[0], abs=ATOL)
    assert index.reach(fac, home, 500.0).dist_m[0] == pytest.approx(ref[0], abs=ATOL)
    assert ref[0] < 200.0


def test_unsnapped_and_empty_inputs() -> None:
    lon, lat = to_lonlat([0.0, 100.0], [0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0], [1])
    index = NetworkIndex(graph)
    far = graph.snap(*to_lonlat([50.0], [5000.0]), max_offset_m=100.0)
    home = graph.snap(*to_lonlat([10.0, 50.0], [1.0, 5000.0]), max_offset_m=100.0)
    near = index.nearest(far, home)
    assert np.isinf(near.dist_m).all() and (near.source == -1).all()
    assert len(index.reach(far, home, 1000.0)) == 0
    none = graph.snap(np.empty(0), np.empty(0))
    assert len(index.nearest(none, home).dist_m) == 2
    assert len(index.reach(home, none, 100.0)) == 0
    with pytest.raises(ValueError, match="limit_m"):
        index.reach(home, home, -1.0)
    reach = index.reach(home, home, 100.0)
    with pytest.raises(ValueError, match="exceeds the search limit"):
        reach.counts(200.0)


def test_real_sample_network_matches_networkx(sample_osm_path: Path) -> None:
    lon, lat, u, v, osm_ids = parse_osm(sample_osm_path)
    graph = WalkGraph.from_arrays(lon, lat, u, v, node_ids=osm_ids)
    rng = np.random.default_rng(11)
    fac, home = places(graph, rng, 12, 90)
    g = nx_graph(graph.n_nodes, graph.edge_u, graph.edge_v, graph.edge_length_m)
    index = NetworkIndex(graph)
    got = index.nearest(fac, home)
    np.testing.assert_allclose(got.dist_m, reference_nearest(g, fac, home), rtol=0, atol=ATOL)
    full = reference_distances(g, fac, home)
    small = NetworkIndex(graph)
    small._tile_cells = 3
    for reach in (
        index.reach(fac, home, 1000.0),
        index.reach(fac, home, 1000.0, method="local", max_batch_nodes=2000),
        small.reach(fac, home, 1000.0, method="grouped"),
    ):
        assert np.column_stack([reach.source, reach.target]).tolist() == (
            np.argwhere(full <= 1000.0).tolist()
        )
        np.testing.assert_allclose(reach.dist_m, full[full <= 1000.0], rtol=0, atol=ATOL)
    assert small._tiles is not None and len(small._tiles.windows) > 1


def test_reach_select_sources_and_coverage() -> None:
    lon, lat, u, v, rng = perturbed_grid(8)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac, home = places(graph, rng, 6, 40)
    reach = NetworkIndex(graph).reach(fac, home, 300.0)
    sub = reach.select_sources(np.array([4, 1]))
    assert sub.n_sources == 2
    full = reach.coverage(300.0).toarray()
    np.testing.assert_array_equal(sub.coverage(300.0).toarray(), full[[4, 1]])


def test_lengths_shorter_than_straight_lines_are_still_exact() -> None:
    lon, lat, u, v, rng = perturbed_grid(9)
    # Some ways given shorter than the straight line between their ends (bad input data).
    length = geodesic(lon[u], lat[u], lon[v], lat[v]) * np.where(rng.random(u.size) < 0.1, 0.4, 1.0)
    graph = WalkGraph.from_arrays(lon, lat, u, v, length)
    index = NetworkIndex(graph)
    assert 2.4 < index.stretch < 2.6
    fac, home = places(graph, rng, 8, 50)
    check_reach(graph, fac, home, 300.0)
    # Geodesic lengths: the stretch is the projection's tiny scale error.
    assert 1.0 <= NetworkIndex(WalkGraph.from_arrays(lon, lat, u, v)).stretch < 1.0 + 1e-5


def test_zero_length_between_distinct_positions_is_refused() -> None:
    lon, lat = to_lonlat([0.0, 100.0, 200.0], [0.0, 0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 1], [1, 2], [100.0, 0.0])
    index = NetworkIndex(graph)
    assert index.stretch == np.inf
    s = graph.snap(*to_lonlat([10.0], [1.0]))
    with pytest.raises(ValueError, match="length 0 between distinct positions"):
        index.reach(s, s, 100.0, method="grouped")
    # The compiled search needs no straight-line bound.
    h = graph.snap(*to_lonlat([10.0, 150.0, 190.0], [1.0, 1.0, 2.0]))
    reach = index.reach(s, h, 300.0)
    ref = graph.distance_matrix_snapped(s, h)[0]
    assert reach.target.tolist() == [0, 1, 2]
    np.testing.assert_allclose(reach.dist_m, ref, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        index.nearest(s, h).dist_m, index.nearest(s, h, method="scipy").dist_m, rtol=0, atol=1e-9
    )
    # The nearest search needs no bound and still works.
    assert index.nearest(s, s).dist_m[0] == pytest.approx(2.0, abs=1e-3)


def test_nearest_with_unsnapped_targets_keeps_same_edge_results_on_the_right_target() -> None:
    # Regression: the same-edge correction used Snap indices where positions among the snapped
    # targets were meant, so an unsnapped first target shifted results onto the wrong homes.
    from yimi.analysis.access.network import NetworkIndex
    from yimi.analysis.graph import WalkGraph

    g = WalkGraph.from_arrays([116.0, 116.001, 116.002], [39.9] * 3, [0, 1], [1, 2])
    idx = NetworkIndex(g)
    src = g.snap([116.0], [39.9])
    tg = g.snap([116.0, 116.0002, 116.0019], [39.0, 39.9, 39.9], max_offset_m=5)
    got = idx.nearest(src, tg).dist_m
    assert got[0] == float("inf")
    ref = g.distance_matrix_snapped(src, tg)[0]
    assert abs(got[1] - ref[1]) < 1e-6 and abs(got[2] - ref[2]) < 1e-6
    assert got[2] > 150


def test_prepared_targets_are_checked_and_reusable() -> None:
    lon, lat, u, v, rng = perturbed_grid(10)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac, home = places(graph, rng, 7, 50)
    index = NetworkIndex(graph)
    prepared = index.prepare_targets(home)
    assert index.prepare_targets(prepared) is prepared
    assert len(prepared) == len(home)
    a, b = index.reach(fac, home, 350.0), index.reach(fac, prepared, 350.0)
    assert a.source.tolist() == b.source.tolist() and a.target.tolist() == b.target.tolist()
    np.testing.assert_array_equal(a.dist_m, b.dist_m)
    np.testing.assert_array_equal(
        index.nearest(fac, prepared).dist_m, index.nearest(fac, home).dist_m
    )
    other = WalkGraph.from_arrays(lon[:20], lat[:20], [0, 1], [1, 2])
    with pytest.raises(ValueError, match="different graph"):
        NetworkIndex(other).prepare_targets(prepared)
    with pytest.raises(ValueError, match="method"):
        index.reach(fac, prepared, 100.0, method="fast")  # type: ignore[arg-type]


def test_reach_sources_on_edges_longer_than_the_window_margin() -> None:
    # A 2 km street with short side streets: a facility near one end of it has its other end
    # far outside any window of a 300 m search.
    xs = [0.0, 2000.0, 100.0, 100.0, 1900.0, 1900.0]
    ys = [0.0, 0.0, 60.0, -60.0, 60.0, -60.0]
    lon, lat = to_lonlat(xs, ys)
    graph = WalkGraph.from_arrays(lon, lat, [0, 0, 0, 1, 1], [1, 2, 3, 4, 5])
    fac = graph.snap(*to_lonlat([30.0, 1990.0, 1000.0], [1.0, -1.0, 2.0]))
    home = graph.snap(
        *to_lonlat([5.0, 250.0, 1800.0, 100.0, 1900.0, 1000.0], [0, 0, 0, 60, -60, 0])
    )
    full = reference_distances(nx_of(graph), fac, home)
    index = NetworkIndex(graph, cell_m=20.0)
    index._tile_cells = 2
    for limit in (300.0, 1200.0):
        reach = index.reach(fac, home, limit)
        assert np.column_stack([reach.source, reach.target]).tolist() == (
            np.argwhere(full <= limit).tolist()
        )
        np.testing.assert_allclose(reach.dist_m, full[full <= limit], rtol=0, atol=ATOL)
