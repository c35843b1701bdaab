"""The walking graph: route planning, "near me" by walking distance and accessibility analyses.

A :class:`WalkGraph` is an undirected, weighted graph of walkable ways built from plain arrays
(node longitude/latitude in WGS-84 and edge end-node indices), as the OSM reader produces them.
Edge weights are metres: given by the caller, or geodesic lengths on the WGS-84 ellipsoid.

Places (homes, kindergartens, parks) are not graph nodes. They are *snapped* to the nearest
point on the nearest edge, and a walk from a place is modelled as

    straight walk to the snapped point (the offset)
    + along the edge to one of its end nodes
    + shortest network path between end nodes
    + along the destination edge from an end node
    + straight walk from the snapped point to the destination (its offset).

When both places snap to the same edge, the direct walk along that edge is also considered.

Conventions and the traps this module avoids:

* Parallel edges (the same node pair given more than once, in either direction) keep the
  **minimum** length. scipy's COO→CSR conversion *sums* duplicates, which would silently turn
  two 50 m edges into one 100 m edge; the CSR matrix is therefore assembled directly from
  de-duplicated, sorted arrays and never goes through COO.
* Self-loops are dropped (they never shorten a walk).
* Zero-length edges (two OSM nodes at the same position) are kept as *explicit zeros* in the
  sparse matrix. scipy's csgraph routines treat zeros as "no edge" only in *dense* input; in
  sparse input an explicit zero is an edge of weight 0. The tests check that a zero-length
  edge still connects, so no epsilon weight is needed.
* Snapping happens in a local azimuthal equidistant projection centred on the graph's bounding
  box (metres; the scale error is about 1e-6 at 15 km from the centre and 1e-5 at 50 km), built
  lazily once. Graphs spanning the antimeridian are not supported.
* Lengths are assumed to be at least the straight-line distance between an edge's end nodes
  (true for geodesic lengths and for lengths measured along a curved way); :meth:`nearby` relies
  on this for its straight-line pre-filter.

Only numpy, scipy, shapely and pyproj are used; there is no Django import here.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Geod, Transformer
from scipy.sparse.csgraph import connected_components, dijkstra

__all__ = [
    "Fragment",
    "PathResult",
    "Snap",
    "Unreachable",
    "WalkGraph",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ComponentChoice = Literal["largest"] | None

_GEOD = Geod(ellps="WGS84")

# Format marker and version written into .npz files; bump the version when the layout changes.
_NPZ_FORMAT = "yimi-walkgraph"
_NPZ_VERSION = 1

# scipy's dijkstra returns a dense (n_sources, n_nodes) float64 array even with ``limit``
# (scipy issue 16585). Sources are processed in chunks so that array stays below ~64 MiB.
_DIJKSTRA_MAX_CELLS = 1 << 23

# scipy's "no predecessor" marker in predecessor arrays.
_NO_PRED = -9999


class Unreachable(Exception):
    """No walking path connects the given places (or a place could not be snapped)."""


@dataclass(frozen=True)
class Snap:
    """Points snapped to the nearest edge of a :class:`WalkGraph`.

    Every array has one entry per input point. Points that could not be snapped (no edge
    within ``max_offset_m``, not finite, or an empty graph) have ``edge == -1``, ``u == v == -1``
    and NaN in every float field except ``point_lon``/``point_lat``.

    Attributes
    ----------
    point_lon, point_lat : ndarray of float64
        The original points (WGS-84 degrees).
    edge : ndarray of int64
        Index of the nearest edge into :attr:`WalkGraph.edge_u` / :attr:`WalkGraph.edge_v`
        (the de-duplicated edges), or -1.
    u, v : ndarray of int64
        The edge's end nodes (``u < v``), or -1.
    dist_from_u_m, dist_from_v_m : ndarray of float64
        Distance along the edge from the snapped point to ``u`` and to ``v``; the two sum to the
        edge's length (positions along the straight geometry are scaled to the edge's length).
    offset_m : ndarray of float64
        Straight-line distance from the point to its snapped point, in metres.
    lon, lat : ndarray of float64
        The snapped point (WGS-84 degrees); exactly the node's position when it snaps to an end.
    """

    point_lon: FloatArray
    point_lat: FloatArray
    edge: IntArray
    u: IntArray
    v: IntArray
    dist_from_u_m: FloatArray
    dist_from_v_m: FloatArray
    offset_m: FloatArray
    lon: FloatArray
    lat: FloatArray

    @property
    def snapped(self) -> NDArray[np.bool_]:
        """Boolean mask of the points that were snapped to an edge."""
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.edge.shape[0])


@dataclass(frozen=True)
class Fragment:
    """A connected piece of the graph other than the largest one (for reporting to users).

    Attributes
    ----------
    label : int
        Its component label (see :attr:`WalkGraph.component_labels`); 1 is the second largest.
    n_nodes, n_edges : int
        Size of the piece.
    length_m : float
        Total length of its edges in metres.
    bbox : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` of its nodes.
    """

    label: int
    n_nodes: int
    n_edges: int
    length_m: float
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class PathResult:
    """A walking route.

    Attributes
    ----------
    length_m : float
        Walking length in metres, snap offsets included (equal to :meth:`WalkGraph.distance_matrix`
        for the same pair).
    coords : list of (lon, lat)
        The line to draw: the original start, its snapped point, the network nodes, the snapped
        end point and the original end. Consecutive identical coordinates are dropped (a point
        lying exactly on the network does not repeat).
    node_indices : ndarray of int64
        The network nodes walked through, in order (empty when both places are on the same edge
        and the direct walk along it is shortest).
    leg_lengths_m : tuple of float
        The length of each leg (one leg for :meth:`WalkGraph.path`).
    """

    length_m: float
    coords: list[tuple[float, float]]
    node_indices: IntArray
    leg_lengths_m: tuple[float, ...] = field(default=())


class WalkGraph:
    """Undirected walking graph with edge lengths in metres.

    Build it with :meth:`from_arrays` (or :meth:`from_npz`); the constructor is internal.

    Attributes
    ----------
    lon, lat : ndarray of float64, shape (n_nodes,)
        Node positions (WGS-84 degrees). Read-only.
    edge_u, edge_v : ndarray of int64, shape (n_edges,)
        The de-duplicated edges, ``edge_u < edge_v``, sorted by ``(edge_u, edge_v)``. Read-only.
    edge_length_m : ndarray of float64, shape (n_edges,)
        Their lengths (the minimum over parallel input edges). Read-only.
    node_ids : ndarray of int64 or None
        Optional external ids (OSM node ids) for each node.
    dropped_self_loops, dropped_parallel : int
        How many input edges were dropped while building (for reporting).
    csr : scipy.sparse.csr_array, shape (n_nodes, n_nodes)
        Symmetric adjacency with lengths in metres (explicit zeros are zero-length edges), for
        analyses that call :mod:`scipy.sparse.csgraph` directly (use ``directed=True``: both
        directions are stored).

    Notes
    -----
    The lazily built parts (components, projection, STRtree) are built under a lock, so a graph
    can be shared between threads of a web server.
    """

    def __init__(
        self,
        lon: FloatArray,
        lat: FloatArray,
        edge_u: IntArray,
        edge_v: IntArray,
        edge_length_m: FloatArray,
        node_ids: IntArray | None,
        *,
        dropped_self_loops: int = 0,
        dropped_parallel: int = 0,
    ) -> None:
        self.lon = lon
        self.lat = lat
        self.edge_u = edge_u
        self.edge_v = edge_v
        self.edge_length_m = edge_length_m
        self.node_ids = node_ids
        self.dropped_self_loops = dropped_self_loops
        self.dropped_parallel = dropped_parallel
        self.csr = _symmetric_csr(lon.shape[0], edge_u, edge_v, edge_length_m)
        # Re-entrant: one lazy item (the largest component's tree) needs another (the labels).
        self._lock = threading.RLock()
        self._components: tuple[IntArray, IntArray] | None = None
        self._projection: tuple[CRS, Transformer, Transformer, FloatArray, FloatArray] | None = None
        self._trees: dict[str | None, tuple[shapely.STRtree, IntArray]] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        edge_u: ArrayLike,
        edge_v: ArrayLike,
        edge_length_m: ArrayLike | None = None,
        *,
        node_ids: ArrayLike | None = None,
    ) -> WalkGraph:
        """Build a graph from node positions and edge end-node indices.

        Parameters
        ----------
        lon, lat : array_like of float, shape (n_nodes,)
            Node positions in WGS-84 degrees.
        edge_u, edge_v : array_like of int, shape (n_edges,)
            End-node indices of each edge (direction is ignored: pedestrians walk both ways).
        edge_length_m : array_like of float, shape (n_edges,), optional
            Edge lengths in metres (e.g. measured along a curved way). When omitted, the
            geodesic distance between the end nodes on the WGS-84 ellipsoid.
        node_ids : array_like of int, shape (n_nodes,), optional
            External ids kept alongside the nodes (e.g. OSM node ids).

        Returns
        -------
        WalkGraph

        Raises
        ------
        ValueError
            On mismatched shapes, non-finite or out-of-range coordinates, out-of-range node
            indices, or negative / non-finite lengths.

        Notes
        -----
        Self-loops are dropped; parallel edges keep the minimum length; zero-length edges are
        kept (see the module docstring).
        """
        # Copies: the graph freezes its arrays and must not freeze (or alias) the caller's.
        lon_a = _float_vector(lon, "lon").copy()
        lat_a = _float_vector(lat, "lat").copy()
        n = lon_a.shape[0]
        if lat_a.shape[0] != n:
            raise ValueError(f"lon and lat differ in length ({n} and {lat_a.shape[0]})")
        if not (np.isfinite(lon_a).all() and np.isfinite(lat_a).all()):
            raise ValueError("node coordinates must be finite")
        if n and (np.abs(lat_a).max() > 90.0 or np.abs(lon_a).max() > 180.0):
            raise ValueError("node coordinates must be WGS-84 degrees (|lat| <= 90, |lon| <= 180)")

        u = _index_vector(edge_u, "edge_u")
        v = _index_vector(edge_v, "edge_v")
        if u.shape != v.shape:
            raise ValueError(f"edge_u and edge_v differ in length ({u.size} and {v.size})")
        if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
            raise ValueError(f"edge node indices must lie in [0, {n})")

        if edge_length_m is None:
            length = _geodesic_m(lon_a[u], lat_a[u], lon_a[v], lat_a[v])
        else:
            length = _float_vector(edge_length_m, "edge_length_m")
            if length.shape != u.shape:
                raise ValueError("edge_length_m must have one entry per edge")
            if not np.isfinite(length).all() or (length.size and length.min() < 0):
                raise ValueError("edge lengths must be finite and non-negative")

        ids: IntArray | None = None
        if node_ids is not None:
            ids = _index_vector(node_ids, "node_ids").copy()
            if ids.shape[0] != n:
                raise ValueError("node_ids must have one entry per node")

        a = np.minimum(u, v)
        b = np.maximum(u, v)
        loop = a == b
        a, b, length = a[~loop], b[~loop], length[~loop]
        # One key per unordered pair; sorting by (key, length) puts the shortest of each group of
        # parallel edges first, and keeping the first of each group is the "minimum" rule.
        key = a * np.int64(max(n, 1)) + b
        order = np.lexsort((length, key))
        key_sorted = key[order]
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = key_sorted[1:] != key_sorted[:-1]
        keep = order[first]

        return cls(
            _readonly(lon_a),
            _readonly(lat_a),
            _readonly(a[keep]),
            _readonly(b[keep]),
            _readonly(length[keep].astype(np.float64, copy=False)),
            None if ids is None else _readonly(ids),
            dropped_self_loops=int(loop.sum()),
            dropped_parallel=int(order.shape[0] - keep.shape[0]),
        )

    # ------------------------------------------------------------------ basic properties

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.lon.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of (de-duplicated, undirected) edges."""
        return int(self.edge_u.shape[0])

    def __repr__(self) -> str:
        return (
            f"WalkGraph(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
            f"n_components={self.n_components})"
        )

    # ------------------------------------------------------------------ components

    def _component_data(self) -> tuple[IntArray, IntArray]:
        if self._components is None:
            with self._lock:
                if self._components is None:
                    self._components = _components(self.csr)
        return self._components

    @property
    def component_labels(self) -> IntArray:
        """Component label of each node: 0 is the largest component, then by decreasing size.

        Ties in size are broken by the lowest node index. Nodes without edges are components of
        their own.
        """
        return self._component_data()[0]

    @property
    def component_sizes(self) -> IntArray:
        """Number of nodes in each component, indexed by label (so non-increasing)."""
        return self._component_data()[1]

    @property
    def n_components(self) -> int:
        """Number of connected components (0 for an empty graph)."""
        return int(self.component_sizes.shape[0])

    def fragments(self, *, min_nodes: int = 1) -> list[Fragment]:
        """Describe the disconnected pieces other than the largest component.

        Parameters
        ----------
        min_nodes : int, default 1
            Leave out pieces with fewer nodes (``2`` hides isolated nodes).

        Returns
        -------
        list of Fragment
            Ordered by decreasing size (i.e. by label, starting at 1).
        """
        labels, sizes = self._component_data()
        n_comp = sizes.shape[0]
        if n_comp <= 1:
            return []
        edge_label = labels[self.edge_u]
        n_edges = np.bincount(edge_label, minlength=n_comp)
        length = np.bincount(edge_label, weights=self.edge_length_m, minlength=n_comp)
        # Group nodes by label once, then reduce each group's coordinates.
        order = np.argsort(labels, kind="stable")
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        lon_s, lat_s = self.lon[order], self.lat[order]
        bbox = np.stack(
            [
                np.minimum.reduceat(lon_s, starts),
                np.minimum.reduceat(lat_s, starts),
                np.maximum.reduceat(lon_s, starts),
                np.maximum.reduceat(lat_s, starts),
            ],
            axis=1,
        )
        return [
            Fragment(
                label=int(k),
                n_nodes=int(sizes[k]),
                n_edges=int(n_edges[k]),
                length_m=float(length[k]),
                bbox=(
                    float(bbox[k, 0]),
                    float(bbox[k, 1]),
                    float(bbox[k, 2]),
                    float(bbox[k, 3]),
                ),
            )
            for k in range(1, n_comp)
            if sizes[k] >= min_nodes
        ]

    # ------------------------------------------------------------------ projection & snapping

    def _projection_data(self) -> tuple[CRS, Transformer, Transformer, FloatArray, FloatArray]:
        if self._projection is None:
            with self._lock:
                if self._projection is None:
                    self._projection = _local_projection(self.lon, self.lat)
        return self._projection

    @property
    def crs(self) -> CRS:
        """The local metric projection used for snapping (azimuthal equidistant, metres)."""
        return self._projection_data()[0]

    def _tree(self, component: ComponentChoice) -> tuple[shapely.STRtree, IntArray]:
        """The STRtree over the edges' straight lines (all, or the largest component's)."""
        if component not in (None, "largest"):
            raise ValueError(f"component must be 'largest' or None, not {component!r}")
        tree = self._trees.get(component)
        if tree is not None:
            return tree
        _, _, _, x, y = self._projection_data()
        labels = self.component_labels
        with self._lock:
            if component not in self._trees:
                if component == "largest" and self.n_edges:
                    edges = np.flatnonzero(labels[self.edge_u] == 0)
                else:
                    edges = np.arange(self.n_edges, dtype=np.int64)
                u, v = self.edge_u[edges], self.edge_v[edges]
                coords = np.stack(
                    [np.stack([x[u], y[u]], axis=1), np.stack([x[v], y[v]], axis=1)], axis=1
                )
                lines = shapely.linestrings(coords)
                self._trees[component] = (shapely.STRtree(lines), edges)
        return self._trees[component]

    def snap(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        max_offset_m: float | None = None,
        component: ComponentChoice = None,
    ) -> Snap:
        """Snap points to the nearest point on the nearest edge.

        Parameters
        ----------
        lon, lat : array_like of float
            Points in WGS-84 degrees (scalars or 1-D arrays of equal length).
        max_offset_m : float, optional
            Points further than this (metres, > 0) from every edge are left unsnapped.
        component : {'largest', None}, default None
            ``'largest'`` snaps only to edges of the largest component, so a place next to a
            disconnected footway still reaches the city; ``None`` uses every edge.

        Returns
        -------
        Snap
            One entry per point; see :class:`Snap`. Ties between equally near edges are broken
            arbitrarily (but deterministically).
        """
        if max_offset_m is not None and not max_offset_m > 0:
            raise ValueError("max_offset_m must be positive (or None)")
        if component not in (None, "largest"):
            raise ValueError(f"component must be 'largest' or None, not {component!r}")
        plon = _float_vector(lon, "lon", allow_scalar=True).copy()
        plat = _float_vector(lat, "lat", allow_scalar=True).copy()
        if plon.shape != plat.shape:
            raise ValueError(f"lon and lat differ in length ({plon.size} and {plat.size})")
        k = plon.shape[0]
        edge = np.full(k, -1, dtype=np.int64)
        nan = np.full(k, np.nan)
        result = {
            "dist_from_u_m": nan.copy(),
            "dist_from_v_m": nan.copy(),
            "offset_m": nan.copy(),
            "lon": nan.copy(),
            "lat": nan.copy(),
        }
        u_out = np.full(k, -1, dtype=np.int64)
        v_out = np.full(k, -1, dtype=np.int64)
        if k and self.n_edges:
            _, fwd, inv, x, y = self._projection_data()
            tree, tree_edges = self._tree(component)
            px, py = fwd.transform(plon, plat)
            px = np.asarray(px, dtype=np.float64)
            py = np.asarray(py, dtype=np.float64)
            valid = np.flatnonzero(np.isfinite(px) & np.isfinite(py))
            if valid.size and len(tree_edges):
                q_in, q_tree = tree.query_nearest(
                    shapely.points(px[valid], py[valid]),
                    max_distance=max_offset_m,
                    all_matches=False,
                )
                idx = valid[q_in]
                e = tree_edges[q_tree]
                eu, ev = self.edge_u[e], self.edge_v[e]
                ax, ay, bx, by = x[eu], y[eu], x[ev], y[ev]
                dx, dy = bx - ax, by - ay
                len2 = dx * dx + dy * dy
                # Foot of the perpendicular, clamped to the segment; a zero-length segment
                # snaps to its (single) end point.
                with np.errstate(invalid="ignore", divide="ignore"):
                    t = ((px[idx] - ax) * dx + (py[idx] - ay) * dy) / len2
                t = np.where(len2 > 0, np.clip(t, 0.0, 1.0), 0.0)
                fx, fy = ax + t * dx, ay + t * dy
                length = self.edge_length_m[e]
                du = t * length
                flon, flat = inv.transform(fx, fy)
                flon = np.asarray(flon, dtype=np.float64)
                flat = np.asarray(flat, dtype=np.float64)
                # Exact node positions at the ends, so drawn paths do not jitter by 1e-15 degrees
                # and consecutive duplicates can be recognised.
                at_u, at_v = t == 0.0, t == 1.0
                flon = np.where(at_u, self.lon[eu], np.where(at_v, self.lon[ev], flon))
                flat = np.where(at_u, self.lat[eu], np.where(at_v, self.lat[ev], flat))

                edge[idx] = e
                u_out[idx] = eu
                v_out[idx] = ev
                result["dist_from_u_m"][idx] = du
                # length - du (not (1 - t) * length) so the two sum to the length exactly.
                result["dist_from_v_m"][idx] = length - du
                result["offset_m"][idx] = np.hypot(px[idx] - fx, py[idx] - fy)
                result["lon"][idx] = flon
                result["lat"][idx] = flat
        return Snap(
            point_lon=plon,
            point_lat=plat,
            edge=edge,
            u=u_out,
            v=v_out,
            **result,
        )

    # ------------------------------------------------------------------ distances

    def _node_distances(
        self, sources: IntArray, targets: IntArray, limit: float | None
    ) -> FloatArray:
        """Network distances (len(sources), len(targets)), chunking the dense dijkstra output."""
        out = np.empty((sources.shape[0], targets.shape[0]), dtype=np.float64)
        chunk = max(1, _DIJKSTRA_MAX_CELLS // max(self.n_nodes, 1))
        lim = np.inf if limit is None else float(limit)
        for start in range(0, sources.shape[0], chunk):
            rows = sources[start : start + chunk]
            d = dijkstra(self.csr, directed=True, indices=rows, limit=lim)
            out[start : start + rows.shape[0]] = d[:, targets]
        return out

    def distance_matrix_snapped(
        self, src: Snap, dst: Snap, *, limit: float | None = None
    ) -> FloatArray:
        """Walking distances between already snapped points.

        Parameters
        ----------
        src, dst : Snap
            Results of :meth:`snap` on this graph.
        limit : float, optional
            Distances above this (metres) are reported as ``inf`` (and the search stops there).

        Returns
        -------
        ndarray of float64, shape (len(src), len(dst))
            Walking metres including both snap offsets; ``inf`` where unreachable, unsnapped or
            beyond ``limit``.

        Notes
        -----
        One dijkstra row is computed per distinct end node of the source edges (at most
        ``2 * len(src)``); each row is dense over all nodes even with ``limit`` (scipy issue
        16585), so keep ``len(src)`` moderate (trip planning: <= 13; "near me": 1). Rows are
        computed in chunks of at most ~64 MiB.
        """
        out = np.full((len(src), len(dst)), np.inf)
        si = np.flatnonzero(src.snapped)
        di = np.flatnonzero(dst.snapped)
        if not (si.size and di.size):
            return out
        su, sv, tu, tv = src.u[si], src.v[si], dst.u[di], dst.v[di]
        src_nodes = np.unique(np.concatenate([su, sv]))
        dst_nodes = np.unique(np.concatenate([tu, tv]))
        d = self._node_distances(src_nodes, dst_nodes, limit)
        ru, rv = np.searchsorted(src_nodes, su), np.searchsorted(src_nodes, sv)
        cu, cv = np.searchsorted(dst_nodes, tu), np.searchsorted(dst_nodes, tv)
        a_u = src.dist_from_u_m[si][:, None]
        a_v = src.dist_from_v_m[si][:, None]
        b_u = dst.dist_from_u_m[di][None, :]
        b_v = dst.dist_from_v_m[di][None, :]
        best = np.minimum(
            np.minimum(a_u + d[np.ix_(ru, cu)] + b_u, a_u + d[np.ix_(ru, cv)] + b_v),
            np.minimum(a_v + d[np.ix_(rv, cu)] + b_u, a_v + d[np.ix_(rv, cv)] + b_v),
        )
        # Same edge: the direct walk along it, unless going round is shorter (possible when the
        # given length is longer than the detour).
        same = src.edge[si][:, None] == dst.edge[di][None, :]
        best = np.where(same, np.minimum(best, np.abs(a_u - b_u)), best)
        total = best + src.offset_m[si][:, None] + dst.offset_m[di][None, :]
        if limit is not None:
            total[total > limit] = np.inf
        out[np.ix_(si, di)] = total
        return out

    def distance_matrix(
        self,
        src_lon: ArrayLike,
        src_lat: ArrayLike,
        dst_lon: ArrayLike,
        dst_lat: ArrayLike,
        *,
        limit: float | None = None,
        max_offset_m: float | None = None,
        component: ComponentChoice = None,
    ) -> FloatArray:
        """Walking distances from each source point to each destination point.

        Parameters
        ----------
        src_lon, src_lat, dst_lon, dst_lat : array_like of float
            Points in WGS-84 degrees.
        limit : float, optional
            Distances above this (metres) are reported as ``inf``.
        max_offset_m, component
            Snapping options, see :meth:`snap`.

        Returns
        -------
        ndarray of float64, shape (n_src, n_dst)
            Walking metres including both snap offsets; ``inf`` where unreachable, unsnapped or
            beyond ``limit``.

        Notes
        -----
        Computes a dense dijkstra row per distinct source edge end node; meant for a moderate
        number of sources (see :meth:`distance_matrix_snapped`).
        """
        opts = {"max_offset_m": max_offset_m, "component": component}
        return self.distance_matrix_snapped(
            self.snap(src_lon, src_lat, **opts), self.snap(dst_lon, dst_lat, **opts), limit=limit
        )

    def nearby(
        self,
        lon: float,
        lat: float,
        cand_lon: ArrayLike,
        cand_lat: ArrayLike,
        *,
        radius_m: float,
        max_offset_m: float | None = None,
        component: ComponentChoice = None,
    ) -> tuple[IntArray, FloatArray]:
        """Candidates within a walking distance of one point ("near me").

        Parameters
        ----------
        lon, lat : float
            The point (WGS-84 degrees).
        cand_lon, cand_lat : array_like of float
            Candidate places.
        radius_m : float
            Maximum walking distance in metres (inclusive).
        max_offset_m, component
            Snapping options, see :meth:`snap`.

        Returns
        -------
        indices : ndarray of int64
            Indices into the candidate arrays, by increasing walking distance (ties by index).
        distances : ndarray of float64
            Their walking distances in metres.

        Notes
        -----
        Candidates further than ``radius_m`` in a straight line are discarded before any graph
        search: a walk of length <= r never leaves the disc of radius r (given edge lengths are
        at least the straight-line distances, see the module docstring).
        """
        if not radius_m >= 0:
            raise ValueError("radius_m must be non-negative")
        clon = _float_vector(cand_lon, "cand_lon", allow_scalar=True)
        clat = _float_vector(cand_lat, "cand_lat", allow_scalar=True)
        if clon.shape != clat.shape:
            raise ValueError("cand_lon and cand_lat differ in length")
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        if not clon.size:
            return empty
        straight = _geodesic_m(
            np.full(clon.shape, float(lon)), np.full(clon.shape, float(lat)), clon, clat
        )
        # Slack for the projection's scale error and rounding: the filter must never drop a
        # candidate that is within reach.
        pre = np.flatnonzero(straight <= radius_m * (1 + 1e-6) + 0.01)
        if not pre.size:
            return empty
        opts = {"max_offset_m": max_offset_m, "component": component}
        src = self.snap([lon], [lat], **opts)
        dst = self.snap(clon[pre], clat[pre], **opts)
        d = self.distance_matrix_snapped(src, dst, limit=radius_m)[0]
        ok = np.flatnonzero(d <= radius_m)
        idx, dist = pre[ok], d[ok]
        order = np.lexsort((idx, dist))
        return idx[order].astype(np.int64, copy=False), dist[order]

    def nearest_source(
        self, source_nodes: ArrayLike, *, limit: float | None = None
    ) -> tuple[FloatArray, IntArray]:
        """Distance from every node to its nearest source node (one multi-source search).

        Parameters
        ----------
        source_nodes : array_like of int
            Node indices of the sources (e.g. facilities' nearest nodes). Repeats are allowed.
        limit : float, optional
            Stop the search at this distance (metres); further nodes get ``inf``.

        Returns
        -------
        dist : ndarray of float64, shape (n_nodes,)
            Network metres to the nearest source; ``inf`` where none is reachable.
        which : ndarray of int64, shape (n_nodes,)
            Position in ``source_nodes`` of that source (the first position for a repeated
            node), or -1 where none is reachable.
        """
        nodes = _index_vector(source_nodes, "source_nodes", allow_scalar=True)
        n = self.n_nodes
        if nodes.size and (nodes.min() < 0 or nodes.max() >= n):
            raise ValueError(f"source node indices must lie in [0, {n})")
        if not nodes.size:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        uniq, first_pos = np.unique(nodes, return_index=True)
        # scipy returns ``sources`` only together with predecessors.
        dist, _, src = dijkstra(
            self.csr,
            directed=True,
            indices=uniq,
            min_only=True,
            return_predecessors=True,
            limit=np.inf if limit is None else float(limit),
        )
        src = np.asarray(src, dtype=np.int64)
        which = np.full(n, -1, dtype=np.int64)
        reached = src >= 0
        which[reached] = first_pos[np.searchsorted(uniq, src[reached])]
        return np.asarray(dist, dtype=np.float64), which

    # ------------------------------------------------------------------ paths

    def _leg(self, s: Snap, i: int, j: int) -> PathResult:
        """The shortest walk from snapped point ``i`` to snapped point ``j`` of ``s``."""
        for k in (i, j):
            if s.edge[k] < 0:
                raise Unreachable(
                    f"point ({s.point_lon[k]}, {s.point_lat[k]}) is not near any walkable edge"
                )
        ua, va, ub, vb = int(s.u[i]), int(s.v[i]), int(s.u[j]), int(s.v[j])
        a_u, a_v = float(s.dist_from_u_m[i]), float(s.dist_from_v_m[i])
        b_u, b_v = float(s.dist_from_u_m[j]), float(s.dist_from_v_m[j])
        dist, pred = dijkstra(self.csr, directed=True, indices=[ua, va], return_predecessors=True)
        # (cost, row, end node); the direct same-edge walk is listed first so it wins ties.
        options: list[tuple[float, int, int]] = []
        if s.edge[i] == s.edge[j]:
            options.append((abs(a_u - b_u), -1, -1))
        options += [
            (a_u + dist[0, ub] + b_u, 0, ub),
            (a_u + dist[0, vb] + b_v, 0, vb),
            (a_v + dist[1, ub] + b_u, 1, ub),
            (a_v + dist[1, vb] + b_v, 1, vb),
        ]
        cost, row, end = min(options, key=lambda o: o[0])
        if not np.isfinite(cost):
            raise Unreachable(
                f"no walking path from ({s.point_lon[i]}, {s.point_lat[i]}) "
                f"to ({s.point_lon[j]}, {s.point_lat[j]})"
            )
        if row < 0:
            nodes: list[int] = []
        else:
            start = (ua, va)[row]
            nodes = [end]
            while nodes[-1] != start:
                nodes.append(int(pred[row, nodes[-1]]))
                if nodes[-1] == _NO_PRED:  # cannot happen for a finite distance
                    raise Unreachable("broken predecessor chain")
            nodes.reverse()
        coords = [
            (float(s.point_lon[i]), float(s.point_lat[i])),
            (float(s.lon[i]), float(s.lat[i])),
        ]
        coords += [(float(self.lon[n]), float(self.lat[n])) for n in nodes]
        coords += [
            (float(s.lon[j]), float(s.lat[j])),
            (float(s.point_lon[j]), float(s.point_lat[j])),
        ]
        length = float(cost + s.offset_m[i] + s.offset_m[j])
        return PathResult(
            length_m=length,
            coords=_dedupe_consecutive(coords),
            node_indices=np.asarray(nodes, dtype=np.int64),
            leg_lengths_m=(length,),
        )

    def path(
        self,
        a_lon: float,
        a_lat: float,
        b_lon: float,
        b_lat: float,
        *,
        max_offset_m: float | None = None,
        component: ComponentChoice = None,
    ) -> PathResult:
        """The shortest walk from place a to place b.

        Parameters
        ----------
        a_lon, a_lat, b_lon, b_lat : float
            The two places (WGS-84 degrees).
        max_offset_m, component
            Snapping options, see :meth:`snap`.

        Returns
        -------
        PathResult
            ``length_m`` equals :meth:`distance_matrix` for the same pair.

        Raises
        ------
        Unreachable
            When a place cannot be snapped or no path connects them.
        """
        s = self.snap(
            [a_lon, b_lon], [a_lat, b_lat], max_offset_m=max_offset_m, component=component
        )
        return self._leg(s, 0, 1)

    def path_through(
        self,
        points: Sequence[tuple[float, float]] | ArrayLike,
        *,
        max_offset_m: float | None = None,
        component: ComponentChoice = None,
    ) -> PathResult:
        """The shortest walk visiting the given places in order.

        Parameters
        ----------
        points : sequence of (lon, lat)
            At least two places, in visiting order.
        max_offset_m, component
            Snapping options, see :meth:`snap`.

        Returns
        -------
        PathResult
            Legs concatenated; the line passes through every original place. ``node_indices``
            is the concatenation of the legs' nodes with consecutive repeats removed.

        Raises
        ------
        Unreachable
            When any leg has no path.
        ValueError
            With fewer than two points.
        """
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < 2:
            raise ValueError("points must be a sequence of at least two (lon, lat) pairs")
        s = self.snap(pts[:, 0], pts[:, 1], max_offset_m=max_offset_m, component=component)
        legs = [self._leg(s, k, k + 1) for k in range(pts.shape[0] - 1)]
        coords: list[tuple[float, float]] = []
        for leg in legs:
            coords += leg.coords
        nodes = np.concatenate([leg.node_indices for leg in legs])
        if nodes.size:
            nodes = nodes[np.concatenate(([True], nodes[1:] != nodes[:-1]))]
        lengths = tuple(leg.length_m for leg in legs)
        return PathResult(
            length_m=float(sum(lengths)),
            coords=_dedupe_consecutive(coords),
            node_indices=nodes.astype(np.int64, copy=False),
            leg_lengths_m=lengths,
        )

    # ------------------------------------------------------------------ serialisation

    def to_npz(self, path: str | os.PathLike[str]) -> None:
        """Write the graph's arrays to ``path`` (an uncompressed .npz file).

        The file is written to a temporary name and renamed, so a concurrent reader never sees
        a half-written cache file. The exact ``path`` is used (numpy would otherwise append
        ``.npz`` to names without it).
        """
        target = Path(path)
        arrays: dict[str, np.ndarray] = {
            "format": np.array(_NPZ_FORMAT),
            "version": np.array(_NPZ_VERSION, dtype=np.int64),
            "lon": self.lon,
            "lat": self.lat,
            "edge_u": self.edge_u,
            "edge_v": self.edge_v,
            "edge_length_m": self.edge_length_m,
            "dropped": np.array([self.dropped_self_loops, self.dropped_parallel], dtype=np.int64),
        }
        if self.node_ids is not None:
            arrays["node_ids"] = self.node_ids
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str]) -> WalkGraph:
        """Load a graph written by :meth:`to_npz` (the CSR matrix is rebuilt).

        Raises
        ------
        ValueError
            When the file is not a walk-graph file of a known version.
        """
        with np.load(Path(path), allow_pickle=False) as z:
            if "format" not in z.files or str(z["format"]) != _NPZ_FORMAT:
                raise ValueError(f"{path} is not a Yimi walk-graph file")
            version = int(z["version"])
            if version != _NPZ_VERSION:
                raise ValueError(f"{path}: unsupported walk-graph file version {version}")
            graph = cls.from_arrays(
                z["lon"],
                z["lat"],
                z["edge_u"],
                z["edge_v"],
                z["edge_length_m"],
                node_ids=z["node_ids"] if "node_ids" in z.files else None,
            )
            dropped = z["dropped"]
        # The stored edges are already de-duplicated; keep the counts of the original build.
        graph.dropped_self_loops, graph.dropped_parallel = int(dropped[0]), int(dropped[1])
        return graph


# ---------------------------------------------------------------------- helpers


def _float_vector(values: ArrayLike, name: str, *, allow_scalar: bool = False) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0 and allow_scalar:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array")
    return arr


def _index_vector(values: ArrayLike, name: str, *, allow_scalar: bool = False) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim == 0 and allow_scalar:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array")
    # An empty list arrives as float64; anything else must already be integers.
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, not {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _readonly(arr: np.ndarray) -> np.ndarray:
    """Freeze an array this module owns (callers pass copies, never the caller's arrays)."""
    arr.flags.writeable = False
    return arr


def _geodesic_m(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    if not lon1.size:
        return np.empty(0, dtype=np.float64)
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=np.float64)


def _symmetric_csr(n: int, u: IntArray, v: IntArray, length: FloatArray) -> sp.csr_array:
    """Symmetric CSR adjacency assembled directly (never via COO, which sums duplicates).

    Explicit zero weights are stored as entries, which csgraph treats as zero-length edges.
    """
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([length, length])
    order = np.lexsort((cols, rows))
    index_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, dtype=index_dtype)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_array(
        (data[order], cols[order].astype(index_dtype), indptr), shape=(n, n), copy=False
    )


def _components(csr: sp.csr_array) -> tuple[IntArray, IntArray]:
    """Component labels renumbered by decreasing size (ties: lowest node first) and sizes."""
    n = csr.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    n_comp, labels = connected_components(csr, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    # scipy numbers components in order of their lowest node, so a stable sort keeps that as
    # the tie-break.
    order = np.argsort(-sizes, kind="stable")
    relabel = np.empty(n_comp, dtype=np.int64)
    relabel[order] = np.arange(n_comp)
    return _readonly(relabel[labels]), _readonly(sizes[order].astype(np.int64))


def _local_projection(
    lon: FloatArray, lat: FloatArray
) -> tuple[CRS, Transformer, Transformer, FloatArray, FloatArray]:
    """Azimuthal equidistant projection centred on the nodes' bounding box, and node x/y."""
    if lon.size:
        lon0 = 0.5 * (float(lon.min()) + float(lon.max()))
        lat0 = 0.5 * (float(lat.min()) + float(lat.max()))
    else:
        lon0 = lat0 = 0.0
    crs = CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +x_0=0 +y_0=0 +datum=WGS84 +units=m"
    )
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(lon, lat)
    return (
        crs,
        fwd,
        inv,
        _readonly(np.asarray(x, dtype=np.float64)),
        _readonly(np.asarray(y, dtype=np.float64)),
    )


def _dedupe_consecutive(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for c in coords:
        if not out or out[-1] != c:
            out.append(c)
    return out
