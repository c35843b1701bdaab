"""An analysis result as stored with its run: JSON tables (summary, coverage by area, gap cells)
and an .npz of per-home arrays, and reading them back.

Tables are compact lists so that a city's run stays a few megabytes; NaN and infinity become
null in JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import h3
import numpy as np
from django.conf import settings

from yimi.analysis.access import (
    AccessResult,
    DemandPoints,
    Facilities,
    GapCell,
    RulePack,
    coverage_table,
    h3_cells,
)

from .inputs import AreaTable, Demand

GAP_COLUMNS = (
    "cell",
    "lon",
    "lat",
    "points",
    "children",
    "not_covered",
    "unreachable",
    "mean_m",
    "max_m",
    "area",
)


def num(value: Any, digits: int = 3) -> float | None:
    """A finite float rounded for storage, or None (NaN, infinity)."""
    if value is None:
        return None
    v = float(value)
    return round(v, digits) if math.isfinite(v) else None


def result_name(run_id: int) -> str:
    """Where a run's arrays are kept, relative to ``MEDIA_ROOT`` (the data folder may move)."""
    return f"access/run-{run_id}.npz"


def result_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


# ---------------------------------------------------------------------- coverage by area


def coverage_rows(
    demand: Demand,
    nearest: Mapping[str, np.ndarray],
    pack: RulePack,
    areas: AreaTable,
    scope_path: str | None,
) -> list[dict[str, Any]]:
    """Coverage of every rule and distance, city-wide (area None, level 0) and per area at every
    level (区, 街道, 社区 …) that holds homes, inside the run's scope."""
    points = demand.points
    n = len(points)
    order = {r.id: i for i, r in enumerate(pack.rules)}
    rows: list[dict[str, Any]] = []
    whole = replace(points, area_index=np.full(n, -1, dtype=np.int64), area_ids=())
    for r in coverage_table(whole, nearest, pack):
        rows.append(_row(r, None, "", 0))
    chains = {c: areas.chain(c) for c in set(demand.area_codes) if c}
    # The city-wide row stands for the city (and for homes in no area).
    levels = sorted({a.level for chain in chains.values() for a in chain if a.parent_id})
    for level in levels:
        ids: dict[str, int] = {}
        index = np.full(n, -1, dtype=np.int64)
        for i, code in enumerate(demand.area_codes):
            a = next((x for x in chains.get(code or "", []) if x.level == level), None)
            if a is None or (scope_path and not a.path.startswith(scope_path)):
                continue
            index[i] = ids.setdefault(a.code, len(ids))
        if not ids:
            continue
        relabelled = replace(points, area_index=index, area_ids=tuple(ids))
        for r in coverage_table(relabelled, nearest, pack):
            if r.area_id is not None:
                rows.append(_row(r, r.area_id, areas.by_code[r.area_id].name, level))
    rows.sort(key=lambda x: (x["level"], x["area"] or "", order[x["rule"]], x["distance_m"]))
    return rows


def _row(r, code: str | None, name: str, level: int) -> dict[str, Any]:
    return {
        "area": code,
        "area_name": name,
        "level": level,
        "rule": r.rule_id,
        "distance_m": r.distance_m,
        "minutes": r.minutes,
        "is_threshold": r.is_threshold,
        "children": num(r.children),
        "covered": num(r.children_covered),
        "share": num(r.share, 6),
        "unreachable": num(r.children_unreachable),
    }


# ---------------------------------------------------------------------- gaps


def gap_tables(result: AccessResult, demand: Demand) -> dict[str, dict[str, list[list[Any]]]]:
    """Each rule's gap cells as rows of :data:`GAP_COLUMNS`, with the area holding most of the
    cell's children."""
    points = demand.points
    cells = h3_cells(points.lon, points.lat, result.h3_resolution) if len(points) else None
    dominant: dict[str, str | None] = {}
    if cells is not None:
        codes = sorted({c for c in demand.area_codes if c})
        pos = {c: i + 1 for i, c in enumerate(codes)}
        a_idx = np.array([pos.get(c or "", 0) for c in demand.area_codes], dtype=np.int64)
        uniq, inv = np.unique(cells, return_inverse=True)
        key = inv * (len(codes) + 1) + a_idx
        kids = points.children()
        k_uniq, k_inv = np.unique(key, return_inverse=True)
        sums = np.bincount(k_inv, weights=kids, minlength=k_uniq.shape[0])
        cell_of, area_of = k_uniq // (len(codes) + 1), k_uniq % (len(codes) + 1)
        best = np.lexsort((area_of, -sums, cell_of))
        first = np.ones(best.shape[0], dtype=bool)
        first[1:] = cell_of[best][1:] != cell_of[best][:-1]
        for j in best[first].tolist():
            a = int(area_of[j])
            dominant[h3.int_to_str(int(uniq[int(cell_of[j])]))] = codes[a - 1] if a else None
    out = {}
    for rule_id, gap in result.gaps.items():
        out[rule_id] = {
            "columns": list(GAP_COLUMNS),
            "rows": [
                [
                    c.cell,
                    round(c.lon, 7),
                    round(c.lat, 7),
                    c.n_points,
                    num(c.children),
                    num(c.children_not_covered),
                    num(c.children_unreachable),
                    num(c.mean_nearest_m, 1),
                    num(c.max_nearest_m, 1),
                    dominant.get(c.cell),
                ]
                for c in gap
            ],
        }
    return out


def gap_cells(table: Mapping[str, Any], resolution: int) -> list[tuple[GapCell, str | None]]:
    """Stored gap rows back as the core's GapCell (with the cell's area code)."""
    cols = {name: i for i, name in enumerate(table["columns"])}
    out = []
    for r in table["rows"]:

        def f(name: str, r=r) -> float:
            v = r[cols[name]]
            return math.nan if v is None else float(v)

        children, not_cov = f("children"), f("not_covered")
        out.append(
            (
                GapCell(
                    cell=r[cols["cell"]],
                    resolution=resolution,
                    lon=f("lon"),
                    lat=f("lat"),
                    n_points=int(r[cols["points"]]),
                    children=children,
                    children_not_covered=not_cov,
                    children_unreachable=f("unreachable"),
                    share_not_covered=not_cov / children if children > 0 else math.nan,
                    mean_nearest_m=f("mean_m"),
                    max_nearest_m=f("max_m"),
                ),
                r[cols["area"]],
            )
        )
    return out


# ---------------------------------------------------------------------- summary


def summary_of(
    result: AccessResult,
    demand: Demand,
    facilities: Facilities,
    pack: RulePack,
) -> dict[str, Any]:
    points = demand.points
    rules = []
    for rule_id, rr in result.rules.items():
        rule = pack.rule(rule_id)
        kids = points.children(rule.age_groups)
        dist = rr.nearest_m
        reach = np.isfinite(dist) & (kids > 0)
        total = float(kids.sum())
        covered = float(kids[dist <= rule.threshold_m].sum())
        wsum = float(kids[reach].sum())
        entry = {
            "rule": rule_id,
            "label": rule.label_zh,
            "label_en": rule.label_en,
            "threshold_m": rule.threshold_m,
            "life_circle": rule.life_circle,
            "facilities": int(rr.facilities.shape[0]),
            "planned": int(
                sum(str(facilities.ids[i]).startswith("planned/") for i in rr.facilities)
            ),
            "children": num(total),
            "covered": num(covered),
            "share": num(covered / total, 6) if total > 0 else None,
            "unreachable": num(rr.children_unreachable),
            "mean_m": num(float((dist[reach] * kids[reach]).sum()) / wsum, 1) if wsum else None,
            "supply": rule.supply,
            "supply_known": int(rr.fca_facilities.shape[0]),
            "supply_per_child": (
                num(float((rr.fca.access * kids).sum()) / total, 6)
                if rr.fca is not None and total > 0
                else None
            ),
        }
        rules.append(entry)
    return {
        "children": num(points.total()),
        "demand_points": len(points),
        "unsnapped": result.demand_unsnapped,
        "facilities_unsnapped": result.facilities_unsnapped,
        "facilities_total": len(facilities),
        "demand_kind": points.kind,
        "generated": bool(result.generated),
        "rule_pack": {"id": result.rule_pack_id, "version": result.rule_pack_version},
        "h3_resolution": result.h3_resolution,
        "demand": demand.info,
        "rules": rules,
    }


# ---------------------------------------------------------------------- arrays


def write_arrays(path: Path, result: AccessResult, demand: Demand, facilities: Facilities) -> None:
    """Per-home arrays: position, children, area, and per rule the nearest distance, which
    facility (index into ``fac_ids``) and the 2SFCA supply per child."""
    points: DemandPoints = demand.points
    codes = sorted({c for c in demand.area_codes if c})
    pos = {c: i for i, c in enumerate(codes)}
    arrays: dict[str, np.ndarray] = {
        "lon": points.lon,
        "lat": points.lat,
        "weights": points.weights,
        "area_index": np.array([pos.get(c or "", -1) for c in demand.area_codes], dtype=np.int64),
        "area_codes": np.array(codes, dtype=str),
        "labels": np.array(list(points.labels or ()), dtype=str),
        "fac_ids": np.array([str(i) for i in facilities.ids], dtype=str),
    }
    for rule_id, rr in result.rules.items():
        arrays[f"nearest_m__{rule_id}"] = rr.nearest_m
        arrays[f"nearest_fac__{rule_id}"] = rr.nearest_facility
        if rr.fca is not None:
            arrays[f"access__{rule_id}"] = rr.fca.access
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def read_arrays(name: str) -> dict[str, np.ndarray]:
    """A run's stored arrays (``name`` as kept in ``AnalysisRun.result_file``)."""
    with np.load(result_path(name), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def demand_of(arrays: Mapping[str, np.ndarray], *, generated: bool = False) -> DemandPoints:
    """The stored homes as DemandPoints (without areas)."""
    n = arrays["lon"].shape[0]
    return DemandPoints(
        lon=arrays["lon"].astype(np.float64),
        lat=arrays["lat"].astype(np.float64),
        weights=arrays["weights"].astype(np.float64).reshape(n, -1),
        area_index=np.full(n, -1, dtype=np.int64),
        generated=generated,
    )
