"""Key rotation for real: values written under key A, keys [B, A], rotate, then B alone reads all."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from yimi.care.models import Child, Document, FamilyMember
from yimi.care.services import records as services
from yimi.core import keys
from yimi.core.crypto import Cipher, generate_key

from .builders_records import child, city_with_b, people


@pytest.fixture
def use_keys(settings):
    def _set(*ks: bytes) -> None:
        settings.YIMI_FIELD_KEYS = ",".join(k.decode() for k in ks)
        keys.reset()

    yield _set
    keys.reset()


def _raw(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_rotate_then_the_new_key_alone_decrypts_everything(db, use_keys):
    key_a, key_b = generate_key(), generate_key()
    use_keys(key_a)
    city = city_with_b()
    who = people(city)
    c = child(who["director"], city["CA1"], name="轮换童", health={"conditions": "测试"})
    services.family_member_add(actor=who["director"], child=c, relation="mother", name="轮换母")
    services.document_upload(
        actor=who["director"], child=c, title="t", filename="f.txt", content=b"secret bytes"
    )
    (token_a,) = _raw("SELECT name FROM care_child WHERE id = %s", [c.pk])[0]
    assert Cipher([key_a]).decrypt(token_a) == "轮换童"

    # New key first, old key after it: --check reports values still under the old key.
    use_keys(key_b, key_a)
    with pytest.raises(CommandError):
        call_command("care_rotate_keys", "--check", "--no-progress", stdout=io.StringIO())
    out = io.StringIO()
    call_command("care_rotate_keys", "--no-progress", stdout=out)
    assert "YIMI_FIELD_KEYS" in out.getvalue()
    (token_b,) = _raw("SELECT name FROM care_child WHERE id = %s", [c.pk])[0]
    assert token_b != token_a and Cipher([key_b]).decrypt(token_b) == "轮换童"
    (doc_token,) = _raw("SELECT content FROM care_document")[0]
    assert Cipher([key_b]).decrypt_bytes(bytes(doc_token)) == b"secret bytes"

    # The old key dropped: everything still reads.
    use_keys(key_b)
    call_command("care_rotate_keys", "--check", "--no-progress", stdout=io.StringIO())
    again = Child.objects.get(pk=c.pk)
    assert again.name == "轮换童" and again.health == {"conditions": "测试"}
    assert again.id_number == c.id_number
    assert FamilyMember.objects.get(child=c).name == "轮换母"
    assert Document.objects.get(child=c).content == b"secret bytes"


def test_rotation_refuses_values_under_an_unknown_key(db, use_keys):
    key_a, key_b = generate_key(), generate_key()
    use_keys(key_a)
    city = city_with_b()
    who = people(city)
    c = child(who["director"], city["CA1"])
    (before,) = _raw("SELECT name FROM care_child WHERE id = %s", [c.pk])[0]
    use_keys(key_b)  # key A forgotten: rotation must fail and change nothing
    with pytest.raises(CommandError):
        call_command("care_rotate_keys", "--no-progress", stdout=io.StringIO())
    assert _raw("SELECT name FROM care_child WHERE id = %s", [c.pk])[0][0] == before
