"""督办: late steps found with a fixed ``now``, escalated once, logged, audited, run by command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from yimi.care.models import Order, OrderStep
from yimi.care.services.orders import (
    order_confirm,
    order_create,
    order_late_steps,
    orders_escalate,
    task_complete,
)
from yimi.care.tests.builders_orders import make_world
from yimi.core.models import AuditLog


@pytest.fixture
def w(db):
    return make_world(step_days={"confirm": 2, "handle": 5, "follow_up": 7})


def _new(w):
    return order_create(actor=w.director, child=w.child, policy=w.policy, channel="director")


def test_unconfirmed_order_escalated_after_the_confirm_deadline(w):
    order = _new(w)
    t0 = order.created_at
    # Before the deadline: nothing.
    assert orders_escalate(now=t0 + dt.timedelta(days=1, hours=23)).escalated == 0
    later = t0 + dt.timedelta(days=4, hours=1)  # 2 days allowed: 2 days 1 hour late
    summary = orders_escalate(now=later)
    assert summary.escalated == 1 and summary.orders == [order.number]
    order.refresh_from_db()
    assert order.escalated_at == later and order.escalations == 1
    step = order.steps.get(step="escalated")
    assert step.department is None and "2" in step.note
    late = order_late_steps(order, now=later)
    assert [(x.step, x.days_late) for x in late] == [("confirm", 2)]
    audit = AuditLog.objects.get(note="order_escalate", object_id=str(order.pk))
    assert audit.after["escalations"] == 1 and audit.after["late"][0]["step"] == "confirm"
    assert audit.area_path == order.area.path

    # Running again the same day does not escalate twice; a week later it does.
    assert orders_escalate(now=later + dt.timedelta(hours=5)).escalated == 0
    assert orders_escalate(now=later + dt.timedelta(days=8)).escalated == 1
    order.refresh_from_db()
    assert order.escalations == 2


def test_late_department_task_is_named(w):
    order = order_confirm(actor=w.director, order=_new(w))
    task_complete(actor=w.health_user, task=order.tasks.get(department=w.health), result="完成")
    now = timezone.now() + dt.timedelta(days=6)
    summary = orders_escalate(now=now)
    assert summary.escalated == 1 and summary.late_steps == 1
    step = OrderStep.objects.get(order=order, step="escalated")
    assert step.department == w.edu  # only the lead is late; the cooperating unit finished
    [late] = order_late_steps(order, now=now)
    assert late.department == w.edu and late.days_late == 1


def test_confirming_clears_the_escalation_and_resets_the_deadline(w):
    order = _new(w)
    orders_escalate(now=timezone.now() + dt.timedelta(days=3))
    order.refresh_from_db()
    assert order.escalated_at is not None
    order = order_confirm(actor=w.director, order=order)
    assert order.escalated_at is None and order.escalations == 1
    assert orders_escalate(now=timezone.now() + dt.timedelta(days=3)).escalated == 0


def test_follow_up_deadline_escalates_done_orders(w):
    order = order_confirm(actor=w.director, order=_new(w))
    for t in order.tasks.all():
        user = w.edu_user if t.department == w.edu else w.health_user
        task_complete(actor=user, task=t, result="完成")
    order.refresh_from_db()
    assert order.state == Order.State.DONE
    assert orders_escalate(now=timezone.now() + dt.timedelta(days=6)).escalated == 0
    assert orders_escalate(now=timezone.now() + dt.timedelta(days=8)).escalated == 1
    assert order_late_steps(order, now=timezone.now() + dt.timedelta(days=8))[0].step == (
        "follow_up"
    )


def test_closed_orders_are_never_escalated(w):
    from yimi.care.services.orders import order_reject

    order_reject(actor=w.director, order=_new(w), reason="不符合")
    assert orders_escalate(now=timezone.now() + dt.timedelta(days=100)).escalated == 0


def test_command_prints_a_summary(w):
    order = _new(w)
    out = StringIO()
    later = (order.created_at + dt.timedelta(days=5)).isoformat()
    call_command("care_escalate", now=later, stdout=out)
    text = out.getvalue()
    assert order.number in text and "1" in text
    order.refresh_from_db()
    assert order.escalations == 1


def test_task_runs_the_escalation(w, settings):
    from yimi.care.tasks import orders_escalate_task

    order = _new(w)
    Order.objects.filter(pk=order.pk).update(step_due=timezone.now() - dt.timedelta(days=1))
    result = orders_escalate_task.call()
    assert result["escalated"] == 1
    order.refresh_from_db()
    assert order.escalations == 1
