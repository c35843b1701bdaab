"""The order pages and API: scope, de-identification, the department inbox, actions, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yimi.care.models import Benefit, Order, OrderTask
from yimi.care.services.orders import order_confirm, order_create, orders_escalate
from yimi.care.tests.builders_orders import CHILD_NAME, make_world
from yimi.core.models import AuditLog


@pytest.fixture
def w(db):
    return make_world()


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _new(w) -> Order:
    return order_create(
        actor=w.director, child=w.child, policy=w.policy, channel="director", request="申请补贴"
    )


# ------------------------------------------------------------------------------ pages


def test_director_places_and_confirms_an_order_through_the_pages(w):
    c = _client(w.director)
    url = reverse("care:order_new") + f"?child={w.child.pk}&policy={w.policy.pk}"
    page = c.get(url)
    assert page.status_code == 200 and CHILD_NAME in page.content.decode()
    r = c.post(
        reverse("care:order_new"),
        {"child": w.child.pk, "policy": w.policy.pk, "channel": "guardian", "request": "补贴"},
    )
    order = Order.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("care:order", args=[order.pk])
    detail = c.get(reverse("care:order", args=[order.pk])).content.decode()
    assert order.number in detail and 'id="confirm"' in detail
    c.post(reverse("care:order_confirm", args=[order.pk]), {"note": "同意"})
    order.refresh_from_db()
    assert order.state == Order.State.HANDLING
    # Reading the order page is audited as a read of the child's "orders" section.
    assert AuditLog.objects.filter(
        action="read", object_type="care.child", object_id=str(w.child.pk), after__what="order"
    ).exists()


def test_other_district_director_gets_404_everywhere(w):
    order = _new(w)
    c = _client(w.director_b)
    assert c.get(reverse("care:order", args=[order.pk])).status_code == 404
    assert c.post(reverse("care:order_confirm", args=[order.pk])).status_code == 404
    assert (
        c.get(reverse("care:order_new") + f"?child={w.child.pk}&policy={w.policy.pk}").status_code
        == 404
    )
    assert order.number not in c.get(reverse("care:orders")).content.decode()


def test_committee_office_sees_deidentified_list_and_escalations(w):
    order = _new(w)
    order = order_confirm(actor=w.director, order=order)
    # The page counts lateness against the real clock: move the deadlines 3 days back.
    past = timezone.now() - dt.timedelta(days=3, hours=1)
    order.tasks.update(due=past)
    Order.objects.filter(pk=order.pk).update(step_due=past)
    orders_escalate()
    c = _client(w.wcco)
    html = c.get(reverse("care:orders") + "?escalated=1").content.decode()
    assert order.number in html and w.child.file_no in html
    assert CHILD_NAME not in html and CHILD_NAME[0] + "**" in html
    assert w.edu.name in html and w.health.name in html
    assert "3 天" in html or "3 days" in html
    # The committee office of district B sees nothing of it.
    assert order.number not in _client(w.wcco_b).get(reverse("care:orders")).content.decode()
    # 督办 note from the order page.
    c.post(reverse("care:order_supervise", args=[order.pk]), {"note": "请本周内办结"})
    assert order.steps.filter(step="supervised").exists()
    detail = c.get(reverse("care:order", args=[order.pk])).content.decode()
    assert CHILD_NAME not in detail and "申请补贴" not in detail


def test_department_inbox_shows_only_own_tasks_and_policy_sections(w):
    order = order_confirm(actor=w.director, order=_new(w))
    c = _client(w.edu_user)
    html = c.get(reverse("care:tasks")).content.decode()
    assert order.number in html and CHILD_NAME in html
    # The policy shares "education": the school is shown, health and address are not.
    assert "测试小学" in html
    assert "哮喘" not in html and "测试路" not in html and "13800000000" not in html
    audit = AuditLog.objects.filter(action="read", actor=w.edu_user, after__what="task").get()
    assert audit.after["sections"] == ["basic", "education", "orders"]
    # Another department has nothing in its inbox and cannot open the order.
    other = _client(w.other_user)
    assert order.number not in other.get(reverse("care:tasks")).content.decode()
    assert other.get(reverse("care:order", args=[order.pk])).status_code == 404
    # Caseworkers have no inbox.
    assert _client(w.director).get(reverse("care:tasks")).status_code == 403


def test_department_completes_with_evidence_from_the_inbox(w):
    order = order_confirm(actor=w.director, order=_new(w))
    edu_task = order.tasks.get(department=w.edu)
    health_task = order.tasks.get(department=w.health)
    c = _client(w.edu_user)
    c.post(reverse("care:task_accept", args=[edu_task.pk]))
    r = c.post(
        reverse("care:task_complete", args=[edu_task.pk]),
        {"result": "已发放", "evidence": SimpleUploadedFile("回执.txt", b"receipt")},
    )
    assert r.status_code == 302
    edu_task.refresh_from_db()
    assert edu_task.state == OrderTask.State.DONE
    # The education department cannot act on the health department's task.
    assert c.post(reverse("care:task_complete", args=[health_task.pk])).status_code == 404
    _client(w.health_user).post(
        reverse("care:task_complete", args=[health_task.pk]), {"result": "完成"}
    )
    order.refresh_from_db()
    assert order.state == Order.State.DONE and Benefit.objects.filter(child=w.child).exists()


def test_withdrawn_consent_empties_the_departments_pages_at_once(w):
    from yimi.care.services.records import consent_withdraw

    order = order_confirm(actor=w.director, order=_new(w))
    c = _client(w.health_user)
    assert order.number in c.get(reverse("care:tasks")).content.decode()
    assert c.get(reverse("care:order", args=[order.pk])).status_code == 200
    consent_withdraw(actor=w.director, consent=w.child.consents.get(department=w.health))
    inbox = c.get(reverse("care:tasks")).content.decode()
    assert order.number not in inbox and CHILD_NAME not in inbox
    assert c.get(reverse("care:order", args=[order.pk])).status_code == 404
    assert _api(c, "get", "/tasks").json() == []
    assert _api(c, "get", f"/orders/{order.pk}").status_code == 404
    # The lead department, whose consent stands, still works on it.
    assert order.number in _client(w.edu_user).get(reverse("care:tasks")).content.decode()


def test_consent_refusal_is_shown_as_a_message(db):
    w = make_world(consents=False)
    order = _new(w)
    c = _client(w.director)
    page = c.get(reverse("care:order", args=[order.pk])).content.decode()
    assert 'id="consent-missing"' in page
    r = c.post(reverse("care:order_confirm", args=[order.pk]), follow=True)
    assert w.edu.name in r.content.decode()
    order.refresh_from_db()
    assert order.state == Order.State.APPLIED


def test_escalate_now_button_runs_the_task(w, settings):
    order = _new(w)
    Order.objects.filter(pk=order.pk).update(step_due=timezone.now() - dt.timedelta(days=2))
    assert _client(w.director).post(reverse("care:orders_escalate")).status_code == 403
    r = _client(w.wcco).post(reverse("care:orders_escalate"))
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.escalations == 1


# ------------------------------------------------------------------------------ API


def _api(c: Client, method: str, path: str, data=None, **kw):
    fn = getattr(c, method)
    if data is not None and "content_type" not in kw and method == "post":
        kw["content_type"] = "application/json"
    return fn(f"/api/v1/care{path}", data=data, **kw)


def test_api_full_flow_and_refusals(w):
    d = _client(w.director)
    r = _api(d, "post", "/orders", {"child": w.child.pk, "policy": w.policy.pk})
    assert r.status_code == 201, r.content
    oid = r.json()["id"]
    assert r.json()["state"] == "applied" and r.json()["child"] == CHILD_NAME
    again = _api(d, "post", "/orders", {"child": w.child.pk, "policy": w.policy.pk})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    # The committee office: de-identified, may not confirm.
    wc = _client(w.wcco)
    listed = _api(wc, "get", "/orders").json()
    assert listed[0]["child"] == CHILD_NAME[0] + "**" and listed[0]["name_masked"] is True
    assert _api(wc, "post", f"/orders/{oid}/confirm", {}).status_code == 403
    assert _api(_client(w.director_b), "get", f"/orders/{oid}").status_code == 404

    r = _api(d, "post", f"/orders/{oid}/confirm", {"note": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "handling"
    assert len(r.json()["tasks"]) == 2

    edu = _client(w.edu_user)
    tasks = _api(edu, "get", "/tasks").json()
    assert [t["department_id"] for t in tasks] == [w.edu.pk]
    assert {s["code"] for s in tasks[0]["sections"]} == {"basic", "education"}
    tid = tasks[0]["id"]
    health_tid = OrderTask.objects.get(department=w.health).pk
    assert _api(edu, "post", f"/tasks/{health_tid}/accept", {}).status_code == 404
    assert _api(edu, "post", f"/tasks/{tid}/accept", {}).json()["accepted"] is True
    r = edu.post(
        f"/api/v1/care/tasks/{tid}/complete",
        {"result": "已发放", "evidence": SimpleUploadedFile("a.txt", b"proof")},
    )
    assert r.status_code == 200 and r.json()["state"] == "done", r.content
    r = _api(_client(w.health_user), "post", f"/tasks/{health_tid}/decline", {"reason": "无需"})
    assert r.json()["state"] == "declined"
    detail = _api(d, "get", f"/orders/{oid}").json()
    assert detail["state"] == "done"
    assert [s["step"] for s in detail["steps"]][-1] == "done"
    assert any(s["evidence_id"] for s in detail["steps"])

    r = _api(d, "post", f"/orders/{oid}/follow-up", {"note": "满意", "satisfied": True})
    assert r.json()["state"] == "followed_up"
    r = _api(d, "post", f"/orders/{oid}/withdraw", {"reason": "x"})
    assert r.status_code == 409


def test_api_consent_missing_answers_400_with_departments(db):
    w = make_world(consents=False)
    order = _new(w)
    r = _api(_client(w.director), "post", f"/orders/{order.pk}/confirm", {})
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["code"] == "consent_required"
    assert {d["department"] for d in body["details"]} == {w.edu.code, w.health.code}


def test_api_needs_login_and_a_care_role(w):
    assert Client().get("/api/v1/care/orders").status_code == 401
    assert _api(_client(w.director), "get", "/tasks").status_code == 403
    assert _api(_client(w.wcco), "get", "/tasks").status_code == 403
