"""The care schema's protection: encrypted columns, refused lookups, redacted audit, matching."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from yimi.care import matching
from yimi.care.models import Benefit, Child, Policy, WorklistItem
from yimi.care.services.common import audit_child_read, care_snapshot
from yimi.core import keys
from yimi.core.models import AuditLog
from yimi.core.services import REDACTED
from yimi.core.tests.factories import make_city, make_department

NAME = "测试童甲"
ID_NUMBER = "11010820150307991X"


@pytest.fixture
def city(db):
    return make_city()


def _child(city, **kw) -> Child:
    fields = {
        "file_no": "T-0001",
        "area": city["CA1"],
        "name": NAME,
        "name_hash": keys.match_hash(NAME, purpose="child_name"),
        "id_number": ID_NUMBER,
        "id_hash": keys.match_hash(ID_NUMBER, purpose="id_number"),
        "birth_date": dt.date(2015, 3, 7),
        "sex": "male",
        "categories": ["left_behind"],
        "disability": {"type": "肢体", "grade": 2},
    }
    fields.update(kw)
    return Child.objects.create(**fields)


def test_sensitive_columns_hold_ciphertext_only(city):
    child = _child(city)
    with connection.cursor() as cur:
        cur.execute("SELECT name, id_number, disability FROM care_child WHERE id = %s", [child.pk])
        name, id_number, disability = cur.fetchone()
    assert NAME not in name and ID_NUMBER not in id_number and "肢体" not in disability
    assert name.startswith("gAAAA")  # a Fernet token
    again = Child.objects.get(pk=child.pk)
    assert (again.name, again.id_number, again.disability_grade) == (NAME, ID_NUMBER, 2)


def test_encrypted_columns_refuse_lookups(city):
    _child(city)
    with pytest.raises(TypeError):
        list(Child.objects.filter(name=NAME))
    with pytest.raises(TypeError):
        list(Child.objects.filter(name__contains="测试"))
    # Matching goes through the keyed hash instead, which is insensitive to full-width digits.
    full_width = ID_NUMBER.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert Child.objects.filter(id_hash=keys.match_hash(full_width, purpose="id_number")).exists()


def test_audit_snapshot_redacts_encrypted_fields_and_hashes(city):
    data = care_snapshot(_child(city))
    assert data["name"] == REDACTED and data["id_number"] == REDACTED
    assert "id_hash" not in data and "name_hash" not in data
    assert data["file_no"] == "T-0001"


def test_read_audit_names_child_sections_and_area(city, django_user_model):
    child = _child(city)
    row = audit_child_read(actor=None, child=child, sections=["health", "basic"])
    assert row.action == AuditLog.Action.READ
    assert row.area_path == city["CA1"].path and row.object_repr == "T-0001"
    assert row.after == {"sections": ["basic", "health"], "what": "record"}


def test_child_rematch_adds_reasons_and_lapses_when_no_longer_eligible(city):
    dept = make_department(city["A"], "civil")
    policy = Policy.objects.create(
        code="P1",
        name="留守儿童关爱",
        domain="life",
        benefit="探访",
        lead_department=dept,
        area=city["A"],
        eligibility={
            "all": [
                {"field": "categories", "op": "in", "value": ["left_behind"]},
                {"field": "age", "op": "<", "value": 16},
            ]
        },
    )
    child = _child(city)
    out = matching.child_rematch(child=child)
    assert out.added == 1
    item = WorklistItem.objects.get(child=child, policy=policy)
    assert item.state == "open" and any("类别" in r for r in item.reasons)
    # Receiving the policy takes the child off the worklist.
    Benefit.objects.create(child=child, policy=policy, since=dt.date(2026, 1, 1))
    assert matching.child_rematch(child=child).lapsed == 1
    Benefit.objects.all().delete()
    matching.child_rematch(child=child)
    child.categories = ["migrant"]
    child.save()
    assert matching.child_rematch(child=child).lapsed == 1
    assert not WorklistItem.objects.filter(state="open").exists()


def test_full_and_policy_rematch_agree_with_the_incremental_one(city):
    dept = make_department(city["A"], "civil")
    policy = Policy.objects.create(
        code="P2",
        name="重残补贴",
        domain="life",
        benefit="补贴",
        lead_department=dept,
        area=city["A"],
        eligibility={"field": "disability_grade", "op": "<=", "value": 2},
    )
    a = _child(city)
    b = _child(city, file_no="T-0002", id_number="", id_hash=None, disability=None)
    c = _child(
        city, file_no="T-0003", id_number="", id_hash=None, area=city["SB"], disability={"grade": 1}
    )  # another district: outside the policy's menu
    assert matching.rematch_all().added == 1
    assert set(WorklistItem.objects.values_list("child_id", flat=True)) == {a.pk}
    WorklistItem.objects.all().delete()
    assert matching.policy_rematch(policy=policy).added == 1
    for ch in (a, b, c):
        matching.child_rematch(child=ch)
    assert set(WorklistItem.objects.filter(state="open").values_list("child_id", flat=True)) == {
        a.pk
    }
