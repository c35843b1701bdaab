"""Field encryption at rest (Fernet/MultiFernet, with key rotation) and keyed hashes for matching.

Plain module: keys come in as arguments; Django settings are read by the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = [
    "Cipher",
    "DecryptionError",
    "KeyConfigError",
    "generate_key",
    "keyed_hash",
    "load_keys_from",
    "normalise",
]


class DecryptionError(ValueError):
    """A token that none of the keys can authenticate (tampered, truncated or a foreign key)."""


class KeyConfigError(ValueError):
    """Keys missing, malformed, or kept somewhere unsafe."""


def generate_key() -> bytes:
    """A new random Fernet key (32 bytes, urlsafe base64)."""
    return Fernet.generate_key()


class Cipher:
    """Encrypts with the first key and decrypts with any of them.

    To rotate: put a new key first, keep the old ones after it, re-encrypt stored values with
    :meth:`rotate`, then drop the old keys.
    """

    def __init__(self, keys: Sequence[bytes | str]) -> None:
        if not keys:
            raise KeyConfigError("至少需要一个密钥 / at least one key is required")
        try:
            fernets = [Fernet(k) for k in keys]
        except (ValueError, TypeError):
            # Fernet's own message is fine, but never echo the key itself.
            raise KeyConfigError(
                "密钥格式无效（应为 32 字节 urlsafe base64）/ "
                "invalid key (must be 32 bytes, urlsafe base64)"
            ) from None
        self._multi = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext`` under the first key; returns the token as ASCII text."""
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made under any of the keys; raises :class:`DecryptionError`."""
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise DecryptionError(
                "无法解密：密文被篡改或密钥不匹配 / cannot decrypt: token tampered or key unknown"
            ) from None

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Encrypt raw bytes (a document) under the first key; returns the token's bytes."""
        return self._multi.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._multi.decrypt(token)
        except InvalidToken:
            raise DecryptionError(
                "无法解密：密文被篡改或密钥不匹配 / cannot decrypt: token tampered or key unknown"
            ) from None

    def rotate_bytes(self, token: bytes) -> bytes:
        try:
            return self._multi.rotate(token)
        except InvalidToken:
            raise DecryptionError(
                "无法轮换：密文被篡改或密钥不匹配 / cannot rotate: token tampered or key unknown"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first key (the plaintext never leaves this call)."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise DecryptionError(
                "无法轮换：密文被篡改或密钥不匹配 / cannot rotate: token tampered or key unknown"
            ) from None


def normalise(value: str) -> str:
    """The form hashed for matching: NFKC (full-width → ASCII), no whitespace, upper case.

    So ``１１０１…x``, ``110 1…X`` and ``1101…X`` hash alike.
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()


def keyed_hash(value: str, key: bytes, *, purpose: str = "") -> str:
    """HMAC-SHA256 of the normalised ``value``, as hex, for matching without decrypting.

    ``purpose`` (e.g. ``"id_number"``) separates domains, so the same value in two fields does
    not hash alike. Unlike the encryption keys this key cannot be rotated without decrypting
    and re-hashing every value: keep it separate and stable.
    """
    if len(key) < 16:
        raise KeyConfigError("散列密钥至少 16 字节 / the hash key must be at least 16 bytes")
    message = purpose.encode("utf-8") + b"\x00" + normalise(value).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def load_keys_from(
    env_value: str | None,
    key_file: Path | None,
    *,
    not_under: Iterable[Path] = (),
    validate: bool = True,
) -> list[bytes]:
    """Read Fernet keys, newest first, from an environment variable's value or a key file.

    Keys are separated by commas or newlines; in a file, lines starting with ``#`` are comments.
    ``validate=False`` reads other secrets (the hash key) without checking them as Fernet keys.
    Exactly one source may be set: two would leave it unclear which one is in use mid-rotation.
    The key file must not be readable or writable by group or others (as ssh demands of private
    keys) and must not lie under any of ``not_under`` (e.g. the database's directory, whose
    backups would carry the key alongside the data it protects).
    """
    env_value = (env_value or "").strip() or None
    if env_value and key_file:
        raise KeyConfigError(
            "密钥同时来自环境变量和密钥文件，请只保留一个 / "
            "keys set both in the environment and in a key file; keep only one"
        )
    if env_value:
        text, source = env_value, "environment"
    elif key_file:
        text, source = _read_key_file(Path(key_file), not_under), str(key_file)
    else:
        raise KeyConfigError("未配置加密密钥 / no encryption keys configured")
    lines = (ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    parts = [p.strip() for ln in lines for p in ln.split(",") if p.strip()]
    if not parts:
        raise KeyConfigError(f"{source} 中没有密钥 / no keys in {source}")
    keys: list[bytes] = []
    for i, part in enumerate(parts, start=1):
        if not validate:  # a non-Fernet secret (the hash key) read with the same file checks
            keys.append(part.encode("ascii"))
            continue
        try:
            Fernet(part)
        except (ValueError, TypeError):
            # Name the position, never the (possibly near-valid) secret.
            raise KeyConfigError(
                f"{source} 中第 {i} 个密钥无效 / key #{i} in {source} is not a valid Fernet key"
            ) from None
        keys.append(part.encode("ascii"))
    return keys


def _read_key_file(path: Path, not_under: Iterable[Path]) -> str:
    resolved = path.resolve()
    for forbidden in not_under:
        if resolved.is_relative_to(Path(forbidden).resolve()):
            raise KeyConfigError(
                f"密钥文件 {path} 不能放在 {forbidden} 之下（与数据放在一起）/ "
                f"key file {path} must not be under {forbidden}, next to the data it protects"
            )
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyConfigError(f"找不到密钥文件 {path} / key file {path} not found") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyConfigError(
            f"密钥文件 {path} 不是普通文件 / key file {path} is not a regular file"
        )
    if os.name == "posix" and st.st_mode & 0o077:
        raise KeyConfigError(
            f"密钥文件 {path} 的权限 {stat.S_IMODE(st.st_mode):04o} 过宽，组和其他用户不得访问；"
            f"请执行 chmod 600 {path} / permissions {stat.S_IMODE(st.st_mode):04o} for key file "
            f"{path} are too open: it must not be accessible by group or others (chmod 600)"
        )
    return path.read_text(encoding="ascii")
