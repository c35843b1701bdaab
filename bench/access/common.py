"""Shared by every process of bench/access: the task definition, timing and memory helpers.

Standard library and numpy only: the pandana worker imports this module from its own,
separate virtual environment (pandana is AGPL-licensed and benchmark-only, never a dependency).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# ------------------------------------------------------------------------ the task

# The ten facility categories of the comparison: the nine generated categories of
# yimi.analysis.access.synthetic, with schools split into primary and middle schools by name
# (the way the shipped rule pack splits them).
CATEGORIES: tuple[str, ...] = (
    "childcare",
    "kindergarten",
    "primary_school",
    "middle_school",
    "playground",
    "pocket_park",
    "park",
    "hospital",
    "library",
    "children_home",
)
# Life-circle distances: the facility counts are computed within each of them.
THRESHOLDS_M: tuple[float, ...] = (300.0, 500.0, 1000.0)
# 2SFCA catchment per category (the shipped rule pack's threshold of the matching rule).
CATCHMENT_M: dict[str, float] = {
    "childcare": 300.0,
    "kindergarten": 300.0,
    "primary_school": 500.0,
    "middle_school": 1000.0,
    "playground": 300.0,
    "pocket_park": 300.0,
    "park": 500.0,
    "hospital": 1000.0,
    "library": 1000.0,
    "children_home": 500.0,
}
# 2SFCA supply per category: seats, area (m²) or 1 per facility.
SUPPLY: dict[str, str] = {
    "childcare": "seats",
    "kindergarten": "seats",
    "primary_school": "seats",
    "middle_school": "seats",
    "playground": "area",
    "pocket_park": "area",
    "park": "area",
    "hospital": "count",
    "library": "count",
    "children_home": "count",
}
# pandana's nearest_pois only searches up to a distance given in advance.
PANDANA_NEAREST_MAX_M = 3000.0


# ------------------------------------------------------------------------ helpers


def log(msg: str) -> None:
    print(f"      {msg}", file=sys.stderr, flush=True)


def now() -> float:
    return time.perf_counter()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; return (seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (``ru_maxrss``: KiB on Linux)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024.0 if sys.platform != "darwin" else kib / 2**20


def load_inputs(path: str) -> dict[str, np.ndarray]:
    """Every array of the shared input file (one .npz written once per dataset)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def category_members(fac_cat: np.ndarray) -> list[np.ndarray]:
    """Indices of the comparison facilities of each category, in CATEGORIES order."""
    return [np.flatnonzero(fac_cat == c) for c in range(len(CATEGORIES))]


def worker_entry(engines: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
    """``python <worker file> ENGINE PARAMS.json RESULT.json``: run one engine once."""
    name, params_file, result_file = sys.argv[1:4]
    params = json.loads(Path(params_file).read_text())
    result = engines[name](params)
    result["peak_rss_mib"] = peak_rss_mib()
    Path(result_file).write_text(json.dumps(result))


def save_check(path: str | None, **arrays: np.ndarray) -> None:
    """Values at the check sample, for the agreement checks (first run of an engine only)."""
    if path:
        np.savez(path, **arrays)


def versions(names: Sequence[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = "not installed"
    return out


def machine() -> dict[str, Any]:
    mem_gib = None
    cpu = platform.processor() or ""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 2**20, 1)
                    break
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
    }
