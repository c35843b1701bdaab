"""`yimi practices-load` and the practice library's part of `yimi demo`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from yimi.core.models import AuditLog
from yimi.practices.models import Case, MeasureProgress

FIXTURE = Path(__file__).parent / "fixtures" / "catalog"

pytestmark = pytest.mark.django_db


def test_practices_load_checks_and_loads():
    out = io.StringIO()
    call_command("practices_load", "--check", stdout=out)
    assert "7" in out.getvalue() and "44" in out.getvalue()
    call_command("practices_load", "--dir", str(FIXTURE), stdout=out)
    assert Case.objects.count() == 4
    call_command("practices_load", stdout=out)
    assert Case.objects.count() > 50


def test_practices_load_names_the_problem(tmp_path):
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "gazetteer.yaml").write_text(
        (FIXTURE / "gazetteer.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (bad / "area_1.yaml").write_text(
        "number: 1\nnumeral: 一\ntitle: x\nmeasures: []\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match=r"area_1.yaml: measures: 应为非空列表"):
        call_command("practices_load", "--dir", str(bad))


def test_demo_fills_in_some_progress_and_is_safe_to_run_twice():
    from yimi.core.demo import build_city, build_users
    from yimi.practices.demo import DEMO, build_practices_demo

    lines: list[str] = []
    build_users(build_city(lines.append), lines.append)
    build_practices_demo(lines.append)
    assert MeasureProgress.objects.count() == len(DEMO)
    assert {p.status for p in MeasureProgress.objects.all()} == {
        "established",
        "in_progress",
        "planned",
    }
    assert AuditLog.objects.filter(
        object_type="practices.measureprogress", actor__username="demo-wcco"
    ).count() == len(DEMO)
    build_practices_demo(lines.append)
    assert MeasureProgress.objects.count() == len(DEMO)
