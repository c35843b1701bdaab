"""Compiled shortest-path kernels of the access core (private; numba, no Python per source).

Two searches on a graph in CSR form (``indptr``, ``indices``, ``data``; symmetric, lengths in
metres, zero-length edges allowed):

- :func:`bounded_pairs`: for each source in turn, a Dijkstra search bounded by ``limit`` that
  starts from the source's two seeds (the ends of the edge it is snapped to, at snap offset +
  distance along the edge) and emits every target within ``limit`` as a (source, target,
  distance) triple, sorted by (source, target). A target hanging off a node at ``inc_cost``
  metres is reached through either end of its edge; pairs on one edge (the direct walk along
  it) are given by the caller and merged in. The distance and target arrays are allocated once
  per call and reset through lists of what a search touched, so a search costs what it reaches,
  not the size of the graph.
- :func:`multi_source`: one unbounded multi-source Dijkstra; every node gets the distance to
  its nearest source and which source that is.

Both use a binary heap on arrays with lazy deletion (a node is pushed again when its distance
improves; stale entries are skipped when popped), and add distances in the same order as
:func:`scipy.sparse.csgraph.dijkstra` on the graph with a virtual node per source, so their
results are the same floating-point numbers.

Compiled with ``cache=True``: the machine code is written to ``__pycache__`` next to this
file and loaded by later processes (about 0.1–0.25 s for all kernels; the first compile ever
takes about 8 s). Where that folder is not writable (an installed, read-only package) and
``NUMBA_CACHE_DIR`` is not set, the cache goes to Yimi's data cache,
``$YIMI_DATA_DIR/cache/numba`` (default ``~/.local/share/yimi/cache/numba``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numba
import numpy as np
from numba import njit


def _cache_dir() -> None:
    """Point numba's cache at Yimi's data cache when this package's folder is read-only."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent
    pycache = here / "__pycache__"
    if os.access(pycache if pycache.is_dir() else here, os.W_OK):
        return
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    data = Path(os.environ.get("YIMI_DATA_DIR") or Path(xdg) / "yimi").expanduser()
    target = data / "cache" / "numba"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # numba falls back to its per-user cache, or compiles without one
    numba.config.CACHE_DIR = str(target)


_cache_dir()

__all__ = [
    "bounded_pairs",
    "chains",
    "load",
    "multi_source",
    "multi_source_chains",
    "scratch",
]

_loaded = False


@njit(cache=True, nogil=True, inline="always")
def _unlink(head, nxt, prv, slot, k):  # noqa: ANN001, ANN202
    """Take node ``k`` out of its bucket list (``slot``)."""
    if prv[k] >= 0:
        nxt[prv[k]] = nxt[k]
    else:
        head[slot[k]] = nxt[k]
    if nxt[k] >= 0:
        prv[nxt[k]] = prv[k]
    slot[k] = -1


@njit(cache=True, nogil=True, inline="always")
def _link(head, nxt, prv, slot, k, b):  # noqa: ANN001, ANN202
    """Put node ``k`` at the front of bucket ``b``."""
    h = head[b]
    nxt[k] = h
    prv[k] = -1
    if h >= 0:
        prv[h] = k
    head[b] = k
    slot[k] = b


@njit(cache=True, nogil=True)
def bounded_pairs(  # noqa: PLR0913, PLR0915
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    data,  # noqa: ANN001
    seed_u,  # noqa: ANN001
    seed_v,  # noqa: ANN001
    w_u,  # noqa: ANN001
    w_v,  # noqa: ANN001
    limit,  # noqa: ANN001
    inc_ptr,  # noqa: ANN001
    inc_local,  # noqa: ANN001
    inc_cost,  # noqa: ANN001
    local_target,  # noqa: ANN001
    local_of,  # noqa: ANN001
    same_ptr,  # noqa: ANN001
    same_local,  # noqa: ANN001
    same_cost,  # noqa: ANN001
    delta,  # noqa: ANN001
    dist,  # noqa: ANN001
    best,  # noqa: ANN001
    touched,  # noqa: ANN001
    found,  # noqa: ANN001
    nxt,  # noqa: ANN001
    prv,  # noqa: ANN001
    slot,  # noqa: ANN001
):  # noqa: ANN202
    """Every (source, target) pair within ``limit``, sorted by (source, target).

    Parameters
    ----------
    indptr, indices, data : CSR of the graph (nodes 0 .. n - 1)
    seed_u, seed_v : int64[F]
        Nodes at the ends of each source's edge.
    w_u, w_v : float64[F]
        Cost of reaching them (snap offset + distance along the edge).
    limit : float
        Inclusive bound.
    inc_ptr, inc_local, inc_cost
        The targets hanging off each node (by local id) and their cost from it
        (along the edge + the target's offset).
    local_target, local_of
        Target index of each local id, and local id of each target index.
    same_ptr, same_local, same_cost
        Per source, the targets (local ids) on its own edge and the cost of the direct walk
        along it (both offsets included).
    delta : float
        Width of the buckets of the queue (metres, > 0).
    dist, best, touched, found, nxt, prv, slot
        Scratch arrays, reused between calls (see :func:`scratch`): ``dist`` (n) and ``best``
        (local targets) all ``inf``, ``slot`` (n) all -1; the others of any content. They are
        left in that state.

    Returns
    -------
    src : int64 (source positions 0 .. F - 1), tgt : int64 (target indices), dist : float64
    """
    n_src = seed_u.shape[0]
    inf = np.inf
    n_buckets = int(limit / delta) + 1
    head = np.full(n_buckets, -1, dtype=np.int64)
    out_cap = 1 << 16
    out_s = np.empty(out_cap, dtype=np.int64)
    out_t = np.empty(out_cap, dtype=np.int64)
    out_d = np.empty(out_cap, dtype=np.float64)
    n_out = 0
    for f in range(n_src):
        n_touched = 0
        n_found = 0
        live = 0
        cur = n_buckets
        for end in range(2):
            k = seed_u[f] if end == 0 else seed_v[f]
            w = w_u[f] if end == 0 else w_v[f]
            if k >= 0 and w <= limit and w < dist[k]:
                if dist[k] == inf:
                    touched[n_touched] = k
                    n_touched += 1
                else:
                    _unlink(head, nxt, prv, slot, k)
                    live -= 1
                dist[k] = w
                b = min(int(w / delta), n_buckets - 1)
                cur = min(cur, b)
                _link(head, nxt, prv, slot, k, b)
                live += 1
        while live > 0:
            k = head[cur]
            if k < 0:
                cur += 1
                continue
            _unlink(head, nxt, prv, slot, k)
            live -= 1
            d = dist[k]
            for e in range(inc_ptr[k], inc_ptr[k + 1]):
                c = d + inc_cost[e]
                if c <= limit:
                    t = inc_local[e]
                    if best[t] == inf:
                        found[n_found] = t
                        n_found += 1
                    if c < best[t]:
                        best[t] = c
            for e in range(indptr[k], indptr[k + 1]):
                j = indices[e]
                nd = d + data[e]
                if nd <= limit and nd < dist[j]:
                    if dist[j] == inf:
                        touched[n_touched] = j
                        n_touched += 1
                    elif slot[j] >= 0:
                        _unlink(head, nxt, prv, slot, j)
                        live -= 1
                    dist[j] = nd
                    _link(head, nxt, prv, slot, j, min(int(nd / delta), n_buckets - 1))
                    live += 1
        for e in range(same_ptr[f], same_ptr[f + 1]):
            c = same_cost[e]
            if c <= limit:
                t = same_local[e]
                if best[t] == inf:
                    found[n_found] = t
                    n_found += 1
                if c < best[t]:
                    best[t] = c
        for i in range(n_touched):
            dist[touched[i]] = inf
        if n_found == 0:
            continue
        if n_out + n_found > out_cap:
            while n_out + n_found > out_cap:
                out_cap *= 2
            s2 = np.empty(out_cap, dtype=np.int64)
            t2 = np.empty(out_cap, dtype=np.int64)
            d2 = np.empty(out_cap, dtype=np.float64)
            s2[:n_out] = out_s[:n_out]
            t2[:n_out] = out_t[:n_out]
            d2[:n_out] = out_d[:n_out]
            out_s, out_t, out_d = s2, t2, d2
        for i in range(n_found):
            out_t[n_out + i] = local_target[found[i]]
        out_t[n_out : n_out + n_found].sort()
        for i in range(n_found):
            t = out_t[n_out + i]
            loc = local_of[t]
            out_s[n_out + i] = f
            out_d[n_out + i] = best[loc]
            best[loc] = inf
        n_out += n_found
    return out_s[:n_out].copy(), out_t[:n_out].copy(), out_d[:n_out].copy()


@njit(cache=True, nogil=True)
def multi_source(indptr, indices, data, seed_u, seed_v, w_u, w_v, delta):  # noqa: ANN001, ANN202, PLR0913
    """Distance from every node to its nearest source, and that source (-1: none).

    Each source ``f`` enters at nodes ``seed_u[f]`` and ``seed_v[f]`` at costs ``w_u[f]``
    and ``w_v[f]``. ``delta``: width of the queue's buckets (metres, > 0); the buckets are
    used circularly, so their number only has to cover the longest edge or seed cost.
    """
    n = indptr.shape[0] - 1
    n_src = seed_u.shape[0]
    dist = np.full(n, np.inf)
    src = np.full(n, -1, dtype=np.int64)
    span = 0.0
    for e in range(data.shape[0]):
        span = max(span, data[e])
    for f in range(n_src):
        span = max(span, w_u[f], w_v[f])
    n_buckets = int(span / delta) + 2
    head = np.full(n_buckets, -1, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    prv = np.empty(n, dtype=np.int64)
    slot = np.full(n, -1, dtype=np.int64)
    live = 0
    for f in range(n_src):
        for end in range(2):
            k = seed_u[f] if end == 0 else seed_v[f]
            w = w_u[f] if end == 0 else w_v[f]
            if k >= 0 and w < dist[k]:
                if slot[k] >= 0:
                    _unlink(head, nxt, prv, slot, k)
                    live -= 1
                dist[k] = w
                src[k] = f
                _link(head, nxt, prv, slot, k, int(w / delta) % n_buckets)
                live += 1
    cur = 0
    while live > 0:
        b = cur % n_buckets
        k = head[b]
        if k < 0:
            cur += 1
            continue
        _unlink(head, nxt, prv, slot, k)
        live -= 1
        d = dist[k]
        s = src[k]
        for e in range(indptr[k], indptr[k + 1]):
            j = indices[e]
            nd = d + data[e]
            if nd < dist[j]:
                if slot[j] >= 0:
                    _unlink(head, nxt, prv, slot, j)
                    live -= 1
                dist[j] = nd
                src[j] = s
                _link(head, nxt, prv, slot, j, int(nd / delta) % n_buckets)
                live += 1
    return dist, src


def scratch(n_nodes: int, n_targets: int) -> tuple[np.ndarray, ...]:
    """Fresh scratch arrays for :func:`bounded_pairs` (reused across calls by the caller)."""
    return (
        np.full(n_nodes, np.inf),
        np.full(n_targets, np.inf),
        np.empty(n_nodes, dtype=np.int64),
        np.empty(n_targets, dtype=np.int64),
        np.empty(n_nodes, dtype=np.int64),
        np.empty(n_nodes, dtype=np.int64),
        np.full(n_nodes, -1, dtype=np.int64),
    )


def load() -> None:
    """Compile the kernels, or load them from numba's cache, now rather than in the first
    search (a tiny call of each, once per process)."""
    global _loaded  # noqa: PLW0603
    if _loaded:
        return
    indptr = np.array([0, 1, 2], dtype=np.int64)
    indices = np.array([1, 0], dtype=np.int64)
    data = np.array([1.0, 1.0])
    one = np.zeros(1, dtype=np.int64)
    w = np.zeros(1)
    multi_source(indptr, indices, data, one, one, w, w, 1.0)
    multi_source_chains(indptr, indices, data, *chains(indptr, indices, data), one, one, w, w, 1.0)
    ptr = np.zeros(3, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    bounded_pairs(
        indptr,
        indices,
        data,
        one,
        one,
        w,
        w,
        1.0,
        ptr,
        none,
        w[:0],
        none,
        none,
        np.zeros(2, dtype=np.int64),
        none,
        w[:0],
        1.0,
        *scratch(2, 0),
    )
    _loaded = True


@njit(cache=True, nogil=True)
def chains(indptr, indices, data):  # noqa: ANN001, ANN202
    """Contract the chains of degree-2 nodes (OSM geometry along curved ways).

    Kept nodes: every node whose degree is not 2, plus one node of each cycle made only of
    degree-2 nodes. Every other node lies inside one chain between two kept ends (possibly the
    same node); it gets both ends and its walking distance to each along the chain, summed
    from that end.

    Returns
    -------
    kept_id : int64[n]
        Id of each kept node in the contracted graph (0 .. K - 1), -1 for chain nodes.
    kept_node : int64[K]
    c_indptr, c_indices, c_data : the contracted graph (kept ids), one arc per chain and
        direction, its length the chain's
    end0, end1 : int64[n]
        For chain nodes, the kept node at each end (-1 for kept nodes).
    pos0, pos1 : float64[n]
        For chain nodes, the distance to ``end0`` and to ``end1`` along the chain.
    """
    n = indptr.shape[0] - 1
    kept_id = np.full(n, -1, dtype=np.int64)
    end0 = np.full(n, -1, dtype=np.int64)
    end1 = np.full(n, -1, dtype=np.int64)
    pos0 = np.zeros(n)
    pos1 = np.zeros(n)
    keep = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        keep[k] = indptr[k + 1] - indptr[k] != 2
    # Mark the chain nodes reachable from a kept node (each chain is walked from both ends).
    visited = keep.copy()
    for k in range(n):
        if not keep[k]:
            continue
        for e in range(indptr[k], indptr[k + 1]):
            prev = k
            cur = indices[e]
            while not keep[cur]:
                visited[cur] = True
                e2 = indptr[cur]
                if indices[e2] == prev:
                    e2 += 1
                prev = cur
                cur = indices[e2]
    # The rest lie on cycles of degree-2 nodes only: keep one node of each.
    for k in range(n):
        if visited[k]:
            continue
        keep[k] = True
        visited[k] = True
        prev = k
        cur = indices[indptr[k]]
        while cur != k:
            visited[cur] = True
            e2 = indptr[cur]
            if indices[e2] == prev:
                e2 += 1
            prev = cur
            cur = indices[e2]
    n_kept = 0
    for k in range(n):
        if keep[k]:
            kept_id[k] = n_kept
            n_kept += 1
    kept_node = np.empty(n_kept, dtype=np.int64)
    for k in range(n):
        if kept_id[k] >= 0:
            kept_node[kept_id[k]] = k
    # One arc per kept node and incident edge: walk the chain to its other end.
    n_arcs = 0
    for i in range(n_kept):
        k = kept_node[i]
        n_arcs += indptr[k + 1] - indptr[k]
    c_indptr = np.zeros(n_kept + 1, dtype=np.int64)
    c_indices = np.empty(n_arcs, dtype=np.int64)
    c_data = np.empty(n_arcs)
    a = 0
    for i in range(n_kept):
        k = kept_node[i]
        for e in range(indptr[k], indptr[k + 1]):
            prev = k
            cur = indices[e]
            d = data[e]
            while kept_id[cur] < 0:
                # A chain node: record the distance from this end (first or second walk).
                if end0[cur] < 0:
                    end0[cur] = k
                    pos0[cur] = d
                else:
                    end1[cur] = k
                    pos1[cur] = d
                e2 = indptr[cur]
                if indices[e2] == prev:
                    e2 += 1
                prev = cur
                cur = indices[e2]
                d = d + data[e2]
            c_indices[a] = kept_id[cur]
            c_data[a] = d
            a += 1
        c_indptr[i + 1] = a
    return kept_id, kept_node, c_indptr, c_indices, c_data, end0, end1, pos0, pos1


@njit(cache=True, nogil=True)
def multi_source_chains(  # noqa: PLR0913
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    data,  # noqa: ANN001
    kept_id,  # noqa: ANN001
    kept_node,  # noqa: ANN001
    c_indptr,  # noqa: ANN001
    c_indices,  # noqa: ANN001
    c_data,  # noqa: ANN001
    end0,  # noqa: ANN001
    end1,  # noqa: ANN001
    pos0,  # noqa: ANN001
    pos1,  # noqa: ANN001
    seed_u,  # noqa: ANN001
    seed_v,  # noqa: ANN001
    w_u,  # noqa: ANN001
    w_v,  # noqa: ANN001
    delta,  # noqa: ANN001
):  # noqa: ANN202
    """:func:`multi_source` on the graph with its degree-2 chains contracted (see
    :func:`chains`): a seed inside a chain enters at both ends of it; after the search on the
    kept nodes, each chain node takes the better of its two ends, and the seeds inside chains
    are walked out along them. Same distances as :func:`multi_source` up to the rounding of
    sums taken in another order (about 1e-12 m)."""
    n = indptr.shape[0] - 1
    n_src = seed_u.shape[0]
    m = 2 * n_src
    c_seed = np.empty(2 * m, dtype=np.int64)
    c_w = np.empty(2 * m)
    c_src = np.empty(2 * m, dtype=np.int64)
    c = 0
    for f in range(n_src):
        for end in range(2):
            k = seed_u[f] if end == 0 else seed_v[f]
            w = w_u[f] if end == 0 else w_v[f]
            if k < 0:
                continue
            if kept_id[k] >= 0:
                c_seed[c] = kept_id[k]
                c_w[c] = w
                c_src[c] = f
                c += 1
            else:
                c_seed[c] = kept_id[end0[k]]
                c_w[c] = w + pos0[k]
                c_src[c] = f
                c += 1
                c_seed[c] = kept_id[end1[k]]
                c_w[c] = w + pos1[k]
                c_src[c] = f
                c += 1
    # The search on the kept nodes; its seeds name sources by position in c_src.
    dk, sk = multi_source(
        c_indptr,
        c_indices,
        c_data,
        c_seed[:c],
        c_seed[:c],
        c_w[:c],
        c_w[:c],
        delta,
    )
    dist = np.full(n, np.inf)
    src = np.full(n, -1, dtype=np.int64)
    for i in range(kept_node.shape[0]):
        k = kept_node[i]
        dist[k] = dk[i]
        if sk[i] >= 0:
            src[k] = c_src[sk[i]]
    for k in range(n):
        if kept_id[k] >= 0:
            continue
        a = dist[end0[k]] + pos0[k]
        b = dist[end1[k]] + pos1[k]
        if b < a:
            dist[k] = b
            src[k] = src[end1[k]]
        elif a < np.inf:
            dist[k] = a
            src[k] = src[end0[k]]
    # Seeds inside chains: walk out along the chain while the walk improves.
    for f in range(n_src):
        for end in range(2):
            k = seed_u[f] if end == 0 else seed_v[f]
            w = w_u[f] if end == 0 else w_v[f]
            if k < 0 or kept_id[k] >= 0:
                continue
            if w < dist[k]:
                dist[k] = w
                src[k] = f
            for side in range(2):
                prev = k
                e = indptr[k] + side
                d = w
                while True:
                    cur = indices[e]
                    d = d + data[e]
                    if d >= dist[cur] or kept_id[cur] >= 0:
                        break
                    dist[cur] = d
                    src[cur] = f
                    e = indptr[cur]
                    if indices[e] == prev:
                        e += 1
                    prev = cur
    return dist, src
