"""The mailbox API: send with multipart, follow by receipt code, nothing personal comes back."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from yimi.voice.models import Suggestion

from .conftest import jpeg_with_gps

URL = "/api/v1/voice/suggestions"


def _data(**kw):
    data = {
        "text": "我叫李小红，在实验小学四年级。希望公园有饮水机。",
        "age_group": "9-12",
        "topic": "play",
        "guardian_consent": "true",
        "guardian_contact": "13600000000",
    }
    data.update(kw)
    return data


def test_post_returns_a_receipt_code(db, client):
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    r = client.post(URL, _data(image=photo))
    assert r.status_code == 201, r.content
    code = r.json()["receipt_code"]
    assert len(code.replace("-", "")) == 12
    s = Suggestion.objects.get()
    assert s.image and b"KidPhone" not in s.image


def test_post_without_consent_under_14_is_refused(db, client):
    r = client.post(URL, _data(guardian_consent="false", guardian_contact=""))
    assert r.status_code == 400
    body = r.json()["error"]
    assert {d["field"] for d in body["details"]} == {"guardian_consent", "guardian_contact"}
    assert not Suggestion.objects.exists()


def test_post_a_fake_image_is_refused(db, client):
    fake = SimpleUploadedFile("x.png", b"GIF89a not really", content_type="image/png")
    r = client.post(URL, _data(image=fake))
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "image"


def test_post_is_rate_limited_with_429_in_chinese(db, client):
    for _ in range(5):
        assert client.post(URL, _data(), REMOTE_ADDR="10.9.9.9").status_code == 201
    r = client.post(URL, _data(), REMOTE_ADDR="10.9.9.9")
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["code"] == "rate_limited"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err["message"]


def test_the_form_and_the_api_share_one_limit(db, client):
    for _ in range(5):
        client.post("/voice/", {"text": "x", "age_group": "15-18", "topic": "play"})
    assert client.post(URL, _data()).status_code == 429


def test_receipt_returns_status_and_nothing_personal(db, client):
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    code = client.post(URL, _data(image=photo)).json()["receipt_code"]
    r = client.get(f"/api/v1/voice/receipts/{code}")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "receipt_code",
        "status",
        "status_label",
        "topic",
        "topic_label",
        "submitted_on",
        "public_reply",
        "adoption",
    }
    assert body["status"] == "received" and body["public_reply"] == "" and body["adoption"] == ""
    raw = json.dumps(body, ensure_ascii=False)
    for personal in ("李小红", "实验小学", "13600000000", "9-12", "饮水机", "image", "guardian"):
        assert personal not in raw
    # Lower case and without dashes works too.
    assert client.get(f"/api/v1/voice/receipts/{code.replace('-', '').lower()}").status_code == 200


def test_unknown_receipt_is_404(db, client):
    r = client.get("/api/v1/voice/receipts/ACDE-FGHJ-KMNP")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_place_on_the_map_sets_the_area_and_is_never_returned(db, client):
    from yimi.core.tests.factories import make_city
    from yimi.places.services import place_create

    city = make_city()
    place = place_create(actor=None, name="甲一游乐场", category="playground", lon=116.1, lat=40.0)
    r = client.post(URL, _data(place_id=str(place.pk)))
    assert r.status_code == 201
    s = Suggestion.objects.get()
    assert s.place == place and s.area == place.area and place.area is not None
    body = client.get(f"/api/v1/voice/receipts/{r.json()['receipt_code']}").json()
    assert "甲一游乐场" not in json.dumps(body, ensure_ascii=False)
    both = client.post(URL, _data(place_id=str(place.pk), area_id=str(city["CA2"].pk)))
    assert both.status_code == 400
    assert both.json()["error"]["details"][0]["field"] == "area"


def test_the_form_keeps_a_place_chosen_on_the_map(db, client):
    from yimi.places.services import place_create

    place = place_create(actor=None, name="乙区图书馆", category="library", lon=116.7, lat=40.0)
    page = client.get("/voice/", {"place": place.pk})
    assert "乙区图书馆" in page.content.decode()
    r = client.post(
        "/voice/",
        {"text": "多一些绘本", "age_group": "15-18", "topic": "culture", "place": str(place.pk)},
    )
    assert r.status_code == 302 and Suggestion.objects.get().place == place
