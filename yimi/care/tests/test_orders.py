"""The order state machine (点单): every transition, every refusal, deadlines, consent, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yimi.care import policy as care_policy
from yimi.care.models import (
    Benefit,
    ChildEvent,
    Document,
    Order,
    OrderStep,
    OrderTask,
    WorklistItem,
)
from yimi.care.services.orders import (
    order_confirm,
    order_create,
    order_follow_up,
    order_reject,
    order_supervise,
    order_withdraw,
    task_accept,
    task_complete,
    task_decline,
)
from yimi.care.tests.builders_orders import CHILD_NAME, consent, make_child, make_world
from yimi.core.models import AuditLog
from yimi.core.services import PermissionDenied, ServiceError


@pytest.fixture
def w(db):
    return make_world()


def _new(w, **kw) -> Order:
    return order_create(actor=w.director, child=w.child, policy=w.policy, channel="director", **kw)


def _dispatched(w) -> Order:
    order = _new(w)
    return order_confirm(actor=w.director, order=order, note="同意")


def _task(order, dept) -> OrderTask:
    return order.tasks.get(department=dept)


def test_happy_path_apply_confirm_handle_done_follow_up(w):
    t0 = timezone.now()
    item = WorklistItem.objects.create(child=w.child, policy=w.policy, reasons=["留守儿童"])
    order = order_create(
        actor=w.director,
        child=w.child,
        policy=w.policy,
        channel="guardian",
        applicant="监护人甲",
        request="申请助学补贴",
    )
    assert order.state == Order.State.APPLIED and order.number.startswith("DD")
    # Deadline of the confirmation step from step_days["confirm"] = 3.
    assert abs(order.step_due - (t0 + dt.timedelta(days=3))) < dt.timedelta(minutes=1)
    item.refresh_from_db()
    assert item.state == WorklistItem.State.ORDERED and item.note == order.number

    order = order_confirm(actor=w.supervisor, order=order, note="核实属实")
    assert order.state == Order.State.HANDLING
    tasks = {t.department_id: t for t in order.tasks.all()}
    assert set(tasks) == {w.edu.pk, w.health.pk}
    assert tasks[w.edu.pk].role == OrderTask.Role.LEAD
    assert tasks[w.health.pk].role == OrderTask.Role.COOPERATING
    for t in tasks.values():
        assert t.state == OrderTask.State.OPEN
        assert abs(t.due - (t0 + dt.timedelta(days=10))) < dt.timedelta(minutes=1)
    assert order.step_due == tasks[w.edu.pk].due

    lead = task_accept(actor=w.edu_user, task=tasks[w.edu.pk])
    assert lead.handled_by == w.edu_user
    task_complete(
        actor=w.edu_user,
        task=lead,
        result="已发放",
        evidence=SimpleUploadedFile(
            "回执.pdf", b"%PDF-1.4 receipt", content_type="application/pdf"
        ),
    )
    order.refresh_from_db()
    # The cooperating unit has not finished yet: still being handled.
    assert order.state == Order.State.HANDLING
    assert not Benefit.objects.filter(child=w.child).exists()

    task_complete(actor=w.health_user, task=tasks[w.health.pk], result="已体检")
    order.refresh_from_db()
    assert order.state == Order.State.DONE
    # The 回访 deadline: step_days has no "follow_up", so the default 30 days.
    assert abs(order.step_due - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    benefit = Benefit.objects.get(child=w.child, policy=w.policy)
    assert benefit.source == "order" and benefit.since == timezone.localdate()

    doc = Document.objects.get(child=w.child)
    assert doc.section == "orders" and bytes(doc.content) == b"%PDF-1.4 receipt"
    assert OrderStep.objects.get(order=order, step="completed", department=w.edu).evidence == doc

    order = order_follow_up(actor=w.director, order=order, note="家长满意", satisfied=True)
    assert order.state == Order.State.FOLLOWED_UP and order.closed_at is not None
    assert order.step_due is None

    steps = list(order.steps.values_list("step", flat=True))
    assert steps == [
        "applied",
        "confirmed",
        "dispatched",
        "dispatched",
        "accepted",
        "completed",
        "completed",
        "done",
        "followed_up",
    ]
    actors = dict(order.steps.values_list("step", "actor_id"))
    assert actors["applied"] == w.director.pk and actors["confirmed"] == w.supervisor.pk
    assert actors["accepted"] == w.edu_user.pk and actors["followed_up"] == w.director.pk


def test_every_step_writes_timeline_and_audit_without_names(w):
    order = _dispatched(w)
    for t in order.tasks.all():
        user = w.edu_user if t.department == w.edu else w.health_user
        task_complete(actor=user, task=t, result="完成")
    order_follow_up(actor=w.director, order=order, note="好", satisfied=False)

    events = ChildEvent.objects.filter(child=w.child, kind=ChildEvent.Kind.ORDER)
    assert events.count() == 6  # applied, confirmed, 2 handled, done, followed up
    assert set(events.values_list("section", flat=True)) == {"orders"}
    notes = list(
        AuditLog.objects.filter(object_type="care.order", object_id=str(order.pk))
        .order_by("pk")
        .values_list("note", flat=True)
    )
    assert notes == [
        "order_create",
        "order_confirm",
        "order_done",
        "order_follow_up",
    ]
    rows = AuditLog.objects.filter(area_path__startswith=w.areas["A"].path)
    assert rows.filter(object_type="care.ordertask", note="task_complete").count() == 2
    for row in rows:
        text = f"{row.before} {row.after} {row.note} {row.object_repr}"
        assert CHILD_NAME not in text and "监护人甲" not in text
    for e in events:
        assert CHILD_NAME not in e.summary
    follow = AuditLog.objects.get(note="order_follow_up")
    assert follow.after["satisfied"] is False and follow.after["state"] == "followed_up"
    assert follow.before["state"] == "done"


def test_create_refusals(w):
    # Another district's director, the committee office, a department: not the caseworker.
    for actor in (w.director_b, w.wcco, w.edu_user, None):
        with pytest.raises(PermissionDenied):
            order_create(actor=actor, child=w.child, policy=w.policy, channel="director")
    _new(w)
    with pytest.raises(ServiceError) as e:
        _new(w)
    assert e.value.code == "conflict"
    # A child of another district cannot get district A's policy.
    b_child = make_child(w.areas["SB"])
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    director_sb = make_user(Role.DIRECTOR, w.areas["SB"])
    with pytest.raises(ServiceError, match="菜单|menu"):
        order_create(actor=director_sb, child=b_child, policy=w.policy, channel="director")


def test_create_refused_when_already_receiving(w):
    Benefit.objects.create(child=w.child, policy=w.policy, since=timezone.localdate())
    with pytest.raises(ServiceError) as e:
        _new(w)
    assert e.value.code == "conflict"


def test_confirm_refusals_wrong_role_and_state(w):
    order = _new(w)
    for actor in (w.wcco, w.edu_user, w.director_b):
        with pytest.raises(PermissionDenied):
            order_confirm(actor=actor, order=order)
    order_confirm(actor=w.director, order=order)
    with pytest.raises(ServiceError) as e:
        order_confirm(actor=w.director, order=order)
    assert e.value.code == "conflict"
    with pytest.raises(ServiceError):
        order_reject(actor=w.director, order=order, reason="晚了")


def test_consent_missing_blocks_confirm_and_names_departments(db):
    w = make_world(consents=False)
    consent(w.child, w.edu)  # only the lead
    order = _new(w)
    with pytest.raises(ServiceError) as e:
        order_confirm(actor=w.director, order=order)
    assert e.value.code == "consent_required"
    assert w.health.name in e.value.message and w.edu.name not in e.value.message
    order.refresh_from_db()
    assert order.state == Order.State.APPLIED and not order.tasks.exists()
    # A consent for another purpose does not count.
    consent(w.child, w.health, purpose="sharing")
    with pytest.raises(ServiceError):
        order_confirm(actor=w.director, order=order)
    consent(w.child, w.health)
    assert order_confirm(actor=w.director, order=order).state == Order.State.HANDLING


def test_withdrawing_consent_removes_department_access_at_once(w):
    order = _dispatched(w)
    task = _task(order, w.health)
    assert care_policy.orders_visible_to(w.health_user).filter(pk=order.pk).exists()
    assert care_policy.tasks_visible_to(w.health_user).filter(pk=task.pk).exists()
    assert care_policy.children_visible_to(w.health_user).filter(pk=w.child.pk).exists()

    from yimi.care.services.records import consent_withdraw

    consent_withdraw(actor=w.director, consent=w.child.consents.get(department=w.health))

    assert not care_policy.orders_visible_to(w.health_user).filter(pk=order.pk).exists()
    assert not care_policy.tasks_visible_to(w.health_user).exists()
    assert not care_policy.children_visible_to(w.health_user).filter(pk=w.child.pk).exists()
    assert care_policy.sections_for(w.health_user, w.child) == frozenset()
    with pytest.raises(PermissionDenied):
        task_complete(actor=w.health_user, task=task, result="完成")
    # The other department keeps its access.
    assert care_policy.tasks_visible_to(w.edu_user).filter(order=order).count() == 1


def test_department_sees_only_its_own_tasks_and_the_policy_sections(w):
    order = _dispatched(w)
    assert list(care_policy.tasks_visible_to(w.edu_user)) == [_task(order, w.edu)]
    assert list(care_policy.tasks_visible_to(w.health_user)) == [_task(order, w.health)]
    assert not care_policy.tasks_visible_to(w.other_user).exists()
    assert not care_policy.orders_visible_to(w.other_user).exists()
    assert care_policy.sections_for(w.edu_user, w.child) == {"basic", "orders", "education"}
    assert care_policy.sections_for(w.other_user, w.child) == frozenset()


def test_task_refusals_wrong_department_and_state(w):
    order = _dispatched(w)
    lead = _task(order, w.edu)
    for actor in (w.health_user, w.other_user, w.director, w.wcco):
        with pytest.raises(PermissionDenied):
            task_accept(actor=actor, task=lead)
        with pytest.raises(PermissionDenied):
            task_complete(actor=actor, task=lead, result="x")
        with pytest.raises(PermissionDenied):
            task_decline(actor=actor, task=lead, reason="x")
    task_accept(actor=w.edu_user, task=lead)
    with pytest.raises(ServiceError) as e:
        task_accept(actor=w.edu_user, task=lead)
    assert e.value.code == "conflict"
    with pytest.raises(ServiceError):
        task_complete(actor=w.edu_user, task=lead, result="  ")
    task_complete(actor=w.edu_user, task=lead, result="完成")
    with pytest.raises(ServiceError) as e:
        task_complete(actor=w.edu_user, task=lead, result="again")
    assert e.value.code == "conflict"
    with pytest.raises(ServiceError):
        task_decline(actor=w.edu_user, task=lead, reason="no")
    # 回访 before 办结 is refused.
    with pytest.raises(ServiceError) as e:
        order_follow_up(actor=w.director, order=order, note="x", satisfied=True)
    assert e.value.code == "conflict"


def test_cooperating_decline_does_not_hold_up_the_order(w):
    order = _dispatched(w)
    task_decline(actor=w.health_user, task=_task(order, w.health), reason="不属本部门职责")
    order.refresh_from_db()
    assert order.state == Order.State.HANDLING
    task_complete(actor=w.edu_user, task=_task(order, w.edu), result="完成")
    order.refresh_from_db()
    assert order.state == Order.State.DONE


def test_lead_decline_rejects_the_order_and_cancels_other_tasks(w):
    order = _dispatched(w)
    task_decline(actor=w.edu_user, task=_task(order, w.edu), reason="不符合条件")
    order.refresh_from_db()
    assert order.state == Order.State.REJECTED and order.closed_at is not None
    assert _task(order, w.health).state == OrderTask.State.CANCELLED
    assert not Benefit.objects.exists()
    # A cancelled task leaves the department without the child.
    assert not care_policy.children_visible_to(w.health_user).exists()


def test_reject_needs_reason_and_director(w):
    order = _new(w)
    with pytest.raises(PermissionDenied):
        order_reject(actor=w.wcco, order=order, reason="x")
    with pytest.raises(ServiceError):
        order_reject(actor=w.director, order=order, reason=" ")
    order = order_reject(actor=w.director, order=order, reason="不符合条件")
    assert order.state == Order.State.REJECTED and order.step_due is None
    assert order.steps.last().note == "不符合条件"
    # A rejected order frees the policy: a new order may be placed.
    assert _new(w).state == Order.State.APPLIED


def test_withdraw_cancels_open_tasks(w):
    order = _dispatched(w)
    task_complete(actor=w.health_user, task=_task(order, w.health), result="完成")
    with pytest.raises(PermissionDenied):
        order_withdraw(actor=w.edu_user, order=order, reason="x")
    order = order_withdraw(actor=w.director, order=order, reason="家长撤回")
    assert order.state == Order.State.WITHDRAWN
    assert _task(order, w.edu).state == OrderTask.State.CANCELLED
    assert _task(order, w.health).state == OrderTask.State.DONE
    with pytest.raises(ServiceError):
        order_withdraw(actor=w.director, order=order)
    with pytest.raises(ServiceError):
        task_complete(actor=w.edu_user, task=_task(order, w.edu), result="完成")


def test_supervise_only_by_the_areas_committee_office(w):
    order = _new(w)
    for actor in (w.director, w.edu_user, w.wcco_b):
        with pytest.raises(PermissionDenied):
            order_supervise(actor=actor, order=order, note="请尽快办理")
    with pytest.raises(ServiceError):
        order_supervise(actor=w.wcco, order=order, note="")
    order_supervise(actor=w.wcco, order=order, note="请尽快办理")
    step = order.steps.get(step="supervised")
    assert step.actor == w.wcco and step.note == "请尽快办理"
    assert AuditLog.objects.filter(note="order_supervise", object_id=str(order.pk)).exists()


def test_evidence_too_large_is_refused_and_nothing_changes(w, settings):
    order = _dispatched(w)
    lead = _task(order, w.edu)
    big = SimpleUploadedFile("big.bin", b"x" * (Document.MAX_BYTES + 1))
    with pytest.raises(ServiceError):
        task_complete(actor=w.edu_user, task=lead, result="完成", evidence=big)
    lead.refresh_from_db()
    assert lead.state == OrderTask.State.OPEN and not Document.objects.exists()
