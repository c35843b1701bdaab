"""The mailbox: receipt codes, guardian consent, encryption at rest, pages, rate limit, honeypot."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from PIL import Image

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_user
from yimi.voice.models import Suggestion
from yimi.voice.services import mailbox as services

from .conftest import jpeg_with_gps, png_bytes

TEXT = "希望小区里有一个能荡秋千的地方。我叫王小明，电话13912345678。"


def _submit(**kw):
    fields = {"text": TEXT, "age_group": "15-18", "topic": "play"}
    fields.update(kw)
    return services.suggestion_submit(**fields)


# ---------------------------------------------------------------------- receipt codes


def test_receipt_codes_are_long_random_and_unambiguous():
    codes = {services.receipt_code_new() for _ in range(5000)}
    assert len(codes) == 5000
    for code in list(codes)[:200]:
        assert len(code) >= 10
        assert set(code) <= set(services.RECEIPT_ALPHABET)
    assert not set("01OIL5S8B") & set(services.RECEIPT_ALPHABET)
    # ≥ 50 bits: guessing one live code among a million letters takes ~2**30 tries.
    import math

    assert services.RECEIPT_LENGTH * math.log2(len(services.RECEIPT_ALPHABET)) >= 50
    # Every character is used: nothing is sequential or fixed.
    assert set("".join(codes)) == set(services.RECEIPT_ALPHABET)


def test_receipt_codes_are_unique_and_a_collision_draws_again(db, monkeypatch):
    first = _submit()
    draws = iter([first.receipt_code, "ACDEFGHJKMNP"])
    monkeypatch.setattr(services, "receipt_code_new", lambda: next(draws))
    second = _submit()
    assert second.receipt_code == "ACDEFGHJKMNP"
    assert Suggestion.objects.count() == 2


def test_receipt_code_lookup_forgives_case_and_dashes(db):
    from yimi.voice.selectors.mailbox import receipt_lookup

    s = _submit()
    shown = services.receipt_code_display(s.receipt_code)
    assert "-" in shown
    assert receipt_lookup(shown.lower())["status"] == "received"
    assert receipt_lookup(s.receipt_code[:-1]) is None


# ---------------------------------------------------------------------- consent and storage


@pytest.mark.parametrize("age", ["u6", "6-9", "9-12", "12-15"])
def test_under_14_needs_guardian_consent_and_contact(db, age):
    with pytest.raises(ServiceError) as exc:
        _submit(age_group=age)
    fields = {d["field"] for d in exc.value.details}
    assert fields == {"guardian_consent", "guardian_contact"}
    with pytest.raises(ServiceError):
        _submit(age_group=age, guardian_consent=True)
    with pytest.raises(ServiceError):
        _submit(age_group=age, guardian_contact="13800000000")
    s = _submit(age_group=age, guardian_consent=True, guardian_contact="13800000000")
    assert s.guardian_consent and s.guardian_contact == "13800000000"


def test_15_to_18_need_no_guardian(db):
    assert _submit(age_group="15-18").pk


def test_text_contact_and_picture_are_encrypted_at_rest(db):
    s = _submit(
        age_group="9-12",
        guardian_consent=True,
        guardian_contact="13800000000",
        image=png_bytes(),
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT text, guardian_contact, image FROM voice_suggestion WHERE id = %s", [s.pk]
        )
        text, contact, image = cur.fetchone()
    assert "秋千" not in text and "13800000000" not in contact
    assert b"PNG" not in bytes(image)
    s.refresh_from_db()
    assert s.text == TEXT and s.image.startswith(b"\x89PNG") and s.image_type == "image/png"


def test_the_stored_picture_has_no_gps(db):
    s = _submit(image=jpeg_with_gps())
    s.refresh_from_db()
    stored = Image.open(io.BytesIO(s.image))
    assert stored.format == "JPEG" and not stored.getexif()
    assert b"KidPhone" not in s.image


def test_a_fake_picture_is_refused_and_nothing_stored(db):
    with pytest.raises(ServiceError) as exc:
        _submit(image=b"MZ\x90\x00 not a picture at all")
    assert exc.value.details[0]["field"] == "image"
    assert not Suggestion.objects.exists()


def test_online_submission_is_audited_without_the_text_or_the_code(db):
    s = _submit(age_group="9-12", guardian_consent=True, guardian_contact="13800000000")
    row = AuditLog.objects.get(object_type="voice.suggestion", object_id=str(s.pk))
    assert row.actor is None and row.ip_address is None
    dumped = str(row.after) + row.object_repr
    assert "秋千" not in dumped and "13800000000" not in dumped and s.receipt_code not in dumped
    assert row.after["text"] == "[encrypted]"


def test_honeypot_refuses_bots(db):
    with pytest.raises(ServiceError) as exc:
        _submit(honeypot="http://spam.example")
    assert exc.value.code == "spam"
    assert not Suggestion.objects.exists()


# ---------------------------------------------------------------------- staff entry


def test_staff_enter_a_paper_letter_and_it_is_audited(db, client):
    city = make_city()
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    page = client.get(reverse("voice:staff-new"))
    assert page.status_code == 200
    r = client.post(
        reverse("voice:staff-new"),
        {
            "text": "纸质来信：学校门口需要红绿灯",
            "age_group": "9-12",
            "topic": "traffic",
            "area": str(city["CA1"].pk),
            "guardian_consent": "1",
            "guardian_contact": "13700000000",
        },
        REMOTE_ADDR="10.1.2.3",
    )
    assert r.status_code == 200
    s = Suggestion.objects.get()
    assert s.source == Suggestion.Source.PAPER and s.entered_by == director
    assert s.area == city["CA1"]
    assert services.receipt_code_display(s.receipt_code) in r.content.decode()
    row = AuditLog.objects.get(object_type="voice.suggestion", object_id=str(s.pk))
    assert row.actor == director and row.ip_address == "10.1.2.3"
    assert row.area_path == city["CA1"].path
    assert "红绿灯" not in str(row.after)


def test_public_users_may_not_enter_paper_letters(db, client):
    public = make_user(Role.PUBLIC)
    client.force_login(public)
    assert client.get(reverse("voice:staff-new")).status_code == 403
    with pytest.raises(PermissionDenied):
        _submit(source=Suggestion.Source.PAPER, actor=public)
    with pytest.raises(PermissionDenied):
        _submit(source=Suggestion.Source.PAPER, actor=None)


def test_anonymous_staff_page_asks_to_log_in(db, client):
    r = client.get(reverse("voice:staff-new"))
    assert r.status_code == 302 and "login" in r["Location"]


# ---------------------------------------------------------------------- public pages


def _form(**kw):
    data = {"text": TEXT, "age_group": "15-18", "topic": "play"}
    data.update(kw)
    return data


def test_a_child_sends_a_letter_with_a_drawing_and_gets_a_receipt(db, client):
    page = client.get(reverse("voice:mailbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="website"' in html and 'enctype="multipart/form-data"' in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
    drawing = SimpleUploadedFile("画.png", png_bytes(), content_type="image/png")
    r = client.post(reverse("voice:mailbox"), _form(image=drawing), follow=True)
    assert r.status_code == 200
    s = Suggestion.objects.get()
    shown = services.receipt_code_display(s.receipt_code)
    assert shown in r.content.decode()
    assert s.image and s.source == Suggestion.Source.ONLINE and s.entered_by is None
    # The receipt is shown once; reloading the thanks page goes back to the form.
    assert client.get(reverse("voice:thanks")).status_code == 302
    look = client.get(reverse("voice:receipt"), {"code": shown})
    assert look.status_code == 200 and "秋千" not in look.content.decode()


def test_the_form_refuses_under_14_without_consent(db, client):
    r = client.post(reverse("voice:mailbox"), _form(age_group="6-9"))
    assert r.status_code == 400
    assert not Suggestion.objects.exists()
    # What the child wrote is kept in the form.
    assert "秋千" in r.content.decode()


def test_the_form_refuses_a_renamed_file(db, client):
    fake = SimpleUploadedFile("cat.jpg", b"<html><script>x</script></html>", "image/jpeg")
    r = client.post(reverse("voice:mailbox"), _form(image=fake))
    assert r.status_code == 400 and not Suggestion.objects.exists()


def test_the_form_is_rate_limited_per_ip(db, client):
    for _ in range(5):
        r = client.post(reverse("voice:mailbox"), _form(), REMOTE_ADDR="10.0.0.7")
        assert r.status_code == 302
    r = client.post(reverse("voice:mailbox"), _form(), REMOTE_ADDR="10.0.0.7")
    assert r.status_code == 429
    assert Suggestion.objects.count() == 5
    # Another client is not affected.
    assert client.post(reverse("voice:mailbox"), _form(), REMOTE_ADDR="10.0.0.8").status_code == 302


def test_the_form_with_the_honeypot_filled_stores_nothing(db, client):
    r = client.post(reverse("voice:mailbox"), _form(website="buy now"))
    assert r.status_code == 400 and not Suggestion.objects.exists()


def test_receipt_page_for_an_unknown_code(db, client):
    r = client.get(reverse("voice:receipt"), {"code": "AAAA-AAAA-AAAA"})
    assert r.status_code == 404


def test_receipt_lookups_are_rate_limited(db, client, settings):
    settings.YIMI_VOICE_RATE_LIMITS = {"lookup": (3, 600)}
    for _ in range(3):
        assert client.get(reverse("voice:receipt"), {"code": "X" * 12}).status_code == 404
    assert client.get(reverse("voice:receipt"), {"code": "X" * 12}).status_code == 429


def test_pages_escape_what_was_typed(db, client):
    r = client.post(
        reverse("voice:mailbox"), _form(text="<script>alert(1)</script>", age_group="6-9")
    )
    html = r.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert re.search(r"receipt", html)


def test_an_oversized_upload_is_refused_before_it_is_read(db, client):
    from yimi.voice.images import MAX_BYTES

    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\0" * (MAX_BYTES + 300 * 1024))
    r = client.post(reverse("voice:mailbox"), _form(image=big))
    assert r.status_code == 413 and not Suggestion.objects.exists()
    assert "8 MB" in r.content.decode()


def test_an_oversized_upload_is_refused_by_the_api(db, client):
    from yimi.voice.images import MAX_BYTES

    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\0" * (MAX_BYTES + 1))
    r = client.post("/api/v1/voice/suggestions", {**_form(), "image": big})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert not Suggestion.objects.exists()


def test_the_api_needs_no_csrf_token_but_the_form_does(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/api/v1/voice/suggestions", _form()).status_code == 201
    assert strict.post(reverse("voice:mailbox"), _form()).status_code == 403


def test_every_field_is_escaped_when_shown_again(db, client):
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    r = client.post(
        reverse("voice:mailbox"),
        _form(text=evil, age_group="6-9", guardian_contact=evil, area=evil, topic=evil),
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    look = client.get(reverse("voice:receipt"), {"code": evil})
    assert "<script>alert(1)" not in look.content.decode()


def test_the_public_reply_is_escaped_on_the_receipt_page(db, client):
    s = _submit()
    Suggestion.objects.filter(pk=s.pk).update(
        status=Suggestion.Status.ANSWERED, public_reply="<b>好的</b><script>alert(1)</script>"
    )
    r = client.get(reverse("voice:receipt"), {"code": s.receipt_code})
    html = r.content.decode()
    assert "&lt;script&gt;" in html and "<script>alert(1)" not in html
    assert "已答复" in html


def test_receipt_date_is_the_local_day(db, settings):
    """A letter sent at 00:30 in Shanghai (16:30 UTC the day before) was sent on the local day."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from yimi.voice.selectors.mailbox import receipt_lookup

    settings.TIME_ZONE = "Asia/Shanghai"
    s = _submit()
    local = dt.datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    Suggestion.objects.filter(pk=s.pk).update(created_at=local)
    assert receipt_lookup(s.receipt_code)["submitted_on"] == dt.date(2026, 12, 1)
