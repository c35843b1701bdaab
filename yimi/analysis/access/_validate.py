"""Validation of YAML rule files: type checks whose errors name the offending key (private)."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["IDENTIFIER", "Reader", "RulePackError"]

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class RulePackError(ValueError):
    """A rule pack is not valid; ``key`` names where (``rules[2].threshold_m``)."""

    def __init__(self, origin: str, key: str, message: str) -> None:
        self.origin = origin
        self.key = key
        super().__init__(f"{origin}: {key}: {message}" if key else f"{origin}: {message}")


class Reader:
    """Type checks that raise :class:`RulePackError` naming the key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, key: str, message: str) -> RulePackError:
        return RulePackError(self.origin, key, message)

    def mapping(
        self,
        value: Any,
        key: str,
        *,
        required: set[str] | frozenset[str] = frozenset(),
        optional: set[str] | frozenset[str] | None = None,
    ) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, not {type(value).__name__}")
        missing = sorted(required - set(value))
        if missing:
            prefix = f"{key}." if key else ""
            raise self.fail(f"{prefix}{missing[0]}", "is required")
        if optional is not None:
            unknown = sorted(str(k) for k in set(value) - set(required) - set(optional))
            if unknown:
                prefix = f"{key}." if key else ""
                raise self.fail(f"{prefix}{unknown[0]}", "unknown key (a typo?)")
        return value

    def sequence(self, value: Any, key: str, *, non_empty: bool = False) -> list[Any]:
        if value is None and not non_empty:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {type(value).__name__}")
        if non_empty and not value:
            raise self.fail(key, "must not be empty")
        return value

    def text(self, value: Any, key: str, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, not {type(value).__name__}")
        if not allow_empty and not value.strip():
            raise self.fail(key, "must not be empty")
        return value.strip()

    def identifier(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            raise self.fail(key, f"must be a lower_case identifier, not {value!r}")
        return value

    def number(self, value: Any, key: str, *, positive: bool = False) -> float:
        # bool is an int in Python; "yes" parsed by YAML must not pass as 1.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {value!r}")
        v = float(value)
        if not math.isfinite(v):
            raise self.fail(key, "must be finite")
        if positive and v <= 0:
            raise self.fail(key, f"must be positive, not {value!r}")
        return v

    def integer(self, value: Any, key: str, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, not {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, not {value}")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value
