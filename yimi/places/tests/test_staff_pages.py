"""Staff pages: add, edit, verify places; import with row/column errors; themes and routes."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_user
from yimi.places.models import Place, Route, Theme
from yimi.places.services import place_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def director_client(client, city):
    client.force_login(make_user(Role.DIRECTOR, city["CA1"]))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/map/staff/",
        "/map/staff/places/new/",
        "/map/staff/import/",
        "/map/staff/themes/",
        "/map/staff/routes/",
    ],
)
def test_staff_pages_need_a_staff_role(client, city, url):
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(make_user(Role.PUBLIC))
    assert client.get(url).status_code == 403
    client.force_login(make_user(Role.DIRECTOR, city["CA1"]))
    assert client.get(url).status_code == 200


def test_add_edit_and_verify_a_place(director_client, city):
    resp = director_client.post(
        "/map/staff/places/new/",
        {
            "name": "阳光儿童之家",
            "category": "children_home",
            "lon": "116.1",
            "lat": "40.0",
            "crs": "gcj02",
            "fee": "free",
            "accessible": "true",
            "nursing_room": "unknown",
            "family_toilet": "unknown",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    p = Place.objects.get(name="阳光儿童之家")
    assert p.lon != 116.1 and p.area == city["CA1"] and p.source == "staff"
    resp = director_client.post(
        f"/map/staff/places/{p.pk}/",
        {
            "name": "阳光儿童之家",
            "category": "children_home",
            "lon": p.lon,
            "lat": p.lat,
            "crs": "wgs84",
            "fee": "free",
            "opening_hours": "09:00-17:00",
            "accessible": "true",
            "nursing_room": "unknown",
            "family_toilet": "unknown",
        },
    )
    assert resp.status_code == 302
    p.refresh_from_db()
    assert p.opening_hours == "09:00-17:00"
    director_client.post(f"/map/staff/places/{p.pk}/verify/", {"state": "verified"})
    p.refresh_from_db()
    assert p.verification == "verified" and p.verified_at is not None
    assert AuditLog.objects.filter(object_id=str(p.pk), action="update").count() == 2


def test_cannot_edit_a_place_of_another_area(director_client, city):
    other = place_create(actor=None, name="乙区图书馆", category="library", lon=116.7, lat=40.0)
    assert director_client.get(f"/map/staff/places/{other.pk}/").status_code == 404
    assert (
        director_client.post(
            f"/map/staff/places/{other.pk}/verify/", {"state": "retired"}
        ).status_code
        == 404
    )
    other.refresh_from_db()
    assert other.verification == "unverified"


def test_import_page_shows_row_and_column_errors_and_writes_nothing(director_client):
    wb = Workbook()
    ws = wb.active
    ws.append(["名称", "类别", "经度", "纬度"])
    ws.append(["好", "公园", 116.1, 40.0])
    ws.append(["坏", "不知道", 116.1, 40.0])
    buf = io.BytesIO()
    wb.save(buf)
    resp = director_client.post(
        "/map/staff/import/",
        {"file": SimpleUploadedFile("places.xlsx", buf.getvalue()), "crs": "wgs84"},
    )
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "不知道" in html and ">3<" in html.replace(" ", "")
    assert not Place.objects.exists()


def test_themes_and_routes_pages(director_client, city):
    a = place_create(actor=None, name="甲一游乐场", category="playground", lon=116.1, lat=40.0)
    b = place_create(actor=None, name="甲一书屋", category="library", lon=116.11, lat=40.01)
    resp = director_client.post(
        "/map/staff/themes/new/",
        {"slug": "reading", "name": "图书文化", "color": "#7b2cbf", "places": [a.pk, b.pk]},
    )
    assert resp.status_code == 302
    assert set(Theme.objects.get(slug="reading").places.all()) == {a, b}
    resp = director_client.post(
        "/map/staff/routes/new/", {"slug": "walk", "name": "周末线", "place_ids": f"{a.pk},{b.pk}"}
    )
    assert resp.status_code == 302
    route = Route.objects.get(slug="walk")
    assert [s.place_id for s in route.stops.all()] == [a.pk, b.pk]
    # No walking network: the route is a straight line, and says so.
    assert route.straight_line and route.length_m > 1000
    assert "周末线" in director_client.get("/map/staff/routes/").content.decode()
