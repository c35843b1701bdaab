"""政策找人 worklist: matches follow record changes incrementally, dismissal, the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from yimi.care import matching
from yimi.care.models import WorklistItem
from yimi.care.selectors import work as sel
from yimi.care.services.work import visit_record, worklist_dismiss
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_department, make_user

from .builders_work import findings, make_child, make_policy, today


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def dept(city):
    return make_department(city["A"], "civil")


@pytest.fixture
def director(city):
    return make_user(Role.DIRECTOR, city["CA1"])


def test_a_record_change_adds_and_removes_matches_through_child_rematch(city, dept, director):
    high_risk = make_policy(
        city["A"], dept, eligibility={"all": [{"field": "risk_level", "op": "=", "value": "high"}]}
    )
    medium = make_policy(
        city["A"],
        dept,
        eligibility={"all": [{"field": "risk_level", "op": "=", "value": "medium"}]},
    )
    child = make_child(city["CA1"], risk_level="medium")
    bystander = make_child(city["CA1"], risk_level="medium")
    matching.rematch_all()
    # The bystander's match is removed behind the matcher's back: only a full rebuild would
    # bring it back, so its absence afterwards shows the visit re-checked one child only.
    WorklistItem.objects.filter(child=bystander).delete()
    assert list(sel.worklist_open(director).values_list("policy_id", flat=True)) == [medium.pk]
    before_items = WorklistItem.objects.count()

    # The visit raises the risk: the visit service re-matches this child only.
    visit_record(
        actor=director,
        child=child,
        visited_on=today(),
        kind="home",
        findings=findings(),
        risk_after="high",
    )
    open_now = list(sel.worklist_open(director))
    assert [i.policy_id for i in open_now] == [high_risk.pk]
    assert any("风险等级" in r for r in open_now[0].reasons)
    lapsed = WorklistItem.objects.get(policy=medium)
    assert lapsed.state == WorklistItem.State.LAPSED and lapsed.resolved_by == director
    assert WorklistItem.objects.count() == before_items + 1
    assert not WorklistItem.objects.filter(child=bystander).exists()


def test_worklist_is_scoped_to_the_caseworkers_area(city, dept, director):
    make_policy(city["A"], dept)
    mine = make_child(city["CA1"])
    other = make_child(city["CA2"])
    matching.rematch_all()
    assert {i.child_id for i in sel.worklist_open(director)} == {mine.pk}
    supervisor = make_user(Role.SUPERVISOR, city["SA"])
    assert {i.child_id for i in sel.worklist_open(supervisor)} == {mine.pk, other.pk}
    assert not sel.worklist_open(make_user(Role.WCCO, city["A"])).exists()
    assert not sel.worklist_open(make_user(Role.DIRECTOR, city["B"])).exists()


def test_dismiss_with_a_note_is_not_offered_again(city, dept, director):
    policy = make_policy(city["A"], dept)
    child = make_child(city["CA1"])
    matching.child_rematch(child=child)
    item = WorklistItem.objects.get(child=child, policy=policy, state="open")
    with pytest.raises(ServiceError):
        worklist_dismiss(actor=director, item=item, note="  ")
    with pytest.raises(PermissionDenied):
        worklist_dismiss(actor=make_user(Role.DIRECTOR, city["CA2"]), item=item, note="x")
    worklist_dismiss(actor=director, item=item, note="已享受同类救助")
    item.refresh_from_db()
    assert item.state == "dismissed" and item.note == "已享受同类救助"
    assert AuditLog.objects.filter(object_type="care.worklistitem", object_id=str(item.pk)).exists()
    assert matching.child_rematch(child=child).added == 0
    matching.rematch_all()
    assert not WorklistItem.objects.filter(state="open").exists()
    with pytest.raises(ServiceError):
        worklist_dismiss(actor=director, item=item, note="again")


def test_care_rematch_command_prints_a_summary(city, dept):
    make_policy(city["A"], dept)
    make_child(city["CA1"])
    make_child(city["CA2"], categories=["migrant"])
    out = io.StringIO()
    call_command("care_rematch", stdout=out)
    text = out.getvalue()
    assert "1 new" in text and WorklistItem.objects.filter(state="open").count() == 1
    assert AuditLog.objects.filter(object_type="care.worklist").exists()


def test_child_rematch_with_50_policies_uses_a_bounded_number_of_queries(
    city, dept, django_assert_max_num_queries
):
    for i in range(50):
        make_policy(
            city["A"] if i % 2 else city["CA1"],
            dept,
            eligibility={"all": [{"field": "age", "op": ">=", "value": i % 18}]},
        )
    child = make_child(city["CA1"])
    matching.child_rematch(child=child)  # compile the rules once
    child.birth_date = child.birth_date.replace(year=child.birth_date.year - 3)
    child.save()
    child = type(child).objects.select_related("area").get(pk=child.pk)
    # Savepoint, policies, benefits, open orders, open items, dismissed pairs, the lapse update
    # and one bulk insert: a constant, however many policies there are.
    with django_assert_max_num_queries(8):
        out = matching.child_rematch(child=child)
    assert out.added + out.kept == WorklistItem.objects.filter(state="open").count() > 0
