"""Disclosure triage: a letter that may tell of harm is hidden at once and flagged to the care
staff of its area only; opening it is an audited read; acknowledging and closing it."""

from __future__ import annotations

import pytest

from yimi.core.models import AuditLog
from yimi.core.services import ServiceError
from yimi.voice.models import Disclosure, ModerationEvent, Suggestion
from yimi.voice.services import moderation as mod

from .test_handling_support import letter, login, world

pytestmark = pytest.mark.django_db

DISCLOSURES = [
    ("爸爸喝醉了就打我，我不想回家。", "abuse"),
    ("班上有几个同学天天欺负我，还抢我的钱。", "bullying"),
    ("爸爸妈妈好几天都不回家，没人给我做饭，我饿肚子。", "neglect"),
    ("我不想活了，活着没意思。", "self_harm"),
]


@pytest.mark.parametrize(("text", "kind"), DISCLOSURES)
def test_a_possible_disclosure_is_hidden_at_once_and_flagged(text, kind):
    w = world()
    s = letter(text, area=w["CA1"])
    assert s.visibility == Suggestion.Visibility.HIDDEN
    assert kind in s.flags["disclosure"]
    ev = ModerationEvent.objects.get(suggestion=s)
    assert ev.kind == ModerationEvent.Kind.AUTO_HIDE and ev.actor is None
    d = Disclosure.objects.get(suggestion=s)
    assert d.area == w["CA1"] and kind in d.kinds and d.status == "open"
    assert not Suggestion.objects.visible_to(None).filter(pk=s.pk).exists()
    assert AuditLog.objects.filter(object_type="voice.disclosure", object_id=str(d.pk)).exists()


def test_a_negated_phrase_is_not_a_disclosure():
    world()
    s = letter("爸爸从来不打我，我们周末去公园玩。")
    assert s.visibility == Suggestion.Visibility.PENDING
    assert "disclosure" not in s.flags and s.flags.get("disclosure_negated") == ["abuse"]
    assert not Disclosure.objects.exists()


def test_only_the_care_staff_of_the_area_see_it(client):
    w = world()
    s = letter("爸爸经常打我，身上有伤。", area=w["CA1"])
    d = Disclosure.objects.get(suggestion=s)
    can = ("director_a1", "supervisor_a", "wcco_a", "wcco_city", "admin")
    cannot = ("director_a2", "supervisor_b", "wcco_b")
    for who in can:
        login(client, w[who])
        body = client.get("/voice/staff/disclosures/").content.decode()
        assert f'data-disclosure="{d.pk}"' in body, who
        before = AuditLog.objects.filter(
            action="read", object_type="voice.disclosure", actor=w[who]
        ).count()
        r = client.get(f"/voice/staff/disclosures/{d.pk}/")
        assert r.status_code == 200 and "爸爸经常打我" in r.content.decode()
        assert (
            AuditLog.objects.filter(
                action="read", object_type="voice.disclosure", actor=w[who]
            ).count()
            == before + 1
        )
    for who in cannot:
        login(client, w[who])
        body = client.get("/voice/staff/disclosures/").content.decode()
        assert f'data-disclosure="{d.pk}"' not in body, who
        assert client.get(f"/voice/staff/disclosures/{d.pk}/").status_code == 404
        assert (
            client.post(f"/voice/staff/disclosures/{d.pk}/close", {"note": "x"}).status_code == 404
        )
    for who in ("dept_parks_a",):
        login(client, w[who])
        assert client.get("/voice/staff/disclosures/").status_code == 403
        assert client.get(f"/voice/staff/disclosures/{d.pk}/").status_code == 403
    client.logout()
    assert client.get("/voice/staff/disclosures/").status_code == 302


def test_a_letter_without_area_goes_to_city_level():
    w = world()
    s = letter("有人欺负我，我很害怕。")
    d = Disclosure.objects.get(suggestion=s)
    assert d.area is None
    assert mod.is_care_staff(w["wcco_city"])
    from yimi.voice.selectors.handling import disclosures

    assert disclosures(w["wcco_city"]).filter(pk=d.pk).exists()
    assert not disclosures(w["wcco_a"]).filter(pk=d.pk).exists()
    assert not disclosures(w["director_a1"]).filter(pk=d.pk).exists()


def test_acknowledge_and_close_with_an_encrypted_note(client):
    w = world()
    s = letter("我不想活了。", area=w["CA1"])
    d = Disclosure.objects.get(suggestion=s)
    with pytest.raises(ServiceError):
        mod.disclosure_close(actor=w["director_a2"], disclosure=d, note="x")
    mod.disclosure_acknowledge(actor=w["director_a1"], disclosure=d)
    d.refresh_from_db()
    assert d.status == "acknowledged" and d.handled_by == w["director_a1"]
    with pytest.raises(ServiceError):
        mod.disclosure_close(actor=w["director_a1"], disclosure=d, note="  ")
    login(client, w["supervisor_a"])
    r = client.post(f"/voice/staff/disclosures/{d.pk}/close", {"note": "已家访，转介心理老师跟进"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "closed" and d.note == "已家访，转介心理老师跟进"
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT note FROM voice_disclosure WHERE id = %s", [d.pk])
        raw = cur.fetchone()[0]
    assert "家访" not in str(raw)
    rows = AuditLog.objects.filter(object_type="voice.disclosure", object_id=str(d.pk))
    assert rows.filter(action="update").count() == 2
    assert not any("家访" in str(r.after) for r in rows)
