#!/usr/bin/env python
"""bench/places: the child-friendly map against its peers, on the same input, in one run.

1. Import of the real sample extract (beijing-haidian-wudaokou.osm): Yimi's ``import-osm`` path
   (``osm_import`` into a fresh SQLite database) and its pure reader ``read_osm``, against
   OSMnx ``graph_from_xml(simplify=False)`` + ``features_from_xml``. One fresh process per engine
   and run; median of the runs.
2. "Near me" (walking distance, 1000 m) over GENERATED places on the real sample network:
   ``place_nearby``, ``GET /api/v1/places/nearby`` (Django test Client), ``WalkGraph.nearby`` in
   memory, and WalkGraph with the places snapped once, against networkx
   ``single_source_dijkstra_path_length(cutoff=1000)`` on the same nodes and edges.
   2b. The same on a GENERATED city-scale grid (~200,000 nodes, 100,000 GENERATED places).
3. Trip planning for 12 stops: ``trip_plan`` end to end; the Held–Karp solver alone on 13x13
   walking-distance matrices against networkx's approximate TSP; brute force for n = 9.

Prints a table and the ratios; writes everything to bench/results/places.json.
Nothing is downloaded: the sample extract must be on disk (``--osm`` or shared/data/osm).

    python bench/places/run.py            # the full run (~3-4 min on 2 cores)
    python bench/places/run.py --quick    # a smaller smoke run (~30 s)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

FULL = {
    "places": 100_000,
    "queries": 200,
    "db_queries": 200,
    "uncached_queries": 50,
    "city_nodes": 200_000,
    "city_queries": 1000,
    "city_places": 100_000,
    "import_runs": 5,
    "trip_sets": 20,
    "brute_n": 9,
    "brute_runs": 3,
    "check_queries": 20,
}
QUICK = {
    "places": 10_000,
    "queries": 40,
    "db_queries": 40,
    "uncached_queries": 10,
    "city_nodes": 20_000,
    "city_queries": 100,
    "city_places": 10_000,
    "import_runs": 3,
    "trip_sets": 5,
    "brute_n": 8,
    "brute_runs": 1,
    "check_queries": 5,
}
SECTIONS = ("import", "sample", "city")


# ------------------------------------------------------------------------------ worker side


def _worker_main(name: str, params_file: str, result_file: str) -> None:
    from workers import WORKERS

    params = json.loads(Path(params_file).read_text())
    result = WORKERS[name](params)
    Path(result_file).write_text(json.dumps(result, ensure_ascii=False))


# ------------------------------------------------------------------------ orchestrator side


def _spawn(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one worker in a fresh interpreter with a fresh, empty Yimi data directory."""
    tmp = Path(tempfile.mkdtemp(prefix=f"yimi-bench-{name}-"))
    try:
        env = os.environ.copy()
        env.pop("DATABASE_URL", None)  # always a fresh SQLite file in the temp dir
        env.update(
            YIMI_DATA_DIR=str(tmp / "data"),
            DJANGO_SETTINGS_MODULE="yimi.settings",
            YIMI_IGNORE_DOTENV="1",
            SECRET_KEY="bench-places-not-secret",
            LOG_LEVEL="ERROR",
        )
        (tmp / "params.json").write_text(json.dumps(params))
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            name,
            str(tmp / "params.json"),
            str(tmp / "result.json"),
        ]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"worker {name} failed with exit code {proc.returncode}")
        return json.loads((tmp / "result.json").read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _code_state() -> dict[str, Any]:
    """Which code was measured: the commit, whether yimi/ had local changes, file digests."""
    import hashlib

    def git(*a: str) -> str:
        try:
            return subprocess.run(
                ["git", *a], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    files = [
        "yimi/analysis/graph.py",
        "yimi/analysis/osm.py",
        "yimi/analysis/tour.py",
        "yimi/places/network.py",
        "yimi/places/osm_import.py",
        "yimi/places/selectors.py",
        "yimi/places/api.py",
    ]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "yimi_locally_modified": git("status", "--porcelain", "-uno", "--", "yimi").splitlines(),
        "sha256_12": {
            f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12]
            for f in files
            if (ROOT / f).exists()
        },
    }


def _find_osm(arg: str | None) -> Path:
    from yimi.sample_data import SAMPLE_OSM, sha256_of, shared_sample_dir

    if arg:
        path = Path(arg)
    else:
        d = shared_sample_dir()
        if d is None:
            raise SystemExit(
                "the sample extract is not on disk: pass --osm PATH or set YIMI_SAMPLE_DIR "
                "(this benchmark never downloads it)"
            )
        path = d / SAMPLE_OSM.name
    digest = sha256_of(path)
    if path.name == SAMPLE_OSM.name and digest != SAMPLE_OSM.sha256:
        raise SystemExit(f"{path}: sha256 {digest} is not the sample's {SAMPLE_OSM.sha256}")
    return path.resolve()


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _fmt_ms(x: float) -> str:
    return f"{x:,.1f}" if x >= 10 else f"{x:.2f}"


def _ratio(x: float) -> str:
    return f"{x:,.1f}x" if x >= 10 else f"{x:.2f}x"


def run_import(cfg: dict[str, Any], osm: Path) -> dict[str, Any]:
    engines = ("import-yimi", "import-reader", "import-osmnx")
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for r in range(cfg["import_runs"]):
        print(f"  import round {r + 1}/{cfg['import_runs']} …", file=sys.stderr, flush=True)
        for e in engines:  # interleaved, so drift on the machine hits every engine alike
            runs[e].append(_spawn(e, {"osm": str(osm)}))
    res: dict[str, Any] = {"file": str(osm), "size_bytes": osm.stat().st_size, "runs": runs}
    for e in engines:
        secs = [x["seconds"] for x in runs[e]]
        res[e] = {
            "median_s": _median(secs),
            "min_s": min(secs),
            "max_s": max(secs),
            "peak_rss_mib": max(x["peak_rss_mib"] for x in runs[e]),
        }
    y, ox = runs["import-yimi"], runs["import-osmnx"]
    res["import-yimi"]["reimport_median_s"] = _median([x["reimport_seconds"] for x in y])
    res["import-osmnx"]["graph_median_s"] = _median([x["graph_seconds"] for x in ox])
    res["import-osmnx"]["features_median_s"] = _median([x["features_seconds"] for x in ox])
    res["ratios"] = {
        "yimi_import/osmnx": res["import-yimi"]["median_s"] / res["import-osmnx"]["median_s"],
        "yimi_read_osm/osmnx": res["import-reader"]["median_s"] / res["import-osmnx"]["median_s"],
        "yimi_read_osm/osmnx_graph_only": res["import-reader"]["median_s"]
        / res["import-osmnx"]["graph_median_s"],
    }
    res["outputs"] = {
        "yimi": {
            k: y[0][k] for k in ("places", "network_nodes", "network_edges", "basemap_features")
        },
        "osmnx": {k: ox[0][k] for k in ("graph_nodes", "graph_edges", "features")},
    }
    return res


def print_import(res: dict[str, Any], n_runs: int) -> None:
    y, rd, ox = res["import-yimi"], res["import-reader"], res["import-osmnx"]
    o = res["outputs"]
    print(
        f"\n1. Import of the sample extract (REAL OSM data, {res['size_bytes']:,} bytes), "
        f"median of {n_runs} runs, fresh process each"
    )
    rows = [
        ("Yimi osm_import (= yimi import-osm) -> SQLite", y),
        ("Yimi read_osm (reader only, no database)", rd),
        ("OSMnx graph_from_xml + features_from_xml", ox),
    ]
    print(f"   {'engine':<48}{'median s':>10}{'min s':>9}{'max s':>9}{'peak RSS MiB':>14}")
    for label, r in rows:
        print(
            f"   {label:<48}{r['median_s']:>10.3f}{r['min_s']:>9.3f}{r['max_s']:>9.3f}"
            f"{r['peak_rss_mib']:>14.0f}"
        )
    print(
        f"   parts: OSMnx graph {ox['graph_median_s']:.3f} s + features "
        f"{ox['features_median_s']:.3f} s; Yimi re-import of the unchanged file "
        f"{y['reimport_median_s']:.3f} s"
    )
    print(
        f"   output: Yimi {o['yimi']['places']} places, {o['yimi']['network_nodes']:,} walk nodes, "
        f"{o['yimi']['network_edges']:,} walk edges, {o['yimi']['basemap_features']:,} basemap "
        f"features; OSMnx {o['osmnx']['graph_nodes']:,} nodes, {o['osmnx']['graph_edges']:,} "
        f"directed edges, {o['osmnx']['features']} POI features"
    )
    r = res["ratios"]
    print(
        f"   ratio Yimi import / OSMnx = {_ratio(r['yimi_import/osmnx'])}; "
        f"read_osm / OSMnx = {_ratio(r['yimi_read_osm/osmnx'])}; "
        f"read_osm / OSMnx graph only = {_ratio(r['yimi_read_osm/osmnx_graph_only'])}"
    )


def print_sample(res: dict[str, Any]) -> None:
    s, nb = res["setup"], res["nearby"]
    lat, rat = nb["latency"], nb["ratio_median_per_query"]
    print(
        f"\n2. Nearby search (walking, radius {nb['radius_m']:.0f} m) over "
        f"{s['generated_places']:,} GENERATED places (+{s['places_in_db'] - s['generated_places']}"
        f" from OSM) on the REAL sample network ({s['graph_nodes']:,} nodes, "
        f"{s['graph_edges']:,} edges), GENERATED query points"
    )
    print(
        f"   setup: bulk_create {s['bulk_create_seconds']:.1f} s, candidates in the 1 km box per "
        f"query p50 {nb['candidates_in_box']['p50']:,.0f} (max {nb['candidates_in_box']['max']:,.0f})"
    )
    rows = [
        ("Yimi place_nearby (SQLite + WalkGraph)", "place_nearby", "place_nearby/networkx"),
        ("Yimi GET /api/v1/places/nearby (test Client)", "http", "http/networkx"),
        ("Yimi WalkGraph, places snapped once", "yimi_presnap", "yimi_presnap/networkx"),
        ("Yimi WalkGraph.nearby (snaps places per query)", "yimi_mem", "yimi_mem/networkx"),
        ("networkx dijkstra(cutoff), node snap", "networkx", None),
    ]
    _latency_table(rows, lat, rat)
    sq = res["sql_queries_per_call"]
    ag = nb["agreement_yimi_vs_networkx"]
    print(
        f"   SQL queries per call: place_nearby {sq['place_nearby']}, HTTP {sq['http']}; "
        f"cold first call: place_nearby {res['cold_first_call_seconds']['place_nearby']:.2f} s"
    )
    _print_agreement(ag, nb, res.get("nearby_edge_snap_check"))
    prof = res.get("profile_place_nearby")
    if prof:
        print("   where place_nearby's time goes (cProfile of 5 calls, after the timed loop):")
        for r in prof["yimi_cumulative"][:6]:
            print(f"     {r['cum_s']:>7.3f} s cumulative  {r['function']}")
        for r in prof["self_time"][:4]:
            print(f"     {r['self_s']:>7.3f} s self        {r['function']}")


def _latency_table(rows, lat, rat) -> None:
    print(f"   {'engine':<48}{'queries':>8}{'p50 ms':>10}{'p99 ms':>10}{'Yimi/networkx':>15}")
    for label, key, rk in rows:
        L = lat[key]
        if not L.get("n"):
            continue
        ratio = _ratio(rat[rk]) if rk else "1x"
        print(
            f"   {label:<48}{L['n']:>8}{_fmt_ms(L['p50_ms']):>10}{_fmt_ms(L['p99_ms']):>10}"
            f"{ratio:>15}"
        )
    print("   (ratio: median over the same query points of Yimi's latency / networkx's)")


def _print_agreement(ag: dict[str, Any], nb: dict[str, Any], chk: dict[str, Any] | None) -> None:
    if chk:
        print(
            f"   check: networkx fed Yimi's edge snaps gives the same set on "
            f"{chk['identical_sets']}/{chk['queries']} queries (max |diff| "
            f"{chk['max_abs_diff_m']:.1e} m), so the differences below are node snapping"
        )
    if not ag:
        return
    print(
        f"   results within 1 km: Yimi {ag['mean_results_yimi']:,.0f}, networkx "
        f"{ag['mean_results_peer']:,.0f} per query on average; same-set Jaccard mean "
        f"{ag['mean_jaccard']:.3f} (min {ag['min_jaccard']:.3f}); |distance difference| "
        f"median {ag.get('median_abs_diff_m', float('nan')):.1f} m (edge vs node snapping)"
    )
    wq = ag["worst"]
    print(
        f"   {100 * ag['share_jaccard_below_0.5']:.1f}% of query points have Jaccard < 0.5; worst: "
        f"{wq['jaccard']:.2f} (Yimi {wq['n_a']:,} vs networkx {wq['n_b']:,} places) where the "
        f"nearest node is {wq['nx_query_offset_m']:.0f} m away in a straight line but "
        f"{wq['walk_to_peer_node_m']:,.0f} m on foot"
    )
    extra = (
        f"; place_nearby = WalkGraph.nearby: {nb['place_nearby_matches_walkgraph']}"
        if ("place_nearby_matches_walkgraph" in nb)
        else ""
    )
    print(f"   places-snapped-once = WalkGraph.nearby: {nb['presnap_identical_to_nearby']}{extra}")


def print_trip(res: dict[str, Any]) -> None:
    t = res["trip"]
    print(
        f"\n3. Trip planning, 12 stops, on the REAL sample network ({t['stop_sets']} seeded stop "
        f"sets of GENERATED places)"
    )
    a, b = t["trip_plan_12_stops"], t["trip_plan_12_stops_plus_start"]
    parts = t["parts_12_stops"]
    print(
        f"   trip_plan end to end: p50 {_fmt_ms(a['p50_ms'])} ms, p99 {_fmt_ms(a['p99_ms'])} ms; "
        f"with a start point (13 points): p50 {_fmt_ms(b['p50_ms'])} ms"
    )
    print(
        "   parts (p50): distance matrix "
        f"{_fmt_ms(parts['distance_matrix']['p50_ms'])} ms, Held-Karp "
        f"{_fmt_ms(parts['shortest_tour']['p50_ms'])} ms, walking path "
        f"{_fmt_ms(parts['walking_path']['p50_ms'])} ms"
    )
    s = t["solver_13"]
    print(
        f"   solver alone, {s['matrices']} 13x13 walking-distance matrices "
        f"(open path = trip_plan's case; closed = back to the first point):"
    )
    print(
        f"   {'solver':<48}{'p50 ms':>10}{'p99 ms':>10}{'excess mean':>13}{'max':>8}{'optimal':>9}"
    )
    labels = {
        "yimi_open": "Yimi shortest_tour, open (exact)",
        "yimi_closed": "Yimi shortest_tour, closed (exact)",
        "yimi_from_start": "Yimi shortest_tour, fixed start (exact)",
        "nx_christofides_open": "networkx TSP christofides, cycle=False",
        "nx_christofides_closed": "networkx TSP christofides, cycle=True",
        "nx_greedy_open": "networkx TSP greedy, cycle=False",
        "nx_greedy_closed": "networkx TSP greedy, cycle=True",
    }
    for k, label in labels.items():
        L = s["latency"][k]
        e = s["excess_over_optimum"].get(k)
        ex = (
            f"{e['mean_pct']:>12.1f}%{e['max_pct']:>7.1f}%{100 * e['optimal_share']:>8.0f}%"
            if e
            else f"{'0.0%':>13}{'0.0%':>8}{'100%':>9}"
        )
        print(f"   {label:<48}{_fmt_ms(L['p50_ms']):>10}{_fmt_ms(L['p99_ms']):>10}{ex}")
    r = s["ratio_p50"]
    print(
        f"   ratio p50 Yimi/networkx christofides: open {_ratio(r['yimi_open/nx_christofides_open'])}"
        f", closed {_ratio(r['yimi_closed/nx_christofides_closed'])}"
    )
    bf = t["brute_force"]
    print(
        f"   brute force over all orders, n={bf['n']}: p50 {bf['brute_force']['p50_ms']:,.0f} ms vs "
        f"Held-Karp {_fmt_ms(bf['held_karp']['p50_ms'])} ms "
        f"({_ratio(bf['ratio_p50_brute/held_karp'])}), same length; brute force at n=13 would "
        f"take ~{bf['extrapolated_brute_force_13_hours']:,.1f} h"
    )


def print_city(res: dict[str, Any]) -> None:
    s, nb = res["setup"], res["nearby"]
    print(
        f"\n2b. Nearby search (walking, radius {nb['radius_m']:.0f} m) on a GENERATED city-scale "
        f"grid ({s['nodes']:,} nodes, {s['edges']:,} edges, {s['extent_km'][0]} x "
        f"{s['extent_km'][1]} km) with {s['generated_places']:,} GENERATED places"
    )
    print(
        f"   setup: WalkGraph.from_arrays {s['walkgraph_from_arrays_seconds']:.2f} s + lazy "
        f"index {s['walkgraph_lazy_build_seconds']:.2f} s (+{s['walkgraph_rss_delta_mib']:.0f} MiB)"
        f"; nx.Graph {s['nx_graph_build_seconds']:.2f} s + node snap "
        f"{s['nx_snap_places_seconds']:.2f} s (+{s['nx_rss_delta_mib']:.0f} MiB)"
    )
    rows = [
        ("Yimi WalkGraph.nearby (snaps places per query)", "yimi_mem", "yimi_mem/networkx"),
        ("Yimi WalkGraph, places snapped once", "yimi_presnap", "yimi_presnap/networkx"),
        ("networkx dijkstra(cutoff), node snap", "networkx", None),
    ]
    _latency_table(rows, nb["latency"], nb["ratio_median_per_query"])
    _print_agreement(nb["agreement_yimi_vs_networkx"], nb, res.get("nearby_edge_snap_check"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller smoke run (~30 s)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"sections: {','.join(SECTIONS)}")
    ap.add_argument("--osm", help="the sample extract (default: shared/data/osm beside the repo)")
    ap.add_argument("--seed", type=int, default=20261129)
    for k in FULL:
        ap.add_argument(f"--{k.replace('_', '-')}", type=int, dest=k, help=f"(full: {FULL[k]})")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "places.json"))
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker_main(*args.worker)
        return 0

    cfg = dict(QUICK if args.quick else FULL)
    for k in FULL:
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    sections = [s for s in args.only.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections: {', '.join(sorted(unknown))}")
    osm = _find_osm(args.osm)

    from util import machine, versions

    started = dt.datetime.now(dt.UTC)
    t0 = dt.datetime.now().timestamp()
    result: dict[str, Any] = {
        "benchmark": "bench/places",
        "command": " ".join(["python", "bench/places/run.py", *(argv or sys.argv[1:])]),
        "started_utc": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "code": _code_state(),
        "versions": versions(
            ["yimi", "django", "numpy", "scipy", "shapely", "pyproj", "osmium", "networkx", "osmnx"]
        ),
        "config": {**cfg, "seed": args.seed, "quick": args.quick, "sections": sections},
        "data": {
            "osm": str(osm),
            "note": "places, query points and the city grid are GENERATED (seeded); the OSM "
            "extract is real (© OpenStreetMap contributors, ODbL 1.0)",
        },
    }
    m = result["machine"]
    print(
        f"bench/places  {started:%Y-%m-%d %H:%M} UTC  {m['cpus']} CPUs ({m['cpu_model']}), "
        f"{m['memory_gib']} GiB, Python {m['python']}  seed {args.seed}"
        f"{'  [--quick]' if args.quick else ''}"
    )
    result["loadavg_start"] = list(os.getloadavg())
    print(
        "load average at start (1/5/15 min): "
        + " / ".join(f"{x:.2f}" for x in result["loadavg_start"])
        + " (other work on the machine skews timings)"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        result["wall_seconds"] = dt.datetime.now().timestamp() - t0
        result["loadavg_end"] = list(os.getloadavg())
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1))

    if "import" in sections:
        result["import"] = run_import(cfg, osm)
        print_import(result["import"], cfg["import_runs"])
        save()
    if "sample" in sections:
        params = {"osm": str(osm), "seed": args.seed}
        params.update(
            {
                k: cfg[k]
                for k in (
                    "places",
                    "queries",
                    "db_queries",
                    "uncached_queries",
                    "trip_sets",
                    "check_queries",
                )
            }
        )
        params.update(brute_n=cfg["brute_n"], brute_runs=cfg["brute_runs"])
        result["sample"] = _spawn("sample", params)
        print_sample(result["sample"])
        print_trip(result["sample"])
        mem = result["sample"]["memory"]
        print(
            f"   peak RSS of the sample process: {mem['after_setup_peak_mib']:.0f} MiB after setup "
            f"(Place objects for bulk_create), {mem['after_nearby_peak_mib']:.0f} MiB after nearby, "
            f"{mem['peak_rss_mib']:.0f} MiB after trips"
        )
        save()
    if "city" in sections:
        params = {
            "seed": args.seed,
            "city_nodes": cfg["city_nodes"],
            "places": cfg["city_places"],
            "queries": cfg["city_queries"],
            "check_queries": cfg["check_queries"],
        }
        result["city"] = _spawn("city", params)
        print_city(result["city"])
        print(
            f"   peak RSS of the city process: {result['city']['memory']['peak_rss_mib']:.0f} MiB"
        )
        save()
    save()
    print(
        f"\nwall time {result['wall_seconds']:.0f} s; load average at the end "
        + " / ".join(f"{x:.2f}" for x in result["loadavg_end"])
        + f"; results in {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
