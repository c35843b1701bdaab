"""Tests for the place vocabulary and the tag/name classification rules."""

from __future__ import annotations

import pytest

from yimi.analysis.categories import (
    CATEGORY_CODES,
    CATEGORY_LABELS_EN,
    CATEGORY_LABELS_ZH,
    NAME_RULES,
    POCKET_PARK_MAX_AREA_M2,
    Classification,
    classify,
    is_generic_sport_name,
    is_poi_like,
    names_of,
)


def test_vocabulary_order_and_labels() -> None:
    assert CATEGORY_CODES == (
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
    assert list(CATEGORY_LABELS_ZH) == list(CATEGORY_CODES)
    assert list(CATEGORY_LABELS_EN) == list(CATEGORY_CODES)
    assert CATEGORY_LABELS_ZH["library"] == "图书馆/阅读空间"
    assert CATEGORY_LABELS_ZH["protection_station"] == "未成年人保护工作站"
    assert {r.category for r in NAME_RULES} <= set(CATEGORY_CODES)


# (tags, expected category or None): plain tag rules.
TAG_CASES: list[tuple[dict[str, str], str | None]] = [
    ({"leisure": "park"}, "park"),
    ({"leisure": "park", "name": "海淀公园"}, "park"),
    ({"leisure": "garden", "name": "紫荆雕塑园"}, "park"),
    ({"leisure": "garden", "access": "private"}, None),
    ({"leisure": "garden", "garden:type": "residential"}, None),
    ({"leisure": "playground"}, "playground"),
    ({"playground": "swing"}, "playground"),
    ({"amenity": "kindergarten"}, "kindergarten"),
    ({"amenity": "childcare"}, "childcare"),
    ({"amenity": "school"}, "school"),
    ({"amenity": "school", "isced:level": "0"}, "kindergarten"),
    ({"amenity": "library"}, "library"),
    ({"amenity": "toy_library"}, "library"),
    ({"shop": "books", "name": "新华书店"}, None),
    ({"shop": "books", "name": "三味书屋"}, None),
    ({"tourism": "museum"}, "museum"),
    ({"amenity": "planetarium"}, "museum"),
    ({"tourism": "science_centre"}, "museum"),
    ({"tourism": "attraction", "museum": "science"}, "museum"),
    ({"amenity": "hospital"}, "hospital"),
    ({"healthcare": "hospital"}, "hospital"),
    ({"amenity": "clinic"}, None),
    ({"amenity": "clinic", "healthcare:speciality": "paediatrics"}, "hospital"),
    ({"healthcare": "doctor", "healthcare:speciality": "general;obstetrics"}, "hospital"),
    ({"amenity": "clinic", "name": "社区妇幼门诊"}, "hospital"),
    ({"amenity": "clinic", "name": "中关村社区卫生服务站"}, None),
    ({"amenity": "doctors", "name": "小儿推拿诊所"}, "hospital"),
    ({"healthcare": "midwife"}, "hospital"),
    ({"amenity": "pharmacy", "healthcare": "pharmacy"}, None),
    ({"leisure": "sports_centre"}, "sports"),
    ({"leisure": "stadium"}, "sports"),
    ({"leisure": "sports_hall"}, "sports"),
    ({"leisure": "swimming_pool"}, "sports"),
    ({"leisure": "swimming_pool", "access": "private"}, None),
    ({"leisure": "pitch", "sport": "basketball"}, None),
    ({"leisure": "pitch", "sport": "basketball", "name": "篮球场"}, None),
    ({"leisure": "pitch", "sport": "soccer", "name": "五四足球场"}, "sports"),
    ({"leisure": "pitch", "sport": "tennis", "access": "yes"}, "sports"),
    ({"leisure": "pitch", "name": "海淀网球中心", "access": "private"}, None),
    ({"leisure": "track", "sport": "motor", "name": "金港赛道"}, None),
    ({"leisure": "fitness_centre", "name": "健身房"}, None),
    ({"amenity": "social_facility", "social_facility:for": "child"}, "children_home"),
    (
        {
            "amenity": "social_facility",
            "social_facility": "outreach",
            "social_facility:for": "juvenile",
        },
        "protection_station",
    ),
    (
        {
            "amenity": "social_facility",
            "social_facility": "group_home",
            "social_facility:for": "orphan",
        },
        "children_home",
    ),
    ({"amenity": "social_facility", "social_facility:for": "senior"}, None),
    ({"amenity": "community_centre", "community_centre:for": "child"}, "children_home"),
    ({"tourism": "zoo", "name": "北京动物园"}, "other"),
    ({"amenity": "lactation_room"}, "nursing_room"),
    ({"shop": "mall", "baby_feeding": "room"}, "nursing_room"),
    ({"amenity": "university", "name": "清华大学"}, None),
    ({"amenity": "college", "name": "清华大学五道口金融学院"}, None),
    ({"amenity": "restaurant", "name": "桃李园"}, None),
    ({"building": "school", "name": "北京大学化学学院北门"}, None),
    ({"building": "yes"}, None),
    ({}, None),
]


@pytest.mark.parametrize(("tags", "expected"), TAG_CASES)
def test_tag_rules(tags: dict[str, str], expected: str | None) -> None:
    result = classify(tags)
    assert (result.category if result else None) == expected


# Realistic Chinese mis-taggings: the name knows better than the tag.
NAME_CASES: list[tuple[dict[str, str], str | None]] = [
    ({"amenity": "school", "name": "清华大学洁华幼儿园"}, "kindergarten"),
    ({"amenity": "school", "name:zh": "实验幼儿园", "name": "Shiyan Kindergarten"}, "kindergarten"),
    ({"building": "yes", "name": "北京市第六十一保育院"}, "kindergarten"),
    ({"amenity": "kindergarten", "name": "阳光宝贝托育中心"}, "childcare"),
    ({"amenity": "school", "name": "金宝贝早教中心"}, "childcare"),
    ({"office": "company", "name": "机关托儿所"}, "childcare"),
    ({"amenity": "community_centre", "name": "学院路街道儿童之家"}, "children_home"),
    ({"amenity": "toilets", "name": "母婴室"}, "nursing_room"),
    ({"indoor": "room", "name": "三楼母婴室"}, "nursing_room"),
    ({"leisure": "park", "name": "双清路口袋公园"}, "pocket_park"),
    ({"leisure": "garden", "name": "五道口小游园"}, "pocket_park"),
    ({"leisure": "park", "name": "街心公园"}, "pocket_park"),
    ({"office": "government", "name": "海淀区未成年人保护工作站"}, "protection_station"),
    ({"amenity": "social_facility", "name": "社区未保站"}, "protection_station"),
    ({"tourism": "attraction", "name": "北京科学中心研学基地"}, "study_base"),
    ({"building": "yes", "name": "中国科学技术馆"}, "museum"),
    ({"building": "yes", "name": "中国科技馆"}, "museum"),
    ({"building": "yes", "name": "艺术博物馆"}, "museum"),
    ({"tourism": "attraction", "name": "李大钊纪念馆"}, "museum"),
    ({"building": "yes", "name": "中国美术馆"}, "museum"),
    ({"shop": "art", "name": "某某美术馆"}, None),
    ({"amenity": "community_centre", "name": "社区图书馆"}, "library"),
    ({"building": "yes", "name": "农家书屋"}, "library"),
    ({"amenity": "library", "name": "海淀区图书馆（北馆）"}, "library"),
    ({"building": "yes", "name": "北京妇幼保健院"}, "hospital"),
    ({"amenity": "hospital", "name": "首都儿科研究所附属儿童医院"}, "hospital"),
    ({"amenity": "school", "name": "清华大学附属中学"}, "school"),
    ({"amenity": "university", "name": "北京师范大学附属实验中学"}, "school"),
    ({"building": "yes", "name": "中关村第一小学"}, "school"),
    ({"amenity": "school", "name": "北京理工大学"}, None),
    ({"amenity": "school", "name": "海淀职业技术学院"}, None),
    ({"amenity": "school", "name": "东方时尚驾驶学校"}, None),
    ({"amenity": "school", "name": "老年大学"}, None),
    ({"amenity": "school", "name": "北京外国语大学附属外国语学校"}, "school"),
    ({"amenity": "school", "name": "诗雅艺术学校"}, "school"),
    ({"leisure": "playground", "name": "棒球场"}, "sports"),
    ({"leisure": "playground", "name": "清华附中操场"}, "sports"),
    ({"leisure": "stadium", "name": "清华附中操场"}, "sports"),
    ({"building": "yes", "name": "篮球馆"}, "sports"),
    ({"leisure": "fitness_centre", "name": "西区体育馆"}, "sports"),
    ({"amenity": "community_centre", "name": "海淀区青少年活动中心"}, "other"),
    ({"shop": "toys", "name": "欢乐儿童乐园"}, "playground"),
]


@pytest.mark.parametrize(("tags", "expected"), NAME_CASES)
def test_name_rules_override_tags(tags: dict[str, str], expected: str | None) -> None:
    result = classify(tags)
    assert (result.category if result else None) == expected


# Names that mislead: roads, stops, stations, gates, estates and sub-facilities named after a
# place, and features that are not POIs at all.
MISLEADING_CASES: list[dict[str, str]] = [
    {"highway": "residential", "name": "幼儿园路"},
    {"highway": "bus_stop", "name": "实验幼儿园", "public_transport": "platform"},
    {"public_transport": "stop_position", "name": "清华附中"},
    {"railway": "station", "name": "国家图书馆", "public_transport": "stop_position"},
    {"railway": "subway_entrance", "name": "国家图书馆站A口"},
    {"type": "route", "route": "bus", "name": "Bus 86: 航天桥北 => 国家体育馆"},
    {"place": "neighbourhood", "name": "少年宫"},
    {"landuse": "residential", "name": "幼儿园小区"},
    {"barrier": "gate", "name": "科技馆东门"},
    {"amenity": "parking", "name": "科技馆东门"},
    {"amenity": "parking", "name": "图书馆停车场"},
    {"building": "yes", "name": "图书馆站"},
    {"amenity": "bus_station", "name": "儿童医院站"},
    {"building": "yes", "name": "幼儿园路口"},
    {"office": "company", "name": "北京早教科技公司"},
    {"amenity": "restaurant", "name": "清华附中食堂"},
    {"building": "apartments", "name": "实验小学宿舍"},
    {"building": "yes", "name": "博物馆(南门)"},
    {"building": "yes", "name": "原幼儿园旧址"},
    {"building": "residential", "name": "图书馆小区"},
    {"amenity": "cafe", "name": "图书馆咖啡店"},
    {"natural": "water", "name": "未名湖"},
    # University faculty buildings in the sample, not science museums.
    {"building": "yes", "name": "科学馆", "name:en": "Science Bldg"},
    {"building": "yes", "name": "生命科学馆"},
]


@pytest.mark.parametrize("tags", MISLEADING_CASES)
def test_misleading_names_do_not_match(tags: dict[str, str]) -> None:
    assert classify(tags) is None


def test_keyword_ending_in_a_tail_character_still_matches() -> None:
    # 工作站 ends with 站, but the tail check looks only at what follows the keyword.
    cls = classify({"office": "ngo", "name": "学院路街道未成年人保护工作站"})
    assert cls is not None and cls.category == "protection_station"


def test_reason_is_short_chinese() -> None:
    cls = classify({"amenity": "school", "name": "清华大学洁华幼儿园"})
    assert cls == Classification("kindergarten", "标签 amenity=school；名称含“幼儿园”→ 幼儿园")
    cls = classify({"amenity": "library"})
    assert cls == Classification("library", "标签 amenity=library→ 图书馆/阅读空间")
    cls = classify({"building": "yes", "name": "艺术博物馆"})
    assert cls is not None and cls.reason == "标签 building=yes；名称含“博物馆”→ 博物馆/科技馆"


def test_pocket_park_by_area() -> None:
    assert POCKET_PARK_MAX_AREA_M2 == 10_000.0
    small = classify({"leisure": "park"}, area_m2=4_386.0)
    assert small is not None and small.category == "pocket_park"
    assert "面积" in small.reason
    big = classify({"leisure": "park"}, area_m2=10_568.0)
    assert big is not None and big.category == "park"
    boundary = classify({"leisure": "park"}, area_m2=POCKET_PARK_MAX_AREA_M2)
    assert boundary is not None and boundary.category == "park"
    # A point park has no area: it stays a park.
    point = classify({"leisure": "park"})
    assert point is not None and point.category == "park"
    # Area does not turn other categories into pocket parks.
    school = classify({"amenity": "school"}, area_m2=500.0)
    assert school is not None and school.category == "school"


def test_name_keys_in_preference_order() -> None:
    tags = {"name": "Kindergarten", "name:zh": "幼儿园甲", "name:zh-Hans": "幼儿园乙"}
    assert names_of(tags) == ["幼儿园乙", "幼儿园甲", "Kindergarten"]
    # A name rule matches on any of the three.
    cls = classify({"amenity": "school", "name": "Jiehua Kindergarten", "name:zh": "洁华幼儿园"})
    assert cls is not None and cls.category == "kindergarten"


def test_poi_like_and_generic_names() -> None:
    assert is_poi_like({"amenity": "school"})
    assert not is_poi_like({"highway": "bus_stop", "amenity": "shelter"})
    assert not is_poi_like({"landuse": "residential"})
    assert not is_poi_like({"sport": "basketball"})
    assert is_generic_sport_name("篮球场")
    assert is_generic_sport_name("3号网球场")
    assert is_generic_sport_name("操场")
    assert not is_generic_sport_name("东大操场")
    assert not is_generic_sport_name("篮球馆")


def test_every_name_rule_keyword_classifies_a_building() -> None:
    # Guards the rule table: each keyword, as a bare building name, yields its rule's category
    # (or an earlier rule's, when one keyword contains another's).
    for rule in NAME_RULES:
        for keyword in rule.keywords:
            cls = classify({"building": "yes", "name": f"某某{keyword}"})
            assert cls is not None, keyword
            assert CATEGORY_CODES.index(cls.category) >= 0
            if cls.category != rule.category:
                earlier = [r for r in NAME_RULES[: NAME_RULES.index(rule)] if r is not rule]
                assert any(any(k in keyword for k in r.keywords) for r in earlier), keyword
