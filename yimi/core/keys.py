"""The deployment's field-encryption keys and matching key, read from settings once per process.

Keys come from the environment (``YIMI_FIELD_KEYS``, ``YIMI_HASH_KEY``) or from key files
outside the data directory (``YIMI_KEY_DIR``, default ``$XDG_CONFIG_HOME/yimi``). When neither
is configured, keys are generated once into the key directory with 0600 permissions, so a demo
works out of the box; a production deployment sets them explicitly and backs them up apart from
the database (without the keys the encrypted data cannot be read).
"""

from __future__ import annotations

import base64
import os
from functools import cache
from pathlib import Path

from django.conf import settings

from yimi.core.crypto import Cipher, KeyConfigError, generate_key, keyed_hash, load_keys_from

FIELD_KEY_FILE = "field-keys"
HASH_KEY_FILE = "hash-key"


def key_dir() -> Path:
    return Path(settings.YIMI_KEY_DIR)


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)


def _not_under() -> list[Path]:
    return [Path(settings.DATA_DIR)]


def field_keys() -> list[bytes]:
    """The Fernet keys, newest first (the first encrypts; all decrypt)."""
    env_value = settings.YIMI_FIELD_KEYS
    if env_value:
        return load_keys_from(env_value, None)
    path = key_dir() / FIELD_KEY_FILE
    if not path.exists():
        _check_dir(path.parent)
        _write_new(
            path,
            "# Yimi field-encryption keys, newest first. Back this file up apart from the "
            "database.\n" + generate_key().decode("ascii") + "\n",
        )
    return load_keys_from(None, path, not_under=_not_under())


def hash_key() -> bytes:
    """The secret key of the keyed hashes used to match ID numbers without decrypting them."""
    env_value = settings.YIMI_HASH_KEY
    if env_value:
        raw = env_value.strip().encode("ascii")
    else:
        path = key_dir() / HASH_KEY_FILE
        if not path.exists():
            _check_dir(path.parent)
            _write_new(path, base64.urlsafe_b64encode(os.urandom(32)).decode("ascii") + "\n")
        # Reuse the key-file checks (permissions, not beside the data).
        raw = load_keys_from(None, path, not_under=_not_under(), validate=False)[0]
    if len(raw) < 16:
        raise KeyConfigError("散列密钥至少 16 字节 / the hash key must be at least 16 bytes")
    return raw


def _check_dir(directory: Path) -> None:
    data = Path(settings.DATA_DIR).resolve()
    if directory.resolve().is_relative_to(data):
        raise KeyConfigError(
            f"密钥目录 {directory} 不能放在数据目录 {data} 之下 / "
            f"key directory {directory} must not be under the data directory {data}"
        )


@cache
def cipher() -> Cipher:
    """The process-wide cipher for encrypted fields."""
    return Cipher(field_keys())


@cache
def _hash_key_cached() -> bytes:
    return hash_key()


def match_hash(value: str, *, purpose: str) -> str:
    """The keyed hash of ``value`` for matching (ID numbers, names) in one ``purpose``."""
    return keyed_hash(value, _hash_key_cached(), purpose=purpose)


def reset() -> None:
    """Forget cached keys (after a rotation, or in tests that change the settings)."""
    cipher.cache_clear()
    _hash_key_cached.cache_clear()
