"""Import from Excel, CSV and GeoJSON (errors by row and column, all or nothing); export in a CRS."""

import csv
import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from yimi.analysis import coords
from yimi.core.roles import Role
from yimi.core.services import ServiceError
from yimi.core.tests.factories import make_user
from yimi.places import tabular
from yimi.places.exports import export_places
from yimi.places.models import Place
from yimi.places.services import places_import_rows, theme_create

pytestmark = pytest.mark.django_db

HEADER = [
    "名称",
    "类别",
    "经度",
    "纬度",
    "坐标系",
    "地址",
    "适龄下限",
    "适龄上限",
    "无障碍",
    "收费",
    "主题",
]


def _xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(content, name, crs="wgs84", actor=None):
    parsed = (tabular.parse_geojson if name.endswith("json") else tabular.parse_table)(
        content, name, default_crs=crs
    )
    if parsed.errors:
        return parsed
    return places_import_rows(actor=actor, rows=parsed.rows, source="table", file_name=name)


def test_xlsx_import_converts_gcj02_and_bd09_to_wgs84(city):
    content = _xlsx(
        [
            ["甲一游乐场", "儿童游乐场", 116.1, 40.0, "GCJ-02", "甲路1号", 3, 12, "是", "免费", ""],
            ["百度图书馆", "图书馆", 116.2, 40.1, "BD-09", "", "", "", "否", "收费", ""],
            ["GPS 公园", "park", 116.3, 40.2, "", "", "", "", "", "", ""],
        ]
    )
    counts = _import(content, "places.xlsx", crs="wgs84")
    assert counts == {"created": 3, "updated": 0, "unchanged": 0}
    p = Place.objects.get(name="甲一游乐场")
    exp = coords.gcj02_to_wgs84(116.1, 40.0)
    assert (p.lon, p.lat) == pytest.approx(exp, abs=1e-9)
    assert p.category == "playground" and p.age_min == 3 and p.accessible is True
    assert p.fee == "free" and p.area == city["CA1"] and p.source_ref == "places.xlsx #2"
    b = Place.objects.get(name="百度图书馆")
    assert (b.lon, b.lat) == pytest.approx(coords.bd09_to_wgs84(116.2, 40.1), abs=1e-9)
    g = Place.objects.get(name="GPS 公园")
    assert (g.lon, g.lat) == (116.3, 40.2)


def test_errors_name_row_and_column_and_nothing_is_written(city):
    content = _xlsx(
        [
            ["好地点", "公园", 116.1, 40.0, "", "", "", "", "", "", ""],
            ["", "公园", 116.1, 40.0, "", "", "", "", "", "", ""],
            ["坏类别", "游泳馆子", 116.1, 40.0, "", "", "", "", "", "", ""],
            ["颠倒", "公园", 40.0, 116.1, "", "", "", "", "", "", ""],
            ["坏年龄", "公园", 116.1, 40.0, "", "", 12, 3, "也许", "", ""],
            ["坏坐标系", "公园", 116.1, 40.0, "CGCS2000X", "", "", "", "", "", ""],
        ]
    )
    parsed = _import(content, "bad.xlsx")
    got = {(e.row, e.column) for e in parsed.errors}
    assert (3, "名称") in got
    assert (4, "类别") in got
    assert (5, "纬度") in got or (5, "经度") in got
    assert (6, "适龄上限") in got and (6, "无障碍") in got
    assert (7, "坐标系") in got
    assert (2, "名称") not in got
    assert Place.objects.count() == 0


def test_a_row_failing_at_write_time_rolls_back_every_row(city):
    # The theme column is checked against the database: the third row's theme does not exist.
    theme_create(actor=None, slug="reading", name="图书文化")
    content = _xlsx(
        [
            ["一", "公园", 116.1, 40.0, "", "", "", "", "", "", "图书文化"],
            ["二", "公园", 116.1, 40.0, "", "", "", "", "", "", ""],
            ["三", "公园", 116.1, 40.0, "", "", "", "", "", "", "不存在的主题"],
        ]
    )
    with pytest.raises(ServiceError) as exc:
        _import(content, "t.xlsx")
    assert exc.value.details == [
        {"row": 4, "column": "主题", "message": exc.value.details[0]["message"]}
    ]
    assert Place.objects.count() == 0


def test_director_cannot_import_places_outside_own_community(city):
    director = make_user(Role.DIRECTOR, city["CA1"])
    content = _xlsx([["甲二公园", "公园", 116.3, 40.0, "", "", "", "", "", "", ""]])
    with pytest.raises(ServiceError) as exc:
        _import(content, "x.xlsx", actor=director)
    assert exc.value.details[0]["row"] == 2
    assert Place.objects.count() == 0


def test_csv_in_gbk_and_utf8(city):
    rows = [HEADER, ["甲一书屋", "图书馆", "116.1", "40.0", "", "", "", "", "", "", ""]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    assert _import(buf.getvalue().encode("gb18030"), "gbk.csv")["created"] == 1
    assert _import(buf.getvalue().encode("utf-8-sig"), "utf8.csv")["created"] == 1


def test_unknown_and_missing_columns_are_named():
    with pytest.raises(tabular.ImportFileError, match="经度"):
        tabular.parse_table(_xlsx([], header=["名称", "类别", "纬度"]), "h.xlsx")
    with pytest.raises(tabular.ImportFileError, match="颜色"):
        tabular.parse_table(_xlsx([], header=[*HEADER, "颜色"]), "h.xlsx")
    with pytest.raises(tabular.ImportFileError, match="h.txt"):
        tabular.parse_table(b"abc", "h.txt")
    with pytest.raises(tabular.ImportFileError, match="not a readable Excel|不是"):
        tabular.parse_table(b"not a zip", "h.xlsx")


def test_template_is_chinese_and_imports_its_own_example(city):
    content = tabular.template_xlsx()
    wb = load_workbook(io.BytesIO(content))
    header = [c.value for c in wb["地点"][1]]
    assert header[:6] == ["编号", "名称*", "英文名称", "类别*", "经度*", "纬度*"]
    assert "填写说明" in wb.sheetnames
    parsed = tabular.parse_table(content, "template.xlsx")
    # The example row names a theme that does not exist yet.
    assert not parsed.errors and len(parsed.rows) == 1


def test_geojson_import_with_polygon(city):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "口袋公园A", "category": "口袋公园"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [116.1, 40.0],
                            [116.101, 40.0],
                            [116.101, 40.001],
                            [116.1, 40.001],
                            [116.1, 40.0],
                        ]
                    ],
                },
            },
            {
                "type": "Feature",
                "properties": {"名称": "点", "类别": "母婴室"},
                "geometry": {"type": "Point", "coordinates": [116.2, 40.0]},
            },
        ],
    }
    assert _import(json.dumps(doc).encode(), "p.geojson", crs="gcj02")["created"] == 2
    pk = Place.objects.get(name="口袋公园A")
    assert pk.geometry["type"] == "Polygon"
    assert pk.geometry["coordinates"][0][0] == pytest.approx(
        list(coords.gcj02_to_wgs84(116.1, 40.0)), abs=1e-9
    )
    bad = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": None}],
    }
    parsed = tabular.parse_geojson(json.dumps(bad).encode(), "b.geojson")
    from django.utils.translation import gettext

    assert parsed.errors and parsed.errors[0].column == gettext("geometry")


@pytest.mark.parametrize("fmt", ["geojson", "xlsx", "csv"])
@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_export_then_import_round_trips_in_every_crs(city, fmt, crs):
    _import(
        _xlsx([["甲一游乐场", "儿童游乐场", 116.1, 40.0, "", "甲路1号", 3, 12, "是", "免费", ""]]),
        "a.xlsx",
    )
    p = Place.objects.get()
    content, _ctype, ext = export_places([p], fmt=fmt, crs=crs)
    if fmt == "geojson":
        feat = json.loads(content)["features"][0]
        x, y = feat["geometry"]["coordinates"]
        assert (x, y) == pytest.approx(coords.from_wgs84(116.1, 40.0, crs), abs=1e-7)
    parsed = (tabular.parse_geojson if fmt == "geojson" else tabular.parse_table)(
        content, f"export.{ext}", default_crs="wgs84"
    )
    assert not parsed.errors
    row = parsed.rows[0].data
    assert row["id"] == p.pk
    assert (row["lon"], row["lat"]) == pytest.approx((116.1, 40.0), abs=1e-6)
    counts = places_import_rows(actor=None, rows=parsed.rows, source="table", file_name="e")
    assert counts["created"] == 0
    if crs == "wgs84":
        assert counts == {"created": 0, "updated": 0, "unchanged": 1}


def test_capacity_is_imported_and_checked(city):
    header = ["名称", "类别", "经度", "纬度", "容量"]
    ok = _import(_xlsx([["甲一幼儿园", "幼儿园", 116.1, 40.0, 270]], header=header), "c.xlsx")
    assert ok["created"] == 1 and Place.objects.get().capacity == 270
    bad = _import(
        _xlsx(
            [["乙", "幼儿园", 116.1, 40.0, "二百"], ["丙", "幼儿园", 116.1, 40.0, -3]],
            header=header,
        ),
        "d.xlsx",
    )
    assert {(e.row, e.column) for e in bad.errors} == {(2, "容量"), (3, "容量")}


def test_cli_import_and_export_round_trip(city, tmp_path):
    from django.core.management import CommandError, call_command

    src = tmp_path / "in.xlsx"
    src.write_bytes(_xlsx([["甲一游乐场", "儿童游乐场", 116.1, 40.0, "", "", "", "", "", "", ""]]))
    call_command("import_places", str(src), "--crs", "gcj02")
    p = Place.objects.get()
    assert (p.lon, p.lat) == pytest.approx(coords.gcj02_to_wgs84(116.1, 40.0), abs=1e-9)
    out = tmp_path / "out.csv"
    call_command("export_places", str(out), "--crs", "gcj02")
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[1][1] == "甲一游乐场" and float(rows[1][4]) == pytest.approx(116.1, abs=1e-6)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_xlsx([["", "公园", 116.1, 40.0, "", "", "", "", "", "", ""]]))
    with pytest.raises(CommandError):
        call_command("import_places", str(bad))
    assert Place.objects.count() == 1
