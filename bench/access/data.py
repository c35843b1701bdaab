"""The shared inputs of bench/access: one .npz per dataset, written once, read by every engine.

Everything here is GENERATED (seeded) except the tile of the stitched network, which is the
walking network of the real sample extract (copied side by side, so the result is generated too).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from common import CATEGORIES, SUPPLY, log
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from yimi.analysis.access.network import NetworkArrays
from yimi.analysis.access.synthetic import (
    generate_facilities,
    generate_grid_network,
    generate_population,
    stitch_tiles,
)
from yimi.analysis.graph import WalkGraph

CHECK_SAMPLE = 20_000  # nodes at which every engine's answers are compared
DEMAND_PER_NODE = 1.5  # mean children per node in the engine comparison's 2SFCA (Poisson)


def _network(kind: str, n_nodes: int, seed: int, osm: str | None) -> NetworkArrays:
    if kind == "grid":
        return generate_grid_network(n_nodes, seed)
    from yimi.analysis.osm import read_osm

    w = read_osm(osm).network
    tile = NetworkArrays(
        w.lon, w.lat, w.edge_u, w.edge_v, w.edge_length_m, w.edge_highway, False, Path(osm).name
    )
    side = max(1, math.ceil(math.sqrt(n_nodes / tile.n_nodes)))
    return stitch_tiles(tile, side, side)


def _simple(net: NetworkArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Undirected simple graph: self-loops dropped, parallel edges keep the shortest.

    The rule WalkGraph.from_arrays applies; done once here so that every engine (networkx's
    Graph keeps the *last* of parallel edges, pandana and OSMnx keep all) gets the same graph.
    """
    u, v, w = net.edge_u, net.edge_v, net.edge_length_m
    a, b = np.minimum(u, v), np.maximum(u, v)
    loop = a == b
    a, b, w = a[~loop], b[~loop], w[~loop]
    key = a * np.int64(net.n_nodes) + b
    order = np.lexsort((w, key))
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    keep = np.sort(order[first])
    return a[keep], b[keep], w[keep], int(loop.sum()), int(order.shape[0] - keep.shape[0])


def prepare(params: dict[str, Any]) -> dict[str, Any]:
    """Write the dataset's .npz (``params['out']``); return its description."""
    seed = int(params["seed"])
    kind = params["kind"]
    net = _network(kind, int(params["nodes"]), seed, params.get("osm"))
    n = net.n_nodes
    u, v, w, loops, parallel = _simple(net)
    log(f"network: {n:,} nodes, {u.shape[0]:,} edges")
    graph = WalkGraph.from_arrays(net.lon, net.lat, u, v, w)
    sizes = graph.component_sizes

    # Pipeline inputs (Yimi's analyse_access): generated facilities and homes with children.
    fac = generate_facilities(graph, seed + 2)
    homes = generate_population(graph, n // 4, seed + 1)

    # Engine comparison: the same facilities, snapped once to their nearest node that has an
    # edge (KD-tree in a local metric projection), so that every engine gets node sources.
    lon0, lat0 = float(np.median(net.lon)), float(np.median(net.lat))
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = fwd.transform(net.lon, net.lat)
    deg = np.bincount(np.concatenate([u, v]), minlength=n)
    has_edge = np.flatnonzero(deg > 0)
    tree = cKDTree(np.column_stack([np.asarray(x)[has_edge], np.asarray(y)[has_edge]]))
    fx, fy = fwd.transform(fac.lon, fac.lat)
    snap_m, k = tree.query(np.column_stack([fx, fy]))
    fac_node = has_edge[k].astype(np.int64)

    cat_of = []
    for c, name in zip(fac.category, fac.name, strict=True):
        if c == "school":
            c = "primary_school" if "小学" in (name or "") else "middle_school"
        cat_of.append(CATEGORIES.index(c))
    fac_cat = np.asarray(cat_of, dtype=np.int64)
    seats = fac.supply["seats"]
    supply = np.ones(len(fac), dtype=np.float64)
    for ci, c in enumerate(CATEGORIES):
        m = fac_cat == ci
        if SUPPLY[c] == "seats":
            supply[m] = seats[m]
        elif SUPPLY[c] == "area":
            supply[m] = fac.area_m2[m]
    rng = np.random.default_rng(seed + 3)
    demand = rng.poisson(DEMAND_PER_NODE, n).astype(np.float64)
    sample = np.sort(rng.choice(n, size=min(CHECK_SAMPLE, n), replace=False)).astype(np.int64)

    # Distinct nodes at one position would make coordinate-based snapping ambiguous.
    pos = np.unique(np.column_stack([net.lon, net.lat]), axis=0).shape[0]

    np.savez(
        params["out"],
        lon=net.lon,
        lat=net.lat,
        u=u,
        v=v,
        w=w,
        fac_node=fac_node,
        fac_cat=fac_cat,
        fac_supply=supply,
        node_demand=demand,
        sample=sample,
        # pipeline inputs
        p_fac_lon=fac.lon,
        p_fac_lat=fac.lat,
        p_fac_category=np.asarray(fac.category, dtype=np.str_),
        p_fac_name=np.asarray(fac.name, dtype=np.str_),
        p_fac_area=fac.area_m2,
        p_fac_seats=seats,
        p_home_lon=homes.lon,
        p_home_lat=homes.lat,
        p_home_weights=homes.weights,
        p_home_area=homes.area_index,
        p_n_areas=np.asarray(len(homes.area_ids)),
    )
    per_cat = {c: int((fac_cat == i).sum()) for i, c in enumerate(CATEGORIES)}
    return {
        "description": net.description,
        "generated": True,
        "nodes": n,
        "edges": int(u.shape[0]),
        "dropped_self_loops": loops,
        "dropped_parallel": parallel,
        "isolated_nodes": int((deg == 0).sum()),
        "components": int(sizes.shape[0]),
        "largest_component": int(sizes.max()),
        "duplicate_positions": int(n - pos),
        "facilities": int(len(fac)),
        "facilities_per_category": per_cat,
        "facility_snap_m_median": float(np.median(snap_m)),
        "facility_snap_m_max": float(snap_m.max()),
        "facility_nodes_shared": int(len(fac) - np.unique(fac_node).shape[0]),
        "homes": int(len(homes)),
        "children": float(homes.weights.sum()),
        "node_demand_total": float(demand.sum()),
        "check_sample": int(sample.shape[0]),
        "edge_length_m_median": float(np.median(w)),
    }
