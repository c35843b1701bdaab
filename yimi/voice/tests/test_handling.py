"""Routing with deadlines, reassignment, department settings, the answer and its checks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from yimi.core.models import AuditLog
from yimi.core.services import PermissionDenied, ServiceError
from yimi.voice.models import Assignment, DepartmentSetting, Suggestion
from yimi.voice.selectors.mailbox import receipt_lookup
from yimi.voice.services import handling as svc

from .test_handling_support import letter, login, world

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


def test_the_suggested_department_is_the_nearest_of_the_suggested_kind():
    w = world()
    s = letter("公园的滑梯坏了", area=w["CA1"])
    assert s.suggested_department_kind == "parks"
    assert svc.department_suggest(s, w["wcco_a"]) == w["parks_a"]
    offered = list(svc.departments_for(s, w["wcco_a"]))
    assert w["parks_a"] in offered and w["edu_city"] in offered
    assert w["parks_b"] not in offered  # another district's department


def test_route_sets_the_deadline_from_the_department_setting():
    w = world()
    s = letter("公园的滑梯坏了", area=w["CA1"])
    a = svc.suggestion_route(
        actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_a"], today=TODAY
    )
    s.refresh_from_db()
    assert a.due_on == TODAY + timedelta(days=10) == s.due_on
    assert s.status == Suggestion.Status.ASSIGNED and s.department == w["parks_a"]
    assert a.assigned_by == w["wcco_a"] and a.ended_at is None
    # a department without a setting: 15 calendar days
    s2 = letter("公园的滑梯坏了", area=w["CA1"])
    DepartmentSetting.objects.filter(department=w["transport_a"]).delete()
    a2 = svc.suggestion_route(
        actor=w["wcco_a"], suggestion=s2, topic="traffic", department=w["transport_a"], today=TODAY
    )
    assert a2.due_on == TODAY + timedelta(days=15)
    assert AuditLog.objects.filter(
        object_type="voice.suggestion", object_id=str(s.pk), note="routed"
    ).exists()
    with pytest.raises(ServiceError):  # already routed
        svc.suggestion_route(actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_a"])


def test_route_refusals():
    w = world()
    s = letter(area=w["CA1"])
    with pytest.raises(ServiceError, match=re.escape(w["parks_b"].name)):
        svc.suggestion_route(actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_b"])
    with pytest.raises(ServiceError):
        svc.suggestion_route(actor=w["wcco_a"], suggestion=s, topic="nope", department=w["parks_a"])
    with pytest.raises(ServiceError):  # another district's WCCO: not found
        svc.suggestion_route(actor=w["wcco_b"], suggestion=s, topic="play", department=w["parks_a"])
    with pytest.raises(PermissionDenied):
        svc.suggestion_route(
            actor=w["dept_parks_a"], suggestion=s, topic="play", department=w["parks_a"]
        )


def test_reassignment_ends_the_old_assignment_and_starts_a_new_deadline():
    w = world()
    s = letter(area=w["CA1"])
    svc.suggestion_route(
        actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_a"], today=TODAY
    )
    s.refresh_from_db()
    s.escalation_level = 1
    s.save()
    with pytest.raises(ServiceError):
        svc.suggestion_reassign(
            actor=w["wcco_a"], suggestion=s, department=w["transport_a"], reason=""
        )
    later = TODAY + timedelta(days=4)
    svc.suggestion_reassign(
        actor=w["wcco_a"],
        suggestion=s,
        department=w["transport_a"],
        reason="涉及路口，交通部门负责",
        today=later,
    )
    s.refresh_from_db()
    old, new = Assignment.objects.filter(suggestion=s).order_by("id")
    assert old.ended_at is not None and new.ended_at is None
    assert new.reason == "涉及路口，交通部门负责"
    assert s.department == w["transport_a"] and s.due_on == later + timedelta(days=15)
    assert s.escalation_level == 0
    with pytest.raises(ServiceError):
        svc.suggestion_reassign(
            actor=w["wcco_a"], suggestion=s, department=w["transport_a"], reason="again"
        )


def test_answer_validation_and_the_receipt():
    w = world()
    s = letter(area=w["CA1"])
    svc.suggestion_route(actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_a"])
    dept = w["dept_parks_a"]
    reply = "谢谢你的来信！我们会在暑假前修好滑梯。"
    bad = [
        ({"adoption": "maybe", "public_reply": reply}, "adoption"),
        ({"adoption": "not_now", "public_reply": reply}, "adoption_reason"),
        ({"adoption": "partly", "public_reply": reply, "adoption_reason": " "}, "adoption_reason"),
        ({"adoption": "adopted", "public_reply": "好的"}, "public_reply"),
        ({"adoption": "adopted", "public_reply": "好" * 501}, "public_reply"),
    ]
    for kw, field in bad:
        with pytest.raises(ServiceError) as exc:
            svc.suggestion_answer(actor=dept, suggestion=s, **kw)
        assert field in [d["field"] for d in exc.value.details], kw
    s.refresh_from_db()
    assert s.status == Suggestion.Status.ASSIGNED
    svc.suggestion_answer(actor=dept, suggestion=s, adoption="adopted", public_reply=reply)
    s.refresh_from_db()
    assert s.status == "answered" and s.answered_by == dept and s.answered_at
    assert Assignment.objects.get(suggestion=s).ended_at is not None
    seen = receipt_lookup(s.receipt_code)
    assert seen["public_reply"] == reply and seen["adoption"] == "adopted"
    with pytest.raises(ServiceError):
        svc.suggestion_answer(actor=dept, suggestion=s, adoption="adopted", public_reply=reply)
    # another department of the same district cannot answer
    s2 = letter(area=w["CA1"])
    svc.suggestion_route(actor=w["wcco_a"], suggestion=s2, topic="play", department=w["parks_a"])
    with pytest.raises(ServiceError) as exc:
        svc.suggestion_answer(
            actor=w["dept_transport_a"], suggestion=s2, adoption="adopted", public_reply=reply
        )
    assert exc.value.code == "not_found"


def test_answer_page_and_the_action_link(client):
    w = world()
    s = letter(area=w["CA1"])
    svc.suggestion_route(actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_a"])
    login(client, w["dept_parks_a"])
    r = client.post(
        f"/voice/dept/{s.pk}/answer", {"adoption": "not_now", "public_reply": "谢谢你的好主意呀！"}
    )
    assert r.status_code == 400 and 'id="answer-errors"' in r.content.decode()
    r = client.post(
        f"/voice/dept/{s.pk}/answer",
        {
            "adoption": "planned",
            "adoption_reason": "明年预算",
            "public_reply": "谢谢你的好主意！明年春天我们会把滑梯换新。",
        },
    )
    assert r.status_code == 302
    page = client.get(f"/voice/dept/{s.pk}/").content.decode()
    assert f'href="/voice/staff/actions/new/?suggestion={s.pk}"' in page
    # The 妇儿工委办 reaches the same page from the letter.
    login(client, w["wcco_a"])
    page = client.get(f"/voice/staff/letters/{s.pk}/").content.decode()
    assert f'href="/voice/staff/actions/new/?suggestion={s.pk}"' in page


def test_department_settings_page(client):
    w = world()
    login(client, w["wcco_a"])
    page = client.get("/voice/staff/departments/").content.decode()
    assert f'data-department="{w["parks_a"].pk}"' in page
    assert f'data-department="{w["parks_b"].pk}"' not in page
    r = client.post(
        "/voice/staff/departments/",
        {"department": w["parks_a"].pk, "kind": "parks", "deadline_days": "12"},
    )
    assert r.status_code == 302
    assert DepartmentSetting.objects.get(department=w["parks_a"]).deadline_days == 12
    client.post(
        "/voice/staff/departments/",
        {"department": w["parks_a"].pk, "kind": "parks", "deadline_days": "0"},
    )
    assert DepartmentSetting.objects.get(department=w["parks_a"]).deadline_days == 12
    r = client.post(
        "/voice/staff/departments/",
        {"department": w["parks_b"].pk, "kind": "x", "deadline_days": "3"},
    )
    assert r.status_code == 404
    assert AuditLog.objects.filter(object_type="voice.departmentsetting").count() == 1
    login(client, w["dept_parks_a"])
    assert client.get("/voice/staff/departments/").status_code == 403


def test_route_through_the_page(client):
    w = world()
    s = letter("公园的滑梯坏了", area=w["CA1"])
    login(client, w["wcco_a"])
    page = client.get(f"/voice/staff/letters/{s.pk}/").content.decode()
    assert f'<option value="{w["parks_a"].pk}" selected>' in page
    r = client.post(
        f"/voice/staff/letters/{s.pk}/route", {"topic": "play", "department": w["parks_a"].pk}
    )
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.department == w["parks_a"]
    home = client.get("/voice/staff/").content.decode()
    assert 'id="count-unassigned"><strong>0</strong>' in home


def test_landing_page_counts_by_role(client):
    w = world()
    letter(area=w["CA1"])  # pending, unassigned
    hurt = letter("有人欺负我，抢我的钱。", area=w["CA1"])  # hidden at once, a disclosure
    routed = letter(area=w["CA2"])
    svc.suggestion_route(
        actor=w["wcco_a"], suggestion=routed, topic="play", department=w["parks_a"]
    )
    Suggestion.objects.filter(pk=routed.pk).update(due_on=date.today() - timedelta(days=2))
    letter(area=w["SB"])  # district B: none of A's business

    login(client, w["wcco_a"])
    body = client.get("/voice/staff/").content.decode()
    assert 'id="count-pending"><strong>2</strong>' in body  # the disclosure is not pending
    assert 'id="count-unassigned"><strong>2</strong>' in body
    assert 'id="count-overdue" class="vs-alert"><strong>1</strong>' in body
    assert 'id="count-disclosures" class="vs-alert"><strong>1</strong>' in body
    hidden = client.get("/voice/staff/letters/?view=hidden").content.decode()
    assert f'data-letter="{hurt.pk}"' in hidden
    login(client, w["director_a2"])
    body = client.get("/voice/staff/").content.decode()
    assert 'id="count-disclosures"><strong>0</strong>' in body  # CA1's disclosure is not CA2's
    assert "count-pending" not in body
    login(client, w["dept_parks_a"])
    body = client.get("/voice/staff/").content.decode()
    assert 'id="count-inbox"><strong>1</strong>' in body and "count-disclosures" not in body
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    login(client, make_user(Role.EXPERT, w["A"], password=None))
    assert client.get("/voice/staff/").status_code == 403
