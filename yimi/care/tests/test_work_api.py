"""The work API: visits schedule and records, the menu (writes only for menu keepers), worklist."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from yimi.care import matching
from yimi.care.models import Aspect, Policy, Visit, WorklistItem
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user

from .builders_work import LEFT_BEHIND_RULE, findings, make_child, make_policy, today

API = "/api/v1/care"


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def data(city):
    dept = make_department(city["A"], "civil")
    policy = make_policy(city["A"], dept)
    late = make_child(city["CA1"], name="测试童晚", next_visit_due=today() - dt.timedelta(days=2))
    other = make_child(city["CA2"], name="测试童邻", next_visit_due=today() - dt.timedelta(days=2))
    matching.rematch_all()
    return {"dept": dept, "policy": policy, "late": late, "other": other}


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_visits_due_and_record(client, city, data):
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    rows = client.get(f"{API}/visits?due=overdue").json()
    assert [r["file_no"] for r in rows] == [data["late"].file_no]
    assert rows[0]["days_overdue"] == 2 and rows[0]["name"] == "测试童晚"
    assert client.get(f"{API}/visits?due=soon").status_code == 422
    body = {
        "child_id": data["late"].pk,
        "visited_on": today().isoformat(),
        "kind": "home",
        "findings": findings(),
        "concerns": ["safety"],
        "follow_ups": [{"action": "复访", "due": (today() + dt.timedelta(days=7)).isoformat()}],
        "risk_after": "high",
    }
    created = _post(client, f"{API}/visits", body)
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["next_visit_due"] == (today() + dt.timedelta(days=30)).isoformat()
    assert client.get(f"{API}/visits?due=overdue").json() == []
    # Missing an aspect: the one error shape, naming the field.
    partial = {**body, "findings": {a: "x" for a in Aspect.values if a != "family"}}
    err = _post(client, f"{API}/visits", partial).json()["error"]
    assert err["status"] == 400 and err["details"][0]["field"] == "findings.family"
    # Another community's child: 404, nothing written.
    assert _post(client, f"{API}/visits", {**body, "child_id": data["other"].pk}).status_code == 404
    assert Visit.objects.count() == 1
    done = client.post(f"{API}/visits/{out['id']}/follow-ups/0/done")
    assert done.json()["follow_ups"][0]["done"] is True
    client.get(f"{API}/visits/{out['id']}")
    assert AuditLog.objects.filter(action="read", object_id=str(data["late"].pk)).exists()


def test_visits_api_refuses_other_roles(client, city, data):
    assert client.get(f"{API}/visits").status_code == 401
    client.force_login(make_user(Role.WCCO, city["A"]))
    assert client.get(f"{API}/visits").status_code == 403
    body = {"child_id": data["late"].pk, "visited_on": today().isoformat(), "findings": findings()}
    assert _post(client, f"{API}/visits", body).status_code == 403
    client.force_login(make_user(Role.DIRECTOR, city["B"]))
    assert client.get(f"{API}/visits?due=overdue").json() == []
    visit = Visit.objects.create(child=data["late"], visited_on=today(), findings=findings())
    assert client.get(f"{API}/visits/{visit.pk}").status_code == 404


def test_policies_read_for_staff_write_for_the_wcco(client, city, data):
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    assert [p["code"] for p in client.get(f"{API}/policies").json()] == [data["policy"].code]
    body = {
        "name": "孤儿助学",
        "domain": "education",
        "benefit": "助学金",
        "lead_department": data["dept"].pk,
        "step_days": {"confirm": 3, "handle": 15, "follow_up": 30},
        "eligibility": LEFT_BEHIND_RULE,
    }
    assert _post(client, f"{API}/policies", body).status_code == 403
    pid = data["policy"].pk
    patch = client.patch(f"{API}/policies/{pid}", {"name": "x"}, content_type="application/json")
    assert patch.status_code == 403
    client.force_login(make_user(Role.WCCO, city["A"]))
    created = _post(client, f"{API}/policies", body)
    assert created.status_code == 201, created.content
    new_id = created.json()["id"]
    bad = client.patch(
        f"{API}/policies/{new_id}",
        {"eligibility": {"all": [{"field": "age", "op": "~", "value": 1}]}},
        content_type="application/json",
    ).json()["error"]
    assert bad["details"][0]["path"] == "all[0].op"
    ok = client.patch(
        f"{API}/policies/{new_id}", {"active": False}, content_type="application/json"
    )
    assert ok.json()["active"] is False
    assert not WorklistItem.objects.filter(policy_id=new_id, state="open").exists()
    client.force_login(make_user(Role.WCCO, city["B"]))
    assert client.get(f"{API}/policies/{new_id}").status_code == 404
    assert Policy.objects.count() == 2


def test_worklist_and_dismiss(client, city, data):
    client.force_login(make_user(Role.DIRECTOR, city["CA1"]))
    rows = client.get(f"{API}/worklist").json()
    assert [r["child_id"] for r in rows] == [data["late"].pk]
    assert rows[0]["reasons"] and rows[0]["policy_name"] == data["policy"].name
    other = WorklistItem.objects.get(child=data["other"])
    assert _post(client, f"{API}/worklist/{other.pk}/dismiss", {"note": "x"}).status_code == 404
    assert _post(client, f"{API}/worklist/{rows[0]['id']}/dismiss", {"note": ""}).status_code == 422
    out = _post(client, f"{API}/worklist/{rows[0]['id']}/dismiss", {"note": "已在其他渠道救助"})
    assert out.json()["state"] == "dismissed"
    assert client.get(f"{API}/worklist").json() == []
    client.force_login(make_user(Role.WCCO, city["A"]))
    assert client.get(f"{API}/worklist").status_code == 403
