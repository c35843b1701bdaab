"""The top bar's menu in a real browser: folded behind one button on a phone, every link in
reach when opened; a plain row of links on a desktop."""

import pytest

from yimi.core.roles import Role
from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS
from yimi.core.tests.factories import make_city, make_user

pytestmark = BROWSER_MARKS


@pytest.fixture
def site(transactional_db, live_server):
    city = make_city()
    user = make_user(Role.WCCO, city["A"], password="pw-menu-123")
    return live_server.url, user.username


def _login(page, site):
    site, username = site
    page.goto(f"{site}/login/?next=/access/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-menu-123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/access/")


def test_phone_menu_folds_and_opens(site, browser):
    SHOTS.mkdir(exist_ok=True)
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, site)
    toggle = page.locator(".menu-toggle")
    nav = page.locator("#topnav")
    assert toggle.is_visible() and toggle.inner_text().strip() == "菜单"
    assert not nav.is_visible()
    # The top bar stays one row high while the menu is folded.
    assert page.locator(".topbar").bounding_box()["height"] < 60
    toggle.click()
    assert nav.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    links = nav.locator("a")
    assert links.count() >= 6
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        # Every link lies inside the screen: nothing to scroll sideways to.
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, links.nth(i).inner_text()
    page.screenshot(path=str(SHOTS / "menu-phone-open.png"))
    page.keyboard.press("Escape")
    assert not nav.is_visible()
    assert errors == []
    ctx.close()


def test_desktop_shows_links_without_a_menu_button(site, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    _login(page, site)
    assert not page.locator(".menu-toggle").is_visible()
    assert page.locator("#topnav a").first.is_visible()
    assert page.get_by_role("link", name="生活圈可达性").is_visible()
    page.screenshot(path=str(SHOTS / "menu-desktop.png"))
    ctx.close()
