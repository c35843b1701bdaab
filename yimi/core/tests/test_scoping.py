"""Area and department scoping through the one queryset method, ``visible_to``."""

import pytest
from django.contrib.auth.models import AnonymousUser

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_user
from yimi.places.models import Place
from yimi.places.services import place_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return make_city()


@pytest.fixture
def places(city):
    return {
        "CA1": place_create(
            actor=None, name="甲一游乐场", category="playground", lon=116.1, lat=40.0
        ),
        "CA2": place_create(actor=None, name="甲二公园", category="park", lon=116.3, lat=40.0),
        "B": place_create(actor=None, name="乙区图书馆", category="library", lon=116.7, lat=40.0),
        "none": place_create(actor=None, name="城外书屋", category="library", lon=118.0, lat=40.0),
    }


def _names(qs):
    return sorted(p.name for p in qs)


def test_places_are_assigned_to_the_deepest_area(city, places):
    assert places["CA1"].area == city["CA1"]
    assert places["CA2"].area == city["CA2"]
    assert places["B"].area == city["SB"]
    assert places["none"].area is None


def test_community_director_changes_only_own_community(city, places):
    director = make_user(Role.DIRECTOR, city["CA1"])
    assert _names(Place.objects.visible_to(director, "change")) == ["甲一游乐场"]


def test_street_supervisor_sees_the_street_subtree(city, places):
    sup = make_user(Role.SUPERVISOR, city["SA"])
    assert _names(Place.objects.visible_to(sup, "change")) == sorted(["甲二公园", "甲一游乐场"])


def test_district_b_cannot_change_district_a(city, places):
    wcco_b = make_user(Role.WCCO, city["B"])
    assert _names(Place.objects.visible_to(wcco_b, "change")) == ["乙区图书馆"]


def test_city_level_user_also_owns_rows_outside_every_area(city, places):
    wcco = make_user(Role.WCCO, city["city"])
    assert len(Place.objects.visible_to(wcco, "change")) == 4


def test_public_and_experts_change_nothing_but_view_public_rows(city, places):
    for user in (AnonymousUser(), make_user(Role.PUBLIC), make_user(Role.EXPERT, city["A"])):
        assert not Place.objects.visible_to(user, "change").exists()
        assert Place.objects.visible_to(user, "view").count() == 4


def test_retired_places_are_hidden_from_the_public_not_from_their_staff(city, places):
    from yimi.places.services import place_verify

    place_verify(actor=None, place=places["CA1"], state=Place.Verification.RETIRED)
    assert "甲一游乐场" not in _names(Place.objects.visible_to(AnonymousUser()))
    director = make_user(Role.DIRECTOR, city["CA1"])
    assert "甲一游乐场" in _names(Place.objects.visible_to(director))


def test_audit_log_scoped_by_area_path(city, places):
    wcco_a = make_user(Role.WCCO, city["A"])
    rows = AuditLog.objects.visible_to(wcco_a)
    assert rows.exists()
    assert all(r.area_path.startswith(city["A"].path) for r in rows)
    assert not rows.filter(object_repr="乙区图书馆").exists()


def test_staff_without_area_sees_nothing(city, places):
    from yimi.core.models import User

    u = User.objects.create(username="stray", role=Role.DIRECTOR)
    assert not Place.objects.visible_to(u, "change").exists()


def test_rows_public_to_all_are_seen_by_area_staff_too(city):
    from yimi.places.models import Theme
    from yimi.places.services import theme_create

    theme_create(actor=None, slug="b-theme", name="乙区主题", area=city["B"])
    director_a = make_user(Role.DIRECTOR, city["CA1"])
    assert list(Theme.objects.visible_to(director_a).values_list("slug", flat=True)) == ["b-theme"]
    assert not Theme.objects.visible_to(director_a, "change").exists()
