"""The public part of the API: search the cases, one case, the measures with How Yimi helps."""

from __future__ import annotations

import pytest

from yimi.practices.models import Case

pytestmark = pytest.mark.django_db


def test_cases_search_and_filters(client):
    r = client.get("/api/v1/practices/cases")
    assert r.status_code == 200 and len(r.json()) == Case.objects.count()
    r = client.get("/api/v1/practices/cases", {"q": "口袋", "province": "广东省"})
    [hit] = r.json()
    assert hit["id"] == "3-1-3-zhuhai" and hit["source"] == "三(一)3" and hit["area"] == 3
    assert hit["score"] > 0 and hit["lon"] > 113
    r = client.get("/api/v1/practices/cases", {"city": "温州", "tag": "数字化"})
    assert [c["id"] for c in r.json()] == ["4-2-2-wenzhou"]
    assert client.get("/api/v1/practices/cases", {"q": "' OR 1=1 --"}).json() == []
    r = client.get("/api/v1/practices/cases", {"area": 9})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"


def test_case_detail(client):
    r = client.get("/api/v1/practices/cases/4-1-1-beijing")
    body = r.json()
    assert body["district"] == "东城区" and body["measure"] == "四(一)"
    assert {"label": "地图点位", "value": 68.0, "unit": "个"} in body["figures"]
    assert {p["key"] for p in body["yimi_parts"]} == {"map", "access"}
    assert body["supported"] is True
    r = client.get("/api/v1/practices/cases/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_measures(client):
    body = client.get("/api/v1/practices/measures").json()
    assert len(body) == 18 and sum(m["items"] for m in body) == 44
    assert sum(m["cases"] for m in body) == Case.objects.count()
    care = next(m for m in body if m["code"] == "五(一)")
    assert care["supported"] and care["yimi_parts"][0]["url"] == "/care/"
    unsupported = [m for m in body if not m["supported"]]
    assert unsupported and all(m["yimi_parts"] == [] for m in unsupported)
