"""Tests of GB 11643 ID number validation, decoding, masking and demo generation."""

from __future__ import annotations

import random
from datetime import date

import pytest

from yimi.care.identity import (
    IdNumberError,
    check_digit,
    generate_id_number,
    mask_id_number,
    validate_id_number,
)

TODAY = date(2025, 6, 1)


def _reference_check(body: str) -> str:
    """ISO 7064 MOD 11-2 written out independently: weights 2^(17-i) mod 11, X for 10."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


@pytest.mark.parametrize(
    ("number", "born", "sex", "region"),
    [
        # The two examples printed in GB 11643-1999 itself.
        ("11010519491231002X", date(1949, 12, 31), "female", "110105"),
        ("440524188001010014", date(1880, 1, 1), "male", "440524"),
        # Check digits verified with _reference_check below.
        ("510108199003071232", date(1990, 3, 7), "male", "510108"),
        ("320583198811040022", date(1988, 11, 4), "female", "320583"),
    ],
)
def test_valid_numbers_decode(number: str, born: date, sex: str, region: str) -> None:
    assert _reference_check(number[:17]) == number[17]
    n = validate_id_number(number, today=TODAY)
    assert (n.number, n.birth_date, n.sex, n.region_code) == (number, born, sex, region)


def test_lower_case_x_and_whitespace_normalised() -> None:
    n = validate_id_number(" 11010519491231002x\t", today=TODAY)
    assert n.number == "11010519491231002X"


def test_check_digit_matches_reference_on_random_bodies() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        assert check_digit(body) == _reference_check(body)


def test_every_single_digit_error_is_caught() -> None:
    good = "11010519491231002X"
    for i in range(17):
        for d in "0123456789":
            if d == good[i]:
                continue
            bad = good[:i] + d + good[i + 1 :]
            with pytest.raises(IdNumberError):
                validate_id_number(bad, today=TODAY)


def test_wrong_check_digit_names_the_right_one() -> None:
    with pytest.raises(IdNumberError, match="校验码应为 X") as e:
        validate_id_number("110105194912310021", today=TODAY)
    assert e.value.reason == "check_digit"
    assert "check digit should be X, got 1" in str(e.value)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize(
    ("number", "reason", "fragment"),
    [
        ("11010519491231002", "length", "18 位，实际为 17 位"),
        ("11010519491231002XX", "length", "got 19"),
        ("", "length", "got 0"),
        ("1101051949123100X2", "characters", "digits"),
        ("11010519491231002Y", "characters", "末位应为数字或 X"),
        ("11010519491231００2X", "characters", "digits"),  # full-width digits
        ("990105194912310021", "region", "province code (99)"),
        ("160105194912310021", "region", "省级代码 16"),
        ("110105201502300021", "birth_date", "20150230 不是有效日期"),
        ("110105201513010021", "birth_date", "not a real date"),
        ("110105203001010021", "birth_date", "in the future"),
        ("110105012001010021", "birth_date", "before 1800"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(number: str, reason: str, fragment: str) -> None:
    with pytest.raises(IdNumberError) as e:
        validate_id_number(number, today=TODAY)
    assert e.value.reason == reason
    assert fragment in str(e.value)


def test_born_today_is_valid_tomorrow_is_not() -> None:
    body = f"110105{TODAY:%Y%m%d}001"
    assert validate_id_number(body + check_digit(body), today=TODAY).birth_date == TODAY
    body = "11010520250602001"
    with pytest.raises(IdNumberError, match="future"):
        validate_id_number(body + check_digit(body), today=TODAY)


def test_age_on() -> None:
    n = validate_id_number("11010519491231002X", today=TODAY)
    assert n.age_on(date(1950, 12, 30)) == 0
    assert n.age_on(date(1950, 12, 31)) == 1
    assert n.age_on(date(2025, 6, 1)) == 75
    body = "11010520120229001"  # born 29 February
    leap = validate_id_number(body + check_digit(body), today=TODAY)
    assert leap.age_on(date(2013, 2, 28)) == 0
    assert leap.age_on(date(2013, 3, 1)) == 1


def test_repr_is_masked() -> None:
    n = validate_id_number("11010519491231002X", today=TODAY)
    assert "11010519491231002X" not in repr(n)
    assert "110***********002X" in repr(n)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110105194912311234", "110***********1234"),
        (" 11010519491231002x ", "110***********002x"),
        ("1234567", "*******"),
        ("12345678", "123*5678"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask(value: str | None, masked: str) -> None:
    assert mask_id_number(value) == masked


def test_generated_numbers_are_valid_minors_with_demo_pattern() -> None:
    rng = random.Random(42)
    seen = set()
    for _ in range(500):
        number = generate_id_number(rng, today=TODAY)
        n = validate_id_number(number, today=TODAY)
        assert n.region_code == "110108"
        assert number[14:16] == "99"
        assert 0 <= n.age_on(TODAY) < 18
        seen.add(n.sex)
    assert seen == {"male", "female"}
    fixed = generate_id_number(
        rng, region="500103", birth_date=date(2015, 2, 28), sex="female", today=TODAY
    )
    n = validate_id_number(fixed, today=TODAY)
    assert (n.region_code, n.birth_date, n.sex) == ("500103", date(2015, 2, 28), "female")
    # Same seed, same numbers: demo data is reproducible.
    assert generate_id_number(random.Random(1), today=TODAY) == generate_id_number(
        random.Random(1), today=TODAY
    )
    with pytest.raises(ValueError, match="province"):
        generate_id_number(rng, region="990101")
