"""Tests for the rule packs: the shipped life-circle and safety packs, and validation errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from yimi.analysis.access.ages import AGE_GROUPS
from yimi.analysis.access.rulepack import (
    DEFAULT_RULE_PACK,
    RulePackError,
    load_rule_pack,
    parse_rule_pack,
)
from yimi.analysis.access.safe_routes import (
    DEFAULT_SAFETY_RULES,
    load_safety_rules,
    parse_safety_rules,
)
from yimi.analysis.categories import CATEGORY_CODES
from yimi.analysis.osm import read_osm


def shipped() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_RULE_PACK.read_text(encoding="utf-8"))


def test_shipped_pack_loads_with_the_standard_distances() -> None:
    pack = load_rule_pack()
    assert pack.id == "life_circle"
    assert pack.distances_m == (300.0, 500.0, 1000.0)
    assert [c.minutes for c in pack.life_circles] == [5, 10, 15]
    expected = {
        "childcare": 300,
        "kindergarten": 300,
        "primary_school": 500,
        "middle_school": 1000,
        "playground": 300,
        "community_park": 500,
        "district_park": 1000,
        "community_health": 1000,
    }
    for rule_id, threshold in expected.items():
        assert pack.rule(rule_id).threshold_m == threshold
    for rule in pack.rules:
        assert rule.source and isinstance(rule.verified, bool)
        assert set(rule.categories) <= set(CATEGORY_CODES)
        assert set(rule.age_groups) <= set(AGE_GROUPS)
        # Every distance sits in a life circle of the pack.
        assert rule.life_circle is not None
        assert rule.threshold_m == pack.life_circle(rule.life_circle).distance_m
    assert pack.walking_speed_m_per_min == 60.0
    assert pack.rule("middle_school").minutes(pack.walking_speed_m_per_min) == pytest.approx(
        1000 / 60
    )
    with pytest.raises(KeyError, match="no rule 'nope'"):
        pack.rule("nope")


def test_school_name_filters_split_primary_and_middle() -> None:
    pack = load_rule_pack()
    primary, middle = pack.rule("primary_school"), pack.rule("middle_school")
    cases = {
        "清华附小": (True, False),
        "中关村第一小学": (True, False),
        "中关村中学": (False, True),
        "清华大学附属中学": (False, True),
        "北京市十一学校一贯制": (True, True),
        "北京市第一〇一高级中学": (False, False),
        "海淀职业中学": (False, False),
        "诗雅艺术学校": (False, False),
        None: (False, False),
    }
    for name, (p, m) in cases.items():
        assert primary.matches("school", name, None) is p, name
        assert middle.matches("school", name, None) is m, name
    # The category must match too: a kindergarten named 小学 stays a kindergarten.
    assert not primary.matches("kindergarten", "某小学附属幼儿园", None)


def test_area_filter_needs_a_known_area() -> None:
    rule = load_rule_pack().rule("district_park")
    assert rule.matches("park", "大公园", 60_000.0)
    assert not rule.matches("park", "小公园", 20_000.0)
    assert not rule.matches("park", "点状公园", None)
    assert not rule.matches("park", "点状公园", float("nan"))


def test_real_sample_schools_are_split_by_name(sample_osm_path: Path) -> None:
    places = read_osm(sample_osm_path).places
    pack = load_rule_pack()
    schools = [p.name for p in places if p.category == "school"]
    primary = [n for n in schools if pack.rule("primary_school").matches("school", n, None)]
    middle = [n for n in schools if pack.rule("middle_school").matches("school", n, None)]
    assert primary == ["清华附小"]
    assert "中关村中学" in middle and "清华大学附属中学" in middle
    assert not set(primary) & set(middle)


def mutate(path: str, value: Any) -> dict[str, Any]:
    """The shipped pack with one key replaced (``value=...`` deletes it)."""
    data = copy.deepcopy(shipped())
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "key", "message"),
    [
        ("rules.1.threshold_m", "300m", "rules[1].threshold_m", "must be a number"),
        ("rules.1.threshold_m", -5, "rules[1].threshold_m", "must be positive"),
        ("rules.1.threshold_m", True, "rules[1].threshold_m", "must be a number"),
        ("rules.1.threshold_m", ..., "rules[1].threshold_m", "is required"),
        ("rules.0.categories", ["kindergarden"], "rules[0].categories[0]", "unknown category"),
        ("rules.0.categories", [], "rules[0].categories", "must not be empty"),
        ("rules.0.age_groups", ["3-7"], "rules[0].age_groups[0]", "unknown age group"),
        ("rules.0.life_circle", 20, "rules[0].life_circle", "not one of the pack's"),
        ("rules.0.verified", "yes", "rules[0].verified", "must be true or false"),
        ("rules.0.source", "", "rules[0].source", "must not be empty"),
        ("rules.0.tresholds", 300, "rules[0].tresholds", "unknown key"),
        ("rules.0.id", "Kindergarten", "rules[0].id", "identifier"),
        ("rules.2.filter.name_any", "小学", "rules[2].filter.name_any", "must be a list"),
        ("rules.6.filter.min_area_m2", 10000, "rules[6].filter.min_area_m2", "mapping"),
        (
            "rules.6.filter.min_area_m2.verified",
            ...,
            "rules[6].filter.min_area_m2.verified",
            "is required",
        ),
        ("rules.0.supply", "seats per 1000", "rules[0].supply", "supply attribute"),
        ("life_circles.1.distance_m", "500", "life_circles[1].distance_m", "must be a number"),
        (
            "settings.walking_speed_m_per_min.value",
            0,
            "settings.walking_speed_m_per_min.value",
            "positive",
        ),
        ("schema", 2, "schema", "unsupported schema"),
        ("rules", [], "rules", "must not be empty"),
        ("label_zh", ..., "label_zh", "is required"),
    ],
)
def test_validation_errors_name_the_key(path: str, value: Any, key: str, message: str) -> None:
    with pytest.raises(RulePackError, match=message) as err:
        parse_rule_pack(mutate(path, value), origin="test.yaml")
    assert err.value.key == key
    assert str(err.value).startswith(f"test.yaml: {key}: ")


def test_duplicate_rule_ids_are_rejected() -> None:
    data = shipped()
    data["rules"][1]["id"] = data["rules"][0]["id"]
    with pytest.raises(RulePackError, match="duplicate rule id") as err:
        parse_rule_pack(data)
    assert err.value.key == "rules[1].id"


def test_loading_a_file_and_yaml_errors(tmp_path: Path) -> None:
    good = tmp_path / "pack.yaml"
    data = shipped()
    data["rules"] = data["rules"][:2]
    data["rules"][0]["threshold_m"] = 250
    good.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pack = load_rule_pack(good)
    assert pack.origin == str(good)
    assert [r.id for r in pack.rules] == ["childcare", "kindergarten"]
    assert pack.rules[0].threshold_m == 250.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(RulePackError, match="not valid YAML"):
        load_rule_pack(bad)
    with pytest.raises(RulePackError, match="must be a mapping"):
        parse_rule_pack(["not", "a", "mapping"])


def test_age_groups_are_kept_in_canonical_order() -> None:
    data = shipped()
    data["rules"][4]["age_groups"] = ["6-12", "0-3"]
    assert parse_rule_pack(data).rules[4].age_groups == ("0-3", "6-12")


def test_shipped_safety_rules_load_and_validate() -> None:
    rules = load_safety_rules()
    assert (
        rules.road_class("primary").crossing_penalty_m
        > rules.road_class("secondary").crossing_penalty_m
        > rules.road_class("residential").crossing_penalty_m
    )
    assert rules.road_class("footway").crossing_penalty_m == 0
    assert rules.road_class("no_such_highway") is rules.default
    assert 0 < rules.signals_factor <= rules.marked_factor <= 1
    data = yaml.safe_load(DEFAULT_SAFETY_RULES.read_text(encoding="utf-8"))
    data["classes"][0]["along"] = 0.8
    with pytest.raises(RulePackError, match="at least 1") as err:
        parse_safety_rules(data)
    assert err.value.key == "classes[0].along"
    data = yaml.safe_load(DEFAULT_SAFETY_RULES.read_text(encoding="utf-8"))
    data["classes"][1]["highways"] = ["footway"]
    with pytest.raises(RulePackError, match="listed twice"):
        parse_safety_rules(data)
    data = yaml.safe_load(DEFAULT_SAFETY_RULES.read_text(encoding="utf-8"))
    data["crossing"]["signals_factor"] = 1.5
    with pytest.raises(RulePackError, match="at most 1"):
        parse_safety_rules(data)
