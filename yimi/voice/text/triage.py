"""Disclosure triage: does a letter suggest abuse, neglect, bullying or self-harm?

A letter that matches any rule of ``rules/triage.yaml`` is hidden from the public and flagged to
care staff of the child's area; the rules are Chinese phrases and regular expressions per kind,
editable by a city. Recall is chosen over precision (see the rule file's header): rules are
broad, and only a negation immediately before a match ("没有人打我", "爸爸从来不打我")
suppresses it. Suppressed matches are returned too, so staff can see why a letter was not
flagged.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from yimi.voice.text._normalise import Normalised, normalise
from yimi.voice.text._rules import RULES_DIR, RulesError, read_yaml

__all__ = [
    "DEFAULT_RULES_PATH",
    "TriageHit",
    "TriageKind",
    "TriageResult",
    "TriageRules",
    "default_rules",
    "load_rules",
    "triage",
]

DEFAULT_RULES_PATH = RULES_DIR / "triage.yaml"

# Clause boundaries: a negation never reaches across them.
_CLAUSE_END = frozenset("，。！？；：,.!?;:\n")


@dataclass(frozen=True)
class TriageKind:
    """One kind of disclosure (``abuse``, ``neglect``, ``bullying``, ``self_harm``)."""

    key: str
    label: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class TriageRules:
    """The kinds, the negation words and the file they came from."""

    kinds: tuple[TriageKind, ...]
    negators: tuple[str, ...]
    negation_gap: int
    gap_chars: frozenset[str]
    source: Path


@dataclass(frozen=True)
class TriageHit:
    """A matched phrase: its kind, span in the original text, and whether a negation cancelled it."""

    kind: str
    label: str
    start: int
    end: int
    phrase: str
    negated: bool = False


@dataclass(frozen=True)
class TriageResult:
    """The hits that count (``hits``) and those cancelled by a negation (``negated``)."""

    hits: tuple[TriageHit, ...]
    negated: tuple[TriageHit, ...] = field(default=())

    @property
    def flagged(self) -> bool:
        """True when the letter must be hidden and shown to care staff."""
        return bool(self.hits)

    @property
    def kinds(self) -> list[str]:
        """The kinds found, in the order of the rule file's first hit position."""
        seen: dict[str, None] = {}
        for h in self.hits:
            seen.setdefault(h.kind, None)
        return list(seen)

    @property
    def phrases(self) -> list[str]:
        """The matched phrases, as written in the letter."""
        return [h.phrase for h in self.hits]


def load_rules(path: str | Path) -> TriageRules:
    """Load triage rules from a YAML file (a city's edited copy of ``rules/triage.yaml``)."""
    return _load_rules(Path(path).resolve())


@functools.cache
def _load_rules(path: Path) -> TriageRules:
    data = read_yaml(path, required=("kinds",))
    kinds = []
    for key, spec in (data["kinds"] or {}).items():
        phrases = sorted((str(p).lower() for p in spec.get("phrases") or []), key=len, reverse=True)
        parts = [str(p) for p in spec.get("patterns") or []] + [re.escape(p) for p in phrases]
        if not parts:
            continue
        try:
            # Zero-width lookahead: overlapping matches ("被打" inside "爸爸打我被打") all count.
            regex = re.compile("(?=(" + "|".join(f"(?:{p})" for p in parts) + "))")
        except re.error as exc:
            raise RulesError(f"{path}: a pattern of kind {key!r} is invalid: {exc}") from exc
        kinds.append(TriageKind(str(key), str(spec.get("label", key)), regex))
    negators = sorted((str(n) for n in data.get("negators") or []), key=len, reverse=True)
    return TriageRules(
        kinds=tuple(kinds),
        negators=tuple(negators),
        negation_gap=int(data.get("negation_gap", 2)),
        gap_chars=frozenset(str(data.get("gap_chars", ""))),
        source=path,
    )


def default_rules() -> TriageRules:
    """The rules shipped with Yimi (``rules/triage.yaml``), loaded once."""
    return _load_rules(DEFAULT_RULES_PATH.resolve())


def _negated(rules: TriageRules, text: str, start: int) -> bool:
    """A negator ends at ``start`` or a few gap characters before it, within the clause."""
    for gap in range(rules.negation_gap + 1):
        cut = start - gap
        if cut < 0:
            break
        between = text[cut:start]
        if any(c not in rules.gap_chars for c in between):
            break
        head = text[:cut]
        if any(head.endswith(n) for n in rules.negators):
            # "不是没人管我" is rare; "没人管我" itself starts with a negator, which does not count.
            return True
    return False


def _matches(rules: TriageRules, norm: Normalised) -> list[TriageHit]:
    hits: list[TriageHit] = []
    for kind in rules.kinds:
        last_end = -1
        for m in kind.regex.finditer(norm.text):
            s, e = m.start(1), m.end(1)
            if s < last_end:  # a shorter phrase inside a longer hit of the same kind
                continue
            last_end = e
            start, end = norm.span(s, e)
            hits.append(
                TriageHit(
                    kind.key,
                    kind.label,
                    start,
                    end,
                    norm.original[start:end],
                    negated=_negated(rules, norm.text, s),
                )
            )
    return hits


def triage(text: str, rules: TriageRules | None = None) -> TriageResult:
    """Match ``text`` against the disclosure rules; ``result.flagged`` says whether to hide it."""
    rules = rules or default_rules()
    hits = sorted(_matches(rules, normalise(text)), key=lambda h: (h.start, h.kind))
    return TriageResult(
        hits=tuple(h for h in hits if not h.negated),
        negated=tuple(h for h in hits if h.negated),
    )
