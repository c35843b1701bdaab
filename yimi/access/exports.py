"""A run's results out as Excel (coverage by area and gap cells), GeoJSON or GeoParquet hexagons.

The files are data for the city's staff and GIS users, so their headers are Chinese whatever the
user's language; generated (synthetic) demand is labelled in every format.
"""

from __future__ import annotations

import io
import json
from typing import Any

import h3
from django.utils.translation import gettext as _

from yimi.core.models import AuditLog, User
from yimi.core.services import ServiceError, audit_record

from .models import AnalysisRun
from .selectors import rule_pack, run_gaps, run_rule
from .storage import GAP_COLUMNS

FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "geojson": ("application/geo+json", "geojson"),
    "geoparquet": ("application/vnd.apache.parquet", "parquet"),
}
GENERATED_NOTE = "生成数据（合成人口，非真实儿童分布）"
LEVEL_ZH = {0: "全域", 1: "市", 2: "区", 3: "街道", 4: "社区", 5: "网格"}


def export_run(run: AnalysisRun, *, fmt: str, rule: str | None = None) -> tuple[bytes, str, str]:
    """The file's bytes, its content type and extension."""
    if fmt not in FORMATS:
        raise ServiceError(_("The format must be xlsx, geojson or geoparquet."))
    rules = [run_rule(run, rule)] if rule else list(run.params.get("rules") or [])
    ctype, ext = FORMATS[fmt]
    if fmt == "xlsx":
        return _xlsx(run, rules), ctype, ext
    if fmt == "geojson":
        doc = run_gaps(run, rule=rules[0] if rules else None)
        doc["run"] = run.pk
        doc["params"] = run.params
        if run.generated_demand:
            doc["note"] = GENERATED_NOTE
        return json.dumps(doc, ensure_ascii=False).encode("utf-8"), ctype, ext
    return _geoparquet(run, rules), ctype, ext


def audit_export(*, actor: User | None, run: AnalysisRun, fmt: str, rule: str | None) -> None:
    audit_record(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        obj=run,
        note=f"format={fmt} rule={rule or 'all'}",
    )


def _gap_rows(run: AnalysisRun, rule: str) -> list[dict[str, Any]]:
    table = run.tables.get("gaps", {}).get(rule) or {"columns": list(GAP_COLUMNS), "rows": []}
    cols = table["columns"]
    return [dict(zip(cols, r, strict=True)) for r in table["rows"]]


def _share_covered(row: dict[str, Any]) -> float | None:
    kids, not_cov = row.get("children"), row.get("not_covered")
    return round(1.0 - not_cov / kids, 6) if kids else None


def _xlsx(run: AnalysisRun, rules: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    pack = rule_pack()
    labels = {r.id: r.label_zh for r in pack.rules}
    wb = Workbook()
    ws = wb.active
    ws.title = "覆盖率"
    ws.append(
        [
            "区划代码",
            "区划名称",
            "层级",
            "设施类型",
            "规则编号",
            "步行距离（米）",
            "生活圈（分钟）",
            "规则阈值",
            "儿童数",
            "覆盖儿童数",
            "覆盖率",
            "无法到达儿童数",
        ]
    )
    for row in run.tables.get("coverage", []):
        if row["rule"] not in rules:
            continue
        ws.append(
            [
                row["area"] or "",
                row["area_name"] or "全域",
                LEVEL_ZH.get(row["level"], str(row["level"])),
                labels.get(row["rule"], row["rule"]),
                row["rule"],
                row["distance_m"],
                row["minutes"],
                "是" if row["is_threshold"] else "否",
                row["children"],
                row["covered"],
                row["share"],
                row["unreachable"],
            ]
        )
    gaps = wb.create_sheet("缺口网格")
    gaps.append(
        [
            "H3网格",
            "设施类型",
            "规则编号",
            "中心经度",
            "中心纬度",
            "居住点数",
            "儿童数",
            "未覆盖儿童数",
            "覆盖率",
            "无法到达儿童数",
            "平均最近距离（米）",
            "最大最近距离（米）",
            "所属区划代码",
        ]
    )
    for rule in rules:
        for g in _gap_rows(run, rule):
            gaps.append(
                [
                    g["cell"],
                    labels.get(rule, rule),
                    rule,
                    g["lon"],
                    g["lat"],
                    g["points"],
                    g["children"],
                    g["not_covered"],
                    _share_covered(g),
                    g["unreachable"],
                    g["mean_m"],
                    g["max_m"],
                    g["area"] or "",
                ]
            )
    about = wb.create_sheet("说明")
    params = run.params
    about.append(["分析编号", run.pk])
    about.append(["完成时间", run.finished_at.isoformat() if run.finished_at else ""])
    about.append(["范围", run.area.name if run.area else "全域"])
    about.append(
        [
            "规则包",
            f"{params.get('rule_pack', {}).get('id')} v{params.get('rule_pack', {}).get('version')}",
        ]
    )
    about.append(["H3分辨率", params.get("h3_resolution")])
    about.append(["距离衰减", params.get("decay")])
    about.append(
        [
            "需求来源",
            "居住建筑（按人口总数分配）"
            if params.get("demand") == "buildings"
            else f"需求表 {params.get('demand')}",
        ]
    )
    about.append(["含规划设施", "是" if params.get("include_planned") else "否"])
    about.append(["数据性质", GENERATED_NOTE if run.generated_demand else "按录入的人口总数分配"])
    about.append(["地图数据", "© OpenStreetMap contributors (ODbL)"])
    for sheet in (ws, gaps):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for col in sheet.columns:
            sheet.column_dimensions[col[0].column_letter].width = 14
    about.column_dimensions["A"].width = 14
    about.column_dimensions["B"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _geoparquet(run: AnalysisRun, rules: list[str]) -> bytes:
    """Gap cells with WKB hexagons and GeoParquet 1.1 metadata (CRS: OGC:CRS84, the default)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "cell",
            "rule",
            "lon",
            "lat",
            "homes",
            "children",
            "not_covered",
            "share_covered",
            "unreachable",
            "mean_m",
            "max_m",
            "area",
        )
    }
    geoms = []
    for rule in rules:
        for g in _gap_rows(run, rule):
            cols["cell"].append(g["cell"])
            cols["rule"].append(rule)
            cols["lon"].append(g["lon"])
            cols["lat"].append(g["lat"])
            cols["homes"].append(g["points"])
            cols["children"].append(g["children"])
            cols["not_covered"].append(g["not_covered"])
            cols["share_covered"].append(_share_covered(g))
            cols["unreachable"].append(g["unreachable"])
            cols["mean_m"].append(g["mean_m"])
            cols["max_m"].append(g["max_m"])
            cols["area"].append(g["area"])
            ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(g["cell"])]
            geoms.append(shapely.Polygon(ring))
    wkb = [shapely.to_wkb(g) for g in geoms]
    types = {
        "cell": pa.string(),
        "rule": pa.string(),
        "lon": pa.float64(),
        "lat": pa.float64(),
        "homes": pa.int64(),
        "children": pa.float64(),
        "not_covered": pa.float64(),
        "share_covered": pa.float64(),
        "unreachable": pa.float64(),
        "mean_m": pa.float64(),
        "max_m": pa.float64(),
        "area": pa.string(),
    }
    arrays = {k: pa.array(v, type=types[k]) for k, v in cols.items()}
    arrays["geometry"] = pa.array(wkb, type=pa.binary())
    table = pa.table(arrays)
    bounds = shapely.total_bounds(geoms).tolist() if geoms else []
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Polygon"],
                **({"bbox": bounds} if bounds else {}),
            }
        },
    }
    yimi = {
        "run": run.pk,
        "params": run.params,
        "generated": bool(run.generated_demand),
        **({"note": GENERATED_NOTE} if run.generated_demand else {}),
    }
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(geo).encode("utf-8")
    meta[b"yimi"] = json.dumps(yimi, ensure_ascii=False).encode("utf-8")
    table = table.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()
