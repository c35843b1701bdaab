"""The 台账: import (all rows checked first, atomic, duplicates, diffs, updates), export (masked,
de-identified, unmasked with the permission only, audited), GBK CSV, template."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from openpyxl import Workbook, load_workbook

from yimi.care import ledger_format as fmt
from yimi.care.identity import generate_id_number, mask_id_number
from yimi.care.masking import mask_name
from yimi.care.models import Child, ChildEvent, FamilyMember, Policy, WorklistItem
from yimi.care.services.ledger import ledger_export, ledger_import, ledger_template
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_department, make_user

pytestmark = pytest.mark.django_db

HEADER = [zh for _k, zh, _a, _r in fmt.COLUMNS]


def ids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [
        generate_id_number(rng, region="110108", birth_date=date(2014, 1, 1) + timedelta(days=i))
        for i in range(n)
    ]


def row(**kw) -> dict[str, str]:
    base = {
        "姓名": "示例童甲",
        "身份证号": "",
        "类别": "留守儿童",
        "风险等级": "中",
        "社区代码": "990001001001",
        "联系电话": "13812345678",
        "监护人姓名": "示例监护人",
        "监护人关系": "祖母",
    }
    base.update(kw)
    return base


def xlsx(rows: list[dict[str, str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append([r.get(h, "") for h in HEADER])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[dict[str, str]], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r.get(h, "") for h in HEADER])
    return buf.getvalue().encode(encoding)


@pytest.fixture
def city():
    return make_city()


@pytest.fixture
def director(city):
    return make_user(Role.DIRECTOR, area=city["CA1"])


@pytest.fixture
def supervisor(city):
    return make_user(Role.SUPERVISOR, area=city["SA"])


def test_one_bad_row_writes_nothing_and_every_error_names_row_and_column(city, supervisor):
    good = ids(3)
    bad_check = good[2][:-1] + ("0" if good[2][-1] != "0" else "1")
    rows = [
        row(身份证号=good[0], 姓名="示例童一"),
        row(身份证号=good[1], 姓名="示例童二", 联系电话="12345"),
        row(身份证号=bad_check, 姓名="示例童三", 类别="留守儿童、外星儿童"),
        row(身份证号=good[0], 姓名="示例童四", 社区代码="990002001"),
    ]
    plan = ledger_import(actor=supervisor, file=xlsx(rows), filename="bad.xlsx")
    assert not plan.written and Child.objects.count() == 0
    assert AuditLog.objects.filter(object_type="care.ledger").count() == 0
    got = {(e.row, e.column) for e in plan.errors}
    assert (3, "联系电话") in got
    assert (4, "身份证号") in got  # the check digit
    assert (4, "类别") in got
    assert (5, "身份证号") in got  # the same ID number as row 2
    assert (5, "社区代码") in got  # a street, and outside the supervisor's area
    check = next(e for e in plan.errors if (e.row, e.column) == (4, "身份证号"))
    assert "校验码" in check.message
    assert plan.error_count == len(plan.errors) == 5


def test_import_creates_children_with_guardians_timeline_schedule_audit_and_worklist(
    city, supervisor
):
    dept = make_department(city["A"], "civil")
    Policy.objects.create(
        code="P-LB",
        name="留守儿童关爱探访",
        domain="life",
        benefit="探访",
        lead_department=dept,
        area=city["A"],
        eligibility={"any": [{"field": "categories", "op": "contains", "value": "left_behind"}]},
    )
    numbers = ids(3)
    rows = [row(身份证号=n, 姓名=f"示例童{i}") for i, n in enumerate(numbers)]
    rows[2]["社区代码"] = "990001001002"
    rows[2]["类别"] = "孤儿，困境儿童（重病）"
    plan = ledger_import(actor=supervisor, file=xlsx(rows), filename="ok.xlsx")
    assert plan.ok and plan.written and plan.created == 3
    children = list(Child.objects.order_by("file_no"))
    assert [c.file_no for c in children] == [
        "990001001001-00001",
        "990001001001-00002",
        "990001001002-00001",
    ]
    assert children[2].categories == ["orphan", "serious_illness"]
    assert children[0].name == "示例童0" and children[0].risk_level == "medium"
    assert children[0].next_visit_due == date.today()
    assert FamilyMember.objects.filter(is_guardian=True, relation="grandparent").count() == 3
    assert ChildEvent.objects.filter(kind="import").count() == 3
    assert WorklistItem.objects.filter(state="open").count() == 2  # the two left-behind
    audit = AuditLog.objects.get(object_type="care.ledger", action="import")
    assert audit.after["created"] == 3 and audit.after["file"] == "ok.xlsx"
    text = str(audit.after) + audit.note
    assert "示例童" not in text and numbers[0] not in text


def test_existing_child_is_an_update_with_a_field_diff_and_dry_run_writes_nothing(city, supervisor):
    numbers = ids(2)
    ledger_import(
        actor=supervisor,
        file=xlsx([row(身份证号=numbers[0], 姓名="示例童甲乙"), row(身份证号=numbers[1])]),
        filename="first.xlsx",
    )
    before = Child.objects.get(file_no="990001001001-00001")
    changed = [
        row(身份证号=numbers[0], 姓名="示例童甲乙", 风险等级="高", 联系电话="13900001111"),
        row(身份证号=numbers[1]),  # the same as stored
        row(身份证号=ids(3, seed=9)[2], 姓名="示例童新"),
    ]
    plan = ledger_import(actor=supervisor, file=xlsx(changed), filename="second.xlsx", dry_run=True)
    assert plan.ok and not plan.written
    assert (plan.created, plan.updated, plan.unchanged) == (1, 1, 1)
    diff = {c["column"]: (c["old"], c["new"]) for c in plan.updated_rows[0]["changes"]}
    assert diff == {"风险等级": ("中", "高"), "联系电话": ("138****5678", "139****1111")}
    assert plan.updated_rows[0]["name"] == mask_name("示例童甲乙")
    assert Child.objects.count() == 2
    assert Child.objects.get(pk=before.pk).risk_level == "medium"

    plan = ledger_import(actor=supervisor, file=xlsx(changed), filename="second.xlsx")
    assert plan.written
    after = Child.objects.get(pk=before.pk)
    assert (after.risk_level, after.phone, after.name) == ("high", "13900001111", "示例童甲乙")
    assert Child.objects.count() == 3
    event = after.events.filter(kind="import").first()
    assert "风险等级 中 → 高" in event.summary and "13900001111" not in event.summary


def test_child_of_another_area_is_not_revealed_or_updated(city, supervisor):
    number = ids(1)[0]
    ledger_import(actor=supervisor, file=xlsx([row(身份证号=number)]), filename="a.xlsx")
    other = make_user(Role.DIRECTOR, area=city["CA2"])
    plan = ledger_import(
        actor=other,
        file=xlsx([row(身份证号=number, 社区代码="990001001002", 风险等级="高")]),
        filename="b.xlsx",
    )
    assert not plan.written
    assert [(e.row, e.column) for e in plan.errors] == [(2, "身份证号")]
    assert Child.objects.get().risk_level == "medium"


def test_gbk_csv_and_utf8_csv_import(city, director):
    rows = [row(身份证号=n, 姓名=f"示例童{i}") for i, n in enumerate(ids(2))]
    plan = ledger_import(
        actor=director, file=csv_bytes(rows[:1], "gbk"), filename="gbk.csv", dry_run=True
    )
    assert plan.ok and plan.created == 1
    plan = ledger_import(actor=director, file=csv_bytes(rows[:1], "gbk"), filename="gbk.csv")
    assert Child.objects.get().name == "示例童0"
    plan = ledger_import(actor=director, file=csv_bytes(rows, "utf-8-sig"), filename="u.csv")
    assert (plan.created, plan.unchanged) == (1, 1)


def test_only_caseworkers_and_wcco_import(city):
    dept = make_user(Role.DEPARTMENT, area=city["A"], department=make_department(city["A"]))
    with pytest.raises(PermissionDenied):
        ledger_import(actor=dept, file=xlsx([]), filename="x.xlsx")
    wcco = make_user(Role.WCCO, area=city["A"])
    plan = ledger_import(
        actor=wcco, file=xlsx([row(身份证号=ids(1)[0])]), filename="w.xlsx", dry_run=True
    )
    assert plan.ok
    with pytest.raises(ServiceError):
        ledger_import(actor=wcco, file=b"not a table", filename="x.pdf")


def _exported(content: bytes) -> tuple[list[list], object]:
    wb = load_workbook(io.BytesIO(content))
    return [list(r) for r in wb["台账"].iter_rows(values_only=True)], wb


def test_masked_export_and_deidentified_for_wcco(city, supervisor):
    number = ids(1)[0]
    ledger_import(
        actor=supervisor,
        file=xlsx([row(身份证号=number, 姓名="示例童甲乙", 住址="演示路 1 号")]),
        filename="a.xlsx",
    )
    out = ledger_export(actor=supervisor)
    rows, wb = _exported(out.content)
    assert out.masked and out.count == 1
    assert "导出人" in rows[0][0] and rows[1] == HEADER
    data = dict(zip(HEADER, rows[2], strict=True))
    assert data["姓名"] == "示**" and data["身份证号"] == mask_id_number(number)
    assert data["联系电话"] == "138****5678" and data["住址"] == "演***"
    assert "个人信息" in str(wb["说明"]["B1"].value)
    assert wb.properties.creator == supervisor.get_username()
    blob = out.content
    assert number.encode() not in blob
    audit = AuditLog.objects.get(action="export")
    assert audit.after["masked"] is True and audit.after["count"] == 1

    wcco = make_user(Role.WCCO, area=city["A"])
    rows, _wb = _exported(ledger_export(actor=wcco).content)
    data = dict(zip(HEADER, rows[2], strict=True))
    assert data["姓名"] == "示**" and data["联系电话"] in ("", None) and data["住址"] in ("", None)
    assert data["身份证号"] in ("", None) and data["监护人姓名"] in ("", None)


def test_unmasked_export_refused_without_permission_and_audited_with_it(city, supervisor):
    number = ids(1)[0]
    ledger_import(actor=supervisor, file=xlsx([row(身份证号=number)]), filename="a.xlsx")
    with pytest.raises(PermissionDenied):
        ledger_export(actor=supervisor, unmasked=True)
    assert not AuditLog.objects.filter(action="export").exists()
    supervisor.user_permissions.add(Permission.objects.get(codename="export_unmasked"))
    supervisor = type(supervisor).objects.get(pk=supervisor.pk)  # fresh permission cache
    out = ledger_export(actor=supervisor, unmasked=True, filters={"risk_level": "medium"})
    rows, _wb = _exported(out.content)
    data = dict(zip(HEADER, rows[2], strict=True))
    assert data["姓名"] == "示例童甲" and data["身份证号"] == number
    audit = AuditLog.objects.get(action="export")
    assert audit.after == {
        "count": 1,
        "masked": False,
        "deidentified": False,
        "filters": {"risk_level": "medium"},
    }
    assert ledger_export(actor=supervisor, filters={"risk_level": "high"}).count == 0


def test_template_has_the_columns_and_an_explanation_sheet(city, director):
    wb = load_workbook(io.BytesIO(ledger_template()))
    header = [c.value for c in wb["台账"][1]]
    assert header[1] == "姓名*" and header[2] == "身份证号*" and "社区代码*" in header
    assert wb["说明"].max_row > len(fmt.COLUMNS)
    # The empty template imports (no rows), so its headers are what the importer reads.
    plan = ledger_import(actor=director, file=ledger_template(), filename="t.xlsx", dry_run=True)
    assert plan.ok and plan.rows == 0


def test_rows_the_ledger_accepts_pass_the_records_validator(city):
    """The ledger checks rows itself (``child_validate`` rebuilds its label tables per call: far
    too slow for 100,000 rows); what it accepts must pass the records part's validator too."""
    from yimi.care.services.records import child_validate

    rows = [
        row(身份证号=n, 类别=c, 学段=s, 残疾等级=g, 残疾类别="肢体" if g else "")
        for n, c, s, g in zip(
            ids(4),
            ["留守儿童", "孤儿、困境儿童（重病）", "困境儿童（低保/特困家庭）", "重残儿童"],
            ["小学", "", "初中", "幼儿园"],
            ["", "", "", "二级"],
            strict=True,
        )
    ]
    for i, r in enumerate(rows, start=2):
        parsed, errors = fmt.parse_row(
            i, {k: r.get(zh, "") for k, zh, _a, _r in fmt.COLUMNS}, today=date.today()
        )
        assert errors == []
        d = parsed.data
        clean = child_validate(
            {
                "name": d["name"],
                "id_number": d["id_number"],
                "categories": d["categories"],
                "risk_level": d["risk_level"] or "low",
                "school_stage": d["school_stage"] or "none",
                "area": d["area_code"],
                "low_income": bool(d["low_income"]),
                "phone": d["phone"] or "",
                "disability": {"type": d["disability_type"], "grade": d["disability_grade"]}
                if d["disability_grade"]
                else None,
            }
        )
        assert clean["birth_date"] == d["birth_date"] and clean["categories"] == sorted(
            d["categories"], key=list(fmt.CATEGORY_LABELS).index
        )


@pytest.mark.parametrize("write_only", [False, True])  # shared strings / inline strings
def test_calamine_reader_reads_what_openpyxl_reads(write_only):
    from yimi.care import ledger_format
    from yimi.core.tables import cell_text, raw_rows

    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("台账") if write_only else wb.active
    ws.append(["姓名", "身份证号", "备注", "数字", "日期"])
    ws.append(["示例童&<甲>", "11010820150307991X", None, 110108900001, date(2015, 3, 7)])
    ws.append(["", "a\nb", "“引号”", 3.5, None])
    ws.append([None, None, None, None, "x"])
    buf = io.BytesIO()
    wb.save(buf)
    content = buf.getvalue()

    def norm(rows):
        out = [[cell_text(v) for v in r] for r in rows]
        return [r + [""] * (5 - len(r)) for r in out]

    expected = norm(raw_rows(content, "t.xlsx"))
    fast = norm(ledger_format.xlsx_rows(content, "t.xlsx"))
    # Dates: openpyxl gives a datetime ("2015-03-07 00:00:00"), calamine the date.
    assert expected[1][4].startswith("2015-03-07")
    expected[1][4] = "2015-03-07"
    assert fast == expected
    assert ledger_format.parse_date(fast[1][4]) == date(2015, 3, 7)
    assert ledger_format.parse_date("42070") == date(2015, 3, 7)  # a serial number typed in


def test_xlsx_that_is_not_a_workbook_or_a_bomb_is_refused(monkeypatch):
    import zipfile

    from yimi.care.ledger_format import xlsx_rows
    from yimi.core.tables import ImportFileError

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet/>',
        )
    with pytest.raises(ImportFileError):
        xlsx_rows(buf.getvalue(), "bomb.xlsx")
    with pytest.raises(ImportFileError, match="not-a-zip.xlsx"):
        xlsx_rows(b"PK\x03\x04 truncated", "not-a-zip.xlsx")
    # A zip that would inflate past the limit is refused before anything is inflated.
    from yimi.care import ledger_format

    monkeypatch.setattr(ledger_format, "MAX_UNCOMPRESSED", 10)
    with pytest.raises(ImportFileError, match="inflates"):
        xlsx_rows(buf.getvalue(), "big.xlsx")
