"""The city's self-assessment: who may read and change it (each role, pages and API), an audit
row for every change and export, evidence checks, the Excel export and the PDF report with an
embedded Chinese font."""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib

import pytest
from django.test import override_settings

from yimi.core.models import Area, AuditLog
from yimi.core.services import PermissionDenied, ServiceError
from yimi.practices import exports, selectors, services
from yimi.practices.models import Measure, MeasureProgress

pytestmark = pytest.mark.django_db

EDITORS = {"admin", "wcco"}
READERS = {"admin", "wcco", "department", "supervisor", "director"}
ROLES = ("admin", "wcco", "department", "supervisor", "director", "expert", "volunteer", "public")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def audits(**kw):
    return AuditLog.objects.filter(object_type="practices.measureprogress", **kw)


def m(code="三(一)") -> Measure:
    return Measure.objects.get(code=code)


# ------------------------------------------------------------------------------ permissions


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(client, users, role):
    client.force_login(users[role])
    assert client.get("/practices/").status_code == 200
    expect_read = 200 if role in READERS else 403
    assert client.get("/practices/progress/").status_code == expect_read
    assert client.get("/practices/progress/export.xlsx").status_code == expect_read
    expect_edit = 200 if role in EDITORS else 403
    assert client.get("/practices/progress/3-1/edit/").status_code == expect_edit
    r = client.post("/practices/progress/3-1/edit/", {"status": "planned"})
    assert r.status_code == (302 if role in EDITORS else 403)
    assert MeasureProgress.objects.filter(measure=m()).exists() == (role in EDITORS)


def test_anonymous_is_sent_to_log_in(client):
    for url in (
        "/practices/progress/",
        "/practices/progress/3-1/edit/",
        "/practices/progress/report.pdf",
    ):
        r = client.get(url)
        assert r.status_code == 302 and "/login/" in r["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(client, users, role):
    client.force_login(users[role])
    r = client.get("/api/v1/practices/progress")
    assert r.status_code == (200 if role in READERS else 403)
    if r.status_code == 200:
        assert len(r.json()) == 18
    r = client.put(
        "/api/v1/practices/progress/三(一)",
        {"status": "in_progress", "note": "API"},
        content_type="application/json",
    )
    assert r.status_code == (200 if role in EDITORS else 403), r.content
    if role in EDITORS:
        assert r.json()["status"] == "in_progress" and r.json()["measure"] == "三(一)"


def test_api_without_log_in(client):
    assert client.get("/api/v1/practices/progress").status_code == 401
    r = client.put(
        "/api/v1/practices/progress/3-1", {"status": "planned"}, content_type="application/json"
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


def test_api_put_needs_the_csrf_token(users):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(users["wcco"])
    r = c.put(
        "/api/v1/practices/progress/3-1", {"status": "planned"}, content_type="application/json"
    )
    assert r.status_code in (401, 403)
    assert not MeasureProgress.objects.exists()


def test_api_errors(client, users):
    client.force_login(users["wcco"])
    put = lambda code, body: client.put(  # noqa: E731
        f"/api/v1/practices/progress/{code}", body, content_type="application/json"
    )
    assert put("九(九)", {"status": "planned"}).status_code == 404
    r = put("3-1", {"status": "done"})
    assert r.status_code == 400 and "done" in r.json()["error"]["message"]
    assert put("3-1", {"status": "planned", "department_id": 999999}).status_code == 400
    assert put("3-1", {"status": "planned", "target_date": "明天"}).status_code == 422
    assert not MeasureProgress.objects.exists()


def test_service_refuses_readers(users):
    with pytest.raises(PermissionDenied):
        services.progress_update(actor=users["department"], measure=m(), status="planned")


# ------------------------------------------------------------------------------ audit


def test_every_change_is_audited_with_before_and_after(users, dept):
    wcco = users["wcco"]
    services.progress_update(actor=wcco, measure=m(), status="planned", note="起步")
    [a] = audits(action="create")
    assert a.before is None and a.after["status"] == "planned" and a.actor == wcco
    assert a.area_path == wcco.area.path
    services.progress_update(
        actor=wcco,
        measure=m(),
        status="in_progress",
        note="起步",
        department=dept,
        target_date=dt.date(2027, 6, 30),
    )
    u = audits(action="update").get()
    assert u.before["status"] == "planned" and u.after["status"] == "in_progress"
    assert u.after["department_id"] == dept.pk and u.after["target_date"] == "2027-06-30"
    # Saving the same values again is not a change.
    services.progress_update(
        actor=wcco,
        measure=m(),
        status="in_progress",
        note="起步",
        department=dept,
        target_date=dt.date(2027, 6, 30),
    )
    assert audits().count() == 2
    # The measure page shows the history.
    assert len(selectors.progress_history(MeasureProgress.objects.get())) == 2


def test_page_and_api_changes_are_audited(client, users):
    client.force_login(users["wcco"])
    client.post("/practices/progress/3-1/edit/", {"status": "planned", "note": "页面"})
    client.put(
        "/api/v1/practices/progress/3-1", {"status": "established"}, content_type="application/json"
    )
    rows = list(audits().order_by("id"))
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before["status"] == "planned" and rows[1].after["status"] == "established"
    assert rows[1].ip_address == "127.0.0.1"


def test_exports_are_audited(client, users):
    client.force_login(users["director"])
    client.get("/practices/progress/export.xlsx")
    client.get("/practices/progress/report.pdf")
    fmts = sorted(a.after["format"] for a in audits(action="export"))
    assert fmts == ["pdf", "xlsx"]
    assert all(a.actor == users["director"] for a in audits(action="export"))


# ------------------------------------------------------------------------------ evidence


def _run(area, status="done"):
    from yimi.access.models import AnalysisRun

    return AnalysisRun.objects.create(area=area, status=status, params={})


def test_evidence_link_to_visible_objects(users, city):
    from yimi.places.models import Theme

    theme = Theme.objects.create(slug="kepu", name="科普", area=city["city"])
    p = services.progress_update(
        actor=users["wcco"],
        measure=m(),
        status="in_progress",
        evidence_kind="theme",
        evidence_object_id=theme.pk,
    )
    assert (p.evidence_kind, p.evidence_object_id, p.evidence_label) == ("theme", theme.pk, "科普")
    assert selectors.evidence_url(p) == "/map/staff/themes/kepu/"
    run = _run(city["district"])
    p = services.progress_update(
        actor=users["wcco"],
        measure=m(),
        status="in_progress",
        evidence_kind="analysis",
        evidence_object_id=run.pk,
    )
    assert p.evidence_label == str(run)


def test_evidence_that_does_not_exist_or_is_not_visible(users, city):
    other = Area.objects.create(code="440100", name="广州市", level=1, path="/440100/")
    hidden = _run(other)
    unfinished = _run(city["city"], status="running")
    for kind, oid in (
        ("theme", 987654),
        ("analysis", hidden.pk),
        ("analysis", unfinished.pk),
        ("policy", 5),
    ):
        with pytest.raises(
            ServiceError, match="不存在或您无权查看|does not exist or you cannot see it"
        ):
            services.progress_update(
                actor=users["wcco"],
                measure=m(),
                status="planned",
                evidence_kind=kind,
                evidence_object_id=oid,
            )
    with pytest.raises(ServiceError):
        services.progress_update(
            actor=users["wcco"],
            measure=m(),
            status="planned",
            evidence_kind="rocket",
            evidence_object_id=1,
        )
    assert not MeasureProgress.objects.exists()
    # The administrator sees every area.
    p = services.progress_update(
        actor=users["admin"],
        measure=m(),
        status="planned",
        evidence_kind="analysis",
        evidence_object_id=hidden.pk,
    )
    assert p.evidence_object_id == hidden.pk


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("report.exe", b"MZ\x90\x00", "type"),
        ("photo.png", PDF, "content"),
        ("scan.pdf", PNG, "content"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"0" * services.MAX_EVIDENCE_BYTES, "big"),
    ],
)
def test_evidence_files_are_checked(users, name, data, problem):
    with pytest.raises(ServiceError) as exc:
        services.progress_update(
            actor=users["wcco"], measure=m(), status="planned", evidence_upload=(name, data)
        )
    assert exc.value.message
    assert not MeasureProgress.objects.exists()


def test_evidence_file_upload_and_download(client, users, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["wcco"])
    f = SimpleUploadedFile("验收报告.pdf", PDF, content_type="application/pdf")
    r = client.post("/practices/progress/3-1/edit/", {"status": "established", "evidence_file": f})
    assert r.status_code == 302
    p = MeasureProgress.objects.get()
    assert p.evidence_kind == "file" and p.evidence_file_name == "验收报告.pdf"
    assert p.evidence_file.path.startswith(str(settings.MEDIA_ROOT))
    assert audits(action="create").get().after["evidence_file"].startswith("practices/evidence/")
    client.force_login(users["department"])  # staff may read the evidence
    r = client.get("/practices/progress/3-1/evidence/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    client.force_login(users["public"])
    assert client.get("/practices/progress/3-1/evidence/").status_code == 403
    # Saving again without a new file keeps it.
    client.force_login(users["wcco"])
    client.post(
        "/practices/progress/3-1/edit/",
        {"status": "established", "evidence": "file", "note": "保留"},
    )
    p.refresh_from_db()
    assert p.evidence_file_name == "验收报告.pdf" and p.note == "保留"


def test_a_bad_upload_shows_a_chinese_error_on_the_page(client, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["wcco"])
    f = SimpleUploadedFile("x.png", PDF)
    r = client.post("/practices/progress/3-1/edit/", {"status": "planned", "evidence_file": f})
    assert r.status_code == 200
    assert (
        "文件内容与文件名不符" in r.content.decode()
        or "does not match its name" in r.content.decode()
    )


# ------------------------------------------------------------------------------ progress page


def test_counts_by_area_and_overdue(client, users):
    wcco = users["wcco"]
    past = dt.date.today() - dt.timedelta(days=3)
    services.progress_update(
        actor=wcco, measure=m("三(一)"), status="in_progress", target_date=past
    )
    services.progress_update(
        actor=wcco, measure=m("三(二)"), status="established", target_date=past
    )
    services.progress_update(
        actor=wcco,
        measure=m("五(一)"),
        status="planned",
        target_date=dt.date.today() + dt.timedelta(days=3),
    )
    s = selectors.progress_summary(wcco)
    area3 = next(a for a in s["areas"] if a["area"].number == 3)
    assert area3["cells"] == [1, 0, 1, 1] and area3["total"] == 3
    assert s["totals"] == [15, 1, 1, 1] and s["total"] == 18
    assert [mm.code for mm, _p in s["overdue"]] == ["三(一)"]
    client.force_login(users["supervisor"])
    html = client.get("/practices/progress/").content.decode()
    assert (
        'id="overdue"' in html and "三(一)" in html.split('id="overdue"')[1].split("</section>")[0]
    )
    assert "progress-edit" not in html and "/edit/" not in html  # readers get no edit links


# ------------------------------------------------------------------------------ exports


def test_excel_export(client, users, dept):
    from openpyxl import load_workbook

    services.progress_update(
        actor=users["wcco"], measure=m(), status="in_progress", department=dept, note="口袋公园改造"
    )
    client.force_login(users["wcco"])
    r = client.get("/practices/progress/export.xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 + 18
    row = next(r for r in rows if r[1] == "三(一)")
    assert row[4] == "温州市教育局" and row[8] == "口袋公园改造"


def _streams(pdf: bytes) -> list[bytes]:
    out = []
    for mt in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        raw = mt.group(1)
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def _to_unicode_chars(pdf: bytes) -> set[str]:
    chars: set[str] = set()
    for s in _streams(pdf):
        if b"begincmap" not in s:
            continue
        for mt in re.finditer(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", s):
            hexval = mt.group(2).decode()
            if len(hexval) % 4 == 0:
                chars.add(bytes.fromhex(hexval).decode("utf-16-be", errors="ignore"))
        for mt in re.finditer(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", s):
            lo, hi, dst = (int(x, 16) for x in mt.groups())
            chars.update(chr(dst + i) for i in range(hi - lo + 1))
    return chars


def test_pdf_report_embeds_a_chinese_font(client, users):
    services.progress_update(
        actor=users["wcco"],
        measure=m(),
        status="in_progress",
        note="口袋公园",
        target_date=dt.date(2020, 1, 1),
    )
    client.force_login(users["wcco"])
    r = client.get("/practices/progress/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf or b"/FontFile3" in pdf
    assert b"/ToUnicode" in pdf
    # A subset: the whole Noto CJK collection is ~20 MB.
    assert len(pdf) < 1_500_000
    mapped = _to_unicode_chars(pdf)
    for text in ("推进公共空间和公共服务设施适儿化改造", "口袋公园", "三(一)"):
        missing = set(text) - mapped - {" "}
        assert not missing, f"not in the ToUnicode map: {missing}"


@override_settings(YIMI_PDF_FONT="/nonexistent/font.ttf")
def test_pdf_with_a_missing_font_says_so_in_chinese(client, users):
    with pytest.raises(exports.FontNotFound):
        exports.find_font()
    client.force_login(users["wcco"])
    r = client.get("/practices/progress/report.pdf", follow=True)
    html = r.content.decode()
    assert "YIMI_PDF_FONT" in html and ("字体" in html or "font" in html)
    assert not audits(action="export").exists()
