"""Yimi's fixed vocabulary of child-friendly places and the rules that map OSM tags onto it.

Tag rules come first in the data model, but Chinese name rules override them, because real
Chinese OSM data is often mis-tagged (a 幼儿园 tagged ``amenity=school`` is common).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "CATEGORY_CODES",
    "CATEGORY_LABELS_EN",
    "CATEGORY_LABELS_ZH",
    "MISLEADING_TAILS",
    "NAME_KEYS",
    "NAME_RULES",
    "POCKET_PARK_MAX_AREA_M2",
    "Classification",
    "NameRule",
    "classify",
    "is_generic_sport_name",
    "is_poi_like",
    "is_transport",
    "names_of",
    "normalise_name",
]

# The order is part of the public contract: menus, legends and reports list categories in it.
CATEGORY_CODES: tuple[str, ...] = (
    "park",
    "playground",
    "pocket_park",
    "children_home",
    "library",
    "museum",
    "school",
    "kindergarten",
    "childcare",
    "hospital",
    "nursing_room",
    "sports",
    "study_base",
    "protection_station",
    "other",
)

CATEGORY_LABELS_ZH: dict[str, str] = {
    "park": "公园",
    "playground": "儿童游乐场",
    "pocket_park": "口袋公园",
    "children_home": "儿童之家",
    "library": "图书馆/阅读空间",
    "museum": "博物馆/科技馆",
    "school": "学校",
    "kindergarten": "幼儿园",
    "childcare": "托育机构",
    "hospital": "医院/儿童保健",
    "nursing_room": "母婴室",
    "sports": "体育场馆",
    "study_base": "研学基地",
    "protection_station": "未成年人保护工作站",
    "other": "其他",
}

CATEGORY_LABELS_EN: dict[str, str] = {
    "park": "Park",
    "playground": "Children's playground",
    "pocket_park": "Pocket park",
    "children_home": "Children's home (community)",
    "library": "Library / reading space",
    "museum": "Museum / science centre",
    "school": "School",
    "kindergarten": "Kindergarten",
    "childcare": "Childcare centre",
    "hospital": "Hospital / child health care",
    "nursing_room": "Nursing room",
    "sports": "Sports venue",
    "study_base": "Study-tour base",
    "protection_station": "Minor protection station",
    "other": "Other",
}

# GB/T 51346-2019 (城市绿地规划标准) and city pocket-park guides (e.g. 北京、上海口袋公园建设
# 导则) put pocket parks (口袋公园/小游园) at roughly 400–10,000 m²; a mapped park below the upper
# bound is a pocket park. Parks below 400 m² are kept as pocket parks too: tiny, but still a place.
POCKET_PARK_MAX_AREA_M2: float = 10_000.0

# Name tags to read, in order of preference for Chinese (the first is what we show).
NAME_KEYS: tuple[str, ...] = ("name:zh-Hans", "name:zh", "name")


@dataclass(frozen=True)
class Classification:
    """The category of a place and a short Chinese explanation of why.

    Attributes
    ----------
    category : str
        One of :data:`CATEGORY_CODES`.
    reason : str
        Short Chinese text, e.g. ``标签 amenity=school；名称含“幼儿园”→ 幼儿园``.
    """

    category: str
    reason: str


@dataclass(frozen=True)
class NameRule:
    """One name rule: a name containing any keyword (with a harmless tail) means ``category``.

    Attributes
    ----------
    category : str
        The category the rule assigns.
    keywords : tuple of str
        Substrings of the (NFKC-normalised) name; the first matching keyword is reported.
    unless_keys : tuple of str
        The rule does not apply to features carrying any of these keys (e.g. ``shop``: a
        bookshop called 某某书屋 sells books, it is not a public reading room).
    """

    category: str
    keywords: tuple[str, ...]
    unless_keys: tuple[str, ...] = ()


# Checked in this order; the first rule with a matching keyword wins. More specific institutions
# come before generic ones (a 中学附属幼儿园 is a kindergarten; a 小学图书馆 is a library).
NAME_RULES: tuple[NameRule, ...] = (
    NameRule(
        "protection_station",
        (
            "未成年人保护工作站",
            "未成年人保护站",
            "未成年人保护中心",
            "未成年人救助保护中心",
            "未保站",
        ),
    ),
    NameRule("children_home", ("儿童之家", "儿童服务站")),
    NameRule("nursing_room", ("母婴室", "母婴休息室", "母婴关爱室", "哺乳室", "爱心妈妈小屋")),
    NameRule("childcare", ("托育", "托儿所", "早教", "日托")),
    # 保育院 is what several Beijing kindergartens are called (e.g. 北京市第六十一保育院).
    NameRule("kindergarten", ("幼儿园", "幼稚园", "保育院")),
    NameRule("pocket_park", ("口袋公园", "小游园", "街心公园", "街心花园", "街头游园", "街旁游园")),
    # 研学 alone would match 考研学校, hence the longer keywords.
    NameRule(
        "study_base",
        (
            "研学基地",
            "研学实践",
            "研学营地",
            "研学旅行",
            "实践基地",
            "科普基地",
            "科普教育基地",
            "教育基地",
        ),
    ),
    NameRule(
        "museum",
        (
            "科技馆",
            "科学技术馆",
            "博物馆",
            "博物院",
            "美术馆",
            "纪念馆",
            "陈列馆",
            "展览馆",
            "天文馆",
            "科学中心",
        ),
        # Not 科学馆: on campuses that is a faculty building (清华 科学馆 "Science Bldg").
        unless_keys=("shop",),
    ),
    NameRule(
        "library",
        ("图书馆", "书屋", "阅览室", "城市书房", "阅读空间"),
        unless_keys=("shop",),
    ),
    NameRule("hospital", ("妇幼保健", "儿童医院", "妇产医院", "妇儿医院", "儿童保健", "儿科")),
    # Not in the original brief, but mis-tagged schools (building=yes + name) are common and the
    # markers are unambiguous; 学校 alone is not used (驾驶学校, 党校, 培训学校).
    NameRule(
        "school",
        (
            "小学",
            "中学",
            "附中",
            "附小",
            "实验学校",
            "外国语学校",
            "特殊教育学校",
            "培智学校",
            "一贯制学校",
        ),
    ),
    NameRule(
        "sports",
        (
            "体育馆",
            "体育场",
            "体育中心",
            "游泳馆",
            "全民健身中心",
            "运动场",
            "操场",
            "田径场",
            "球场",
            "球馆",
        ),
    ),
    NameRule("playground", ("儿童乐园", "儿童游乐")),
    # Youth/children's activity centres (少年宫) are child places without a category of their own.
    NameRule("other", ("少年宫", "青少年宫", "青少年活动中心", "儿童活动中心")),
)

# A name whose part after the keyword ends with one of these names something else: a road
# (幼儿园路), a stop (图书馆站), a gate (科技馆东门), a housing estate, a firm, a canteen...
# Matching on the remainder (not the whole name) keeps keywords that themselves end in 站.
MISLEADING_TAILS: tuple[str, ...] = (
    "路",
    "街",
    "大街",
    "道",
    "巷",
    "胡同",
    "弄",
    "路口",
    "口",
    "门",
    "桥",
    "站",
    "线",
    "小区",
    "社区",
    "公寓",
    "宿舍",
    "家属院",
    "家属楼",
    "大厦",
    "公司",
    "集团",
    "酒店",
    "宾馆",
    "饭店",
    "餐厅",
    "食堂",
    "超市",
    "店",
    "停车场",
    "车库",
    "广场",
    "操场",
    "厕所",
    "卫生间",
    "公厕",
    "旧址",
    "遗址",
    "方向",
)

# Keys that make a feature a point of interest to which name rules may apply. sport=* is not
# one: it describes a feature, and nodes with only sport=* and a name (篮球场) are map labels.
_POI_KEYS: frozenset[str] = frozenset(
    {
        "amenity",
        "leisure",
        "tourism",
        "shop",
        "office",
        "healthcare",
        "building",
        "club",
        "social_facility",
        "historic",
        "education",
        "craft",
        "indoor",
        "room",
        "emergency",
    }
)
# Transport features are named after what they serve (图书馆站, 清华附中 bus stop): never places.
_TRANSPORT_KEYS: tuple[str, ...] = (
    "highway",
    "public_transport",
    "railway",
    "aeroway",
    "aerialway",
    "route",
    "route_master",
)

# Markers in a school's name that say it is for adults, in the order they are checked.
_ADULT_ALWAYS = ("驾校", "驾驶", "党校", "老年", "成人", "干部")
_CHILD_SCHOOL = ("小学", "中学", "附中", "附小", "学校", "幼儿园", "学前")
_ADULT_SCHOOL = ("大学", "学院", "研究生院", "研究院", "研究所")

# A sports ground whose "name" only says what it is (篮球场, 2号网球场, 操场) is unnamed for our
# purposes: a campus has dozens, and none is a destination of its own.
_GENERIC_SPORT_NAME = re.compile(
    r"(?:篮|足|网|排|羽毛|乒乓|棒|垒|手|沙滩排|沙滩|门|橄榄|曲棍|冰|高尔夫|室内|室外|笼式)?球场"
    r"|操场|运动场|田径场|游泳池|泳池|健身场地?|体育场地"
)
_NAME_DIGITS = re.compile(r"[\s\d#＃号號.\-()]+")
# Words in a leisure=playground's name that say it is a sports ground (操场 is "playground" in
# Chinese English, so school sports grounds are often tagged leisure=playground).
_SPORTS_GROUND_WORDS = ("操场", "运动场", "田径场", "球场")

_BRACKETS = re.compile(r"[()\[\]{}<>«»【】〔〕〈〉《》「」『』]")

_CHILD_HEALTH_SPECIALITIES = (
    "paediatrics",
    "pediatrics",
    "neonatology",
    "obstetrics",
    "gynaecology",
)
_CHILD_HEALTH_WORDS = ("儿科", "儿童", "小儿", "妇幼", "妇产", "产科", "母婴", "婴幼")
_CHILD_FOR = ("child", "children", "juvenile", "orphan", "youth", "minor")
_PROTECTION_FACILITIES = ("outreach", "social_service", "counselling", "protection")
_PUBLIC_ACCESS = ("yes", "public", "permissive", "designated")
_PRIVATE_ACCESS = ("private", "no")
_MOTOR_SPORTS = ("motor", "karting", "motocross", "horse_racing", "dog_racing", "speedway")


def normalise_name(name: str) -> str:
    """Return ``name`` in the form rules and comparisons use.

    Parameters
    ----------
    name : str
        A raw OSM name.

    Returns
    -------
    str
        NFKC-normalised (full-width brackets and digits become ASCII), case-folded and stripped.
    """
    return unicodedata.normalize("NFKC", name).strip().casefold()


def names_of(tags: Mapping[str, str]) -> list[str]:
    """Return the distinct non-empty names of a feature in :data:`NAME_KEYS` order.

    Parameters
    ----------
    tags : Mapping[str, str]
        OSM tags.

    Returns
    -------
    list of str
        Raw names (not normalised), duplicates removed.
    """
    out: list[str] = []
    for key in NAME_KEYS:
        value = (tags.get(key) or "").strip()
        if value and value not in out:
            out.append(value)
    return out


def is_generic_sport_name(name: str) -> bool:
    """Whether a name only says what kind of sports ground it is (篮球场, 3号网球场, 操场).

    Parameters
    ----------
    name : str
        A raw name.

    Returns
    -------
    bool
        True for generic sports-ground names, which count as no name.
    """
    return bool(_GENERIC_SPORT_NAME.fullmatch(_NAME_DIGITS.sub("", normalise_name(name))))


def is_transport(tags: Mapping[str, str]) -> bool:
    """Whether the feature is a road, stop, station, platform or route.

    Parameters
    ----------
    tags : Mapping[str, str]
        OSM tags.

    Returns
    -------
    bool
        True for ``highway``/``public_transport``/``railway``/… features and route relations.
    """
    if any(k in tags for k in _TRANSPORT_KEYS):
        return True
    return tags.get("type") in ("route", "route_master", "public_transport")


def is_poi_like(tags: Mapping[str, str]) -> bool:
    """Whether name rules may apply: a POI key is present and it is not a transport feature.

    Parameters
    ----------
    tags : Mapping[str, str]
        OSM tags.

    Returns
    -------
    bool
        False for roads, stops, stations, route relations and features that only carry
        ``place=*``, ``landuse=*`` or ``natural=*`` (their names name a district, not a place).
    """
    if is_transport(tags):
        return False
    return any(k in tags for k in _POI_KEYS)


def _remainder_misleads(remainder: str) -> bool:
    """Whether the text after a keyword says the feature is something else (路, 站, 东门…)."""
    tail = _BRACKETS.sub("", remainder).strip()
    return bool(tail) and tail.endswith(MISLEADING_TAILS)


def _match_name(norm: str, rule: NameRule) -> str | None:
    """Return the keyword of ``rule`` that the normalised name ``norm`` matches, or None."""
    for keyword in rule.keywords:
        at = norm.rfind(keyword)
        if at < 0:
            continue
        if _remainder_misleads(norm[at + len(keyword) :]):
            continue
        return keyword
    return None


def _tag_text(tags: Mapping[str, str], *keys: str) -> str:
    return "、".join(f"{k}={tags[k]}" for k in keys if k in tags)


def _main_tag_text(tags: Mapping[str, str]) -> str:
    """The tag that best says what the feature is, for the reason text."""
    for key in ("amenity", "leisure", "tourism", "healthcare", "social_facility", "shop", "office"):
        if key in tags:
            return f"{key}={tags[key]}"
    for key in sorted(_POI_KEYS):
        if key in tags:
            return f"{key}={tags[key]}"
    return ""


def _is_adult_school_name(names: list[str]) -> bool:
    """Whether any name says the school is a university, college or adult school."""
    for raw in names:
        name = normalise_name(raw)
        if any(m in name for m in _ADULT_ALWAYS):
            return True
        if any(m in name for m in _CHILD_SCHOOL):
            continue
        if any(m in name for m in _ADULT_SCHOOL):
            return True
    return False


def _values(tags: Mapping[str, str], key: str) -> list[str]:
    """Semicolon-separated values of ``key``, stripped and lower-cased."""
    return [v.strip().lower() for v in (tags.get(key) or "").split(";") if v.strip()]


def _for_children(tags: Mapping[str, str], key: str) -> bool:
    return any(v in _CHILD_FOR for v in _values(tags, key))


# Each tag rule returns (category, tag text) or None. Checked in order; the first result wins.
_TagRule = Callable[[Mapping[str, str], list[str]], tuple[str, str] | None]


def _rule_social(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    # A social facility for children is either a protection/outreach service (未成年人保护
    # 工作站) or a place children stay or spend time in (儿童之家, children's homes).
    if tags.get("amenity") == "social_facility" or "social_facility" in tags:
        if not _for_children(tags, "social_facility:for"):
            return None
        text = _tag_text(tags, "amenity", "social_facility", "social_facility:for")
        kind = tags.get("social_facility", "")
        if kind in _PROTECTION_FACILITIES:
            return "protection_station", text
        if kind == "day_care":
            return "childcare", text
        return "children_home", text
    if tags.get("amenity") == "community_centre":
        if _for_children(tags, "community_centre:for"):
            return "children_home", _tag_text(tags, "amenity", "community_centre:for")
        if tags.get("community_centre") == "youth_centre":
            return "other", _tag_text(tags, "amenity", "community_centre")
    return None


def _rule_education(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    amenity = tags.get("amenity")
    if amenity == "kindergarten":
        return "kindergarten", "amenity=kindergarten"
    if amenity == "childcare":
        return "childcare", "amenity=childcare"
    if amenity == "school":
        # ISCED level 0 is pre-primary education: a kindergarten tagged as a school.
        if "0" in _values(tags, "isced:level"):
            return "kindergarten", _tag_text(tags, "amenity", "isced:level")
        if _is_adult_school_name(names):
            return None
        return "school", "amenity=school"
    return None


def _rule_library(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    # shop=books is deliberately not a library: 图书馆/阅读空间 means a place to read for free;
    # bookshops that are public reading rooms are caught by name (城市书房, 阅读空间) instead.
    if tags.get("amenity") in ("library", "toy_library"):
        return "library", _tag_text(tags, "amenity")
    return None


def _rule_museum(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    if tags.get("tourism") in ("museum", "science_centre"):
        return "museum", _tag_text(tags, "tourism")
    if tags.get("amenity") in ("planetarium", "science_centre"):
        return "museum", _tag_text(tags, "amenity")
    if tags.get("museum") == "science":
        return "museum", "museum=science"
    return None


def _rule_health(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    # General hospitals count as 医院/儿童保健: children are treated there (most Chinese cities
    # have few children's hospitals, and 儿科 is a department of the general hospital).
    if tags.get("amenity") == "hospital" or tags.get("healthcare") == "hospital":
        return "hospital", _tag_text(tags, "amenity", "healthcare")
    if tags.get("healthcare") in ("midwife", "birthing_centre"):
        return "hospital", _tag_text(tags, "healthcare")
    # Clinics and doctors only with a child or maternity hint: ordinary clinics are not places
    # a child-friendly map should list.
    if tags.get("amenity") in ("clinic", "doctors") or tags.get("healthcare") in (
        "clinic",
        "doctor",
        "centre",
    ):
        specialities = _values(tags, "healthcare:speciality")
        if any(s in _CHILD_HEALTH_SPECIALITIES for s in specialities):
            return "hospital", _tag_text(tags, "amenity", "healthcare", "healthcare:speciality")
        if any(w in normalise_name(n) for n in names for w in _CHILD_HEALTH_WORDS):
            return "hospital", _tag_text(tags, "amenity", "healthcare") + "（名称含儿科/妇幼字样）"
    return None


def _rule_play(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    if tags.get("leisure") == "playground":
        word = next((w for n in names for w in _SPORTS_GROUND_WORDS if w in n), None)
        if word is not None:
            return "sports", f"leisure=playground；名称含“{word}”"
        return "playground", "leisure=playground"
    if "playground" in tags and "leisure" not in tags:
        # Playground equipment (playground=swing) outside a mapped playground is still one;
        # equipment inside a mapped playground is merged into it by the reader.
        return "playground", f"playground={tags['playground']}"
    return None


def _rule_park(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    leisure = tags.get("leisure")
    if leisure == "park":
        return "park", "leisure=park"
    if leisure == "garden":
        # Only public gardens: private and residential (小区) gardens are not open to children.
        if tags.get("access") in _PRIVATE_ACCESS:
            return None
        if tags.get("garden:type") in ("residential", "private"):
            return None
        return "park", "leisure=garden"
    return None


def _rule_sports(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    leisure = tags.get("leisure")
    access = tags.get("access")
    if leisure in ("sports_centre", "stadium", "sports_hall", "ice_rink"):
        return "sports", f"leisure={leisure}"
    if leisure == "swimming_pool":
        # Hotel and private pools are mapped too; they are not open to children.
        if access in _PRIVATE_ACCESS:
            return None
        return "sports", "leisure=swimming_pool"
    if leisure in ("pitch", "track"):
        # Unnamed pitches are mostly single courts inside a campus or compound: counting each
        # would inflate 体育场馆 tenfold. A named or explicitly public pitch is a destination.
        if access in _PRIVATE_ACCESS:
            return None
        if any(v in _MOTOR_SPORTS for v in _values(tags, "sport")):
            return None
        if any(not is_generic_sport_name(n) for n in names) or access in _PUBLIC_ACCESS:
            return "sports", f"leisure={leisure}"
    return None


def _rule_other(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    if tags.get("tourism") in ("zoo", "aquarium", "theme_park"):
        return "other", _tag_text(tags, "tourism")
    if tags.get("leisure") == "water_park":
        return "other", "leisure=water_park"
    return None


def _rule_nursing(tags: Mapping[str, str], names: list[str]) -> tuple[str, str] | None:
    # There is no approved tag for a nursing room; these are the ones in use. baby_feeding=room
    # on a mall means the mall has one, which is what a parent looking for 母婴室 needs.
    if tags.get("amenity") in ("lactation_room", "nursing_room", "baby_care"):
        return "nursing_room", _tag_text(tags, "amenity")
    if tags.get("baby_feeding") == "room":
        return "nursing_room", "baby_feeding=room"
    return None


_TAG_RULES: tuple[_TagRule, ...] = (
    _rule_social,
    _rule_education,
    _rule_library,
    _rule_museum,
    _rule_health,
    _rule_play,
    _rule_park,
    _rule_sports,
    _rule_other,
    _rule_nursing,
)


def _apply_area(category: str, area_m2: float | None) -> tuple[str, str]:
    """Turn a small park into a pocket park; returns (category, extra reason)."""
    if category == "park" and area_m2 is not None and area_m2 < POCKET_PARK_MAX_AREA_M2:
        return "pocket_park", f"面积{area_m2:,.0f} m²<{POCKET_PARK_MAX_AREA_M2:,.0f} m²"
    return category, ""


def classify(tags: Mapping[str, str], *, area_m2: float | None = None) -> Classification | None:
    """Classify an OSM feature into Yimi's place vocabulary.

    Parameters
    ----------
    tags : Mapping[str, str]
        The feature's OSM tags.
    area_m2 : float, optional
        Its area in square metres where it is an area (turns small parks into pocket parks).

    Returns
    -------
    Classification or None
        The category and a short Chinese reason, or None when the feature is not a
        child-friendly place.

    Notes
    -----
    Name rules (:data:`NAME_RULES`) override tag rules but apply only to POI-like features
    (:func:`is_poi_like`), and only when the text after the keyword does not end with one of
    :data:`MISLEADING_TAILS`. Universities and colleges are not schools for children.
    """
    if not tags:
        return None
    names = names_of(tags)
    tag_hit: tuple[str, str] | None = None
    for rule in _TAG_RULES:
        tag_hit = rule(tags, names)
        if tag_hit is not None:
            break

    proper_names = [normalise_name(n) for n in names if not is_generic_sport_name(n)]
    if proper_names and is_poi_like(tags):
        for name_rule in NAME_RULES:
            if any(k in tags for k in name_rule.unless_keys):
                continue
            keyword = next((kw for n in proper_names if (kw := _match_name(n, name_rule))), None)
            if keyword is None:
                continue
            label = CATEGORY_LABELS_ZH[name_rule.category]
            # Only the tag itself: a tag rule's own name remark would repeat the name rule's.
            tag_text = tag_hit[1].split("；")[0] if tag_hit else _main_tag_text(tags)
            return Classification(
                name_rule.category, f"标签 {tag_text}；名称含“{keyword}”→ {label}"
            )

    if tag_hit is None:
        return None
    category, extra = _apply_area(tag_hit[0], area_m2)
    reason = f"标签 {tag_hit[1]}"
    if extra:
        reason += f"；{extra}"
    return Classification(category, f"{reason}→ {CATEGORY_LABELS_ZH[category]}")
