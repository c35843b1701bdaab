"""Monitoring (动态监测): totals on a small dataset, scoping, de-identification, small cells."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from yimi.care.models import Order, Policy, WorklistItem
from yimi.care.selectors import monitor
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user

from .builders_volunteers import make_child

TODAY = timezone.localdate


@pytest.fixture
def world(db):
    """CA1: 6 orphans (2 of them also low-income), CA2: 2 left-behind, B: 3 migrants."""
    city = make_city()
    past = TODAY() - dt.timedelta(days=3)
    ca1 = [
        make_child(
            city["CA1"],
            categories=["orphan", "low_income"] if i < 2 else ["orphan"],
            risk_level="high" if i == 0 else "low",
            next_visit_due=past if i < 3 else TODAY() + dt.timedelta(days=20),
        )
        for i in range(6)
    ]
    ca2 = [make_child(city["CA2"], categories=["left_behind"]) for _ in range(2)]
    b = [make_child(city["B"], categories=["migrant"], next_visit_due=past) for _ in range(3)]
    closed = make_child(city["CA1"], categories=["orphan"], status="closed")
    dept = make_department(city["A"], "civil")
    pol = Policy.objects.create(
        code="P-1",
        name="孤儿基本生活费",
        domain="life",
        benefit="每月发放",
        lead_department=dept,
        area=city["city"],
    )
    now = timezone.now()
    Order.objects.create(
        number="O-1",
        child=ca1[0],
        policy=pol,
        area=city["CA1"],
        state="handling",
        step_due=now - dt.timedelta(days=1),
        escalations=1,
        escalated_at=now,
    )
    Order.objects.create(
        number="O-2", child=ca1[1], policy=pol, area=city["CA1"], state="followed_up"
    )
    Order.objects.create(
        number="O-3", child=b[0], policy=pol, area=city["B"], state="applied", step_due=now
    )
    for c in ca1[2:]:
        WorklistItem.objects.create(child=c, policy=pol, reasons=["孤儿"])
    WorklistItem.objects.create(child=b[1], policy=pol, reasons=["x"])
    return {"city": city, "ca1": ca1, "ca2": ca2, "b": b, "closed": closed, "policy": pol}


def _cats(data) -> dict:
    return {r["code"]: r["count"] for r in data["by_category"]}


def test_community_director_sees_exact_identified_totals(world):
    director = make_user(Role.DIRECTOR, world["city"]["CA1"])
    data = monitor.monitor_summary(user=director)
    assert data["scope"]["deidentified"] is False
    assert data["totals"] == {
        "children": 7,
        "active": 6,
        "overdue_visits": 3,
        "unserved_children": 4,
    }
    cats = _cats(data)
    assert cats["orphan"] == 6 and cats["low_income"] == 2 and cats["migrant"] == 0
    assert {r["code"]: r["count"] for r in data["by_risk"]} == {"high": 1, "medium": 0, "low": 5}
    assert {r["code"]: r["count"] for r in data["by_status"]}["closed"] == 1
    assert data["orders"]["total"] == 2 and data["orders"]["open"] == 1
    assert data["orders"]["overdue"] == 1 and data["orders"]["escalated"] == 1
    assert data["unserved"] == [{"policy": "P-1", "name": "孤儿基本生活费", "children": 4}]
    # Drill-down: the director's own children with an overdue visit, by file number.
    overdue = {c["file_no"] for c in data["drilldown"]["overdue"]}
    assert overdue == {c.file_no for c in world["ca1"][:3]}


def test_street_supervisor_sees_deidentified_suppressed_totals(world, client):
    supervisor = make_user(Role.SUPERVISOR, world["city"]["SA"])
    data = monitor.monitor_summary(user=supervisor)
    assert data["scope"]["deidentified"] is True and data["drilldown"] is None
    rows = {a["code"]: a for a in data["areas"]}
    assert set(rows) == {"990001001001", "990001001002"}
    # CA2's 2 children are a small cell; CA1's 6 would then follow from the total of 8, so it
    # is hidden too ("*").
    assert rows["990001001002"]["active"] == "<5"
    assert rows["990001001001"]["active"] == "*"
    assert data["totals"]["active"] == 8  # CA1 + CA2; district B is not the supervisor's
    # 1 closed record: the statuses and the number of all records must not give it away.
    statuses = {r["code"]: r["count"] for r in data["by_status"]}
    assert statuses == {"active": 8, "closed": "<5", "transferred": 0}
    assert data["totals"]["children"] == "*"
    assert rows["990001001001"]["categories"]["orphan"] == 6
    # 2 low-income children in CA1 and 2 left-behind in CA2 are small cells.
    assert rows["990001001001"]["categories"]["low_income"] == "<5"
    assert rows["990001001002"]["categories"]["left_behind"] == "<5"
    assert rows["990001001001"]["overdue_visits"] == "<5"
    assert _cats(data)["low_income"] == "<5" and _cats(data)["orphan"] == 6
    assert {r["code"]: r["count"] for r in data["by_risk"]} == {
        "high": "<5",
        "medium": 0,
        "low": "*",
    }

    client.force_login(supervisor)
    for body in (
        client.get("/api/v1/care/monitor").content.decode(),
        client.get(reverse("care:monitor")).content.decode(),
    ):
        for c in [*world["ca1"], *world["ca2"], world["closed"]]:
            assert c.file_no not in body and c.name not in body
        assert "&lt;5" in body or "<5" in body
    api = client.get("/api/v1/care/monitor").json()
    assert api["scope"]["deidentified"] is True and api["drilldown"] is None


def test_scoping_by_area(world):
    b_director = make_user(Role.DIRECTOR, world["city"]["B"])
    data = monitor.monitor_summary(user=b_director)
    # District level is above the community: de-identified, and only district B's children.
    assert data["scope"]["deidentified"] is True
    assert data["totals"]["active"] == "<5"  # 3 migrants
    assert _cats(data)["orphan"] == 0
    assert data["orders"]["total"] == 1
    wcco = make_user(Role.WCCO, world["city"]["city"])
    whole = monitor.monitor_summary(user=wcco)
    assert whole["totals"]["active"] == 11 and whole["orders"]["total"] == 3
    assert {a["code"] for a in whole["areas"]} == {"990001", "990002"}


def test_secondary_suppression_protects_a_lone_small_cell():
    # Row total 12 with cells 8 and 4: the 4 would be recoverable from the total.
    assert monitor.suppress_list([8, 4, 0], 12) == ["*", "<5", 0]
    assert monitor.suppress_list([8, 6, 0], 14) == [8, 6, 0]
    assert monitor.suppress_list([3, 1], 4) == ["<5", "<5"]
    # Overlapping categories (no total to subtract from): primary suppression only.
    assert monitor.suppress_list([8, 4, 0], None) == [8, "<5", 0]
    # (0,1) is small → (0,0) hidden in its row, (1,1) in its column, then (1,0) in column 0.
    table = monitor.suppress_table([[10, 2], [7, 9]], [12, 16], [17, 11])
    assert table == [["*", "<5"], ["*", "*"]]


def test_volunteers_and_departments_get_no_monitoring(world, client):
    dept = make_user(
        Role.DEPARTMENT, world["city"]["A"], department=world["policy"].lead_department
    )
    client.force_login(dept)
    assert client.get(reverse("care:monitor")).status_code == 403
    assert client.get("/api/v1/care/monitor").status_code == 403
    client.logout()
    assert client.get("/api/v1/care/monitor").status_code == 401


def test_export_is_audited_and_deidentified(world, client):
    from openpyxl import load_workbook

    wcco = make_user(Role.WCCO, world["city"]["city"])
    client.force_login(wcco)
    r = client.get(reverse("care:monitor_export"))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    text = " ".join(
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    )
    assert "<5" in text and "孤儿基本生活费" in text
    for c in [*world["ca1"], *world["b"]]:
        assert c.file_no not in text and c.name not in text
    row = AuditLog.objects.get(action=AuditLog.Action.EXPORT, object_type="care.monitor")
    assert row.actor == wcco and row.area_path == world["city"]["city"].path


def test_community_page_drills_down_to_own_children(world, client):
    director = make_user(Role.DIRECTOR, world["city"]["CA1"])
    client.force_login(director)
    html = client.get(reverse("care:monitor")).content.decode()
    first = world["ca1"][0]
    assert first.file_no in html and first.name in html  # overdue: listed by name
    assert world["ca1"][5].file_no not in html  # not overdue
    assert world["b"][0].file_no not in html  # another district
    # CSS-only charts: no script inside the page's main element.
    assert "mon-bar" in html and "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_query_count_does_not_grow_with_the_data(world, django_assert_max_num_queries):
    wcco = make_user(Role.WCCO, world["city"]["city"])
    with django_assert_max_num_queries(12):
        monitor.monitor_summary(user=wcco)
    for _ in range(10):
        make_child(world["city"]["CA2"], categories=["migrant"])
    with django_assert_max_num_queries(12):
        data = monitor.monitor_summary(user=wcco)
    assert data["totals"]["active"] == 21
