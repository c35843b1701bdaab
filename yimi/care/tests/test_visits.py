"""Visits: the 8 aspects, who may record them, risk, the schedule, follow-ups, due lists."""

from __future__ import annotations

import datetime as dt

import pytest

from yimi.care.models import ChildEvent, Visit
from yimi.care.selectors import work as sel
from yimi.care.services.work import visit_follow_up_done, visit_record
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_user

from .builders_work import NAMES, findings, make_child, today


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def director(city):
    return make_user(Role.DIRECTOR, city["CA1"])


def test_a_visit_covers_8_aspects_and_reschedules_by_risk(city, director, settings):
    settings.YIMI_CARE_VISIT_DAYS = {"high": 30, "medium": 60, "low": 90}
    child = make_child(city["CA1"], next_visit_due=today() - dt.timedelta(days=3))
    visit = visit_record(
        actor=director,
        child=child,
        visited_on=today(),
        kind="home",
        findings=findings(),
        concerns=["safety"],
        follow_ups=[{"action": "联系学校", "due": today() + dt.timedelta(days=5)}],
        risk_after="high",
    )
    child.refresh_from_db()
    assert child.risk_level == "high"
    assert child.next_visit_due == today() + dt.timedelta(days=30)  # high risk: monthly
    assert visit.follow_ups == [
        {"action": "联系学校", "due": (today() + dt.timedelta(days=5)).isoformat(), "done": False}
    ]
    kinds = list(child.events.values_list("kind", flat=True))
    assert ChildEvent.Kind.VISIT in kinds and ChildEvent.Kind.UPDATED in kinds
    risk_event = child.events.get(kind=ChildEvent.Kind.UPDATED)
    assert "风险等级" in risk_event.summary and "高" in risk_event.summary
    # Audited, without the findings in clear.
    row = AuditLog.objects.get(object_type="care.visit", object_id=str(visit.pk))
    assert row.area_path == city["CA1"].path
    assert "联系学校" not in str(row.after) and "正常" not in str(row.after)
    for event in child.events.all():
        assert not any(n in event.summary for n in NAMES)


def test_every_aspect_must_be_written(city, director):
    child = make_child(city["CA1"])
    partial = findings()
    partial["psychological"] = "  "
    with pytest.raises(ServiceError) as err:
        visit_record(actor=director, child=child, visited_on=today(), kind="home", findings=partial)
    assert "心理" in err.value.message or "Psychological" in err.value.message
    assert not Visit.objects.exists()
    with pytest.raises(ServiceError):
        visit_record(
            actor=director,
            child=child,
            visited_on=today() + dt.timedelta(days=1),
            kind="home",
            findings=findings(),
        )


def test_only_caseworkers_of_the_area_record_visits(city):
    child = make_child(city["CA1"])
    other = make_user(Role.DIRECTOR, city["CA2"])
    wcco = make_user(Role.WCCO, city["A"])
    for user in (other, wcco, make_user(Role.DIRECTOR, city["B"])):
        with pytest.raises(PermissionDenied):
            visit_record(
                actor=user, child=child, visited_on=today(), kind="home", findings=findings()
            )
    supervisor = make_user(Role.SUPERVISOR, city["SA"])
    visit_record(
        actor=supervisor, child=child, visited_on=today(), kind="phone", findings=findings()
    )
    assert Visit.objects.count() == 1


def test_due_overdue_and_upcoming_lists(city, director):
    t = today()
    late = make_child(city["CA1"], next_visit_due=t - dt.timedelta(days=2))
    soon = make_child(city["CA1"], next_visit_due=t + dt.timedelta(days=3))
    later = make_child(city["CA1"], next_visit_due=t + dt.timedelta(days=10))
    make_child(city["CA1"], next_visit_due=t + dt.timedelta(days=40))
    elsewhere = make_child(city["CA2"], next_visit_due=t - dt.timedelta(days=2))
    assert list(sel.visit_schedule(director, due="overdue")) == [late]
    assert list(sel.visit_schedule(director, due="due")) == [soon]
    assert list(sel.visit_schedule(director, due="upcoming")) == [later]
    # The street's supervisor sees both communities, grouped with their directors.
    supervisor = make_user(Role.SUPERVISOR, city["SA"])
    overdue = list(sel.visit_schedule(supervisor, due="overdue"))
    assert set(overdue) == {late, elsewhere}
    groups = sel.group_by_community(overdue)
    assert [g.community.code for g in groups] == ["990001001001", "990001001002"]
    assert groups[0].directors == [director] and groups[1].directors == []
    # Other roles get no lists of names.
    assert not sel.visit_schedule(make_user(Role.WCCO, city["A"]), due="overdue").exists()
    # Visiting takes the child off the overdue list.
    visit_record(actor=director, child=late, visited_on=t, kind="home", findings=findings())
    assert not sel.visit_schedule(director, due="overdue").exists()


def test_follow_ups_due_and_marked_done(city, director):
    child = make_child(city["CA1"])
    t = today()
    visit = visit_record(
        actor=director,
        child=child,
        visited_on=t - dt.timedelta(days=10),
        kind="home",
        findings=findings(),
        follow_ups=[
            {"action": "补办低保材料", "due": t - dt.timedelta(days=1)},
            {"action": "心理辅导转介", "due": t + dt.timedelta(days=30)},
        ],
    )
    due = sel.follow_ups_due(director)
    assert [(f.action, f.overdue) for f in due] == [("补办低保材料", True)]
    with pytest.raises(PermissionDenied):
        visit_follow_up_done(actor=make_user(Role.DIRECTOR, city["CA2"]), visit=visit, index=0)
    visit_follow_up_done(actor=director, visit=visit, index=0)
    assert sel.follow_ups_due(director) == []
    visit.refresh_from_db()
    assert visit.follow_ups[0]["done"] is True and visit.follow_ups[1]["done"] is False
    with pytest.raises(ServiceError):
        visit_follow_up_done(actor=director, visit=visit, index=5)
