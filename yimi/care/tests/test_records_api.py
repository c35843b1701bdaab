"""Records API: scoped masked lists, the audited file by sections, 404 across areas, writes."""

from __future__ import annotations

import json

import pytest

from yimi.core.models import AuditLog

from .builders_records import child, city_with_b, id_number, order_for, people

API = "/api/v1/care"


@pytest.fixture
def setup(db):
    city = city_with_b()
    who = people(city)
    c = child(who["director"], city["CA1"], name="张小明")
    return city, who, c


def _post(client, url, data, method="post"):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


def test_list_scoped_and_masked(client, setup):
    _, who, c = setup
    client.force_login(who["director"])
    body = client.get(f"{API}/children").json()
    assert body["count"] == 1 and body["items"][0]["name"] == "张小明"
    assert body["items"][0]["id_number"] != c.id_number and "*" in body["items"][0]["id_number"]
    client.force_login(who["wcco"])
    item = client.get(f"{API}/children").json()["items"][0]
    assert item["name"] == "张**" and item["name_masked"]
    client.force_login(who["director_b"])
    assert client.get(f"{API}/children").json()["count"] == 0
    assert client.get(f"{API}/children", {"q": "张小明"}).json()["count"] == 0
    client.force_login(who["public"])
    assert client.get(f"{API}/children").status_code == 403
    client.logout()
    assert client.get(f"{API}/children").status_code == 401


def test_detail_by_sections_audited_and_404_elsewhere(client, setup):
    _, who, c = setup
    client.force_login(who["director"])
    body = client.get(f"{API}/children/{c.pk}").json()
    assert body["sections"]["health"]["details"] == {"conditions": "哮喘"}
    assert c.id_number not in json.dumps(body, ensure_ascii=False)
    row = AuditLog.objects.filter(action="read", object_id=str(c.pk)).latest("id")
    assert row.actor == who["director"] and "health" in row.after["sections"]
    client.force_login(who["wcco"])
    body = client.get(f"{API}/children/{c.pk}").json()
    assert body["sections"] == {} and body["child"]["name"] == "张**"
    client.force_login(who["director_b"])
    r = client.get(f"{API}/children/{c.pk}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (
        _post(client, f"{API}/children/{c.pk}", {"risk_level": "high"}, "patch").status_code == 404
    )
    assert (
        _post(
            client,
            f"{API}/children/{c.pk}/consents",
            {"purpose": "volunteer", "given_by": "x", "relation": "mother"},
        ).status_code
        == 404
    )


def test_create_patch_and_errors_name_the_field(client, setup):
    city, who, c = setup
    client.force_login(who["director"])
    r = _post(
        client,
        f"{API}/children",
        {"area": city["CA1"].code, "name": "李四", "categories": ["bad"], "id_number": "123"},
    )
    assert r.status_code == 400
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert fields == {"categories", "id_number"}
    r = _post(
        client,
        f"{API}/children",
        {
            "area": city["CA1"].code,
            "name": "李四",
            "categories": ["orphan"],
            "id_number": id_number(),
        },
    )
    assert r.status_code == 201 and r.json()["name"] == "李四"
    r = _post(
        client,
        f"{API}/children",
        {
            "area": city["CA1"].code,
            "name": "重复",
            "categories": ["orphan"],
            "id_number": c.id_number,
        },
    )
    assert r.status_code == 409 and c.file_no in r.json()["error"]["message"]
    r = _post(client, f"{API}/children/{c.pk}", {"risk_level": "high"}, "patch")
    assert r.status_code == 200 and r.json()["risk_level"] == "high"
    client.force_login(who["wcco"])
    r = _post(client, f"{API}/children/{c.pk}", {"risk_level": "low"}, "patch")
    assert r.status_code == 403


def test_consent_withdrawal_through_the_api_revokes_the_department(client, setup):
    _, who, c = setup
    order_for(c, who["dept"])
    client.force_login(who["director"])
    r = _post(
        client,
        f"{API}/children/{c.pk}/consents",
        {
            "purpose": "referral",
            "department_id": who["dept"].pk,
            "given_by": "张母",
            "relation": "mother",
        },
    )
    assert r.status_code == 201
    consent_id = r.json()["id"]
    client.force_login(who["dept_user"])
    assert client.get(f"{API}/children/{c.pk}").status_code == 200
    client.force_login(who["director"])
    r = _post(client, f"{API}/consents/{consent_id}/withdraw", {})
    assert r.status_code == 200 and r.json()["active"] is False
    client.force_login(who["dept_user"])
    assert client.get(f"{API}/children/{c.pk}").status_code == 404
    assert client.get(f"{API}/children").json()["count"] == 0
