"""On a phone (390×844), a department's staff turn an adopted letter into an action, add two
milestones, mark one done (the progress follows), add a photo, then open the statistics.

Screenshots: ``screenshots/voice-action-edit.png``, ``voice-stats.png``.
"""

from __future__ import annotations

import os

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

from .conftest import jpeg_with_gps
from .test_public_support import letter, world

PHONE = {"width": 390, "height": 844}
PASSWORD = "pw-Yimi-2026!"  # noqa: S105 — make_user's test password

pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_department_builds_an_action_on_a_phone(transactional_db, live_server, browser, tmp_path):
    from yimi.voice.models import Action

    w = world()
    s = letter(
        w["CA1"],
        published="希望公园里有饮水机。",
        department=w["edu"],
        adoption="adopted",
        reply="我们会装饮水机。",
        answered_days=4,
    )
    letter(w["CA1"], department=w["edu"], due_in_days=-2)  # one overdue, for the statistics
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg_with_gps())
    base = live_server.url
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))

    new_url = f"/voice/staff/actions/new/?suggestion={s.pk}"
    page.goto(f"{base}/login/?next={new_url}")
    page.fill("input[name=username]", w["u_edu"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{new_url}")

    page.fill("#title", "甲一公园装上儿童饮水机")
    page.fill("#description", "两台饮水机，一台矮的。")
    page.fill("#due_on", "2027-06-01")
    page.click("button:has-text('创建行动')")
    page.wait_for_url("**/voice/staff/actions/*/")
    action = Action.objects.get()
    assert action.department == w["edu"] and list(action.suggestions.all()) == [s]

    for title in ("选好位置", "装好并试用"):
        page.fill("#m-title", title)
        page.click("button:has-text('添加节点')")
        page.wait_for_load_state()
    page.locator("ol.vp-milestones li").first.locator("button[name=done]").click()
    page.wait_for_load_state()
    action.refresh_from_db()
    assert action.progress == 50 and action.status == Action.Status.IN_PROGRESS
    assert "50%" in page.inner_text("main")

    page.set_input_files("#p-image", str(photo))
    page.fill("#p-caption", "选好的位置")
    page.click("button:has-text('添加照片')")
    page.wait_for_load_state()
    stored = bytes(action.photos.get().image)
    assert b"KidPhone" not in stored
    assert page.locator(".vp-photos img").evaluate("img => img.complete && img.naturalWidth > 0")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "voice-action-edit.png"), full_page=True)

    page.goto(f"{base}/voice/staff/stats/")
    assert page.inner_text("#st-total") == "2" and page.inner_text("#st-overdue") == "1"
    assert page.inner_text("#st-rate") == "100.0%"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "voice-stats.png"), full_page=True)
    assert errors == []
    ctx.close()
