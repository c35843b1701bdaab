"""A child on a phone sends a letter with a drawing, then follows it by receipt code.

Screenshots: ``screenshots/voice-mailbox.png``, ``voice-receipt.png``, ``voice-follow.png``.
"""

from __future__ import annotations

import os

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

from .conftest import jpeg_with_gps

PHONE = {"width": 390, "height": 844}

pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_a_child_sends_a_drawing_and_follows_it(transactional_db, live_server, browser, tmp_path):
    from yimi.voice.models import Suggestion

    drawing = tmp_path / "我的画.jpg"
    drawing.write_bytes(jpeg_with_gps())
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    page = ctx.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(f"{live_server.url}/voice/")
    assert "儿童信箱" in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "voice-mailbox.png"), full_page=True)

    page.fill("#text", "希望公园里有饮水机，夏天太热了。")
    page.set_input_files("#image", str(drawing))
    page.click("text=9–12岁")
    page.click("text=游乐场和公园")
    page.check("input[name=guardian_consent]")
    page.fill("#guardian_contact", "13600000000")
    page.click("button.voice-send")
    page.wait_for_url("**/voice/thanks/")
    code = page.inner_text("#receipt-code").strip()
    page.screenshot(path=str(SHOTS / "voice-receipt.png"), full_page=True)
    s = Suggestion.objects.get()
    assert code.replace("-", "") == s.receipt_code and s.image

    page.click("text=查看我的信")
    page.wait_for_url("**/voice/receipt/**")
    assert "收到" in page.inner_text(".voice-status")
    assert "饮水机" not in page.content()
    page.screenshot(path=str(SHOTS / "voice-follow.png"), full_page=True)
    assert outside == []
    ctx.close()
