"""On a phone (390×844): the public "what changed because children spoke" page and its detail,
the published suggestions with a topic filter, and the receipt look-up box.

Screenshots: ``screenshots/voice-changes.png``, ``voice-change-detail.png``,
``voice-suggestions.png``.
"""

from __future__ import annotations

import io
import os

from PIL import Image, ImageDraw

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

from .test_public_support import letter, world

PHONE = {"width": 390, "height": 844}

pytestmark = BROWSER_MARKS
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _photo(color) -> bytes:
    img = Image.new("RGB", (480, 320), (200, 230, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((180, 120, 300, 300), fill=color)  # a drinking fountain, roughly
    d.ellipse((200, 80, 280, 140), fill=(90, 160, 230))
    out = io.BytesIO()
    img.save(out, format="JPEG")
    return out.getvalue()


def _data():
    from yimi.voice.services import actions as svc

    w = world()
    s1 = letter(
        w["CA1"],
        text="我叫王小明，希望公园里有饮水机，夏天太热了。",
        published="我叫王**，希望公园里有饮水机，夏天太热了。",
        department=w["edu"],
        adoption="adopted",
        reply="谢谢你！我们会在公园装两台饮水机，明年夏天前装好。",
        answered_days=5,
    )
    s2 = letter(
        w["CA2"],
        published="公园的水龙头太高了，小朋友够不着。",
        department=w["edu"],
        adoption="partly",
        reply="我们会加一个矮的出水口。",
    )
    letter(w["CA1"], published="学校门口的斑马线能画得更清楚吗？", topic="school_way")
    letter(w["CA1"], text="还没审核的信：我家住在XX小区3号楼")
    a = svc.action_create(
        actor=w["u_edu"],
        suggestion=s1,
        title="甲一公园装上儿童饮水机",
        description="两台饮水机，一台矮的，小朋友自己就能喝到水。",
        due_on="2027-06-01",
        project_ref="2027年民生实事第8项",
    )
    svc.action_link_suggestion(actor=w["u_edu"], action=a, suggestion=s2)
    m1 = svc.milestone_add(actor=w["u_edu"], action=a, title="选好位置", due_on="2027-01-15")
    svc.milestone_add(actor=w["u_edu"], action=a, title="买好饮水机", due_on="2027-03-01")
    svc.milestone_add(actor=w["u_edu"], action=a, title="装好并试用", due_on="2027-06-01")
    svc.milestone_update(actor=w["u_edu"], milestone=m1, done=True)
    svc.action_photo_add(
        actor=w["u_edu"], action=a, image=_photo((120, 120, 130)), caption="选好的位置"
    )
    b = svc.action_create(
        actor=w["u_edu"],
        suggestion=letter(
            w["CA1"],
            published="图书馆周末能开到晚上吗？",
            topic="culture",
            department=w["edu"],
            adoption="planned",
        ),
        title="社区图书室周末延时开放",
        description="周六周日开到晚上八点。",
    )
    svc.action_update(actor=w["u_edu"], action=b, status="done")
    return {"w": w, "action": a, "s1": s1}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a 390px screen"


def test_what_changed_and_suggestions_on_a_phone(transactional_db, live_server, browser):
    data = _data()
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    page = ctx.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/voice/changes/")
    assert "因为孩子们的建议而改变" in page.content()
    cards = page.locator("article.vp-action")
    assert cards.count() == 2
    bar = page.locator(f"#a{data['action'].pk} .vp-progress")
    assert bar.get_attribute("aria-valuenow") == "33"
    assert page.locator(f"#a{data['action'].pk} .vp-photos img").evaluate(
        "img => img.complete && img.naturalWidth > 0"
    )
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "voice-changes.png"), full_page=True)

    page.click(f"#a{data['action'].pk} h2 a")
    page.wait_for_url(f"**/voice/changes/{data['action'].pk}/")
    text = page.inner_text("main")
    assert "我叫王**" in text and "矮的出水口" in text and "王小明" not in text
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "voice-change-detail.png"), full_page=True)

    page.click(".vp-nav >> text=看看建议")
    page.wait_for_url("**/voice/suggestions/")
    assert page.locator(".vp-card").count() == 4
    assert "还没审核的信" not in page.content()
    page.select_option("#vp-topic", "school_way")
    page.click(".vp-filters button")
    page.wait_for_url("**topic=school_way**")
    assert page.locator(".vp-card").count() == 1
    page.goto(f"{live_server.url}/voice/suggestions/")
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "voice-suggestions.png"), full_page=True)

    # The look-up box takes the code to the receipt page.
    page.fill("#vp-code", data["s1"].receipt_code.lower())
    page.click(".vp-lookup button")
    page.wait_for_url("**/voice/receipt/**")
    assert "明年夏天前装好" in page.inner_text("main")
    assert outside == []
    ctx.close()
