"""The life-circle accessibility pages in a real browser (Playwright driving Debian's Chromium).

A 妇儿工委办 (WCCO) user of the demo district, with the real sample extract imported and child
totals entered: on a phone, opens /access/, starts an analysis and reaches its results; on a
desktop, sees the gap map with its legend, the worst-served places, and runs "where to build
next". Tasks run immediately in tests, so the queued and running states are shown by answering
the run's own endpoint with those states first (``page.route``). Screenshots go to
``screenshots/access-*.png``.
"""

import json

import pytest

from yimi.core.tests.browser_support import BROWSER_MARKS, SHOTS

pytestmark = BROWSER_MARKS


# Children per age group (0-3, 3-6, 6-12, 12-15) of the two demo communities.
POPULATION = {
    "110108900001": (180, 210, 420, 190),
    "110108900002": (150, 170, 360, 160),
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def site(transactional_db, live_server, sample_osm_path):
    """The demo city, the sample extract, child totals, and a WCCO user of the district."""
    from yimi.access.services import population_set
    from yimi.core.demo import build_city
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user
    from yimi.places.network import clear_cache
    from yimi.places.osm_import import osm_import

    clear_cache()
    areas = build_city(lambda s: None)
    osm_import(actor=None, path=sample_osm_path)
    population_set(
        actor=None,
        rows=[
            {"area": code, "age_group": g, "count": n, "year": 2020, "source": "测试"}
            for code, counts in POPULATION.items()
            for g, n in zip(("0-3", "3-6", "6-12", "12-15"), counts, strict=True)
        ],
    )
    user = make_user(Role.WCCO, areas["110108"])
    yield {"url": live_server.url, "user": user, "areas": areas}
    clear_cache()


def _session_cookie(site) -> dict:
    """Log the user in with Django's test client and hand its session cookie to the browser."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(site["user"])
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": site["url"],
    }


def _page(browser, site, viewport, lang="zh-CN"):
    phone = viewport["width"] < 768
    ctx = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale=lang,
        timezone_id="Asia/Shanghai",
    )
    ctx.add_cookies([_session_cookie(site)])
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    return page, errors


def _headers(response) -> dict:
    """The real response's headers, less those that would not fit a changed body."""
    drop = {"content-length", "content-encoding"}
    return {k: v for k, v in response.headers.items() if k.lower() not in drop}


def _shot(page, name, **kw):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"access-{name}.png"), **kw)


def test_start_an_analysis_on_a_phone_then_gap_map_and_siting_on_a_desktop(site, browser):
    from yimi.access.models import AnalysisRun

    # ---- phone: the list, the form, start an analysis, reach its results ---------------------
    page, errors = _page(browser, site, PHONE)
    page.goto(f"{site['url']}/access/")
    page.wait_for_selector("#rule-options input[name=rules]", timeout=20000)
    assert page.locator("#rule-options input[name=rules]").count() >= 5
    # The child totals entered above are shown, editable for the WCCO office.
    page.wait_for_selector("#population-body .pop-input")
    row = page.locator("#population-body tr[data-area='110108900001']")
    assert row.locator("input[data-age='3-6']").input_value() == "210"
    assert row.locator(".total").inner_text().replace(",", "").strip() == "1000"
    _shot(page, "phone-index")

    # Kindergartens, playgrounds and primary schools only, for a quick run.
    page.click("#rules-none")
    for rule in ("kindergarten", "playground", "primary_school"):
        page.locator(f"#rule-options input[value='{rule}']").check()
    chosen = page.locator("#rule-options input[name=rules]:checked").count()
    assert chosen == 3
    page.locator("#new-run-form").scroll_into_view_if_needed()
    page.click("button#start-run")
    page.wait_for_url("**/access/runs/*/", timeout=60000)
    run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.wait_for_selector("#run-status[data-status='done']", timeout=60000)
    page.wait_for_selector("#summary .rule-card[data-rule]")
    assert page.locator("#summary .rule-card").count() == chosen
    card = page.locator("#summary .rule-card[data-rule='kindergarten']")
    assert "%" in card.locator(".share").inner_text()
    page.wait_for_selector("#gap-map[data-ready='1']", timeout=30000)
    _shot(page, "phone-run")
    page.locator("#gap-map").scroll_into_view_if_needed()
    _shot(page, "phone-gap-map")
    assert not errors, errors

    run = AnalysisRun.objects.get(pk=run_id)
    assert run.status == "done"
    assert sorted(run.params["rules"]) == sorted(
        page.eval_on_selector_all("#summary .rule-card", "cs => cs.map(c => c.dataset.rule)")
    )

    # ---- desktop: gap map, legend, worst-served, chart, coverage, where to build next ---------
    page, errors = _page(browser, site, DESKTOP)
    page.goto(f"{site['url']}/access/runs/{run_id}/")
    page.wait_for_selector("#gap-map[data-ready='1']", timeout=30000)
    page.select_option("#gap-rule", "kindergarten")
    page.wait_for_selector("#gap-map[data-ready='1']", timeout=30000)
    assert page.locator("#gap-map .leaflet-hex-pane path").count() > 0  # the hexagons
    legend = page.inner_text("#gap-legend")
    assert "%" in legend and "300" in legend
    assert page.locator("#gap-legend .legend-scale li").count() >= 3
    assert "© OpenStreetMap" in page.inner_text("#gap-map")
    assert page.locator("#chart svg .row").count() == chosen
    assert page.locator("#coverage-table tbody tr").count() >= 2  # the whole area + communities
    assert "%" in page.inner_text("#coverage-table tbody tr.total-row")
    page.wait_for_selector("#worst-list li .worst-item")
    page.locator("#gap-map").scroll_into_view_if_needed()
    _shot(page, "desktop-gap-map")

    # Click the worst-served place: the map zooms there and opens its numbers.
    page.locator("#worst-list .worst-item").first.click()
    page.wait_for_selector("#gap-map .hex-popup", timeout=10000)

    # Where to build next: two kindergartens at street corners.
    page.locator("#siting-form").scroll_into_view_if_needed()
    page.select_option("#siting-rule", "kindergarten")
    page.fill("#siting-k", "2")
    page.click("#siting-run")
    page.wait_for_selector("#siting-result li", timeout=60000)
    assert 1 <= page.locator("#siting-result li").count() <= 2
    assert "+" in page.inner_text("#siting-result li:first-child")
    sites = page.locator("#siting-result li").count()
    assert page.locator("#gap-map .num-pin.site").count() == sites
    before_after = page.inner_text("#siting-summary")
    assert "%" in before_after
    _shot(page, "desktop-siting")
    page.locator("#gap-map").scroll_into_view_if_needed()
    _shot(page, "desktop-siting-map")

    # Downloads point at the API with the chosen rule.
    href = page.get_attribute("#exports a[data-format='geojson']", "href")
    assert href.endswith(f"/api/v1/access/runs/{run_id}/export?format=geojson&rule=kindergarten")
    _shot(page, "desktop-run", full_page=True)
    assert not errors, errors


def test_progress_is_shown_while_queued_and_running(site, browser):
    """Runs finish at once in tests: answer the run's endpoint as queued, then running, then let
    the real (done) answer through; the page must follow each state and then show results."""
    from yimi.access.services import run_create

    run = run_create(actor=site["user"], rules=["kindergarten", "playground"])
    assert run.status == "done", run.error
    page, errors = _page(browser, site, PHONE)
    calls = {"n": 0}

    def fake_states(route):
        calls["n"] += 1
        real = route.fetch()
        data = real.json()
        if calls["n"] <= 2:
            data.update(status="queued", progress=0, stage="", started_at=None, finished_at=None)
        elif calls["n"] <= 4:
            data.update(status="running", progress=40, stage="正在计算步行距离", finished_at=None)
        route.fulfill(response=real, body=json.dumps(data), headers=_headers(real))

    page.route(f"**/api/v1/access/runs/{run.pk}", fake_states)
    page.goto(f"{site['url']}/access/runs/{run.pk}/")
    page.wait_for_selector("#run-status[data-status='queued']", timeout=20000)
    assert page.locator("#run-progress.indeterminate").is_visible()
    assert page.locator("#results").is_hidden()
    _shot(page, "phone-queued")
    page.wait_for_selector("#run-status[data-status='running']", timeout=20000)
    assert page.get_attribute("#run-progress", "aria-valuenow") == "40"
    assert "正在计算步行距离" in page.inner_text("#run-stage")
    assert "40%" in page.inner_text("#run-status")
    _shot(page, "phone-running")
    page.wait_for_selector("#run-status[data-status='done']", timeout=20000)
    page.wait_for_selector("#summary .rule-card[data-rule='kindergarten']")
    page.wait_for_selector("#gap-map[data-ready='1']", timeout=30000)
    assert page.locator("#run-progress").is_hidden()
    # Polling stops once the run is done.
    n = calls["n"]
    page.wait_for_timeout(3500)
    assert calls["n"] == n
    assert not errors, errors

    # The list polls too: a running analysis shows its bar there.
    page.unroute(f"**/api/v1/access/runs/{run.pk}")

    def list_running(route):
        real = route.fetch()
        rows = real.json()
        for r in rows:
            if r["id"] == run.pk:
                r.update(status="running", progress=65, stage="正在汇总", finished_at=None)
        route.fulfill(response=real, body=json.dumps(rows), headers=_headers(real))

    page.route("**/api/v1/access/runs", list_running)
    page.goto(f"{site['url']}/access/")
    item = page.locator(f"#runs-list .run-item[data-id='{run.pk}']")
    item.wait_for(timeout=20000)
    assert item.get_attribute("data-status") == "running"
    assert item.locator(".progress").get_attribute("aria-valuenow") == "65"
    _shot(page, "phone-list-running")
    assert not errors, errors


def test_a_failed_run_shows_its_error(site, browser):
    from yimi.access.services import run_create

    run = run_create(actor=site["user"], rules=["kindergarten"])
    page, errors = _page(browser, site, PHONE)

    def failed(route):
        real = route.fetch()
        data = real.json()
        error = "没有居住建筑：请先导入含建筑的OSM数据。"
        data.update(status="failed", progress=30, stage="", error=error)
        route.fulfill(response=real, body=json.dumps(data), headers=_headers(real))

    page.route(f"**/api/v1/access/runs/{run.pk}", failed)
    page.goto(f"{site['url']}/access/runs/{run.pk}/")
    page.wait_for_selector("#run-status[data-status='failed']", timeout=20000)
    assert "没有居住建筑" in page.inner_text("#run-error")
    assert page.locator("#results").is_hidden()
    assert not errors, errors
