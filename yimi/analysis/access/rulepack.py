"""Rule packs: editable YAML thresholds for life-circle access, each number with its source.

:func:`load_rule_pack` reads and validates a pack (the shipped ``rules/life_circle.yaml`` by
default); errors name the offending key, e.g. ``rules[2].threshold_m``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from yimi.analysis.access._validate import IDENTIFIER, Reader, RulePackError
from yimi.analysis.access.ages import AGE_GROUPS
from yimi.analysis.categories import CATEGORY_CODES, normalise_name

__all__ = [
    "DEFAULT_RULE_PACK",
    "FacilityFilter",
    "LifeCircle",
    "Rule",
    "RulePack",
    "RulePackError",
    "Setting",
    "load_rule_pack",
    "parse_rule_pack",
]

DEFAULT_RULE_PACK: Path = Path(__file__).with_name("rules") / "life_circle.yaml"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Setting:
    """A numeric setting of a pack (e.g. walking speed) with its provenance.

    Attributes
    ----------
    key : str
    value : float
    unit : str
    source : str
        Where the number comes from.
    verified : bool
        Whether it has been checked against the published source text.
    notes : str
    """

    key: str
    value: float
    unit: str
    source: str
    verified: bool
    notes: str = ""


@dataclass(frozen=True)
class LifeCircle:
    """One life circle: minutes of walking and the distance that stands for them.

    Attributes
    ----------
    minutes : int
        5, 10 or 15 in GB 50180-2018 (any positive integer is accepted).
    distance_m : float
    label_zh, label_en : str
    source : str
    verified : bool
    notes : str
    """

    minutes: int
    distance_m: float
    label_zh: str
    label_en: str
    source: str
    verified: bool
    notes: str = ""


@dataclass(frozen=True)
class FacilityFilter:
    """Extra conditions on a facility beyond its category (data, not code).

    Attributes
    ----------
    name_any : tuple of str
        When not empty, the facility's name must contain one of these words (after
        NFKC normalisation and case folding); a facility without a name fails.
    name_none : tuple of str
        The name must contain none of these words.
    min_area_m2 : float or None
        Minimum mapped area; a facility of unknown area fails.
    min_area_source : str
    min_area_verified : bool
    min_area_notes : str
    """

    name_any: tuple[str, ...] = ()
    name_none: tuple[str, ...] = ()
    min_area_m2: float | None = None
    min_area_source: str = ""
    min_area_verified: bool = False
    min_area_notes: str = ""

    def matches(self, name: str | None, area_m2: float | None) -> bool:
        """Whether a facility with this name and area passes the filter."""
        if self.name_any or self.name_none:
            norm = normalise_name(name) if name else ""
            if self.name_any and not any(normalise_name(w) in norm for w in self.name_any):
                return False
            if any(normalise_name(w) in norm for w in self.name_none):
                return False
        if self.min_area_m2 is None:
            return True
        return area_m2 is not None and math.isfinite(area_m2) and area_m2 >= self.min_area_m2


@dataclass(frozen=True)
class Rule:
    """One accessibility rule: which facilities, for which children, within what distance.

    Attributes
    ----------
    id : str
        Stable identifier (lower-case, digits, underscores).
    label_zh, label_en : str
    categories : tuple of str
        Yimi place categories (:data:`yimi.analysis.categories.CATEGORY_CODES`).
    filter : FacilityFilter
    threshold_m : float
        Walking distance within which a child counts as served.
    life_circle : int or None
        The life circle (minutes) the threshold belongs to.
    age_groups : tuple of str
        The children this facility serves (:data:`yimi.analysis.access.ages.AGE_GROUPS`).
    supply : str
        What measures a facility's capacity for 2SFCA: ``count`` (each facility is 1),
        ``area_m2`` (mapped area) or the name of a supply attribute such as ``seats``.
    source : str
        Where the threshold comes from.
    verified : bool
        Whether the threshold has been checked against the published source text.
    notes : str
    """

    id: str
    label_zh: str
    label_en: str
    categories: tuple[str, ...]
    filter: FacilityFilter
    threshold_m: float
    life_circle: int | None
    age_groups: tuple[str, ...]
    supply: str
    source: str
    verified: bool
    notes: str = ""

    def matches(self, category: str, name: str | None, area_m2: float | None) -> bool:
        """Whether a facility of this category, name and area counts for the rule."""
        return category in self.categories and self.filter.matches(name, area_m2)

    def minutes(self, walking_speed_m_per_min: float) -> float:
        """The threshold as minutes of walking at the given speed."""
        return self.threshold_m / walking_speed_m_per_min


@dataclass(frozen=True)
class RulePack:
    """A validated rule pack.

    Attributes
    ----------
    id : str
    version : int
        The pack's own version (bump it when thresholds change, so results can say which).
    label_zh, label_en, source : str
    settings : Mapping of str to Setting
    life_circles : tuple of LifeCircle
        Sorted by minutes.
    rules : tuple of Rule
        In file order.
    origin : str
        The file it was read from (or ``<data>``).
    """

    id: str
    version: int
    label_zh: str
    label_en: str
    source: str
    settings: Mapping[str, Setting]
    life_circles: tuple[LifeCircle, ...]
    rules: tuple[Rule, ...]
    origin: str = "<data>"

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError naming the known ids otherwise)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        known = [r.id for r in self.rules]
        raise KeyError(f"no rule {rule_id!r} in pack {self.id!r} (rules: {', '.join(known)})")

    @property
    def walking_speed_m_per_min(self) -> float:
        """The pack's walking speed (60 m/min when the pack does not set one)."""
        s = self.settings.get("walking_speed_m_per_min")
        return 60.0 if s is None else s.value

    @property
    def distances_m(self) -> tuple[float, ...]:
        """The life circles' distances, increasing."""
        return tuple(c.distance_m for c in self.life_circles)

    def life_circle(self, minutes: int) -> LifeCircle:
        """The life circle of the given minutes."""
        for c in self.life_circles:
            if c.minutes == minutes:
                return c
        raise KeyError(f"no {minutes}-minute life circle in pack {self.id!r}")


# ---------------------------------------------------------------------- loading


def load_rule_pack(path: str | Path | None = None) -> RulePack:
    """Read and validate a rule pack.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file; the shipped ``rules/life_circle.yaml`` when omitted.

    Returns
    -------
    RulePack

    Raises
    ------
    RulePackError
        When the file is not valid YAML or the pack breaks a rule; the message names the key.
    OSError
        When the file cannot be read.
    """
    p = Path(path) if path is not None else DEFAULT_RULE_PACK
    text = p.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulePackError(str(p), "", f"not valid YAML ({exc})") from exc
    return parse_rule_pack(data, origin=str(p))


def parse_rule_pack(data: Any, *, origin: str = "<data>") -> RulePack:
    """Validate already-parsed pack data (a mapping, as from YAML or JSON).

    Parameters
    ----------
    data : Any
        The parsed document.
    origin : str
        Where it came from, for error messages.

    Returns
    -------
    RulePack

    Raises
    ------
    RulePackError
        Naming the first offending key.
    """
    r = Reader(origin)
    top = r.mapping(
        data,
        "",
        required={"schema", "id", "label_zh", "rules"},
        optional={
            "version",
            "label_en",
            "source",
            "settings",
            "life_circles",
        },
    )
    schema = r.integer(top["schema"], "schema")
    if schema != SCHEMA_VERSION:
        raise RulePackError(origin, "schema", f"unsupported schema {schema} (expected 1)")
    pack_id = r.identifier(top["id"], "id")
    settings = _settings(r, top.get("settings", {}))
    circles = _life_circles(r, top.get("life_circles", []))
    minutes = {c.minutes for c in circles}
    rules_raw = r.sequence(top["rules"], "rules", non_empty=True)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(rules_raw):
        rule = _rule(r, raw, f"rules[{i}]", minutes)
        if rule.id in seen:
            raise RulePackError(origin, f"rules[{i}].id", f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        rules.append(rule)
    return RulePack(
        id=pack_id,
        version=r.integer(top.get("version", 1), "version", minimum=1),
        label_zh=r.text(top["label_zh"], "label_zh"),
        label_en=r.text(top.get("label_en", ""), "label_en", allow_empty=True),
        source=r.text(top.get("source", ""), "source", allow_empty=True),
        settings=settings,
        life_circles=circles,
        rules=tuple(rules),
        origin=origin,
    )


def _settings(r: Reader, raw: Any) -> dict[str, Setting]:
    m = r.mapping(raw, "settings")
    out: dict[str, Setting] = {}
    for key, value in m.items():
        path = f"settings.{key}"
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            raise RulePackError(r.origin, path, "setting names are lower_case identifiers")
        s = r.mapping(
            value, path, required={"value", "source", "verified"}, optional={"unit", "notes"}
        )
        out[key] = Setting(
            key=key,
            value=r.number(s["value"], f"{path}.value", positive=True),
            unit=r.text(s.get("unit", ""), f"{path}.unit", allow_empty=True),
            source=r.text(s["source"], f"{path}.source"),
            verified=r.boolean(s["verified"], f"{path}.verified"),
            notes=r.text(s.get("notes", ""), f"{path}.notes", allow_empty=True),
        )
    return out


def _life_circles(r: Reader, raw: Any) -> tuple[LifeCircle, ...]:
    items = r.sequence(raw, "life_circles")
    out: list[LifeCircle] = []
    for i, item in enumerate(items):
        path = f"life_circles[{i}]"
        c = r.mapping(
            item,
            path,
            required={"minutes", "distance_m", "source", "verified"},
            optional={"label_zh", "label_en", "notes"},
        )
        out.append(
            LifeCircle(
                minutes=r.integer(c["minutes"], f"{path}.minutes", minimum=1),
                distance_m=r.number(c["distance_m"], f"{path}.distance_m", positive=True),
                label_zh=r.text(c.get("label_zh", ""), f"{path}.label_zh", allow_empty=True),
                label_en=r.text(c.get("label_en", ""), f"{path}.label_en", allow_empty=True),
                source=r.text(c["source"], f"{path}.source"),
                verified=r.boolean(c["verified"], f"{path}.verified"),
                notes=r.text(c.get("notes", ""), f"{path}.notes", allow_empty=True),
            )
        )
    if len({c.minutes for c in out}) != len(out):
        raise RulePackError(r.origin, "life_circles", "minutes must be distinct")
    return tuple(sorted(out, key=lambda c: c.minutes))


def _rule(r: Reader, raw: Any, path: str, minutes: set[int]) -> Rule:
    m = r.mapping(
        raw,
        path,
        required={"id", "label_zh", "categories", "threshold_m", "source", "verified"},
        optional={"label_en", "filter", "life_circle", "age_groups", "supply", "notes"},
    )
    cats = r.sequence(m["categories"], f"{path}.categories", non_empty=True)
    categories: list[str] = []
    for j, c in enumerate(cats):
        if c not in CATEGORY_CODES:
            raise RulePackError(
                r.origin,
                f"{path}.categories[{j}]",
                f"unknown category {c!r} (known: {', '.join(CATEGORY_CODES)})",
            )
        categories.append(c)
    ages_raw = m.get("age_groups", list(AGE_GROUPS))
    ages = r.sequence(ages_raw, f"{path}.age_groups", non_empty=True)
    for j, a in enumerate(ages):
        if a not in AGE_GROUPS:
            raise RulePackError(
                r.origin,
                f"{path}.age_groups[{j}]",
                f"unknown age group {a!r} (known: {', '.join(AGE_GROUPS)})",
            )
    circle = m.get("life_circle")
    if circle is not None:
        circle = r.integer(circle, f"{path}.life_circle", minimum=1)
        if minutes and circle not in minutes:
            raise RulePackError(
                r.origin,
                f"{path}.life_circle",
                f"{circle} is not one of the pack's life circles {sorted(minutes)}",
            )
    supply = m.get("supply", "count")
    if not isinstance(supply, str) or not IDENTIFIER.match(supply):
        raise RulePackError(
            r.origin, f"{path}.supply", "must be 'count', 'area_m2' or a supply attribute name"
        )
    return Rule(
        id=r.identifier(m["id"], f"{path}.id"),
        label_zh=r.text(m["label_zh"], f"{path}.label_zh"),
        label_en=r.text(m.get("label_en", ""), f"{path}.label_en", allow_empty=True),
        categories=tuple(categories),
        filter=_filter(r, m.get("filter", {}), f"{path}.filter"),
        threshold_m=r.number(m["threshold_m"], f"{path}.threshold_m", positive=True),
        life_circle=circle,
        # Kept in the canonical order, whatever order the file lists them in.
        age_groups=tuple(a for a in AGE_GROUPS if a in ages),
        supply=supply,
        source=r.text(m["source"], f"{path}.source"),
        verified=r.boolean(m["verified"], f"{path}.verified"),
        notes=r.text(m.get("notes", ""), f"{path}.notes", allow_empty=True),
    )


def _filter(r: Reader, raw: Any, path: str) -> FacilityFilter:
    f = r.mapping(raw, path, optional={"name_any", "name_none", "min_area_m2"})
    words: dict[str, tuple[str, ...]] = {}
    for key in ("name_any", "name_none"):
        items = r.sequence(f.get(key, []), f"{path}.{key}")
        words[key] = tuple(r.text(w, f"{path}.{key}[{j}]") for j, w in enumerate(items))
    area: float | None = None
    area_source, area_verified, area_notes = "", False, ""
    if "min_area_m2" in f:
        a = r.mapping(
            f["min_area_m2"],
            f"{path}.min_area_m2",
            required={"value", "source", "verified"},
            optional={"notes"},
        )
        area = r.number(a["value"], f"{path}.min_area_m2.value", positive=True)
        area_source = r.text(a["source"], f"{path}.min_area_m2.source")
        area_verified = r.boolean(a["verified"], f"{path}.min_area_m2.verified")
        area_notes = r.text(a.get("notes", ""), f"{path}.min_area_m2.notes", allow_empty=True)
    return FacilityFilter(
        name_any=words["name_any"],
        name_none=words["name_none"],
        min_area_m2=area,
        min_area_source=area_source,
        min_area_verified=area_verified,
        min_area_notes=area_notes,
    )
