"""The stored walking network as an in-memory ``WalkGraph``, cached per network version.

Loading a network from the database costs seconds on a big city, so the built arrays are also
kept on disk (``$YIMI_DATA_DIR/cache/walkgraph-<version>.npz``) and in memory per process.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max

from yimi.analysis.graph import WalkGraph
from yimi.places.models import WalkEdge, WalkNode

_lock = threading.Lock()
_cache: dict[str, object] = {}


def network_version() -> str | None:
    """A key that changes whenever the stored network changes; None when there is none."""
    e = WalkEdge.objects.aggregate(n=Count("id"), m=Max("id"))
    if not e["n"]:
        return None
    n = WalkNode.objects.aggregate(n=Count("id"), m=Max("id"))
    return f"{e['n']}-{e['m']}-{n['n']}-{n['m']}"


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
