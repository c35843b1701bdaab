"""Model fields whose values are encrypted at rest (Fernet, keys from :mod:`yimi.core.keys`).

The database holds only ciphertext; Python code sees plain values. Encrypted columns cannot be
filtered or ordered on: match through a keyed hash column (:func:`yimi.core.keys.match_hash`).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from yimi.core import keys


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token; empty strings are stored as they are."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return keys.cipher().decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return keys.cipher().encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":  # ciphertexts are randomised: nothing else could match
            raise TypeError(f"encrypted field {self.name!r} cannot be searched with {lookup_name}")
        return super().get_lookup(lookup_name)


class EncryptedJSONField(models.TextField):
    """A JSON value (dict, list, number …) stored as one Fernet token."""

    description = "JSON encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return json.loads(keys.cipher().decrypt(value))

    def to_python(self, value: Any):
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return keys.cipher().encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise TypeError(f"encrypted field {self.name!r} cannot be searched with {lookup_name}")
        return super().get_lookup(lookup_name)


class EncryptedBinaryField(models.BinaryField):
    """Bytes (an uploaded document) stored as one Fernet token."""

    description = "Bytes encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return keys.cipher().decrypt_bytes(bytes(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        return super().get_db_prep_value(
            keys.cipher().encrypt_bytes(bytes(value)), connection, prepared
        )

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise TypeError(f"encrypted field {self.name!r} cannot be searched with {lookup_name}")
        return super().get_lookup(lookup_name)
