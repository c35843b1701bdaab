"""The deployment's keys: from the environment, or generated once (0600) outside the data dir."""

from __future__ import annotations

import stat

import pytest

from yimi.core import keys
from yimi.core.crypto import Cipher, KeyConfigError, generate_key


@pytest.fixture
def fresh_keys(settings, tmp_path):
    settings.YIMI_FIELD_KEYS = ""
    settings.YIMI_HASH_KEY = ""
    settings.YIMI_KEY_DIR = tmp_path / "keys"
    keys.reset()
    yield settings
    keys.reset()


def test_keys_generated_once_with_owner_only_permissions(fresh_keys):
    first = keys.field_keys()
    hash_key = keys.hash_key()
    for name in (keys.FIELD_KEY_FILE, keys.HASH_KEY_FILE):
        path = fresh_keys.YIMI_KEY_DIR / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Read back, not regenerated: data encrypted yesterday stays readable.
    keys.reset()
    assert keys.field_keys() == first and keys.hash_key() == hash_key
    assert len(hash_key) >= 32


def test_key_dir_inside_the_data_dir_is_refused(fresh_keys):
    fresh_keys.YIMI_KEY_DIR = fresh_keys.DATA_DIR / "keys"
    with pytest.raises(KeyConfigError, match="must not be under"):
        keys.field_keys()
    with pytest.raises(KeyConfigError, match="must not be under"):
        keys.hash_key()


def test_environment_keys_win_and_rotation_order_is_kept(fresh_keys):
    new, old = generate_key(), generate_key()
    token = Cipher([old]).encrypt("x")
    fresh_keys.YIMI_FIELD_KEYS = f"{new.decode()},{old.decode()}"
    keys.reset()
    assert keys.field_keys() == [new, old]
    assert keys.cipher().decrypt(token) == "x"
    assert not (fresh_keys.YIMI_KEY_DIR / keys.FIELD_KEY_FILE).exists()


def test_short_hash_key_refused(fresh_keys):
    fresh_keys.YIMI_HASH_KEY = "short"
    with pytest.raises(KeyConfigError):
        keys.hash_key()


def test_match_hash_depends_on_purpose(fresh_keys):
    fresh_keys.YIMI_HASH_KEY = "a-long-enough-hash-key-for-tests"
    keys.reset()
    a = keys.match_hash("11010820150307991X", purpose="id_number")
    assert a == keys.match_hash("11010820150307991x", purpose="id_number")
    assert a != keys.match_hash("11010820150307991X", purpose="volunteer_id")
