"""Exact walking distances between places snapped to a :class:`~yimi.analysis.graph.WalkGraph`.

The nearest facility of a kind for every home (one multi-source search) and every
facility–home pair within a distance (bounded searches on small local subgraphs).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from yimi.analysis.access import _kernels
from yimi.analysis.access._arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    expand_ranges,
    min_by_key,
    weighted_bincount,
)
from yimi.analysis.geo import EARTH_RADIUS_M
from yimi.analysis.graph import Snap, WalkGraph

__all__ = ["Nearest", "NetworkArrays", "NetworkIndex", "PreparedTargets", "Reach", "take"]

# The cell grid of the bounded searches may hold at most this many cells per node (plus a
# floor), so a graph spread over a huge, mostly empty box does not allocate a huge grid.
_CELLS_PER_NODE = 4
_MIN_CELLS = 4096
# Absolute slack (metres) added to every straight-line disc, for rounding in the projection.
_DISC_SLACK_M = 1.0
# Target size (nodes) of the windows of the grouped bounded searches: a search that stays in
# such a window stays in the CPU's cache; measured 2-3 times faster per node than the same
# searches over a 1,000,000-node graph.
_WINDOW_NODES = 50_000

# The bounded compiled searches use buckets this many times wider than the multi-source one
# (two thirds of the median edge): fewer empty buckets in short searches, measured 5-10 %
# faster on the real tiles, no change on the grid; any width gives the same results.
_BOUNDED_BUCKETS = 4.0

# The compiled bounded searches split the sources over threads only above this many per thread.
_MIN_SOURCES_PER_THREAD = 32

ReachMethod = Literal["compiled", "grouped", "local"]
NearestMethod = Literal["compiled", "scipy"]


@dataclass(frozen=True)
class NetworkArrays:
    """A walking network as plain arrays (what :meth:`WalkGraph.from_arrays` takes).

    Attributes
    ----------
    lon, lat : ndarray of float64
    edge_u, edge_v : ndarray of int64
    edge_length_m : ndarray of float64
    edge_highway : ndarray of str
        OSM ``highway`` class of each edge.
    generated : bool
        True for synthetic networks (:mod:`~yimi.analysis.access.synthetic`), tiled copies of a
        real one included; False for a real extract.
    description : str
        Where it came from (for generated ones: seed and parameters), for labelling results.
    """

    lon: FloatArray
    lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_highway: np.ndarray
    generated: bool = True
    description: str = ""

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.lon.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_u.shape[0])

    def to_graph(self) -> WalkGraph:
        """The :class:`WalkGraph` of these arrays."""
        return WalkGraph.from_arrays(
            self.lon, self.lat, self.edge_u, self.edge_v, self.edge_length_m
        )


@dataclass(frozen=True)
class Nearest:
    """The nearest source (facility) of every target (home), by walking distance.

    Attributes
    ----------
    dist_m : ndarray of float64, shape (n_targets,)
        Walking metres, both snap offsets included; ``inf`` where no source is reachable (other
        component, unsnapped point, or no source at all).
    source : ndarray of int64, shape (n_targets,)
        Index of that source in the sources' :class:`~yimi.analysis.graph.Snap`, or -1. Ties
        are broken by the search, not by index.
    """

    dist_m: FloatArray
    source: IntArray

    @property
    def reachable(self) -> BoolArray:
        """Boolean mask of the targets that reach some source."""
        return self.source >= 0


@dataclass(frozen=True)
class Reach:
    """All source–target pairs within a walking distance, as sparse triples.

    Attributes
    ----------
    source, target : ndarray of int64
        Indices into the sources' and the targets' :class:`~yimi.analysis.graph.Snap`, sorted by
        ``(source, target)``; each pair appears once.
    dist_m : ndarray of float64
        Walking metres of each pair, snap offsets included (may be exactly 0).
    n_sources, n_targets : int
        Sizes of the two point sets.
    limit_m : float
        Every pair within this distance (inclusive) is listed, and no other.

    Notes
    -----
    Distances are kept as triples rather than a sparse matrix because a distance of exactly 0
    (a home at the facility's door) is a real entry that sparse formats tend to drop.
    """

    source: IntArray
    target: IntArray
    dist_m: FloatArray
    n_sources: int
    n_targets: int
    limit_m: float

    def __post_init__(self) -> None:
        if not (self.source.shape == self.target.shape == self.dist_m.shape):
            raise ValueError("source, target and dist_m must have the same length")

    def __len__(self) -> int:
        return int(self.source.shape[0])

    def _check(self, threshold_m: float) -> float:
        t = float(threshold_m)
        if not t >= 0:
            raise ValueError("threshold_m must be a non-negative number")
        if t > self.limit_m:
            raise ValueError(
                f"threshold_m={t} exceeds the search limit {self.limit_m}: pairs beyond the "
                "limit were never searched"
            )
        return t

    def within(self, threshold_m: float) -> BoolArray:
        """Mask of the pairs within ``threshold_m`` (inclusive; at most :attr:`limit_m`)."""
        return self.dist_m <= self._check(threshold_m)

    def counts(self, threshold_m: float) -> IntArray:
        """Number of sources within ``threshold_m`` of each target, shape (n_targets,)."""
        keep = self.within(threshold_m)
        return np.bincount(self.target[keep], minlength=self.n_targets).astype(np.int64)

    def coverage(self, threshold_m: float) -> sp.csr_array:
        """Boolean sparse matrix (n_sources, n_targets): target within ``threshold_m``."""
        keep = self.within(threshold_m)
        return sp.csr_array(
            (np.ones(int(keep.sum()), dtype=bool), (self.source[keep], self.target[keep])),
            shape=(self.n_sources, self.n_targets),
        )

    def nearest(self) -> Nearest:
        """Nearest source of each target among the listed pairs (``inf`` beyond the limit).

        Ties are broken by the lowest source index.
        """
        dist = np.full(self.n_targets, np.inf)
        src = np.full(self.n_targets, -1, dtype=np.int64)
        if len(self):
            order = np.lexsort((self.source, self.dist_m, self.target))
            t = self.target[order]
            first = np.ones(t.shape[0], dtype=bool)
            first[1:] = t[1:] != t[:-1]
            dist[t[first]] = self.dist_m[order][first]
            src[t[first]] = self.source[order][first]
        return Nearest(dist_m=dist, source=src)

    def select_sources(self, sources: IntArray) -> Reach:
        """The pairs of a subset of sources, renumbered ``0 .. len(sources) - 1`` in that order.

        Parameters
        ----------
        sources : ndarray of int64
            Distinct source indices to keep.
        """
        sources = np.asarray(sources, dtype=np.int64)
        new = np.full(self.n_sources, -1, dtype=np.int64)
        new[sources] = np.arange(sources.shape[0])
        renum = new[self.source]
        keep = renum >= 0
        s, t, d = renum[keep], self.target[keep], self.dist_m[keep]
        if sources.shape[0] > 1 and not (np.diff(sources) > 0).all():
            # Ascending sources keep the (source, target) order; others need a sort.
            order = np.lexsort((t, s))
            s, t, d = s[order], t[order], d[order]
        return Reach(s, t, d, int(sources.shape[0]), self.n_targets, self.limit_m)


@dataclass(frozen=True)
class PreparedTargets:
    """Targets (homes) indexed once for many :meth:`NetworkIndex.reach` calls.

    Made by :meth:`NetworkIndex.prepare_targets`; pass it wherever a targets
    :class:`~yimi.analysis.graph.Snap` is accepted. Preparing costs a sort of the targets, which
    a pipeline asking several questions of the same homes then pays once.

    Attributes
    ----------
    snap : Snap
        The targets; treat its arrays as read-only while this object is in use.
    snapped : ndarray of int64
        Indices of the snapped targets.
    inc_ptr, inc_target, inc_cost : ndarray
        Per graph node ``k``, the targets on an edge ending at ``k`` are
        ``inc_target[inc_ptr[k]:inc_ptr[k + 1]]``, ``inc_cost`` metres away from it (along the
        edge, plus the target's offset).
    edge_sorted, edge_target : ndarray of int64
        The snapped targets' edges, sorted, and the target of each (for places sharing an edge).
    n_edges : int
        Edges of the graph they were snapped to.
    inc_local : ndarray of int64
        ``inc_target`` as *local* ids: the snapped targets numbered in the order of their
        edge's first end, so a compiled search reads the targets of the nodes it reaches from
        nearby memory.
    local_target : ndarray of int64
        Target index of each local id.
    local_of : ndarray of int64
        Local id of each target (-1: unsnapped).
    c_inc_ptr, c_inc_local, c_inc_cost : ndarray
        ``inc_ptr``, ``inc_local`` and ``inc_cost`` over the nodes *renumbered* for the compiled
        searches (see ``NetworkIndex._renumbered``); the local ids follow that numbering.
    """

    snap: Snap
    snapped: IntArray
    inc_ptr: IntArray
    inc_target: IntArray
    inc_cost: FloatArray
    edge_sorted: IntArray
    edge_target: IntArray
    n_edges: int
    inc_local: IntArray
    local_target: IntArray
    local_of: IntArray
    c_inc_ptr: IntArray
    c_inc_local: IntArray
    c_inc_cost: FloatArray

    def __len__(self) -> int:
        return len(self.snap)

    def same_edge(self, sources: Snap, si: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
        """Target–source pairs on one edge and their direct walk along it.

        Returns target indices, positions in ``si`` and source offset + the distance along
        the edge (the target's offset not included).
        """
        s_edge = sources.edge[si]
        lo = np.searchsorted(self.edge_sorted, s_edge, side="left")
        hi = np.searchsorted(self.edge_sorted, s_edge, side="right")
        pos, owner = expand_ranges(lo, hi - lo)
        t = self.edge_target[pos]
        s = si[owner]
        direct = sources.offset_m[s] + np.abs(sources.dist_from_u_m[s] - self.snap.dist_from_u_m[t])
        return t, owner, direct


class NetworkIndex:
    """A walking graph prepared for many exact searches from snapped places.

    Parameters
    ----------
    graph : WalkGraph
        The walking network. Its edge lengths must be at least the straight-line distance
        between their end nodes (true for geodesic lengths and lengths along curved ways).
    cell_m : float, default 100.0
        Side of the square cells of the spatial grid used to cut out local subgraphs; enlarged
        automatically when the graph's extent would need more than four cells per node.

    Attributes
    ----------
    graph : WalkGraph
    stretch : float
        The largest ratio of straight-line (projected) extent to walking length over the edges,
        at least 1; ``inf`` when an edge of length 0 joins distinct positions (then
        :meth:`reach` refuses to run).

    Notes
    -----
    **Nearest facility.** scipy's dijkstra has no per-source start distance, so each facility
    becomes a temporary virtual node with one-way edges to its edge's two end nodes, weighted
    offset + distance along the edge; one ``dijkstra(min_only=True)`` from all virtual nodes
    labels every network node with its nearest facility. A home then takes the better of its
    two end nodes (plus its own distance along the edge and its offset); facilities on the
    home's own edge are also compared by the direct walk along that edge.

    **Bounded searches.** ``dijkstra(limit=L)`` still returns a dense array over all nodes per
    source (scipy issue 16585). A walk of length ``<= r`` from a snapped point never leaves the
    straight-line disc of radius ``r`` around it (edge lengths are at least straight-line
    distances), so the search from a facility runs exactly on the subgraph of nodes inside that
    disc. Rather than trusting the convention, the index measures the largest ratio of an edge's
    straight line in its projection to its given length (:attr:`stretch`; about 1 + 1e-5 for
    geodesic lengths, the projection's scale error) and widens the discs by it, plus 1 m for
    rounding: exact for any lengths, only slower where lengths are shorter than straight lines.

    *Grouped* (the default): sources whose discs are pairwise disjoint form a group (greedy
    colouring of the overlap graph); no node lies within the limit of two sources of a group, so
    one ``dijkstra(min_only=True, limit=L)`` from all of a group's virtual nodes gives every node
    its distance to the only source of the group that can reach it, and ``sources`` says which.
    The searches run on *windows*: the plane is cut into square tiles of grid cells, sized so
    that a tile widened by the largest disc radius holds about 50,000 nodes; a source searches
    in its tile's window, which contains its whole disc. A window stays in the CPU's cache and
    keeps scipy's per-call set-up (dense arrays over every node) small. Windows are built on
    first use and kept (about 1.5 times the graph's adjacency in memory); a later search with a
    larger radius rebuilds them.

    *Local* (``method="local"``, the earlier method, kept as an independent check): the nodes
    of each disc are gathered and the subgraphs of a batch of sources are laid out as disjoint
    blocks of one sparse matrix, each with its source's virtual node, searched in one
    ``dijkstra(min_only=True)`` call.

    Nodes are renumbered in grid-cell order once, so the nodes of a disc or a window are
    gathered from a few contiguous runs and come out sorted.
    """

    def __init__(
        self, graph: WalkGraph, *, cell_m: float = 100.0, threads: int | None = None
    ) -> None:
        if not cell_m > 0:
            raise ValueError("cell_m must be positive")
        if threads is not None and threads < 1:
            raise ValueError("threads must be positive")
        self.graph = graph
        self.threads = threads if threads is not None else _default_threads()
        # The compiled searches walk the graph's own CSR arrays (64-bit, made once here).
        csr = graph.csr
        self._csr = (
            np.asarray(csr.indptr, dtype=np.int64),
            np.asarray(csr.indices, dtype=np.int64),
            np.asarray(csr.data, dtype=np.float64),
        )
        # Width of the compiled searches' buckets: a sixth of the median edge (measured
        # fastest on the grid and the real tiles; any positive width gives the same results).
        positive = graph.edge_length_m[graph.edge_length_m > 0]
        median = float(np.median(positive)) if positive.size else 1.0
        self._bucket_m = max(median / 6.0, 1e-3)
        self._cell_m_asked = float(cell_m)
        _kernels.load()  # compiled or loaded from the cache once per process
        self._grid_built = False
        self._stretch: float | None = None
        # Windows of the grouped bounded searches, built on first use and kept (see _tiling).
        self._tiles: _Tiling | None = None
        self._window_nodes = _WINDOW_NODES
        self._tile_cells: int | None = None  # tests set it to force many small tiles
        self._lock = threading.Lock()
        self._chain_data: tuple[np.ndarray, ...] | None = None  # nearest, on first use
        self._renumber: tuple[IntArray, tuple[np.ndarray, ...]] | None = None  # bounded
        self._scratch: list[tuple[np.ndarray, ...]] = []  # bounded searches' work arrays
        # The threads of _chunked, started on first use and kept: starting a pool costs about
        # 0.1 ms, a few percent of a small query (its idle threads end with the index).
        self._pool: ThreadPoolExecutor | None = None
        self._node_tree: tuple[cKDTree | None] | None = None  # snap_to_nodes, built on first use
        self._node_edge: IntArray | None = None
        self._node_live: IntArray | None = None

    def _take_scratch(self, n_targets: int) -> tuple[np.ndarray, ...]:
        """Scratch arrays of the bounded searches, reused between calls (one set per
        concurrent search; allocating them, several arrays over every node, would cost more
        than a small search)."""
        with self._lock:
            for i, work in enumerate(self._scratch):
                if work[1].shape[0] >= n_targets:
                    return self._scratch.pop(i)
        return _kernels.scratch(self.graph.n_nodes, n_targets)

    def _give_scratch(self, work: tuple[np.ndarray, ...]) -> None:
        with self._lock:
            if len(self._scratch) < max(self.threads, 1) + 1:
                self._scratch.append(work)

    def _renumbered(self) -> tuple[IntArray, tuple[np.ndarray, ...]]:
        """The nodes renumbered along a Morton (Z-order) curve of their positions, and the
        graph's CSR in that numbering, made once (for the bounded compiled searches).

        A bounded search touches the nodes near its source; numbered along the curve they lie
        close together in memory, so the search misses the CPU's cache less (measured 30 %
        faster on the real tiles, whose OSM node order scatters neighbours; no change on a
        row-major grid). Results do not depend on the numbering.

        Returns ``new`` (the new id of each node) and ``(indptr, indices, data)``.
        """
        if self._renumber is None:
            with self._lock:
                if self._renumber is None:
                    self._renumber = _morton_csr(self.graph.lon, self.graph.lat, *self._csr)
        return self._renumber

    def _chains(self) -> tuple[np.ndarray, ...]:
        """The graph with its chains of degree-2 nodes contracted (see ``_kernels.chains``),
        made on the first nearest search and kept."""
        if self._chain_data is None:
            with self._lock:
                if self._chain_data is None:
                    self._chain_data = _kernels.chains(*self._csr)
        return self._chain_data

    def _chain_span(self) -> float:
        """The longest arc of the contracted graph (a whole chain)."""
        c_data = self._chains()[4]
        return float(c_data.max()) if c_data.size else 0.0

    def _bucket_width(self, span: float) -> float:
        """The buckets' width for keys spread over ``span`` metres (at most 2**22 buckets)."""
        return max(self._bucket_m, span / float(1 << 22))

    @property
    def stretch(self) -> float:
        """Largest projected straight line per metre of edge length (see the class notes)."""
        if self._stretch is None:
            _, _, _, x, y = self.graph._projection_data()
            self._stretch = _stretch(self.graph, x, y)
        return self._stretch

    def _grid(self) -> None:
        """The cell grid and the cell-ordered adjacency of the scipy methods (built once)."""
        if self._grid_built:
            return
        with self._lock:
            if self._grid_built:
                return
            graph = self.graph
            _, _, _, x, y = graph._projection_data()
            n = graph.n_nodes
            if n:
                x0, y0 = float(x.min()), float(y.min())
                width, height = float(x.max()) - x0, float(y.max()) - y0
            else:
                x0 = y0 = width = height = 0.0
            max_cells = max(_CELLS_PER_NODE * n, _MIN_CELLS)
            cell = self._cell_m_asked
            while (math.floor(width / cell) + 1) * (math.floor(height / cell) + 1) > max_cells:
                cell *= 2.0
            self.cell_m = cell
            self._x0, self._y0 = x0, y0
            self._ncx = math.floor(width / cell) + 1
            self._ncy = math.floor(height / cell) + 1
            cx = np.floor((x - x0) / cell).astype(np.int64)
            cy = np.floor((y - y0) / cell).astype(np.int64)
            cell_id = cy * self._ncx + cx
            order = np.argsort(cell_id, kind="stable")
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n)
            self._order = order
            self._rank = rank
            self._x = x[order]
            self._y = y[order]
            counts = np.bincount(cell_id, minlength=self._ncx * self._ncy)
            self._cell_start = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
            # The adjacency in cell order (rows and columns renumbered).
            csr = graph.csr
            old_ptr = csr.indptr.astype(np.int64)
            deg = np.diff(old_ptr)[order]
            ent, _ = expand_ranges(old_ptr[order], deg)
            self._indptr = np.concatenate(([0], np.cumsum(deg))).astype(np.int64)
            self._indices = rank[csr.indices[ent]]
            self._data = np.asarray(csr.data, dtype=np.float64)[ent]
            self._grid_built = True

    # ------------------------------------------------------------------ helpers

    def project(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Project WGS-84 points into the graph's local metric plane (metres)."""
        fwd = self.graph._projection_data()[1]
        x, y = fwd.transform(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def snap_to_nodes(self, lon: ArrayLike, lat: ArrayLike) -> Snap:
        """Points snapped to their nearest *node* that has an edge (not to the nearest edge).

        What pandana (``get_node_ids``) and OSMnx (``nearest_nodes``) do: for places given at
        the network's nodes (or where a node is close enough), much cheaper than
        :meth:`WalkGraph.snap`, which has to index every edge. The snapped point is the node,
        placed at position 0 along one of its edges; the offset is the great-circle distance
        from the point to the node (a sphere of radius 6,371,008.8 m). Non-finite points stay
        unsnapped.

        Parameters
        ----------
        lon, lat : array_like of float
            WGS-84 degrees.

        Returns
        -------
        Snap
        """
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if lon.shape != lat.shape or lon.ndim != 1:
            raise ValueError("lon and lat must be 1-D arrays of the same length")
        graph = self.graph
        n, m = graph.n_nodes, graph.n_edges
        eu, ev, length = graph.edge_u, graph.edge_v, graph.edge_length_m
        # One edge per node (the first that names it) and the nodes' KD-tree, made once.
        if self._node_tree is None:
            with self._lock:
                if self._node_tree is None:
                    edge = np.full(n, -1, dtype=np.int64)
                    edge[eu[::-1]] = np.arange(m - 1, -1, -1)
                    edge[ev[::-1]] = np.arange(m - 1, -1, -1)
                    live = np.flatnonzero(edge >= 0)
                    xyz = _unit_xyz(graph.lon[live], graph.lat[live])
                    tree = cKDTree(xyz) if live.size else None
                    self._node_edge, self._node_live = edge, live
                    self._node_tree = (tree,)
        (tree,) = self._node_tree
        k = lon.shape[0]
        ok = np.isfinite(lon) & np.isfinite(lat)
        node = np.full(k, -1, dtype=np.int64)
        offset = np.full(k, np.nan)
        if tree is not None and ok.any():
            # Nearest by chord on the unit sphere, i.e. by great-circle distance.
            chord, i = tree.query(_unit_xyz(lon[ok], lat[ok]))
            node[ok] = self._node_live[i]
            offset[ok] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / 2.0, 1.0))
        hit = node >= 0
        nd = np.where(hit, node, 0)
        e = np.where(hit, self._node_edge[nd], -1)
        ee = np.maximum(e, 0)
        at_u = eu[ee] == nd if m else np.ones(k, dtype=bool)
        el = length[ee] if m else np.zeros(k)
        nan = np.full(k, np.nan)
        return Snap(
            point_lon=lon.copy(),
            point_lat=lat.copy(),
            edge=e,
            u=np.where(hit, eu[ee] if m else -1, -1),
            v=np.where(hit, ev[ee] if m else -1, -1),
            dist_from_u_m=np.where(hit, np.where(at_u, 0.0, el), nan),
            dist_from_v_m=np.where(hit, np.where(at_u, el, 0.0), nan),
            offset_m=np.where(hit, offset, nan),
            lon=np.where(hit, graph.lon[nd], nan),
            lat=np.where(hit, graph.lat[nd], nan),
        )

    def _check_snap(self, s: Snap, name: str) -> None:
        snapped = s.edge >= 0
        if snapped.any() and int(s.edge[snapped].max()) >= self.graph.n_edges:
            raise ValueError(f"{name} was snapped to a different graph")

    # ------------------------------------------------------------------ nearest

    def nearest(
        self,
        sources: Snap,
        targets: Snap | PreparedTargets,
        *,
        method: NearestMethod = "compiled",
    ) -> Nearest:
        """Nearest source of every target, by walking distance with snap offsets.

        Parameters
        ----------
        sources : Snap
            Facilities of one kind, snapped to this graph (unsnapped ones are ignored).
        targets : Snap or PreparedTargets
            Homes (demand points) snapped to this graph.
        method : {'compiled', 'scipy'}, default 'compiled'
            The multi-source search: the compiled kernel (numba), or
            ``scipy.sparse.csgraph.dijkstra(min_only=True)`` (the earlier method, kept as a
            check). Both give the same distances.

        Returns
        -------
        Nearest
            Distance and source index for every target.
        """
        prepared = None
        if isinstance(targets, PreparedTargets):
            prepared = self.prepare_targets(targets)
            targets = prepared.snap
        self._check_snap(sources, "sources")
        self._check_snap(targets, "targets")
        if method not in ("compiled", "scipy"):
            raise ValueError(f"method must be 'compiled' or 'scipy', not {method!r}")
        dist_out = np.full(len(targets), np.inf)
        src_out = np.full(len(targets), -1, dtype=np.int64)
        si = np.flatnonzero(sources.snapped)
        ti = np.flatnonzero(targets.snapped)
        f = si.shape[0]
        if not (f and ti.size):
            return Nearest(dist_out, src_out)
        w_u = sources.offset_m[si] + sources.dist_from_u_m[si]
        w_v = sources.offset_m[si] + sources.dist_from_v_m[si]
        if method == "compiled":
            span = max(self._chain_span(), float(w_u.max()), float(w_v.max()))
            dist, node_src = _kernels.multi_source_chains(
                *self._csr,
                *self._chains(),
                sources.u[si],
                sources.v[si],
                w_u,
                w_v,
                self._bucket_width(2.0 * span),
            )
        else:
            dist, node_src = self._nearest_scipy(sources, si, w_u, w_v)
        tu, tv = targets.u[ti], targets.v[ti]
        via_u = dist[tu] + targets.dist_from_u_m[ti]
        via_v = dist[tv] + targets.dist_from_v_m[ti]
        use_u = via_u <= via_v
        best = np.where(use_u, via_u, via_v)
        best_src = np.where(use_u, node_src[tu], node_src[tv])

        # Facilities on the target's own edge: the direct walk along it may be shorter.
        if prepared is not None:  # targets indexed by edge already: look the sources up
            pt, owner, direct = prepared.same_edge(sources, si)
            ps = si[owner]
        else:
            pt, ps, direct = _same_edge_pairs(sources, si, targets, ti)
        if pt.size:
            order = np.lexsort((ps, direct, pt))
            first = np.ones(order.shape[0], dtype=bool)
            first[1:] = pt[order][1:] != pt[order][:-1]
            bt, bs, bd = pt[order][first], ps[order][first], direct[order][first]
            # The pairs name targets and sources by their index in the Snap; ``best`` and
            # ``best_src`` are indexed by position among the snapped ones (ti, si: sorted).
            bt, bs = np.searchsorted(ti, bt), np.searchsorted(si, bs)
            better = bd < best[bt]
            best[bt[better]] = bd[better]
            best_src[bt[better]] = bs[better]
        reached = np.isfinite(best)
        dist_out[ti] = np.where(reached, best + targets.offset_m[ti], np.inf)
        src_out[ti] = np.where(reached, si[np.maximum(best_src, 0)], -1)
        return Nearest(dist_out, src_out)

    def _nearest_scipy(
        self, sources: Snap, si: IntArray, w_u: FloatArray, w_v: FloatArray
    ) -> tuple[FloatArray, IntArray]:
        """Distance of every node to its nearest source and that source's position in ``si``
        (-1: none), from one ``scipy`` multi-source search with a virtual node per source."""
        n = self.graph.n_nodes
        f = si.shape[0]
        csr = self.graph.csr
        idx_dtype = np.int32 if max(n + f, csr.nnz + 2 * f) < np.iinfo(np.int32).max else np.int64
        indptr = np.concatenate([csr.indptr, csr.indptr[-1] + 2 * np.arange(1, f + 1)]).astype(
            idx_dtype
        )
        indices = np.concatenate(
            [csr.indices, np.column_stack([sources.u[si], sources.v[si]]).ravel()]
        ).astype(idx_dtype)
        data = np.concatenate([csr.data, np.column_stack([w_u, w_v]).ravel()])
        aug = sp.csr_array((data, indices, indptr), shape=(n + f, n + f), copy=False)
        dist, _, src = dijkstra(
            aug,
            directed=True,
            indices=np.arange(n, n + f),
            min_only=True,
            return_predecessors=True,
        )
        src = np.asarray(src, dtype=np.int64)
        return dist[:n], np.where(src >= 0, src - n, -1)

    # ------------------------------------------------------------------ bounded searches

    def prepare_targets(self, targets: Snap | PreparedTargets) -> PreparedTargets:
        """Index targets (homes) once for repeated :meth:`reach` calls (see
        :class:`PreparedTargets`); a prepared object is returned as it is."""
        if isinstance(targets, PreparedTargets):
            if targets.n_edges != self.graph.n_edges:
                raise ValueError("targets were prepared for a different graph")
            return targets
        self._check_snap(targets, "targets")
        n = self.graph.n_nodes
        ti = np.flatnonzero(targets.snapped)
        node = np.concatenate([targets.u[ti], targets.v[ti]])
        both = np.concatenate([ti, ti])
        along = np.concatenate([targets.dist_from_u_m[ti], targets.dist_from_v_m[ti]])
        cost = along + targets.offset_m[both]
        order = np.argsort(node, kind="stable")
        inc_ptr = np.concatenate(([0], np.cumsum(np.bincount(node, minlength=n)))).astype(np.int64)
        # The compiled searches run on the nodes renumbered along a space-filling curve; local
        # target ids follow their edge's first end in that numbering, so that the targets of
        # the nodes a search reaches lie close together in memory.
        new = self._renumbered()[0]
        local_target = ti[np.argsort(new[targets.u[ti]], kind="stable")]
        local_of = np.full(len(targets), -1, dtype=np.int64)
        local_of[local_target] = np.arange(local_target.shape[0])
        c_node = new[node]
        c_order = np.argsort(c_node, kind="stable")
        c_inc_ptr = np.concatenate(([0], np.cumsum(np.bincount(c_node, minlength=n))))
        t_edge = targets.edge[ti]
        e_order = np.argsort(t_edge, kind="stable")
        return PreparedTargets(
            snap=targets,
            snapped=ti,
            inc_ptr=inc_ptr,
            inc_target=both[order],
            inc_cost=cost[order],
            edge_sorted=t_edge[e_order],
            edge_target=ti[e_order],
            n_edges=self.graph.n_edges,
            inc_local=local_of[both[order]],
            local_target=local_target,
            local_of=local_of,
            c_inc_ptr=c_inc_ptr.astype(np.int64),
            c_inc_local=local_of[both[c_order]],
            c_inc_cost=cost[c_order],
        )

    def reach(
        self,
        sources: Snap,
        targets: Snap | PreparedTargets,
        limit_m: float,
        *,
        max_batch_nodes: int = 2_000_000,
        method: ReachMethod = "compiled",
    ) -> Reach:
        """Every source–target pair within ``limit_m`` walking metres (exact, offsets included).

        Parameters
        ----------
        sources : Snap
            Facilities (or candidate sites), snapped to this graph.
        targets : Snap or PreparedTargets
            Homes (demand points), snapped to this graph; prepare them once with
            :meth:`prepare_targets` when asking several questions of the same homes.
        limit_m : float
            Largest walking distance of interest (inclusive).
        max_batch_nodes : int, default 2,000,000
            The local method: approximate number of subgraph nodes searched per dijkstra call;
            bounds the memory of one batch (roughly 100 bytes per node).
        method : {'compiled', 'grouped', 'local'}, default 'compiled'
            How the bounded searches run; all give the same pairs (see the class notes).
            ``'compiled'``: one compiled bounded Dijkstra per source (numba). ``'grouped'`` and
            ``'local'`` are the earlier scipy methods, kept as independent checks.

        Returns
        -------
        Reach
            The pairs, their distances, sorted by (source, target).
        """
        self._check_snap(sources, "sources")
        tp = self.prepare_targets(targets)
        limit = float(limit_m)
        if not (limit >= 0 and math.isfinite(limit)):
            raise ValueError("limit_m must be a finite, non-negative number")
        if max_batch_nodes < 1:
            raise ValueError("max_batch_nodes must be positive")
        if method not in ("compiled", "grouped", "local"):
            raise ValueError(f"method must be 'compiled', 'grouped' or 'local', not {method!r}")
        if method != "compiled" and not math.isfinite(self.stretch):
            raise ValueError(
                "the graph has edges of length 0 between distinct positions, so a walk's extent "
                "cannot be bounded; give such edges their straight-line length"
            )
        n_s, n_t = len(sources), len(tp)
        si = np.flatnonzero(sources.snapped & (sources.offset_m <= limit))
        src = np.empty(0, dtype=np.int64)
        tgt = np.empty(0, dtype=np.int64)
        val = np.empty(0, dtype=np.float64)
        if si.size and tp.snapped.size and method == "compiled":
            src, tgt, val = self._bounded_compiled(sources, si, tp, limit)
        elif si.size and tp.snapped.size:
            self._grid()
            px, py = self.project(sources.lon[si], sources.lat[si])
            radius = (limit - sources.offset_m[si]) * self.stretch + _DISC_SLACK_M
            if method == "grouped":
                src, tgt, val = self._bounded_grouped(sources, si, tp, limit, px, py, radius)
            else:
                src, tgt, val = self._bounded_local(
                    sources, si, tp, limit, px, py, radius, max_batch_nodes
                )
        return Reach(
            source=src, target=tgt, dist_m=val, n_sources=n_s, n_targets=n_t, limit_m=limit
        )

    def _compiled_inputs(
        self, sources: Snap, si: IntArray, tp: PreparedTargets
    ) -> tuple[np.ndarray, ...]:
        """The compiled searches' per-source arrays: seeds, their costs, and the targets on
        each source's own edge (``same_ptr``, local ids, direct walk with both offsets)."""
        pt, ps, direct = tp.same_edge(sources, si)
        direct = direct + tp.snap.offset_m[pt]
        order = np.argsort(ps, kind="stable")
        same_ptr = np.concatenate(([0], np.cumsum(np.bincount(ps, minlength=si.shape[0]))))
        same_ptr = same_ptr.astype(np.int64)
        same_local = tp.local_of[pt[order]]
        same_cost = direct[order]
        new = self._renumbered()[0]
        seed_u, seed_v = new[sources.u[si]], new[sources.v[si]]
        w_u = sources.offset_m[si] + sources.dist_from_u_m[si]
        w_v = sources.offset_m[si] + sources.dist_from_v_m[si]
        return seed_u, seed_v, w_u, w_v, same_ptr, same_local, same_cost

    def _n_chunks(self, n_sources: int) -> int:
        """Chunks (threads) for ``n_sources`` compiled searches."""
        return min(self.threads, max(1, n_sources // _MIN_SOURCES_PER_THREAD))

    def _chunked(self, n_sources: int, run):  # noqa: ANN001, ANN202
        """``run(lo, hi)`` over :attr:`threads` contiguous chunks of the sources, in parallel
        (the kernels release the GIL); the results in chunk order."""
        k = self._n_chunks(n_sources)
        if k <= 1:
            return [run(0, n_sources)]
        cuts = _cuts(n_sources, k)
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.threads, thread_name_prefix="yimi-access"
                )
            pool = self._pool
        return list(pool.map(run, cuts[:-1].tolist(), cuts[1:].tolist()))

    def _bounded_compiled(
        self, sources: Snap, si: IntArray, tp: PreparedTargets, limit: float
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Pairs within the limit: one compiled bounded search per source, the sources split
        into :attr:`threads` contiguous chunks searched in parallel (the kernel releases the
        GIL); the chunks' pairs, each sorted by (source, target), are concatenated in order."""
        seed_u, seed_v, w_u, w_v, same_ptr, same_local, same_cost = self._compiled_inputs(
            sources, si, tp
        )

        def run(lo: int, hi: int) -> tuple[IntArray, IntArray, FloatArray]:
            a, b = int(same_ptr[lo]), int(same_ptr[hi])
            work = self._take_scratch(len(tp.local_target))
            try:
                s, t, d = _kernels.bounded_pairs(
                    *self._renumbered()[1],
                    seed_u[lo:hi],
                    seed_v[lo:hi],
                    w_u[lo:hi],
                    w_v[lo:hi],
                    limit,
                    tp.c_inc_ptr,
                    tp.c_inc_local,
                    tp.c_inc_cost,
                    tp.local_target,
                    tp.local_of,
                    same_ptr[lo : hi + 1] - a,
                    same_local[a:b],
                    same_cost[a:b],
                    self._bucket_width(limit) * _BOUNDED_BUCKETS,
                    *work,
                )
            finally:
                self._give_scratch(work)
            return si[s + lo], t, d

        parts = self._chunked(si.shape[0], run)
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate(x) for x in zip(*parts, strict=True))  # type: ignore[return-value]

    def counts(
        self, sources: Snap, targets: Snap | PreparedTargets, thresholds_m: ArrayLike
    ) -> IntArray:
        """Number of sources within each threshold of every target, counted inside the
        compiled searches (no pairs are listed).

        The same numbers as ``reach(sources, targets, max(thresholds_m)).counts(t)`` for each
        threshold ``t`` (the same searches and distances), at a fraction of the cost.

        Parameters
        ----------
        sources : Snap
        targets : Snap or PreparedTargets
        thresholds_m : array_like of float
            Walking distances (inclusive), any order.

        Returns
        -------
        ndarray of int64, shape (len(thresholds_m), n_targets)
        """
        self._check_snap(sources, "sources")
        tp = self.prepare_targets(targets)
        thr = np.asarray(thresholds_m, dtype=np.float64).reshape(-1)
        if not (thr.size and np.isfinite(thr).all() and (thr >= 0).all()):
            raise ValueError("thresholds_m must be finite, non-negative numbers (at least one)")
        uniq = np.unique(thr)  # ascending
        limit = float(uniq[-1])
        out = np.zeros((thr.shape[0], len(tp)), dtype=np.int64)
        si = np.flatnonzero(sources.snapped & (sources.offset_m <= limit))
        si = si[np.argsort(self._renumbered()[0][sources.u[si]], kind="stable")]
        n_local = tp.local_target.shape[0]
        if not (si.size and n_local):
            return out
        seed_u, seed_v, w_u, w_v, same_ptr, same_local, same_cost = self._compiled_inputs(
            sources, si, tp
        )

        k = self._n_chunks(si.shape[0])
        cuts = _cuts(si.shape[0], k)
        # One band array per chunk (thread); band_totals sums them.
        bands = np.zeros((k, n_local, uniq.shape[0]), dtype=np.int32)

        def run(lo: int, hi: int) -> None:
            a, b = int(same_ptr[lo]), int(same_ptr[hi])
            band = bands[int(np.searchsorted(cuts, lo))]
            work = self._take_scratch(n_local)
            try:
                _kernels.bounded_counts(
                    *self._renumbered()[1],
                    seed_u[lo:hi],
                    seed_v[lo:hi],
                    w_u[lo:hi],
                    w_v[lo:hi],
                    uniq,
                    tp.c_inc_ptr,
                    tp.c_inc_local,
                    tp.c_inc_cost,
                    same_ptr[lo : hi + 1] - a,
                    same_local[a:b],
                    same_cost[a:b],
                    self._bucket_width(limit) * _BOUNDED_BUCKETS,
                    band,
                    *work,
                )
            finally:
                self._give_scratch(work)

        self._chunked(si.shape[0], run)
        which = np.searchsorted(uniq, thr).astype(np.int64)
        _kernels.band_totals(bands, which, tp.local_target, out)
        return out

    def fca_sums(
        self,
        sources: Snap,
        targets: Snap | PreparedTargets,
        supply: FloatArray,
        demand: FloatArray,
        catchment_m: float,
        *,
        gaussian: bool,
    ) -> tuple[FloatArray, FloatArray]:
        """Both steps of 2SFCA inside the compiled searches (see
        :func:`fca.search_two_step_fca`, which validates the inputs): the decay-weighted demand
        within ``catchment_m`` of each source, and each target's access (the sum of its
        sources' ``supply / weighted demand`` times their weights)."""
        self._check_snap(sources, "sources")
        tp = self.prepare_targets(targets)
        limit = float(catchment_m)
        n_s, n_t = len(sources), len(tp)
        n_local = tp.local_target.shape[0]
        weighted = np.zeros(n_s)
        si = np.flatnonzero(sources.snapped & (sources.offset_m <= limit))
        si = si[np.argsort(self._renumbered()[0][sources.u[si]], kind="stable")]
        if not (si.size and n_local):
            return weighted, np.zeros(n_t)
        seed_u, seed_v, w_u, w_v, same_ptr, same_local, same_cost = self._compiled_inputs(
            sources, si, tp
        )
        dem = np.ascontiguousarray(demand, dtype=np.float64)
        sup = np.ascontiguousarray(supply, dtype=np.float64)[si]
        k = self._n_chunks(si.shape[0])
        # One access array per chunk (thread), added up at the end.
        access = [np.zeros(n_t) for _ in range(k)]
        cuts = _cuts(si.shape[0], k)

        def run(lo: int, hi: int) -> FloatArray:
            a, b = int(same_ptr[lo]), int(same_ptr[hi])
            work = self._take_scratch(n_local)
            try:
                return _kernels.bounded_fca(
                    *self._renumbered()[1],
                    seed_u[lo:hi],
                    seed_v[lo:hi],
                    w_u[lo:hi],
                    w_v[lo:hi],
                    limit,
                    bool(gaussian),
                    sup[lo:hi],
                    dem,
                    tp.local_target,
                    tp.c_inc_ptr,
                    tp.c_inc_local,
                    tp.c_inc_cost,
                    same_ptr[lo : hi + 1] - a,
                    same_local[a:b],
                    same_cost[a:b],
                    self._bucket_width(limit) * _BOUNDED_BUCKETS,
                    access[int(np.searchsorted(cuts, lo))],
                    *work,
                )
            finally:
                self._give_scratch(work)

        parts = self._chunked(si.shape[0], run)
        weighted[si] = np.concatenate(parts)
        total = access[0]
        for more in access[1:]:
            total += more
        return weighted, total

    def _tiling(self, margin: float) -> _Tiling:
        """The cached square tiles and their windows, for discs of radius up to ``margin``."""
        with self._lock:
            t = self._tiles
            if t is not None and t.margin >= margin:
                return t
            cell = self.cell_m
            mc = math.ceil(margin / cell)
            # Windows of about _WINDOW_NODES nodes: small enough for the searches to stay in
            # cache, large enough that each search call serves many sources.
            n = max(self.graph.n_nodes, 1)
            density = n / (self._ncx * self._ncy)  # nodes per cell
            side = math.sqrt(self._window_nodes / max(density, 1e-12))  # cells
            k = self._tile_cells or max(1, int(side) - 2 * mc, 2 * mc)
            t = _Tiling(margin=mc * cell, margin_cells=mc, tile_cells=k, windows={})
            self._tiles = t
            return t

    def _window(self, tiling: _Tiling, tx: int, ty: int) -> _Window:
        """The subgraph of the nodes within a tile's cells widened by the tiling's margin."""
        key = ty * (self._ncx // tiling.tile_cells + 1) + tx
        with self._lock:
            w = tiling.windows.get(key)
            if w is not None:
                return w
            k, mc = tiling.tile_cells, tiling.margin_cells
            cx0, cx1 = max(tx * k - mc, 0), min((tx + 1) * k - 1 + mc, self._ncx - 1)
            cy0, cy1 = max(ty * k - mc, 0), min((ty + 1) * k - 1 + mc, self._ncy - 1)
            cy = np.arange(cy0, cy1 + 1, dtype=np.int64)
            start = self._cell_start[cy * self._ncx + cx0]
            end = self._cell_start[cy * self._ncx + cx1 + 1]
            pos, _ = expand_ranges(start, end - start)
            m = pos.shape[0]
            deg = self._indptr[pos + 1] - self._indptr[pos]
            ent, row = expand_ranges(self._indptr[pos], deg)
            # Neighbours' window positions through a scratch map (-1: outside the window).
            if tiling.scratch is None:
                tiling.scratch = np.full(self.graph.n_nodes, -1, dtype=np.int64)
            local = tiling.scratch
            local[pos] = np.arange(m)
            col = local[self._indices[ent]]
            local[pos] = -1
            ok = col >= 0
            idx_dtype = np.int32 if m + 1 < np.iinfo(np.int32).max else np.int64
            indptr = np.concatenate(([0], np.cumsum(np.bincount(row[ok], minlength=m))))
            w = _Window(
                pos=pos,
                node=self._order[pos],
                indptr=indptr.astype(np.int64),
                indices=col[ok].astype(idx_dtype),
                data=self._data[ent[ok]],
            )
            tiling.windows[key] = w
            return w

    def _bounded_grouped(
        self,
        sources: Snap,
        si: IntArray,
        tp: PreparedTargets,
        limit: float,
        px: FloatArray,
        py: FloatArray,
        radius: FloatArray,
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Pairs within the limit: per tile, one multi-source search per group of sources whose
        discs are disjoint, on the tile's window."""
        n_t = len(tp)
        t_offset = tp.snap.offset_m
        tiling = self._tiling(float(radius.max()))
        side = tiling.tile_cells * self.cell_m
        ntx = self._ncx // tiling.tile_cells + 1
        nty = self._ncy // tiling.tile_cells + 1
        tx = np.clip(np.floor((px - self._x0) / side), 0, ntx - 1).astype(np.int64)
        ty = np.clip(np.floor((py - self._y0) / side), 0, nty - 1).astype(np.int64)
        tile = ty * ntx + tx
        by_tile = np.argsort(tile, kind="stable")
        bounds = np.flatnonzero(np.diff(tile[by_tile])) + 1
        # Sources and homes on one edge (positions in si), within the limit.
        pt, ps, direct = tp.same_edge(sources, si)
        direct = direct + t_offset[pt]
        near = direct <= limit
        pt, ps, direct = pt[near], ps[near], direct[near]
        group_of = np.full(si.shape[0], -1, dtype=np.int64)
        w_u = sources.offset_m[si] + sources.dist_from_u_m[si]
        w_v = sources.offset_m[si] + sources.dist_from_v_m[si]
        rank_u, rank_v = self._rank[sources.u[si]], self._rank[sources.v[si]]

        best = np.full(n_t, np.inf)
        stamp = np.zeros(n_t, dtype=np.int64)
        out_s: list[IntArray] = []
        out_t: list[IntArray] = []
        out_v: list[FloatArray] = []
        n_groups = 0
        for members in np.split(by_tile, bounds):
            t0 = int(tile[members[0]])
            win = self._window(tiling, t0 % ntx, t0 // ntx)
            m = win.pos.shape[0]
            f = members.shape[0]
            # Virtual nodes m .. m + f - 1: each source's edges to its edge's ends. An end
            # outside the window is beyond the limit (it lies farther than the margin).
            ends = np.column_stack([rank_u[members], rank_v[members]]).ravel()
            at = np.minimum(np.searchsorted(win.pos, ends), max(m - 1, 0))
            has = win.pos[at] == ends if m else np.zeros(ends.shape[0], dtype=bool)
            weights = np.column_stack([w_u[members], w_v[members]]).ravel()
            counts = has.reshape(-1, 2).sum(axis=1)
            indptr = np.concatenate([win.indptr, win.indptr[-1] + np.cumsum(counts)])
            size = m + f
            idx_dtype = np.int32 if max(size, indptr[-1]) < np.iinfo(np.int32).max else np.int64
            aug = sp.csr_array(
                (
                    np.concatenate([win.data, weights[has]]),
                    np.concatenate([win.indices, at[has].astype(win.indices.dtype)]).astype(
                        idx_dtype, copy=False
                    ),
                    indptr.astype(idx_dtype),
                ),
                shape=(size, size),
                copy=False,
            )
            groups = _colour(px[members], py[members], radius[members])
            for g_local, group in enumerate(groups):
                group_of[members[group]] = n_groups + g_local
            for g_local, group in enumerate(groups):
                g = n_groups + g_local
                dist, _, reached_from = dijkstra(
                    aug,
                    directed=True,
                    indices=m + group,
                    min_only=True,
                    limit=limit,
                    return_predecessors=True,
                )
                local = np.flatnonzero(dist[:m] <= limit)
                node = win.node[local]
                start = tp.inc_ptr[node]
                ent, k = expand_ranges(start, tp.inc_ptr[node + 1] - start)
                t = tp.inc_target[ent]
                v = dist[local][k] + tp.inc_cost[ent]
                ok = v <= limit
                sel = group_of[ps] == g
                t = np.concatenate([t[ok], pt[sel]])
                v = np.concatenate([v[ok], direct[sel]])
                s = np.concatenate([members[reached_from[local][k[ok]] - m], ps[sel]])
                if not t.size:
                    continue
                # The discs of a group are disjoint, so a target lies within the limit of at
                # most one of its sources (the same source via either end of its edge, or along
                # it): keep its shortest walk.
                np.minimum.at(best, t, v)
                seq = np.arange(t.shape[0])
                stamp[t] = seq
                first = stamp[t] == seq
                tu = t[first]
                out_s.append(s[first])
                out_t.append(tu)
                out_v.append(best[tu])
                best[tu] = np.inf
            n_groups += len(groups)
        if not out_s:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
        s = np.concatenate(out_s)
        t = np.concatenate(out_t)
        v = np.concatenate(out_v)
        order = _radix_order(s, si.shape[0], t, n_t)
        return si[s[order]], t[order], v[order]

    def _bounded_local(
        self,
        sources: Snap,
        si: IntArray,
        tp: PreparedTargets,
        limit: float,
        px: FloatArray,
        py: FloatArray,
        radius: FloatArray,
        max_batch_nodes: int,
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Pairs within the limit from searches on each source's local subgraph."""
        n_t = len(tp)
        rows = self._disc_rows(px, py, radius)
        per_source = weighted_bincount(rows.owner, rows.length.astype(np.float64), si.shape[0])
        t_offset = tp.snap.offset_m

        # Sources and homes on one edge, sorted by source so each batch takes a slice.
        pt, ps, direct = tp.same_edge(sources, si)
        ps = si[ps]
        direct = direct + t_offset[pt]
        near = direct <= limit
        order = np.argsort(ps[near], kind="stable")
        same_src, same_tgt, same_val = ps[near][order], pt[near][order], direct[near][order]

        out: list[tuple[IntArray, FloatArray]] = []
        row_ptr = np.concatenate(([0], np.cumsum(rows.n_rows)))
        for lo, hi in _batches(per_source, max_batch_nodes):
            dist, pos, blk = self._search_batch(
                rows, row_ptr, lo, hi, px, py, radius, sources, si, limit
            )
            reached = np.flatnonzero(dist <= limit)
            node = self._order[pos[reached]]
            start = tp.inc_ptr[node]
            ent, k = expand_ranges(start, tp.inc_ptr[node + 1] - start)
            tgt = tp.inc_target[ent]
            val = dist[reached][k] + tp.inc_cost[ent]
            src = si[lo + blk[reached][k]]
            ok = val <= limit
            s_lo = int(np.searchsorted(same_src, si[lo], side="left"))
            s_hi = int(np.searchsorted(same_src, si[hi - 1], side="right"))
            keys = np.concatenate(
                [src[ok] * n_t + tgt[ok], same_src[s_lo:s_hi] * n_t + same_tgt[s_lo:s_hi]]
            )
            vals = np.concatenate([val[ok], same_val[s_lo:s_hi]])
            if keys.size:
                out.append(min_by_key(keys, vals))
        if not out:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
        # Batches cover increasing source ranges and each is sorted: no global sort needed.
        keys = np.concatenate([k for k, _ in out])
        vals = np.concatenate([v for _, v in out])
        return keys // max(n_t, 1), keys % max(n_t, 1), vals

    def _disc_rows(self, px: FloatArray, py: FloatArray, radius: FloatArray) -> _Rows:
        """Runs of cell-ordered nodes covering each disc's bounding square, one per cell row."""
        cell = self.cell_m
        fx0 = np.floor((px - radius - self._x0) / cell)
        fx1 = np.floor((px + radius - self._x0) / cell)
        fy0 = np.floor((py - radius - self._y0) / cell)
        fy1 = np.floor((py + radius - self._y0) / cell)
        valid = (
            (radius >= 0)
            & (fx1 >= 0)
            & (fy1 >= 0)
            & (fx0 <= self._ncx - 1)
            & (fy0 <= self._ncy - 1)
        )
        cx0 = np.clip(fx0, 0, self._ncx - 1).astype(np.int64)
        cx1 = np.clip(fx1, 0, self._ncx - 1).astype(np.int64)
        cy0 = np.clip(fy0, 0, self._ncy - 1).astype(np.int64)
        cy1 = np.clip(fy1, 0, self._ncy - 1).astype(np.int64)
        n_rows = np.where(valid, cy1 - cy0 + 1, 0)
        cy, owner = expand_ranges(cy0, n_rows)
        start = self._cell_start[cy * self._ncx + cx0[owner]]
        end = self._cell_start[cy * self._ncx + cx1[owner] + 1]
        return _Rows(owner=owner, start=start, length=end - start, n_rows=n_rows)

    def _search_batch(
        self,
        rows: _Rows,
        row_ptr: IntArray,
        lo: int,
        hi: int,
        px: FloatArray,
        py: FloatArray,
        radius: FloatArray,
        sources: Snap,
        si: IntArray,
        limit: float,
    ) -> tuple[FloatArray, IntArray, IntArray]:
        """Distances from sources ``si[lo:hi]`` to the nodes of their discs (one dijkstra call).

        Returns the distances, the (cell-order) node and the block (source - lo) of each entry.
        """
        r0, r1 = int(row_ptr[lo]), int(row_ptr[hi])
        run_start, run_len = rows.start[r0:r1], rows.length[r0:r1]
        pos_all, run_of = expand_ranges(run_start, run_len)
        blk_all = rows.owner[r0:r1][run_of] - lo
        dx = self._x[pos_all] - px[lo + blk_all]
        dy = self._y[pos_all] - py[lo + blk_all]
        r = radius[lo + blk_all]
        inside = dx * dx + dy * dy <= r * r
        pos, blk = pos_all[inside], blk_all[inside]
        n = self.graph.n_nodes
        # Gathered nodes are sorted within each block and blocks come in order, so these keys
        # are sorted and a neighbour's local index is found by binary search.
        keys = blk * n + pos

        def local_index(node: IntArray, block: IntArray) -> IntArray:
            if not keys.size:
                return np.full(node.shape[0], -1, dtype=np.int64)
            key = block * n + node
            at = np.minimum(np.searchsorted(keys, key), keys.shape[0] - 1)
            return np.where(keys[at] == key, at, -1)

        k_nodes = pos.shape[0]
        n_blocks = hi - lo
        deg = self._indptr[pos + 1] - self._indptr[pos]
        ent, row = expand_ranges(self._indptr[pos], deg)
        col = local_index(self._indices[ent], blk[row])
        ok = col >= 0
        row, col, w = row[ok], col[ok], self._data[ent[ok]]

        # One virtual node per block: the facility's snapped point.
        s_idx = si[lo:hi]
        vb = np.repeat(np.arange(n_blocks, dtype=np.int64), 2)
        vnode = self._rank[np.column_stack([sources.u[s_idx], sources.v[s_idx]]).ravel()]
        vw = np.column_stack(
            [
                sources.offset_m[s_idx] + sources.dist_from_u_m[s_idx],
                sources.offset_m[s_idx] + sources.dist_from_v_m[s_idx],
            ]
        ).ravel()
        vcol = local_index(vnode, vb)
        vok = vcol >= 0

        all_rows = np.concatenate([row, k_nodes + vb[vok]])
        all_cols = np.concatenate([col, vcol[vok]])
        all_w = np.concatenate([w, vw[vok]])
        size = k_nodes + n_blocks
        indptr = np.concatenate(([0], np.cumsum(np.bincount(all_rows, minlength=size))))
        idx_dtype = np.int32 if max(size, all_w.shape[0]) < np.iinfo(np.int32).max else np.int64
        mat = sp.csr_array(
            (all_w, all_cols.astype(idx_dtype), indptr.astype(idx_dtype)),
            shape=(size, size),
            copy=False,
        )
        dist = dijkstra(
            mat,
            directed=True,
            indices=np.arange(k_nodes, size),
            min_only=True,
            limit=limit,
        )
        return np.asarray(dist[:k_nodes], dtype=np.float64), pos, blk


@dataclass(frozen=True)
class _Window:
    """The subgraph of one tile widened by a margin (cell-order positions, local CSR)."""

    pos: IntArray  # cell-order positions of its nodes, ascending
    node: IntArray  # the same nodes in the graph's numbering
    indptr: IntArray
    indices: np.ndarray
    data: FloatArray


@dataclass
class _Tiling:
    """Square tiles of ``tile_cells`` cells and their (lazily built) windows."""

    margin: float
    margin_cells: int
    tile_cells: int
    windows: dict[int, _Window]
    scratch: IntArray | None = None  # all -1 between window builds


@dataclass(frozen=True)
class _Rows:
    """Runs of cell-ordered nodes covering the discs (one per disc and cell row)."""

    owner: IntArray  # the disc of each run
    start: IntArray  # first node (cell order) of each run
    length: IntArray  # nodes in each run
    n_rows: IntArray  # per disc: its number of runs


def _unit_xyz(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Points on the unit sphere (for nearest-neighbour queries by great-circle distance)."""
    lo, la = np.radians(lon), np.radians(lat)
    c = np.cos(la)
    return np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


def _default_threads() -> int:
    """Threads for the compiled bounded searches: ``YIMI_ACCESS_THREADS``, else the CPUs this
    process may run on (at most 8)."""
    env = os.environ.get("YIMI_ACCESS_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(
                f"YIMI_ACCESS_THREADS must be a positive integer, not {env!r}"
            ) from None
        if n < 1:
            raise ValueError(f"YIMI_ACCESS_THREADS must be a positive integer, not {env!r}")
        return n
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _cuts(n: int, k: int) -> IntArray:
    """Bounds of ``k`` contiguous chunks of ``0 .. n - 1``."""
    return np.linspace(0, n, k + 1).astype(np.int64)


def _morton_csr(
    lon: FloatArray, lat: FloatArray, indptr: IntArray, indices: IntArray, data: FloatArray
) -> tuple[IntArray, tuple[np.ndarray, ...]]:
    """Nodes renumbered in Morton order of their positions (16 bits per axis over the
    graph's extent), and the CSR in the new numbering (see ``NetworkIndex._renumbered``)."""
    n = indptr.shape[0] - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64), (indptr, indices, data)

    def cells(a: FloatArray) -> np.ndarray:
        a = np.nan_to_num(np.asarray(a, dtype=np.float64))
        lo, span = float(a.min()), float(np.ptp(a))
        q = (a - lo) / span * 65535.0 if span > 0 else np.zeros_like(a)
        return q.astype(np.uint64)

    def spread(a: np.ndarray) -> np.ndarray:
        a = (a | (a << np.uint64(8))) & np.uint64(0x00FF00FF)
        a = (a | (a << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        a = (a | (a << np.uint64(2))) & np.uint64(0x33333333)
        return (a | (a << np.uint64(1))) & np.uint64(0x55555555)

    key = spread(cells(lon)) | (spread(cells(lat)) << np.uint64(1))
    order = np.argsort(key, kind="stable")  # old id of each new id
    new = np.empty(n, dtype=np.int64)
    new[order] = np.arange(n, dtype=np.int64)
    deg = np.diff(indptr)[order]
    m_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=m_indptr[1:])
    old_pos = np.repeat(indptr[:-1][order] - m_indptr[:-1], deg) + np.arange(
        int(m_indptr[-1]), dtype=np.int64
    )
    return new, (m_indptr, new[indices[old_pos]], np.ascontiguousarray(data[old_pos]))


def _stretch(graph: WalkGraph, x: FloatArray, y: FloatArray) -> float:
    """Largest projected straight line per metre of given edge length (at least 1)."""
    if not graph.n_edges:
        return 1.0
    u, v = graph.edge_u, graph.edge_v
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    length = graph.edge_length_m
    # Sub-millimetre lines (nodes at one position) are covered by the disc's absolute slack.
    check = straight > 1e-3
    if not check.any():
        return 1.0
    with np.errstate(divide="ignore"):
        ratio = straight[check] / length[check]
    # A hair above the measured ratio, for rounding in the comparisons against it.
    return max(1.0, float(ratio.max())) * (1.0 + 1e-9)


def take(snap: Snap, indices: IntArray) -> Snap:
    """The snap of a subset of the points, in the order of ``indices``."""
    idx = np.asarray(indices, dtype=np.int64)
    return Snap(
        point_lon=snap.point_lon[idx],
        point_lat=snap.point_lat[idx],
        edge=snap.edge[idx],
        u=snap.u[idx],
        v=snap.v[idx],
        dist_from_u_m=snap.dist_from_u_m[idx],
        dist_from_v_m=snap.dist_from_v_m[idx],
        offset_m=snap.offset_m[idx],
        lon=snap.lon[idx],
        lat=snap.lat[idx],
    )


def _same_edge_pairs(
    sources: Snap, si: IntArray, targets: Snap, ti: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Target–source pairs on the same edge and their direct cost (source offset + along).

    Returns target indices, source indices and ``offset_s + |s_u - t_u|`` (the target's offset
    is not included).
    """
    s_edge = sources.edge[si]
    order = np.argsort(s_edge, kind="stable")
    sorted_edge = s_edge[order]
    t_edge = targets.edge[ti]
    lo = np.searchsorted(sorted_edge, t_edge, side="left")
    hi = np.searchsorted(sorted_edge, t_edge, side="right")
    pos, owner = expand_ranges(lo, hi - lo)
    s = si[order[pos]]
    t = ti[owner]
    direct = sources.offset_m[s] + np.abs(sources.dist_from_u_m[s] - targets.dist_from_u_m[t])
    return t, s, direct


def _batches(per_source: FloatArray, max_nodes: int) -> list[tuple[int, int]]:
    """Consecutive source ranges whose summed node counts stay near ``max_nodes``."""
    out: list[tuple[int, int]] = []
    n = per_source.shape[0]
    if not n:
        return out
    cum = np.cumsum(per_source)
    lo = 0
    while lo < n:
        base = cum[lo - 1] if lo else 0.0
        hi = int(np.searchsorted(cum, base + max_nodes, side="right"))
        hi = max(hi, lo + 1)
        out.append((lo, min(hi, n)))
        lo = hi
    return out


def _colour(px: FloatArray, py: FloatArray, radius: FloatArray) -> list[IntArray]:
    """Sources in groups whose straight-line discs are pairwise disjoint (greedy colouring).

    No point lies within the discs of two sources of one group, so one multi-source search per
    group gives every node its distance to the only source of the group that can reach it.
    Largest-degree-first greedy colouring of the overlap graph (Welsh & Powell 1967).
    """
    f = px.shape[0]
    if f <= 1:
        return [np.arange(f, dtype=np.int64)] if f else []
    tree = cKDTree(np.column_stack([px, py]))
    pairs = tree.query_pairs(2.0 * float(radius.max()), output_type="ndarray")
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    gap = radius[a] + radius[b]
    keep = (px[a] - px[b]) ** 2 + (py[a] - py[b]) ** 2 <= gap * gap
    a, b = a[keep], b[keep]
    ends = np.concatenate([a, b])
    other = np.concatenate([b, a])
    order = np.argsort(ends, kind="stable")
    deg = np.bincount(ends, minlength=f)
    ptr = np.concatenate(([0], np.cumsum(deg))).tolist()
    nbrs = other[order].tolist()
    colour = [-1] * f
    for i in np.argsort(-deg, kind="stable").tolist():
        used = {colour[j] for j in nbrs[ptr[i] : ptr[i + 1]]}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    col = np.asarray(colour, dtype=np.int64)
    order = np.argsort(col, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(col))))
    return [order[bounds[g] : bounds[g + 1]] for g in range(bounds.shape[0] - 1)]


def _radix_order(s: IntArray, n_s: int, t: IntArray, n_t: int) -> IntArray:
    """Order of the pairs by (s, t): stable radix sorts on 16-bit digits, least significant
    first (numpy radix-sorts 16-bit integers; a sort of int64 keys is several times slower)."""
    order = np.arange(s.shape[0])
    for values, bound in ((t, n_t), (s, n_s)):
        shift = 0
        while shift == 0 or (bound - 1) >> shift:
            digit = ((values[order] >> shift) & 0xFFFF).astype(np.uint16)
            order = order[np.argsort(digit, kind="stable")]
            shift += 16
    return order
