"""Compiled shortest-path kernels of the access core (private; numba, no Python per source).

Searches on a graph in CSR form (``indptr``, ``indices``, ``data``; symmetric, lengths in
metres, zero-length edges allowed):

- :func:`bounded_pairs`: for each source in turn, a Dijkstra search bounded by ``limit`` that
  starts from the source's two seeds (the ends of the edge it is snapped to, at snap offset +
  distance along the edge) and emits every target within ``limit`` as a (source, target,
  distance) triple, sorted by (source, target). A target hanging off a node at ``inc_cost``
  metres is reached through either end of its edge; pairs on one edge (the direct walk along
  it) are given by the caller and merged in. The distance and target arrays are allocated once
  per call and reset through lists of what a search touched, so a search costs what it reaches,
  not the size of the graph.
- :func:`bounded_counts`: the same searches, counting the sources within each of several
  thresholds of every target instead of listing pairs.
- :func:`bounded_fca`: both steps of 2SFCA in the same searches (each source's weighted
  demand as its search finds the targets, then at once its ratio added to those targets).
- :func:`multi_source`: one unbounded multi-source Dijkstra; every node gets the distance to
  its nearest source and which source that is (and :func:`multi_source_chains`, the same on
  the graph with its chains of degree-2 nodes contracted, see :func:`chains`).

All use bucket queues (buckets of a fixed width in metres; a node improved after it was taken
out is queued again, so any width gives exact distances) and add distances in the same order
as :func:`scipy.sparse.csgraph.dijkstra` on the graph with a virtual node per source, so their
results are the same floating-point numbers (the chain-contracted search up to rounding).

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
    "band_totals",
    "bounded_counts",
    "bounded_fca",
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
def _grow(e_node, e_next, e_dist, need):  # noqa: ANN001, ANN202
    """The arena's arrays, enlarged to hold at least ``need`` entries."""
    cap = e_node.shape[0]
    while cap < need:
        cap *= 2
    a = np.empty(cap, dtype=np.int64)
    c = np.empty(cap, dtype=np.int64)
    x = np.empty(cap)
    n = e_node.shape[0]
    a[:n] = e_node
    c[:n] = e_next
    x[:n] = e_dist
    return a, c, x


@njit(cache=True, nogil=True)
def _search(  # noqa: PLR0913, PLR0915
    f,  # noqa: ANN001
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
    same_ptr,  # noqa: ANN001
    same_local,  # noqa: ANN001
    same_cost,  # noqa: ANN001
    delta,  # noqa: ANN001
    head,  # noqa: ANN001
    e_node,  # noqa: ANN001
    e_next,  # noqa: ANN001
    e_dist,  # noqa: ANN001
    dist,  # noqa: ANN001
    best,  # noqa: ANN001
    touched,  # noqa: ANN001
    found,  # noqa: ANN001
):  # noqa: ANN202
    """One bounded search out of source ``f`` (see :func:`bounded_pairs` for the arguments).

    The queue: buckets of width ``delta`` (``head``, one entry per bucket, all -1 between
    searches) holding linked lists of entries (node, distance) appended to an arena that is
    written in order and emptied after each search (so a search touches only the memory it
    needs); an entry whose distance is no longer its node's is stale and skipped. A node
    improved after it was taken from the queue (by a node of the same bucket) is queued and
    expanded again, so the distances are exact for any bucket width.

    Returns the number of targets found (their local ids are ``found[:n]``, their distances
    ``best[found[:n]]``; the caller reads them and resets ``best`` to ``inf``) and the arena's
    arrays (grown when needed). ``dist`` is left reset.
    """
    inf = np.inf
    inv = 1.0 / delta
    n_buckets = head.shape[0]
    last = n_buckets - 1
    n_touched = 0
    n_found = 0
    n_e = 0
    live = 0
    cur = n_buckets
    for end in range(2):
        k = seed_u[f] if end == 0 else seed_v[f]
        w = w_u[f] if end == 0 else w_v[f]
        if k >= 0 and w <= limit and w < dist[k]:
            if dist[k] == inf:
                touched[n_touched] = k
                n_touched += 1
            dist[k] = w
            b = min(int(w * inv), last)
            cur = min(cur, b)
            e_node[n_e] = k
            e_dist[n_e] = w
            e_next[n_e] = head[b]
            head[b] = n_e
            n_e += 1
            live += 1
    while live > 0:
        i = head[cur]
        if i < 0:
            cur += 1
            continue
        head[cur] = e_next[i]
        live -= 1
        k = e_node[i]
        d = e_dist[i]
        if d != dist[k]:
            continue  # stale: the node was queued again at a shorter distance
        for e in range(inc_ptr[k], inc_ptr[k + 1]):
            c = d + inc_cost[e]
            if c <= limit:
                t = inc_local[e]
                if best[t] == inf:
                    found[n_found] = t
                    n_found += 1
                if c < best[t]:
                    best[t] = c
        e0, e1 = indptr[k], indptr[k + 1]
        if n_e + e1 - e0 > e_node.shape[0]:
            e_node, e_next, e_dist = _grow(e_node, e_next, e_dist, n_e + e1 - e0)
        for e in range(e0, e1):
            j = indices[e]
            nd = d + data[e]
            if nd <= limit and nd < dist[j]:
                if dist[j] == inf:
                    touched[n_touched] = j
                    n_touched += 1
                dist[j] = nd
                b = min(int(nd * inv), last)
                e_node[n_e] = j
                e_dist[n_e] = nd
                e_next[n_e] = head[b]
                head[b] = n_e
                n_e += 1
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
    return n_found, e_node, e_next, e_dist


@njit(cache=True, nogil=True)
def _arena():  # noqa: ANN202
    """The bounded searches' entry arena (grown as needed, kept for one kernel call)."""
    cap = 1 << 14  # at least the 2 seeds of a search
    return np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64), np.empty(cap)


@njit(cache=True, nogil=True)
def bounded_pairs(  # noqa: PLR0913
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
    dist, best, touched, found
        Scratch arrays, reused between calls (see :func:`scratch`): ``dist`` (n) and ``best``
        (local targets) all ``inf``; the others of any content. They are left in that state.

    Returns
    -------
    src : int64 (source positions 0 .. F - 1), tgt : int64 (target indices), dist : float64
    """
    n_src = seed_u.shape[0]
    inf = np.inf
    n_buckets = int(limit / delta) + 1
    head = np.full(n_buckets, -1, dtype=np.int64)
    e_node, e_next, e_dist = _arena()
    out_cap = 1 << 16
    out_s = np.empty(out_cap, dtype=np.int64)
    out_t = np.empty(out_cap, dtype=np.int64)
    out_d = np.empty(out_cap, dtype=np.float64)
    n_out = 0
    for f in range(n_src):
        n_found, e_node, e_next, e_dist = _search(
            f, indptr, indices, data, seed_u, seed_v, w_u, w_v, limit, inc_ptr, inc_local,
            inc_cost, same_ptr, same_local, same_cost, delta, head, e_node, e_next, e_dist,
            dist, best, touched, found,
        )  # fmt: skip
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
def bounded_counts(  # noqa: PLR0913
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    data,  # noqa: ANN001
    seed_u,  # noqa: ANN001
    seed_v,  # noqa: ANN001
    w_u,  # noqa: ANN001
    w_v,  # noqa: ANN001
    thresholds,  # noqa: ANN001
    inc_ptr,  # noqa: ANN001
    inc_local,  # noqa: ANN001
    inc_cost,  # noqa: ANN001
    same_ptr,  # noqa: ANN001
    same_local,  # noqa: ANN001
    same_cost,  # noqa: ANN001
    delta,  # noqa: ANN001
    band,  # noqa: ANN001
    dist,  # noqa: ANN001
    best,  # noqa: ANN001
    touched,  # noqa: ANN001
    found,  # noqa: ANN001
):  # noqa: ANN202
    """Sources within each threshold of every target, without listing the pairs.

    ``thresholds``: float64[K], ascending; the searches are bounded by the last. ``band``:
    int32[local targets, K], added to: ``band[t, b]`` counts the sources whose distance to
    ``t`` is within ``thresholds[b]`` but beyond ``thresholds[b - 1]``, so the counts within
    ``thresholds[b]`` are the cumulative sum over ``b`` (:func:`band_totals`). Other arguments
    as :func:`bounded_pairs`; the distances are the same numbers.
    """
    n_src = seed_u.shape[0]
    n_thr = thresholds.shape[0]
    limit = thresholds[n_thr - 1]
    inf = np.inf
    head = np.full(int(limit / delta) + 1, -1, dtype=np.int64)
    e_node, e_next, e_dist = _arena()
    for f in range(n_src):
        n_found, e_node, e_next, e_dist = _search(
            f, indptr, indices, data, seed_u, seed_v, w_u, w_v, limit, inc_ptr, inc_local,
            inc_cost, same_ptr, same_local, same_cost, delta, head, e_node, e_next, e_dist,
            dist, best, touched, found,
        )  # fmt: skip
        for i in range(n_found):
            t = found[i]
            d = best[t]
            best[t] = inf
            b = 0
            while d > thresholds[b]:
                b += 1
            band[t, b] += 1


@njit(cache=True, nogil=True)
def band_totals(band, which, local_target, out):  # noqa: ANN001, ANN202
    """Counts within each threshold from the bands of :func:`bounded_counts`.

    ``band``: int32[P, local targets, K], the bands of P parts (threads), summed here.
    ``which``: int64[R], the band (threshold) of each output row. ``out``: int64[R, targets],
    written at ``local_target``.
    """
    n_parts, n_local, n_thr = band.shape
    cum = np.zeros(n_thr, dtype=np.int64)
    for t in range(n_local):
        acc = 0
        for b in range(n_thr):
            for q in range(n_parts):
                acc += band[q, t, b]
            cum[b] = acc
        col = local_target[t]
        for r in range(which.shape[0]):
            out[r, col] = cum[which[r]]


@njit(cache=True, nogil=True)
def bounded_fca(  # noqa: PLR0913, PLR0915
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    data,  # noqa: ANN001
    seed_u,  # noqa: ANN001
    seed_v,  # noqa: ANN001
    w_u,  # noqa: ANN001
    w_v,  # noqa: ANN001
    catchment,  # noqa: ANN001
    gaussian,  # noqa: ANN001
    supply,  # noqa: ANN001
    demand,  # noqa: ANN001
    local_target,  # noqa: ANN001
    inc_ptr,  # noqa: ANN001
    inc_local,  # noqa: ANN001
    inc_cost,  # noqa: ANN001
    same_ptr,  # noqa: ANN001
    same_local,  # noqa: ANN001
    same_cost,  # noqa: ANN001
    delta,  # noqa: ANN001
    access,  # noqa: ANN001
    dist,  # noqa: ANN001
    best,  # noqa: ANN001
    touched,  # noqa: ANN001
    found,  # noqa: ANN001
):  # noqa: ANN202
    """Both steps of 2SFCA inside the searches, one source after the other: its search finds
    its targets; step 1 sums their decay-weighted demand (``weighted``); the source's ratio
    ``supply / weighted`` (0 where ``weighted`` is 0) is then known, and step 2 adds
    ``weight × ratio`` to ``access`` at the same targets before the next search. No
    (source, target) pairs are kept.

    ``gaussian``: False for the flat decay (weight 1 within the catchment), True for
    ``(exp(-½(d/d0)²) − exp(−½)) / (1 − exp(−½))``, at least 0 (as ``fca.decay_weights``).
    ``supply``: float64 per source (of this call); ``demand``: float64 per target;
    ``local_target``: the target of each local id; ``access``: float64 per target, added to
    (each target sums its sources in their order).

    Returns
    -------
    weighted : float64[F]
    """
    n_src = seed_u.shape[0]
    inf = np.inf
    e_half = np.exp(-0.5)
    head = np.full(int(catchment / delta) + 1, -1, dtype=np.int64)
    e_node, e_next, e_dist = _arena()
    weighted = np.zeros(n_src)
    wbuf = np.empty(1024)  # the weights of one search's targets (gaussian), grown as needed
    for f in range(n_src):
        n_found, e_node, e_next, e_dist = _search(
            f, indptr, indices, data, seed_u, seed_v, w_u, w_v, catchment, inc_ptr,
            inc_local, inc_cost, same_ptr, same_local, same_cost, delta, head, e_node, e_next,
            e_dist, dist, best, touched, found,
        )  # fmt: skip
        acc = 0.0
        if gaussian:
            if n_found > wbuf.shape[0]:
                wbuf = np.empty(2 * n_found)
            for i in range(n_found):
                t = found[i]
                r = best[t] / catchment
                best[t] = inf
                w = (np.exp(-0.5 * (r * r)) - e_half) / (1.0 - e_half)
                if not w > 0.0:
                    w = 0.0  # beyond the weights' end: not counted (and no access)
                wbuf[i] = w
                if w > 0.0:
                    acc += w * demand[local_target[t]]
        else:
            for i in range(n_found):
                t = found[i]
                best[t] = inf
                acc += demand[local_target[t]]
        weighted[f] = acc
        if not acc > 0.0:
            continue
        c = supply[f] / acc
        if c == 0.0:
            continue
        if gaussian:
            for i in range(n_found):
                w = wbuf[i]
                if w > 0.0:
                    access[local_target[found[i]]] += w * c
        else:
            for i in range(n_found):
                access[local_target[found[i]]] += c
    return weighted


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
    """Fresh scratch arrays for the bounded searches (reused across calls by the caller)."""
    return (
        np.full(n_nodes, np.inf),
        np.full(n_targets, np.inf),
        np.empty(n_nodes, dtype=np.int64),
        np.empty(n_targets, dtype=np.int64),
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
    bounded_counts(
        indptr,
        indices,
        data,
        one,
        one,
        w,
        w,
        np.ones(1),
        ptr,
        none,
        w[:0],
        np.zeros(2, dtype=np.int64),
        none,
        w[:0],
        1.0,
        np.zeros((0, 1), dtype=np.int32),
        *scratch(2, 0),
    )
    band_totals(np.zeros((1, 0, 1), dtype=np.int32), one, none, np.zeros((1, 0), dtype=np.int64))
    bounded_fca(
        indptr,
        indices,
        data,
        one,
        one,
        w,
        w,
        1.0,
        True,
        w,
        w[:0],
        none,
        ptr,
        none,
        w[:0],
        np.zeros(2, dtype=np.int64),
        none,
        w[:0],
        1.0,
        w[:0].copy(),
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
