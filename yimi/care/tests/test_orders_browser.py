"""督办 in a real browser: the 妇儿工委办 sees late orders, de-identified, and adds a note.

Screenshot: ``screenshots/care-order-escalated.png`` (a reviewed copy is in docs/img/).
"""

from __future__ import annotations

import datetime as dt
import os

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

PHONE = {"width": 390, "height": 844}
PASSWORD = "pw-Yimi-2026!"  # noqa: S105 - a test account's password

pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_committee_office_supervises_a_late_order(transactional_db, live_server, browser):
    from django.utils import timezone

    from yimi.care.models import Order
    from yimi.care.services.orders import order_confirm, order_create, orders_escalate
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    from .builders_orders import CHILD_NAME, make_world

    w = make_world()
    order = order_confirm(
        actor=w.director,
        order=order_create(
            actor=w.director, child=w.child, policy=w.policy, request="家中困难申请补助"
        ),
    )
    past = timezone.now() - dt.timedelta(days=4, hours=2)
    order.tasks.filter(department=w.edu).update(due=past)
    Order.objects.filter(pk=order.pk).update(step_due=past)
    assert orders_escalate().escalated == 1
    wcco = make_user(Role.WCCO, w.areas["A"], password=PASSWORD)

    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    page = ctx.new_page()
    base = live_server.url
    page.goto(f"{base}/login/?next=/care/orders/%3Fescalated%3D1")
    page.fill("input[name=username]", wcco.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/care/orders/?escalated=1")
    row = page.locator(f"#orders [data-order='{order.pk}']")
    text = row.inner_text()
    assert CHILD_NAME not in page.content() and CHILD_NAME[0] + "**" in text
    assert w.edu.name in row.locator(".order-late").inner_text()
    assert "4 天" in row.locator(".order-late").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "care-order-escalated.png"), full_page=True)

    row.locator("a").first.click()
    page.wait_for_url(f"**/care/orders/{order.pk}/")
    page.fill("#supervise-note", "请教育局本周内办结并反馈")
    page.click("#supervise")
    page.wait_for_load_state()
    assert "请教育局本周内办结并反馈" in page.inner_text("#order-steps")
    assert "家中困难" not in page.inner_text("main")  # the request stays with the caseworkers
    ctx.close()
