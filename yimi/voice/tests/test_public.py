"""Public pages and API: only published suggestions (the moderated text, never the child's own
words or age), hidden ones never shown, pictures only when published, public actions only,
nothing personal in the API (exact keys), photos served with type and cache headers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimi.voice.models import Suggestion
from yimi.voice.services import actions as svc

from .conftest import png_bytes
from .test_public_support import letter, world

pytestmark = pytest.mark.django_db

SUGGESTION_KEYS = {
    "id",
    "text",
    "topic",
    "topic_label",
    "area",
    "month",
    "status",
    "status_label",
    "adoption",
    "adoption_label",
    "public_reply",
    "picture_url",
}
ACTION_KEYS = {
    "id",
    "title",
    "description",
    "department",
    "area",
    "status",
    "status_label",
    "progress",
    "due_on",
    "project_ref",
    "updated_on",
    "milestones",
    "photos",
    "suggestion_count",
}


@pytest.fixture
def w():
    return world()


@pytest.fixture
def data(w):
    """Published, hidden and pending letters; one public and one non-public action."""
    pub = letter(
        w["CA1"],
        text="我叫王小明，12岁，电话13912345678，希望公园有饮水机",
        published="我叫王**，希望公园有饮水机",
        department=w["edu"],
        adoption="adopted",
        reply="我们明年夏天前装好饮水机。",
        image=png_bytes(),
        publish_image=True,
    )
    pub_nopic = letter(
        w["B"],
        text="原文：学校门口车太多",
        published="学校门口车太多",
        topic="traffic",
        image=png_bytes(color=(1, 2, 3)),
        publish_image=False,
    )
    hidden = letter(w["CA1"], text="隐藏的信", visibility=Suggestion.Visibility.HIDDEN)
    hidden_after_pub = letter(w["CA1"], text="原文X", published="公开后又隐藏了")
    Suggestion.objects.filter(pk=hidden_after_pub.pk).update(
        visibility=Suggestion.Visibility.HIDDEN
    )
    pending = letter(w["CA1"], text="等待审核的信")
    action = svc.action_create(
        actor=w["u_edu"], suggestion=pub, title="公园饮水机", description="夏天有水喝"
    )
    svc.milestone_add(actor=w["u_edu"], action=action, title="选址")
    svc.action_photo_add(actor=w["u_edu"], action=action, image=png_bytes(), caption="新饮水机")
    # A second adopted letter behind the same action, never published: counted nowhere public.
    secret = letter(w["CA1"], text="没公开的建议", department=w["edu"], adoption="adopted")
    svc.action_link_suggestion(actor=w["u_edu"], action=action, suggestion=secret)
    private = svc.action_create(
        actor=w["u_edu"],
        suggestion=letter(w["CA1"], department=w["edu"], adoption="planned"),
        title="内部行动",
        is_public=False,
    )
    return {
        "pub": pub,
        "pub_nopic": pub_nopic,
        "hidden": hidden,
        "hidden_after_pub": hidden_after_pub,
        "pending": pending,
        "secret": secret,
        "action": action,
        "private": private,
    }


def test_suggestion_list_shows_only_published_text(client, data):
    r = client.get(reverse("voice:public-suggestions"))
    assert r.status_code == 200
    page = r.content.decode()
    assert "我叫王**，希望公园有饮水机" in page and "学校门口车太多" in page
    for never in (
        "王小明",
        "13912345678",
        "12岁",
        "隐藏的信",
        "公开后又隐藏了",
        "等待审核的信",
        "原文",
        "没公开的建议",
        data["pub"].receipt_code,
    ):
        assert never not in page, never
    assert "我们明年夏天前装好饮水机。" in page  # the public reply
    # The age group is never shown ("12–15" is the one the letters were sent with).
    assert "12–15" not in page
    # Picture only for the letter whose picture moderation published.
    assert reverse("voice:suggestion-picture", args=[data["pub"].pk]) in page
    assert reverse("voice:suggestion-picture", args=[data["pub_nopic"].pk]) not in page
    # The receipt look-up box posts to the receipt page.
    assert f'action="{reverse("voice:receipt")}"' in page


def test_filters_and_pagination(client, w, data):
    url = reverse("voice:public-suggestions")
    page = client.get(url, {"topic": "traffic"}).content.decode()
    assert "学校门口车太多" in page and "希望公园有饮水机" not in page
    page = client.get(url, {"area": w["A"].pk}).content.decode()  # A and below
    assert "希望公园有饮水机" in page and "学校门口车太多" not in page
    for i in range(25):
        letter(w["CA2"], published=f"第{i}封公开的信")
    first = client.get(url, {"area": w["CA2"].pk}).content.decode()
    second = client.get(url, {"area": w["CA2"].pk, "page": 2}).content.decode()
    assert "第24封公开的信" in first and "第24封公开的信" not in second
    assert "第0封公开的信" in second and "1 / 2" in first and "2 / 2" in second
    assert client.get(url, {"page": "abc", "area": "x", "topic": "<b>"}).status_code == 200


def test_pictures_only_when_published(client, data):
    r = client.get(reverse("voice:suggestion-picture", args=[data["pub"].pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert "max-age" in r["Cache-Control"] and r["X-Content-Type-Options"] == "nosniff"
    assert r.content.startswith(b"\x89PNG")
    for s in ("pub_nopic", "hidden", "pending"):
        assert client.get(reverse("voice:suggestion-picture", args=[data[s].pk])).status_code == 404


def test_changes_pages(client, data):
    page = client.get(reverse("voice:changes")).content.decode()
    assert "公园饮水机" in page and "内部行动" not in page
    assert "选址" in page and "新饮水机" in page and 'aria-valuenow="0"' in page
    detail = client.get(reverse("voice:change-detail", args=[data["action"].pk])).content.decode()
    assert "我叫王**，希望公园有饮水机" in detail and "没公开的建议" not in detail
    assert "王小明" not in detail
    assert client.get(reverse("voice:change-detail", args=[data["private"].pk])).status_code == 404


def test_action_photo_headers_and_privacy(client, w, data):
    photo = data["action"].photos.get()
    r = client.get(reverse("voice:action-photo", args=[photo.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["Cache-Control"] == "public, max-age=3600" and "Last-Modified" in r
    p2 = svc.action_photo_add(actor=w["u_edu"], action=data["private"], image=png_bytes())
    url = reverse("voice:action-photo", args=[p2.pk])
    assert client.get(url).status_code == 404
    client.force_login(w["u_edu"])
    r = client.get(url)
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    client.force_login(w["u_parks"])
    assert client.get(url).status_code == 404


def test_api_suggestions_exact_keys(client, w, data):
    r = client.get("/api/v1/voice/suggestions")
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"count", "page", "pages", "items"} and body["count"] == 2
    for item in body["items"]:
        assert set(item) == SUGGESTION_KEYS
    texts = {i["text"] for i in body["items"]}
    assert texts == {"我叫王**，希望公园有饮水机", "学校门口车太多"}
    raw = r.content.decode()
    for never in ("王小明", "13912345678", "13800000000", data["pub"].receipt_code, "12-15"):
        assert never not in raw
    by_id = {i["id"]: i for i in body["items"]}
    assert by_id[data["pub"].pk]["picture_url"].endswith("/picture/")
    assert by_id[data["pub_nopic"].pk]["picture_url"] is None
    r = client.get("/api/v1/voice/suggestions", {"topic": "traffic", "area_id": w["B"].pk})
    assert [i["text"] for i in r.json()["items"]] == ["学校门口车太多"]
    assert client.get("/api/v1/voice/suggestions", {"page": 9}).status_code == 404


def test_api_post_suggestions_still_works(client):
    """GET and POST share the path /api/v1/voice/suggestions (different modules)."""
    r = client.post(
        "/api/v1/voice/suggestions",
        {"text": "多种树", "age_group": "15-18", "topic": "nature"},
    )
    assert r.status_code == 201, r.content


def test_api_actions_exact_keys(client, data):
    body = client.get("/api/v1/voice/actions").json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert set(item) == ACTION_KEYS
    assert item["title"] == "公园饮水机" and item["suggestion_count"] == 1
    assert set(item["milestones"][0]) == {"title", "due_on", "done_on"}
    assert set(item["photos"][0]) == {"url", "caption", "taken_on"}
    detail = client.get(f"/api/v1/voice/actions/{data['action'].pk}").json()
    assert set(detail) == ACTION_KEYS | {"suggestions"}
    assert [set(s) for s in detail["suggestions"]] == [SUGGESTION_KEYS]
    assert [s["text"] for s in detail["suggestions"]] == ["我叫王**，希望公园有饮水机"]
    assert client.get(f"/api/v1/voice/actions/{data['private'].pk}").status_code == 404


def test_public_pages_need_no_account_and_few_queries(client, w, data):
    for i in range(5):
        a = svc.action_create(
            actor=w["u_edu"],
            suggestion=letter(
                w["CA1"], published=f"信{i}", department=w["edu"], adoption="adopted"
            ),
            title=f"行动{i}",
        )
        svc.milestone_add(actor=w["u_edu"], action=a, title="m")
        svc.action_photo_add(actor=w["u_edu"], action=a, image=png_bytes())
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("voice:changes")).status_code == 200
    assert len(ctx.captured_queries) <= 10, [q["sql"] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("voice:public-suggestions")).status_code == 200
    assert len(ctx.captured_queries) <= 6
