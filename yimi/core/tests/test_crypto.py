"""Tests of field encryption, key rotation, keyed hashes and key loading (no database)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from yimi.core.crypto import (
    Cipher,
    DecryptionError,
    KeyConfigError,
    generate_key,
    keyed_hash,
    load_keys_from,
)

HASH_KEY = b"0123456789abcdef0123456789abcdef"


def test_round_trip_unicode() -> None:
    c = Cipher([generate_key()])
    token = c.encrypt("张小明 11010519491231002X")
    assert "张" not in token and "11010519491231002X" not in token
    assert c.decrypt(token) == "张小明 11010519491231002X"
    assert c.encrypt("x") != c.encrypt("x")  # random IV: equal values don't show as equal


def test_rotation_keeps_old_tokens_readable_and_rotate_moves_them() -> None:
    old, new = generate_key(), generate_key()
    token = Cipher([old]).encrypt("secret")
    both = Cipher([new, old])
    assert both.decrypt(token) == "secret"
    rotated = both.rotate(token)
    assert Cipher([new]).decrypt(rotated) == "secret"
    with pytest.raises(DecryptionError):
        Cipher([old]).decrypt(rotated)
    # New encryptions use the first key only.
    assert Cipher([new]).decrypt(both.encrypt("fresh")) == "fresh"


def test_tampered_or_foreign_token_refused() -> None:
    c = Cipher([generate_key()])
    token = c.encrypt("secret")
    i = len(token) // 2
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    with pytest.raises(DecryptionError, match="tampered"):
        c.decrypt(tampered)
    with pytest.raises(DecryptionError):
        Cipher([generate_key()]).decrypt(token)
    with pytest.raises(DecryptionError):
        c.decrypt("not a token é")
    with pytest.raises(DecryptionError):
        c.rotate(tampered)


def test_cipher_needs_valid_keys() -> None:
    with pytest.raises(KeyConfigError):
        Cipher([])
    with pytest.raises(KeyConfigError) as e:
        Cipher([b"short-secret"])
    assert "short-secret" not in str(e.value)


def test_keyed_hash_stable_normalised_and_key_dependent() -> None:
    h = keyed_hash("11010519491231002X", HASH_KEY)
    assert h == keyed_hash("11010519491231002X", HASH_KEY)
    assert len(h) == 64 and int(h, 16) >= 0
    assert keyed_hash(" 11010519491231002x ", HASH_KEY) == h
    assert keyed_hash("１１０１０５１９４９１２３１００２Ｘ", HASH_KEY) == h  # full-width
    assert keyed_hash("11010519491231002X", b"another key, 16+ bytes long") != h
    assert keyed_hash("110105194912310038", HASH_KEY) != h
    assert keyed_hash("11010519491231002X", HASH_KEY, purpose="phone") != h
    with pytest.raises(KeyConfigError):
        keyed_hash("x", b"short")


def test_load_keys_from_env_newest_first() -> None:
    a, b = generate_key(), generate_key()
    assert load_keys_from(f" {a.decode()} , {b.decode()} ", None) == [a, b]


def test_load_keys_errors_do_not_leak_keys(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="no encryption keys"):
        load_keys_from(None, None)
    with pytest.raises(KeyConfigError, match="no encryption keys"):
        load_keys_from("  ", None)
    with pytest.raises(KeyConfigError, match="key #2") as e:
        load_keys_from(f"{generate_key().decode()},almost-a-key", None)
    assert "almost-a-key" not in str(e.value)
    f = tmp_path / "keys"
    f.write_text(generate_key().decode())
    f.chmod(0o600)
    with pytest.raises(KeyConfigError, match="keep only one"):
        load_keys_from(generate_key().decode(), f)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_key_file_permissions_checked(tmp_path: Path) -> None:
    a, b = generate_key(), generate_key()
    f = tmp_path / "yimi.keys"
    f.write_text(f"# newest first\n{a.decode()}\n\n{b.decode()}\n")
    for mode in (0o644, 0o640, 0o604, 0o660):
        f.chmod(mode)
        with pytest.raises(KeyConfigError, match="too open") as e:
            load_keys_from(None, f)
        assert "chmod 600" in str(e.value)
    f.chmod(0o600)
    assert load_keys_from(None, f) == [a, b]
    f.chmod(0o400)
    assert load_keys_from(None, f) == [a, b]
    with pytest.raises(KeyConfigError, match="not found"):
        load_keys_from(None, tmp_path / "missing")


def test_key_file_not_beside_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    f = data / "keys"
    f.write_text(generate_key().decode())
    f.chmod(0o600)
    with pytest.raises(KeyConfigError, match="next to the data"):
        load_keys_from(None, f, not_under=[data])
    assert len(load_keys_from(None, f, not_under=[tmp_path / "elsewhere"])) == 1
