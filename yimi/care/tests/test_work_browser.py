"""A child director's day in a real browser (Playwright driving Debian's Chromium), on a phone.

The director logs in, opens "my day" (/care/), opens the 政策找人 worklist, records a visit for a
child who is due, and sees the child leave the due list. Screenshots go to ``screenshots/care-*.png`` (reviewed copies in docs/img/).
The order step (点单 from the worklist) is added by the orders slice at the marked place.
"""

from __future__ import annotations

import datetime as dt

import pytest

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

PHONE = {"width": 390, "height": 844}
PASSWORD = "pw-Yimi-2026!"  # noqa: S105 - a test account's password

pytestmark = BROWSER_MARKS


@pytest.fixture
def day(transactional_db, live_server):
    """A community with a child director, three children (one overdue, one due, one fine) and
    a policy that finds two of them."""
    from yimi.care import matching
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_city, make_department, make_user

    from .builders_work import make_child, make_policy, today

    city = make_city()
    dept = make_department(city["A"], "civil")
    policy = make_policy(city["A"], dept, name="留守儿童关爱探访", benefit="每月上门探访")
    t = today()
    due = make_child(
        city["CA1"], name="测试童春", risk_level="high", next_visit_due=t + dt.timedelta(days=2)
    )
    late = make_child(city["CA1"], name="测试童夏", next_visit_due=t - dt.timedelta(days=5))
    make_child(
        city["CA1"],
        name="测试童秋",
        categories=["migrant"],
        risk_level="low",
        next_visit_due=t + dt.timedelta(days=60),
    )
    matching.rematch_all()
    director = make_user(Role.DIRECTOR, city["CA1"], password=PASSWORD)
    return {
        "url": live_server.url,
        "director": director,
        "due": due,
        "late": late,
        "policy": policy,
    }


def _shot(page, name, **kw):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"care-{name}.png"), **kw)


def test_a_child_directors_day_on_a_phone(day, browser):
    from yimi.care.models import Visit

    from .builders_work import today

    ctx = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    base = day["url"]

    # ---- log in and open my day ---------------------------------------------------------
    page.goto(f"{base}/login/?next=/care/")
    page.fill("input[name=username]", day["director"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/care/")
    assert page.inner_text("[data-count=overdue]") == "1"
    assert page.inner_text("[data-count=due]") == "1"
    assert page.inner_text("[data-count=worklist]") == "2"
    assert "今日工作" in page.inner_text("h1")
    _shot(page, "phone-my-day", full_page=True)

    # ---- the worklist: who qualifies for what, and why ------------------------------------
    page.click("a[href='/care/worklist/']:visible >> nth=0")
    page.wait_for_url(f"{base}/care/worklist/")
    matches = page.locator("#worklist .work-match")
    assert matches.count() == 2
    first = page.locator(f"#worklist .work-match[data-child='{day['due'].pk}']")
    assert "留守儿童关爱探访" in first.inner_text()
    reasons = first.locator(".work-reasons").inner_text()
    assert "类别" in reasons and "留守儿童" in reasons  # the reason, in Chinese
    _shot(page, "phone-worklist", full_page=True)

    # ---- 点单 from the worklist, confirmed; the lead department handles it ------------------
    _order_from_the_worklist(page, first, day, browser, base)

    # ---- record a visit for the child who is due ------------------------------------------
    page.goto(f"{base}/care/visits/")
    due_list = page.locator("#due")
    assert due_list.locator(f"[data-child='{day['due'].pk}']").count() == 1
    _shot(page, "phone-visits", full_page=True)
    due_list.locator(f"[data-child='{day['due'].pk}'] a.button").click()
    page.wait_for_url(f"**/care/children/{day['due'].pk}/visit/**")
    assert page.locator("fieldset.work-aspect").count() == 8
    _shot(page, "phone-visit-form")
    for aspect in page.locator("fieldset.work-aspect").all():
        aspect.locator("textarea").fill("正常")
    page.locator("fieldset[data-aspect=schooling] textarea").fill("近期缺课两天，已与班主任沟通")
    page.locator("fieldset[data-aspect=schooling] input[type=checkbox]").check()
    page.fill("input[name=action_0]", "两周后电话回访班主任")
    page.fill("input[name=due_0]", (today() + dt.timedelta(days=14)).isoformat())
    page.select_option("select[name=risk_after]", "medium")
    page.locator("fieldset[data-aspect=schooling]").scroll_into_view_if_needed()
    _shot(page, "phone-visit-filled")
    page.click("#save-visit")
    page.wait_for_load_state()
    assert page.url == f"{base}/care/visits/", page.inner_text("main")[:800]
    assert "走访已登记" in page.inner_text("ul.messages")
    # The child has left the due list; the follow-up is not due yet (14 days away).
    assert page.locator(f"#due [data-child='{day['due'].pk}']").count() == 0
    assert page.locator(f"#overdue [data-child='{day['late'].pk}']").count() == 1
    _shot(page, "phone-after-visit", full_page=True)
    visit = Visit.objects.get(child=day["due"])
    assert visit.concerns == ["schooling"] and visit.risk_after == "medium"
    page.goto(f"{base}/care/")
    assert page.inner_text("[data-count=due]") == "0"
    assert not errors, errors
    ctx.close()


def _order_from_the_worklist(page, match, day, browser, base):
    """点单 → the consent is missing → consent recorded → 确认 → the department's inbox → 办结."""
    from yimi.care.models import Order
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    from .builders_orders import consent

    match.locator(".work-order").click()
    page.wait_for_url("**/care/orders/new/**")
    assert "留守儿童关爱探访" in page.inner_text("form.order-form")
    assert page.input_value("select[name=channel]") == "worklist"
    page.fill("textarea[name=request]", "祖母申请每月上门探访")
    _shot(page, "order-new")
    page.click("form.order-form button[type=submit]")
    page.wait_for_url("**/care/orders/*/")
    order = Order.objects.get(child=day["due"])
    assert order.number in page.inner_text("h1") and order.state == "applied"
    # No referral consent for the lead department yet: confirming is refused, and says why.
    lead = day["policy"].lead_department
    assert lead.name in page.inner_text("#consent-missing")
    page.click("#confirm")
    page.wait_for_load_state()
    assert lead.name in page.inner_text("ul.messages")
    order.refresh_from_db()
    assert order.state == "applied"
    consent(day["due"], lead)  # the guardian signs (the records slice has its own page for it)
    page.reload()
    assert page.locator("#consent-missing").count() == 0
    page.fill("#confirm-note", "已核实，同意")
    page.click("#confirm")
    page.wait_for_load_state()
    assert page.inner_text("#order-state") == "办理中"
    _shot(page, "order-confirmed", full_page=True)

    # The lead department, on its own phone: only its task, only the policy's sections.
    staff = make_user(Role.DEPARTMENT, lead.area, department=lead, password=PASSWORD)
    dctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    )
    dpage = dctx.new_page()
    dpage.goto(f"{base}/login/?next=/care/tasks/")
    dpage.fill("input[name=username]", staff.username)
    dpage.fill("input[name=password]", PASSWORD)
    dpage.click("form.form button[type=submit]")
    dpage.wait_for_url(f"{base}/care/tasks/")
    card = dpage.locator(f"#tasks [data-task='{order.tasks.get().pk}']")
    assert "留守儿童关爱探访" in card.inner_text() and "测试童春" in card.inner_text()
    _shot(dpage, "order-department-inbox", full_page=True)
    card.locator("button.accept").click()
    dpage.wait_for_load_state()
    card = dpage.locator("#tasks .task-card").first
    card.locator("textarea[name=result]").fill("已安排社工每月上门探访")
    card.locator("button.complete").click()
    dpage.wait_for_load_state()
    assert "任务已报告办结" in dpage.inner_text("ul.messages")
    dctx.close()

    order.refresh_from_db()
    assert order.state == "done"
    page.reload()
    assert page.inner_text("#order-state") == "已办结"
    steps = page.inner_text("#order-steps")
    assert "部门已受理" in steps and "部门已办理" in steps
    _shot(page, "order-done", full_page=True)


def test_the_wcco_builds_an_eligibility_rule_and_previews_it(day, browser):
    """The 妇儿工委办 adds a policy with the rule builder on a phone, previews the count, saves."""
    from yimi.care.models import Policy
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    wcco = make_user(Role.WCCO, day["director"].area.parent.parent, password=PASSWORD)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    page = ctx.new_page()
    base = day["url"]
    page.goto(f"{base}/login/?next=/care/menu/")
    page.fill("input[name=username]", wcco.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/care/menu/")
    assert "留守儿童关爱探访" in page.inner_text("main")
    page.click("#policy-new")
    page.fill("input[name=name]", "高风险儿童心理疏导")
    page.select_option("select[name=domain]", "psychological")
    page.fill("textarea[name=benefit]", "每月一次心理咨询")
    page.select_option("select[name=lead_department]", index=1)
    page.select_option("select[name=cond-0-field]", "risk_level")
    page.select_option("select[name=cond-0-op]", "=")
    page.fill("input[name=cond-0-value]", "高风险")
    page.select_option("select[name=cond-1-field]", "age")
    page.select_option("select[name=cond-1-op]", "<")
    page.fill("input[name=cond-1-value]", "十八")  # not a number: the problem is listed
    page.click("#preview-rule")
    page.wait_for_selector("#rule-problems")
    assert "all[1].value" in page.inner_text("#rule-problems")
    page.fill("input[name=cond-1-value]", "18")
    page.click("#preview-rule")
    page.wait_for_selector("#rule-preview")
    assert "1" in page.inner_text("#rule-preview")  # the one high-risk child
    page.locator("#rule-preview").scroll_into_view_if_needed()
    _shot(page, "phone-menu-rule")
    page.click("#save-policy")
    page.wait_for_url(f"{base}/care/menu/")
    saved = Policy.objects.get(name="高风险儿童心理疏导")
    assert saved.eligibility == {
        "all": [
            {"field": "risk_level", "op": "=", "value": "high"},
            {"field": "age", "op": "<", "value": 18},
        ]
    }
    assert saved.worklist.filter(state="open", child=day["due"]).exists()
    _shot(page, "phone-menu", full_page=True)
    ctx.close()
