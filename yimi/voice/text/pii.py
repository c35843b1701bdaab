"""Personal data in a child's letter: find it and mask it before anything is published.

Numbers follow national formats (mobile and landline numbers, 居民身份证号 checked with
GB 11643 through :func:`yimi.care.identity.validate_id_number`, e-mail, labelled QQ and WeChat
ids); schools, classes, street addresses and introduced names ("我叫王小明", "我的同学张伟")
use word lists from ``rules/pii.yaml``. The aim is that nothing identifying a child is
published, so an unknown run of 7+ digits is masked too; place names a letter is *about*
("五道口公园", "地铁站", "学院路上") carry no house number or school ending and stay.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from yimi.care.identity import PROVINCE_CODES, IdNumberError, mask_id_number, validate_id_number
from yimi.voice.text._rules import RULES_DIR, read_yaml

__all__ = [
    "DEFAULT_RULES_PATH",
    "PiiKind",
    "PiiResult",
    "PiiRules",
    "PiiSpan",
    "default_rules",
    "detect_pii",
    "load_rules",
    "mask_pii",
]

DEFAULT_RULES_PATH = RULES_DIR / "pii.yaml"

PiiKind = Literal[
    "id_number",
    "mobile",
    "landline",
    "email",
    "qq",
    "wechat",
    "address",
    "school",
    "class",
    "name",
    "number",
]

# When two candidates overlap, the higher one wins (then the longer one).
_PRIORITY: dict[str, int] = {
    "id_number": 10,
    "mobile": 9,
    "landline": 8,
    "email": 8,
    "qq": 7,
    "wechat": 7,
    "address": 6,
    "school": 5,
    "class": 5,
    "name": 4,
    "number": 1,
}

_D = "[0-9０-９]"
_N = "[0-9０-９一二三四五六七八九十百零〇两]"
_HAN = "[\u4e00-\u9fff]"
# A run of digits with single spaces or dashes between them, an optional +86 and a trailing X.
_DIGIT_RUN = re.compile(rf"(?<![0-9０-９A-Za-z])(?:[+＋]?86[ \-]?)?{_D}(?:[ \-]?{_D})*[XxＸｘ]?")
_PAREN_LANDLINE = re.compile(rf"[(（]0{_D}{{2,3}}[)）]\s?{_D}{{7,8}}(?!{_D})")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_QQ = re.compile(
    rf"(?:QQ|qq|Qq|ＱＱ|扣扣)\s*(?:号码|号)?\s*(?:是|为|[:：])?\s*({_D}{{5,11}})(?!{_D})"
)
_WECHAT = re.compile(
    r"(?:微信|薇信|威信|VX|vx|wx|WX)\s*(?:号码|号)?\s*(?:是|为|[:：])?\s*([A-Za-z][-_A-Za-z0-9]{5,19})"
)
_CLASS = re.compile(
    rf"(?:(?:[一二三四五六七八九1-9]|初[一二三]|高[一二三])\s*年级|初[一二三]|高[一二三]|[一二三四五六1-6])"
    rf"\s*[(（]?\s*{_N}{{1,3}}\s*[)）]?\s*班"
)
_BUILDING = rf"(?:{_N}+(?:号楼|栋|幢|座|号院))?(?:{_N}+单元)?(?:{_N}+(?:室|层|户|号(?![线门])))?"
_BUILDING_TWO_PARTS = re.compile(
    rf"{_N}+(?:号楼|栋|幢|座)\s*{_N}+(?:单元|层)(?:\s*{_N}+(?:室|号|户)?)?"
)


@dataclass(frozen=True)
class PiiRules:
    """Word lists for names, schools and addresses (see ``rules/pii.yaml``)."""

    surnames: frozenset[str]
    compound_surnames: tuple[str, ...]
    strong_name_triggers: tuple[str, ...]
    weak_name_triggers: tuple[str, ...]
    name_stop_chars: frozenset[str]
    not_names: tuple[str, ...]
    name_titles: tuple[str, ...]
    name_stop_words: tuple[str, ...]
    generic_school_prefixes: tuple[str, ...]
    generic_school_end_chars: frozenset[str]
    place_stop_chars: frozenset[str]
    school_re: re.Pattern[str]
    street_re: re.Pattern[str]
    estate_re: re.Pattern[str]
    trigger_re: re.Pattern[str]
    strong: frozenset[str]
    source: Path


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data: ``text[start:end]`` of ``kind``, shown as ``replacement``."""

    kind: PiiKind
    start: int
    end: int
    text: str
    replacement: str


@dataclass(frozen=True)
class PiiResult:
    """The original text, the spans found (in order) and the masked text."""

    text: str
    spans: tuple[PiiSpan, ...]
    masked: str

    @property
    def kinds(self) -> set[str]:
        """The kinds of personal data found."""
        return {s.kind for s in self.spans}


def _alternation(words: list[str] | tuple[str, ...]) -> str:
    # Longest first, so "实验小学" wins over "小学".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def load_rules(path: str | Path) -> PiiRules:
    """Load personal-data rules from a YAML file (a city's edited copy of ``rules/pii.yaml``)."""
    return _load_rules(Path(path).resolve())


@functools.cache
def _load_rules(path: Path) -> PiiRules:
    data = read_yaml(
        path,
        required=(
            "surnames",
            "strong_name_triggers",
            "weak_name_triggers",
            "school_suffixes",
            "street_suffixes",
            "estate_suffixes",
        ),
    )
    strong = [str(t) for t in data["strong_name_triggers"]]
    weak = [str(t) for t in data["weak_name_triggers"]]
    short_school = [s for s in data["school_suffixes"] if len(s) == 2 and s[1] in "小中"]
    long_school = [s for s in data["school_suffixes"] if s not in short_school]
    # "一小"/"二中" are school names only when not "一小时", "一小块", "其中午".
    school_end = (
        rf"(?:{_alternation(long_school)}"
        rf"|(?:{_alternation(short_school)})(?![时块部段会片节点撮步群口杯半学间午朋孩生心国文]))"
    )
    name = r"[\u4e00-\u9fffA-Za-z0-9０-９]{1,14}"
    return PiiRules(
        surnames=frozenset(str(s) for s in data["surnames"]),
        compound_surnames=tuple(data.get("compound_surnames", [])),
        strong_name_triggers=tuple(strong),
        weak_name_triggers=tuple(weak),
        name_stop_chars=frozenset(data.get("name_stop_chars", "")),
        not_names=tuple(data.get("not_names", [])),
        name_titles=tuple(data.get("name_titles", [])),
        name_stop_words=tuple(data.get("name_stop_words", [])),
        generic_school_prefixes=tuple(data.get("generic_school_prefixes", [])),
        generic_school_end_chars=frozenset(data.get("generic_school_end_chars", "")),
        place_stop_chars=frozenset(data.get("place_stop_chars", "")),
        school_re=re.compile(rf"({name}?)({school_end})"),
        street_re=re.compile(
            rf"({name}?)(?:{_alternation(data['street_suffixes'])})\s*{_N}+\s*号(?![线门])(?:院)?{_BUILDING}"
        ),
        estate_re=re.compile(
            rf"({name}?)(?:{_alternation(data['estate_suffixes'])})\s*"
            rf"(?:{_N}+(?:号楼|栋|幢|座)(?:{_N}+单元)?(?:{_N}+(?:室|号|户))?|{_N}+单元(?:{_N}+(?:室|号|户))?)"
        ),
        trigger_re=re.compile(_alternation(strong + weak)),
        strong=frozenset(strong),
        source=path,
    )


def default_rules() -> PiiRules:
    """The rules shipped with Yimi (``rules/pii.yaml``), loaded once."""
    return _load_rules(DEFAULT_RULES_PATH.resolve())


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _digits(s: str) -> str:
    return "".join(c for c in _ascii(s) if c.isdigit() or c in "Xx").upper()


def _mask_middle(digits: str, head: int, tail: int) -> str:
    if len(digits) <= head + tail:
        return "*" * len(digits)
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[-tail:]


def _old_id_number(d: str) -> bool:
    """A 15-digit ID number (issued before 1999): region, YYMMDD birth date, sequence."""
    if len(d) != 15 or not d.isdigit() or d[:2] not in PROVINCE_CODES:
        return False
    month, day = int(d[8:10]), int(d[10:12])
    return 1 <= month <= 12 and 1 <= day <= 31


def _label_before(text: str, start: int, labels: tuple[str, ...], window: int = 6) -> bool:
    before = text[max(0, start - window) : start]
    return any(label in before for label in labels)


def _number_spans(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _PAREN_LANDLINE.finditer(text):
        d = _digits(m.group())
        spans.append(PiiSpan("landline", m.start(), m.end(), m.group(), _mask_middle(d, 3, 2)))
    for m in _DIGIT_RUN.finditer(text):
        raw = m.group()
        d = _digits(raw)
        start, end = m.start(), m.end()
        if len(d) == 13 and d.startswith("86"):
            d = d[2:]
        kind: PiiKind | None = None
        replacement = ""
        if len(d) == 18:
            try:
                validate_id_number(d)
            except IdNumberError:
                kind, replacement = "number", "*" * len(d)
            else:
                kind, replacement = "id_number", mask_id_number(d)
        elif len(d) == 11 and re.fullmatch(r"1[3-9]\d{9}", d):
            kind, replacement = "mobile", _mask_middle(d, 3, 4)
        elif len(d) == 15 and _old_id_number(d):
            kind, replacement = "id_number", mask_id_number(d)
        elif 10 <= len(d) <= 12 and d.startswith("0") and d.isdigit():
            area = 3 if d[1] in "12" else 4  # 010, 021 … are three digits; the rest four.
            kind, replacement = "landline", d[:area] + "-" + _mask_middle(d[area:], 0, 2)
        elif (
            len(d) in (7, 8)
            and d.isdigit()
            and _label_before(text, start, ("电话", "座机", "号码", "拨打", "打"))
        ):
            kind, replacement = "landline", _mask_middle(d, 0, 2)
        elif len(d) >= 7 and d.isdigit() and " " not in raw and "-" not in raw:
            kind, replacement = "number", "*" * len(d)
        if kind is not None:
            spans.append(PiiSpan(kind, start, end, raw, replacement))
    for m in _EMAIL.finditer(text):
        domain = m.group().split("@", 1)[1]
        spans.append(PiiSpan("email", m.start(), m.end(), m.group(), "***@" + domain))
    for m in _QQ.finditer(text):
        spans.append(PiiSpan("qq", m.start(1), m.end(1), m.group(1), "*" * len(m.group(1))))
    for m in _WECHAT.finditer(text):
        spans.append(PiiSpan("wechat", m.start(1), m.end(1), m.group(1), "[微信号]"))
    return spans


def _trim_place_prefix(rules: PiiRules, text: str, start: int, prefix_end: int) -> int:
    """Move ``start`` past the last stop character before ``prefix_end`` ("我家住在|学院路")."""
    for i in range(prefix_end - 1, start - 1, -1):
        if text[i] in rules.place_stop_chars:
            return i + 1
    return start


def _place_spans(rules: PiiRules, text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in rules.school_re.finditer(text):
        start = _trim_place_prefix(rules, text, m.start(1), m.end(1))
        prefix = text[start : m.end(1)]
        if (
            len(prefix) < 2
            or prefix[-1] in rules.generic_school_end_chars
            or any(prefix.endswith(g) for g in rules.generic_school_prefixes)
        ):
            continue
        spans.append(PiiSpan("school", start, m.end(), text[start : m.end()], "[学校]"))
    for regex in (rules.street_re, rules.estate_re):
        for m in regex.finditer(text):
            start = _trim_place_prefix(rules, text, m.start(1), m.end(1))
            if m.end(1) - start < 1:
                continue
            spans.append(PiiSpan("address", start, m.end(), text[start : m.end()], "[地址]"))
    for m in _BUILDING_TWO_PARTS.finditer(text):
        spans.append(PiiSpan("address", m.start(), m.end(), m.group(), "[地址]"))
    for m in _CLASS.finditer(text):
        spans.append(PiiSpan("class", m.start(), m.end(), m.group(), "[班级]"))
    return spans


def _name_after(rules: PiiRules, text: str, pos: int, *, strong: bool) -> int:
    """The end of a name starting at ``pos``, or ``pos`` when there is none."""
    rest = text[pos : pos + 4]
    if any(rest.startswith(w) for w in rules.not_names):
        return pos
    surname = next((c for c in rules.compound_surnames if rest.startswith(c)), None)
    if surname is None and rest[:1] in rules.surnames:
        surname = rest[:1]
    if surname is None and not strong:
        return pos
    i = pos + (len(surname) if surname else 0)
    if surname and any(text.startswith(t, i) for t in rules.name_titles):
        return pos
    limit = pos + (len(surname) if surname else 1) + 2
    while (
        i < min(limit, len(text))
        and "\u4e00" <= text[i] <= "\u9fff"
        and text[i] not in rules.name_stop_chars
        and not any(text.startswith(w, i) for w in rules.name_stop_words)
    ):
        i += 1
    return i if i - pos >= 2 else pos


def _name_spans(rules: PiiRules, text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in rules.trigger_re.finditer(text):
        end = _name_after(rules, text, m.end(), strong=m.group() in rules.strong)
        if end > m.end():
            name = text[m.end() : end]
            spans.append(PiiSpan("name", m.end(), end, name, name[0] + "*" * (len(name) - 1)))
    # A name given once is masked wherever it appears again ("我叫王小明……王小明希望……").
    for name in {s.text for s in spans}:
        for m in re.finditer(re.escape(name), text):
            spans.append(PiiSpan("name", m.start(), m.end(), name, name[0] + "*" * (len(name) - 1)))
    return spans


def _resolve(spans: list[PiiSpan]) -> tuple[PiiSpan, ...]:
    """Keep non-overlapping spans, preferring higher priority, then longer ones."""
    chosen: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (-_PRIORITY[s.kind], -(s.end - s.start), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return tuple(sorted(chosen, key=lambda s: s.start))


def detect_pii(text: str, rules: PiiRules | None = None) -> tuple[PiiSpan, ...]:
    """Find personal data in ``text``: non-overlapping spans in order of position."""
    rules = rules or default_rules()
    return _resolve(_number_spans(text) + _place_spans(rules, text) + _name_spans(rules, text))


def mask_pii(text: str, rules: PiiRules | None = None) -> PiiResult:
    """Find personal data in ``text`` and replace each span by its mask (王** / 138****5678 / [学校])."""
    spans = detect_pii(text, rules)
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(s.replacement)
        pos = s.end
    parts.append(text[pos:])
    return PiiResult(text=text, spans=spans, masked="".join(parts))
