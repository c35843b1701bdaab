"""Moderation: what the rules find on arrival, publish / edit (the original kept) / hide /
unhide, the confirmation needed when the text to publish still has findings, the queue's pages,
and the rule files a city may replace."""

from __future__ import annotations

import pytest

from yimi.core.models import AuditLog
from yimi.core.services import PermissionDenied, ServiceError
from yimi.voice.models import Disclosure, ModerationEvent, Suggestion
from yimi.voice.services import moderation as mod

from .test_handling_support import letter, login, world

pytestmark = pytest.mark.django_db

# Realistic letters: what must never be published, and what must stay.
REALISTIC = [
    (
        "我叫王小明，在海淀实验小学三年级二班。学校门口的马路车太多了，希望有红绿灯。",
        ["王小明", "海淀实验小学"],
        ["红绿灯", "马路"],
    ),
    (
        "我是李华的妈妈，电话13812345678，孩子说小区的滑梯坏了。",
        ["13812345678"],
        ["滑梯"],
    ),
    (
        "我家住在学院路20号3单元501，楼下的路灯晚上不亮，很黑。",
        ["学院路20号"],
        ["路灯"],
    ),
    (
        "我的身份证号是11010520150307002X，想在图书馆办借书证。",
        ["11010520150307002X"],
        ["图书馆"],
    ),
    ("五道口公园的秋千太少了，大家排队好久。", [], ["五道口公园", "秋千"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), REALISTIC)
def test_personal_data_is_masked_before_anything_is_published(text, gone, kept):
    world()
    s = letter(text)
    assert s.text == text  # the child's words, kept
    for secret in gone:
        assert secret not in s.published_text, s.published_text
    for word in kept:
        assert word in s.published_text
    assert s.visibility == Suggestion.Visibility.PENDING
    if gone:
        assert s.flags["pii"]
        # kinds only: never the matched words
        assert not any(secret in str(s.flags) for secret in gone)


def test_screening_and_routing_on_arrival():
    world()
    s = letter("你们都是傻瓜，加微信领红包。公园的滑梯坏了")
    assert set(s.flags["screening"]) >= {"insult", "advertising"}
    assert s.suggested_topic == "play" and s.suggested_department_kind == "parks"
    s2 = letter("学校门口的斑马线看不清，过马路很危险", topic="other")
    assert s2.suggested_topic == "traffic" and s2.suggested_department_kind == "transport"


def test_publish_edit_keeps_original_hide_unhide():
    w = world()
    s = letter("我叫王小明，公园的滑梯坏了，希望修好。", area=w["CA1"])
    original = s.text
    masked = s.published_text
    assert "王**" in masked
    mod.suggestion_edit(
        actor=w["wcco_a"], suggestion=s, published_text="公园的滑梯坏了，希望修好。"
    )
    s.refresh_from_db()
    assert s.text == original and s.published_text == "公园的滑梯坏了，希望修好。"
    edit = ModerationEvent.objects.get(suggestion=s, kind=ModerationEvent.Kind.EDIT)
    assert edit.text_before == masked and edit.text_after == s.published_text
    assert s.visibility == Suggestion.Visibility.PENDING

    mod.suggestion_publish(
        actor=w["wcco_a"], suggestion=s, published_text=s.published_text, publish_image=True
    )
    s.refresh_from_db()
    assert s.visibility == Suggestion.Visibility.PUBLISHED
    assert s.publish_image is False  # no picture to publish
    assert s.moderated_by == w["wcco_a"]
    assert Suggestion.objects.visible_to(None).filter(pk=s.pk).exists()

    with pytest.raises(ServiceError):
        mod.suggestion_hide(actor=w["wcco_a"], suggestion=s, reason="  ")
    mod.suggestion_hide(actor=w["wcco_a"], suggestion=s, reason="家长要求撤下")
    s.refresh_from_db()
    assert s.visibility == Suggestion.Visibility.HIDDEN
    assert not Suggestion.objects.visible_to(None).filter(pk=s.pk).exists()
    mod.suggestion_unhide(actor=w["wcco_a"], suggestion=s, reason="家长同意")
    s.refresh_from_db()
    assert s.visibility == Suggestion.Visibility.PENDING
    kinds = list(s.moderation_events.values_list("kind", flat=True))
    assert kinds == ["edit", "publish", "hide", "unhide"]
    assert s.text == original
    rows = AuditLog.objects.filter(object_type="voice.suggestion", object_id=str(s.pk))
    assert rows.filter(action="update").count() == 4
    # the log never holds the words
    for row in rows:
        assert "滑梯" not in str(row.before) + str(row.after) + row.note


def test_publishing_a_text_that_still_has_findings_needs_confirmation():
    w = world()
    s = letter("公园的滑梯坏了", area=w["CA1"])
    with pytest.raises(ServiceError) as exc:
        mod.suggestion_publish(
            actor=w["wcco_a"], suggestion=s, published_text="公园滑梯坏了，找我妈妈13812345678"
        )
    assert exc.value.code == "confirm"
    s.refresh_from_db()
    assert s.visibility == Suggestion.Visibility.PENDING
    mod.suggestion_publish(
        actor=w["wcco_a"],
        suggestion=s,
        published_text="公园滑梯坏了，找我妈妈13812345678",
        confirm=True,
    )
    s.refresh_from_db()
    assert s.visibility == Suggestion.Visibility.PUBLISHED
    # the masked text itself publishes without a question
    s2 = letter("我叫王小明，电话13812345678，公园的滑梯坏了", area=w["CA1"])
    assert mod.findings(s2.published_text) == {}
    mod.suggestion_publish(actor=w["wcco_a"], suggestion=s2, published_text=s2.published_text)


def test_only_the_areas_wcco_moderates():
    w = world()
    s = letter(area=w["CA1"])
    for who in ("wcco_b", "director_a1", "dept_parks_a"):
        with pytest.raises(ServiceError):
            mod.suggestion_publish(actor=w[who], suggestion=s, published_text="好")
    with pytest.raises(PermissionDenied):
        mod.suggestion_hide(actor=w["supervisor_a"], suggestion=s, reason="x")
    mod.suggestion_publish(actor=w["wcco_city"], suggestion=s, published_text="公园多一个滑梯")


def test_queue_pages(client):
    w = world()
    s = letter("我叫王小明，公园的滑梯坏了，希望修好。", area=w["CA1"])
    other = letter("乙区的公园太小了。", area=w["SB"])
    login(client, w["wcco_a"])
    r = client.get("/voice/staff/moderation/")
    assert r.status_code == 200
    body = r.content.decode()
    assert f'data-letter="{s.pk}"' in body and f'data-letter="{other.pk}"' not in body
    assert "王小明" not in body  # lists show the masked text only
    before = AuditLog.objects.filter(action="read", object_id=str(s.pk)).count()
    r = client.get(f"/voice/staff/letters/{s.pk}/")
    body = r.content.decode()
    assert r.status_code == 200
    assert '<mark data-kind="name"' in body and "王小明" in body
    assert AuditLog.objects.filter(action="read", object_id=str(s.pk)).count() == before + 1
    assert client.get(f"/voice/staff/letters/{other.pk}/").status_code == 404

    r = client.post(
        f"/voice/staff/letters/{s.pk}/publish",
        {"published_text": "公园的滑梯坏了，请联系13812345678"},
    )
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.visibility == "pending"
    page = client.get(f"/voice/staff/letters/{s.pk}/").content.decode()
    assert 'id="confirm-box"' in page and "13812345678" in page
    client.post(
        f"/voice/staff/letters/{s.pk}/publish",
        {"published_text": "公园的滑梯坏了，希望修好。", "publish_image": "1"},
    )
    s.refresh_from_db()
    assert s.visibility == "published" and s.published_text == "公园的滑梯坏了，希望修好。"
    client.post(f"/voice/staff/letters/{s.pk}/hide", {"reason": "重复来信"})
    s.refresh_from_db()
    assert s.visibility == "hidden"

    login(client, w["director_a1"])
    assert client.get("/voice/staff/moderation/").status_code == 403
    assert client.post(f"/voice/staff/letters/{s.pk}/unhide").status_code == 403


def test_rule_files_can_be_replaced(tmp_path, settings):
    world()
    (tmp_path / "screening.yaml").write_text(
        "categories:\n  local:\n    label: 本地词\n    words: [臭豆腐]\n", encoding="utf-8"
    )
    settings.YIMI_VOICE_RULES_DIR = str(tmp_path)
    assert mod.rules_path("screening") == tmp_path / "screening.yaml"
    assert mod.rules_path("pii").name == "pii.yaml" and mod.rules_path("pii").parent != tmp_path
    s = letter("公园门口卖臭豆腐，味道很大")
    assert s.flags["screening"] == ["local"]
    single = tmp_path / "my-triage.yaml"
    single.write_text(
        "kinds:\n  bullying:\n    label: 霸凌\n    phrases: [抢我零食]\n", encoding="utf-8"
    )
    settings.YIMI_VOICE_TRIAGE_RULES = str(single)
    s = letter("有个大孩子总是抢我零食")
    assert s.visibility == "hidden" and s.flags["disclosure"] == ["bullying"]
    assert Disclosure.objects.filter(suggestion=s).exists()
