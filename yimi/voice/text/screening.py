"""敏感词 screening: insults and advertising/spam markers in a letter, from an editable word list.

Hits are for a moderator to look at, not an automatic verdict: the list in
``rules/screening.yaml`` is small and illustrative and a city extends it. Matching runs on
normalised text (:mod:`yimi.voice.text._normalise`), so full-width letters, spaces or dots
between Chinese characters and zero-width characters do not hide a word; each hit gives the
span in the original text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from yimi.voice.text._normalise import normalise
from yimi.voice.text._rules import RULES_DIR, RulesError, read_yaml

__all__ = [
    "DEFAULT_RULES_PATH",
    "ScreeningCategory",
    "ScreeningHit",
    "ScreeningRules",
    "default_rules",
    "load_rules",
    "screen",
]

DEFAULT_RULES_PATH = RULES_DIR / "screening.yaml"


@dataclass(frozen=True)
class ScreeningCategory:
    """One category of the list (``insult``, ``advertising`` …) with its compiled matcher."""

    key: str
    label: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class ScreeningRules:
    """The categories of a screening list and the file they came from."""

    categories: tuple[ScreeningCategory, ...]
    source: Path


@dataclass(frozen=True)
class ScreeningHit:
    """A match: the category, the matched text (original and normalised) and its span."""

    category: str
    label: str
    start: int
    end: int
    text: str
    normalised: str


def load_rules(path: str | Path) -> ScreeningRules:
    """Load a screening list from a YAML file (a city's edited copy of ``rules/screening.yaml``)."""
    return _load_rules(Path(path).resolve())


@functools.cache
def _load_rules(path: Path) -> ScreeningRules:
    data = read_yaml(path, required=("categories",))
    categories = []
    for key, spec in (data["categories"] or {}).items():
        words = sorted((str(w).lower() for w in spec.get("words") or []), key=len, reverse=True)
        parts = [re.escape(w) for w in words] + [str(p) for p in spec.get("patterns") or []]
        if not parts:
            continue
        try:
            regex = re.compile("|".join(f"(?:{p})" for p in parts))
        except re.error as exc:
            raise RulesError(f"{path}: a pattern of category {key!r} is invalid: {exc}") from exc
        categories.append(ScreeningCategory(str(key), str(spec.get("label", key)), regex))
    return ScreeningRules(categories=tuple(categories), source=path)


def default_rules() -> ScreeningRules:
    """The list shipped with Yimi (``rules/screening.yaml``), loaded once."""
    return _load_rules(DEFAULT_RULES_PATH.resolve())


def screen(text: str, rules: ScreeningRules | None = None) -> list[ScreeningHit]:
    """Return the 敏感词 hits in ``text``, ordered by position (empty when the text is clean)."""
    rules = rules or default_rules()
    norm = normalise(text)
    hits: list[ScreeningHit] = []
    for cat in rules.categories:
        for m in cat.regex.finditer(norm.text):
            if m.end() == m.start():
                continue
            start, end = norm.span(m.start(), m.end())
            hits.append(ScreeningHit(cat.key, cat.label, start, end, text[start:end], m.group()))
    hits.sort(key=lambda h: (h.start, h.end))
    return hits
