"""The benchmark's sections. Each runs in a fresh Python process started by ``run.py``.

A worker gets its parameters as a dict, prints progress to stderr and returns a JSON-able dict.
Django workers get a fresh, empty data directory (so a fresh SQLite database) from ``run.py``
through ``YIMI_DATA_DIR``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from util import median_ratio, now, peak_rss_mib, rss_mib, stats_ms, timed

# OSM tags a networkx/OSMnx user would ask for to get roughly Yimi's child-friendly places.
OSMNX_POI_TAGS: dict[str, Any] = {
    "amenity": [
        "kindergarten",
        "childcare",
        "school",
        "library",
        "toy_library",
        "planetarium",
        "hospital",
        "clinic",
        "doctors",
        "community_centre",
        "social_facility",
    ],
    "tourism": ["museum"],
    "leisure": [
        "playground",
        "park",
        "garden",
        "sports_centre",
        "pitch",
        "stadium",
        "swimming_pool",
    ],
    "healthcare": True,
}

RADIUS_M = 1000.0
_ROOT = str(Path(__file__).resolve().parents[2]) + "/"


def log(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def _django_setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ---------------------------------------------------------------------------------- 1. import


def import_yimi(p: dict[str, Any]) -> dict[str, Any]:
    """``yimi import-osm``'s work (osm_import) into a fresh SQLite database, then a re-import."""
    _django_setup()
    from yimi.places.osm_import import osm_import

    t1, run = timed(lambda: osm_import(actor=None, path=p["osm"]))
    t2, run2 = timed(lambda: osm_import(actor=None, path=p["osm"]))
    c = run.counts
    return {
        "seconds": t1,
        "reimport_seconds": t2,
        "status": run.status,
        "reimport_status": run2.status,
        "places": c["places_created"],
        "network_nodes": c["network_nodes"],
        "network_edges": c["network_edges"],
        "basemap_features": c["basemap_changed"],
        "peak_rss_mib": peak_rss_mib(),
    }


def import_reader(p: dict[str, Any]) -> dict[str, Any]:
    """The pure reader: yimi.analysis.osm.read_osm (no Django, no database)."""
    from yimi.analysis.osm import read_osm

    t, ex = timed(lambda: read_osm(p["osm"]))
    return {
        "seconds": t,
        "places": len(ex.places),
        "network_nodes": ex.network.n_nodes,
        "network_edges": ex.network.n_edges,
        "basemap_features": len(ex.basemap),
        "peak_rss_mib": peak_rss_mib(),
    }


def import_osmnx(p: dict[str, Any]) -> dict[str, Any]:
    """OSMnx on the same file: the street graph (unsimplified) and the child-friendly POIs."""
    import osmnx as ox

    ox.settings.log_console = False
    ox.settings.use_cache = False
    tg, g = timed(lambda: ox.graph_from_xml(p["osm"], simplify=False))
    tf, f = timed(lambda: ox.features_from_xml(p["osm"], tags=OSMNX_POI_TAGS))
    return {
        "seconds": tg + tf,
        "graph_seconds": tg,
        "features_seconds": tf,
        "graph_nodes": g.number_of_nodes(),
        "graph_edges": g.number_of_edges(),
        "features": len(f),
        "peak_rss_mib": peak_rss_mib(),
        "osmnx": ox.__version__,
    }


# ------------------------------------------------------------------- 2 + 3. the sample network


def _sub_snap(s, mask):
    """The rows ``mask`` of a yimi.analysis.graph.Snap (a frozen dataclass of arrays)."""
    return type(s)(**{f.name: getattr(s, f.name)[mask] for f in dataclasses.fields(s)})


def _presnapped_nearby(graph, all_snap, lon, lat, mask, radius_m):
    """Yimi's WalkGraph with the places snapped once (what a per-network-version cache would do):
    the same computation as WalkGraph.nearby minus the per-query snapping of the candidates."""
    cand = np.flatnonzero(mask)
    src = graph.snap([lon], [lat], component="largest")
    d = graph.distance_matrix_snapped(src, _sub_snap(all_snap, cand), limit=radius_m)[0]
    ok = np.flatnonzero(d <= radius_m)
    idx, dist = cand[ok], d[ok]
    o = np.lexsort((idx, dist))
    return idx[o], dist[o]


def _bbox_mask(p_lon, p_lat, lon, lat, radius_m):
    """place_nearby's pre-filter (the same box), done on arrays instead of in SQL."""
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    return (
        (p_lon >= lon - dlon)
        & (p_lon <= lon + dlon)
        & (p_lat >= lat - dlat)
        & (p_lat <= lat + dlat)
    )


def _agreement(a_idx, a_d, b_idx, b_d) -> dict[str, float]:
    """How far two "within the radius" answers agree (sets and distances)."""
    sa, sb = set(a_idx.tolist()), set(b_idx.tolist())
    union = len(sa | sb)
    common = np.array(sorted(sa & sb), dtype=np.int64)
    out = {"jaccard": len(sa & sb) / union if union else 1.0, "n_a": len(sa), "n_b": len(sb)}
    if common.size:
        da = dict(zip(a_idx.tolist(), a_d.tolist(), strict=True))
        db = dict(zip(b_idx.tolist(), b_d.tolist(), strict=True))
        diff = np.array([abs(da[i] - db[i]) for i in common.tolist()])
        out["median_abs_diff_m"] = float(np.median(diff))
        out["p99_abs_diff_m"] = float(np.percentile(diff, 99))
    return out


def _offsets(graph, peer, lon, lat) -> dict[str, float]:
    """How far the query point is from where each engine snaps it (not timed)."""
    y = float(graph.snap([lon], [lat], component="largest").offset_m[0])
    n = float(peer.tree.query(peer.proj(lon, lat))[0])
    return {"lon": lon, "lat": lat, "yimi_query_offset_m": y, "nx_query_offset_m": n}


def _edge_snap_check(graph, g_nx, all_snap, q_lon, q_lat, n, yimi_fn) -> dict[str, Any]:
    """Independent check of Yimi's answers: networkx Dijkstra on the same graph, fed Yimi's
    EDGE snaps (a virtual start node on the query's edge; places by their edge ends). If the
    sets and distances match, every Yimi-vs-peer difference comes from node snapping alone."""
    same, max_diff = 0, 0.0
    n_nodes = graph.n_nodes
    for i in range(n):
        lo, la = float(q_lon[i]), float(q_lat[i])
        s = graph.snap([lo], [la], component="largest")
        q = "query"
        g_nx.add_edge(q, int(s.u[0]), weight=float(s.dist_from_u_m[0]))
        g_nx.add_edge(q, int(s.v[0]), weight=float(s.dist_from_v_m[0]))
        try:
            reach = nx.single_source_dijkstra_path_length(
                g_nx, q, cutoff=RADIUS_M - float(s.offset_m[0]), weight="weight"
            )
        finally:
            g_nx.remove_node(q)
        dist = np.full(n_nodes, np.inf)
        for node, dd in reach.items():
            if node != q:
                dist[node] = dd
        ps = all_snap
        tot = np.minimum(dist[ps.u] + ps.dist_from_u_m, dist[ps.v] + ps.dist_from_v_m)
        on_edge = ps.edge == s.edge[0]
        tot[on_edge] = np.minimum(
            tot[on_edge], np.abs(ps.dist_from_u_m[on_edge] - s.dist_from_u_m[0])
        )
        tot = tot + s.offset_m[0] + ps.offset_m
        ok = np.flatnonzero(tot <= RADIUS_M)
        ya, yd = yimi_fn(lo, la)
        if set(ok.tolist()) == set(ya.tolist()):
            same += 1
            if ya.size:
                max_diff = max(max_diff, float(np.max(np.abs(tot[ya] - yd))))
    return {"queries": n, "identical_sets": same, "max_abs_diff_m": max_diff}


def _summarise_agreement(rows: list[dict[str, float]], graph, peer) -> dict[str, Any]:
    if not rows:
        return {}
    worst = min(range(len(rows)), key=lambda i: rows[i]["jaccard"])
    w = rows[worst]
    node = int(peer.snap_nodes[peer.tree.query(peer.proj(w["lon"], w["lat"]))[1]])
    # how far the peer's snap node really is, walking (Yimi's edge snap of the query point)
    w["walk_to_peer_node_m"] = float(
        graph.distance_matrix(
            [w["lon"]], [w["lat"]], [graph.lon[node]], [graph.lat[node]], component="largest"
        )[0, 0]
    )
    out = {
        "queries": len(rows),
        "mean_jaccard": float(np.mean([r["jaccard"] for r in rows])),
        "min_jaccard": float(np.min([r["jaccard"] for r in rows])),
        "mean_results_yimi": float(np.mean([r["n_a"] for r in rows])),
        "mean_results_peer": float(np.mean([r["n_b"] for r in rows])),
        "share_jaccard_below_0.5": float(np.mean([r["jaccard"] < 0.5 for r in rows])),
        "worst": {"query": worst, **rows[worst]},
    }
    med = [r["median_abs_diff_m"] for r in rows if "median_abs_diff_m" in r]
    p99 = [r["p99_abs_diff_m"] for r in rows if "p99_abs_diff_m" in r]
    if med:
        out["median_abs_diff_m"] = float(np.median(med))
        out["p99_abs_diff_m"] = float(np.percentile(p99, 99))
    return out


def sample(p: dict[str, Any]) -> dict[str, Any]:
    """Nearby search and trip planning on the real sample network with generated places."""
    from gen import SAMPLE_BOX, places_in_box, points_in_box
    from peers import NxNearby, build_nx_graph

    out: dict[str, Any] = {"memory": {}}
    seed = p["seed"]
    t0 = now()
    _django_setup()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yimi.core.selectors import area_index
    from yimi.places.models import Category, Place
    from yimi.places.network import get_walk_graph
    from yimi.places.osm_import import osm_import
    from yimi.places.selectors import place_nearby
    from yimi.places.services import _locate

    log("importing the sample extract …")
    t_imp, _ = timed(lambda: osm_import(actor=None, path=p["osm"]))
    n = p["places"]
    log(f"generating and inserting {n:,} GENERATED places (bulk_create) …")
    rng = np.random.default_rng([seed, 1])
    cats = list(Category.values)
    lon, lat, cat = places_in_box(n, SAMPLE_BOX, rng, n_categories=len(cats))
    t_gen0 = now()
    idx = area_index()
    objs = []
    for i in range(n):
        pl = Place(
            name=f"生成地点 {i + 1:06d}",
            category=cats[int(cat[i])],
            lon=round(float(lon[i]), 7),
            lat=round(float(lat[i]), 7),
            source=Place.Source.STAFF,
            source_ref="generated (bench/places)",
        )
        _locate(pl, idx)  # h3_cell and area, exactly as the services do
        objs.append(pl)
    t_objs = now() - t_gen0
    t_bulk0 = now()
    Place.objects.bulk_create(objs, batch_size=2000)
    t_bulk = now() - t_bulk0
    objs.clear()
    rows = np.array(
        list(Place.objects.visible_to(None).order_by("id").values_list("id", "lon", "lat")),
        dtype=np.float64,
    )
    p_id, p_lon, p_lat = rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2]
    t_graph, graph = timed(get_walk_graph)
    out["setup"] = {
        "osm_import_seconds": t_imp,
        "generated_places": n,
        "places_in_db": int(p_id.size),
        "make_objects_seconds": t_objs,
        "bulk_create_seconds": t_bulk,
        "walkgraph_load_seconds": t_graph,
        "graph_nodes": graph.n_nodes,
        "graph_edges": graph.n_edges,
        "graph_components": graph.n_components,
        "largest_component_nodes": int(graph.component_sizes[0]),
        "total_seconds": now() - t0,
    }
    out["memory"]["after_setup_peak_mib"] = peak_rss_mib()

    # ---- peers and variants
    log("building the networkx peer (same nodes and edges) …")
    r0 = rss_mib()
    t_nx, g_nx = timed(
        lambda: build_nx_graph(graph.edge_u, graph.edge_v, graph.edge_length_m, graph.n_nodes)
    )
    comp0 = np.flatnonzero(graph.component_labels == 0)
    t_nxs, peer = timed(lambda: NxNearby(g_nx, graph.lon, graph.lat, comp0, p_lon, p_lat))
    out["peer_setup"] = {
        "nx_graph_build_seconds": t_nx,
        "snap_places_to_nodes_seconds": t_nxs,
        "rss_delta_mib": rss_mib() - r0,
    }
    r0 = rss_mib()
    t_ps, all_snap = timed(lambda: graph.snap(p_lon, p_lat, component="largest"))
    out["presnap_setup"] = {"snap_all_places_seconds": t_ps, "rss_delta_mib": rss_mib() - r0}

    qn = p["queries"]
    qk = min(p["db_queries"], qn)
    q_lon, q_lat = points_in_box(qn, SAMPLE_BOX, np.random.default_rng([seed, 2]))
    client = Client(HTTP_HOST="localhost")

    def http(i):
        r = client.get(
            "/api/v1/places/nearby", {"lon": q_lon[i], "lat": q_lat[i], "radius": RADIUS_M}
        )
        assert r.status_code == 200, r.content[:300]
        return r

    def selector(lo, la):
        return place_nearby(user=None, lon=lo, lat=la, radius_m=RADIUS_M)

    def yimi_mem(lo, la):
        c = np.flatnonzero(_bbox_mask(p_lon, p_lat, lo, la, RADIUS_M))
        k, d = graph.nearby(lo, la, p_lon[c], p_lat[c], radius_m=RADIUS_M, component="largest")
        return c[k], d

    def yimi_presnap(lo, la):
        mask = _bbox_mask(p_lon, p_lat, lo, la, RADIUS_M)
        return _presnapped_nearby(graph, all_snap, lo, la, mask, RADIUS_M)

    def networkx(lo, la):
        return peer.query(lo, la, RADIUS_M)

    # cold (first) calls: lazy projection / STRtree / component labels / caches are built here
    lo0, la0 = float(q_lon[0]), float(q_lat[0])
    cold = {}
    cold["place_nearby"], first = timed(lambda: selector(lo0, la0))
    assert first["distance"] == "walking", first["distance"]
    cold["http"], _ = timed(lambda: http(0))
    cold["yimi_mem"], _ = timed(lambda: yimi_mem(lo0, la0))
    cold["networkx"], _ = timed(lambda: networkx(lo0, la0))
    out["cold_first_call_seconds"] = cold
    with CaptureQueriesContext(connection) as ctx:
        selector(lo0, la0)
    n_sql_sel = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        resp = http(0)
    n_sql_http = len(ctx.captured_queries)
    reset_queries()
    out["sql_queries_per_call"] = {"place_nearby": n_sql_sel, "http": n_sql_http}
    out["http_response_bytes"] = len(resp.content)

    qu = min(p["uncached_queries"], qn)
    log(
        f"{qn} GENERATED query points (place_nearby, HTTP, networkx, WalkGraph with places "
        f"snapped once; WalkGraph.nearby on the first {qu}) …"
    )
    lat_ms: dict[str, list[float]] = {
        "place_nearby": [],
        "http": [],
        "yimi_mem": [],
        "yimi_presnap": [],
        "networkx": [],
    }
    cand_counts, agree, same_presnap, same_sel = [], [], 0, 0
    t_loop = now()
    for i in range(qn):
        lo, la = float(q_lon[i]), float(q_lat[i])
        cand_counts.append(int(_bbox_mask(p_lon, p_lat, lo, la, RADIUS_M).sum()))
        if i < qk:
            t, res = timed(lambda lo=lo, la=la: selector(lo, la))
            lat_ms["place_nearby"].append(t)
            t, _ = timed(lambda i=i: http(i))
            lat_ms["http"].append(t)
        t, (pa, pd) = timed(lambda lo=lo, la=la: yimi_presnap(lo, la))
        lat_ms["yimi_presnap"].append(t)
        t, (na, nd) = timed(lambda lo=lo, la=la: networkx(lo, la))
        lat_ms["networkx"].append(t)
        if i < qu:
            t, (ya, yd) = timed(lambda lo=lo, la=la: yimi_mem(lo, la))
            lat_ms["yimi_mem"].append(t)
            same_presnap += int(np.array_equal(ya, pa) and np.allclose(yd, pd))
        if i < qk:
            got = np.array([r["distance_m"] for r in res["results"]])
            same_sel += int(got.size == min(50, pd.size) and np.allclose(got, pd[: got.size]))
        agree.append({**_agreement(pa, pd, na, nd), **_offsets(graph, peer, lo, la)})
        if (i + 1) % 50 == 0:
            log(f"  {i + 1}/{qn} queries ({now() - t_loop:.0f} s)")
    n_check = min(p["check_queries"], qn)
    log(f"checking Yimi against networkx with Yimi's edge snaps on {n_check} queries …")
    out["nearby_edge_snap_check"] = _edge_snap_check(
        graph, g_nx, all_snap, q_lon, q_lat, n_check, yimi_presnap
    )
    out["profile_place_nearby"] = _profile(
        lambda: [selector(float(q_lon[i]), float(q_lat[i])) for i in range(min(5, qn))]
    )
    out["nearby"] = {
        "radius_m": RADIUS_M,
        "queries": qn,
        "db_queries": qk,
        "candidates_in_box": stats_counts(cand_counts),
        "latency": {k: stats_ms(v) for k, v in lat_ms.items()},
        "ratio_median_per_query": {
            "place_nearby/networkx": median_ratio(lat_ms["place_nearby"], lat_ms["networkx"]),
            "http/networkx": median_ratio(lat_ms["http"], lat_ms["networkx"]),
            "yimi_mem/networkx": median_ratio(lat_ms["yimi_mem"], lat_ms["networkx"]),
            "yimi_presnap/networkx": median_ratio(lat_ms["yimi_presnap"], lat_ms["networkx"]),
        },
        "uncached_queries": qu,
        "presnap_identical_to_nearby": f"{same_presnap}/{qu}",
        "place_nearby_matches_walkgraph": f"{same_sel}/{qk}",
        "agreement_yimi_vs_networkx": _summarise_agreement(agree, graph, peer),
        "samples_s": lat_ms,
    }
    out["memory"]["after_nearby_peak_mib"] = peak_rss_mib()

    out["trip"] = _trip(p, graph, p_id, p_lon, p_lat)
    out["memory"]["after_trip_peak_mib"] = peak_rss_mib()
    out["memory"]["peak_rss_mib"] = peak_rss_mib()
    return out


def _profile(fn, top: int = 8) -> dict[str, list[dict[str, Any]]]:
    """cProfile of ``fn`` (run after the timed loop, so it skews nothing): Yimi's own functions
    by cumulative time, and every function by self time."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    rows = []
    for (file, line, func), (_cc, ncalls, tt, ct, _callers) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        short = file.split("site-packages/")[-1].replace(_ROOT, "")
        rows.append(
            {"function": f"{short}:{line}({func})", "calls": ncalls, "cum_s": ct, "self_s": tt}
        )
    own = [r for r in rows if r["function"].startswith("yimi/")]
    return {
        "yimi_cumulative": sorted(own, key=lambda r: -r["cum_s"])[:top],
        "self_time": sorted(rows, key=lambda r: -r["self_s"])[:top],
    }


def stats_counts(values: list[int]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {
        "p50": float(np.percentile(a, 50)),
        "min": float(a.min()),
        "max": float(a.max()),
    }


def _trip(p, graph, p_id, p_lon, p_lat) -> dict[str, Any]:
    import networkx as nx

    from yimi.analysis.tour import brute_force_tour, shortest_tour
    from yimi.places.selectors import trip_plan, walking_path

    seed = p["seed"]
    rng = np.random.default_rng([seed, 3])
    sets = p["trip_sets"]
    log(f"trip planning: {sets} seeded sets of 12 stops (from the places above) …")
    res: dict[str, Any] = {"stop_sets": sets}
    t_plan, t_plan_start, t_dm, t_tour, t_path, lengths = [], [], [], [], [], []
    for _s in range(sets):
        pick = rng.choice(p_id.size, 12, replace=False)
        ids = p_id[pick].tolist()
        t, plan = timed(lambda ids=ids: trip_plan(user=None, place_ids=ids))
        assert plan["distance"] == "walking", plan["distance"]
        t_plan.append(t)
        lengths.append(plan["length_m"])
        start = (float(rng.uniform(116.3084, 116.3320)), float(rng.uniform(39.9905, 40.0123)))
        t, _ = timed(lambda ids=ids, start=start: trip_plan(user=None, place_ids=ids, start=start))
        t_plan_start.append(t)
        # the three parts of trip_plan, timed on their own (same inputs)
        lo, la = p_lon[pick], p_lat[pick]
        t, d = timed(
            lambda lo=lo, la=la: graph.distance_matrix(lo, la, lo, la, component="largest")
        )
        t_dm.append(t)
        t, tour = timed(lambda d=d: shortest_tour(d))
        t_tour.append(t)
        pts = [(float(lo[k]), float(la[k])) for k in tour.order]
        t, _ = timed(lambda pts=pts: walking_path(pts))
        t_path.append(t)
    res["trip_plan_12_stops"] = stats_ms(t_plan)
    res["trip_plan_12_stops_plus_start"] = stats_ms(t_plan_start)
    res["parts_12_stops"] = {
        "distance_matrix": stats_ms(t_dm),
        "shortest_tour": stats_ms(t_tour),
        "walking_path": stats_ms(t_path),
    }
    res["mean_trip_length_m"] = float(np.mean(lengths))

    # ---- the solver alone, on real walking-distance matrices of 13 points (12 stops + a start)
    log(f"solver alone: {sets} 13x13 walking-distance matrices …")
    mats = []
    for _s in range(sets):
        pick = rng.choice(p_id.size, 13, replace=False)
        d = graph.distance_matrix(
            p_lon[pick], p_lat[pick], p_lon[pick], p_lat[pick], component="largest"
        )
        mats.append(d)
    asym = max(float(np.max(np.abs(d - d.T))) for d in mats)
    solver: dict[str, list[float]] = {
        k: []
        for k in (
            "yimi_open",
            "yimi_closed",
            "yimi_from_start",
            "nx_christofides_open",
            "nx_christofides_closed",
            "nx_greedy_open",
            "nx_greedy_closed",
        )
    }
    excess: dict[str, list[float]] = {k: [] for k in solver if k.startswith("nx_")}

    def nx_len(d, tour):
        # a cycle comes back as [a, ..., a], a path as [a, ..., z]: sum the legs either way
        return float(sum(d[a, b] for a, b in zip(tour[:-1], tour[1:], strict=True)))

    for d in mats:
        sym = 0.5 * (d + d.T)
        g = nx.from_numpy_array(sym)
        t, opt_open = timed(lambda sym=sym: shortest_tour(sym))
        solver["yimi_open"].append(t)
        t, opt_closed = timed(lambda sym=sym: shortest_tour(sym, return_to_start=True))
        solver["yimi_closed"].append(t)
        t, _ = timed(lambda sym=sym: shortest_tour(sym, start=0))
        solver["yimi_from_start"].append(t)
        for name, method in (
            ("christofides", nx.approximation.christofides),
            ("greedy", nx.approximation.greedy_tsp),
        ):
            for cyc, opt in ((False, opt_open), (True, opt_closed)):
                key = f"nx_{name}_{'closed' if cyc else 'open'}"
                t, tour = timed(
                    lambda g=g, method=method, cyc=cyc: nx.approximation.traveling_salesman_problem(
                        g, cycle=cyc, method=method
                    )
                )
                solver[key].append(t)
                length = nx_len(sym, tour)
                assert len(set(tour)) == 13, tour
                excess[key].append(length / opt.length - 1.0)
    res["solver_13"] = {
        "matrices": len(mats),
        "max_asymmetry_m": asym,
        "latency": {k: stats_ms(v) for k, v in solver.items()},
        "excess_over_optimum": {
            k: {
                "mean_pct": 100 * float(np.mean(v)),
                "max_pct": 100 * float(np.max(v)),
                "optimal_share": float(np.mean(np.asarray(v) <= 1e-9)),
            }
            for k, v in excess.items()
        },
        "ratio_p50": {
            "yimi_open/nx_christofides_open": stats_ms(solver["yimi_open"])["p50_ms"]
            / stats_ms(solver["nx_christofides_open"])["p50_ms"],
            "yimi_closed/nx_christofides_closed": stats_ms(solver["yimi_closed"])["p50_ms"]
            / stats_ms(solver["nx_christofides_closed"])["p50_ms"],
        },
    }

    # ---- why exact DP: brute force over all orders for n = 9
    nb = p["brute_n"]
    log(f"brute force over all {math.factorial(nb):,} orders of {nb} points, {p['brute_runs']}x …")
    bf, hk = [], []
    for d in mats[: p["brute_runs"]]:
        sub = 0.5 * (d + d.T)[:nb, :nb]
        t, a = timed(lambda sub=sub: brute_force_tour(sub))
        bf.append(t)
        t, b = timed(lambda sub=sub: shortest_tour(sub))
        hk.append(t)
        assert abs(a.length - b.length) < 1e-6 * max(1.0, a.length), (a, b)
    per_order = float(np.median(bf)) / math.factorial(nb)
    res["brute_force"] = {
        "n": nb,
        "runs": len(bf),
        "brute_force": stats_ms(bf),
        "held_karp": stats_ms(hk),
        "ratio_p50_brute/held_karp": float(np.median(bf) / np.median(hk)),
        "same_length": True,
        "extrapolated_brute_force_13_hours": per_order * math.factorial(13) / 3600.0,
    }
    return res


# ------------------------------------------------------------- 2b. generated city-scale graph


def city(p: dict[str, Any]) -> dict[str, Any]:
    """WalkGraph.nearby vs networkx on a GENERATED 200,000-node grid with GENERATED places."""
    from gen import grid_city, places_in_box, points_in_box
    from peers import NxNearby, build_nx_graph

    from yimi.analysis.graph import WalkGraph

    out: dict[str, Any] = {"memory": {}}
    seed = p["seed"]
    rng = np.random.default_rng([seed, 10])
    log(f"generating a city-scale grid of ~{p['city_nodes']:,} nodes (GENERATED) …")
    t_gen, gc = timed(lambda: grid_city(p["city_nodes"], rng))
    r0 = rss_mib()
    t_wg, graph = timed(lambda: WalkGraph.from_arrays(gc.lon, gc.lat, gc.edge_u, gc.edge_v))
    t_lazy, _ = timed(lambda: graph._tree("largest"))  # projection + components + STRtree
    wg_mem = rss_mib() - r0
    n = p["places"]
    lon, lat, _ = places_in_box(n, gc.box, np.random.default_rng([seed, 11]), n_categories=15)
    log("building the networkx peer …")
    r0 = rss_mib()
    t_nx, g_nx = timed(
        lambda: build_nx_graph(graph.edge_u, graph.edge_v, graph.edge_length_m, graph.n_nodes)
    )
    comp0 = np.flatnonzero(graph.component_labels == 0)
    t_nxs, peer = timed(lambda: NxNearby(g_nx, graph.lon, graph.lat, comp0, lon, lat))
    nx_mem = rss_mib() - r0
    t_ps, all_snap = timed(lambda: graph.snap(lon, lat, component="largest"))
    out["setup"] = {
        "grid": f"{gc.nx} x {gc.ny}",
        "spacing_m": gc.spacing_m,
        "extent_km": [
            round((gc.box[2] - gc.box[0]) * 111.32 * math.cos(math.radians(gc.box[1])), 1),
            round((gc.box[3] - gc.box[1]) * 111.32, 1),
        ],
        "nodes": graph.n_nodes,
        "edges": graph.n_edges,
        "largest_component_nodes": int(graph.component_sizes[0]),
        "generated_places": n,
        "generate_seconds": t_gen,
        "walkgraph_from_arrays_seconds": t_wg,
        "walkgraph_lazy_build_seconds": t_lazy,
        "walkgraph_rss_delta_mib": wg_mem,
        "nx_graph_build_seconds": t_nx,
        "nx_snap_places_seconds": t_nxs,
        "nx_rss_delta_mib": nx_mem,
        "yimi_snap_all_places_seconds": t_ps,
    }
    qn = p["queries"]
    # query points away from the grid's rim, so every search sees a full 1 km disc
    x0, y0, x1, y1 = gc.box
    mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
    q_lon, q_lat = points_in_box(
        qn, (x0 + mx, y0 + my, x1 - mx, y1 - my), np.random.default_rng([seed, 12])
    )

    def yimi_mem(lo, la):
        c = np.flatnonzero(_bbox_mask(lon, lat, lo, la, RADIUS_M))
        k, d = graph.nearby(lo, la, lon[c], lat[c], radius_m=RADIUS_M, component="largest")
        return c[k], d

    cold = {
        "yimi_mem": timed(lambda: yimi_mem(q_lon[0], q_lat[0]))[0],
        "networkx": timed(lambda: peer.query(q_lon[0], q_lat[0], RADIUS_M))[0],
    }
    log(f"{qn} GENERATED query points …")
    lat_s: dict[str, list[float]] = {"yimi_mem": [], "yimi_presnap": [], "networkx": []}
    agree, same = [], 0
    for i in range(qn):
        lo, la = float(q_lon[i]), float(q_lat[i])
        t, (ya, yd) = timed(lambda lo=lo, la=la: yimi_mem(lo, la))
        lat_s["yimi_mem"].append(t)
        t, (pa, pd) = timed(
            lambda lo=lo, la=la: _presnapped_nearby(
                graph, all_snap, lo, la, _bbox_mask(lon, lat, lo, la, RADIUS_M), RADIUS_M
            )
        )
        lat_s["yimi_presnap"].append(t)
        t, (na, nd) = timed(lambda lo=lo, la=la: peer.query(lo, la, RADIUS_M))
        lat_s["networkx"].append(t)
        same += int(np.array_equal(ya, pa) and np.allclose(yd, pd))
        agree.append({**_agreement(ya, yd, na, nd), **_offsets(graph, peer, lo, la)})
    n_check = min(p["check_queries"], qn)
    log(f"checking Yimi against networkx with Yimi's edge snaps on {n_check} queries …")
    out["nearby_edge_snap_check"] = _edge_snap_check(
        graph,
        g_nx,
        all_snap,
        q_lon,
        q_lat,
        n_check,
        lambda lo, la: _presnapped_nearby(
            graph, all_snap, lo, la, _bbox_mask(lon, lat, lo, la, RADIUS_M), RADIUS_M
        ),
    )
    out["nearby"] = {
        "radius_m": RADIUS_M,
        "queries": qn,
        "cold_first_call_seconds": cold,
        "latency": {k: stats_ms(v) for k, v in lat_s.items()},
        "ratio_median_per_query": {
            "yimi_mem/networkx": median_ratio(lat_s["yimi_mem"], lat_s["networkx"]),
            "yimi_presnap/networkx": median_ratio(lat_s["yimi_presnap"], lat_s["networkx"]),
        },
        "presnap_identical_to_nearby": f"{same}/{qn}",
        "agreement_yimi_vs_networkx": _summarise_agreement(agree, graph, peer),
        "samples_s": lat_s,
    }
    out["memory"]["peak_rss_mib"] = peak_rss_mib()
    return out


WORKERS = {
    "import-yimi": import_yimi,
    "import-reader": import_reader,
    "import-osmnx": import_osmnx,
    "sample": sample,
    "city": city,
}
