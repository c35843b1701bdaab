"""Reading and writing places as tables (Excel, CSV) and GeoJSON, with row/column errors.

Parsing and validation only: nothing here touches the database. ``yimi.places.services`` turns
validated rows into places, atomically.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from yimi.analysis import coords
from yimi.analysis.categories import CATEGORY_LABELS_EN, CATEGORY_LABELS_ZH
from yimi.core.tables import ImportFileError, RowError, cell_text, read_table
from yimi.places.models import Category

# (key, Chinese header, English header, required). The Chinese header is what the template
# shows; either header is accepted on import.
COLUMNS: list[tuple[str, str, str, bool]] = [
    ("id", "编号", "id", False),
    ("name", "名称", "name", True),
    ("name_en", "英文名称", "name_en", False),
    ("category", "类别", "category", True),
    ("lon", "经度", "longitude", True),
    ("lat", "纬度", "latitude", True),
    ("crs", "坐标系", "crs", False),
    ("address", "地址", "address", False),
    ("opening_hours", "开放时间", "opening_hours", False),
    ("age_min", "适龄下限", "age_min", False),
    ("age_max", "适龄上限", "age_max", False),
    ("capacity", "容量", "capacity", False),
    ("accessible", "无障碍", "accessible", False),
    ("nursing_room", "母婴室", "nursing_room", False),
    ("family_toilet", "第三卫生间", "family_toilet", False),
    ("fee", "收费", "fee", False),
    ("phone", "电话", "phone", False),
    ("website", "网址", "website", False),
    ("description", "简介", "description", False),
    ("area_code", "行政区划代码", "area_code", False),
    ("themes", "主题", "themes", False),
]
HEADER_TO_KEY = {}
for _key, _zh, _en, _req in COLUMNS:
    HEADER_TO_KEY[_zh] = _key
    HEADER_TO_KEY[_en] = _key
    HEADER_TO_KEY[_key] = _key
ZH_HEADER = {k: zh for k, zh, _en, _r in COLUMNS}

_TRUE = {"是", "有", "yes", "y", "true", "1", "✓"}
_FALSE = {"否", "无", "没有", "no", "n", "false", "0"}
_FREE = {"免费", "free", "否", "no"}
_PAID = {"收费", "paid", "是", "yes"}


# Other words people write in a category column, mapped to a category code.
CATEGORY_ALIASES = {
    "游乐场": "playground",
    "儿童乐园": "playground",
    "图书馆": "library",
    "阅读空间": "library",
    "书屋": "library",
    "博物馆": "museum",
    "科技馆": "museum",
    "中小学": "school",
    "小学": "school",
    "中学": "school",
    "托育": "childcare",
    "托儿所": "childcare",
    "医院": "hospital",
    "儿童保健": "hospital",
    "妇幼保健院": "hospital",
    "体育馆": "sports",
    "运动场": "sports",
    "研学": "study_base",
    "未保站": "protection_station",
}


def category_lookup() -> dict[str, str]:
    """Accepted spellings of each category: code, Chinese and English label, common aliases.

    The Chinese labels are data (``CATEGORY_LABELS_ZH``), not UI text, so a table reads the same
    whatever language the person importing it has chosen.
    """
    table: dict[str, str] = dict(CATEGORY_ALIASES)
    for code in Category.values:
        table[code] = code
        zh = CATEGORY_LABELS_ZH[code]
        table[zh] = code
        for part in zh.split("/"):
            table[part] = code
        table[CATEGORY_LABELS_EN[code].lower()] = code
    return table


@dataclass
class ParsedRow:
    row: int | str
    data: dict[str, Any]
    geometry: dict | None = None


@dataclass
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def read_rows(content: bytes, file_name: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows of an .xlsx or .csv file as (row number as the user sees it, {key: text})."""
    return read_table(content, file_name, [(k, zh, (en,), req) for k, zh, en, req in COLUMNS])[0]


def _bool(value: str, row, col, errors) -> bool | None:
    if value == "":
        return None
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    errors.append(RowError(row, col, _("“%(v)s” is not 是 or 否.") % {"v": value}))
    return None


def validate_row(
    row: int | str,
    cells: dict[str, str],
    *,
    default_crs: str,
    categories: dict[str, str],
    errors: list[RowError],
) -> dict[str, Any] | None:
    """Check one row; append its errors; return clean data (coordinates in WGS-84) or None."""
    n_before = len(errors)
    data: dict[str, Any] = {}
    col = ZH_HEADER
    if cells.get("id"):
        try:
            data["id"] = int(cells["id"])
        except ValueError:
            errors.append(RowError(row, col["id"], _("must be a whole number.")))
    name = cells.get("name", "")
    if not name:
        errors.append(RowError(row, col["name"], _("is required.")))
    elif len(name) > 200:
        errors.append(RowError(row, col["name"], _("is longer than 200 characters.")))
    data["name"] = name
    cat = cells.get("category", "")
    code = categories.get(cat) or categories.get(cat.lower())
    if not cat:
        errors.append(RowError(row, col["category"], _("is required.")))
    elif code is None:
        errors.append(
            RowError(row, col["category"], _("“%(v)s” is not a known category.") % {"v": cat})
        )
    data["category"] = code
    crs_text = cells.get("crs") or default_crs
    try:
        crs = coords.normalise_crs(crs_text)
    except ValueError:
        errors.append(
            RowError(
                row, col["crs"], _("“%(v)s” is not WGS-84, GCJ-02 or BD-09.") % {"v": crs_text}
            )
        )
        crs = None
    lonlat = []
    for key, lo, hi in (("lon", -180, 180), ("lat", -90, 90)):
        text = cells.get(key, "")
        try:
            val = float(text)
            if not (lo <= val <= hi):
                raise ValueError
            lonlat.append(val)
        except ValueError:
            msg = (
                _("is required.")
                if not text
                else _("“%(v)s” is not a valid coordinate.") % {"v": text}
            )
            errors.append(RowError(row, col[key], msg))
    if len(lonlat) == 2 and crs:
        if lonlat[0] < 70 or lonlat[0] > 140 or lonlat[1] < 0 or lonlat[1] > 60:
            # The usual slip: longitude and latitude swapped, or a point far outside China.
            errors.append(
                RowError(
                    row,
                    col["lon"],
                    _("(%(lon)s, %(lat)s) is outside China; are longitude and latitude swapped?")
                    % {"lon": lonlat[0], "lat": lonlat[1]},
                )
            )
        else:
            data["lon"], data["lat"] = coords.to_wgs84(lonlat[0], lonlat[1], crs)
    for key in (
        "name_en",
        "address",
        "opening_hours",
        "phone",
        "website",
        "description",
        "area_code",
    ):
        data[key] = cells.get(key, "")
    for key in ("age_min", "age_max"):
        text = cells.get(key, "")
        if text:
            try:
                age = int(float(text))
                if not 0 <= age <= 18:
                    raise ValueError
                data[key] = age
            except ValueError:
                errors.append(RowError(row, col[key], _("must be an age from 0 to 18.")))
        else:
            data[key] = None
    if (
        data.get("age_min") is not None
        and data.get("age_max") is not None
        and data["age_min"] > data["age_max"]
    ):
        errors.append(RowError(row, col["age_max"], _("is smaller than the lower age.")))
    text = cells.get("capacity", "")
    data["capacity"] = None
    if text:
        try:
            cap = int(float(text))
            if cap < 0 or cap != float(text):
                raise ValueError
            data["capacity"] = cap
        except ValueError:
            errors.append(RowError(row, col["capacity"], _("must be a whole number, 0 or more.")))
    for key in ("accessible", "nursing_room", "family_toilet"):
        data[key] = _bool(cells.get(key, ""), row, col[key], errors)
    fee = cells.get("fee", "").lower()
    if fee in _FREE:
        data["fee"] = "free"
    elif fee in _PAID:
        data["fee"] = "paid"
    elif fee:
        errors.append(RowError(row, col["fee"], _("“%(v)s” is not 免费 or 收费.") % {"v": fee}))
    else:
        data["fee"] = ""
    data["themes"] = [
        t.strip() for t in cells.get("themes", "").replace("，", ",").split(",") if t.strip()
    ]
    return data if len(errors) == n_before else None


def parse_table(content: bytes, file_name: str, *, default_crs: str = "wgs84") -> ParseResult:
    categories = category_lookup()
    result = ParseResult()
    for row, cells in read_rows(content, file_name):
        data = validate_row(
            row, cells, default_crs=default_crs, categories=categories, errors=result.errors
        )
        if data is not None:
            result.rows.append(ParsedRow(row=row, data=data))
    return result


def parse_geojson(content: bytes, file_name: str, *, default_crs: str = "wgs84") -> ParseResult:
    """Features of a GeoJSON FeatureCollection; properties use the table's column names."""
    import numpy as np
    import shapely
    from shapely.geometry import mapping, shape

    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(
            _("%(file)s is not valid GeoJSON: %(e)s") % {"file": file_name, "e": exc}
        ) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportFileError(
            _("%(file)s is not a GeoJSON FeatureCollection.") % {"file": file_name}
        )
    categories = category_lookup()
    result = ParseResult()
    for i, feat in enumerate(doc.get("features") or [], start=1):
        label = _("feature %(n)s") % {"n": i}
        props = (feat or {}).get("properties") or {}
        cells = {}
        for k, v in props.items():
            key = HEADER_TO_KEY.get(str(k))
            if key:
                cells[key] = cell_text(v)
        try:
            geom = shape(feat.get("geometry"))
        except Exception:
            result.errors.append(RowError(label, _("geometry"), _("is missing or not valid.")))
            continue
        if geom.is_empty or geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
            result.errors.append(
                RowError(label, _("geometry"), _("must be a Point, Polygon or MultiPolygon."))
            )
            continue
        pt = geom if geom.geom_type == "Point" else geom.representative_point()
        cells["lon"], cells["lat"] = repr(pt.x), repr(pt.y)
        data = validate_row(
            label, cells, default_crs=default_crs, categories=categories, errors=result.errors
        )
        if data is None:
            continue
        shape_json = None
        if geom.geom_type != "Point":
            crs = coords.normalise_crs(cells.get("crs") or default_crs)
            wgs = shapely.transform(
                geom, lambda c, crs=crs: np.column_stack(coords.to_wgs84(c[:, 0], c[:, 1], crs))
            )
            shape_json = mapping(wgs)
        result.rows.append(ParsedRow(row=label, data=data, geometry=shape_json))
    return result


def template_xlsx() -> bytes:
    """The Chinese import template: headers, one example row, and a sheet explaining columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "地点"
    headers = [zh + ("*" if req else "") for _k, zh, _en, req in COLUMNS]
    ws.append(headers)
    ws.append(
        [
            "",
            "示例：海淀公园",
            "Haidian Park",
            "公园",
            "116.2980",
            "39.9880",
            "GCJ-02",
            "北京市海淀区新建宫门路2号",
            "06:00-21:00",
            "0",
            "14",
            "",
            "是",
            "是",
            "否",
            "免费",
            "",
            "",
            "城市公园，有儿童游乐区",
            "",
            "生态探索",
        ]
    )
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FFE699")
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = 14
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["列", "必填", "说明"])
    notes = {
        "id": "留空表示新增；填写一米导出的编号表示更新该地点",
        "category": "、".join(CATEGORY_LABELS_ZH[c] for c in Category.values),
        "lon": "小数度；坐标系见“坐标系”列",
        "lat": "小数度",
        "crs": "WGS-84（GPS、天地图）、GCJ-02（高德、腾讯）或 BD-09（百度）；留空则用导入时选择的坐标系",
        "age_min": "0–18 的整数",
        "capacity": "学位、托位或座位数（整数），用于供需分析",
        "accessible": "是 / 否",
        "nursing_room": "是 / 否",
        "family_toilet": "是 / 否",
        "fee": "免费 / 收费",
        "area_code": "行政区划代码；留空则按位置自动判定",
        "themes": "主题名称，多个用逗号分隔",
    }
    for key, zh, _en, req in COLUMNS:
        help_ws.append([zh, "是" if req else "否", notes.get(key, "")])
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["C"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
