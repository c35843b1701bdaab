"""Tests for :mod:`yimi.analysis.graph`: distances are checked against networkx.

Synthetic graphs are laid out in metres in a local azimuthal equidistant projection and
converted to WGS-84, so hand-computed cases can be written in metres. Snapped places are checked
against a networkx model in which every edge carrying places is split at their snapped
positions and each place hangs off its split point by its offset: shortest paths in that graph
are the walking distances by definition, independent of the formulas in the module.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.spatial import cKDTree

from yimi.analysis.graph import PathResult, Snap, Unreachable, WalkGraph
from yimi.analysis.tests.test_access_support import (
    ATOL,
    geodesic,
    nx_graph,
    nx_with_places,
    parse_osm,
    to_lonlat,
)

# ---------------------------------------------------------------------- helpers


def reference_matrix(g: nx.Graph, src: Snap, dst: Snap) -> np.ndarray:
    h = nx_with_places(g, {"s": src, "d": dst})
    out = np.full((len(src), len(dst)), np.inf)
    for i in range(len(src)):
        d = nx.single_source_dijkstra_path_length(h, ("p", "s", i))
        for j in range(len(dst)):
            out[i, j] = d.get(("p", "d", j), np.inf)
    return out


def reference_node_distances(g: nx.Graph, source: int, n: int) -> np.ndarray:
    d = nx.single_source_dijkstra_path_length(g, source)
    return np.array([d.get(k, np.inf) for k in range(n)])


def perturbed_grid(seed: int, *, nx_: int = 20, ny: int = 15, spacing: float = 60.0):
    """A jittered grid with some edges removed, diagonals, parallel edges and self-loops."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny), indexing="ij")
    x = (ii.ravel() - nx_ / 2) * spacing + rng.uniform(-15, 15, ii.size)
    y = (jj.ravel() - ny / 2) * spacing + rng.uniform(-15, 15, ii.size)
    idx = (ii * ny + jj).ravel()
    u, v = [], []
    for i in range(nx_):
        for j in range(ny):
            k = i * ny + j
            if i + 1 < nx_:
                u.append(k), v.append(k + ny)
            if j + 1 < ny:
                u.append(k), v.append(k + 1)
            if i + 1 < nx_ and j + 1 < ny and rng.random() < 0.05:
                u.append(k), v.append(k + ny + 1)
    u, v = np.array(u), np.array(v)
    keep = rng.random(u.size) > 0.1
    u, v = u[keep], v[keep]
    # Parallel edges, half of them reversed, and a few self-loops.
    dup = rng.choice(u.size, size=u.size // 8, replace=False)
    flip = rng.random(dup.size) < 0.5
    u = np.concatenate([u, np.where(flip, v[dup], u[dup]), idx[:3]])
    v = np.concatenate([v, np.where(flip, u[dup], v[dup]), idx[:3]])
    lon, lat = to_lonlat(x, y)
    return lon, lat, u, v, rng


def random_geometric(seed: int, *, n: int = 250, size: float = 2000.0, radius: float = 170.0):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-size / 2, size / 2, (2, n))
    pairs = np.array(sorted(cKDTree(np.c_[x, y]).query_pairs(radius)))
    lon, lat = to_lonlat(x, y)
    return lon, lat, pairs[:, 0], pairs[:, 1], rng


def random_points(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, k: int):
    """Points in (a little beyond) the nodes' bounding box, plus a few exactly on nodes."""
    pad_lon = 0.05 * (lon.max() - lon.min())
    pad_lat = 0.05 * (lat.max() - lat.min())
    plon = rng.uniform(lon.min() - pad_lon, lon.max() + pad_lon, k)
    plat = rng.uniform(lat.min() - pad_lat, lat.max() + pad_lat, k)
    on_node = rng.choice(lon.size, size=max(1, k // 5), replace=False)
    plon[: on_node.size] = lon[on_node]
    plat[: on_node.size] = lat[on_node]
    return plon, plat


def check_against_networkx(graph: WalkGraph, g: nx.Graph, rng: np.random.Generator) -> None:
    n = graph.n_nodes
    for s in rng.choice(n, size=4, replace=False):
        dist, which = graph.nearest_source([s])
        np.testing.assert_allclose(dist, reference_node_distances(g, s, n), rtol=0, atol=ATOL)
        assert np.array_equal(which == 0, np.isfinite(dist))

    slon, slat = random_points(rng, graph.lon, graph.lat, 6)
    dlon, dlat = random_points(rng, graph.lon, graph.lat, 25)
    # Destinations close to sources, so some pairs share an edge.
    near = np.concatenate([np.full(slon.size, 2e-4), np.full(slon.size, 1e-5)])
    dlon = np.concatenate([dlon, np.tile(slon, 2) + rng.normal(0, near)])
    dlat = np.concatenate([dlat, np.tile(slat, 2) + rng.normal(0, near)])
    src, dst = graph.snap(slon, slat), graph.snap(dlon, dlat)
    got = graph.distance_matrix(slon, slat, dlon, dlat)
    np.testing.assert_allclose(got, reference_matrix(g, src, dst), rtol=0, atol=ATOL)
    same = src.edge[:, None] == dst.edge[None, :]
    assert same.any(), "the test should exercise places on the same edge"

    limited = graph.distance_matrix(slon, slat, dlon, dlat, limit=500.0)
    np.testing.assert_array_equal(limited, np.where(got <= 500.0, got, np.inf))


# ---------------------------------------------------------------------- distances vs networkx


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("given_lengths", [False, True])
def test_perturbed_grid_matches_networkx(seed: int, given_lengths: bool) -> None:
    lon, lat, u, v, rng = perturbed_grid(seed)
    straight = geodesic(lon[u], lat[u], lon[v], lat[v])
    # Given lengths: longer than the straight line (curved ways), different for parallel edges.
    length = straight * rng.uniform(1.0, 1.6, u.size) if given_lengths else straight
    graph = WalkGraph.from_arrays(lon, lat, u, v, length if given_lengths else None)
    g = nx_graph(lon.size, u, v, length)
    assert graph.n_edges == g.number_of_edges()
    assert graph.dropped_self_loops == 3
    check_against_networkx(graph, g, rng)


@pytest.mark.parametrize("seed", [3, 4])
def test_random_geometric_graph_matches_networkx(seed: int) -> None:
    lon, lat, u, v, rng = random_geometric(seed)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    g = nx_graph(lon.size, u, v, geodesic(lon[u], lat[u], lon[v], lat[v]))
    assert graph.n_components == nx.number_connected_components(g) > 1
    sizes = sorted((len(c) for c in nx.connected_components(g)), reverse=True)
    assert graph.component_sizes.tolist() == sizes
    check_against_networkx(graph, g, rng)


def test_nearest_source_matches_networkx_multi_source() -> None:
    lon, lat, u, v, rng = random_geometric(5)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    g = nx_graph(lon.size, u, v, graph_lengths := geodesic(lon[u], lat[u], lon[v], lat[v]))
    assert graph_lengths.size == u.size
    sources = rng.choice(lon.size, size=12, replace=False)
    sources = np.concatenate([sources, sources[:2]])  # repeats are allowed
    dist, which = graph.nearest_source(sources)
    ref = nx.multi_source_dijkstra_path_length(g, set(sources.tolist()))
    expected = np.array([ref.get(k, np.inf) for k in range(lon.size)])
    np.testing.assert_allclose(dist, expected, rtol=0, atol=ATOL)
    reached = np.isfinite(dist)
    assert np.array_equal(which >= 0, reached)
    assert which.max() < 12  # first position of a repeated source
    # The reported source really is (one of) the nearest: ties may pick either.
    for node in np.flatnonzero(reached)[::7]:
        d = nx.dijkstra_path_length(g, int(sources[which[node]]), int(node))
        assert d == pytest.approx(dist[node], abs=ATOL)

    limited, which_l = graph.nearest_source(sources, limit=100.0)
    np.testing.assert_array_equal(limited, np.where(dist <= 100.0, dist, np.inf))
    assert np.array_equal(which_l >= 0, np.isfinite(limited))


def test_real_sample_network_matches_networkx(sample_osm_path: Path) -> None:
    lon, lat, u, v, osm_ids = parse_osm(sample_osm_path)
    assert lon.size > 1000
    graph = WalkGraph.from_arrays(lon, lat, u, v, node_ids=osm_ids)
    g = nx_graph(lon.size, u, v, geodesic(lon[u], lat[u], lon[v], lat[v]))
    assert graph.n_edges == g.number_of_edges()
    sizes = sorted((len(c) for c in nx.connected_components(g)), reverse=True)
    assert graph.component_sizes.tolist() == sizes
    assert len(graph.fragments()) == len(sizes) - 1
    check_against_networkx(graph, g, np.random.default_rng(7))

    # A route on the real network agrees with the matrix and with networkx.
    a, b = (116.3150, 39.9960), (116.3260, 40.0080)
    route = graph.path(*a, *b)
    assert route.length_m == pytest.approx(graph.distance_matrix(*a, *b)[0, 0], abs=ATOL)
    for p, q in zip(route.node_indices[:-1], route.node_indices[1:], strict=True):
        assert g.has_edge(int(p), int(q))


# ---------------------------------------------------------------------- construction traps


def test_parallel_edges_keep_minimum_length_not_sum() -> None:
    lon, lat = to_lonlat([0.0, 100.0, 200.0], [0.0, 0.0, 0.0])
    # Node pair (0, 1) three times, in both directions; scipy's COO->CSR would sum to 220 m.
    graph = WalkGraph.from_arrays(
        lon, lat, [0, 1, 0, 1, 2], [1, 0, 1, 2, 1], [100.0, 50.0, 70.0, 30.0, 40.0]
    )
    assert graph.n_edges == 2
    assert graph.dropped_parallel == 3
    np.testing.assert_array_equal(graph.edge_length_m, [50.0, 30.0])
    dense = graph.csr.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert dense[0, 1] == 50.0
    dist, _ = graph.nearest_source([0])
    np.testing.assert_array_equal(dist, [0.0, 50.0, 80.0])

    # Duplicates without given lengths must not double the geodesic length either.
    same = WalkGraph.from_arrays(lon, lat, [0, 1, 0], [1, 0, 1])
    expected = geodesic(lon[0], lat[0], lon[1], lat[1])
    assert same.nearest_source([0])[0][1] == pytest.approx(expected, abs=1e-9)


def test_zero_length_edges_still_connect() -> None:
    # Nodes 0 and 1 are at the same place (two OSM nodes stacked); 3-4 has a given length 0.
    lon, lat = to_lonlat([0.0, 0.0, 100.0, 300.0, 400.0], [0.0, 0.0, 0.0, 0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 1, 2], [1, 2, 3])
    assert graph.edge_length_m[0] == 0.0
    assert graph.csr.nnz == 6  # explicit zeros survive in the sparse matrix
    assert graph.n_components == 2  # {0, 1, 2, 3} and the isolated node 4
    dist, _ = graph.nearest_source([0])
    assert dist[1] == 0.0
    assert dist[2] == pytest.approx(geodesic(lon[1], lat[1], lon[2], lat[2]), abs=1e-9)
    assert np.isinf(dist[4])

    given = WalkGraph.from_arrays(lon, lat, [0, 1, 2, 3], [1, 2, 3, 4], [0.0, 100.0, 200.0, 0.0])
    assert given.n_components == 1
    assert given.nearest_source([4])[0].tolist() == [300.0, 300.0, 200.0, 0.0, 0.0]
    route = given.path(lon[3], lat[3], lon[4], lat[4])
    assert isinstance(route, PathResult)
    assert route.length_m == 0.0
    assert route.coords == [(lon[3], lat[3]), (lon[4], lat[4])]


def test_inputs_validated_and_not_frozen() -> None:
    lon, lat = to_lonlat([0.0, 100.0], [0.0, 0.0])
    u, v = np.array([0]), np.array([1])
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    assert lon.flags.writeable and u.flags.writeable
    assert not graph.lon.flags.writeable
    with pytest.raises(ValueError):
        WalkGraph.from_arrays(lon, lat, [0], [2])
    with pytest.raises(ValueError):
        WalkGraph.from_arrays(lon, lat, [0], [1], [-1.0])
    with pytest.raises(ValueError):
        WalkGraph.from_arrays(lat, lon * 2, [0], [1])
    with pytest.raises(ValueError):
        WalkGraph.from_arrays(lon, lat, [0.5], [1.0])
    empty = WalkGraph.from_arrays([], [], [], [])
    assert empty.n_components == 0
    assert not empty.snap([116.0], [40.0]).snapped.any()


# ---------------------------------------------------------------------- components


def test_components_and_fragments() -> None:
    gx, gy = np.meshgrid(np.arange(5) * 100.0, np.arange(5) * 100.0, indexing="ij")
    x = np.concatenate([gx.ravel(), [1000.0, 1100.0, 1200.0], [0.0, 50.0], [-500.0]])
    y = np.concatenate([gy.ravel(), [0.0, 0.0, 30.0], [800.0, 800.0], [-500.0]])
    lon, lat = to_lonlat(x, y)
    u, v = [], []
    for i in range(5):
        for j in range(5):
            k = i * 5 + j
            if i < 4:
                u.append(k), v.append(k + 5)
            if j < 4:
                u.append(k), v.append(k + 1)
    u += [25, 26, 28]
    v += [26, 27, 29]
    graph = WalkGraph.from_arrays(lon, lat, u, v)

    assert graph.n_components == 4
    assert graph.component_sizes.tolist() == [25, 3, 2, 1]
    labels = graph.component_labels
    assert (labels[:25] == 0).all()
    assert labels[25:].tolist() == [1, 1, 1, 2, 2, 3]

    frags = graph.fragments()
    assert [f.label for f in frags] == [1, 2, 3]
    assert [(f.n_nodes, f.n_edges) for f in frags] == [(3, 2), (2, 1), (1, 0)]
    first = frags[0]
    assert first.bbox == (lon[25:28].min(), lat[25:28].min(), lon[25:28].max(), lat[25:28].max())
    assert first.length_m == pytest.approx(
        geodesic(lon[[25, 26]], lat[[25, 26]], lon[[26, 27]], lat[[26, 27]]).sum()
    )
    assert frags[2].bbox == (lon[30], lat[30], lon[30], lat[30])
    assert [f.label for f in graph.fragments(min_nodes=2)] == [1, 2]

    # A place next to the east fragment: by default it snaps there and cannot reach the grid;
    # with component="largest" it snaps to the grid.
    p_lon, p_lat = to_lonlat([1050.0], [5.0])
    east = graph.snap(p_lon, p_lat)
    assert (east.u[0], east.v[0]) == (25, 26)
    on_main = graph.snap(p_lon, p_lat, component="largest")
    assert labels[on_main.u[0]] == 0
    grid_lon, grid_lat = to_lonlat([150.0], [200.0])
    assert np.isinf(graph.distance_matrix(p_lon, p_lat, grid_lon, grid_lat)[0, 0])
    d = graph.distance_matrix(p_lon, p_lat, grid_lon, grid_lat, component="largest")[0, 0]
    # 650 m to the grid's east edge at (400, 5), north 195 m, west 200 m, 50 m along the edge.
    assert d == pytest.approx(650 + 195 + 200 + 50, abs=0.01)

    with pytest.raises(Unreachable):
        graph.path(p_lon[0], p_lat[0], grid_lon[0], grid_lat[0])
    route = graph.path(p_lon[0], p_lat[0], grid_lon[0], grid_lat[0], component="largest")
    assert route.length_m == pytest.approx(d, abs=ATOL)


# ---------------------------------------------------------------------- snapping


def square_grid(length: float | None = 100.0) -> WalkGraph:
    """A 5 x 5 grid with 100 m spacing, x and y in -200..200 m of the local projection."""
    gx, gy = np.meshgrid(np.arange(-200.0, 201.0, 100.0), np.arange(-200.0, 201.0, 100.0))
    gx, gy = gx.T.ravel(), gy.T.ravel()  # node k = i * 5 + j at (-200 + 100 i, -200 + 100 j)
    u, v = [], []
    for i in range(5):
        for j in range(5):
            k = i * 5 + j
            if i < 4:
                u.append(k), v.append(k + 5)
            if j < 4:
                u.append(k), v.append(k + 1)
    lon, lat = to_lonlat(gx, gy)
    lengths = None if length is None else np.full(len(u), length)
    return WalkGraph.from_arrays(lon, lat, u, v, lengths)


def test_snap_to_edge_interior_hand_computed() -> None:
    graph = square_grid()
    centre = 12  # node at (0, 0); node 17 is at (100, 0), node 13 at (0, 100)
    plon, plat = to_lonlat([30.0, -230.0, 0.0], [12.0, -230.0, 0.0])
    s = graph.snap(plon, plat)
    # Point 0: 12 m north of the edge (0, 0)-(100, 0), 30 m along it.
    assert (s.u[0], s.v[0]) == (centre, 17)
    assert s.offset_m[0] == pytest.approx(12.0, abs=ATOL)
    assert s.dist_from_u_m[0] == pytest.approx(30.0, abs=ATOL)
    assert s.dist_from_v_m[0] == pytest.approx(70.0, abs=ATOL)
    assert s.dist_from_u_m[0] + s.dist_from_v_m[0] == 100.0
    foot_lon, foot_lat = to_lonlat([30.0], [0.0])
    assert geodesic(s.lon[0], s.lat[0], foot_lon[0], foot_lat[0]) < 1e-6
    # Point 1: beyond the corner node 0, equally near two edges: snapped exactly to the node.
    assert s.u[1] == 0 and s.dist_from_u_m[1] == 0.0
    assert (s.lon[1], s.lat[1]) == (graph.lon[0], graph.lat[0])
    assert s.offset_m[1] == pytest.approx(math.hypot(30.0, 30.0), abs=ATOL)
    # Point 2: exactly on a node.
    assert s.offset_m[2] == pytest.approx(0.0, abs=ATOL)
    assert centre in (s.u[2], s.v[2])

    # Scaling: with given lengths of 200 m the positions are scaled, offsets are not.
    doubled = square_grid(200.0).snap(plon[:1], plat[:1])
    assert doubled.dist_from_u_m[0] == pytest.approx(60.0, abs=ATOL)
    assert doubled.offset_m[0] == pytest.approx(12.0, abs=ATOL)


def test_lazy_state_first_use_of_largest_component() -> None:
    # Regression: building the largest component's tree first must not deadlock on the lazy
    # component labels (both are built under the graph's lock).
    graph = square_grid()
    s = graph.snap(*to_lonlat([30.0], [12.0]), component="largest")
    assert s.snapped[0]


def test_snap_max_offset_and_unsnapped_points() -> None:
    graph = square_grid()
    plon, plat = to_lonlat([30.0, 50.0, 600.0], [12.0, 40.0, 0.0])
    s = graph.snap(plon, plat, max_offset_m=35.0)
    assert s.snapped.tolist() == [True, False, False]
    assert s.edge[1] == -1 and s.u[1] == -1 and np.isnan(s.offset_m[1])
    assert (s.point_lon[2], s.point_lat[2]) == (plon[2], plat[2])
    d = graph.distance_matrix(plon, plat, plon, plat, max_offset_m=35.0)
    assert np.isfinite(d[0, 0]) and np.isinf(d[1:]).all() and np.isinf(d[:, 1:]).all()
    with pytest.raises(Unreachable):
        graph.path(plon[0], plat[0], plon[2], plat[2], max_offset_m=35.0)
    assert not graph.snap([np.nan], [40.0]).snapped.any()
    scalar = graph.snap(plon[0], plat[0])
    assert len(scalar) == 1 and scalar.snapped[0]
    with pytest.raises(ValueError):
        graph.snap(plon, plat, component="smallest")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- same edge, paths


def test_same_edge_pair_distance() -> None:
    graph = square_grid()
    plon, plat = to_lonlat([20.0, 70.0], [5.0, -8.0])
    d = graph.distance_matrix(plon, plat, plon, plat)
    assert d[0, 1] == pytest.approx(5.0 + 50.0 + 8.0, abs=ATOL)
    assert d[1, 0] == pytest.approx(d[0, 1], abs=1e-9)
    assert d[0, 0] == pytest.approx(10.0, abs=ATOL)  # out to the network and back
    route = graph.path(plon[0], plat[0], plon[1], plat[1])
    assert route.node_indices.size == 0
    assert len(route.coords) == 4


def test_same_edge_going_round_is_shorter() -> None:
    # Unit square; the bottom edge is given 1000 m (a long winding way), the others 100 m.
    lon, lat = to_lonlat([0.0, 100.0, 0.0, 100.0], [0.0, 0.0, 100.0, 100.0])
    graph = WalkGraph.from_arrays(lon, lat, [0, 0, 2, 1], [1, 2, 3, 3], [1000.0, 100, 100, 100])
    plon, plat = to_lonlat([10.0, 90.0], [-1.0, -1.0])
    s = graph.snap(plon, plat)
    assert s.edge[0] == s.edge[1]
    assert s.dist_from_u_m.tolist() == pytest.approx([100.0, 900.0], abs=ATOL)
    d = graph.distance_matrix(plon, plat, plon, plat)
    assert d[0, 1] == pytest.approx(1.0 + 100.0 + 300.0 + 100.0 + 1.0, abs=ATOL)  # not 802
    route = graph.path(plon[0], plat[0], plon[1], plat[1])
    assert route.length_m == pytest.approx(d[0, 1], abs=ATOL)
    assert route.node_indices.tolist() == [0, 2, 3, 1]


def test_path_endpoints_and_length() -> None:
    lon, lat, u, v, rng = perturbed_grid(11)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    g = nx_graph(lon.size, u, v, geodesic(lon[u], lat[u], lon[v], lat[v]))
    alon, alat = random_points(rng, lon, lat, 8)
    alon, alat = alon[2:], alat[2:]  # off-node places
    for a, b in [(0, 1), (2, 3), (4, 5)]:
        route = graph.path(alon[a], alat[a], alon[b], alat[b])
        s = graph.snap(alon[[a, b]], alat[[a, b]])
        assert route.coords[0] == (alon[a], alat[a])
        assert route.coords[1] == (s.lon[0], s.lat[0])
        assert route.coords[-1] == (alon[b], alat[b])
        assert route.coords[-2] == (s.lon[1], s.lat[1])
        expected = graph.distance_matrix(alon[[a]], alat[[a]], alon[[b]], alat[[b]])[0, 0]
        assert route.length_m == pytest.approx(expected, abs=ATOL)
        assert route.leg_lengths_m == (route.length_m,)
        # The drawn line is as long as the reported walk.
        c = np.array(route.coords)
        drawn = geodesic(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum()
        assert drawn == pytest.approx(route.length_m, abs=1e-3)
        nodes = route.node_indices
        assert all(g.has_edge(int(p), int(q)) for p, q in zip(nodes[:-1], nodes[1:], strict=True))
        assert [(x, y) for x, y in route.coords[2:-2]] == [
            (graph.lon[k], graph.lat[k]) for k in nodes
        ]

    points = list(zip(alon[:4].tolist(), alat[:4].tolist(), strict=True))
    trip = graph.path_through(points)
    dm = graph.distance_matrix(alon[:4], alat[:4], alon[:4], alat[:4])
    assert trip.leg_lengths_m == pytest.approx([dm[0, 1], dm[1, 2], dm[2, 3]], abs=ATOL)
    assert trip.length_m == pytest.approx(dm[0, 1] + dm[1, 2] + dm[2, 3], abs=ATOL)
    assert trip.coords[0] == points[0] and trip.coords[-1] == points[-1]
    assert all(p in trip.coords for p in points)
    with pytest.raises(ValueError):
        graph.path_through(points[:1])


def test_unreachable_raises() -> None:
    lon, lat, u, v, _ = random_geometric(3)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    labels = graph.component_labels
    a = int(np.flatnonzero(labels == 0)[0])
    b = int(np.flatnonzero(labels == 1)[0])
    with pytest.raises(Unreachable):
        graph.path(lon[a], lat[a], lon[b], lat[b])
    with pytest.raises(Unreachable):
        graph.path_through([(lon[a], lat[a]), (lon[a], lat[a]), (lon[b], lat[b])])


# ---------------------------------------------------------------------- nearby


def test_nearby_matches_distance_matrix() -> None:
    lon, lat, u, v, rng = perturbed_grid(21)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    clon, clat = random_points(rng, lon, lat, 200)
    here = (float(lon[150]) + 1e-4, float(lat[150]) - 5e-5)
    idx, dist = graph.nearby(*here, clon, clat, radius_m=300.0)
    full = graph.distance_matrix([here[0]], [here[1]], clon, clat)[0]
    expected = np.flatnonzero(full <= 300.0)
    assert idx.size > 3
    assert sorted(idx.tolist()) == expected.tolist()
    np.testing.assert_allclose(dist, full[idx], rtol=0, atol=1e-9)
    assert np.all(np.diff(dist) >= 0)
    assert graph.nearby(*here, clon, clat, radius_m=0.5)[0].size == 0
    assert graph.nearby(*here, [], [], radius_m=300.0)[0].size == 0


# ---------------------------------------------------------------------- serialisation


def test_npz_round_trip(tmp_path: Path) -> None:
    lon, lat, u, v, rng = perturbed_grid(31)
    ids = np.arange(lon.size, dtype=np.int64) * 7 + 10_000_000_000
    graph = WalkGraph.from_arrays(lon, lat, u, v, node_ids=ids)
    target = tmp_path / "walk.graph-v3"  # no .npz suffix: numpy must not append one
    graph.to_npz(target)
    assert target.exists() and list(tmp_path.iterdir()) == [target]
    loaded = WalkGraph.from_npz(target)
    for name in ("lon", "lat", "edge_u", "edge_v", "edge_length_m", "node_ids"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(graph, name))
    assert (loaded.dropped_self_loops, loaded.dropped_parallel) == (
        graph.dropped_self_loops,
        graph.dropped_parallel,
    )
    assert (loaded.csr != graph.csr).nnz == 0
    plon, plat = random_points(rng, lon, lat, 10)
    np.testing.assert_array_equal(
        loaded.distance_matrix(plon, plat, plon, plat),
        graph.distance_matrix(plon, plat, plon, plat),
    )

    plain = WalkGraph.from_arrays(lon, lat, u, v)
    plain.to_npz(tmp_path / "plain.npz")
    assert WalkGraph.from_npz(tmp_path / "plain.npz").node_ids is None

    np.savez(tmp_path / "other.npz", lon=lon)
    with pytest.raises(ValueError, match="not a Yimi walk-graph"):
        WalkGraph.from_npz(tmp_path / "other.npz")
