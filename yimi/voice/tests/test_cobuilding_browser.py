"""A parent registers two children for a 儿童友好日 on a phone, gets a check-in code, and staff
at the door check them in with it; the counts follow.

Screenshots: ``screenshots/voice-events.png``, ``voice-event-register.png``,
``voice-event-code.png``, ``voice-checkin.png``, ``voice-alliance.png``.
"""

from __future__ import annotations

import datetime as dt
import os

from django.utils import timezone

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

PHONE = {"width": 390, "height": 844}

pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _cookie(user, url) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def test_a_parent_registers_on_a_phone_and_staff_checks_them_in(
    transactional_db, live_server, browser
):
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_city, make_user
    from yimi.voice.models import Registration
    from yimi.voice.services import cobuilding

    city = make_city()
    staff = make_user(Role.DIRECTOR, city["CA1"])
    member = cobuilding.alliance_member_create(
        actor=staff,
        area=city["CA1"],
        name="甲一社区图书馆",
        kind="culture",
        joined_on=dt.date(2025, 1, 1),
        open_space_m2=800,
        contact="010-00000000",
    )
    cobuilding.service_item_create(
        actor=staff, member=member, title="周末绘本共读", lon=116.2, lat=39.6, age_from=3, age_to=8
    )
    start = timezone.now() + dt.timedelta(days=5)
    event = cobuilding.event_create(
        actor=staff,
        area=city["CA1"],
        title="六月儿童友好日：绘本共读",
        kind="friendly_day",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        capacity=10,
        organiser=member,
        description="孩子和家长一起读绘本、做手工。",
    )
    outside: list[str] = []
    ctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = ctx.new_page()
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/voice/events/")
    assert "还剩 10 个名额" in page.content()
    page.screenshot(path=str(SHOTS / "voice-events.png"), full_page=True)
    page.click("text=六月儿童友好日：绘本共读")
    page.fill("#guardian_name", "赵丽华")
    page.fill("#guardian_contact", "13712345678")
    page.fill("#children", "2")
    page.click("text=6–9岁")
    page.screenshot(path=str(SHOTS / "voice-event-register.png"), full_page=True)
    page.click("button.voice-send")
    page.wait_for_url("**/registered/")
    code = page.inner_text("#checkin-code").strip()
    page.screenshot(path=str(SHOTS / "voice-event-code.png"), full_page=True)
    reg = Registration.objects.get(event=event)
    assert code.replace("-", "") == reg.code and reg.children == 2
    assert "赵丽华" not in page.content()
    page.goto(f"{live_server.url}/voice/alliance/")
    page.wait_for_selector(".leaflet-interactive")
    page.screenshot(path=str(SHOTS / "voice-alliance.png"), full_page=True)
    assert outside == []
    ctx.close()

    # The day comes; at the door, staff on a phone too.
    from yimi.voice.models import Event

    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    ctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    ctx.add_cookies([_cookie(staff, live_server.url)])
    page = ctx.new_page()
    page.goto(f"{live_server.url}/voice/staff/events/{event.pk}/")
    assert "赵**" in page.content() and "赵丽华" not in page.content()
    page.fill("#code", code.lower())
    page.click(".cb-checkin button")
    page.wait_for_selector("#checkin-result")
    assert "签到成功" in page.inner_text("#checkin-result")
    page.fill("#walk_ins", "3")
    page.click(".cb-walkin button")
    page.wait_for_selector("#checkin-result")
    counts = page.inner_text("#event-counts")
    assert "2/10" in counts and "60%" not in counts and "100%" in counts
    page.screenshot(path=str(SHOTS / "voice-checkin.png"), full_page=True)
    # The same code a second time is refused, saying when it was used.
    page.fill("#code", code)
    page.click(".cb-checkin button")
    page.wait_for_selector("#checkin-result")
    assert "已于" in page.inner_text("#checkin-result")
    reg.refresh_from_db()
    event.refresh_from_db()
    assert reg.status == Registration.Status.CHECKED_IN and event.walk_ins == 3
    ctx.close()
