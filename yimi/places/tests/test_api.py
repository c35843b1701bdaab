"""The map's API: filters, search, near me, trips, themes, routes; reading public, writing staff."""

import itertools

import numpy as np
import pytest

from yimi.analysis.tour import brute_force_tour
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_department, make_user
from yimi.places.models import Place
from yimi.places.network import get_walk_graph

pytestmark = pytest.mark.django_db


def test_list_filters_by_category_area_bbox_and_text(client, imported):
    all_ = client.get("/api/v1/places?page_size=500").json()
    assert all_["count"] == Place.objects.count()
    first = all_["results"][0]
    assert {"name", "category", "category_label", "lon", "lat"} <= set(first)
    kg = client.get("/api/v1/places?category=kindergarten").json()
    assert kg["count"] == 2 and {r["category"] for r in kg["results"]} == {"kindergarten"}
    assert all_["category_counts"]["kindergarten"] == 2
    both = client.get("/api/v1/places?category=kindergarten,school").json()
    assert both["count"] == 2 + all_["category_counts"]["school"]
    area = client.get("/api/v1/places?area=110108900001&page_size=500").json()
    assert 0 < area["count"] < all_["count"]
    assert {r["area"] for r in area["results"]} == {"110108900001"}
    box = client.get("/api/v1/places?bbox=116.31,39.99,116.32,40.0&page_size=500").json()
    assert all(116.31 <= r["lon"] <= 116.32 and 39.99 <= r["lat"] <= 40.0 for r in box["results"])
    bad = client.get("/api/v1/places?bbox=1,2,3")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_search_finds_two_character_chinese_words(client, imported):
    res = client.get("/api/v1/places", {"q": "幼儿"}).json()
    names = [r["name"] for r in res["results"]]
    assert "清华大学洁华幼儿园" in names and "清华大学附属幼儿园" in names
    exact = client.get("/api/v1/places", {"q": "清华大学附属幼儿园"}).json()
    assert exact["results"][0]["name"] == "清华大学附属幼儿园"
    assert client.get("/api/v1/places", {"q": "没有这个地方"}).json()["count"] == 0


def test_pages(client, imported):
    p1 = client.get("/api/v1/places?page_size=10&page=1").json()
    p2 = client.get("/api/v1/places?page_size=10&page=2").json()
    assert len(p1["results"]) == 10
    assert not {r["id"] for r in p1["results"]} & {r["id"] for r in p2["results"]}


def test_nearby_is_sorted_by_walking_distance(client, imported):
    kg = Place.objects.get(name="清华大学附属幼儿园")
    res = client.get("/api/v1/places/nearby", {"lat": kg.lat, "lon": kg.lon, "radius": 1500}).json()
    assert res["distance"] == "walking"
    d = [r["distance_m"] for r in res["results"]]
    assert d == sorted(d) and len(d) > 3
    # Walking is never shorter than the straight line.
    assert all(r["distance_m"] >= r["straight_m"] - 1e-6 for r in res["results"])
    graph = get_walk_graph()
    far = res["results"][-1]["place"]
    expect = graph.distance_matrix(
        [kg.lon], [kg.lat], [far["lon"]], [far["lat"]], component="largest"
    )[0, 0]
    assert res["results"][-1]["distance_m"] == pytest.approx(expect, abs=1e-6)
    only = client.get(
        "/api/v1/places/nearby", {"lat": kg.lat, "lon": kg.lon, "radius": 1500, "category": "park"}
    ).json()
    assert {r["place"]["category"] for r in only["results"]} == {"park"}


def test_nearby_falls_back_to_straight_line_and_says_so(client, city):
    from yimi.places.services import place_create

    place_create(actor=None, name="甲一游乐场", category="playground", lon=116.1, lat=40.0)
    res = client.get("/api/v1/places/nearby", {"lat": 40.0, "lon": 116.101, "radius": 500}).json()
    assert res["distance"] == "straight_line"
    assert res["results"][0]["distance_m"] == pytest.approx(res["results"][0]["straight_m"])


def test_trip_plan_is_optimal_over_the_walking_network(client, imported):
    ids = list(
        Place.objects.filter(
            lon__gte=116.3084, lon__lte=116.3320, lat__gte=39.9905, lat__lte=40.0123
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:6]
    )
    res = client.post("/api/v1/trips", {"places": ids}, content_type="application/json")
    assert res.status_code == 200, res.content
    trip = res.json()
    assert sorted(trip["order"]) == sorted(ids) and trip["distance"] == "walking"
    places = {p.pk: p for p in Place.objects.filter(pk__in=ids)}
    lon = np.array([places[i].lon for i in ids])
    lat = np.array([places[i].lat for i in ids])
    dist = get_walk_graph().distance_matrix(lon, lat, lon, lat, component="largest")
    best = brute_force_tour(dist)
    got = sum(dist[ids.index(a), ids.index(b)] for a, b in itertools.pairwise(trip["order"]))
    assert got == pytest.approx(best.length, rel=1e-9)
    assert trip["length_m"] == pytest.approx(best.length, rel=1e-6)
    assert trip["path"]["type"] == "LineString" and len(trip["path"]["coordinates"]) > 2


def test_trip_with_start_and_limits(client, imported):
    ids = list(Place.objects.order_by("pk").values_list("pk", flat=True)[:3])
    start = {"lon": 116.32, "lat": 40.0}
    trip = client.post(
        "/api/v1/trips", {"places": ids, "start": start}, content_type="application/json"
    ).json()
    assert trip["path"]["coordinates"][0] == pytest.approx([116.32, 40.0], abs=1e-6)
    too_many = client.post(
        "/api/v1/trips", {"places": list(range(1, 14))}, content_type="application/json"
    )
    assert too_many.status_code == 422
    missing = client.post(
        "/api/v1/trips", {"places": [ids[0], 10**9]}, content_type="application/json"
    )
    assert missing.status_code == 404


def test_themes_and_routes(client, imported):
    from yimi.places.demo import build_themes_and_routes

    build_themes_and_routes(actor=None, out=lambda s: None)
    themes = client.get("/api/v1/themes").json()
    assert {t["slug"] for t in themes} >= {"nature", "sport"}
    routes = client.get("/api/v1/routes").json()
    assert routes and routes[0]["length_m"] > 0 and len(routes[0]["stops"]) >= 2
    assert routes[0]["path"]["type"] == "LineString"
    assert not routes[0]["straight_line"]
    theme_places = client.get("/api/v1/places?theme=nature&page_size=500").json()
    assert theme_places["count"] == len(
        themes[[t["slug"] for t in themes].index("nature")]["place_ids"]
    )


def test_basemap_layers(client, imported):
    fc = client.get("/api/v1/basemap?kind=road,water").json()
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert kinds == {"road", "water"}


@pytest.mark.parametrize(
    "role,status",
    [
        (None, 401),
        (Role.PUBLIC, 403),
        (Role.EXPERT, 403),
        (Role.DIRECTOR, 201),
        (Role.SUPERVISOR, 201),
        (Role.WCCO, 201),
        (Role.DEPARTMENT, 201),
        (Role.ADMIN, 201),
    ],
)
def test_writing_needs_a_staff_role(client, city, role, status):
    if role is not None:
        dept = make_department(city["A"]) if role == Role.DEPARTMENT else None
        area = None if role in (Role.PUBLIC, Role.ADMIN) else city["CA1"]
        client.force_login(make_user(role, area, dept))
    resp = client.post(
        "/api/v1/places",
        {"name": "新书屋", "category": "library", "lon": 116.1, "lat": 40.0},
        content_type="application/json",
    )
    assert resp.status_code == status, resp.content
    if status == 201:
        assert AuditLog.objects.filter(
            action="create", object_type="places.place", object_id=str(resp.json()["id"])
        ).exists()
    else:
        assert resp.json()["error"]["status"] == status
        assert not Place.objects.exists()


def test_staff_cannot_touch_another_area(client, city):
    from yimi.places.services import place_create

    other = place_create(actor=None, name="乙区图书馆", category="library", lon=116.7, lat=40.0)
    client.force_login(make_user(Role.DIRECTOR, city["CA1"]))
    resp = client.patch(
        f"/api/v1/places/{other.pk}", {"name": "改名"}, content_type="application/json"
    )
    # The place is public, so it is no secret that it exists: the write is refused, not hidden.
    assert resp.status_code == 403
    resp = client.post(
        "/api/v1/places",
        {"name": "越界", "category": "park", "lon": 116.7, "lat": 40.0},
        content_type="application/json",
    )
    assert resp.status_code == 403
    other.refresh_from_db()
    assert other.name == "乙区图书馆"


def test_create_accepts_gcj02_and_verify(client, city):
    from yimi.analysis.coords import gcj02_to_wgs84

    client.force_login(make_user(Role.SUPERVISOR, city["SA"]))
    resp = client.post(
        "/api/v1/places",
        {"name": "高德坐标点", "category": "park", "lon": 116.1, "lat": 40.0, "crs": "GCJ-02"},
        content_type="application/json",
    )
    p = resp.json()
    assert (p["lon"], p["lat"]) == pytest.approx(gcj02_to_wgs84(116.1, 40.0), abs=1e-9)
    v = client.post(
        f"/api/v1/places/{p['id']}/verify", {"state": "verified"}, content_type="application/json"
    ).json()
    assert v["verification"] == "verified"


def test_export_is_audited_and_template_downloads(client, imported):
    resp = client.get("/api/v1/places/export?format=csv&crs=gcj02&category=park")
    assert resp.status_code == 200 and resp.content.startswith(b"\xef\xbb\xbf")
    assert AuditLog.objects.filter(action="export").exists()
    tpl = client.get("/api/v1/places/template.xlsx")
    assert tpl.status_code == 200 and tpl.content[:2] == b"PK"
    bad = client.get("/api/v1/places/export?format=pdf")
    assert bad.status_code == 400
