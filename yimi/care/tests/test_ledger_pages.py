"""The ledger page (upload → preview with errors or diffs → confirm; export), the API and
``yimi care-ledger``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from yimi.care.models import Child
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user

from .test_ledger import ids, row, xlsx

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Yimi-2026!"  # noqa: S105


@pytest.fixture
def city():
    return make_city()


@pytest.fixture
def supervisor(city):
    return make_user(Role.SUPERVISOR, area=city["SA"])


@pytest.fixture
def browser_client(client, supervisor):
    client.force_login(supervisor)
    return client


def _upload(content: bytes, name: str = "台账.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_page_for_caseworkers_not_for_departments(client, city, browser_client):
    r = browser_client.get(reverse("care:ledger"))
    assert r.status_code == 200 and 'action="/care/ledger/preview"' in r.content.decode()
    r = browser_client.get(reverse("care:ledger_template"))
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.content))["说明"]
    dept = make_user(Role.DEPARTMENT, area=city["A"], department=make_department(city["A"]))
    client.force_login(dept)
    assert client.get(reverse("care:ledger")).status_code == 403


def test_preview_shows_errors_by_row_and_column_and_writes_nothing(browser_client):
    bad = ids(1)[0][:-1] + "0"
    if bad == ids(1)[0]:
        bad = bad[:-1] + "1"
    r = browser_client.post(
        reverse("care:ledger_preview"), {"file": _upload(xlsx([row(身份证号=bad, 联系电话="1")]))}
    )
    page = r.content.decode()
    assert r.status_code == 200 and 'id="ledger-errors"' in page
    assert "<td>2</td><td>身份证号</td>" in page and "<td>2</td><td>联系电话</td>" in page
    assert "ledger_confirm" not in page and 'name="token"' not in page
    assert Child.objects.count() == 0


def test_preview_then_confirm_imports_and_the_waiting_file_is_encrypted(browser_client):
    number = ids(1)[0]
    content = xlsx([row(身份证号=number, 姓名="示例童页面")])
    r = browser_client.post(reverse("care:ledger_preview"), {"file": _upload(content)})
    page = r.content.decode()
    assert 'name="token"' in page and Child.objects.count() == 0
    token = page.split('name="token" value="')[1].split('"')[0]
    waiting = Path(settings.DATA_DIR) / "care-ledger-pending" / f"{token}.bin"
    raw = waiting.read_bytes()
    assert "示例童页面".encode() not in raw and number.encode() not in raw
    r = browser_client.post(reverse("care:ledger_confirm"), {"token": token})
    assert r.status_code == 302
    assert Child.objects.get().name == "示例童页面"
    assert not waiting.exists()
    # The token is spent.
    r = browser_client.post(reverse("care:ledger_confirm"), {"token": token})
    assert r.status_code == 302 and Child.objects.count() == 1


def test_confirm_refuses_another_users_token(client, city, browser_client):
    r = browser_client.post(
        reverse("care:ledger_preview"), {"file": _upload(xlsx([row(身份证号=ids(1)[0])]))}
    )
    token = r.content.decode().split('name="token" value="')[1].split('"')[0]
    other = make_user(Role.SUPERVISOR, area=city["SA"])
    client.force_login(other)
    client.post(reverse("care:ledger_confirm"), {"token": token})
    assert Child.objects.count() == 0


def test_page_export_is_masked_and_audited(browser_client, supervisor):
    browser_client.post(
        reverse("care:ledger_preview"), {"file": _upload(xlsx([row(身份证号=ids(1)[0])]))}
    )
    from yimi.care.services.ledger import ledger_import

    ledger_import(actor=supervisor, file=xlsx([row(身份证号=ids(1)[0])]), filename="a.xlsx")
    r = browser_client.post(reverse("care:ledger_export"), {"risk_level": "medium"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content))["台账"]
    assert sheet.cell(3, 2).value == "示**"
    r = browser_client.post(reverse("care:ledger_export"), {"unmasked": "1"})
    assert r.status_code == 302  # refused: no permission
    assert AuditLog.objects.filter(action="export").count() == 1


def test_api_import_dry_run_then_write_and_export(browser_client):
    number = ids(1)[0]
    url = "/api/v1/care/ledger/import"
    r = browser_client.post(url + "?dry_run=true", {"file": _upload(xlsx([row(身份证号=number)]))})
    body = r.json()
    assert r.status_code == 200 and body["created"] == 1 and body["written"] is False
    assert body["new_rows"][0]["id_number"].startswith("110***")
    r = browser_client.post(url, {"file": _upload(xlsx([row(身份证号=number, 风险等级="高")]))})
    assert r.json()["written"] is True and Child.objects.get().risk_level == "high"
    bad = browser_client.post(url, {"file": _upload(xlsx([row(身份证号="123")]))}).json()
    assert bad["written"] is False and bad["errors"][0]["column"] == "身份证号"
    r = browser_client.get("/api/v1/care/ledger/export?risk_level=high")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert browser_client.get("/api/v1/care/ledger/export?unmasked=true").status_code == 403


def test_cli_import_dry_run_import_and_export(city, supervisor, tmp_path, capsys):
    f = tmp_path / "ledger.xlsx"
    f.write_bytes(xlsx([row(身份证号=n, 姓名=f"示例童{i}") for i, n in enumerate(ids(2))]))
    call_command(
        "care_ledger", "import", str(f), "--user", supervisor.username, "--dry-run", "--no-progress"
    )
    assert Child.objects.count() == 0
    call_command("care_ledger", "import", str(f), "--user", supervisor.username, "--no-progress")
    assert Child.objects.count() == 2
    out = tmp_path / "out.xlsx"
    call_command("care_ledger", "export", str(out), "--user", supervisor.username)
    assert load_workbook(out)["台账"].max_row == 4
    with pytest.raises(CommandError):
        call_command("care_ledger", "export", str(out), "--user", supervisor.username, "--unmasked")
    bad = tmp_path / "bad.csv"
    bad.write_bytes("姓名,身份证号,类别,社区代码\n示例童,123,留守儿童,990001001001\n".encode("gbk"))
    with pytest.raises(CommandError):
        call_command(
            "care_ledger", "import", str(bad), "--user", supervisor.username, "--no-progress"
        )
    printed = capsys.readouterr().out
    assert "身份证号" in printed and ("第2行" in printed or "row 2" in printed)
