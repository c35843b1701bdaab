"""Tests for the compiled searches (:mod:`yimi.analysis.access._kernels`) behind
:meth:`NetworkIndex.nearest` and :meth:`NetworkIndex.reach` (the default methods).

Every distance is compared with networkx on the split model of ``test_access_support`` (places
hang off their snapped points by their offsets), to 1e-6 m, and with the scipy methods, which
add the same numbers in the same order and so must give the very same floats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yimi.analysis.access import network as network_module
from yimi.analysis.access.fca import search_two_step_fca, two_step_fca
from yimi.analysis.access.network import NetworkIndex, PreparedTargets, Reach, take
from yimi.analysis.geo import haversine_m
from yimi.analysis.graph import Snap, WalkGraph
from yimi.analysis.tests.test_access_support import (
    ATOL,
    near_points,
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
    """Facilities and homes; a third of the homes next to facilities (often the same edge)."""
    flon, flat = random_points(rng, graph.lon, graph.lat, n_fac)
    hlon, hlat = random_points(rng, graph.lon, graph.lat, n_home)
    k = min(n_fac, n_home // 3)
    nlon, nlat = near_points(rng, flon[:k], flat[:k], 2e-5)
    hlon[-k:], hlat[-k:] = nlon, nlat
    return graph.snap(flon, flat), graph.snap(hlon, hlat)


def assert_reach_exact(reach: Reach, full: np.ndarray) -> None:
    lim = reach.limit_m
    assert np.column_stack([reach.source, reach.target]).tolist() == (
        np.argwhere(full <= lim).tolist()
    )
    np.testing.assert_allclose(reach.dist_m, full[full <= lim], rtol=0, atol=ATOL)


def check_all(
    graph: WalkGraph, fac: Snap, home: Snap, limits: tuple[float, ...], threads: int = 1
) -> None:
    """Compiled nearest and reach against networkx and against the scipy methods."""
    g = nx_of(graph)
    index = NetworkIndex(graph, threads=threads)
    near = index.nearest(fac, home)
    ref = reference_nearest(g, fac, home)
    np.testing.assert_allclose(near.dist_m, ref, rtol=0, atol=ATOL)
    assert np.array_equal(near.reachable, np.isfinite(ref))
    # The chains are summed in another order than scipy's paths: equal to rounding.
    scipy_near = index.nearest(fac, home, method="scipy")
    np.testing.assert_allclose(near.dist_m, scipy_near.dist_m, rtol=0, atol=1e-9)
    full = reference_distances(g, fac, home)
    ok = near.reachable
    np.testing.assert_allclose(
        full[near.source[ok], np.flatnonzero(ok)], near.dist_m[ok], rtol=0, atol=ATOL
    )
    prepared = index.prepare_targets(home)
    for limit in limits:
        got = index.reach(fac, prepared, limit)
        assert_reach_exact(got, full)
        old = index.reach(fac, prepared, limit, method="grouped")
        assert got.source.tolist() == old.source.tolist()
        assert got.target.tolist() == old.target.tolist()
        np.testing.assert_array_equal(got.dist_m, old.dist_m)
        for t in (0.3 * limit, limit):
            np.testing.assert_array_equal(got.counts(t), (full <= t).sum(axis=0))
        check_in_kernel(index, fac, prepared, limit, full)


def check_in_kernel(
    index: NetworkIndex, fac: Snap, home: Snap | PreparedTargets, limit: float, full: np.ndarray
) -> None:
    """Counts and 2SFCA computed inside the searches (no pairs listed) against the distances
    of networkx and against the results from the listed pairs."""
    thresholds = [limit, 0.3 * limit, 0.0, 0.7 * limit, 0.3 * limit]  # any order, repeats
    counts = index.counts(fac, home, thresholds)
    assert counts.shape == (len(thresholds), len(home)) and counts.dtype == np.int64
    for row, t in zip(counts, thresholds, strict=True):
        np.testing.assert_array_equal(row, (full <= t).sum(axis=0))
    rng = np.random.default_rng(int(limit))
    supply = rng.uniform(0.0, 50.0, len(fac))
    demand = rng.integers(0, 5, len(home)).astype(float)
    reach = index.reach(fac, home, limit)
    for decay in ("flat", "gaussian"):
        ref = two_step_fca(reach, supply, demand, catchment_m=limit, decay=decay)
        got = search_two_step_fca(index, fac, home, supply, demand, catchment_m=limit, decay=decay)
        np.testing.assert_allclose(got.ratio, ref.ratio, rtol=1e-13, atol=0, equal_nan=True)
        np.testing.assert_allclose(got.access, ref.access, rtol=1e-13, atol=1e-16)
        assert np.array_equal(np.isnan(got.ratio), np.isnan(ref.ratio))


def test_real_sample_network(sample_osm_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lon, lat, u, v, osm_ids = parse_osm(sample_osm_path)
    graph = WalkGraph.from_arrays(lon, lat, u, v, node_ids=osm_ids)
    rng = np.random.default_rng(5)
    fac, home = places(graph, rng, 40, 120)
    same = (fac.edge[:, None] == home.edge[None, :]) & (fac.edge[:, None] >= 0)
    assert same.any(), "exercise facilities and homes on one edge"
    check_all(graph, fac, home, (300.0, 1000.0))
    # Several threads, each a contiguous chunk of the sources: the same pairs, in order.
    monkeypatch.setattr(network_module, "_MIN_SOURCES_PER_THREAD", 1)
    check_all(graph, fac, home, (500.0,), threads=3)


@pytest.mark.parametrize("seed", [0, 1])
def test_perturbed_grid_with_parallel_edges(seed: int) -> None:
    lon, lat, u, v, rng = perturbed_grid(seed)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    assert graph.dropped_parallel > 0
    fac, home = places(graph, rng, 10, 80)
    check_all(graph, fac, home, (150.0, 400.0))


def test_disconnected_parts() -> None:
    lon, lat, u, v, rng = random_geometric(3)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    assert graph.n_components > 1
    fac, home = places(graph, rng, 8, 70)
    check_all(graph, fac, home, (600.0,))
    index = NetworkIndex(graph)
    assert (~index.nearest(fac, home).reachable).any(), "some homes reach no facility"


def test_zero_length_edges_and_shared_positions() -> None:
    # 0-1-2-3 along a street (100 m steps); node 4 shares node 1's position (a zero-length
    # edge joins them) and leads on to 5; edge 2-3 is given length 0 between distinct points.
    xs = [0.0, 100.0, 200.0, 300.0, 100.0, 100.0]
    ys = [0.0, 0.0, 0.0, 0.0, 0.0, 100.0]
    lon, lat = to_lonlat(xs, ys)
    graph = WalkGraph.from_arrays(
        lon, lat, [0, 1, 2, 1, 4], [1, 2, 3, 4, 5], [100.0, 100.0, 0.0, 0.0, 100.0]
    )
    fac = graph.snap(*to_lonlat([10.0, 250.0], [2.0, 1.0]))
    home = graph.snap(*to_lonlat([100.0, 100.0, 290.0, 190.0, 0.0], [60.0, 0.0, 0.0, 3.0, 0.0]))
    g = nx_of(graph)
    full = reference_distances(g, fac, home)
    index = NetworkIndex(graph)
    for limit in (50.0, 150.0, 400.0):
        assert_reach_exact(index.reach(fac, home, limit), full)
        check_in_kernel(index, fac, home, limit, full)
    np.testing.assert_allclose(
        index.nearest(fac, home).dist_m, reference_nearest(g, fac, home), rtol=0, atol=ATOL
    )
    assert index.reach(fac, home, 400.0).dist_m.min() >= 0.0


def test_facilities_on_one_edge_and_a_home_between_them() -> None:
    # One 400 m street; three facilities and three homes on it, one home beyond a crossing.
    lon, lat = to_lonlat([0.0, 400.0, 400.0], [0.0, 0.0, 100.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 1], [1, 2])
    fac = graph.snap(*to_lonlat([50.0, 50.0, 300.0], [5.0, -3.0, 2.0]))
    home = graph.snap(*to_lonlat([100.0, 200.0, 400.0], [4.0, 0.0, 80.0]))
    assert (fac.edge[:3] == home.edge[0]).all()
    g = nx_of(graph)
    full = reference_distances(g, fac, home)
    index = NetworkIndex(graph)
    for limit in (60.0, 160.0, 1000.0):
        assert_reach_exact(index.reach(fac, home, limit), full)
        check_in_kernel(index, fac, home, limit, full)
    np.testing.assert_allclose(
        index.nearest(fac, home).dist_m, reference_nearest(g, fac, home), rtol=0, atol=ATOL
    )


def test_thresholds_exactly_at_a_distance() -> None:
    # A square grid with lengths of exactly 100 m; facilities and homes exactly at nodes: every
    # distance is a whole multiple of 100 m, and a threshold equal to it includes it.
    n = 6
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    lon, lat = to_lonlat(ii.ravel() * 100.0, jj.ravel() * 100.0)
    u = [i * n + j for i in range(n) for j in range(n) if j + 1 < n]
    v = [i * n + j + 1 for i in range(n) for j in range(n) if j + 1 < n]
    u += [i * n + j for i in range(n - 1) for j in range(n)]
    v += [(i + 1) * n + j for i in range(n - 1) for j in range(n)]
    graph = WalkGraph.from_arrays(lon, lat, u, v, [100.0] * len(u))
    index = NetworkIndex(graph)
    fac = index.snap_to_nodes(lon[[0, 14, 35]], lat[[0, 14, 35]])
    home = index.snap_to_nodes(lon, lat)
    assert (fac.offset_m == 0).all() and (home.offset_m == 0).all()
    ii_, jj_ = ii.ravel(), jj.ravel()
    manhattan = 100.0 * (
        np.abs(ii_[[0, 14, 35]][:, None] - ii_[None, :])
        + np.abs(jj_[[0, 14, 35]][:, None] - jj_[None, :])
    )
    reach = index.reach(fac, home, 300.0)
    assert_reach_exact(reach, manhattan)
    assert (reach.dist_m == 300.0).sum() > 0, "pairs exactly at the limit are kept"
    np.testing.assert_array_equal(reach.counts(200.0), (manhattan <= 200.0).sum(axis=0))
    check_in_kernel(index, fac, home, 300.0, manhattan)
    at = np.nextafter(300.0, 0.0)
    np.testing.assert_array_equal(
        index.counts(fac, home, [at, 300.0]),
        np.stack([(manhattan < 300.0).sum(axis=0), (manhattan <= 300.0).sum(axis=0)]),
    )
    below = index.reach(fac, home, np.nextafter(300.0, 0.0))
    assert len(below) == int((manhattan < 300.0).sum())
    np.testing.assert_array_equal(index.nearest(fac, home).dist_m, manhattan.min(axis=0))


def test_bucket_width_does_not_change_the_results() -> None:
    lon, lat, u, v, rng = perturbed_grid(4)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac, home = places(graph, rng, 9, 70)
    base = NetworkIndex(graph)
    ref_r = base.reach(fac, home, 500.0)
    ref_n = base.nearest(fac, home)
    for width in (1e-3, 0.7, 37.0, 5000.0):
        index = NetworkIndex(graph)
        index._bucket_m = width
        r = index.reach(fac, home, 500.0)
        np.testing.assert_array_equal(
            index.counts(fac, home, [200.0, 500.0]), [ref_r.counts(200.0), ref_r.counts(500.0)]
        )
        assert r.target.tolist() == ref_r.target.tolist()
        np.testing.assert_array_equal(r.dist_m, ref_r.dist_m)
        np.testing.assert_array_equal(index.nearest(fac, home).dist_m, ref_n.dist_m)


def test_long_edges_wrap_the_nearest_buckets() -> None:
    # A 30 km edge among 50 m ones: the nearest search's buckets are used circularly.
    xs = [0.0, 50.0, 100.0, 30_100.0, 30_150.0]
    lon, lat = to_lonlat(xs, [0.0] * 5)
    graph = WalkGraph.from_arrays(lon, lat, [0, 1, 2, 3], [1, 2, 3, 4])
    index = NetworkIndex(graph)
    index._bucket_m = 1.0
    fac = graph.snap(*to_lonlat([10.0, 30_140.0], [1.0, 1.0]))
    home = graph.snap(*to_lonlat([20.0, 15_000.0, 30_120.0], [0.0, 5.0, 0.0]))
    g = nx_of(graph)
    np.testing.assert_allclose(
        index.nearest(fac, home).dist_m, reference_nearest(g, fac, home), rtol=0, atol=ATOL
    )
    np.testing.assert_allclose(
        index.nearest(fac, home).dist_m,
        index.nearest(fac, home, method="scipy").dist_m,
        rtol=0,
        atol=1e-9,
    )


def test_snap_to_nodes() -> None:
    lon, lat = to_lonlat([0.0, 100.0, 200.0, 500.0], [0.0, 0.0, 0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 1], [1, 2])  # node 3 has no edge
    index = NetworkIndex(graph)
    plon, plat = to_lonlat([0.0, 130.0, 480.0, 200.0], [0.0, 20.0, 0.0, 0.0])
    plon[3] = np.nan
    s = index.snap_to_nodes(plon, plat)
    assert s.snapped.tolist() == [True, True, True, False]
    # The point at node 0, the one near node 1, and the one near edgeless node 3 (to node 2).
    at = np.where(s.dist_from_u_m[:3] == 0, s.u[:3], s.v[:3])
    assert at.tolist() == [0, 1, 2]
    assert s.offset_m[0] == pytest.approx(0.0, abs=1e-6)
    expected = haversine_m(plon[1:3], plat[1:3], lon[[1, 2]], lat[[1, 2]])
    np.testing.assert_allclose(s.offset_m[1:3], expected, rtol=1e-9)
    np.testing.assert_allclose(s.lon[:3], lon[[0, 1, 2]])
    assert np.isnan(s.offset_m[3]) and s.edge[3] == -1
    # Searches from node-snapped sources count their offsets: to a home at node 2, from node 1
    # (about 36 m off, then 100 m along the street) rather than from node 2 itself (280 m off).
    home = graph.snap(*to_lonlat([200.0], [0.0]))
    near = index.nearest(s, home)
    assert near.source[0] == 1
    assert near.dist_m[0] == pytest.approx(float(s.offset_m[1]) + 100.0, abs=1e-6)
    g = nx_of(graph)
    np.testing.assert_allclose(
        near.dist_m, reference_nearest(g, take(s, [0, 1, 2]), home), atol=ATOL
    )
    with pytest.raises(ValueError, match="same length"):
        index.snap_to_nodes([1.0, 2.0], [1.0])


def test_threads_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    lon, lat, u, v, _ = perturbed_grid(2)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    monkeypatch.setenv("YIMI_ACCESS_THREADS", "3")
    assert NetworkIndex(graph).threads == 3
    monkeypatch.setenv("YIMI_ACCESS_THREADS", "zero")
    with pytest.raises(ValueError, match="YIMI_ACCESS_THREADS"):
        NetworkIndex(graph)
    monkeypatch.delenv("YIMI_ACCESS_THREADS")
    assert NetworkIndex(graph).threads >= 1
    with pytest.raises(ValueError, match="threads"):
        NetworkIndex(graph, threads=0)


def test_chains_of_degree_two_nodes_and_a_ring() -> None:
    # A curved way of 30 nodes between two junctions with side streets, a second, parallel
    # way between the same junctions, and a separate ring made only of degree-2 nodes.
    rng = np.random.default_rng(8)
    xs = [0.0, 600.0, -100.0, 700.0]  # junctions 0 and 1, dead ends 2 and 3
    ys = [0.0, 0.0, 0.0, 0.0]
    u, v = [0, 1], [2, 3]
    prev = 0
    for i in range(1, 31):  # the curved way 0 -> ... -> 1
        xs.append(600.0 * i / 31)
        ys.append(40.0 * np.sin(i / 5.0) + rng.uniform(-3, 3))
        u.append(prev)
        v.append(len(xs) - 1)
        prev = len(xs) - 1
    u.append(prev)
    v.append(1)
    prev = 0
    for i in range(1, 6):  # the parallel way 0 -> ... -> 1, 80 m south
        xs.append(600.0 * i / 6)
        ys.append(-80.0)
        u.append(prev)
        v.append(len(xs) - 1)
        prev = len(xs) - 1
    u.append(prev)
    v.append(1)
    ring0 = len(xs)
    for i in range(12):  # the ring, 1 km away
        xs.append(2000.0 + 100.0 * np.cos(2 * np.pi * i / 12))
        ys.append(100.0 * np.sin(2 * np.pi * i / 12))
        if i:
            u.append(ring0 + i - 1)
            v.append(ring0 + i)
    u.append(ring0 + 11)
    v.append(ring0)
    lon, lat = to_lonlat(xs, ys)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    index = NetworkIndex(graph)
    kept_id = index._chains()[0]
    # Kept: the two junctions, the two dead ends and one node of the ring.
    assert int((kept_id >= 0).sum()) == 5
    # Facilities inside the curved way (two on one edge), on the parallel one and on the ring;
    # homes all along.
    flon, flat = to_lonlat([105.0, 110.0, 450.0, 300.0, 2090.0], [30.0, 30.0, 0.0, -85.0, 40.0])
    hx = rng.uniform(-100, 700, 60).tolist() + [2000.0, 2100.0, 1900.0]
    hy = rng.uniform(-90, 45, 60).tolist() + [100.0, 0.0, 0.0]
    fac = graph.snap(flon, flat)
    home = graph.snap(*to_lonlat(hx, hy))
    g = nx_of(graph)
    ref = reference_nearest(g, fac, home)
    near = index.nearest(fac, home)
    np.testing.assert_allclose(near.dist_m, ref, rtol=0, atol=ATOL)
    full = reference_distances(g, fac, home)
    ok = near.reachable
    np.testing.assert_allclose(
        full[near.source[ok], np.flatnonzero(ok)], near.dist_m[ok], rtol=0, atol=ATOL
    )
    # Only the ring's facility serves the ring's homes.
    assert near.source[-3:].tolist() == [4, 4, 4]
    assert_reach_exact(index.reach(fac, home, 250.0), full)


def test_numba_cache_goes_to_the_data_dir_when_the_package_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numba

    from yimi.analysis.access import _kernels

    before = numba.config.CACHE_DIR
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("YIMI_DATA_DIR", str(tmp_path))
    try:
        monkeypatch.setattr(_kernels.os, "access", lambda *a, **k: True)
        _kernels._cache_dir()
        assert before == numba.config.CACHE_DIR  # writable: numba's own __pycache__
        monkeypatch.setattr(_kernels.os, "access", lambda *a, **k: False)
        _kernels._cache_dir()
        assert str(tmp_path / "cache" / "numba") == numba.config.CACHE_DIR
        assert (tmp_path / "cache" / "numba").is_dir()
        monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "own"))
        numba.config.CACHE_DIR = before
        _kernels._cache_dir()
        assert before == numba.config.CACHE_DIR  # an explicit setting wins
    finally:
        numba.config.CACHE_DIR = before


def test_counts_and_fca_in_the_searches_refuse_bad_input() -> None:
    lon, lat, u, v, rng = perturbed_grid(6)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac, home = places(graph, rng, 5, 30)
    index = NetworkIndex(graph)
    for bad in ([], [np.nan], [-1.0], [np.inf]):
        with pytest.raises(ValueError, match="thresholds_m"):
            index.counts(fac, home, bad)
    with pytest.raises(ValueError, match="catchment_m"):
        search_two_step_fca(index, fac, home, np.ones(5), np.ones(30), catchment_m=0.0)
    with pytest.raises(ValueError, match="decay"):
        search_two_step_fca(
            index, fac, home, np.ones(5), np.ones(30), catchment_m=100.0, decay="linear"
        )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="supply"):
        search_two_step_fca(index, fac, home, np.ones(4), np.ones(30), catchment_m=100.0)
    with pytest.raises(ValueError, match="demand"):
        search_two_step_fca(index, fac, home, np.ones(5), -np.ones(30), catchment_m=100.0)
    # No facility, or none snapped: zero counts, no access.
    none = take(fac, np.empty(0, dtype=np.int64))
    assert not index.counts(none, home, [100.0]).any()
    res = search_two_step_fca(index, none, home, [], np.ones(30), catchment_m=100.0)
    assert res.ratio.shape == (0,) and not res.access.any()


def test_renumbered_graph_is_the_same_graph(sample_osm_path: Path) -> None:
    # The bounded compiled searches run on the nodes renumbered along a Morton curve: the
    # same edges and lengths, a permutation of the nodes, neighbours closer in number.
    lon, lat, u, v, osm_ids = parse_osm(sample_osm_path)
    graph = WalkGraph.from_arrays(lon, lat, u, v, node_ids=osm_ids)
    index = NetworkIndex(graph)
    new, (indptr, indices, data) = index._renumbered()
    n = graph.n_nodes
    assert sorted(new.tolist()) == list(range(n))
    old_indptr, old_indices, old_data = index._csr

    def edges(ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, ids: np.ndarray) -> set:
        src = np.repeat(np.arange(n), np.diff(ptr))
        return set(zip(ids[src].tolist(), ids[idx].tolist(), w.tolist(), strict=True))

    same = np.arange(n)
    assert edges(indptr, indices, data, same) == edges(old_indptr, old_indices, old_data, new)
    span_old = np.abs(np.repeat(np.arange(n), np.diff(old_indptr)) - old_indices).mean()
    span_new = np.abs(np.repeat(np.arange(n), np.diff(indptr)) - indices).mean()
    assert span_new < span_old, "neighbours lie closer together in the new numbering"
