"""Department scoping: department A never sees department B's letters — lists, details, the
picture, the answer POST and the API all answer as if the letter did not exist (404); a
department sees masked text only and never the guardian's contact."""

from __future__ import annotations

import pytest

from yimi.voice.services import handling as svc
from yimi.voice.services import moderation as mod

from .conftest import png_bytes
from .test_handling_support import letter, login, world

pytestmark = pytest.mark.django_db
REPLY = "谢谢你的来信！我们会尽快修好。"


@pytest.fixture
def routed():
    w = world()
    text = "我叫王小明，电话13812345678。公园的滑梯坏了。"
    a = letter(text, area=w["CA1"], image=png_bytes())
    b = letter("公园里没有厕所。", area=w["CA2"])
    other = letter("乙区公园的滑梯坏了。", area=w["SB"])
    svc.suggestion_route(actor=w["wcco_a"], suggestion=a, topic="play", department=w["parks_a"])
    svc.suggestion_route(
        actor=w["wcco_a"], suggestion=b, topic="traffic", department=w["transport_a"]
    )
    svc.suggestion_route(actor=w["wcco_b"], suggestion=other, topic="play", department=w["parks_b"])
    return w, a, b, other


def test_lists_and_details(client, routed):
    w, a, b, other = routed
    login(client, w["dept_parks_a"])
    body = client.get("/voice/dept/").content.decode()
    assert f'data-letter="{a.pk}"' in body
    assert f'data-letter="{b.pk}"' not in body and f'data-letter="{other.pk}"' not in body
    page = client.get(f"/voice/dept/{a.pk}/").content.decode()
    assert "王小明" not in page and "13812345678" not in page and "13600000000" not in page
    assert "王**" in page and "138****5678" in page
    assert client.get(f"/voice/dept/{a.pk}/image").status_code == 404  # not published
    for pk in (b.pk, other.pk):
        assert client.get(f"/voice/dept/{pk}/").status_code == 404
        r = client.post(f"/voice/dept/{pk}/answer", {"adoption": "adopted", "public_reply": REPLY})
        assert r.status_code == 404
    b.refresh_from_db()
    assert b.status == "assigned"
    # staff pages are not for departments
    assert client.get("/voice/staff/moderation/").status_code == 403
    assert client.get(f"/voice/staff/letters/{a.pk}/").status_code == 403


def test_the_picture_once_published(client, routed):
    w, a, _b, _other = routed
    mod.suggestion_publish(
        actor=w["wcco_a"], suggestion=a, published_text="公园的滑梯坏了。", publish_image=True
    )
    login(client, w["dept_parks_a"])
    r = client.get(f"/voice/dept/{a.pk}/image")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    login(client, w["dept_transport_a"])
    assert client.get(f"/voice/dept/{a.pk}/image").status_code == 404


def test_a_published_letter_of_another_department_stays_out_of_the_inbox(client, routed):
    w, a, b, _other = routed
    mod.suggestion_publish(actor=w["wcco_a"], suggestion=b, published_text="公园里没有厕所。")
    login(client, w["dept_parks_a"])
    assert f'data-letter="{b.pk}"' not in client.get("/voice/dept/").content.decode()
    assert client.get(f"/voice/dept/{b.pk}/").status_code == 404


def test_api(client, routed):
    w, a, b, other = routed
    assert client.get("/api/v1/voice/inbox").status_code == 401
    login(client, w["wcco_a"])
    assert client.get("/api/v1/voice/inbox").status_code == 403
    login(client, w["dept_parks_a"])
    r = client.get("/api/v1/voice/inbox")
    assert r.status_code == 200
    data = r.json()
    assert [x["id"] for x in data] == [a.pk]
    assert "王小明" not in r.content.decode() and "13600000000" not in r.content.decode()
    assert "guardian_contact" not in data[0] and data[0]["has_picture"] is False
    for pk in (b.pk, other.pk, 999999):
        r = client.post(
            f"/api/v1/voice/suggestions/{pk}/answer",
            {"adoption": "adopted", "public_reply": REPLY},
            content_type="application/json",
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.post(
        f"/api/v1/voice/suggestions/{a.pk}/answer",
        {"adoption": "not_now", "public_reply": REPLY},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "adoption_reason"
    r = client.post(
        f"/api/v1/voice/suggestions/{a.pk}/answer",
        {"adoption": "adopted", "public_reply": REPLY},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "answered"
    r = client.post(
        f"/api/v1/voice/suggestions/{a.pk}/answer",
        {"adoption": "adopted", "public_reply": REPLY},
        content_type="application/json",
    )
    assert r.status_code == 409
    answered = client.get("/api/v1/voice/inbox?status=answered").json()
    assert [x["id"] for x in answered] == [a.pk] and answered[0]["public_reply"] == REPLY
    login(client, w["dept_parks_b"])
    assert [x["id"] for x in client.get("/api/v1/voice/inbox").json()] == [other.pk]


def test_a_letter_without_area_routed_by_the_city_reaches_the_district_department(client):
    """A letter about no particular place goes to whichever department the city chooses; that
    department sees it in its inbox and may answer it, although the letter has no area."""
    w = world()
    s = letter("希望全市的公园都有儿童厕所。")
    assert s.area_id is None
    svc.suggestion_route(actor=w["wcco_city"], suggestion=s, topic="play", department=w["parks_a"])
    login(client, w["dept_parks_a"])
    assert client.get(f"/voice/dept/{s.pk}/").status_code == 200
    assert s.pk in [x.pk for x in svc.inbox_queryset(w["dept_parks_a"])]
    # The other departments still do not see it.
    assert s.pk not in [x.pk for x in svc.inbox_queryset(w["dept_transport_a"])]
    login(client, w["dept_parks_b"])
    assert client.get(f"/voice/dept/{s.pk}/").status_code == 404
