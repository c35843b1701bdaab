"""The stored walking network as an in-memory ``WalkGraph``, cached per network version.

Loading a network from the database costs seconds on a big city, so the built arrays are also
kept on disk (``$YIMI_DATA_DIR/cache/walkgraph-<version>.npz``) and in memory per process.
"""

from __future__ import annotations

import threading
from dataclasses import fields
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Sum

from yimi.analysis.graph import Snap, WalkGraph
from yimi.places.models import WalkEdge, WalkNode

_lock = threading.Lock()
_cache: dict[str, object] = {}


def network_version() -> str | None:
    """A key that changes whenever the stored network changes; None when there is none."""
    e = WalkEdge.objects.aggregate(n=Count("id"), m=Max("id"), s=Sum("length_m"))
    if not e["n"]:
        return None
    n = WalkNode.objects.aggregate(n=Count("id"), m=Max("id"), s=Sum("lon"))
    # Counts and last ids change on every insert or delete; the sums catch an edited row.
    return f"{e['n']}-{e['m']}-{n['n']}-{n['m']}-{e['s']:.3f}-{n['s']:.6f}"


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


def _subset_snap(snap: Snap, idx: np.ndarray) -> Snap:
    return Snap(**{f.name: getattr(snap, f.name)[idx] for f in fields(Snap)})


def places_snapped(graph: WalkGraph, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> Snap:
    """Places snapped to the network, from a per-process cache of every place's snap.

    Snapping 100,000 places takes about a second, so it is done once per network and place-set
    version; places the cache does not know yet (just added or moved) are snapped on the spot.
    """
    from yimi.places.models import Place

    agg = Place.objects.aggregate(n=Count("id"), m=Max("updated_at"))
    key = (id(graph), agg["n"], agg["m"])
    with _lock:
        cached = _cache.get("place_snaps")
        if cached is None or cached[0] != key:
            rows = np.array(
                list(Place.objects.values_list("id", "lon", "lat")), dtype=np.float64
            ).reshape(-1, 3)
            order = np.argsort(rows[:, 0], kind="stable")
            rows = rows[order]
            snap = graph.snap(rows[:, 1], rows[:, 2], component="largest")
            cached = (key, rows, snap)
            _cache["place_snaps"] = cached
    _key, rows, snap = cached
    known_ids = rows[:, 0].astype(np.int64)
    pos = np.searchsorted(known_ids, ids)
    pos_clipped = np.minimum(pos, max(len(known_ids) - 1, 0))
    hit = (
        (
            (pos < len(known_ids))
            & (known_ids[pos_clipped] == ids)
            & (rows[pos_clipped, 1] == lon)
            & (rows[pos_clipped, 2] == lat)
        )
        if len(known_ids)
        else np.zeros(len(ids), dtype=bool)
    )
    if hit.all():
        return _subset_snap(snap, pos_clipped)
    fresh = graph.snap(lon, lat, component="largest")
    if not hit.any():
        return fresh
    merged = {}
    for f in fields(Snap):
        arr = np.array(getattr(fresh, f.name), copy=True)
        arr[hit] = getattr(snap, f.name)[pos_clipped[hit]]
        merged[f.name] = arr
    return Snap(**merged)
