"""The networkx peer for "near me": what a competent networkx user would write.

* The graph is an ``nx.Graph`` with the very same nodes, edges and lengths as Yimi's WalkGraph.
* Places are snapped ONCE (at start-up) to their nearest graph NODE with a KD-tree on a local
  equirectangular projection; the query point is snapped the same way, per query.
* Per query: ``nx.single_source_dijkstra_path_length(G, src, cutoff=radius - offset)``, then
  the places hanging off the reached nodes are gathered (vectorised, O(reached)), their
  distance is ``query offset + network distance + place offset``, filtered to the radius and
  sorted (ties by index, as Yimi does).

Yimi snaps both the query and the places to the nearest point on the nearest EDGE, which is
more exact; this peer's node snapping is the usual shortcut. Like Yimi's ``component="largest"``,
only nodes of the largest connected component are snap targets.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

R_EARTH_M = 6_371_008.8


class LocalXY:
    """Equirectangular projection about a centre: fine for offsets of tens of metres."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx = math.radians(1.0) * R_EARTH_M * math.cos(math.radians(lat0))
        self.ky = math.radians(1.0) * R_EARTH_M

    def __call__(self, lon, lat) -> np.ndarray:
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        return np.stack([(lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky], axis=-1)


def build_nx_graph(edge_u, edge_v, length_m, n_nodes: int) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n_nodes))
    g.add_weighted_edges_from(
        zip(edge_u.tolist(), edge_v.tolist(), length_m.tolist(), strict=True), weight="weight"
    )
    return g


class NxNearby:
    """Node-snapped "near me" over an nx.Graph, places pre-snapped once."""

    def __init__(
        self,
        graph: nx.Graph,
        node_lon: np.ndarray,
        node_lat: np.ndarray,
        snap_nodes: np.ndarray,
        place_lon: np.ndarray,
        place_lat: np.ndarray,
    ) -> None:
        self.g = graph
        self.proj = LocalXY(
            0.5 * (float(node_lon.min()) + float(node_lon.max())),
            0.5 * (float(node_lat.min()) + float(node_lat.max())),
        )
        self.snap_nodes = np.asarray(snap_nodes, dtype=np.int64)
        self.tree = cKDTree(self.proj(node_lon[self.snap_nodes], node_lat[self.snap_nodes]))
        off, k = self.tree.query(self.proj(place_lon, place_lat))
        self.place_node = self.snap_nodes[k]
        self.place_off = np.asarray(off, dtype=np.float64)
        n = int(node_lon.shape[0])
        # places grouped by node: order[starts[x] : starts[x] + counts[x]] hang off node x
        self.order = np.argsort(self.place_node, kind="stable")
        self.counts = np.bincount(self.place_node, minlength=n)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))

    def query(self, lon: float, lat: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        q_off, k = self.tree.query(self.proj(lon, lat))
        empty = np.empty(0, dtype=np.int64), np.empty(0)
        if q_off > radius_m:
            return empty
        src = int(self.snap_nodes[k])
        reach = nx.single_source_dijkstra_path_length(
            self.g, src, cutoff=radius_m - q_off, weight="weight"
        )
        nodes = np.fromiter(reach.keys(), dtype=np.int64, count=len(reach))
        dist = np.fromiter(reach.values(), dtype=np.float64, count=len(reach))
        cnt = self.counts[nodes]
        total = int(cnt.sum())
        if not total:
            return empty
        first = np.repeat(self.starts[nodes] - (np.cumsum(cnt) - cnt), cnt)
        idx = self.order[first + np.arange(total)]
        d = q_off + np.repeat(dist, cnt) + self.place_off[idx]
        ok = d <= radius_m
        idx, d = idx[ok], d[ok]
        o = np.lexsort((idx, d))
        return idx[o], d[o]
