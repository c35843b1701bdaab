"""居民身份证号 (resident identity numbers) per GB 11643-1999: validation, masking, demo generation."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

__all__ = [
    "IdNumber",
    "IdNumberError",
    "PROVINCE_CODES",
    "check_digit",
    "generate_id_number",
    "mask_id_number",
    "validate_id_number",
]

# ISO 7064 MOD 11-2 weights for the 17 body digits (2**(17-i) mod 11).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Indexed by (weighted sum mod 11) -> the check character.
_CHECK_CHARS = "10X98765432"

# Province-level codes of GB/T 2260 (the first two digits). Stricter than "11–65": 16–20, 24–30
# etc. are not assigned, and a typo landing there is caught before the check digit is.
PROVINCE_CODES: frozenset[str] = frozenset(
    str(code)
    for block in (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55))
    for code in block
) | frozenset({"61", "62", "63", "64", "65", "71", "81", "82"})

# Catches year typos (0xxx); GB 11643's own example 440524188001010014 is born in 1880.
_EARLIEST_BIRTH = date(1800, 1, 1)

Reason = Literal["length", "characters", "region", "birth_date", "check_digit"]


class IdNumberError(ValueError):
    """An invalid ID number; ``reason`` names what is wrong (for import reports by column)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def check_digit(body: str) -> str:
    """The GB 11643 check character ('0'–'9' or 'X') for the first 17 digits ``body``."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("body must be 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A validated ID number and what it encodes; its repr is masked so logs never carry it."""

    number: str = field(repr=False)
    birth_date: date
    sex: Literal["male", "female"]
    region_code: str

    def __repr__(self) -> str:
        return (
            f"IdNumber(number={mask_id_number(self.number)!r}, birth_date={self.birth_date!r}, "
            f"sex={self.sex!r}, region_code={self.region_code!r})"
        )

    def age_on(self, on: date) -> int:
        """Completed years of age on ``on`` (someone born 29 Feb turns a year older on 1 Mar)."""
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def validate_id_number(s: str, *, today: date | None = None) -> IdNumber:
    """Validate an 18-character ID number and decode it.

    Surrounding whitespace is ignored (spreadsheets add it) and a lower-case ``x`` is accepted
    and normalised to ``X``. Checks run in the order length, characters, region, birth date,
    check digit, so the message names the most specific fault.

    Raises
    ------
    IdNumberError
        With a Chinese + English message and a machine-readable ``reason``.
    """
    today = today or date.today()
    s = s.strip().upper() if isinstance(s, str) else ""
    if len(s) != 18:
        raise IdNumberError(
            "length",
            f"身份证号应为 18 位，实际为 {len(s)} 位 / ID number must have 18 characters, got {len(s)}",
        )
    body, last = s[:17], s[17]
    if not (body.isascii() and body.isdigit()) or not (
        last == "X" or (last.isascii() and last.isdigit())
    ):
        raise IdNumberError(
            "characters",
            "身份证号前 17 位应为数字，末位应为数字或 X / "
            "the first 17 characters must be digits and the last a digit or X",
        )
    if body[:2] not in PROVINCE_CODES:
        raise IdNumberError(
            "region",
            f"行政区划代码 {body[:6]} 的省级代码 {body[:2]} 无效 / "
            f"region code {body[:6]} has no valid province code ({body[:2]})",
        )
    raw = body[6:14]
    try:
        born = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise IdNumberError(
            "birth_date", f"出生日期 {raw} 不是有效日期 / birth date {raw} is not a real date"
        ) from None
    if born > today:
        raise IdNumberError(
            "birth_date", f"出生日期 {raw} 晚于今天 / birth date {raw} is in the future"
        )
    if born < _EARLIEST_BIRTH:
        raise IdNumberError(
            "birth_date", f"出生日期 {raw} 早于 1800 年 / birth date {raw} is before 1800"
        )
    expected = check_digit(body)
    if last != expected:
        raise IdNumberError(
            "check_digit",
            f"校验码应为 {expected}，实际为 {last} / check digit should be {expected}, got {last}",
        )
    # The 17th digit is the sequence code's last: odd for men, even for women.
    sex: Literal["male", "female"] = "male" if int(body[16]) % 2 else "female"
    return IdNumber(number=s, birth_date=born, sex=sex, region_code=body[:6])


def mask_id_number(s: str | None) -> str:
    """Mask all but the first 3 and last 4 characters: ``110***********1234``.

    Never raises: display must not fail on a malformed stored value; short values are fully
    masked rather than partly revealed.
    """
    if not s:
        return ""
    s = s.strip()
    if len(s) <= 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def generate_id_number(
    rng: random.Random,
    *,
    region: str = "110108",
    birth_date: date | None = None,
    sex: Literal["male", "female"] | None = None,
    today: date | None = None,
) -> str:
    """A check-digit-valid FICTITIOUS ID number, for demo data only.

    Generated numbers always use sequence codes 990–999 (``…99`` + sex digit), a pattern kept
    recognisable in demo data. GB 11643 reserves no range for test numbers, so a generated
    number can still coincide with a real person's: never use these outside demo/test data.
    ``birth_date`` defaults to a random day within the last 18 years (a minor).
    """
    today = today or date.today()
    if len(region) != 6 or not region.isdigit() or region[:2] not in PROVINCE_CODES:
        raise ValueError(f"region must be a 6-digit code with a valid province prefix: {region!r}")
    if birth_date is None:
        birth_date = today - timedelta(days=rng.randrange(1, 18 * 365))
    if sex is None:
        sex = rng.choice(("male", "female"))
    sex_digit = rng.choice("13579" if sex == "male" else "02468")
    body = f"{region}{birth_date:%Y%m%d}99{sex_digit}"
    return body + check_digit(body)
