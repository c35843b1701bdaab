"""The public map in a real browser (Playwright driving Debian's Chromium), phone-sized.

Opens the map, filters a category, opens a place, plans a trip; saves screenshots in
``screenshots/``.
"""

import pytest

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

pytestmark = BROWSER_MARKS


@pytest.fixture
def site(transactional_db, live_server, sample_osm_path):
    from yimi.core.demo import build_city
    from yimi.places.demo import build_themes_and_routes
    from yimi.places.network import clear_cache
    from yimi.places.osm_import import osm_import

    clear_cache()
    build_city(lambda s: None)
    osm_import(actor=None, path=sample_osm_path)
    build_themes_and_routes(actor=None, out=lambda s: None)
    yield live_server.url
    clear_cache()


def _phone(browser, lang="zh-CN"):
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=lang,
    )
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    return page, errors


def test_map_filter_place_and_trip_on_a_phone(site, browser):
    SHOTS.mkdir(exist_ok=True)
    page, errors = _phone(browser)
    page.goto(f"{site}/map/")
    page.wait_for_selector("#map[data-ready='1']", timeout=20000)
    assert "© OpenStreetMap" in page.inner_text("#map")
    page.screenshot(path=str(SHOTS / "map-phone.png"))

    # Filter one category: only kindergartens remain in the list.
    chip = page.locator(".category-chip[data-category='kindergarten']")
    assert chip.locator(".count").inner_text().strip() == "2"
    chip.click()
    page.wait_for_function(
        "document.querySelectorAll('#place-list .place-item').length === 2", timeout=10000
    )
    page.screenshot(path=str(SHOTS / "map-filter-kindergarten.png"))

    # Open a place.
    page.locator("#place-list .place-item").first.click()
    page.wait_for_selector("#place-detail .place-name", state="visible")
    name = page.inner_text("#place-detail .place-name")
    assert "幼儿园" in name
    page.screenshot(path=str(SHOTS / "map-place-detail.png"))

    # Build a trip: this kindergarten, the other, and a park.
    page.click("button#add-to-trip")
    page.locator("#place-list .place-item").nth(1).click()
    page.wait_for_selector("#place-detail .place-name", state="visible")
    page.click("button#add-to-trip")
    chip.click()  # back to all categories
    page.locator(".category-chip[data-category='park']").click()
    page.locator("#place-list .place-item").first.click()
    page.click("button#add-to-trip")
    assert page.locator("#trip-tray .trip-stop").count() == 3
    page.click("button#plan-trip")
    page.wait_for_selector("#trip-result .trip-length", timeout=15000)
    assert page.locator("#trip-result .trip-order li").count() == 3
    length_text = page.inner_text("#trip-result .trip-length")
    assert any(ch.isdigit() for ch in length_text)
    page.screenshot(path=str(SHOTS / "map-trip.png"))
    assert "#" in page.url and "trip=" in page.url
    assert not errors, errors


def test_shared_link_restores_the_place(site, browser):
    from yimi.places.models import Place

    p = Place.objects.get(name="清华大学附属幼儿园")
    page, errors = _phone(browser)
    page.goto(f"{site}/map/#place={p.pk}")
    page.wait_for_selector("#place-detail .place-name", state="visible", timeout=20000)
    assert page.inner_text("#place-detail .place-name").strip() == "清华大学附属幼儿园"
    assert not errors, errors


def test_desktop_search_two_character_word(site, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{site}/map/")
    page.wait_for_selector("#map[data-ready='1']", timeout=20000)
    page.fill("#search-input", "幼儿")
    page.wait_for_function(
        "document.querySelectorAll('#place-list .place-item').length === 2", timeout=10000
    )
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-desktop-search.png"))
