"""Every write leaves an audit row (who, what, before/after, when); administrators browse it."""

import pytest
from django.urls import reverse

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_user
from yimi.places.services import place_create, place_update

pytestmark = pytest.mark.django_db


def test_create_and_update_write_before_and_after():
    city = make_city()
    director = make_user(Role.DIRECTOR, city["CA1"])
    place = place_create(actor=director, name="小桔灯书屋", category="library", lon=116.1, lat=40.0)
    row = AuditLog.objects.get(
        object_type="places.place", object_id=str(place.pk), action=AuditLog.Action.CREATE
    )
    assert row.actor == director
    assert row.before is None and row.after["name"] == "小桔灯书屋"
    assert row.area_path == city["CA1"].path

    place_update(actor=director, place=place, opening_hours="09:00-17:00")
    upd = AuditLog.objects.get(object_id=str(place.pk), action=AuditLog.Action.UPDATE)
    assert upd.changes() == [("opening_hours", "", "09:00-17:00")] or [
        c[0] for c in upd.changes()
    ] == ["opening_hours", "updated_at"]
    assert upd.created_at >= row.created_at


def test_a_write_that_changes_nothing_writes_no_row():
    city = make_city()
    director = make_user(Role.DIRECTOR, city["CA1"])
    place = place_create(
        actor=director, name="甲一游乐场", category="playground", lon=116.1, lat=40.0
    )
    n = AuditLog.objects.count()
    place_update(actor=director, place=place, name="甲一游乐场")
    assert AuditLog.objects.count() == n


def test_refused_write_leaves_no_row_and_no_change():
    from yimi.core.services import PermissionDenied

    city = make_city()
    director = make_user(Role.DIRECTOR, city["CA1"])
    other = place_create(actor=None, name="甲二公园", category="park", lon=116.3, lat=40.0)
    n = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        place_update(actor=director, place=other, name="改名")
    other.refresh_from_db()
    assert other.name == "甲二公园"
    assert AuditLog.objects.count() == n


@pytest.mark.parametrize(
    "role,status",
    [
        (Role.ADMIN, 200),
        (Role.WCCO, 200),
        (Role.DIRECTOR, 403),
        (Role.DEPARTMENT, 403),
        (Role.EXPERT, 403),
        (Role.PUBLIC, 403),
    ],
)
def test_audit_page_is_for_administrators(client, role, status):
    city = make_city()
    from yimi.core.tests.factories import make_department

    dept = make_department(city["A"]) if role == Role.DEPARTMENT else None
    user = make_user(role, None if role in (Role.ADMIN, Role.PUBLIC) else city["A"], dept)
    client.force_login(user)
    resp = client.get(reverse("core:audit"))
    assert resp.status_code == status


def test_wcco_browses_only_own_area(client):
    city = make_city()
    place_create(actor=None, name="乙区图书馆", category="library", lon=116.7, lat=40.0)
    place_create(actor=None, name="甲一游乐场", category="playground", lon=116.1, lat=40.0)
    client.force_login(make_user(Role.WCCO, city["A"]))
    html = client.get(reverse("core:audit")).content.decode()
    assert "甲一游乐场" in html
    assert "乙区图书馆" not in html


def test_admin_sees_audit_log_in_django_admin_read_only(client):
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    place_create(actor=admin, name="测试地点", category="park", lon=116.1, lat=40.0)
    row = AuditLog.objects.filter(action="create", object_type="places.place").first()
    resp = client.get(f"/admin/core/auditlog/{row.pk}/change/")
    assert resp.status_code == 200
    assert client.post(f"/admin/core/auditlog/{row.pk}/delete/").status_code == 403


def test_audit_page_names_object_types_in_words(client):
    """Rows and the type filter show the model's name (地点), not the label places.place."""
    make_city()
    place_create(actor=None, name="甲一游乐场", category="playground", lon=116.1, lat=40.0)
    AuditLog.objects.create(action="export", object_type="not.a_model", object_repr="x")
    client.force_login(make_user(Role.ADMIN))
    html = client.get(reverse("core:audit"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<option value="places.place" >地点</option>' in html.replace("  ", " ")
    assert '<span title="places.place">地点</span>' in html
    # A type that is not a model is shown as it is.
    assert '<span title="not.a_model">not.a_model</span>' in html
