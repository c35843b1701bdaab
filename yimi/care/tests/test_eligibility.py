"""Tests of eligibility rules: operators, nesting, missing fields, validation, reasons, the index."""

from __future__ import annotations

import random
from typing import Any

import pytest

from yimi.care.eligibility import (
    EligibilityIndex,
    RuleError,
    compile_rule,
    evaluate,
    validate_rule,
)

FIELDS: dict[str, type] = {
    "category": str,
    "categories": list,
    "age": int,
    "income": float,
    "low_income": bool,
    "disability_grade": int,
    "school_stage": str,
}
CHILD = {
    "category": "孤儿",
    "categories": ["孤儿", "留守儿童"],
    "age": 9,
    "income": 800.5,
    "low_income": True,
    "school_stage": "小学",
}


def leaf(f: str, op: str, v: Any) -> dict[str, Any]:
    return {"field": f, "op": op, "value": v}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (leaf("category", "=", "孤儿"), True),
        (leaf("category", "=", "重病"), False),
        (leaf("category", "!=", "重病"), True),
        (leaf("category", "!=", "孤儿"), False),
        (leaf("age", "<", 18), True),
        (leaf("age", "<", 9), False),
        (leaf("age", "<=", 9), True),
        (leaf("age", ">", 9), False),
        (leaf("age", ">=", 9), True),
        (leaf("income", "<", 1000), True),
        (leaf("category", "in", ["孤儿", "事实无人抚养儿童"]), True),
        (leaf("category", "in", ["重病"]), False),
        (leaf("category", "not_in", ["重病"]), True),
        (leaf("category", "not_in", ["孤儿"]), False),
        (leaf("categories", "in", ["重残", "留守儿童"]), True),  # shares an element
        (leaf("categories", "in", ["重残"]), False),
        (leaf("categories", "not_in", ["重残"]), True),
        (leaf("categories", "not_in", ["孤儿"]), False),
        (leaf("categories", "contains", "留守儿童"), True),
        (leaf("categories", "contains", "重病"), False),
        (leaf("school_stage", "contains", "小"), True),
        (leaf("low_income", "=", True), True),
        (leaf("low_income", "exists", True), True),
        (leaf("low_income", "exists", False), False),
        (leaf("age", "between", [6, 9]), True),
        (leaf("age", "between", [10, 15]), False),
    ],
)
def test_each_operator(rule: dict[str, Any], expected: bool) -> None:
    compiled = compile_rule(rule, FIELDS)
    assert compiled.test(CHILD) is expected
    assert evaluate(rule, CHILD, fields=FIELDS).eligible is expected
    assert compiled.mask({k: [v] for k, v in CHILD.items()}, 1)[0] == expected


@pytest.mark.parametrize("op", ["=", "!=", "<", ">=", "in", "not_in", "contains", "between"])
@pytest.mark.parametrize("record", [{}, {"disability_grade": None}])
def test_missing_field_never_matches(op: str, record: dict[str, Any]) -> None:
    value: Any = {"in": [1], "not_in": [1], "between": [1, 2], "contains": 1}.get(op, 1)
    field = "categories" if op == "contains" else "disability_grade"
    rule = leaf(field, op, value if op != "contains" else "x")
    assert evaluate(rule, record).eligible is False
    assert compile_rule(rule).test(record) is False


def test_exists_false_matches_missing_or_null() -> None:
    assert evaluate(leaf("disability_grade", "exists", False), {}).eligible
    assert evaluate(leaf("disability_grade", "exists", False), {"disability_grade": None}).eligible
    assert not evaluate(leaf("disability_grade", "exists", False), {"disability_grade": 2}).eligible


def test_wrong_typed_record_value_fails_instead_of_raising() -> None:
    assert evaluate(leaf("age", "<", 18), {"age": "9"}).eligible is False
    assert evaluate(leaf("category", "in", ["孤儿"]), {"category": {"x": 1}}).eligible is False
    assert evaluate(leaf("categories", "contains", "孤儿"), {"categories": 3}).eligible is False


def test_nested_all_any() -> None:
    rule = {
        "all": [
            leaf("age", "<", 18),
            {"any": [leaf("category", "=", "重病"), {"all": [leaf("low_income", "=", True)]}]},
        ]
    }
    assert evaluate(rule, CHILD).eligible
    assert not evaluate(rule, {**CHILD, "low_income": False}).eligible
    assert evaluate(rule, {**CHILD, "low_income": False, "category": "重病"}).eligible
    assert not evaluate(rule, {**CHILD, "age": 18}).eligible


def test_reasons_for_a_match() -> None:
    rule = {
        "all": [
            leaf("category", "in", ["孤儿", "事实无人抚养儿童"]),
            leaf("age", "<", 18),
            {"any": [leaf("low_income", "=", True), leaf("disability_grade", "<=", 2)]},
        ]
    }
    m = evaluate(rule, CHILD, fields=FIELDS)
    assert m.eligible
    assert m.reasons == ["类别为 孤儿", "年龄 9 岁 < 18", "低保/特困家庭为 是"]


def test_reasons_for_a_non_match_name_the_failed_conditions() -> None:
    rule = {
        "all": [
            leaf("category", "=", "孤儿"),
            leaf("age", "<", 6),
            leaf("disability_grade", "<=", 2),
        ]
    }
    m = evaluate(rule, CHILD)
    assert not m.eligible
    assert m.reasons == [
        "不符合：年龄 < 6 岁（实际为 9 岁）",
        "不符合：残疾等级 <= 2 级（未登记残疾等级）",
    ]


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (leaf("category", "!=", "重病"), "类别为 孤儿，不是 重病"),
        (leaf("category", "not_in", ["重病", "重残"]), "类别为 孤儿，不属于 重病、重残"),
        (leaf("categories", "in", ["重残", "留守儿童"]), "类别含 留守儿童"),
        (leaf("categories", "contains", "孤儿"), "类别包含 孤儿"),
        (leaf("age", "between", [6, 12]), "年龄 9 岁，在 6–12 之间"),
        (leaf("disability_grade", "exists", False), "未登记残疾等级"),
        (leaf("school_stage", "exists", True), "已登记学段"),
        (
            leaf("guardian_status", "=", "服刑"),
            "不符合：guardian_status为 服刑（未登记guardian_status）",
        ),
    ],
)
def test_reasons_per_operator(rule: dict[str, Any], reason: str) -> None:
    assert evaluate(rule, CHILD).reasons == [reason]


def test_labels_and_units_can_be_extended() -> None:
    m = evaluate(
        leaf("income", "<", 1000), CHILD, labels={"income": "人均月收入"}, units={"income": "元"}
    )
    assert m.reasons == ["人均月收入 800.5 元 < 1000"]


def test_failed_any_lists_every_branch() -> None:
    m = evaluate({"any": [leaf("age", ">", 12), leaf("category", "=", "重病")]}, CHILD)
    assert m.reasons == [
        "不符合：年龄 > 12 岁（实际为 9 岁）",
        "不符合：类别为 重病（实际为 孤儿）",
    ]


@pytest.mark.parametrize(
    ("rule", "path", "fragment"),
    [
        ({"all": [leaf("age", "<", 18), leaf("age", "like", 1)]}, "all[1].op", "unknown operator"),
        (
            {"all": [leaf("age", "<", 18), {"any": [leaf("age", "<", "x")]}]},
            "all[1].any[0].value",
            "number",
        ),
        ({"all": []}, "all", "non-empty"),
        ({"all": [], "any": []}, "", "only key"),
        ([leaf("age", "<", 1)], "", "object"),
        ({"field": "age", "op": "<"}, "value", "missing"),
        ({"field": "age", "op": "<", "value": 1, "note": "x"}, "note", "unknown key"),
        (leaf("", "<", 1), "field", "missing"),
        (leaf("shoe_size", "<", 1), "field", "unknown field 'shoe_size'"),
        (leaf("category", "<", 1), "op", "does not apply to str field"),
        (leaf("categories", "=", "孤儿"), "op", "does not apply to list field"),
        (leaf("age", "=", "9"), "value", "wrong type (int)"),
        (leaf("age", "=", True), "value", "wrong type"),
        (leaf("age", "between", [9, 6]), "value", "low <= high"),
        (leaf("age", "between", [1]), "value", "low <= high"),
        (leaf("category", "in", []), "value", "non-empty list"),
        (leaf("category", "in", "孤儿"), "value", "non-empty list"),
        (leaf("age", "exists", "yes"), "value", "boolean"),
    ],
)
def test_validation_errors_name_the_path(rule: Any, path: str, fragment: str) -> None:
    with pytest.raises(RuleError) as e:
        validate_rule(rule, FIELDS)
    assert any(p == path and fragment in msg for p, msg in e.value.errors), e.value.errors
    assert (path or "rule") in str(e.value)


def test_validation_collects_all_errors_and_compile_refuses() -> None:
    rule = {"all": [leaf("age", "like", 1), leaf("nope", "<", 1)]}
    with pytest.raises(RuleError) as e:
        compile_rule(rule, FIELDS)
    assert [p for p, _ in e.value.errors] == ["all[0].op", "all[1].field"]
    validate_rule({"all": [leaf("age", "<", 18)]}, FIELDS)  # valid: no exception


def test_rules_round_trip_through_json() -> None:
    import json

    rule = {"all": [leaf("category", "in", ["孤儿"]), leaf("age", "between", [0, 17])]}
    assert evaluate(json.loads(json.dumps(rule, ensure_ascii=False)), CHILD).eligible


# --- the index ----------------------------------------------------------------------------

CATS = ["孤儿", "事实无人抚养儿童", "重病", "重残", "留守儿童", "流动儿童"]
STAGES = ["学前", "小学", "初中", "高中"]


def _child(rng: random.Random) -> dict[str, Any]:
    r: dict[str, Any] = {
        "category": rng.choice(CATS),
        "categories": rng.sample(CATS, rng.randint(1, 3)),
        "age": rng.randint(0, 19),
        "low_income": rng.random() < 0.3,
        "school_stage": rng.choice(STAGES),
    }
    if rng.random() < 0.3:
        r["disability_grade"] = rng.randint(1, 4)
    if rng.random() < 0.1:
        del r["age"]
    return r


def _leaf(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            leaf("category", "in", rng.sample(CATS, 2)),
            leaf("category", "not_in", rng.sample(CATS, 2)),
            leaf("age", rng.choice(["<", "<=", ">", ">=", "=", "!="]), rng.randint(0, 18)),
            leaf("age", "between", [3, 12]),
            leaf("low_income", "=", True),
            leaf("disability_grade", "<=", rng.randint(1, 3)),
            leaf("disability_grade", "exists", rng.random() < 0.5),
            leaf("categories", "contains", rng.choice(CATS)),
            leaf("categories", "in", rng.sample(CATS, 2)),
            leaf("school_stage", "in", rng.sample(STAGES, 2)),
        ]
    )


def _policy(rng: random.Random) -> dict[str, Any]:
    return {"all": [_leaf(rng), {"any": [_leaf(rng), _leaf(rng)]}]}


def _expected(policies: dict, children: dict, receiving: set) -> set[tuple[Any, Any]]:
    compiled = {pid: compile_rule(rule, FIELDS) for pid, rule in policies.items()}
    return {
        (pid, cid)
        for pid, rule in compiled.items()
        for cid, rec in children.items()
        if (cid, pid) not in receiving and evaluate(rule, rec).eligible
    }


def test_index_matches_brute_force_with_reasons() -> None:
    rng = random.Random(1)
    children = {f"c{i}": _child(rng) for i in range(300)}
    policies = {f"p{j}": _policy(rng) for j in range(8)}
    receiving = {(f"c{i}", "p0") for i in range(0, 300, 3)}
    idx = EligibilityIndex(policies, children, receiving=receiving, fields=FIELDS)
    expected = _expected(policies, children, receiving)
    assert idx.pairs() == expected
    got = idx.matches()
    assert {(c.policy_id, c.child_id) for cs in got.values() for c in cs} == expected
    assert set(got) == set(policies)
    for cs in got.values():
        for c in cs:
            assert list(c.reasons) == evaluate(policies[c.policy_id], children[c.child_id]).reasons
            assert c.reasons and not c.reasons[0].startswith("不符合")
    assert all(c.child_id not in {f"c{i}" for i in range(0, 300, 3)} for c in got["p0"])


def test_incremental_updates_equal_full_recomputation() -> None:
    rng = random.Random(2)
    children = {f"c{i}": _child(rng) for i in range(200)}
    policies = {f"p{j}": _policy(rng) for j in range(6)}
    receiving = {(f"c{i}", f"p{i % 6}") for i in range(0, 200, 7)}
    idx = EligibilityIndex(policies, children, receiving=receiving, fields=FIELDS)
    current = idx.pairs()
    for step in range(300):
        action = rng.random()
        if action < 0.55:
            cid = f"c{rng.randrange(230)}"  # some new children too
            children[cid] = _child(rng)
            change = idx.update_child(cid, children[cid])
        elif action < 0.65:
            cid = rng.choice(list(children))
            del children[cid]
            change = idx.remove_child(cid)
        elif action < 0.8:
            pid = f"p{rng.randrange(7)}"  # p6 is a new policy
            policies[pid] = _policy(rng)
            change = idx.update_policy(pid, policies[pid])
        elif action < 0.85 and policies:
            pid = rng.choice(list(policies))
            del policies[pid]
            change = idx.update_policy(pid, None)
        else:
            cid, pid = rng.choice(list(children)), f"p{rng.randrange(6)}"
            on = rng.random() < 0.5
            (receiving.add if on else receiving.discard)((cid, pid))
            change = idx.set_receiving(cid, pid, on)
        added = {(c.policy_id, c.child_id) for c in change.added}
        removed = set(change.removed)
        assert not added & current and removed <= current, step
        current = (current - removed) | added
        assert current == _expected(policies, children, receiving), step
        assert idx.pairs() == current
    fresh = EligibilityIndex(policies, children, receiving=receiving, fields=FIELDS)
    assert fresh.pairs() == current
    assert len(idx) == len(children)


def test_update_child_reports_new_match_with_reasons_and_removal() -> None:
    policies = {"助学": {"all": [leaf("category", "=", "孤儿"), leaf("age", "between", [6, 15])]}}
    idx = EligibilityIndex(policies, {"a": {"category": "孤儿", "age": 3}}, fields=FIELDS)
    assert idx.matches() == {"助学": []}
    change = idx.update_child("a", {"category": "孤儿", "age": 6})
    assert [(c.policy_id, c.child_id, c.reasons) for c in change.added] == [
        ("助学", "a", ("类别为 孤儿", "年龄 6 岁，在 6–15 之间"))
    ]
    assert idx.set_receiving("a", "助学", True).removed == [("助学", "a")]
    assert idx.matches() == {"助学": []}
    # Receiving, so a change that keeps it eligible or ends eligibility is no worklist news.
    assert idx.update_child("a", {"category": "孤儿", "age": 16}).removed == []
    assert idx.set_receiving("a", "助学", False).added == []
    assert not idx.explain("a", "助学").eligible


def test_index_rejects_invalid_policies_with_policy_in_path() -> None:
    with pytest.raises(RuleError) as e:
        EligibilityIndex({"p1": leaf("age", "like", 1)}, {}, fields=FIELDS)
    assert e.value.errors[0][0] == "p1:op"
    idx = EligibilityIndex({}, {}, fields=FIELDS)
    with pytest.raises(RuleError):
        idx.update_policy("p", leaf("age", "<", "x"))
    assert idx.matches() == {}  # a rejected rule leaves no trace
