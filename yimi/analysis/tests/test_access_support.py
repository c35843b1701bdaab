"""Shared helpers for the access tests, and checks of the helpers' own reference model.

Graphs are laid out in metres in a local azimuthal equidistant projection and converted to
WGS-84. The reference for walking distances is a networkx graph in which every edge carrying
places is split at their snapped positions and each place hangs off its split point by its
offset: shortest paths there are the walking distances by definition.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree

from yimi.analysis.graph import Snap, WalkGraph

GEOD = Geod(ellps="WGS84")
LON0, LAT0 = 116.32, 40.0
ATOL = 1e-6  # metres

WALKABLE = {
    "footway",
    "path",
    "pedestrian",
    "living_street",
    "residential",
    "service",
    "steps",
    "cycleway",
    "track",
    "unclassified",
    "tertiary",
    "tertiary_link",
    "secondary",
    "secondary_link",
    "primary",
    "primary_link",
}


Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
# lon, lat, edge_u, edge_v and the generator that made them (for more random draws).
GraphArrays = tuple[Floats, Floats, Ints, Ints, np.random.Generator]


def transformers(lon0: float = LON0, lat0: float = LAT0) -> tuple[Transformer, Transformer]:
    proj = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
    return (
        Transformer.from_crs("EPSG:4326", proj, always_xy=True),
        Transformer.from_crs(proj, "EPSG:4326", always_xy=True),
    )


def to_lonlat(x: ArrayLike, y: ArrayLike) -> tuple[Floats, Floats]:
    """Local metres (around LON0, LAT0) to WGS-84."""
    lon, lat = transformers()[1].transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def geodesic(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Floats:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=float)


def nx_graph(n: int, u: ArrayLike, v: ArrayLike, length: ArrayLike) -> nx.Graph:
    """Reference graph with the minimum length for parallel edges; self-loops left out."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for a, b, w in zip(
        np.asarray(u).tolist(), np.asarray(v).tolist(), np.asarray(length).tolist(), strict=True
    ):
        if a == b:
            continue
        if not g.has_edge(a, b) or w < g[a][b]["weight"]:
            g.add_edge(a, b, weight=float(w))
    return g


def nx_of(graph: WalkGraph) -> nx.Graph:
    return nx_graph(graph.n_nodes, graph.edge_u, graph.edge_v, graph.edge_length_m)


def nx_with_places(g: nx.Graph, snaps: dict[str, Snap]) -> nx.Graph:
    """Split edges at snapped places and hang each place ``("p", kind, i)`` off its point."""
    h = g.copy()
    by_edge: dict[tuple[int, int], list[tuple[float, tuple[str, str, int]]]] = {}
    for kind, s in snaps.items():
        for i in range(len(s)):
            h.add_node(("p", kind, i))
            if s.edge[i] < 0:
                continue
            key = (int(s.u[i]), int(s.v[i]))
            by_edge.setdefault(key, []).append((float(s.dist_from_u_m[i]), ("c", kind, i)))
            h.add_edge(("p", kind, i), ("c", kind, i), weight=float(s.offset_m[i]))
    for (u, v), items in by_edge.items():
        length = g[u][v]["weight"]
        h.remove_edge(u, v)
        items.sort()
        prev: object = u
        prev_pos = 0.0
        for pos, name in items:
            h.add_edge(prev, name, weight=pos - prev_pos)
            prev, prev_pos = name, pos
        h.add_edge(prev, v, weight=length - prev_pos)
    return h


def reference_distances(g: nx.Graph, src: Snap, dst: Snap) -> Floats:
    """Dense (len(src), len(dst)) walking distances from the split networkx model."""
    h = nx_with_places(g, {"s": src, "d": dst})
    out = np.full((len(src), len(dst)), np.inf)
    for i in range(len(src)):
        d = nx.single_source_dijkstra_path_length(h, ("p", "s", i))
        for j in range(len(dst)):
            out[i, j] = d.get(("p", "d", j), np.inf)
    return out


def reference_nearest(g: nx.Graph, src: Snap, dst: Snap) -> Floats:
    """Distance from each destination to its nearest source (one multi-source search)."""
    h = nx_with_places(g, {"s": src, "d": dst})
    d = nx.multi_source_dijkstra_path_length(h, {("p", "s", i) for i in range(len(src))})
    return np.array([d.get(("p", "d", j), np.inf) for j in range(len(dst))])


def perturbed_grid(seed: int, *, nx_: int = 20, ny: int = 15, spacing: float = 60.0) -> GraphArrays:
    """A jittered grid with removed edges, diagonals, parallel edges and self-loops."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny), indexing="ij")
    x = (ii.ravel() - nx_ / 2) * spacing + rng.uniform(-15, 15, ii.size)
    y = (jj.ravel() - ny / 2) * spacing + rng.uniform(-15, 15, ii.size)
    us: list[int] = []
    vs: list[int] = []
    for i in range(nx_):
        for j in range(ny):
            k = i * ny + j
            if i + 1 < nx_:
                us.append(k)
                vs.append(k + ny)
            if j + 1 < ny:
                us.append(k)
                vs.append(k + 1)
            if i + 1 < nx_ and j + 1 < ny and rng.random() < 0.05:
                us.append(k)
                vs.append(k + ny + 1)
    u, v = np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64)
    keep = rng.random(u.size) > 0.1
    u, v = u[keep], v[keep]
    dup = rng.choice(u.size, size=u.size // 8, replace=False)
    flip = rng.random(dup.size) < 0.5
    u2 = np.concatenate([u, np.where(flip, v[dup], u[dup]), [0, 1, 2]])
    v2 = np.concatenate([v, np.where(flip, u[dup], v[dup]), [0, 1, 2]])
    lon, lat = to_lonlat(x, y)
    return lon, lat, u2, v2, rng


def random_geometric(
    seed: int, *, n: int = 250, size: float = 2000.0, radius: float = 170.0
) -> GraphArrays:
    """A random geometric graph: several components, isolated nodes."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-size / 2, size / 2, (2, n))
    pairs = np.array(sorted(cKDTree(np.c_[x, y]).query_pairs(radius)), dtype=np.int64)
    lon, lat = to_lonlat(x, y)
    return lon, lat, pairs[:, 0], pairs[:, 1], rng


def random_points(
    rng: np.random.Generator, lon: Floats, lat: Floats, k: int
) -> tuple[Floats, Floats]:
    """Points in (a little beyond) the nodes' bounding box, a fifth exactly on nodes."""
    pad_lon = 0.05 * (lon.max() - lon.min())
    pad_lat = 0.05 * (lat.max() - lat.min())
    plon = rng.uniform(lon.min() - pad_lon, lon.max() + pad_lon, k)
    plat = rng.uniform(lat.min() - pad_lat, lat.max() + pad_lat, k)
    on_node = rng.choice(lon.size, size=max(1, k // 5), replace=False)
    plon[: on_node.size] = lon[on_node]
    plat[: on_node.size] = lat[on_node]
    return plon, plat


def near_points(
    rng: np.random.Generator, lon: Floats, lat: Floats, sd: float
) -> tuple[Floats, Floats]:
    """Points scattered around the given ones (so some share an edge with them)."""
    return lon + rng.normal(0, sd, lon.size), lat + rng.normal(0, sd, lat.size)


def parse_osm(path: Path) -> tuple[Floats, Floats, Ints, Ints, Ints]:
    """Walkable ways of an .osm XML file as arrays (nodes used by those ways only)."""
    root = ET.parse(path).getroot()  # noqa: S314 - the trusted sample file
    pos = {
        int(el.get("id", "0")): (float(el.get("lon", "nan")), float(el.get("lat", "nan")))
        for el in root.iter("node")
    }
    index: dict[int, int] = {}
    u: list[int] = []
    v: list[int] = []
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if tags.get("highway") not in WALKABLE or tags.get("foot") == "no":
            continue
        refs = [int(nd.get("ref", "0")) for nd in way.iter("nd")]
        ids = [index.setdefault(r, len(index)) for r in refs]
        u += ids[:-1]
        v += ids[1:]
    osm_ids = np.array(list(index), dtype=np.int64)
    lon = np.array([pos[i][0] for i in osm_ids.tolist()])
    lat = np.array([pos[i][1] for i in osm_ids.tolist()])
    return lon, lat, np.array(u, dtype=np.int64), np.array(v, dtype=np.int64), osm_ids


# ---------------------------------------------------------------------- the helpers themselves


def test_reference_model_hand_computed() -> None:
    """Two places on one 100 m edge, 10 m and 5 m off it: 5 + 40 + 10 metres apart."""
    lon, lat = to_lonlat([0.0, 100.0], [0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0], [1], [100.0])
    plon, plat = to_lonlat([20.0, 60.0], [10.0, -5.0])
    s = graph.snap(plon, plat)
    ref = reference_distances(nx_of(graph), s, s)
    assert ref[0, 1] == pytest.approx(10.0 + 40.0 + 5.0, abs=1e-3)
    # Two places at one spot still walk to the network and back (the model has no shortcut).
    assert ref[0, 0] == pytest.approx(20.0, abs=1e-3)
    np.testing.assert_allclose(reference_nearest(nx_of(graph), s, s), [20.0, 10.0], atol=1e-3)


def test_unsnapped_places_are_unreachable_in_the_reference() -> None:
    lon, lat = to_lonlat([0.0, 100.0], [0.0, 0.0])
    graph = WalkGraph.from_arrays(lon, lat, [0], [1])
    plon, plat = to_lonlat([20.0, 50.0], [10.0, 5000.0])
    s = graph.snap(plon, plat, max_offset_m=100.0)
    assert s.edge[1] == -1
    ref = reference_distances(nx_of(graph), s, s)
    assert np.isinf(ref[0, 1]) and np.isinf(ref[1, 0])
