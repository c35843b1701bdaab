"""Statistics on a known data set: exact counts, adoption rate, median response time, overdue
and participation, scoped by area and department; a fixed number of queries; the Excel export
holds counts only and is audited."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from yimi.core.models import AuditLog
from yimi.voice.models import Activity, Event, GroupMember, ObserverGroup, Registration
from yimi.voice.selectors.stats import adoption_rate, voice_stats

from .test_public_support import letter, world

pytestmark = pytest.mark.django_db


def _suggestions(w):
    rows = [
        # area, topic, department, adoption, days to answer, due in days
        ("CA1", "play", "edu", "adopted", 2, None),
        ("CA1", "play", "edu", "partly", 4, None),
        ("CA2", "traffic", "parks", "planned", 10, None),
        ("CA2", "traffic", "parks", "not_now", 6, None),
        ("CA1", "school", "edu", "", None, -3),  # overdue
        ("CA1", "school", "edu", "", None, 5),
        ("B", "play", "edu_b", "adopted", 1, None),
        ("B", "nature", None, "", None, None),  # not assigned yet
        ("SA", "culture", "parks", "", None, -1),  # overdue
    ]
    for area, topic, dept, adoption, days, due in rows:
        letter(
            w[area],
            text="私密原文：我叫李小红，电话13811112222",
            topic=topic,
            department=w[dept] if dept else None,
            adoption=adoption,
            reply="回复" if adoption else "",
            answered_days=days,
            due_in_days=due,
            created_days_ago=20,
        )


def _participation(w):
    today = dt.date.today()

    def member(group, name):
        return GroupMember.objects.create(
            group=group,
            name=name,
            age_group="9-12",
            guardian_name="家长",
            guardian_contact="13900000000",
            guardian_consent_on=today,
            term_start=today,
            term_end=today + dt.timedelta(days=365),
        )

    g = ObserverGroup.objects.create(name="小小观察团", area=w["CA1"])
    m1, m2, m3 = member(g, "甲"), member(g, "乙"), member(g, "丙")
    a1 = Activity.objects.create(group=g, kind="site_visit", title="看公园", held_on=today)
    a1.attendees.set([m1, m2, m3])
    a2 = Activity.objects.create(group=g, kind="training", title="培训", held_on=today)
    a2.attendees.set([m1, m2])
    gb = ObserverGroup.objects.create(name="乙区观察团", area=w["B"])
    ab = Activity.objects.create(group=gb, kind="deliberation", title="议事", held_on=today)
    ab.attendees.set([member(gb, "丁")])
    now = dt.datetime.now(dt.UTC)
    e = Event.objects.create(
        title="儿童友好日",
        kind="friendly_day",
        area=w["CA1"],
        starts_at=now,
        ends_at=now + dt.timedelta(hours=2),
        capacity=30,
        walk_ins=4,
    )
    for code, n, status in (
        ("R1", 2, "checked_in"),
        ("R2", 1, "registered"),
        ("R3", 3, "cancelled"),
    ):
        Registration.objects.create(
            event=e,
            guardian_name="家长",
            guardian_contact="139",
            children=n,
            age_group="6-9",
            code=code,
            status=status,
        )
    Event.objects.create(
        title="乙区开放日",
        kind="visit",
        area=w["B"],
        starts_at=now,
        ends_at=now + dt.timedelta(hours=2),
        capacity=10,
        walk_ins=10,
    )


@pytest.fixture
def w():
    w = world()
    _suggestions(w)
    _participation(w)
    return w


def _by(rows):
    return {r["label"]: r["value"] for r in rows}


def test_city_wcco_sees_everything(w):
    d = voice_stats(user=w["wcco_city"])
    t = d["totals"]
    assert (t["total"], t["answered"], t["adopted"], t["overdue"]) == (9, 5, 3, 2)
    assert t["rate"] == 60.0  # (采纳 2 + 部分采纳 1) / answered 5
    assert t["median_days"] == 4.0  # 1, 2, 4, 6, 10
    assert _by(d["by_area"]) == {"甲区": 7, "乙区": 2}
    adoption = {r["key"]: r["value"] for r in d["by_adoption"]}
    assert adoption == {"adopted": 2, "partly": 1, "planned": 1, "not_now": 1}
    p = d["participation"]
    assert (p["activities"], p["attendances"], p["members"]) == (3, 6, 4)
    assert (p["events"], p["registrations"], p["registered_children"]) == (2, 2, 3)
    assert (p["checked_in_children"], p["walk_ins"], p["total"]) == (2, 14, 6 + 2 + 14)


def test_district_wcco_is_scoped_to_its_district(w):
    d = voice_stats(user=w["wcco_a"])
    t = d["totals"]
    assert (t["total"], t["answered"], t["adopted"], t["overdue"]) == (7, 4, 2, 2)
    assert t["rate"] == 50.0 and t["median_days"] == 5.0  # 2, 4, 6, 10 → (4 + 6) / 2
    topics = {r["key"]: r["value"] for r in d["by_topic"]}
    assert topics == {"play": 2, "traffic": 2, "school": 2, "culture": 1}
    assert _by(d["by_area"]) == {"甲街道": 7}
    depts = {
        r["label"]: (
            r["value"],
            r["answered"],
            r["adopted"],
            r["overdue"],
            r["rate"],
            r["median_days"],
        )
        for r in d["by_department"]
    }
    assert depts == {
        w["edu"].name: (4, 2, 2, 1, 100.0, 3.0),
        w["parks"].name: (3, 2, 0, 1, 0.0, 8.0),
    }
    p = d["participation"]
    assert (p["activities"], p["attendances"], p["members"], p["events"]) == (2, 5, 3, 1)
    assert (p["checked_in_children"], p["walk_ins"], p["event_participants"], p["total"]) == (
        2,
        4,
        6,
        11,
    )


def test_a_department_sees_only_its_own(w):
    t = voice_stats(user=w["u_edu"])["totals"]
    assert (t["total"], t["answered"], t["adopted"], t["overdue"], t["rate"], t["median_days"]) == (
        4,
        2,
        2,
        1,
        100.0,
        3.0,
    )
    t = voice_stats(user=w["u_parks"])["totals"]
    assert (t["total"], t["adopted"], t["rate"], t["median_days"]) == (3, 0, 0.0, 8.0)


def test_adoption_rate_definition():
    assert adoption_rate(0, 0) is None
    assert adoption_rate(1, 3) == 33.3


def test_few_queries_whatever_the_number_of_rows(w):
    with CaptureQueriesContext(connection) as small:
        voice_stats(user=w["wcco_city"])
    _suggestions(w)
    _suggestions(w)
    with CaptureQueriesContext(connection) as large:
        voice_stats(user=w["wcco_city"])
    assert len(large.captured_queries) == len(small.captured_queries)
    # Totals, median, adoption, topic, area (2), department (+ a median per department),
    # participation (3).
    assert len(small.captured_queries) <= 25


def test_page_and_permissions(client, w):
    url = reverse("voice:stats")
    assert client.get(url).status_code == 302  # log in first
    client.force_login(w["public"])
    assert client.get(url).status_code == 403
    client.force_login(w["wcco_a"])
    page = client.get(url).content.decode()
    assert 'id="st-total">7<' in page and 'id="st-rate">50.0%<' in page
    assert "vs-bar" in page and "李小红" not in page


def test_export_counts_only_and_audited(client, w):
    client.force_login(w["wcco_city"])
    r = client.get(reverse("voice:stats-export"))
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    wb = load_workbook(io.BytesIO(r.content))
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    joined = " ".join(cells)
    for personal in ("李小红", "13811112222", "13900000000", "私密原文", "家长"):
        assert personal not in joined
    summary = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True)}
    assert 9 in summary.values() and 60.0 in summary.values() and 4.0 in summary.values()
    row = AuditLog.objects.get(action=AuditLog.Action.EXPORT, object_type="voice.stats")
    assert row.actor == w["wcco_city"] and "9 suggestions" in row.note
    client.force_login(w["public"])
    assert client.get(reverse("voice:stats-export")).status_code == 403
