"""Reading the access part's tables (population totals, demand points or H3 cells) with errors
that name the row and the column, and writing their Chinese Excel templates.

Parsing and validation only: nothing here touches the database.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import h3
from django.utils.translation import gettext as _

from yimi.analysis import coords
from yimi.analysis.access.ages import AGE_GROUPS
from yimi.core.tables import ImportFileError, RowError, read_table

__all__ = [
    "DEMAND_COLUMNS",
    "POPULATION_COLUMNS",
    "ImportFileError",
    "ParsedDemand",
    "ParsedPopulation",
    "RowError",
    "demand_template_xlsx",
    "parse_demand",
    "parse_population",
    "population_template_xlsx",
]

MAX_ROWS = 1_000_000

# Age columns, shared by both tables: (age group, Chinese header, other accepted spellings).
_AGE_HEADERS = {g: f"{g}岁" for g in AGE_GROUPS}

# (key, Chinese header, accepted spellings, required)
POPULATION_COLUMNS: list[tuple[str, str, tuple[str, ...], bool]] = [
    ("area", "区划代码", ("area", "area_code", "code", "行政区划代码"), True),
    ("area_name", "区划名称", ("area_name", "name", "名称"), False),
    *[(g, _AGE_HEADERS[g], (g, f"{g}岁儿童", f"age_{g}"), False) for g in AGE_GROUPS],
    ("year", "年份", ("year",), True),
    ("source", "来源", ("source", "数据来源"), False),
]

_DEMAND_BASE: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "points": [
        ("label", "名称", ("label", "name", "编号", "id")),
        ("lon", "经度", ("lon", "lng", "longitude", "x")),
        ("lat", "纬度", ("lat", "latitude", "y")),
        ("crs", "坐标系", ("crs",)),
        *[(g, _AGE_HEADERS[g], (g, f"{g}岁儿童", f"age_{g}")) for g in AGE_GROUPS],
    ],
    "h3": [
        ("cell", "H3网格", ("cell", "h3", "h3_cell", "H3", "网格")),
        *[(g, _AGE_HEADERS[g], (g, f"{g}岁儿童", f"age_{g}")) for g in AGE_GROUPS],
    ],
}
_DEMAND_REQUIRED = {"points": ("lon", "lat"), "h3": ("cell",)}
# (key, Chinese header, accepted spellings, required) per kind.
DEMAND_COLUMNS: dict[str, list[tuple[str, str, tuple[str, ...], bool]]] = {
    kind: [(k, zh, alts, k in _DEMAND_REQUIRED[kind]) for k, zh, alts in cols]
    for kind, cols in _DEMAND_BASE.items()
}


@dataclass
class ParsedPopulation:
    """Rows of a population table: one dict per (area, age group) with a count."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ParsedDemand:
    """A demand table as columns; ``counts`` rows follow ``AGE_GROUPS``."""

    kind: str
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    counts: list[list[float]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.counts)

    @property
    def children(self) -> float:
        return float(math.fsum(math.fsum(c) for c in self.counts))


# ---------------------------------------------------------------------- reading files


def _count(
    text: str, row: int, column: str, errors: list[RowError], *, whole: bool
) -> float | None:
    """A non-negative number of children (a whole number when ``whole``); None when empty."""
    if text == "":
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (whole and not value.is_integer()):
        msg = (
            _("“%(v)s” is not a whole number of children (0 or more).")
            if whole
            else _("“%(v)s” is not a number of children (0 or more).")
        )
        errors.append(RowError(row, column, msg % {"v": text}))
        return None
    return value


# ---------------------------------------------------------------------- population


def parse_population(content: bytes, file_name: str) -> ParsedPopulation:
    """Population totals: one row per area and year, one column per age group.

    Empty age cells are left out (not set); rows with no age value at all are skipped (the
    template lists every area).
    """
    rows, used = read_table(content, file_name, POPULATION_COLUMNS, max_rows=MAX_ROWS)
    header = {k: used.get(k, zh) for k, zh, _a, _r in POPULATION_COLUMNS}
    result = ParsedPopulation()
    seen: dict[tuple[str, str, int], int] = {}
    for row, cells in rows:
        n_before = len(result.errors)
        code = cells.get("area", "")
        if not code:
            result.errors.append(RowError(row, header["area"], _("is required.")))
        year_text = cells.get("year", "")
        year = None
        try:
            year = int(float(year_text))
            if not (1949 <= year <= 2100) or float(year_text) != year:
                raise ValueError
        except ValueError:
            result.errors.append(
                RowError(
                    row,
                    header["year"],
                    _("is required.")
                    if not year_text
                    else _("“%(v)s” is not a year.") % {"v": year_text},
                )
            )
            year = None
        values = {}
        for g in AGE_GROUPS:
            v = _count(cells.get(g, ""), row, header[g], result.errors, whole=True)
            if v is not None:
                values[g] = int(v)
        if len(result.errors) != n_before or not values:
            # A row with no age value is a template row left empty.
            continue
        for g, v in values.items():
            key = (code, g, year)
            if key in seen:
                result.errors.append(
                    RowError(
                        row,
                        header["area"],
                        _("%(code)s %(year)s is also given in row %(other)s.")
                        % {"code": code, "year": year, "other": seen[key]},
                    )
                )
                break
            seen[key] = row
            result.rows.append(
                {
                    "row": row,
                    "area": code,
                    "age_group": g,
                    "count": v,
                    "year": year,
                    "source": cells.get("source", "")[:200],
                }
            )
    if not result.rows and not result.errors:
        raise ImportFileError(_("%(file)s has no numbers of children.") % {"file": file_name})
    return result


# ---------------------------------------------------------------------- demand


def parse_demand(content: bytes, file_name: str, *, kind: str) -> ParsedDemand:
    """A demand table of points (lon, lat) or H3 cells, with children per age group.

    Coordinates may be WGS-84, GCJ-02 or BD-09 (``坐标系`` column, WGS-84 by default); they are
    stored in WGS-84.
    """
    if kind not in DEMAND_COLUMNS:
        raise ImportFileError(_("The kind must be points or h3."))
    columns = DEMAND_COLUMNS[kind]
    rows, used = read_table(content, file_name, columns, max_rows=MAX_ROWS)
    if not any(g in used for g in AGE_GROUPS):
        raise ImportFileError(
            _("%(file)s: the header row has no age column (%(cols)s).")
            % {"file": file_name, "cols": "、".join(_AGE_HEADERS.values())}
        )
    header = {k: used.get(k, zh) for k, zh, _a, _r in columns}
    out = ParsedDemand(kind=kind)
    errors = out.errors
    seen_cells: dict[str, int] = {}
    for row, cells in rows:
        n_before = len(errors)
        counts = [_count(cells.get(g, ""), row, header[g], errors, whole=False) for g in AGE_GROUPS]
        lon = lat = math.nan
        cell = ""
        if kind == "points":
            lonlat = []
            for key, lo, hi in (("lon", -180, 180), ("lat", -90, 90)):
                text = cells.get(key, "")
                try:
                    v = float(text)
                    if not lo <= v <= hi:
                        raise ValueError
                    lonlat.append(v)
                except ValueError:
                    errors.append(
                        RowError(
                            row,
                            header[key],
                            _("is required.")
                            if not text
                            else _("“%(v)s” is not a valid coordinate.") % {"v": text},
                        )
                    )
            crs_text = cells.get("crs") or "wgs84"
            try:
                crs = coords.normalise_crs(crs_text)
            except ValueError:
                errors.append(
                    RowError(
                        row,
                        header["crs"],
                        _("“%(v)s” is not WGS-84, GCJ-02 or BD-09.") % {"v": crs_text},
                    )
                )
                crs = None
            if len(lonlat) == 2 and crs:
                if not (70 <= lonlat[0] <= 140 and 0 <= lonlat[1] <= 60):
                    errors.append(
                        RowError(
                            row,
                            header["lon"],
                            _(
                                "(%(lon)s, %(lat)s) is outside China; are longitude and "
                                "latitude swapped?"
                            )
                            % {"lon": lonlat[0], "lat": lonlat[1]},
                        )
                    )
                else:
                    lon, lat = coords.to_wgs84(lonlat[0], lonlat[1], crs)
        else:
            text = cells.get("cell", "")
            if not text:
                errors.append(RowError(row, header["cell"], _("is required.")))
            elif not h3.is_valid_cell(text.lower()):
                errors.append(
                    RowError(row, header["cell"], _("“%(v)s” is not an H3 cell.") % {"v": text})
                )
            elif text.lower() in seen_cells:
                errors.append(
                    RowError(
                        row,
                        header["cell"],
                        _("%(v)s is also given in row %(other)s.")
                        % {"v": text, "other": seen_cells[text.lower()]},
                    )
                )
            else:
                cell = text.lower()
                seen_cells[cell] = row
        if len(errors) != n_before:
            continue
        if all(c is None for c in counts):
            errors.append(
                RowError(row, header[AGE_GROUPS[0]], _("no age group has a number of children."))
            )
            continue
        out.counts.append([0.0 if c is None else c for c in counts])
        out.labels.append(cells.get("label", "") or (cell or str(row)))
        if kind == "points":
            out.lon.append(float(lon))
            out.lat.append(float(lat))
        else:
            out.cells.append(cell)
    if not out.counts and not errors:
        raise ImportFileError(_("%(file)s has no data rows.") % {"file": file_name})
    return out


# ---------------------------------------------------------------------- templates


def _workbook(title: str, headers: list[str], rows: list[list[Any]], notes: list[list[str]]):
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers)
    for r in rows:
        ws.append(r)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FFE699")
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = 14
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["列", "必填", "说明"])
    for n in notes:
        help_ws.append(n)
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["C"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def population_template_xlsx(areas: list[tuple[str, str]], year: int) -> bytes:
    """The Chinese population template, with one empty row per given (code, name) area.

    The template is data for the city's staff, so it is Chinese whatever the user's language.
    """
    headers = [zh + ("*" if req else "") for _k, zh, _a, req in POPULATION_COLUMNS]
    rows = [[code, name, None, None, None, None, year, ""] for code, name in areas]
    if not rows:
        rows = [["110108900001", "示例社区", 120, 150, 300, 140, year, "第七次人口普查"]]
    notes = [
        ["区划代码", "是", "一米中的行政区划代码（社区或街道）；同一区划可逐年填写"],
        ["区划名称", "否", "仅供填表时对照，导入时不读取"],
        *[
            [_AGE_HEADERS[g], "否", "该年龄段儿童人数（整数）；留空表示不填写该年龄段"]
            for g in AGE_GROUPS
        ],
        ["年份", "是", "统计年份，如 2020（第七次人口普查）"],
        ["来源", "否", "数据来源，如 第七次全国人口普查、公安户籍、卫健出生登记"],
        ["", "", "年龄段下限含、上限不含：0–3岁托育、3–6岁学前、6–12岁小学、12–15岁初中"],
        ["", "", "社区与街道都填写时，街道人数减去其社区人数之和的余数分配到未填写的社区"],
    ]
    return _workbook("儿童人口", headers, rows, notes)


def demand_template_xlsx(kind: str) -> bytes:
    """The Chinese template of a demand table of points or H3 cells."""
    columns = DEMAND_COLUMNS[kind]
    headers = [zh + ("*" if req else "") for _k, zh, _a, req in columns]
    if kind == "points":
        rows = [["示例小区1号楼", 116.3201, 39.9987, "WGS-84", 12, 15, 30, 14]]
        notes = [
            ["名称", "否", "居住点名称或编号"],
            ["经度", "是", "小数度"],
            ["纬度", "是", "小数度"],
            ["坐标系", "否", "WGS-84（默认）、GCJ-02（高德、腾讯）或 BD-09（百度）"],
        ]
    else:
        rows = [["8931aa42e2bffff", 12, 15, 30, 14]]
        notes = [["H3网格", "是", "H3 网格编号（任意分辨率），人数放在网格中心"]]
    notes += [
        [_AGE_HEADERS[g], "否", "该年龄段儿童人数（可为小数）；至少填写一个年龄段"]
        for g in AGE_GROUPS
    ]
    return _workbook("儿童分布", headers, rows, notes)
