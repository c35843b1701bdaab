#!/usr/bin/env python
"""bench/care: the 台账 import, 政策找人 over the whole register, and the incremental re-check.

1. Import of a GENERATED 100,000-row ledger (.xlsx, 21 columns, fictitious children with
   check-digit-valid ID numbers) through ``ledger_import`` into a fresh SQLite database with a
   menu of 50 GENERATED policies: every row checked, keyed hashes, encryption, bulk write,
   timeline, guardians, audit, then ``rematch_all``. Target ≤ 60 s. Peer for the read stage:
   openpyxl's read-only mode (the generic reader) against the python-calamine reader.
2. Eligibility of 100,000 children × 50 policies: ``matching.rematch_all`` on an empty worklist
   (target ≤ 10 s), a re-run that changes nothing, the pure ``EligibilityIndex`` build, and as
   the peer the same rules evaluated record by record with the compiled closures.
3. One record changes, then ``matching.child_rematch`` (target ≤ 50 ms): p50/p99 over many
   children.

Each measurement runs in a fresh Python process with a fresh data directory; the median of the
runs is reported with the peak RSS. Wall and CPU seconds are both recorded (the reference
machine is shared). Writes bench/results/care.json.

    python bench/care/run.py            # the full run (~6 min on 2 cores)
    python bench/care/run.py --quick    # 10,000 rows, smoke run (~1 min)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
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
    "rows": 100_000,
    "policies": 50,
    "communities": 20,
    "import_runs": 3,
    "read_runs": 2,
    "rematch_runs": 5,
    "changes": 200,
}
QUICK = {
    "rows": 10_000,
    "policies": 50,
    "communities": 20,
    "import_runs": 1,
    "read_runs": 1,
    "rematch_runs": 1,
    "changes": 50,
}
TARGETS = {"import_s": 60.0, "rematch_s": 10.0, "incremental_ms": 50.0}


def _worker_main(name: str, params_file: str, result_file: str) -> None:
    from workers import WORKERS

    params = json.loads(Path(params_file).read_text())
    Path(result_file).write_text(json.dumps(WORKERS[name](params), ensure_ascii=False))


def _spawn(name: str, params: dict[str, Any], root: Path, db: Path | None = None) -> dict:
    """One worker in a fresh interpreter and data directory (``db``: a prepared database)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"care-{name}-", dir=root))
    try:
        data = tmp / "data"
        data.mkdir()
        if db is not None:
            shutil.copy(db, data / "yimi.sqlite3")
        env = os.environ.copy()
        env.pop("DATABASE_URL", None)
        env.update(
            YIMI_DATA_DIR=str(data),
            # One key directory for the whole run: later workers read what the import encrypted.
            YIMI_KEY_DIR=str(root / "keys"),
            DJANGO_SETTINGS_MODULE="yimi.settings",
            YIMI_IGNORE_DOTENV="1",
            SECRET_KEY="bench-care-not-secret",
            LOG_LEVEL="ERROR",
        )
        (tmp / "params.json").write_text(json.dumps(params))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
        cmd += [str(tmp / "params.json"), str(tmp / "result.json")]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"worker {name} failed with exit code {proc.returncode}")
        return json.loads((tmp / "result.json").read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _generate(cfg: dict[str, Any], root: Path) -> Path:
    """The GENERATED ledger, written once (in a process with Django set up for the labels)."""
    path = root / "ledger.xlsx"
    code = (
        "import sys, django; sys.path[:0] = [%r, %r]; django.setup();"  # noqa: UP031 (a -c program; % keeps its braces readable)
        "from gen import ledger_rows, ledger_xlsx;"
        "codes = ['110108900001', '110108900002'] + ['110108900%%03d' %% (101 + i) "
        "for i in range(%d)];"
        "open(%r, 'wb').write(ledger_xlsx(ledger_rows(%d, codes)))"
    ) % (str(HERE), str(ROOT), cfg["communities"] - 2, str(path), cfg["rows"])
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="yimi.settings",
        YIMI_DATA_DIR=str(root / "gen-data"),
        YIMI_KEY_DIR=str(root / "keys"),
        YIMI_IGNORE_DOTENV="1",
        SECRET_KEY="bench-care-not-secret",
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    return path


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def _machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "care.json"))
    args = parser.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    if args.rows:
        cfg["rows"] = args.rows
    root = Path(tempfile.mkdtemp(prefix="yimi-bench-care-"))
    res: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/care/run.py", *sys.argv[1:]]),
        "commit": _commit(),
        "machine": _machine(),
        "config": cfg,
        "targets": TARGETS,
    }
    try:
        print(f"generating a {cfg['rows']:,}-row ledger (GENERATED, fictitious) …", flush=True)
        ledger = _generate(cfg, root)
        res["ledger_bytes"] = ledger.stat().st_size
        db = root / "prepared.sqlite3"
        runs = []
        for i in range(cfg["import_runs"]):
            p = {**cfg, "file": str(ledger)}
            if i == 0:
                p["keep_db"] = str(db)
            runs.append(_spawn("import", p, root))
            print(f"  import run {i + 1}: {runs[-1]['seconds']:.1f} s", flush=True)
        res["import"] = {
            "runs": runs,
            "median_s": _median([r["seconds"] for r in runs]),
            "median_cpu_s": _median([r["cpu_seconds"] for r in runs]),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        }
        reads: dict[str, list[float]] = {"yimi": [], "openpyxl": []}
        for _i in range(cfg["read_runs"]):
            for engine in reads:
                r = _spawn("read", {"file": str(ledger), "engine": engine}, root)
                reads[engine].append(r["seconds"])
        res["read"] = {k: {"median_s": _median(v), "runs": v} for k, v in reads.items()}
        rem = []
        for i in range(cfg["rematch_runs"]):
            rem.append(_spawn("rematch", cfg, root, db=db))
            print(f"  rematch_all run {i + 1}: {rem[-1]['seconds']:.2f} s", flush=True)
        res["rematch"] = {
            "runs": rem,
            "median_s": _median([r["seconds"] for r in rem]),
            "median_cpu_s": _median([r["cpu_seconds"] for r in rem]),
            "median_unchanged_s": _median([r["unchanged_seconds"] for r in rem]),
            "median_index_s": _median([r["index_seconds"] for r in rem]),
            "median_loop_s": _median([r["loop_seconds"] for r in rem]),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rem),
        }
        res["incremental"] = _spawn("incremental", {"changes": cfg["changes"], "seed": 3}, root, db)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, ensure_ascii=False, indent=2))
    _print(res)


def _ok(x: float, target: float) -> str:
    return "meets target" if x <= target else "MISSES target"


def _print(res: dict[str, Any]) -> None:
    cfg, imp, rem, inc = res["config"], res["import"], res["rematch"], res["incremental"]
    r0 = imp["runs"][0]
    print()
    print(f"bench/care — {res['date']}, commit {res['commit']}, {res['machine']}")
    print(f"1. import of a GENERATED {cfg['rows']:,}-row ledger, {cfg['policies']} policies")
    print(
        f"   median {imp['median_s']:.1f} s wall ({imp['median_cpu_s']:.1f} s CPU) over "
        f"{len(imp['runs'])} runs, peak RSS {imp['peak_rss_mib']:.0f} MiB — "
        f"{_ok(imp['median_s'], TARGETS['import_s'])} (≤ {TARGETS['import_s']:.0f} s)"
    )
    print("   stages of run 1: " + ", ".join(f"{k} {v:.1f} s" for k, v in r0["stages"].items()))
    print(f"   children {r0['children']:,}, open worklist items {r0['worklist_open']:,}")
    ry, ro = res["read"]["yimi"]["median_s"], res["read"]["openpyxl"]["median_s"]
    print(
        f"   read stage: Yimi (python-calamine) {ry:.1f} s, openpyxl read-only {ro:.1f} s "
        f"(×{ro / ry:.1f})"
    )
    print(f"2. rematch_all, {rem['runs'][0]['children']:,} children × {rem['runs'][0]['policies']}")
    print(
        f"   median {rem['median_s']:.2f} s wall ({rem['median_cpu_s']:.2f} s CPU), "
        f"{rem['runs'][0]['added']:,} items — {_ok(rem['median_s'], TARGETS['rematch_s'])} "
        f"(≤ {TARGETS['rematch_s']:.0f} s); re-run unchanged {rem['median_unchanged_s']:.2f} s"
    )
    print(
        f"   EligibilityIndex build alone {rem['median_index_s']:.2f} s; peer (record-by-record "
        f"closures) {rem['median_loop_s']:.2f} s (×{rem['median_loop_s'] / rem['median_index_s']:.1f})"
    )
    print(
        f"3. child_rematch after one change: p50 {inc['p50_ms']:.1f} ms, p99 {inc['p99_ms']:.1f} ms "
        f"over {inc['n']} children — {_ok(inc['p50_ms'], TARGETS['incremental_ms'])} "
        f"(≤ {TARGETS['incremental_ms']:.0f} ms)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker_main(*sys.argv[2:5])
    else:
        main()
