"""The stored walking network as an in-memory ``WalkGraph``, and the public places snapped to it.

Both are cached per process and keyed by data-version tokens (``core.DataVersion``), which the
services change on every write: finding out that a cache is stale costs one primary-key read.
The built graph is also kept on disk (``$YIMI_DATA_DIR/cache/walkgraph-<token>.npz``), because
loading a city's network from the database takes seconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Sum

from yimi.analysis.graph import Snap, WalkGraph
from yimi.core.selectors import data_version
from yimi.places.models import Place, WalkEdge, WalkNode

_lock = threading.RLock()
_cache: dict[str, object] = {}


def network_version() -> str | None:
    """A key that changes whenever the stored network changes; None when there is none."""
    token = data_version("network")
    if token:
        return token
    # Rows written without the services (a bulk load by hand): fall back to a content key.
    e = WalkEdge.objects.aggregate(n=Count("id"), m=Max("id"), s=Sum("length_m"))
    if not e["n"]:
        return None
    n = WalkNode.objects.aggregate(n=Count("id"), m=Max("id"), s=Sum("lon"))
    return f"rows-{e['n']}-{e['m']}-{n['n']}-{n['m']}-{e['s']:.3f}-{n['s']:.6f}"


def get_walk_graph() -> WalkGraph | None:
    version = network_version()
    if version is None:
        return None
    with _lock:
        if _cache.get("version") == version:
            return _cache["graph"]  # type: ignore[return-value]
        graph = _load(version)
        _cache.clear()
        _cache.update(version=version, graph=graph)
        return graph


def _npz_path(version: str) -> Path:
    return Path(settings.CACHE_DIR) / f"walkgraph-{version}.npz"


def _load(version: str) -> WalkGraph:
    path = _npz_path(version)
    if path.exists():
        try:
            return WalkGraph.from_npz(path)
        except Exception:  # a stale or partial cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    nodes = np.array(
        list(WalkNode.objects.order_by("id").values_list("id", "osm_id", "lon", "lat")),
        dtype=np.float64,
    ).reshape(-1, 4)
    pk = nodes[:, 0].astype(np.int64)
    pos = np.full(int(pk.max()) + 1 if len(pk) else 1, -1, dtype=np.int64)
    pos[pk] = np.arange(len(pk))
    edges = np.array(
        list(WalkEdge.objects.values_list("u_id", "v_id", "length_m")), dtype=np.float64
    ).reshape(-1, 3)
    graph = WalkGraph.from_arrays(
        nodes[:, 2],
        nodes[:, 3],
        pos[edges[:, 0].astype(np.int64)],
        pos[edges[:, 1].astype(np.int64)],
        edges[:, 2],
        node_ids=nodes[:, 1].astype(np.int64),
    )
    for old in Path(settings.CACHE_DIR).glob("walkgraph-*.npz"):
        old.unlink(missing_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    graph.to_npz(tmp)
    tmp.replace(path)
    return graph


def clear_cache() -> None:
    with _lock:
        _cache.clear()


@dataclass(frozen=True)
class PlaceIndex:
    """Every public (not retired) place as arrays, sorted by id, with its snap when a network
    is loaded. "Near me" filters these in memory instead of reading the table per request."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray
    snap: Snap | None


def _places_version() -> str:
    token = data_version("places")
    if token:
        return token
    agg = Place.objects.aggregate(n=Count("id"), m=Max("updated_at"), s=Sum("lon"))
    return f"rows-{agg['n']}-{agg['m']}-{agg['s']}"


def public_place_index() -> PlaceIndex:
    graph = get_walk_graph()
    key = (_places_version(), id(graph))
    with _lock:
        cached = _cache.get("place_index")
        if cached is not None and cached[0] == key:
            return cached[1]  # type: ignore[return-value]
        rows = list(
            Place.objects.visible_to(None)
            .order_by("id")
            .values_list("id", "lon", "lat", "category")
        )
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        lon = np.array([r[1] for r in rows], dtype=np.float64)
        lat = np.array([r[2] for r in rows], dtype=np.float64)
        cat = np.array([r[3] for r in rows], dtype=object)
        snap = graph.snap(lon, lat, component="largest") if graph is not None else None
        index = PlaceIndex(ids, lon, lat, cat, snap)
        _cache["place_index"] = (key, index)
        return index


def subset_snap(snap: Snap, idx: np.ndarray) -> Snap:
    return Snap(**{f.name: getattr(snap, f.name)[idx] for f in fields(Snap)})
