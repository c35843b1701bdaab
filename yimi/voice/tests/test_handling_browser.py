"""The 妇儿工委办 publishes a letter and gives it to a department; the department answers on a
phone-sized screen; the child reads the reply by receipt code.

Screenshots: ``screenshots/voice-staff-*.png`` and ``voice-dept-*.png``.
"""

from __future__ import annotations

import os

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

from .test_handling_support import PASSWORD, letter, world

PHONE = {"width": 390, "height": 844}
pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _shot(page, name, **kw):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"voice-{name}.png"), **kw)


def _phone(browser):
    ctx = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    return ctx, page, errors


def _login(page, base, user, next_url):
    page.goto(f"{base}/login/?next={next_url}")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def test_publish_route_and_answer_on_a_phone(transactional_db, live_server, browser):
    from yimi.voice.models import Suggestion

    w = world(passwords=True)
    s = letter(
        "我叫王小明，电话13812345678。甲一社区的公园滑梯坏了，希望修好，再加一个秋千。",
        area=w["CA1"],
    )
    base = live_server.url

    # ---- the committee office: the queue, the letter with its findings, publish, route ----
    ctx, page, errors = _phone(browser)
    _login(page, base, w["wcco_a"], "/voice/staff/")
    assert page.inner_text("#count-pending strong") == "1"
    _shot(page, "staff-home", full_page=True)
    page.click("#count-pending")
    page.wait_for_url("**/voice/staff/moderation/")
    page.click(f"[data-letter='{s.pk}'] a")
    page.wait_for_url(f"**/voice/staff/letters/{s.pk}/")
    assert page.locator("#original mark[data-kind=name]").inner_text() == "王小明"
    assert "王**" in page.inner_text("#masked")
    _shot(page, "staff-letter", full_page=True)
    page.fill("#published_text", "甲一社区的公园滑梯坏了，希望修好，再加一个秋千。")
    page.click("#publish")
    page.wait_for_url(f"**/voice/staff/letters/{s.pk}/")
    assert "已发布" in page.inner_text("#visibility")
    page.select_option("#topic", "play")
    assert page.locator("#department").input_value() == str(w["parks_a"].pk)  # suggested
    page.locator("#routing").scroll_into_view_if_needed()
    _shot(page, "staff-route")
    page.click("#route")
    page.wait_for_url(f"**/voice/staff/letters/{s.pk}/")
    assert w["parks_a"].name in page.inner_text("#assigned-department")
    _shot(page, "staff-routed", full_page=True)
    assert not errors, errors
    ctx.close()
    s.refresh_from_db()
    assert s.visibility == "published" and s.status == "assigned"
    assert s.text.startswith("我叫王小明")  # the child's words kept

    # ---- the department, on a phone ---------------------------------------------------------
    ctx, page, errors = _phone(browser)
    _login(page, base, w["dept_parks_a"], "/voice/dept/")
    assert page.locator(f"[data-letter='{s.pk}']").count() == 1
    _shot(page, "dept-inbox", full_page=True)
    page.click(f"[data-letter='{s.pk}'] a")
    page.wait_for_url(f"**/voice/dept/{s.pk}/")
    assert "王小明" not in page.content() and "13812345678" not in page.content()
    page.check("input[name=adoption][value=partly]")
    page.fill("#public_reply", "谢谢你的来信！滑梯下个月修好，秋千我们明年再看看。")
    page.click("#send-answer")  # no reasons for 部分采纳: refused, nothing lost
    page.wait_for_load_state()
    assert "理由" in page.inner_text("#answer-errors")
    assert "滑梯下个月修好" in page.input_value("#public_reply")
    _shot(page, "dept-answer-error", full_page=True)
    page.fill("#adoption_reason", "滑梯维修已安排；秋千需要明年预算。")
    page.click("#send-answer")
    page.wait_for_url(f"**/voice/dept/{s.pk}/")
    assert page.inner_text("#adoption") == "部分采纳"
    assert page.locator("#create-action").count() == 1
    _shot(page, "dept-answered", full_page=True)
    assert not [e for e in errors if "/answer" not in e], errors  # the 400 was the refusal
    ctx.close()

    # ---- the child reads the reply ---------------------------------------------------------
    s.refresh_from_db()
    assert s.status == Suggestion.Status.ANSWERED
    ctx, page, _errors = _phone(browser)
    page.goto(f"{base}/voice/receipt/?code={s.receipt_code}")
    assert "滑梯下个月修好" in page.content()
    _shot(page, "receipt-answered", full_page=True)
    ctx.close()


def test_a_director_follows_up_a_disclosure_and_staff_enter_a_batch(
    transactional_db, live_server, browser, tmp_path
):
    from openpyxl import Workbook

    from yimi.voice.models import Disclosure, Suggestion

    w = world(passwords=True)
    s = letter("班上有几个同学天天欺负我，还抢我的钱，我不敢去学校。", area=w["CA1"])
    d = Disclosure.objects.get(suggestion=s)
    base = live_server.url
    ctx, page, errors = _phone(browser)
    _login(page, base, w["director_a1"], "/voice/staff/disclosures/")
    page.click(f"[data-disclosure='{d.pk}'] a")
    page.wait_for_url(f"**/voice/staff/disclosures/{d.pk}/")
    assert "欺负我" in page.inner_text("#original")
    _shot(page, "staff-disclosure", full_page=True)
    page.fill("#ack_note", "已联系班主任，明天家访")
    page.click("#acknowledge")
    page.wait_for_url(f"**/voice/staff/disclosures/{d.pk}/")
    d.refresh_from_db()
    assert d.status == "acknowledged" and d.handled_by == w["director_a1"]

    # the same director enters two paper letters from a table and gets their receipt codes
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["建议内容", "年龄段", "主题", "地点/区域", "监护人同意", "监护人联系方式", "来信日期"]
    )
    ws.append(["社区里能不能有一个图书角？", "9–12岁", "", "甲一社区", "是", "13600000001", ""])
    ws.append(["小区门口的路灯坏了，晚上很黑。", "6–9岁", "", "", "是", "13600000002", ""])
    path = tmp_path / "纸质来信.xlsx"
    wb.save(path)
    page.goto(f"{base}/voice/staff/batch/")
    page.set_input_files("#file", str(path))
    page.click("#upload")
    page.wait_for_load_state()
    codes = page.locator("#codes .vs-code").all_inner_texts()
    assert len(codes) == 2
    assert Suggestion.objects.filter(source="paper").count() == 2
    _shot(page, "staff-batch-codes", full_page=True)
    assert not errors, errors
    ctx.close()
