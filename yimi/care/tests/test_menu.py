"""The aid menu: kept by the 妇儿工委办, rules as data (validated, previewed), re-matching."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yimi.care.models import Policy, WorklistItem
from yimi.care.selectors import work as sel
from yimi.care.services.work import policy_create, policy_update
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_department, make_user

from .builders_work import LEFT_BEHIND_RULE, make_child, make_policy


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def dept(city):
    return make_department(city["A"], "civil")


@pytest.fixture
def wcco(city):
    return make_user(Role.WCCO, city["A"])


def _fields(dept, **kw):
    fields = {
        "name": "留守儿童关爱探访",
        "domain": "life",
        "benefit": "每月探访",
        "lead_department": dept,
        "eligibility": LEFT_BEHIND_RULE,
        "step_days": {"confirm": 3, "handle": 10, "follow_up": 30},
        "sections": ["basic", "family"],
    }
    fields.update(kw)
    return fields


def test_policy_create_rematches_and_is_audited(city, dept, wcco):
    child = make_child(city["CA1"])
    make_child(city["B"], categories=["migrant"])
    item = policy_create(actor=wcco, **_fields(dept))
    assert item.area == city["A"] and item.code.startswith("P990001-")
    assert WorklistItem.objects.filter(policy=item, state="open").get().child == child
    assert AuditLog.objects.filter(object_type="care.policy", action="create").exists()
    # Widening the rule to migrants does not reach district B's child (another menu).
    policy_update(
        actor=wcco,
        policy_obj=item,
        eligibility={"any": [{"field": "categories", "op": "in", "value": ["migrant"]}]},
    )
    assert not WorklistItem.objects.filter(policy=item, state="open").exists()
    row = AuditLog.objects.filter(object_type="care.policy", action="update").get()
    assert "migrant" in str(row.after) and "left_behind" in str(row.before)


def test_only_the_wcco_of_the_area_keeps_the_menu(city, dept, wcco):
    for user in (
        make_user(Role.DIRECTOR, city["CA1"]),
        make_user(Role.DEPARTMENT, city["A"], dept),
    ):
        with pytest.raises(PermissionDenied):
            policy_create(actor=user, **_fields(dept))
    item = policy_create(actor=wcco, **_fields(dept))
    with pytest.raises(PermissionDenied):
        policy_update(actor=make_user(Role.WCCO, city["B"]), policy_obj=item, name="x")
    with pytest.raises(ServiceError):  # a department of another district
        policy_create(actor=wcco, **_fields(make_department(city["B"], "edu")))
    with pytest.raises(ServiceError):  # identity numbers are never shared
        policy_create(actor=wcco, **_fields(dept, sections=["identity"]))


def test_invalid_rules_list_their_problems(city, dept, wcco):
    bad = {"all": [{"field": "shoe_size", "op": ">", "value": 3}, {"field": "age", "op": "<"}]}
    with pytest.raises(ServiceError) as err:
        policy_create(actor=wcco, **_fields(dept, eligibility=bad))
    paths = [d["path"] for d in err.value.details]
    assert "all[0].field" in paths and "all[1].value" in paths
    assert not Policy.objects.exists()


def test_rule_builder_round_trip_and_preview_count(city, dept, wcco):
    rule = sel.rule_from_conditions(
        [
            {"field": "categories", "op": "in", "value": "留守儿童，孤儿"},
            {"field": "age", "op": "between", "value": "6, 16"},
            {"field": "low_income", "op": "=", "value": "是"},
            {"field": "", "op": "", "value": ""},
        ],
        "all",
    )
    assert rule == {
        "all": [
            {"field": "categories", "op": "in", "value": ["left_behind", "orphan"]},
            {"field": "age", "op": "between", "value": [6, 16]},
            {"field": "low_income", "op": "=", "value": True},
        ]
    }
    combine, rows = sel.conditions_from_rule(rule)
    assert combine == "all" and rows[0]["field"] == "categories"
    assert sel.rule_from_conditions(rows, combine) == rule
    assert sel.conditions_from_rule({"all": [{"any": [rule["all"][0]]}]}) is None
    make_child(city["CA1"], low_income=True)
    make_child(city["CA2"], low_income=False)
    make_child(city["B"], low_income=True)
    assert sel.policy_count_qualifying(wcco, rule) == 1


def test_menu_pages(client, city, dept, wcco):
    item = make_policy(city["A"], dept, name="助学金")
    make_policy(city["B"], make_department(city["B"]), name="乙区政策")
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    page = client.get(reverse("care:menu")).content.decode()
    assert "助学金" in page and "乙区政策" not in page
    assert reverse("care:policy_edit", args=[item.pk]) not in page
    assert client.get(reverse("care:policy_new")).status_code == 403
    assert client.get(reverse("care:policy_edit", args=[item.pk])).status_code == 403

    client.force_login(wcco)
    assert (
        reverse("care:policy_edit", args=[item.pk])
        in client.get(reverse("care:menu")).content.decode()
    )
    make_child(city["CA1"])
    form = {
        "name": "孤儿助学",
        "code": "",
        "domain": "education",
        "benefit": "每学期助学金",
        "basis": "",
        "lead_department": dept.pk,
        "confirm_days": 3,
        "handle_days": 15,
        "follow_up_days": 30,
        "sections": ["basic", "education"],
        "active": "on",
        "rule_mode": "builder",
        "combine": "all",
        "cond-0-field": "categories",
        "cond-0-op": "in",
        "cond-0-value": "留守儿童",
        "cond-1-field": "age",
        "cond-1-op": "<",
        "cond-1-value": "abc",
        "rule_json": "",
    }
    page = client.post(reverse("care:policy_new"), form).content.decode()
    assert 'id="rule-problems"' in page and "all[1].value" in page
    form["cond-1-value"] = "18"
    page = client.post(reverse("care:policy_new"), {**form, "preview": "1"}).content.decode()
    assert 'id="rule-preview"' in page and "1" in page
    assert not Policy.objects.filter(name="孤儿助学").exists()
    response = client.post(reverse("care:policy_new"), {**form, "save": "1"})
    assert response.status_code == 302
    saved = Policy.objects.get(name="孤儿助学")
    assert saved.worklist.filter(state="open").count() == 1
    # Advanced JSON edit of the same policy.
    edit = {
        **form,
        "rule_mode": "json",
        "rule_json": '{"any": [{"field": "risk_level", "op": "=", "value": "high"}]}',
    }
    assert client.post(reverse("care:policy_edit", args=[saved.pk]), edit).status_code == 302
    saved.refresh_from_db()
    assert saved.eligibility == {"any": [{"field": "risk_level", "op": "=", "value": "high"}]}
    assert not saved.worklist.filter(state="open").exists()
