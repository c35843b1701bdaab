"""The care demo: built into a FILE-based SQLite database in a fresh process, then the raw bytes of
the database (and its -wal/-shm files) are scanned: no child's name, no ID number in the clear."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from yimi.core.demo import build_city, build_users
    from yimi.care.demo import build_care_demo, demo_ledger_rows
    from yimi.care.models import Child, Order, Pairing, Visit, WorklistItem
    from yimi.core.models import User
    from yimi.care import policy
    lines = []
    areas = build_city(lines.append)
    build_users(areas, lines.append)
    build_care_demo(lines.append)
    build_care_demo(lines.append)  # safe to run twice
    seen = {
        u: policy.children_visible_to(User.objects.get(username=u)).count()
        for u in ("demo-director", "demo-supervisor", "demo-wcco", "demo-dept", "demo-volunteer")
    }
    rows = demo_ledger_rows()
    child = Child.objects.filter(is_demo=True).order_by("file_no").first()
    result = {
        "children": Child.objects.filter(is_demo=True).count(),
        "names": [r["姓名"] for r in rows] + [r["监护人姓名"] for r in rows] + ["示例志愿者01"],
        "ids": [r["身份证号"] for r in rows],
        "visits": Visit.objects.count(),
        "orders": sorted(set(Order.objects.values_list("state", flat=True))),
        "pairings": Pairing.objects.count(),
        "worklist": WorklistItem.objects.filter(state="open").count(),
        "seen": seen,
        "decrypts": bool(child and child.name.startswith("示例童")),
        "overdue": Child.objects.filter(is_demo=True, next_visit_due__lt=django.utils.timezone.localdate()).count(),
        "lines": lines,
    }
    open(sys.argv[1], "w", encoding="utf-8").write(json.dumps(result, ensure_ascii=False))
    """
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    import json

    tmp = tmp_path_factory.mktemp("care-demo")
    data, keys = tmp / "data", tmp / "keys"
    data.mkdir()
    env = os.environ.copy()
    for name in ("DATABASE_URL", "YIMI_FIELD_KEYS", "YIMI_HASH_KEY"):
        env.pop(name, None)
    env.update(
        YIMI_DATA_DIR=str(data),
        YIMI_KEY_DIR=str(keys),
        DJANGO_SETTINGS_MODULE="yimi.settings",
        YIMI_IGNORE_DOTENV="1",
        SECRET_KEY="test-care-demo-not-secret",
    )
    out = tmp / "result.json"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return data, json.loads(out.read_text(encoding="utf-8"))


def test_demo_has_children_visits_orders_a_pairing_and_every_demo_user_sees_children(demo_db):
    _data, r = demo_db
    assert r["children"] == 60 and r["decrypts"]
    assert r["visits"] >= 30 and r["overdue"] >= 5
    assert {"applied", "handling", "done", "followed_up"} <= set(r["orders"]), r["orders"]
    assert r["pairings"] == 1 and r["worklist"] > 0
    seen = r["seen"]
    assert seen["demo-supervisor"] == 60
    assert 0 < seen["demo-director"] < 60  # one of the two demo communities
    assert seen["demo-wcco"] == 60
    assert seen["demo-dept"] >= 3  # 教委 tasks with the guardian's referral consent
    assert seen["demo-volunteer"] == 1


def test_raw_database_files_hold_no_name_and_no_id_number_in_the_clear(demo_db):
    data, r = demo_db
    files = [p for p in data.iterdir() if p.name.startswith("yimi.sqlite3")]
    assert any(p.name == "yimi.sqlite3" for p in files)
    blob = b"".join(p.read_bytes() for p in files)
    assert len(blob) > 100_000
    # The scan can fail: the file numbers and the demo street's name are stored in the clear.
    assert "五道口演示街道".encode() in blob
    assert b"110108900001-00001" in blob
    leaked = [n for n in r["names"] if n.encode("utf-8") in blob]
    assert leaked == []
    leaked_ids = [n for n in r["ids"] if n.encode("ascii") in blob or n[:17].encode() in blob]
    assert leaked_ids == []
