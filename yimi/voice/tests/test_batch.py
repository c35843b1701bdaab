"""Batch entry of paper letters: a good file (xlsx and GBK csv), bad rows named by row and
column with nothing saved, the template, receipt codes, audit rows."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from yimi.core.models import AuditLog
from yimi.core.services import PermissionDenied, ServiceError
from yimi.voice.models import Disclosure, Suggestion
from yimi.voice.services.batch import letters_import, letters_template

from .test_handling_support import login, world

pytestmark = pytest.mark.django_db

HEADER = ["建议内容*", "年龄段*", "主题", "地点/区域", "监护人同意", "监护人联系方式", "来信日期"]


def xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, encoding="gbk") -> bytes:
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_a_good_xlsx(client):
    w = world()
    rows = [
        [
            "小区门口的路口需要红绿灯，过马路太危险。",
            "9–12岁",
            "",
            "990001001001",
            "是",
            "13600000001",
            "2026-05-20",
        ],
        ["图书馆周末能不能晚点关门？", "15-18", "阅读和文化", "甲二社区", "", "", ""],
        ["我叫王小明，公园的滑梯坏了。", "6-9岁", "play", "", "是", "13600000003", ""],
        ["爸爸喝醉了就打我。", "12–15岁", "", "甲街道", "是", "13600000004", ""],
    ]
    login(client, w["wcco_a"])
    r = client.post(
        "/voice/staff/batch/",
        {"file": _upload("纸质来信.xlsx", xlsx(rows))},
    )
    assert r.status_code == 200, r.content.decode()[:2000]
    body = r.content.decode()
    letters = list(Suggestion.objects.order_by("id"))
    assert len(letters) == 4
    for s in letters:
        code = "-".join(s.receipt_code[i : i + 4] for i in range(0, 12, 4))
        assert code in body
        assert s.source == "paper" and s.entered_by == w["wcco_a"]
    a, b, c, d = letters
    assert a.topic == "traffic"  # suggested by the rules
    assert a.area == w["CA1"] and a.created_at.date().isoformat() == "2026-05-20"
    assert b.topic == "culture" and b.area == w["CA2"] and b.age_group == "15-18"
    assert c.topic == "play" and "王小明" not in c.published_text
    assert d.visibility == "hidden" and Disclosure.objects.get(suggestion=d).area == w["SA"]
    assert a.guardian_contact == "13600000001"
    assert AuditLog.objects.filter(action="import", actor=w["wcco_a"]).count() == 1
    assert AuditLog.objects.filter(action="create", object_type="voice.suggestion").count() == 4
    assert "window.print()" in body


def test_bad_rows_are_named_and_nothing_is_saved():
    w = world()
    rows = [
        ["好的建议：公园多一些长椅。", "9–12岁", "", "", "是", "13600000001", ""],
        ["", "9–12岁", "", "", "", "", ""],
        ["建议", "十岁", "", "", "", "", ""],
        ["建议", "6–9岁", "恐龙", "990002001", "否", "", "2030-01-01"],
        ["建议", "15–18岁", "", "不存在社区", "也许", "", "昨天"],
    ]
    res = letters_import(actor=w["wcco_a"], file=xlsx(rows), filename="bad.xlsx")
    assert not res.ok and Suggestion.objects.count() == 0
    got = {(e.row, e.column) for e in res.errors}
    assert (3, "建议内容") in got  # row 3 of the sheet (header is row 1)
    assert (4, "年龄段") in got
    assert {(5, "主题"), (5, "地点/区域"), (5, "监护人同意"), (5, "监护人联系方式")} <= got
    assert (5, "来信日期") in got
    assert {(6, "地点/区域"), (6, "监护人同意"), (6, "来信日期")} <= got
    outside = [e for e in res.errors if e.row == 5 and e.column == "地点/区域"][0]
    assert "乙街道" in outside.message
    assert not AuditLog.objects.filter(object_type="voice.suggestion").exists()


def test_gbk_csv_and_utf8_csv():
    w = world()
    rows = [
        [
            "公园的秋千太少了",
            "9–12岁",
            "游乐场和公园",
            "990001001002",
            "是",
            "13600000001",
            "2026/5/1",
        ]
    ]
    res = letters_import(actor=w["wcco_a"], file=csv_bytes(rows), filename="来信.csv")
    assert res.ok and len(res.letters) == 1
    s = Suggestion.objects.get()
    assert s.text == "公园的秋千太少了" and s.topic == "play" and s.area == w["CA2"]
    res = letters_import(actor=w["wcco_a"], file=csv_bytes(rows, "utf-8-sig"), filename="来信.csv")
    assert res.ok and Suggestion.objects.count() == 2


def test_file_errors_and_who_may():
    w = world()
    with pytest.raises(ServiceError, match="建议内容"):
        letters_import(actor=w["wcco_a"], file=xlsx([["x"]], header=["年龄段"]), filename="a.xlsx")
    with pytest.raises(ServiceError):
        letters_import(actor=w["wcco_a"], file=b"not a zip", filename="a.xlsx")
    with pytest.raises(ServiceError):
        letters_import(actor=w["wcco_a"], file=b"x", filename="a.pdf")
    with pytest.raises(ServiceError):
        letters_import(actor=w["wcco_a"], file=xlsx([]), filename="empty.xlsx")
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    public = make_user(Role.PUBLIC, None, password=None)
    with pytest.raises(PermissionDenied):
        letters_import(actor=public, file=xlsx([]), filename="a.xlsx")


def test_the_template_reads_back(client):
    w = world()
    login(client, w["director_a1"])
    r = client.get("/voice/staff/batch/template.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in wb.worksheets[0][1]][:2] == ["建议内容*", "年龄段*"]
    assert "说明" in wb.sheetnames
    # the template with its example row imports as it is
    res = letters_import(actor=w["director_a1"], file=letters_template(), filename="t.xlsx")
    assert res.ok, [str(e) for e in res.errors]
    page = client.get("/voice/staff/batch/").content.decode()
    assert "监护人联系方式" in page


def test_page_shows_row_errors(client):
    w = world()
    login(client, w["wcco_a"])
    r = client.post(
        "/voice/staff/batch/",
        {"file": _upload("bad.xlsx", xlsx([["", "9–12岁", "", "", "", "", ""]]))},
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert 'id="row-errors"' in body and "建议内容" in body
    login(client, w["dept_parks_a"])
    assert client.get("/voice/staff/batch/").status_code == 200  # department staff may too


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
