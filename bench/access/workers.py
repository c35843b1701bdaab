"""The engines of bench/access that run in Yimi's virtual environment: Yimi, networkx, OSMnx,
and Yimi's whole pipeline. ``run.py`` starts each in a fresh Python process:

    python bench/access/workers.py ENGINE PARAMS.json RESULT.json

Every engine reads the same input file (written once by ``data.py``), answers the same queries
and reports its own times and its own peak memory (``ru_maxrss``). The clock starts after the
imports and after reading the input file; both are reported separately.

Queries (one query = one facility category, answered for every node of the network):

- nearest: walking distance from every node to the nearest facility of the category;
- counts: number of the category's facilities within 300, 500 and 1000 m of every node;
- 2SFCA: two-step floating catchment access of every node (flat decay, the category's
  catchment), standalone: its own searches to the catchment, then the two steps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

_T_START = time.perf_counter()

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402
from common import (  # noqa: E402
    CATCHMENT_M,
    CATEGORIES,
    THRESHOLDS_M,
    category_members,
    load_inputs,
    log,
    now,
    save_check,
    worker_entry,
)

TIE_M = 0.25  # window around a threshold within which a facility counts as a boundary tie


def _categories(p: dict[str, Any]) -> list[int]:
    sub = p.get("categories")
    return list(range(len(CATEGORIES))) if sub is None else [CATEGORIES.index(c) for c in sub]


# ----------------------------------------------------------------------------------- Yimi


def _node_snap(graph):
    """Every node as a snapped point: position 0 along one of its edges (offset 0).

    What ``graph.snap`` returns for a point lying on a node, built from the arrays instead of a
    spatial query; a node without edges stays unsnapped (unreachable, as in networkx).
    """
    from yimi.analysis.graph import Snap

    n, m = graph.n_nodes, graph.n_edges
    eu, ev = graph.edge_u, graph.edge_v
    edge = np.full(n, -1, dtype=np.int64)
    edge[eu[::-1]] = np.arange(m - 1, -1, -1)
    edge[ev[::-1]] = np.arange(m - 1, -1, -1)
    ok = edge >= 0
    e = np.where(ok, edge, 0)
    node = np.arange(n)
    at_u = eu[e] == node
    length = graph.edge_length_m[e]
    nan = np.full(n, np.nan)
    return Snap(
        point_lon=graph.lon.copy(),
        point_lat=graph.lat.copy(),
        edge=edge,
        u=np.where(ok, eu[e], -1),
        v=np.where(ok, ev[e], -1),
        dist_from_u_m=np.where(ok, np.where(at_u, 0.0, length), nan),
        dist_from_v_m=np.where(ok, np.where(at_u, length, 0.0), nan),
        offset_m=np.where(ok, 0.0, nan),
        lon=np.where(ok, graph.lon, nan),
        lat=np.where(ok, graph.lat, nan),
    )


def engine_yimi(p: dict[str, Any]) -> dict[str, Any]:
    from yimi.analysis.access.fca import search_two_step_fca
    from yimi.analysis.access.network import NetworkIndex, take
    from yimi.analysis.graph import WalkGraph

    t_import = now() - _T_START
    t0 = now()
    z = load_inputs(p["input"])
    t_load = now() - t0
    n = z["lon"].shape[0]
    fac_node, fac_cat, supply, demand = (
        z["fac_node"],
        z["fac_cat"],
        z["fac_supply"],
        z["node_demand"],
    )
    members = category_members(fac_cat)
    cats = _categories(p)

    t0 = now()
    graph = WalkGraph.from_arrays(z["lon"], z["lat"], z["u"], z["v"], z["w"])
    t_graph = now() - t0
    t0 = now()
    index = NetworkIndex(graph)
    t_index = now() - t0
    t0 = now()
    all_targets = _node_snap(graph)
    # Only the nodes that have an edge are passed as targets (the rest are unreachable):
    # NetworkIndex.nearest mis-assigns same-edge results when some targets are unsnapped.
    live = np.flatnonzero(all_targets.snapped)
    # Indexed once for every query (what analyse_access does with its homes).
    targets = index.prepare_targets(take(all_targets, live))
    t_targets = now() - t0

    def scatter(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(values.shape[:-1] + (n,), fill, dtype=values.dtype)
        out[..., live] = values
        return out

    t0 = now()
    # Facilities: the public API on the points (here: exactly their nodes' positions), to the
    # nearest node like pandana's get_node_ids and OSMnx's nearest_nodes.
    fac = index.snap_to_nodes(z["lon"][fac_node], z["lat"][fac_node])
    t_snap = now() - t0
    # Not counted: what snapping them to the nearest edge (graph.snap, what analyse_access
    # does with real places) costs; it indexes every edge. The answers are the same here.
    t0 = now()
    fac_edge = graph.snap(z["lon"][fac_node], z["lat"][fac_node])
    t_edge_snap = now() - t0
    del fac_edge
    at_node = ((fac.u == fac_node) & (fac.dist_from_u_m == 0)) | (
        (fac.v == fac_node) & (fac.dist_from_v_m == 0)
    )

    near_s, count_s, fca_s = [], [], []
    out_near, out_count, out_fca = [], [], []
    for c in cats:
        sel = members[c]
        fc = take(fac, sel)
        t0 = now()
        near = scatter(index.nearest(fc, targets).dist_m, np.inf)
        near_s.append(now() - t0)
        t0 = now()
        counts = scatter(index.counts(fc, targets, THRESHOLDS_M).astype(np.int32), 0)
        count_s.append(now() - t0)
        d0 = CATCHMENT_M[CATEGORIES[c]]
        t0 = now()
        fca = search_two_step_fca(
            index, fc, targets, supply[sel], demand[live], catchment_m=d0, decay="flat"
        )
        access = scatter(fca.access, 0.0)
        fca_s.append(now() - t0)
        if p.get("check"):
            s = z["sample"]
            out_near.append(near[s])
            out_count.append(counts[:, s])
            out_fca.append(access[s])
    result = {
        "import_s": t_import,
        "load_s": t_load,
        "build": {
            "WalkGraph.from_arrays": t_graph,
            "NetworkIndex": t_index,
            "targets (all nodes)": t_targets,
            "snap_to_nodes (facilities)": t_snap,
        },
        "edge_snap_s_not_counted": t_edge_snap,
        "categories": [CATEGORIES[c] for c in cats],
        "nearest_s": near_s,
        "counts_s": count_s,
        "fca_s": fca_s,
        "facilities_snapped_at_their_node": int(at_node.sum()),
        "facilities": int(fac_node.shape[0]),
        "nodes": n,
    }
    if p.get("check"):
        # Untimed: counts at threshold -/+ TIE_M at the sample, to tell boundary ties apart.
        s = z["sample"]
        ts = take(all_targets, s)
        lo, hi, edge = [], [], []
        for c in cats:
            r = index.reach(take(fac, members[c]), ts, max(THRESHOLDS_M) + TIE_M)
            lo.append(np.stack([r.counts(t - TIE_M) for t in THRESHOLDS_M]))
            hi.append(np.stack([r.counts(t + TIE_M) for t in THRESHOLDS_M]))
            # 2SFCA answers that a distance error of TIE_M could change: nodes within TIE_M of
            # a facility's catchment edge, and every node in the catchment of a facility that
            # has such a node (its demand sum is uncertain).
            d0 = CATCHMENT_M[CATEGORIES[c]]
            fc = take(fac, members[c])
            rr = index.reach(fc, targets, d0 + TIE_M)
            band = rr.dist_m > d0 - TIE_M
            unsure = np.zeros(len(fc), dtype=bool)
            unsure[rr.source[band]] = True
            hit = np.zeros(len(live), dtype=bool)
            hit[rr.target[band | unsure[rr.source]]] = True
            edge.append(scatter(hit, False)[s])
        save_check(
            p["check"],
            cats=np.asarray(cats),
            nearest=np.stack(out_near),
            counts=np.stack(out_count),
            fca=np.stack(out_fca),
            counts_lo=np.stack(lo),
            counts_hi=np.stack(hi),
            fca_boundary=np.stack(edge),
        )
    return result


# ------------------------------------------------------------------- networkx (and OSMnx)


def _nx_nearest(nx, G, sources, n: int) -> np.ndarray:
    d = nx.multi_source_dijkstra_path_length(G, sources, weight="length")
    out = np.full(n, np.inf)
    out[np.fromiter(d.keys(), dtype=np.int64, count=len(d))] = np.fromiter(
        d.values(), dtype=np.float64, count=len(d)
    )
    return out


def _nx_ball(nx, G, src: int, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    d = nx.single_source_dijkstra_path_length(G, src, cutoff=cutoff, weight="length")
    nodes = np.fromiter(d.keys(), dtype=np.int64, count=len(d))
    dist = np.fromiter(d.values(), dtype=np.float64, count=len(d))
    return nodes, dist


def _nx_counts(nx, G, fac_nodes: np.ndarray, n: int) -> np.ndarray:
    counts = np.zeros((len(THRESHOLDS_M), n), dtype=np.int32)
    for f in fac_nodes.tolist():
        nodes, dist = _nx_ball(nx, G, f, max(THRESHOLDS_M))
        for k, t in enumerate(THRESHOLDS_M):
            counts[k, nodes[dist <= t]] += 1  # nodes are distinct: no lost increments
    return counts


def _nx_fca(nx, G, fac_nodes, supply, demand, d0: float) -> np.ndarray:
    """The direct computation: one bounded search per facility, then the two steps."""
    balls = [_nx_ball(nx, G, f, d0)[0] for f in fac_nodes.tolist()]
    access = np.zeros(demand.shape[0])
    for nodes, s in zip(balls, supply.tolist(), strict=True):
        w = demand[nodes].sum()
        if w > 0:
            access[nodes] += s / w
    return access


def _nx_queries(nx, G, z, cats, fac_nodes_of, check: bool) -> dict[str, Any]:
    n = z["lon"].shape[0]
    supply, demand = z["fac_supply"], z["node_demand"]
    members = category_members(z["fac_cat"])
    near_s, count_s, fca_s = [], [], []
    out_near, out_count, out_fca = [], [], []
    for c in cats:
        sel = members[c]
        nodes = fac_nodes_of[sel]
        t0 = now()
        near = _nx_nearest(nx, G, set(nodes.tolist()), n)
        near_s.append(now() - t0)
        t0 = now()
        counts = _nx_counts(nx, G, nodes, n)
        count_s.append(now() - t0)
        t0 = now()
        access = _nx_fca(nx, G, nodes, supply[sel], demand, CATCHMENT_M[CATEGORIES[c]])
        fca_s.append(now() - t0)
        log(f"{CATEGORIES[c]}: {near_s[-1]:.2f} / {count_s[-1]:.2f} / {fca_s[-1]:.2f} s")
        if check:
            s = z["sample"]
            out_near.append(near[s])
            out_count.append(counts[:, s])
            out_fca.append(access[s])
    return {
        "nearest_s": near_s,
        "counts_s": count_s,
        "fca_s": fca_s,
        "check": (out_near, out_count, out_fca),
    }


def engine_networkx(p: dict[str, Any]) -> dict[str, Any]:
    import networkx as nx

    t_import = now() - _T_START
    t0 = now()
    z = load_inputs(p["input"])
    t_load = now() - t0
    n = z["lon"].shape[0]
    cats = _categories(p)
    t0 = now()
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(
        zip(z["u"].tolist(), z["v"].tolist(), z["w"].tolist(), strict=True), weight="length"
    )
    t_graph = now() - t0
    q = _nx_queries(nx, G, z, cats, z["fac_node"], bool(p.get("check")))
    _save_nx_check(p, cats, q)
    members = category_members(z["fac_cat"])
    return {
        "import_s": t_import,
        "load_s": t_load,
        "build": {"nx.Graph": t_graph},
        "categories": [CATEGORIES[c] for c in cats],
        "nearest_s": q["nearest_s"],
        "counts_s": q["counts_s"],
        "fca_s": q["fca_s"],
        "facilities_run": int(sum(members[c].shape[0] for c in cats)),
        "nodes": n,
    }


def _save_nx_check(p, cats, q) -> None:
    if p.get("check"):
        near, cnt, fca = q["check"]
        save_check(
            p["check"],
            cats=np.asarray(cats),
            nearest=np.stack(near),
            counts=np.stack(cnt),
            fca=np.stack(fca),
        )


def engine_osmnx(p: dict[str, Any]) -> dict[str, Any]:
    """OSMnx as people use it: a MultiDiGraph from GeoDataFrames, projected, nearest_nodes to
    snap the facilities, then networkx on that graph (OSMnx has no accessibility queries)."""
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    import pandas as pd
    import shapely

    ox.settings.log_console = False
    ox.settings.use_cache = False
    t_import = now() - _T_START
    t0 = now()
    z = load_inputs(p["input"])
    t_load = now() - t0
    lon, lat, u, v, w = z["lon"], z["lat"], z["u"], z["v"], z["w"]
    n = lon.shape[0]
    cats = _categories(p)

    t0 = now()
    nodes = gpd.GeoDataFrame(
        {"x": lon, "y": lat},
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
        index=pd.Index(np.arange(n), name="osmid"),
    )
    # A walking graph in OSMnx holds both directions of every street.
    uu, vv = np.concatenate([u, v]), np.concatenate([v, u])
    line = shapely.linestrings(
        np.stack([np.stack([lon[uu], lat[uu]], 1), np.stack([lon[vv], lat[vv]], 1)], 1)
    )
    edges = gpd.GeoDataFrame(
        {
            "length": np.concatenate([w, w]),
            "oneway": False,
            "reversed": np.repeat([False, True], u.shape[0]),
        },
        geometry=line,
        crs="EPSG:4326",
        index=pd.MultiIndex.from_arrays(
            [uu, vv, np.zeros(uu.shape[0], dtype=np.int64)], names=["u", "v", "key"]
        ),
    )
    t_gdfs = now() - t0
    t0 = now()
    G = ox.graph_from_gdfs(nodes, edges)
    del nodes, edges, line
    t_graph = now() - t0
    t0 = now()
    G = ox.project_graph(G)
    t_project = now() - t0
    t0 = now()
    fac_node = z["fac_node"]
    pts = gpd.GeoSeries(shapely.points(lon[fac_node], lat[fac_node]), crs="EPSG:4326")
    pts = pts.to_crs(G.graph["crs"])
    snapped = np.asarray(
        ox.distance.nearest_nodes(G, pts.x.to_numpy(), pts.y.to_numpy()), dtype=np.int64
    )
    t_snap = now() - t0
    q = _nx_queries(nx, G, z, cats, snapped, bool(p.get("check")))
    _save_nx_check(p, cats, q)
    members = category_members(z["fac_cat"])
    return {
        "import_s": t_import,
        "load_s": t_load,
        "build": {
            "GeoDataFrames": t_gdfs,
            "graph_from_gdfs": t_graph,
            "project_graph": t_project,
            "nearest_nodes (facilities)": t_snap,
        },
        "graph_nodes": G.number_of_nodes(),
        "graph_edges": G.number_of_edges(),
        "snapped_to_same_node": int((snapped == fac_node).sum()),
        "categories": [CATEGORIES[c] for c in cats],
        "nearest_s": q["nearest_s"],
        "counts_s": q["counts_s"],
        "fca_s": q["fca_s"],
        "facilities_run": int(sum(members[c].shape[0] for c in cats)),
        "nodes": n,
    }


# ------------------------------------------------------------------ Yimi's whole pipeline


def engine_pipeline(p: dict[str, Any]) -> dict[str, Any]:
    """analyse_access end to end on the dataset's GENERATED homes and facilities: WalkGraph,
    NetworkIndex, snapping, every rule of the shipped life-circle pack (nearest facility,
    counts within 300/500/1000 m and the rule's threshold, 2SFCA), coverage tables, the H3
    gap maps of every rule, and the GeoJSON of one of them."""
    from yimi.analysis.access.demand import DemandPoints
    from yimi.analysis.access.facilities import Facilities
    from yimi.analysis.access.network import NetworkIndex
    from yimi.analysis.access.pipeline import analyse_access
    from yimi.analysis.access.results import gap_geojson
    from yimi.analysis.access.rulepack import load_rule_pack
    from yimi.analysis.graph import WalkGraph

    t_import = now() - _T_START
    t0 = now()
    z = load_inputs(p["input"])
    n_areas = int(z["p_n_areas"])
    fac = Facilities.from_arrays(
        z["p_fac_lon"],
        z["p_fac_lat"],
        [str(c) for c in z["p_fac_category"]],
        name=[str(x) for x in z["p_fac_name"]],
        area_m2=z["p_fac_area"],
        supply={"seats": z["p_fac_seats"]},
        ids=[f"generated/{i}" for i in range(z["p_fac_lon"].shape[0])],
        generated=True,
    )
    homes = DemandPoints(
        lon=z["p_home_lon"],
        lat=z["p_home_lat"],
        weights=z["p_home_weights"],
        area_index=z["p_home_area"],
        area_ids=tuple(f"G{i + 1:02d}" for i in range(n_areas)),
        kind="generated",
        generated=True,
    )
    pack = load_rule_pack()
    t_load = now() - t0

    stages: dict[str, float] = {}
    last = now()
    t_begin = last

    def mark(name: str) -> None:
        nonlocal last
        t = now()
        stages[name] = stages.get(name, 0.0) + (t - last)
        last = t

    graph = WalkGraph.from_arrays(z["lon"], z["lat"], z["u"], z["v"], z["w"])
    mark("WalkGraph.from_arrays")
    index = NetworkIndex(graph)
    mark("NetworkIndex")

    def progress(step: str, done: int, total: int) -> None:
        mark(step.split(" ")[0])  # snap / bounded / nearest / 2SFCA / results

    res = analyse_access(graph, fac, homes, pack, index=index, progress=progress)
    geo = gap_geojson(res.gaps[pack.rules[0].id])
    mark("GeoJSON (one gap map)")
    total = now() - t_begin
    return {
        "import_s": t_import,
        "load_s": t_load,
        "total_s": total,
        "stages": stages,
        "rules": len(pack.rules),
        "distances_m": list(pack.distances_m),
        "homes": len(homes),
        "facilities": len(fac),
        "h3_cells": len(res.gaps[pack.rules[0].id]),
        "geojson_features": len(geo["features"]),
        "nodes": graph.n_nodes,
    }


def engine_prep(p: dict[str, Any]) -> dict[str, Any]:
    from data import prepare

    return prepare(p)


ENGINES = {
    "prep": engine_prep,
    "yimi": engine_yimi,
    "networkx": engine_networkx,
    "osmnx": engine_osmnx,
    "pipeline": engine_pipeline,
}

if __name__ == "__main__":
    worker_entry(ENGINES)
