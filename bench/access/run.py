#!/usr/bin/env python
"""bench/access: life-circle accessibility, Yimi against networkx, OSMnx and pandana.

One command; the same input file for every engine (written once per dataset); every engine run
in a fresh Python process; the median of the runs; each process's own peak memory.

Queries (one query = one facility category, answered for every node of the network), for the 10
categories of ``common.CATEGORIES``:

- nearest: walking distance from every node to the category's nearest facility;
- counts: the category's facilities within 300, 500 and 1000 m of every node;
- 2SFCA: two-step floating catchment access of every node (flat decay, the category's
  catchment of 300, 500 or 1000 m), with its own searches.

Datasets: a 200,000-node GENERATED grid (``grid200k``), the real sample extract's walking network
stitched 10 x 10 to about 212,000 nodes (``stitched``), a 1,000,000-node GENERATED grid
(``grid1m``); ``stitched1m`` (22 x 22 tiles) on request. On ``grid1m`` Yimi's whole pipeline
(``analyse_access``: graph, all rules, 3 life circles, 2SFCA, H3 gap maps) is timed too.

    python bench/access/run.py                 # the full run (~20 min on 2 cores)
    python bench/access/run.py --quick         # smoke run on 1/10-size networks (1.5-2.5 min)
    python bench/access/run.py --only stitched --runs 5
    python bench/access/run.py --setup-pandana # once: pandana in its own benchmark-only venv

pandana is AGPL-3.0: it is a benchmark peer only, installed into ``bench/results/pandana-venv``
(git-ignored), never into Yimi's environment and never a dependency. Without it the pandana rows
are skipped with the reason printed. Results go to ``bench/results/access.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402
from common import (  # noqa: E402
    CATCHMENT_M,
    CATEGORIES,
    PANDANA_NEAREST_MAX_M,
    THRESHOLDS_M,
    machine,
    versions,
)

RESULTS = ROOT / "bench" / "results"
PANDANA_VENV = RESULTS / "pandana-venv"
SEED = 20261129
TIE_M = 0.25  # as in workers.py

# networkx at 1,000,000 nodes: three categories (dense, medium, sparse), extrapolated to ten.
NX_1M_SUBSET = ["kindergarten", "park", "library"]
# OSMnx runs networkx on its own graph: one category is enough to time that, after its build.
OSMNX_SUBSET = ["kindergarten"]

ENGINE_LABEL = {
    "yimi": "Yimi (NetworkIndex nearest + counts, search_two_step_fca)",
    "networkx": "networkx (Graph; multi_source / single_source_dijkstra)",
    "osmnx": "OSMnx (graph_from_gdfs, project_graph, nearest_nodes, then networkx)",
    "pandana": "pandana (Network CH, precompute, nearest_pois, aggregate)",
    "pipeline": "Yimi whole pipeline (analyse_access)",
}


def datasets(quick: bool, runs: int) -> dict[str, dict[str, Any]]:
    """What runs on each dataset: engine -> (runs, category subset, reason) or a skip reason."""
    slow = max(1, min(3, runs))
    scale = 0.1 if quick else 1.0
    g200 = int(200_000 * scale)
    g1m = int(1_000_000 * scale)
    return {
        "grid200k": {
            "kind": "grid",
            "nodes": g200,
            "engines": {
                "yimi": {"runs": runs},
                "networkx": {"runs": runs},
                "osmnx": {
                    "runs": runs,
                    "categories": OSMNX_SUBSET,
                    "why": "OSMnx adds graph building, projection and snapping; its queries are "
                    "networkx's, timed for 1 category on its MultiDiGraph and extrapolated",
                },
                "pandana": {
                    "runs": 1,
                    "why": "1 run: pandana's contraction-hierarchy build is slow on a regular grid "
                    "(about 1 ms per node here: ~3.5 min at 200,000 nodes), so 5 runs would "
                    "exceed the run's time budget",
                },
            },
        },
        "stitched": {
            "kind": "stitched",
            "nodes": g200,
            "engines": {
                "yimi": {"runs": runs},
                "networkx": {"runs": runs},
                "osmnx": {
                    "runs": runs,
                    "categories": OSMNX_SUBSET,
                    "why": "as on grid200k",
                },
                "pandana": {"runs": runs},
            },
        },
        "grid1m": {
            "kind": "grid",
            "nodes": g1m,
            "engines": {
                "yimi": {"runs": runs},
                "networkx": {
                    "runs": slow,
                    "categories": NX_1M_SUBSET,
                    "why": f"{slow} runs, 3 of 10 categories ({', '.join(NX_1M_SUBSET)}), "
                    "extrapolated to 10: one run of all 10 would take ~100 s",
                },
                "pipeline": {"runs": runs},
                "osmnx": {
                    "skip": "skipped: OSMnx only adds graph building/projection/snapping to "
                    "networkx (measured on the 200k networks, ~20 s and ~2 GiB there, linear "
                    "in size); at 1M nodes it would take ~2 min and ~10 GiB per run"
                },
                "pandana": {
                    "skip": "skipped: pandana's contraction-hierarchy build takes about 1 ms per "
                    "grid node on this machine (3.5 min at 200,000 nodes when idle), so a "
                    "run at 1M would take ≥ 17 min; `--only stitched1m` runs pandana at 1M "
                    "nodes on real tiles"
                },
            },
        },
        "stitched1m": {
            "kind": "stitched",
            "nodes": g1m,
            "engines": {
                "yimi": {"runs": runs},
                "networkx": {
                    "runs": slow,
                    "categories": NX_1M_SUBSET,
                    "why": "as on grid1m",
                },
                "pandana": {"runs": slow, "why": f"{slow} runs (slowest peer at 1M)"},
                "pipeline": {"runs": runs},
            },
        },
    }


DEFAULT_ONLY = ("grid200k", "stitched", "grid1m")


# ------------------------------------------------------------------------------ processes


def _pandana_python(arg: str | None) -> tuple[str | None, str]:
    cands = [arg, os.environ.get("YIMI_BENCH_PANDANA_PYTHON"), str(PANDANA_VENV / "bin/python")]
    for c in cands:
        if c and Path(c).exists():
            ok = subprocess.run(
                [c, "-c", "import pandana, pandas"], capture_output=True, check=False
            )
            if ok.returncode == 0:
                return c, ""
    return None, (
        "pandana is not installed (it is AGPL, benchmark-only, kept out of Yimi's venv): run "
        "`python bench/access/run.py --setup-pandana` once"
    )


def setup_pandana() -> int:
    """Create bench/results/pandana-venv with pandana (an explicit step: it downloads)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not (PANDANA_VENV / "bin/python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PANDANA_VENV)], check=True)
    proc = subprocess.run(
        [str(PANDANA_VENV / "bin/python"), "-m", "pip", "install", "-q", "pandana"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if "error" in ln.lower()]
        print("pip install pandana failed:", (lines or proc.stderr.splitlines() or ["?"])[-1])
        return 1
    out = subprocess.run(
        [str(PANDANA_VENV / "bin/python"), "-c", "import pandana; print(pandana.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"pandana {out.stdout.strip()} installed in {PANDANA_VENV} (benchmark-only)")
    return 0


def spawn(
    engine: str, params: dict[str, Any], tmp: Path, python: str, timeout: float
) -> dict[str, Any]:
    """Run one engine once in a fresh interpreter; its stdout (pandana's progress) to a log."""
    tag = f"{engine}-{params.get('run', 0)}"
    pfile, rfile, lfile = tmp / f"{tag}.params.json", tmp / f"{tag}.json", tmp / f"{tag}.log"
    pfile.write_text(json.dumps(params))
    script = HERE / ("pandana_worker.py" if engine == "pandana" else "workers.py")
    env = os.environ.copy()
    env["PYTHONHASHSEED"] = "0"
    t0 = time.perf_counter()
    with open(lfile, "w") as log:
        try:
            proc = subprocess.run(
                [python, str(script), engine, str(pfile), str(rfile)],
                cwd=ROOT,
                env=env,
                stdout=log,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"did not finish within {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()[0]  # other work on the machine during (about) this run
    if proc.returncode != 0 or not rfile.exists():
        tail = lfile.read_text(errors="replace")[-2000:]
        return {"error": f"exit code {proc.returncode}", "log_tail": tail}
    res = json.loads(rfile.read_text())
    res["process_wall_s"] = wall
    res["load_avg_1min_after"] = load1
    return res


# ------------------------------------------------------------------------------ statistics


def _median(xs: list[float]) -> float:
    return float(np.median(np.asarray(xs, dtype=np.float64))) if xs else float("nan")


def summarise(runs: list[dict[str, Any]], n_fac: dict[str, int]) -> dict[str, Any]:
    """Medians over the runs; totals extrapolated to 10 categories for subset runs."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0].get("error", "failed") if runs else "not run"}
    cats = ok[0]["categories"]
    build_parts = {k: _median([r["build"][k] for r in ok]) for k in ok[0]["build"]}
    per_cat = {
        q: {c: _median([r[f"{q}_s"][i] for r in ok]) for i, c in enumerate(cats)}
        for q in ("nearest", "counts", "fca")
    }
    build = _median([sum(r["build"].values()) for r in ok])
    run_totals = [
        sum(r["build"].values()) + sum(sum(r[f"{q}_s"]) for q in ("nearest", "counts", "fca"))
        for r in ok
    ]
    full = len(cats) == len(CATEGORIES)
    fac_run = sum(n_fac[c] for c in cats)
    fac_all = sum(n_fac.values())
    if full:
        queries = {q: sum(per_cat[q].values()) for q in per_cat}
    else:  # nearest: per query; counts and 2SFCA: per facility (one search each)
        queries = {
            "nearest": sum(per_cat["nearest"].values()) * len(CATEGORIES) / len(cats),
            "counts": sum(per_cat["counts"].values()) * fac_all / max(fac_run, 1),
            "fca": sum(per_cat["fca"].values()) * fac_all / max(fac_run, 1),
        }
    return {
        "runs": len(ok),
        "failed_runs": len(runs) - len(ok),
        "categories": cats,
        "subset": not full,
        "build_s": build,
        "build_parts_s": build_parts,
        "per_category_s": per_cat,
        "queries_s": queries,
        "total_s": _median(run_totals) if full else build + sum(queries.values()),
        "total_runs_s": run_totals,
        "import_s": _median([r["import_s"] for r in ok]),
        "load_s": _median([r["load_s"] for r in ok]),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "peak_rss_runs_mib": [r["peak_rss_mib"] for r in ok],
        "process_wall_s": _median([r["process_wall_s"] for r in ok]),
        "load_avg_runs": [r.get("load_avg_1min_after") for r in ok],
        "extra": {
            k: v
            for k, v in ok[0].items()
            if k
            not in {
                "build",
                "nearest_s",
                "counts_s",
                "fca_s",
                "categories",
                "import_s",
                "load_s",
                "peak_rss_mib",
                "process_wall_s",
                "load_avg_1min_after",
            }
        },
    }


def summarise_pipeline(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0].get("error", "failed") if runs else "not run"}
    stages = {k: _median([r["stages"].get(k, 0.0) for r in ok]) for k in ok[0]["stages"]}
    return {
        "runs": len(ok),
        "total_s": _median([r["total_s"] for r in ok]),
        "total_runs_s": [r["total_s"] for r in ok],
        "stages_s": stages,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "peak_rss_runs_mib": [r["peak_rss_mib"] for r in ok],
        "import_s": _median([r["import_s"] for r in ok]),
        "load_s": _median([r["load_s"] for r in ok]),
        "load_avg_runs": [r.get("load_avg_1min_after") for r in ok],
        "extra": {
            k: ok[0][k]
            for k in ("rules", "distances_m", "homes", "facilities", "h3_cells", "geojson_features")
        },
    }


def agreement(ref: Path, other: Path, engine: str) -> dict[str, Any]:
    """Answers of ``engine`` against Yimi's at the check sample, on their common categories."""
    a, b = np.load(ref), np.load(other)
    cats = [int(c) for c in b["cats"]]
    ia = [list(a["cats"]).index(c) for c in cats]
    ya, yb = a["nearest"][ia], b["nearest"]
    out: dict[str, Any] = {"categories": [CATEGORIES[c] for c in cats]}
    if engine == "pandana":
        # pandana searches up to PANDANA_NEAREST_MAX_M only, and truncates edge weights.
        within = ya <= PANDANA_NEAREST_MAX_M - TIE_M
        beyond = ya > PANDANA_NEAREST_MAX_M + TIE_M
        both = within & np.isfinite(yb)
        out["nearest_pairs"] = int(ya.size)
        out["nearest_beyond_cap"] = int(beyond.sum())
        out["nearest_beyond_cap_pandana_inf"] = int((beyond & ~np.isfinite(yb)).sum())
        out["nearest_within_cap_missing"] = int((within & ~np.isfinite(yb)).sum())
        diff = np.abs(ya[both] - yb[both])
    else:
        fa, fb = np.isfinite(ya), np.isfinite(yb)
        out["nearest_pairs"] = int(ya.size)
        out["nearest_unreachable"] = int((~fa).sum())
        out["nearest_reachability_mismatch"] = int((fa != fb).sum())
        diff = np.abs(ya[fa & fb] - yb[fa & fb])
    out["nearest_max_abs_diff_m"] = float(diff.max()) if diff.size else 0.0
    both_fin = np.isfinite(ya) & np.isfinite(yb) & (ya <= PANDANA_NEAREST_MAX_M)
    out["nearest_mean_diff_m"] = (
        float(np.mean(yb[both_fin] - ya[both_fin])) if both_fin.any() else 0.0
    )
    ca, cb = a["counts"][ia], b["counts"]
    mism = ca != cb
    lo, hi = a["counts_lo"][ia], a["counts_hi"][ia]
    tie = mism & (cb >= lo) & (cb <= hi)
    out["counts_values"] = int(ca.size)
    out["counts_mismatch"] = int(mism.sum())
    out["counts_mismatch_boundary_ties"] = int(tie.sum())
    out["counts_mismatch_other"] = int((mism & ~tie).sum())
    out["counts_mismatch_by_threshold"] = {
        str(int(t)): int(mism[:, k].sum()) for k, t in enumerate(THRESHOLDS_M)
    }
    fa_, fb_ = a["fca"][ia], b["fca"]
    scale = np.maximum(np.abs(fa_), np.abs(fb_))
    rel = np.where(scale > 0, np.abs(fa_ - fb_) / np.where(scale > 0, scale, 1), 0.0)
    out["fca_values"] = int(fa_.size)
    out["fca_max_rel_diff"] = float(rel.max())
    out["fca_rel_diff_over_1e-9"] = int((rel > 1e-9).sum())
    out["fca_rel_diff_over_1e-3"] = int((rel > 1e-3).sum())
    out["fca_rel_diff_over_1e-3_explained"] = int(((rel > 1e-3) & a["fca_boundary"][ia]).sum())
    out["fca_median_rel_diff_where_differs"] = (
        float(np.median(rel[rel > 1e-9])) if (rel > 1e-9).any() else 0.0
    )
    return out


# ------------------------------------------------------------------------------ printing


def _s(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _ms(x: float) -> str:
    return _s(x * 1000.0)


def _ratio(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def _gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB"


def report(name: str, ds: dict[str, Any], res: dict[str, Any]) -> list[str]:
    info = res["data"]
    L = [
        f"### {name}: {info['nodes']:,} nodes, {info['edges']:,} edges",
        "",
        f"{info['description']}. Largest component {info['largest_component']:,} nodes "
        f"({info['components']:,} components, {info['isolated_nodes']:,} isolated nodes); "
        f"{info['dropped_parallel']:,} parallel edges and {info['dropped_self_loops']:,} self-loops "
        f"dropped for every engine. {info['facilities']:,} GENERATED facilities in 10 categories "
        f"(min {min(info['facilities_per_category'].values()):,}, max "
        f"{max(info['facilities_per_category'].values()):,} per category), snapped once to their "
        f"nearest node (median {info['facility_snap_m_median']:.0f} m, max "
        f"{info['facility_snap_m_max']:.0f} m) and given to every engine as node sources. "
        f"Input written in {res['prep_s']:.1f} s (not timed for any engine).",
        "",
    ]
    S = res["summary"]
    yimi = S.get("yimi", {})
    L += [
        "| engine | runs | build | nearest / query | counts / query | 2SFCA / query | "
        "build + 30 queries | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e, s in S.items():
        if e == "pipeline":
            continue
        if "skip" in s or "error" in s:
            L.append(f"| {ENGINE_LABEL[e]} | – | {s.get('skip') or s.get('error')} | | | | | |")
            continue
        k = len(s["categories"])
        per = {q: sum(s["per_category_s"][q].values()) / k for q in ("nearest", "counts", "fca")}
        sub = f" ({k} of 10 categories)" if s["subset"] else ""
        if s.get("reused_from"):
            sub += f" [from the run of {s['reused_from'][:16]} UTC, same inputs]"
        est = " (est.)" if s["subset"] else ""
        L.append(
            f"| {ENGINE_LABEL[e]}{sub} | {s['runs']} | {_s(s['build_s'])} s | "
            f"{_ms(per['nearest'])} ms | {_ms(per['counts'])} ms | {_ms(per['fca'])} ms | "
            f"{_s(s['total_s'])} s{est} | {_gib(s['peak_rss_mib'])} |"
        )
    L.append("")
    if "error" not in yimi and yimi:
        L += [
            "Ratios, engine time / Yimi time (> 1: Yimi is faster). Per query: on the same "
            "categories (the engine's own subset where it ran one); end to end: build + all 30 "
            "queries (extrapolated for subset runs).",
            "",
            "| engine | nearest | counts | 2SFCA | all queries | end to end (build + queries) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for e, s in S.items():
            if e in ("yimi", "pipeline") or "skip" in s or "error" in s:
                continue
            r = {}
            for q in ("nearest", "counts", "fca"):
                mine = sum(s["per_category_s"][q].values())
                ref = sum(yimi["per_category_s"][q][c] for c in s["categories"])
                r[q] = mine / ref
            allq = sum(
                sum(s["per_category_s"][q].values()) for q in ("nearest", "counts", "fca")
            ) / sum(
                sum(yimi["per_category_s"][q][c] for c in s["categories"])
                for q in ("nearest", "counts", "fca")
            )
            L.append(
                f"| {e} | {_ratio(r['nearest'])} | {_ratio(r['counts'])} | {_ratio(r['fca'])} "
                f"| {_ratio(allq)} | {_ratio(s['total_s'] / yimi['total_s'])} |"
            )
        L.append("")
    L.append("Build (median, seconds):")
    L.append("")
    for e, s in S.items():
        if e == "pipeline" or "build_parts_s" not in s:
            continue
        parts = ", ".join(f"{k} {v:.2f}" for k, v in s["build_parts_s"].items())
        L.append(
            f"- {e}: {parts}; imports {s['import_s']:.2f}, reading the input {s['load_s']:.2f}"
            " (neither timed)"
        )
    loads = [x for s in S.values() for x in s.get("load_avg_runs", []) if x is not None]
    if loads:
        L.append(
            f"- machine load (1-min load average after each run, 2 cores): median "
            f"{_median(loads):.1f}, max {max(loads):.1f}"
        )
    L.append("")
    why = [f"- {e}: {c['why']}" for e, c in ds["engines"].items() if c.get("why") and e in S]
    if why:
        L += ["Runs and subsets:", "", *why, ""]
    if res.get("agreement"):
        L += [
            "Agreement with Yimi at the check sample "
            f"({info['check_sample']:,} nodes × categories):",
            "",
        ]
        for e, a in res["agreement"].items():
            src = f" (from the run of {a['reused_from'][:16]} UTC)" if a.get("reused_from") else ""
            L.append(f"- {e}{src}: {_agreement_line(e, a)}")
        L.append("")
    extra = []
    y = S.get("yimi", {}).get("extra", {})
    if y:
        extra.append(
            f"Yimi's `NetworkIndex.snap_to_nodes` put {y['facilities_snapped_at_their_node']:,} "
            f"of {y['facilities']:,} facilities exactly at their node"
            + (
                f"; snapping them to the nearest edge instead (`graph.snap`, not counted) took "
                f"{y['edge_snap_s_not_counted']:.2f} s (first run)."
                if "edge_snap_s_not_counted" in y
                else "."
            )
        )
    o = S.get("osmnx", {}).get("extra", {})
    if o:
        extra.append(
            f"OSMnx's graph: {o['graph_nodes']:,} nodes, {o['graph_edges']:,} directed edges; "
            f"`nearest_nodes` put {o['snapped_to_same_node']:,} facilities on the same node."
        )
    pd_ = S.get("pandana", {}).get("extra", {})
    if pd_:
        extra.append(
            f"pandana {pd_.get('pandana')} (numpy {pd_.get('numpy')}, pandas {pd_.get('pandas')}) "
            f"mapped {pd_['facilities_mapped_to_their_node']:,} of {pd_['facilities_run']:,} "
            "facilities to their node."
        )
        cap = pd_.get("nearest_per_query_s_with_1000m_cap")
        if cap is not None:
            extra.append(
                f"pandana's nearest with a 1000 m search cap instead of "
                f"{PANDANA_NEAREST_MAX_M:.0f} m: {cap * 1000:,.0f} ms per query (first run, "
                "not in the totals)."
            )
    if extra:
        L += [" ".join(extra), ""]
    P = S.get("pipeline")
    if P and "error" not in P and "skip" not in P:
        ex = P["extra"]
        L += [
            f"Yimi's whole pipeline (`analyse_access`, {ex['rules']} rules of the shipped "
            f"life-circle pack, life circles {', '.join(str(int(d)) for d in ex['distances_m'])} m, "
            f"2SFCA, H3 gap maps of every rule at res 9 ({ex['h3_cells']:,} cells each), "
            f"coverage tables, GeoJSON of one map) on {ex['homes']:,} GENERATED homes and "
            f"{ex['facilities']:,} GENERATED facilities, {P['runs']} runs: median "
            f"**{P['total_s']:.1f} s**, runs {', '.join(f'{x:.1f}' for x in P['total_runs_s'])} s; "
            f"peak RSS **{_gib(P['peak_rss_mib'])}**.",
            "",
            "| stage | median |",
            "| --- | ---: |",
            *[f"| {k} | {v:.2f} s |" for k, v in P["stages_s"].items()],
            "",
        ]
    return L


def _agreement_line(e: str, a: dict[str, Any]) -> str:
    cats = len(a["categories"])
    if e == "pandana":
        near = (
            f"nearest: max |diff| {a['nearest_max_abs_diff_m']:.3f} m (mean {a['nearest_mean_diff_m']:+.3f} m; "
            f"pandana keeps weights at reduced precision), {a['nearest_beyond_cap']:,} of {a['nearest_pairs']:,} "
            f"beyond its {PANDANA_NEAREST_MAX_M:.0f} m search cap ({a['nearest_beyond_cap_pandana_inf']:,} "
            f"reported as none), {a['nearest_within_cap_missing']:,} missing within the cap"
        )
    else:
        near = (
            f"nearest: max |diff| {a['nearest_max_abs_diff_m']:.1e} m, "
            f"{a['nearest_reachability_mismatch']:,} reachability mismatches "
            f"({a['nearest_unreachable']:,} unreachable in Yimi)"
        )
    return (
        f"{cats} categories; {near}; counts: {a['counts_mismatch']:,} of {a['counts_values']:,} "
        f"differ ({a['counts_mismatch_boundary_ties']:,} are facilities within ±{TIE_M} m of a "
        f"threshold, {a['counts_mismatch_other']:,} other); 2SFCA: max relative diff "
        f"{a['fca_max_rel_diff']:.1e}, {a['fca_rel_diff_over_1e-9']:,} of {a['fca_values']:,} "
        f"differ by > 1e-9 ({a['fca_rel_diff_over_1e-3']:,} by > 1e-3, of which "
        f"{a['fca_rel_diff_over_1e-3_explained']:,} are explained by distances within "
        f"±{TIE_M} m of a catchment's edge)"
    )


def targets(results: dict[str, Any]) -> list[str]:
    L = ["### Targets", ""]
    for name, res in results.items():
        S = res["summary"]
        y = S.get("yimi")
        if not y or "error" in y:
            continue
        for e in ("networkx", "pandana"):
            s = S.get(e)
            if not s or "skip" in s or "error" in s:
                continue
            per = []
            for q in ("nearest", "counts", "fca"):
                mine = sum(s["per_category_s"][q].values())
                ref = sum(y["per_category_s"][q][c] for c in s["categories"])
                per.append((q, mine / ref))
            if e == "networkx":
                ok = all(r >= 10 for _, r in per)
                L.append(
                    f"- {name}: ≥ 10× faster than networkx per query: "
                    f"{'MET' if ok else 'NOT MET'} ("
                    + ", ".join(f"{q} {_ratio(r)}" for q, r in per)
                    + ")"
                )
            else:
                r = s["total_s"] / y["total_s"]
                L.append(
                    f"- {name}: ≥ 20× faster than pandana end to end: "
                    f"{'MET' if r >= 20 else 'NOT MET'} ({_ratio(r)}: pandana "
                    f"{s['total_s']:.1f} s, Yimi {y['total_s']:.2f} s)"
                )
        P = S.get("pipeline")
        if P and "error" not in P and "skip" not in P:
            ok = P["total_s"] <= 60 and P["peak_rss_mib"] <= 4096
            L.append(
                f"- {name}: whole pipeline within 60 s and 4 GiB: {'MET' if ok else 'NOT MET'} "
                f"({P['total_s']:.1f} s, {_gib(P['peak_rss_mib'])}; "
                f"{res['data']['nodes']:,} nodes)"
            )
    return L + [""]


# ------------------------------------------------------------------------------ main


def _code_state() -> dict[str, Any]:
    def git(*a: str) -> str:
        try:
            return subprocess.run(
                ["git", *a], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    files = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "yimi/analysis/access").glob("*.py")
    ) + ["yimi/analysis/graph.py"]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "yimi_locally_modified": git("status", "--porcelain", "-uno", "--", "yimi").splitlines(),
        "sha256_12": {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12] for f in files},
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small networks (1/10), 3 runs")
    ap.add_argument("--only", default=None, help=f"datasets, default {','.join(DEFAULT_ONLY)}")
    ap.add_argument("--engines", default=None, help="only these engines (comma-separated)")
    ap.add_argument("--runs", type=int, default=None, help="runs per engine (default 5; quick 3)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--osm", default=None, help="the sample extract (default: shared/data/osm)")
    ap.add_argument("--pandana-python", default=None, help="interpreter that has pandana")
    ap.add_argument("--timeout", type=float, default=900.0, help="per engine run, seconds")
    ap.add_argument("--setup-pandana", action="store_true", help="install pandana, then exit")
    ap.add_argument("--out", default=str(RESULTS / "access.json"))
    ap.add_argument(
        "--reuse",
        default=None,
        help="ENGINE[,ENGINE]=RESULTS.json: take these peers' figures from an earlier run on the "
        "same inputs (same seed and sizes) instead of running them; labelled as such",
    )
    args = ap.parse_args(argv)
    if args.setup_pandana:
        return setup_pandana()
    t_all = time.perf_counter()
    runs = args.runs or (3 if args.quick else 5)
    plan = datasets(args.quick, runs)
    only = args.only.split(",") if args.only else list(DEFAULT_ONLY)
    for o in only:
        if o not in plan:
            raise SystemExit(f"unknown dataset {o!r}; choose from {', '.join(plan)}")
    keep = set(args.engines.split(",")) if args.engines else None
    reuse_engines: set[str] = set()
    reuse_file: dict[str, Any] = {}
    if args.reuse:
        names, _, path = args.reuse.partition("=")
        reuse_engines = set(names.split(","))
        reuse_file = json.loads(Path(path).read_text())
        if reuse_file.get("seed") != args.seed or reuse_file.get("quick") != args.quick:
            raise SystemExit(f"{path}: another seed or size; its figures cannot be reused")
        if keep is not None:
            keep -= reuse_engines
    pd_python, pd_why = _pandana_python(args.pandana_python)
    osm = _find_osm(args.osm) if any(plan[o]["kind"] == "stitched" for o in only) else None
    started = dt.datetime.now(dt.UTC)
    print(
        f"bench/access — {started:%Y-%m-%d %H:%M} UTC, {'quick' if args.quick else 'full'} run, "
        f"datasets {', '.join(only)}, runs {runs}, seed {args.seed}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="yimi-bench-access-"))
    results: dict[str, Any] = {}
    try:
        for name in only:
            ds = plan[name]
            engines = {
                e: c
                for e, c in ds["engines"].items()
                if (keep is None or e in keep or e == "yimi") and e not in reuse_engines
            }
            if "pandana" in engines and "skip" not in engines["pandana"] and pd_python is None:
                engines["pandana"] = {"skip": pd_why}
            print(f"\n== {name} ==", file=sys.stderr, flush=True)
            inp = tmp / f"{name}.npz"
            t0 = time.perf_counter()
            info = spawn(
                "prep",
                {
                    "kind": ds["kind"],
                    "nodes": ds["nodes"],
                    "seed": args.seed,
                    "osm": str(osm) if osm else None,
                    "out": str(inp),
                },
                tmp,
                sys.executable,
                args.timeout,
            )
            if "error" in info:
                raise SystemExit(f"preparing {name} failed: {info}")
            prep_s = time.perf_counter() - t0
            n_fac = info["facilities_per_category"]
            raw: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
            checks: dict[str, Path] = {}
            n_rounds = max(
                (c.get("runs", 0) for c in engines.values() if "skip" not in c), default=0
            )
            for r in range(n_rounds):
                for e, c in engines.items():
                    if "skip" in c or r >= c["runs"]:
                        continue
                    params = {"input": str(inp), "run": r, "categories": c.get("categories")}
                    if r == 0 and e != "pipeline":
                        checks[e] = tmp / f"{name}-{e}-check.npz"
                        params["check"] = str(checks[e])
                    py = pd_python if e == "pandana" else sys.executable
                    res = spawn(e, params, tmp, py, args.timeout)
                    raw[e].append(res)
                    if "error" in res:
                        print(f"    {e} run {r + 1}: {res['error']}", file=sys.stderr, flush=True)
                        if res.get("log_tail"):
                            print(res["log_tail"], file=sys.stderr)
                    else:
                        tot = res.get("total_s") or sum(res["build"].values()) + sum(
                            sum(res[f"{q}_s"]) for q in ("nearest", "counts", "fca")
                        )
                        print(
                            f"    {e} run {r + 1}/{c['runs']}: {tot:.2f} s timed, "
                            f"{res['process_wall_s']:.1f} s process, "
                            f"{res['peak_rss_mib']:.0f} MiB, load {res['load_avg_1min_after']:.1f}",
                            file=sys.stderr,
                            flush=True,
                        )
            summary: dict[str, Any] = {}
            for e, c in engines.items():
                if "skip" in c:
                    summary[e] = {"skip": c["skip"]}
                elif e == "pipeline":
                    summary[e] = summarise_pipeline(raw[e])
                else:
                    summary[e] = summarise(raw[e], n_fac)
            agree = {}
            if "yimi" in checks and checks["yimi"].exists():
                for e, path in checks.items():
                    if e != "yimi" and path.exists():
                        agree[e] = agreement(checks["yimi"], path, e)
            old = reuse_file.get("results", {}).get(name)
            for e in sorted(reuse_engines):
                if not old or e not in old["summary"]:
                    continue
                same = all(old["data"][k] == info[k] for k in ("nodes", "edges", "facilities"))
                if not same:
                    raise SystemExit(f"{name}: the reused run had other inputs")
                summary[e] = {**old["summary"][e], "reused_from": reuse_file["started_utc"]}
                if e in old.get("agreement", {}):
                    agree[e] = {**old["agreement"][e], "reused_from": reuse_file["started_utc"]}
            results[name] = {
                "data": info,
                "prep_s": prep_s,
                "summary": summary,
                "agreement": agree,
                "raw": raw,
            }
            print("\n".join(report(name, ds, results[name])), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    wall = time.perf_counter() - t_all
    vers = versions(
        ["numpy", "scipy", "shapely", "pyproj", "h3", "networkx", "osmnx", "geopandas", "pandas"]
    )
    print("\n".join(targets(results)))
    print(
        f"Wall time {wall:.0f} s. Machine: {machine()}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in vers.items()),
        flush=True,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "started_utc": started.isoformat(),
                "command": " ".join([Path(sys.executable).name, *sys.argv]),
                "quick": args.quick,
                "runs": runs,
                "seed": args.seed,
                "wall_s": wall,
                "machine": machine(),
                "versions": vers,
                "code": _code_state(),
                "task": {
                    "categories": CATEGORIES,
                    "thresholds_m": THRESHOLDS_M,
                    "catchment_m": CATCHMENT_M,
                    "pandana_nearest_cap_m": PANDANA_NEAREST_MAX_M,
                },
                "results": results,
            },
            ensure_ascii=False,
            indent=1,
            default=float,
        )
    )
    print(f"Results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
