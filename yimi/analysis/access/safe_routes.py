"""Safe routes to school (学径): a child-safety walking cost, shortest vs safest routes.

Also ranks the road crossings that most children's safest routes use. The cost is data
(``rules/safe_routes.yaml``): multipliers for walking along roads and penalties for crossing them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
import yaml
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from scipy.sparse.csgraph import dijkstra

from yimi.analysis.access._arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    expand_ranges,
    float_vector,
    index_vector,
    weighted_bincount,
)
from yimi.analysis.access._validate import Reader, RulePackError
from yimi.analysis.access.network import NetworkIndex
from yimi.analysis.graph import Snap, Unreachable, WalkGraph

__all__ = [
    "DEFAULT_SAFETY_RULES",
    "CrossingHotspot",
    "EdgeAttributes",
    "RoadClass",
    "Route",
    "RouteComparison",
    "SafetyNetwork",
    "SafetyRules",
    "SchoolRoutes",
    "load_safety_rules",
    "safe_route",
    "school_routes",
]

DEFAULT_SAFETY_RULES: Path = Path(__file__).with_name("rules") / "safe_routes.yaml"
_GEOD = Geod(ellps="WGS84")
_SIDEWALK_YES, _SIDEWALK_NO, _SIDEWALK_UNKNOWN = 1, 0, -1


# ---------------------------------------------------------------------- rules


@dataclass(frozen=True)
class RoadClass:
    """Safety weights of one group of ``highway`` values.

    Attributes
    ----------
    group : int
        Index of the group in the rule file (roads of one group with no distinguishing names
        are taken to be the same road).
    highways : tuple of str
    along_sidewalk, along_no_sidewalk, along_unknown : float
        Length multipliers (>= 1) by whether a sidewalk is mapped.
    crossing_penalty_m : float
        Metres added for crossing a road of this class (0: not a road with traffic).
    notes : str
    """

    group: int
    highways: tuple[str, ...]
    along_sidewalk: float
    along_no_sidewalk: float
    along_unknown: float
    crossing_penalty_m: float
    notes: str = ""


@dataclass(frozen=True)
class SafetyRules:
    """A validated safety-cost rule file (see ``rules/safe_routes.yaml``).

    Attributes
    ----------
    id, label_zh, label_en, source : str
    version : int
    verified : bool
    classes : tuple of RoadClass
    default : RoadClass
        For ``highway`` values in no class.
    marked_factor, signals_factor : float
        Multipliers (0-1] of the crossing penalty at a mapped crossing / at traffic signals.
    count_from_m : float
        Crossings of roads whose penalty is at least this are counted and ranked.
    origin : str
    """

    id: str
    version: int
    label_zh: str
    label_en: str
    source: str
    verified: bool
    classes: tuple[RoadClass, ...]
    default: RoadClass
    marked_factor: float
    signals_factor: float
    count_from_m: float
    origin: str = "<data>"

    def road_class(self, highway: str) -> RoadClass:
        """The class of a ``highway`` value (the default class when unlisted)."""
        for c in self.classes:
            if highway in c.highways:
                return c
        return self.default


def load_safety_rules(path: str | Path | None = None) -> SafetyRules:
    """Read and validate a safety-cost rule file (the shipped one by default).

    Raises
    ------
    RulePackError
        Naming the offending key.
    """
    p = Path(path) if path is not None else DEFAULT_SAFETY_RULES
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulePackError(str(p), "", f"not valid YAML ({exc})") from exc
    return parse_safety_rules(data, origin=str(p))


def parse_safety_rules(data: Any, *, origin: str = "<data>") -> SafetyRules:
    """Validate already-parsed safety rules (see :func:`load_safety_rules`)."""
    r = Reader(origin)
    top = r.mapping(
        data,
        "",
        required={"schema", "id", "crossing", "default", "classes", "source", "verified"},
        optional={"version", "label_zh", "label_en"},
    )
    if r.integer(top["schema"], "schema") != 1:
        raise RulePackError(origin, "schema", "unsupported schema (expected 1)")
    cross = r.mapping(
        top["crossing"],
        "crossing",
        required={"marked_factor", "signals_factor", "count_from_m"},
    )
    factors = {}
    for key in ("marked_factor", "signals_factor"):
        v = r.number(cross[key], f"crossing.{key}", positive=True)
        if v > 1:
            raise RulePackError(origin, f"crossing.{key}", "must be at most 1")
        factors[key] = v
    classes: list[RoadClass] = []
    seen: set[str] = set()
    for i, raw in enumerate(r.sequence(top["classes"], "classes", non_empty=True)):
        path = f"classes[{i}]"
        c = r.mapping(
            raw, path, required={"highways", "along", "crossing_penalty_m"}, optional={"notes"}
        )
        highways = tuple(
            r.text(h, f"{path}.highways[{j}]")
            for j, h in enumerate(r.sequence(c["highways"], f"{path}.highways", non_empty=True))
        )
        for j, h in enumerate(highways):
            if h in seen:
                raise RulePackError(origin, f"{path}.highways[{j}]", f"{h!r} is listed twice")
            seen.add(h)
        classes.append(_road_class(r, c, path, i, highways))
    d = r.mapping(top["default"], "default", required={"along", "crossing_penalty_m"})
    return SafetyRules(
        id=r.identifier(top["id"], "id"),
        version=r.integer(top.get("version", 1), "version", minimum=1),
        label_zh=r.text(top.get("label_zh", ""), "label_zh", allow_empty=True),
        label_en=r.text(top.get("label_en", ""), "label_en", allow_empty=True),
        source=r.text(top["source"], "source"),
        verified=r.boolean(top["verified"], "verified"),
        classes=tuple(classes),
        default=_road_class(r, d, "default", len(classes), ()),
        marked_factor=factors["marked_factor"],
        signals_factor=factors["signals_factor"],
        count_from_m=r.number(cross["count_from_m"], "crossing.count_from_m", positive=True),
        origin=origin,
    )


def _road_class(
    r: Reader, c: dict[str, Any], path: str, group: int, highways: tuple[str, ...]
) -> RoadClass:
    along = c["along"]
    if isinstance(along, dict):
        a = r.mapping(along, f"{path}.along", required={"sidewalk", "no_sidewalk", "unknown"})
        values = [
            r.number(a[k], f"{path}.along.{k}") for k in ("sidewalk", "no_sidewalk", "unknown")
        ]
    else:
        values = [r.number(along, f"{path}.along")] * 3
    if min(values) < 1:
        # Multipliers below 1 would make a walk cheaper than its length and break the
        # straight-line bound the bounded searches rely on.
        raise RulePackError(r.origin, f"{path}.along", "multipliers must be at least 1")
    penalty = r.number(c["crossing_penalty_m"], f"{path}.crossing_penalty_m")
    if penalty < 0:
        raise RulePackError(r.origin, f"{path}.crossing_penalty_m", "must not be negative")
    return RoadClass(
        group=group,
        highways=highways,
        along_sidewalk=values[0],
        along_no_sidewalk=values[1],
        along_unknown=values[2],
        crossing_penalty_m=penalty,
        notes=r.text(c.get("notes", ""), f"{path}.notes", allow_empty=True),
    )


# ---------------------------------------------------------------------- the network


class _WalkNetworkLike(Protocol):
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    node_crossing: NDArray[np.bool_]
    node_traffic_signals: NDArray[np.bool_]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_highway: NDArray[np.str_]
    edge_name: list[str | None]
    edge_sidewalk: list[bool | None]
    edge_crossing: NDArray[np.bool_]


@dataclass(frozen=True)
class EdgeAttributes:
    """Safety-relevant attributes of the input edges and nodes.

    Attributes
    ----------
    highway : tuple of str
        OSM ``highway`` of each input edge.
    sidewalk : ndarray of int8
        1 sidewalk mapped, 0 mapped as absent, -1 unknown.
    crossing : ndarray of bool
        The edge is part of a crossing way (``footway=crossing`` …).
    name : tuple of (str or None)
        Road names (to tell two roads of one class apart at a junction).
    node_crossing, node_signals : ndarray of bool
        Per node: a mapped crossing; traffic signals.
    """

    highway: tuple[str, ...]
    sidewalk: NDArray[np.int8]
    crossing: BoolArray
    name: tuple[str | None, ...]
    node_crossing: BoolArray
    node_signals: BoolArray

    @classmethod
    def build(
        cls,
        n_nodes: int,
        highway: Sequence[str],
        *,
        sidewalk: Sequence[bool | None] | None = None,
        crossing: ArrayLike | None = None,
        name: Sequence[str | None] | None = None,
        node_crossing: ArrayLike | None = None,
        node_signals: ArrayLike | None = None,
    ) -> EdgeAttributes:
        """Attributes with defaults: sidewalks unknown, no crossings, no names, no signals."""
        m = len(highway)
        sw = np.full(m, _SIDEWALK_UNKNOWN, dtype=np.int8)
        if sidewalk is not None:
            sw = np.array(
                [
                    _SIDEWALK_UNKNOWN if s is None else (_SIDEWALK_YES if s else _SIDEWALK_NO)
                    for s in sidewalk
                ],
                dtype=np.int8,
            )
        out = cls(
            highway=tuple(str(h) for h in highway),
            sidewalk=sw,
            crossing=np.zeros(m, bool) if crossing is None else np.asarray(crossing, bool),
            name=(None,) * m if name is None else tuple(name),
            node_crossing=(
                np.zeros(n_nodes, bool)
                if node_crossing is None
                else np.asarray(node_crossing, bool)
            ),
            node_signals=(
                np.zeros(n_nodes, bool) if node_signals is None else np.asarray(node_signals, bool)
            ),
        )
        if not (
            out.sidewalk.shape == out.crossing.shape == (m,)
            and len(out.name) == m
            and out.node_crossing.shape == out.node_signals.shape == (n_nodes,)
        ):
            raise ValueError("edge attributes need one entry per edge, node ones per node")
        return out


@dataclass(frozen=True)
class _Kept:
    """Per de-duplicated edge, the input edge a graph kept and its safety numbers."""

    input_edge: IntArray
    length: FloatArray
    mult: FloatArray
    pen_u: FloatArray  # at WalkGraph.edge_u (the smaller node index)
    pen_v: FloatArray
    haz_u: BoolArray  # a counted crossing is paid at that end
    haz_v: BoolArray

    def cost(self) -> FloatArray:
        return self.length * self.mult + self.pen_u + self.pen_v


class SafetyNetwork:
    """A walking network with both lengths and child-safety costs.

    Build it with :meth:`from_arrays` or :meth:`from_walk_network`.

    Attributes
    ----------
    length_graph : WalkGraph
        Edge weights are metres (parallel edges: the shortest).
    cost_graph : WalkGraph
        Edge weights are safety costs in equivalent metres (parallel edges: the cheapest).
    rules : SafetyRules
    input_cost : ndarray of float64
        Safety cost of every input edge.

    Notes
    -----
    Cost of an edge = length × along-multiplier + a half crossing penalty at each end. At a
    node, an edge pays half of the largest penalty among the *other* roads meeting there
    (another class, or the same class under another name), scaled down where a crossing is
    mapped or signals stand; so footway → road node → footway pays one full crossing, walking
    straight along a road pays for the side streets it passes, and walking into a
    grade-separated footbridge (no shared node) pays nothing. The two graphs have the same
    de-duplicated edges in the same order; they differ only in which parallel edge they keep.
    """

    def __init__(
        self,
        length_graph: WalkGraph,
        cost_graph: WalkGraph,
        rules: SafetyRules,
        input_cost: FloatArray,
        kept_len: _Kept,
        kept_cost: _Kept,
        node_road_highway: tuple[str, ...],
        node_road_name: tuple[str | None, ...],
        node_road_penalty: FloatArray,
        attributes: EdgeAttributes,
    ) -> None:
        self.length_graph = length_graph
        self.cost_graph = cost_graph
        self.rules = rules
        self.input_cost = input_cost
        self._len = kept_len
        self._cost = kept_cost
        self._node_highway = node_road_highway
        self._node_name = node_road_name
        self._node_penalty = node_road_penalty
        self.attributes = attributes
        g = length_graph
        rows = np.concatenate([g.edge_u, g.edge_v])
        cols = np.concatenate([g.edge_v, g.edge_u])
        eid = np.concatenate([np.arange(g.n_edges), np.arange(g.n_edges)])
        order = np.lexsort((cols, rows))
        # Same layout as WalkGraph's CSR: entry keys sorted by (row, column).
        self._entry_key = rows[order] * np.int64(max(g.n_nodes, 1)) + cols[order]
        self._entry_edge = eid[order]
        self._index: NetworkIndex | None = None

    @classmethod
    def from_walk_network(
        cls, network: _WalkNetworkLike, rules: SafetyRules | None = None
    ) -> SafetyNetwork:
        """Build from the OSM reader's :class:`~yimi.analysis.osm.WalkNetwork`."""
        attrs = EdgeAttributes.build(
            int(network.lon.shape[0]),
            [str(h) for h in network.edge_highway],
            sidewalk=network.edge_sidewalk,
            crossing=network.edge_crossing,
            name=network.edge_name,
            node_crossing=network.node_crossing,
            node_signals=network.node_traffic_signals,
        )
        return cls.from_arrays(
            network.lon,
            network.lat,
            network.edge_u,
            network.edge_v,
            network.edge_length_m,
            attributes=attrs,
            rules=rules,
        )

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        edge_u: ArrayLike,
        edge_v: ArrayLike,
        edge_length_m: ArrayLike | None,
        *,
        attributes: EdgeAttributes,
        rules: SafetyRules | None = None,
    ) -> SafetyNetwork:
        """Build from arrays as for :meth:`WalkGraph.from_arrays`, plus edge attributes."""
        rules = rules if rules is not None else load_safety_rules()
        x = float_vector(lon, "lon")
        y = float_vector(lat, "lat")
        u = index_vector(edge_u, "edge_u")
        v = index_vector(edge_v, "edge_v")
        if edge_length_m is None:
            length = np.asarray(_GEOD.inv(x[u], y[u], x[v], y[v])[2], dtype=np.float64)
        else:
            length = float_vector(edge_length_m, "edge_length_m")
        if len(attributes.highway) != u.shape[0]:
            raise ValueError("attributes must describe every input edge")
        n = x.shape[0]
        classes = [rules.road_class(h) for h in attributes.highway]
        penalty = np.array([c.crossing_penalty_m for c in classes], dtype=np.float64)
        group = np.array([c.group for c in classes], dtype=np.int64)
        sw = attributes.sidewalk
        mult = np.array(
            [
                c.along_sidewalk
                if s == _SIDEWALK_YES
                else (c.along_no_sidewalk if s == _SIDEWALK_NO else c.along_unknown)
                for c, s in zip(classes, sw.tolist(), strict=True)
            ],
            dtype=np.float64,
        )
        names: dict[str, int] = {}
        name_id = np.array(
            [-1 if not s else names.setdefault(s, len(names)) for s in attributes.name],
            dtype=np.int64,
        )
        base_u, base_v = _crossed_penalties(n, u, v, penalty, group, name_id)
        half_u = 0.5 * base_u * _factor(rules, attributes, u)
        half_v = 0.5 * base_v * _factor(rules, attributes, v)
        cost = length * mult + half_u + half_v
        length_graph = WalkGraph.from_arrays(x, y, u, v, length)
        cost_graph = WalkGraph.from_arrays(x, y, u, v, cost)
        count = rules.count_from_m
        kept_len = _kept(n, u, v, length, length, mult, half_u, half_v, base_u, base_v, count)
        kept_cost = _kept(n, u, v, cost, length, mult, half_u, half_v, base_u, base_v, count)
        if kept_len.input_edge.shape[0] != length_graph.n_edges:
            raise AssertionError("de-duplication differs from WalkGraph's")
        # The road a hotspot is reported on: the highest-penalty road at each node.
        nodes = np.concatenate([u, v])
        edges = np.concatenate([np.arange(u.shape[0]), np.arange(u.shape[0])])
        order = np.lexsort((edges, -penalty[edges], nodes))
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = nodes[order][1:] != nodes[order][:-1]
        road_edge = np.full(n, -1, dtype=np.int64)
        road_edge[nodes[order][first]] = edges[order][first]
        node_pen = np.where(road_edge >= 0, penalty[np.maximum(road_edge, 0)], 0.0)
        return cls(
            length_graph,
            cost_graph,
            rules,
            cost,
            kept_len,
            kept_cost,
            tuple(attributes.highway[e] if e >= 0 else "" for e in road_edge.tolist()),
            tuple(attributes.name[e] if e >= 0 else None for e in road_edge.tolist()),
            node_pen,
            attributes,
        )

    @property
    def index(self) -> NetworkIndex:
        """A :class:`NetworkIndex` of the length graph (built on first use)."""
        if self._index is None:
            self._index = NetworkIndex(self.length_graph)
        return self._index

    # ------------------------------------------------------------------ internals

    def _edge_between(self, a: IntArray, b: IntArray) -> IntArray:
        key = a * np.int64(max(self.length_graph.n_nodes, 1)) + b
        pos = np.searchsorted(self._entry_key, key)
        return self._entry_edge[pos]

    def _snaps(self, lon: ArrayLike, lat: ArrayLike) -> tuple[Snap, Snap]:
        """The places snapped to the length graph, and the same snap with costs along edges."""
        s = self.length_graph.snap(lon, lat)
        ok = s.snapped
        e = np.maximum(s.edge, 0)
        glen = self.length_graph.edge_length_m[e]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(glen > 0, s.dist_from_u_m / glen, 0.0)
        k = self._cost
        along = k.length[e] * k.mult[e]
        cu = np.where(ok, t * along + k.pen_u[e], np.nan)
        cv = np.where(ok, (1.0 - t) * along + k.pen_v[e], np.nan)
        return s, dataclasses.replace(s, dist_from_u_m=cu, dist_from_v_m=cv)


def _factor(rules: SafetyRules, attrs: EdgeAttributes, node: IntArray) -> FloatArray:
    signals = attrs.node_signals[node]
    marked = attrs.node_crossing[node] | attrs.crossing
    return np.where(signals, rules.signals_factor, np.where(marked, rules.marked_factor, 1.0))


def _crossed_penalties(
    n: int,
    u: IntArray,
    v: IntArray,
    penalty: FloatArray,
    group: IntArray,
    name_id: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """For each input edge end: the largest penalty among other roads at that node."""
    m = u.shape[0]
    inc_node = np.concatenate([u, v])
    inc_edge = np.concatenate([np.arange(m), np.arange(m)])
    order = np.argsort(inc_node, kind="stable")
    inc_node, inc_edge = inc_node[order], inc_edge[order]
    start = np.searchsorted(inc_node, np.arange(n))
    deg = np.bincount(inc_node, minlength=n)
    partner, k = expand_ranges(start[inc_node], deg[inc_node])
    i, j = inc_edge[k], inc_edge[partner]
    ni, nj = name_id[i], name_id[j]
    same_road = np.where((ni >= 0) & (nj >= 0), ni == nj, group[i] == group[j])
    value = np.where((partner != k) & ~same_road, penalty[j], 0.0)
    # Every incidence has at least itself as partner, so each reduceat group is non-empty.
    firsts = np.concatenate(([0], np.cumsum(deg[inc_node])[:-1])) if m else np.zeros(0, int)
    best = np.maximum.reduceat(value, firsts) if m else np.zeros(0)
    at = np.empty(2 * m)
    at[order] = best
    return at[:m], at[m:]


def _kept(
    n: int,
    u: IntArray,
    v: IntArray,
    weight: FloatArray,
    length: FloatArray,
    mult: FloatArray,
    half_u: FloatArray,
    half_v: FloatArray,
    base_u: FloatArray,
    base_v: FloatArray,
    count_from: float,
) -> _Kept:
    """Which input edge WalkGraph keeps per node pair for these weights (its rule, replicated)."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    idx = np.flatnonzero(a != b)
    key = a[idx] * np.int64(max(n, 1)) + b[idx]
    order = np.lexsort((weight[idx], key))
    ks = key[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    keep = idx[order[first]]
    flip = u[keep] > v[keep]
    return _Kept(
        input_edge=keep,
        length=length[keep],
        mult=mult[keep],
        pen_u=np.where(flip, half_v[keep], half_u[keep]),
        pen_v=np.where(flip, half_u[keep], half_v[keep]),
        haz_u=np.where(flip, base_v[keep], base_u[keep]) >= count_from,
        haz_v=np.where(flip, base_u[keep], base_v[keep]) >= count_from,
    )


# ---------------------------------------------------------------------- search trees


@dataclass(frozen=True)
class _Tree:
    """A shortest-path tree rooted at one place (the school), on one of the two graphs."""

    which: str  # 'length' (shortest walks) or 'cost' (safest walks)
    dist: FloatArray  # (n + 1,), the root is node n
    pred: IntArray  # (n + 1,), root and unreached: -1
    length: FloatArray  # metres along the tree path from each node to the place
    cost: FloatArray  # safety cost along it
    crossings: FloatArray  # counted crossings along it
    out_haz: BoolArray  # a counted crossing paid at the node on its way out


def _kept_of(net: SafetyNetwork, which: str) -> _Kept:
    return net._len if which == "length" else net._cost


def _fraction(net: SafetyNetwork, snap: Snap, idx: IntArray | int) -> FloatArray:
    """Position along the edge (0 at edge_u, 1 at edge_v) of snapped places."""
    glen = net.length_graph.edge_length_m[snap.edge[idx]]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(glen > 0, snap.dist_from_u_m[idx] / glen, 0.0)


def _tree(net: SafetyNetwork, which: str, s_len: Snap, s_cost: Snap, i: int) -> _Tree:
    """The tree of shortest (``which='length'``) or safest (``'cost'``) walks to place ``i``."""
    graph = net.length_graph if which == "length" else net.cost_graph
    kept = _kept_of(net, which)
    snap = s_len if which == "length" else s_cost
    n = graph.n_nodes
    e = int(snap.edge[i])
    uu, vv = int(snap.u[i]), int(snap.v[i])
    off = float(snap.offset_m[i])
    csr = graph.csr
    aug = sp.csr_array(
        (
            np.concatenate([csr.data, [off + snap.dist_from_u_m[i], off + snap.dist_from_v_m[i]]]),
            np.concatenate([csr.indices, [uu, vv]]).astype(np.int64),
            np.concatenate([csr.indptr, [csr.indptr[-1] + 2]]).astype(np.int64),
        ),
        shape=(n + 1, n + 1),
    )
    dist, pred = dijkstra(aug, directed=True, indices=n, return_predecessors=True)
    pred = np.where(pred < 0, -1, pred).astype(np.int64)

    # Values of each tree edge (node -> its predecessor): length, cost, crossings.
    child = np.flatnonzero(pred >= 0)
    to_root = pred[child] == n
    inner = child[~to_root]
    eid = net._edge_between(inner, pred[inner])
    child_is_u = inner == graph.edge_u[eid]
    vals = np.zeros((n + 1, 3))
    vals[inner, 0] = kept.length[eid]
    vals[inner, 1] = kept.cost()[eid]
    out_haz = np.zeros(n + 1, dtype=bool)
    out_haz[inner] = np.where(child_is_u, kept.haz_u[eid], kept.haz_v[eid])
    in_haz = np.where(child_is_u, kept.haz_v[eid], kept.haz_u[eid])
    # The place's own edge, walked from one of its end nodes to the place.
    ends = child[to_root]
    at_u = ends == uu
    frac = np.where(at_u, _fraction(net, s_len, i), 1.0 - _fraction(net, s_len, i))
    vals[ends, 0] = off + frac * kept.length[e]
    vals[ends, 1] = (
        off + frac * kept.length[e] * kept.mult[e] + np.where(at_u, kept.pen_u[e], kept.pen_v[e])
    )
    out_haz[ends] = np.where(at_u, kept.haz_u[e], kept.haz_v[e])
    # A node is counted once: on the way out, or else on the way in.
    vals[:, 2] = out_haz
    vals[inner, 2] += in_haz & ~out_haz[pred[inner]]
    sums = _path_sums(pred, vals, n)
    return _Tree(
        which=which,
        dist=np.asarray(dist, dtype=np.float64),
        pred=pred,
        length=sums[:, 0],
        cost=sums[:, 1],
        crossings=sums[:, 2],
        out_haz=out_haz,
    )


def _path_sums(pred: IntArray, values: FloatArray, root: int) -> FloatArray:
    """Sums of ``values`` along each node's tree path to ``root`` (pointer jumping)."""
    acc = values.copy()
    acc[root] = 0.0
    jump = np.where(pred < 0, root, pred)
    jump[root] = root
    while True:
        active = jump != root
        if not active.any():
            break
        acc = acc + np.where(active[:, None], acc[jump], 0.0)
        jump = np.where(active, jump[jump], jump)
    unreached = (pred < 0) & (np.arange(pred.shape[0]) != root)
    acc[unreached] = np.nan
    return acc


@dataclass(frozen=True)
class _Leg:
    """Best way from homes into a tree: start node (-1: direct along the shared edge)."""

    total: FloatArray
    start: IntArray
    length: FloatArray
    cost: FloatArray
    crossings: FloatArray
    start_haz: BoolArray  # the home's own edge pays a counted crossing at the start node


def _legs(
    net: SafetyNetwork,
    tree: _Tree,
    h_len: Snap,
    h_cost: Snap,
    homes: IntArray,
    s_len: Snap,
    s_cost: Snap,
    school: int,
) -> _Leg:
    """How each home joins the tree: through an end node of its edge, or along a shared edge."""
    kept = _kept_of(net, tree.which)
    snap = h_len if tree.which == "length" else h_cost
    school_snap = s_len if tree.which == "length" else s_cost
    e = h_len.edge[homes]
    t = _fraction(net, h_len, homes)
    hu, hv = h_len.u[homes], h_len.v[homes]
    via_u = tree.dist[hu] + snap.dist_from_u_m[homes]
    via_v = tree.dist[hv] + snap.dist_from_v_m[homes]
    use_u = via_u <= via_v
    total = np.where(use_u, via_u, via_v)
    start = np.where(use_u, hu, hv)
    frac = np.where(use_u, t, 1.0 - t)
    own_cost = frac * kept.length[e] * kept.mult[e] + np.where(use_u, kept.pen_u[e], kept.pen_v[e])
    start_haz = np.where(use_u, kept.haz_u[e], kept.haz_v[e])
    length = frac * kept.length[e] + tree.length[start]
    cost = own_cost + tree.cost[start]
    crossings = tree.crossings[start] + (start_haz & ~tree.out_haz[start])
    # Home and school on one edge: the direct walk along it (no end node, no crossing).
    same = np.flatnonzero(e == s_len.edge[school])
    if same.size:
        direct = np.abs(snap.dist_from_u_m[homes[same]] - school_snap.dist_from_u_m[school])
        direct = direct + school_snap.offset_m[school]
        better = direct < total[same]
        idx = same[better]
        between = np.abs(t[idx] - _fraction(net, s_len, school))
        total[idx] = direct[better]
        start[idx] = -1
        length[idx] = between * kept.length[e[idx]] + s_len.offset_m[school]
        cost[idx] = between * kept.length[e[idx]] * kept.mult[e[idx]] + s_len.offset_m[school]
        crossings[idx] = 0.0
        start_haz[idx] = False
    off = h_len.offset_m[homes]
    return _Leg(
        total=total + off,
        start=start,
        length=length + off,
        cost=cost + off,
        crossings=crossings,
        start_haz=start_haz,
    )


# ---------------------------------------------------------------------- results


@dataclass(frozen=True)
class Route:
    """One walk from a home to a school.

    Attributes
    ----------
    length_m : float
        Walking metres (snap offsets included).
    cost : float
        Safety cost in equivalent metres.
    crossings : ndarray of int64
        Nodes where the walk crosses a counted road (``count_from_m``), in walking order.
    node_indices : ndarray of int64
        Network nodes walked through, from home to school.
    coords : list of (lon, lat)
        The line to draw, from the home to the school.
    """

    length_m: float
    cost: float
    crossings: IntArray
    node_indices: IntArray
    coords: list[tuple[float, float]]


@dataclass(frozen=True)
class RouteComparison:
    """The shortest and the safest walk between one home and one school."""

    shortest: Route
    safest: Route

    @property
    def detour_ratio(self) -> float:
        """How much longer the safest walk is (1.0: the same length)."""
        return self.safest.length_m / self.shortest.length_m if self.shortest.length_m else 1.0


@dataclass(frozen=True)
class CrossingHotspot:
    """A road crossing used by many children's safest routes to school.

    Attributes
    ----------
    node : int
        The network node where the road is crossed.
    lon, lat : float
    children : float
        Children whose safest route crosses here.
    homes : int
        Demand points (homes) whose safest route crosses here.
    highway : str
        The class of the road crossed (the highest at the node).
    name : str or None
        Its name.
    penalty_m : float
        Its crossing penalty before signal/crossing reductions.
    signals, marked : bool
        Traffic signals / a mapped crossing at the node.
    """

    node: int
    lon: float
    lat: float
    children: float
    homes: int
    highway: str
    name: str | None
    penalty_m: float
    signals: bool
    marked: bool


@dataclass(frozen=True)
class SchoolRoutes:
    """Shortest and safest walks from many homes to their schools.

    Attributes
    ----------
    school : ndarray of int64
        School of each home (-1: unsnapped home or no reachable school).
    shortest_m, shortest_cost, shortest_crossings : ndarray of float64
        The shortest walk: metres, its safety cost, counted road crossings (NaN when none).
    safest_m, safest_cost, safest_crossings : ndarray of float64
        The same for the safest walk.
    hotspots : list of CrossingHotspot
        Crossings on the safest routes, by children crossing there (descending).
    """

    school: IntArray
    shortest_m: FloatArray
    shortest_cost: FloatArray
    shortest_crossings: FloatArray
    safest_m: FloatArray
    safest_cost: FloatArray
    safest_crossings: FloatArray
    hotspots: list[CrossingHotspot]


def school_routes(
    net: SafetyNetwork,
    home_lon: ArrayLike,
    home_lat: ArrayLike,
    school_lon: ArrayLike,
    school_lat: ArrayLike,
    *,
    children: ArrayLike | None = None,
    school_of: ArrayLike | None = None,
    max_hotspots: int = 50,
) -> SchoolRoutes:
    """Shortest vs safest walks from homes to their schools, and the busiest risky crossings.

    Parameters
    ----------
    net : SafetyNetwork
    home_lon, home_lat : array_like of float
        Homes (demand points).
    school_lon, school_lat : array_like of float
        Schools.
    children : array_like of float, optional
        Children at each home (1 each by default); weights the hotspots.
    school_of : array_like of int, optional
        The school of each home (index, -1 for none), e.g. from the 学区 (catchment) plan;
        by default the nearest school by walking distance.
    max_hotspots : int, default 50

    Returns
    -------
    SchoolRoutes

    Notes
    -----
    One shortest-path tree per school on each graph (length and cost), with sums of length,
    cost and crossings along every tree path computed by pointer jumping; children are pushed
    up the safest tree level by level to count who crosses where.
    """
    h_len, h_cost = net._snaps(home_lon, home_lat)
    s_len, s_cost = net._snaps(school_lon, school_lat)
    nh = len(h_len)
    w = np.ones(nh) if children is None else float_vector(children, "children")
    if w.shape[0] != nh:
        raise ValueError("children must have one entry per home")
    if school_of is None:
        assign = net.index.nearest(s_len, h_len).source
    else:
        assign = index_vector(school_of, "school_of").copy()
        if assign.shape[0] != nh or (assign >= len(s_len)).any():
            raise ValueError("school_of must give a school index (or -1) per home")
    assign = np.where(h_len.snapped, assign, -1)
    out = {k: np.full(nh, np.nan) for k in ("sm", "sc", "sx", "fm", "fc", "fx")}
    n = net.length_graph.n_nodes
    exposure = np.zeros(n + 1)
    exposed_homes = np.zeros(n + 1)
    for s in np.unique(assign[assign >= 0]).tolist():
        if not s_len.snapped[s]:
            assign[assign == s] = -1
            continue
        homes = np.flatnonzero(assign == s)
        short_tree = _tree(net, "length", s_len, s_cost, s)
        safe_tree = _tree(net, "cost", s_len, s_cost, s)
        short = _legs(net, short_tree, h_len, h_cost, homes, s_len, s_cost, s)
        safe = _legs(net, safe_tree, h_len, h_cost, homes, s_len, s_cost, s)
        ok = np.isfinite(safe.total)
        out["sm"][homes] = np.where(ok, short.total, np.nan)
        out["sc"][homes] = np.where(ok, short.cost, np.nan)
        out["sx"][homes] = np.where(ok, short.crossings, np.nan)
        out["fm"][homes] = np.where(ok, safe.length, np.nan)
        out["fc"][homes] = np.where(ok, safe.total, np.nan)
        out["fx"][homes] = np.where(ok, safe.crossings, np.nan)
        assign[homes[~ok]] = -1
        _add_exposure(net, safe_tree, safe, homes[ok], ok, w, exposure, exposed_homes)
    hot = np.flatnonzero(exposure[:n] > 0)
    hot = hot[np.lexsort((hot, -exposure[hot]))][: max(max_hotspots, 0)]
    attrs = net.attributes
    g = net.length_graph
    hotspots = [
        CrossingHotspot(
            node=int(r),
            lon=float(g.lon[r]),
            lat=float(g.lat[r]),
            children=float(exposure[r]),
            homes=int(exposed_homes[r]),
            highway=net._node_highway[r],
            name=net._node_name[r],
            penalty_m=float(net._node_penalty[r]),
            signals=bool(attrs.node_signals[r]),
            marked=bool(attrs.node_crossing[r]),
        )
        for r in hot.tolist()
    ]
    return SchoolRoutes(
        school=assign,
        shortest_m=out["sm"],
        shortest_cost=out["sc"],
        shortest_crossings=out["sx"],
        safest_m=out["fm"],
        safest_cost=out["fc"],
        safest_crossings=out["fx"],
        hotspots=hotspots,
    )


def _add_exposure(
    net: SafetyNetwork,
    tree: _Tree,
    leg: _Leg,
    homes: IntArray,
    ok: BoolArray,
    w: FloatArray,
    exposure: FloatArray,
    exposed_homes: FloatArray,
) -> None:
    """Add the children (and homes) crossing at each node on their safest routes."""
    start = leg.start[ok]
    via_net = start >= 0
    start, start_haz = start[via_net], leg.start_haz[ok][via_net]
    hw = w[homes[via_net]]
    size = tree.pred.shape[0]
    root = size - 1
    for weights, target in ((hw, exposure), (np.ones(hw.shape[0]), exposed_homes)):
        at = weighted_bincount(start, weights, size)
        flow = _subtree_sums(tree.pred, at, root)
        target += np.where(tree.out_haz, flow, 0.0)
        child = np.flatnonzero((tree.pred >= 0) & (tree.pred != root))
        p = tree.pred[child]
        eid = net._edge_between(child, p)
        kept = net._cost
        in_haz = np.where(child == net.cost_graph.edge_u[eid], kept.haz_v[eid], kept.haz_u[eid])
        sel = in_haz & ~tree.out_haz[p]
        np.add.at(target, p[sel], flow[child[sel]])
        own = start_haz & ~tree.out_haz[start]
        np.add.at(target, start[own], weights[own])


def _subtree_sums(pred: IntArray, values: FloatArray, root: int) -> FloatArray:
    """Each node's value plus all its descendants' (children pushed up level by level)."""
    ones = np.ones((pred.shape[0], 1))
    depth = _path_sums(pred, ones, root)[:, 0]
    flow = values.astype(np.float64).copy()
    reached = np.flatnonzero(np.isfinite(depth) & (np.arange(pred.shape[0]) != root))
    if not reached.size:
        return flow
    d = depth[reached].astype(np.int64)
    order = np.argsort(-d, kind="stable")
    nodes, d = reached[order], d[order]
    bounds = np.flatnonzero(np.diff(d)) + 1
    for group in np.split(nodes, bounds):
        np.add.at(flow, pred[group], flow[group])
    return flow


def safe_route(
    net: SafetyNetwork, home_lon: float, home_lat: float, school_lon: float, school_lat: float
) -> RouteComparison:
    """The shortest and the safest walk from one home to one school, for drawing.

    Raises
    ------
    Unreachable
        When a place cannot be snapped or no walk connects them.
    """
    h_len, h_cost = net._snaps([home_lon], [home_lat])
    s_len, s_cost = net._snaps([school_lon], [school_lat])
    if not (h_len.snapped[0] and s_len.snapped[0]):
        raise Unreachable("a place is not near any walkable edge")
    routes = []
    for which in ("length", "cost"):
        tree = _tree(net, which, s_len, s_cost, 0)
        leg = _legs(net, tree, h_len, h_cost, np.array([0]), s_len, s_cost, 0)
        if not np.isfinite(leg.total[0]):
            raise Unreachable("no walking path connects the home and the school")
        routes.append(_route(net, tree, leg, h_len, s_len))
    return RouteComparison(shortest=routes[0], safest=routes[1])


def _route(net: SafetyNetwork, tree: _Tree, leg: _Leg, h: Snap, s: Snap) -> Route:
    g = net.length_graph
    nodes: list[int] = []
    x = int(leg.start[0])
    root = tree.pred.shape[0] - 1
    while x >= 0 and x != root:
        nodes.append(x)
        x = int(tree.pred[x])
    crossings: list[int] = []
    kept = _kept_of(net, tree.which)
    for k, node in enumerate(nodes):
        out = bool(tree.out_haz[node])
        if k == 0:
            inn = bool(leg.start_haz[0])
        else:
            prev = nodes[k - 1]
            eid = int(net._edge_between(np.array([prev]), np.array([node]))[0])
            inn = bool(kept.haz_v[eid] if prev == g.edge_u[eid] else kept.haz_u[eid])
        if out or inn:
            crossings.append(node)
    coords = [(float(h.point_lon[0]), float(h.point_lat[0])), (float(h.lon[0]), float(h.lat[0]))]
    coords += [(float(g.lon[k]), float(g.lat[k])) for k in nodes]
    coords += [(float(s.lon[0]), float(s.lat[0])), (float(s.point_lon[0]), float(s.point_lat[0]))]
    dedup: list[tuple[float, float]] = []
    for c in coords:
        if not dedup or dedup[-1] != c:
            dedup.append(c)
    return Route(
        length_m=float(leg.length[0]),
        cost=float(leg.cost[0]),
        crossings=np.asarray(crossings, dtype=np.int64),
        node_indices=np.asarray(nodes, dtype=np.int64),
        coords=dedup,
    )
