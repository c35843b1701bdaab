"""Volunteer pages and API: the registry for managers, the minimal view for the volunteer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from yimi.care.models import Pairing, Volunteer, VolunteerLog
from yimi.care.services import volunteers as services
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_user

from .builders_volunteers import give_consent, make_child, make_volunteer, new_id_number

TODAY = timezone.localdate
PW = "pw-Yimi-2026!"


@pytest.fixture
def world(db):
    city = make_city()
    director = make_user(Role.DIRECTOR, city["CA1"])
    mine = make_child(
        city["CA1"], name="王小明", birth_date=dt.date(2016, 1, 2), categories=["orphan"]
    )
    other = make_child(city["CA1"], name="李小红")
    give_consent(mine), give_consent(other)
    v1 = make_volunteer(director, city["CA1"], name="张爱心")
    v2 = make_volunteer(director, city["CA1"], name="赵善良")
    u1 = services.volunteer_account_create(actor=director, volunteer=v1, username="v1", password=PW)
    u2 = services.volunteer_account_create(actor=director, volunteer=v2, username="v2", password=PW)
    p1 = services.pairing_start(actor=director, volunteer=v1, child=mine, started_on=TODAY())
    p2 = services.pairing_start(actor=director, volunteer=v2, child=other, started_on=TODAY())
    return {
        "city": city,
        "director": director,
        "mine": mine,
        "other": other,
        "v1": v1,
        "u1": u1,
        "u2": u2,
        "p1": p1,
        "p2": p2,
    }


def _client(client, user):
    client.force_login(user)
    return client


def test_volunteer_sees_only_the_minimal_view_of_their_own_child(client, world):
    c = _client(client, world["u1"])
    before = AuditLog.objects.filter(action=AuditLog.Action.READ).count()
    r = c.get(reverse("care:my_children"))
    assert r.status_code == 200
    html = r.content.decode()
    mine = world["mine"]
    assert "*小明" in html and "王小明" not in html
    for secret in (mine.file_no, mine.id_number, mine.address, "李小红", world["other"].file_no):
        assert secret not in html
    assert "孤儿" not in html and "Orphan" not in html  # no categories
    read = AuditLog.objects.filter(action=AuditLog.Action.READ).order_by("-id")
    assert read.count() == before + 1
    assert read[0].object_id == str(mine.pk) and read[0].after["sections"] == ["basic"]
    # Another volunteer's pairing answers 404, and so does the child's record (if that page exists).
    assert c.get(reverse("care:my_child", args=[world["p2"].pk])).status_code == 404
    assert c.get(reverse("care:my_child", args=[world["p1"].pk])).status_code == 200


def test_my_children_api_is_minimal(client, world):
    c = _client(client, world["u1"])
    r = c.get("/api/v1/care/my-children")
    assert r.status_code == 200
    data = r.json()
    assert len(data) == 1
    assert set(data[0]) == {
        "pairing_id",
        "given_name",
        "age",
        "school_stage",
        "school_stage_label",
        "community",
        "started_on",
        "logs",
    }
    assert data[0]["given_name"] == "*小明" and data[0]["community"] == "甲一社区"
    body = r.content.decode()
    assert world["mine"].file_no not in body and world["mine"].id_number not in body
    # A manager is not a volunteer.
    assert _client(client, world["director"]).get("/api/v1/care/my-children").status_code == 403


def test_volunteer_logs_own_pairing_only(client, world):
    c = _client(client, world["u1"])
    ok = c.post(
        reverse("care:pairing_log", args=[world["p1"].pk]),
        {"date": TODAY().isoformat(), "activity": "一起读书", "notes": ""},
    )
    assert ok.status_code == 302
    assert VolunteerLog.objects.filter(pairing=world["p1"]).count() == 1
    r = c.post(
        reverse("care:pairing_log", args=[world["p2"].pk]),
        {"date": TODAY().isoformat(), "activity": "x"},
    )
    assert r.status_code == 404
    api = c.post(
        f"/api/v1/care/pairings/{world['p2'].pk}/logs",
        json.dumps({"date": TODAY().isoformat(), "activity": "x"}),
        content_type="application/json",
    )
    assert api.status_code == 404
    assert not VolunteerLog.objects.filter(pairing=world["p2"]).exists()
    assert "一起读书" in c.get(reverse("care:my_children")).content.decode()


def test_volunteer_has_no_access_to_the_registry(client, world):
    c = _client(client, world["u1"])
    assert c.get(reverse("care:volunteers")).status_code == 403
    assert c.get("/api/v1/care/volunteers").status_code == 403
    assert c.get(reverse("care:volunteer", args=[world["v1"].pk])).status_code == 403


def test_registry_names_masked_for_the_wcco(client, world):
    html = _client(client, world["director"]).get(reverse("care:volunteers")).content.decode()
    assert "张爱心" in html
    wcco = make_user(Role.WCCO, world["city"]["city"])
    c = _client(client, wcco)
    html = c.get(reverse("care:volunteers")).content.decode()
    assert "张爱心" not in html and "张**" in html
    detail = c.get(reverse("care:volunteer", args=[world["v1"].pk])).content.decode()
    assert "王小明" not in detail and world["mine"].file_no in detail
    names = [v["name"] for v in c.get("/api/v1/care/volunteers").json()]
    assert "张**" in names and "张爱心" not in names


def test_other_district_sees_no_volunteer(client, world):
    c = _client(client, make_user(Role.DIRECTOR, world["city"]["B"]))
    assert c.get(reverse("care:volunteer", args=[world["v1"].pk])).status_code == 404
    assert c.get("/api/v1/care/volunteers").json() == []
    r = c.post(
        f"/api/v1/care/volunteers/{world['v1'].pk}/check",
        json.dumps({"state": "failed", "checked_on": TODAY().isoformat()}),
        content_type="application/json",
    )
    assert r.status_code == 404


def test_manager_pages_render_and_pair(client, world):
    c = _client(client, world["director"])
    for name, args in (
        ("care:volunteers", []),
        ("care:volunteer_new", []),
        ("care:volunteer", [world["v1"].pk]),
        ("care:pairing_new", []),
        ("care:pairing_end", [world["p1"].pk]),
    ):
        assert c.get(reverse(name, args=args)).status_code == 200, name
    r = c.post(
        reverse("care:volunteer_new"),
        {
            "area": world["city"]["CA1"].pk,
            "name": "钱热心",
            "phone": "",
            "id_number": new_id_number(),
            "organisation": "",
        },
    )
    assert r.status_code == 302
    v3 = Volunteer.objects.order_by("-id").first()
    # Without a check, the pairing form refuses the volunteer.
    child = make_child(world["city"]["CA1"], name="孙小刚")
    give_consent(child)
    r = c.post(
        reverse("care:pairing_new"),
        {"volunteer": v3.pk, "child": child.pk, "started_on": TODAY().isoformat()},
    )
    assert r.status_code == 200 and not Pairing.objects.filter(child=child).exists()
    r = c.post(
        reverse("care:volunteer_check", args=[v3.pk]),
        {
            "state": "passed",
            "checked_on": TODAY().isoformat(),
            "reference": "QC-9",
            "valid_until": (TODAY() + dt.timedelta(days=300)).isoformat(),
        },
    )
    assert r.status_code == 302
    r = c.post(
        reverse("care:pairing_new"),
        {"volunteer": v3.pk, "child": child.pk, "started_on": TODAY().isoformat()},
    )
    assert r.status_code == 302 and Pairing.objects.filter(child=child, volunteer=v3).exists()
    # Rotate the first child from v1 to ... v3 is now busy: the form refuses and nothing changes.
    r = c.post(
        reverse("care:pairing_end", args=[world["p1"].pk]),
        {"ended_on": TODAY().isoformat(), "reason": "轮换", "volunteer": v3.pk},
    )
    assert r.status_code == 200
    world["p1"].refresh_from_db()
    assert world["p1"].ended_on is None
    r = c.post(
        reverse("care:pairing_end", args=[world["p1"].pk]),
        {"ended_on": TODAY().isoformat(), "reason": "结束"},
    )
    assert r.status_code == 302
    world["p1"].refresh_from_db()
    assert world["p1"].ended_on == TODAY()
    # The volunteer of an ended pairing no longer sees the child.
    assert _client(client, world["u1"]).get("/api/v1/care/my-children").json() == []


def test_api_register_check_pair_end(client, world):
    c = _client(client, world["director"])
    r = c.post(
        "/api/v1/care/volunteers",
        json.dumps({"area": world["city"]["CA1"].code, "name": "周", "id_number": new_id_number()}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    vid = r.json()["id"]
    child = make_child(world["city"]["CA1"])
    give_consent(child)
    pair = {"volunteer_id": vid, "child_id": child.pk, "started_on": TODAY().isoformat()}
    r = c.post("/api/v1/care/pairings", json.dumps(pair), content_type="application/json")
    assert r.status_code == 400 and "入职查询" in r.json()["error"]["message"]
    r = c.post(
        f"/api/v1/care/volunteers/{vid}/check",
        json.dumps(
            {
                "state": "passed",
                "checked_on": TODAY().isoformat(),
                "reference": "QC",
                "valid_until": (TODAY() + dt.timedelta(days=30)).isoformat(),
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["check_valid"] is True
    r = c.post("/api/v1/care/pairings", json.dumps(pair), content_type="application/json")
    assert r.status_code == 201
    pid = r.json()["id"]
    r = c.post(
        f"/api/v1/care/pairings/{pid}/end",
        json.dumps({"ended_on": TODAY().isoformat(), "reason": "完成"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["ended_on"] == TODAY().isoformat()
    # Anonymous requests are refused.
    client.logout()
    assert client.get("/api/v1/care/volunteers").status_code == 401


def test_a_lapsed_check_closes_the_childs_page_to_the_volunteer(client, world):
    Volunteer.objects.filter(pk=world["v1"].pk).update(
        check_valid_until=TODAY() - dt.timedelta(days=1)
    )
    c = _client(client, world["u1"])
    html = c.get(reverse("care:my_children")).content.decode()
    assert "*小明" not in html and "warn-box" in html
    assert c.get("/api/v1/care/my-children").json() == []
    assert c.get(reverse("care:my_child", args=[world["p1"].pk])).status_code == 404
    # The pairing itself stays for the caseworker to renew the check or end it.
    world["p1"].refresh_from_db()
    assert world["p1"].ended_on is None
