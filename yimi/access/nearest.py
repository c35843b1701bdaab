"""Walking distance from every node of the network to the nearest of some places (for GIS users).

One multi-source search: each place becomes a virtual node joined to its edge's two end nodes by
its snap offset plus the distance along the edge, as ``NetworkIndex.nearest`` does for homes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from yimi.analysis.graph import Snap, WalkGraph


def nearest_place_per_node(graph: WalkGraph, places: Snap) -> tuple[np.ndarray, np.ndarray]:
    """Walking metres from each node to its nearest place, and which place (index, -1: none).

    Unsnapped places are ignored; nodes that reach no place get ``inf`` and -1.
    """
    n = graph.n_nodes
    dist_out = np.full(n, np.inf)
    which = np.full(n, -1, dtype=np.int64)
    si = np.flatnonzero(places.snapped)
    f = si.shape[0]
    if not (f and n):
        return dist_out, which
    csr = graph.csr
    w_u = places.offset_m[si] + places.dist_from_u_m[si]
    w_v = places.offset_m[si] + places.dist_from_v_m[si]
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + 2 * np.arange(1, f + 1)])
    indices = np.concatenate([csr.indices, np.column_stack([places.u[si], places.v[si]]).ravel()])
    data = np.concatenate([csr.data, np.column_stack([w_u, w_v]).ravel()])
    aug = sp.csr_array(
        (data, indices.astype(np.int64), indptr.astype(np.int64)), shape=(n + f, n + f)
    )
    dist, _pred, src = dijkstra(
        aug, directed=True, indices=np.arange(n, n + f), min_only=True, return_predecessors=True
    )
    src = np.asarray(src[:n], dtype=np.int64)
    reached = src >= 0
    dist_out[reached] = np.asarray(dist[:n], dtype=np.float64)[reached]
    which[reached] = si[src[reached] - n]
    return dist_out, which
