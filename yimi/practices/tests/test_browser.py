"""The practice library in Chromium, on a phone (390×844) and a desktop: search with a
two-character word, filter, open a case, then the 妇儿工委办 marks a measure's progress.

Screenshots: screenshots/practices-*.png (reviewed copies in docs/img/).
"""

from __future__ import annotations

import os
import re

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

from .conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _watch(page, base: str) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on(
        "request",
        lambda r: None if r.url.startswith(base) else problems.append(f"outside: {r.url}"),
    )
    return problems


def _shot(page, name: str, **kw) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"practices-{name}.png"), **kw)


def test_phone_search_filter_open_and_mark_progress(transactional_db, live_server, browser, users):
    from yimi.practices.models import MeasureProgress

    base = live_server.url
    ctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = ctx.new_page()
    problems = _watch(page, base)

    # ---- search with a two-character word ------------------------------------------------
    page.goto(f"{base}/practices/")
    assert "经验举措清单" in page.inner_text("h1")
    page.fill("#q", "口袋")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r".*q=%E5%8F%A3%E8%A2%8B.*"))
    hits = page.locator(".prac-hit")
    assert hits.count() == 4
    assert page.locator(".prac-hit mark").first.inner_text() == "口袋"
    # The map shows one label per city, with its count.
    page.wait_for_timeout(500)
    assert page.locator(".prac-city-icon").count() == 4, problems
    _shot(page, "phone-search", full_page=True)

    # ---- filter by province, then clear it by tapping a city on the map -------------------
    page.select_option("#f-province", "广东省")
    page.click(".prac-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*province=.*"))
    assert hits.count() == 1 and "珠海" in hits.first.inner_text()
    page.goto(f"{base}/practices/?q=口袋")
    page.locator(".prac-city-icon", has_text="沈阳").click()
    page.wait_for_url(re.compile(r".*city=%E6%B2%88%E9%98%B3.*"))
    assert hits.count() == 1 and "沈阳" in hits.first.inner_text()
    assert page.locator("#f-city").input_value() == "沈阳"

    # ---- open the case ------------------------------------------------------------------
    hits.first.locator("a.prac-hit-title").click()
    page.wait_for_url(re.compile(r".*/practices/cases/3-3-2-shenyang/.*"))
    assert "三(三)2" in page.inner_text(".prac-cite")
    assert page.locator(".prac-summary mark").count() >= 1
    assert "一米能做什么" in page.inner_text(".prac-help")
    _shot(page, "phone-case", full_page=True)

    # ---- the 妇儿工委办 logs in and marks the measure ------------------------------------------
    page.goto(f"{base}/login/?next=/practices/measures/3-3/")
    page.fill("input[name=username]", users["wcco"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/practices/measures/3-3/")
    assert "尚未自评" in page.inner_text("#progress")
    page.click("#edit-progress")
    page.wait_for_url(f"{base}/practices/progress/3-3/edit/")
    page.click("label.prac-radio:has-text('推进中')")
    page.select_option("#id_department", label="温州市教育局")
    page.fill("#id_target_date", "2020-06-30")
    page.fill("#id_note", "正在编制口袋公园导则。")
    _shot(page, "phone-edit", full_page=True)
    page.click("#save-progress")
    page.wait_for_url(f"{base}/practices/measures/3-3/")
    assert page.inner_text("#progress-status") == "推进中"
    assert "逾期" in page.inner_text("#progress")
    p = MeasureProgress.objects.get(measure__code="三(三)")
    assert p.status == "in_progress" and p.updated_by == users["wcco"]

    page.goto(f"{base}/practices/progress/")
    assert "三(三)" in page.inner_text("#overdue")
    _shot(page, "phone-progress", full_page=True)
    # The phone's top bar stays two rows high (brand + account, then the scrolling nav).
    assert page.locator("header.topbar").bounding_box()["height"] < 110
    assert problems == []
    ctx.close()


def test_desktop_library_and_progress(transactional_db, live_server, browser, users):
    from yimi.practices import services
    from yimi.practices.models import Measure

    for code, status in (
        ("四(一)", "established"),
        ("五(一)", "in_progress"),
        ("六(二)", "planned"),
    ):
        services.progress_update(
            actor=users["wcco"], measure=Measure.objects.get(code=code), status=status
        )
    base = live_server.url
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    problems = _watch(page, base)
    page.goto(f"{base}/practices/?tag=出行")
    assert page.locator(".prac-hit").count() >= 3
    _shot(page, "desktop-library")
    page.goto(f"{base}/login/?next=/practices/progress/")
    page.fill("input[name=username]", users["supervisor"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/practices/progress/")
    assert page.locator("#counts tfoot th.num").all_inner_texts() == ["15", "1", "1", "1", "18"]
    assert page.locator("a[href$='/edit/']").count() == 0  # a reader, not an editor
    _shot(page, "desktop-progress", full_page=True)
    assert problems == []
    ctx.close()
