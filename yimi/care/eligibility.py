"""Eligibility rules kept as data (JSON), evaluated with Chinese explanations, and 政策找人.

A rule is a leaf ``{"field": ..., "op": ..., "value": ...}`` or ``{"all": [...]}`` /
``{"any": [...]}`` of rules. Rules are compiled once into closures (for one record) and into
column-wise NumPy masks (for all records at once); both share the same per-value predicates, so
incremental and full evaluation cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_UNITS",
    "OPS",
    "Candidate",
    "Change",
    "CompiledRule",
    "EligibilityIndex",
    "Match",
    "RuleError",
    "compile_rule",
    "evaluate",
    "validate_rule",
]

OPS: tuple[str, ...] = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not_in",
    "contains",
    "exists",
    "between",
)
_ORDER_OPS = frozenset({"<", "<=", ">", ">="})

# Which operators make sense for each field type (``list`` means a list of strings, such as a
# child's several categories). ``in``/``not_in`` on a list field mean "shares any / no element".
_OPS_BY_TYPE: dict[type, frozenset[str]] = {
    int: frozenset(OPS) - {"contains"},
    float: frozenset(OPS) - {"contains"},
    str: frozenset({"=", "!=", "in", "not_in", "contains", "exists"}),
    bool: frozenset({"=", "!=", "in", "not_in", "exists"}),
    list: frozenset({"in", "not_in", "contains", "exists"}),
}

DEFAULT_LABELS: dict[str, str] = {
    "category": "类别",
    "categories": "类别",
    "age": "年龄",
    "sex": "性别",
    "low_income": "低保/特困家庭",
    "disability_grade": "残疾等级",
    "school_stage": "学段",
    "district": "区",
    "community": "社区",
    "risk_level": "风险等级",
    "status": "状态",
}
DEFAULT_UNITS: dict[str, str] = {"age": "岁", "disability_grade": "级"}

_MULTI = (list, tuple, set, frozenset)

# A field absent from the record. ``None`` (JSON null) is treated the same way.
_MISSING: Any = object()

Rule = Mapping[str, Any]
Record = Mapping[str, Any]
Pred = Callable[[Any], bool]


class RuleError(ValueError):
    """An invalid rule; ``errors`` lists ``(path, message)``, e.g. ``("all[1].op", ...)``."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path or 'rule'}: {msg}" for path, msg in errors))


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome for one record: eligible or not, and why (Chinese, for staff)."""

    eligible: bool
    reasons: list[str]


# --------------------------------------------------------------------------------------------
# Validation


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _scalar_ok(v: object, t: type | None) -> bool:
    if t is None:
        return isinstance(v, str | int | float | bool)
    if t is bool:
        return isinstance(v, bool)
    if t is int:
        return isinstance(v, int) and not isinstance(v, bool)
    if t is float:
        return _is_number(v)
    if t in (str, list):  # a list field holds strings
        return isinstance(v, str)
    return isinstance(v, t)


def validate_rule(rule: Any, fields: Mapping[str, type] | None = None) -> None:
    """Check a rule's structure and, when ``fields`` (name → type) is given, its fields and types.

    Raises :class:`RuleError` listing every problem with its path, e.g. ``all[1].op``.
    """
    errors: list[tuple[str, str]] = []
    _check(rule, "", fields, errors)
    if errors:
        raise RuleError(errors)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check(
    node: Any, path: str, fields: Mapping[str, type] | None, errors: list[tuple[str, str]]
) -> None:
    if not isinstance(node, Mapping):
        errors.append((path, f"应为对象 / must be an object, got {type(node).__name__}"))
        return
    groups = [k for k in ("all", "any") if k in node]
    if groups:
        if len(node) != 1:
            errors.append((path, f"'{groups[0]}' 不能与其他键并列 / must be the only key"))
            return
        key = groups[0]
        children = node[key]
        if not isinstance(children, list) or not children:
            errors.append((_join(path, key), "应为非空列表 / must be a non-empty list"))
            return
        for i, child in enumerate(children):
            _check(child, f"{_join(path, key)}[{i}]", fields, errors)
        return
    for key in node:
        if key not in ("field", "op", "value"):
            errors.append((_join(path, str(key)), "未知的键 / unknown key"))
    name, op = node.get("field"), node.get("op")
    if not isinstance(name, str) or not name:
        errors.append((_join(path, "field"), "缺少字段名 / field name missing"))
        name = None
    if op not in OPS:
        errors.append((_join(path, "op"), f"未知运算符 {op!r} / unknown operator {op!r}"))
        op = None
    if "value" not in node:
        errors.append((_join(path, "value"), "缺少值 / value missing"))
        return
    ftype: type | None = None
    if name is not None and fields is not None:
        if name not in fields:
            errors.append((_join(path, "field"), f"未知字段 {name!r} / unknown field {name!r}"))
        else:
            ftype = fields[name]
            if op is not None and op not in _OPS_BY_TYPE.get(ftype, frozenset(OPS)):
                errors.append(
                    (
                        _join(path, "op"),
                        f"运算符 {op!r} 不适用于 {ftype.__name__} 字段 {name!r} / "
                        f"operator {op!r} does not apply to {ftype.__name__} field {name!r}",
                    )
                )
                return
    if op is not None:
        problem = _value_problem(op, node["value"], ftype)
        if problem:
            errors.append((_join(path, "value"), problem))


def _value_problem(op: str, v: Any, t: type | None) -> str | None:
    if op == "exists":
        return None if isinstance(v, bool) else "exists 的值应为 true/false / must be a boolean"
    if op in _ORDER_OPS:
        return None if _is_number(v) else f"{op} 的值应为数字 / must be a number"
    if op == "between":
        if isinstance(v, list) and len(v) == 2 and all(map(_is_number, v)) and v[0] <= v[1]:
            return None
        return "between 的值应为 [下限, 上限] / must be [low, high] numbers with low <= high"
    if op in ("in", "not_in"):
        if isinstance(v, list) and v and all(_scalar_ok(x, t) for x in v):
            return None
        return f"{op} 的值应为非空列表且类型与字段一致 / must be a non-empty list of field values"
    # "=", "!=", "contains": a single value of the field's (element) type.
    want = "" if t is None else f" ({t.__name__})"
    return None if _scalar_ok(v, t) else f"值类型不符 / value has the wrong type{want}"


# --------------------------------------------------------------------------------------------
# Compilation


def _make_pred(op: str, v: Any) -> Pred:
    """The per-value predicate; missing/None never matches, except ``exists`` false."""
    missing = _MISSING
    if op == "exists":
        if v:
            return lambda x: x is not missing and x is not None
        return lambda x: x is missing or x is None
    base: Callable[[Any], Any]
    if op == "=":
        base = lambda x: x == v  # noqa: E731 - small closures read best inline
    elif op == "!=":
        base = lambda x: x != v  # noqa: E731
    elif op == "<":
        base = lambda x: x < v  # noqa: E731
    elif op == "<=":
        base = lambda x: x <= v  # noqa: E731
    elif op == ">":
        base = lambda x: x > v  # noqa: E731
    elif op == ">=":
        base = lambda x: x >= v  # noqa: E731
    elif op == "between":
        lo, hi = v
        base = lambda x: lo <= x <= hi  # noqa: E731
    elif op in ("in", "not_in"):
        s = frozenset(v)
        # A multi-valued record value (a child's several categories) matches on any shared
        # element, decided per value so the result never depends on declared field types.
        if op == "in":
            base = lambda x: (not s.isdisjoint(x)) if isinstance(x, _MULTI) else x in s  # noqa: E731
        else:
            base = lambda x: s.isdisjoint(x) if isinstance(x, _MULTI) else x not in s  # noqa: E731
    elif op == "contains":
        base = lambda x: v in x  # noqa: E731
    else:  # pragma: no cover - validate_rule rejects unknown operators first
        raise ValueError(op)

    def pred(x: Any) -> bool:
        if x is missing or x is None:
            return False
        try:
            return bool(base(x))
        except TypeError:  # a record value of the wrong type (e.g. "9" for age) just fails
            return False

    return pred


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list | tuple | set | frozenset):
        return "、".join(_fmt(x) for x in v)
    return str(v)


class _Leaf:
    __slots__ = ("field", "key", "label", "listy", "op", "pred", "unit", "value")

    def __init__(self, node: Rule, ftype: type | None, label: str, unit: str) -> None:
        self.field: str = node["field"]
        self.op: str = node["op"]
        self.value: Any = node["value"]
        self.listy = ftype is list
        self.label, self.unit = label, unit
        self.pred = _make_pred(self.op, self.value)
        # Identical conditions across policies share one column mask in a full evaluation.
        self.key = (self.field, self.op, json.dumps(self.value, sort_keys=True, ensure_ascii=False))

    def test_fn(self) -> Callable[[Record], bool]:
        name, pred, missing = self.field, self.pred, _MISSING
        return lambda r: pred(r.get(name, missing))

    def mask(
        self, cols: Mapping[str, list[Any]], n: int, cache: dict[Any, np.ndarray]
    ) -> np.ndarray:
        m = cache.get(self.key)
        if m is None:
            m = np.fromiter(map(self.pred, cols[self.field]), dtype=bool, count=n)
            cache[self.key] = m
        return m

    def _with_unit(self, x: Any) -> str:
        return f"{_fmt(x)} {self.unit}" if self.unit else _fmt(x)

    def condition(self) -> str:
        """The condition in words, independent of any record."""
        L, op, v = self.label, self.op, self.value
        if op == "exists":
            return f"已登记{L}" if v else f"未登记{L}"
        if op == "=":
            return f"{L}为 {_fmt(v)}"
        if op == "!=":
            return f"{L}不是 {_fmt(v)}"
        if op in _ORDER_OPS:
            return f"{L} {op} {self._with_unit(v)}"
        if op == "between":
            return f"{L}在 {_fmt(v[0])}–{self._with_unit(v[1])} 之间"
        if op == "in":
            return f"{L}含 {_fmt(v)} 之一" if self.listy else f"{L}属于 {_fmt(v)}"
        if op == "not_in":
            return f"{L}不含 {_fmt(v)}" if self.listy else f"{L}不属于 {_fmt(v)}"
        return f"{L}包含 {_fmt(v)}"

    def explain(self, record: Record) -> tuple[bool, list[str]]:
        x = record.get(self.field, _MISSING)
        ok = self.pred(x)
        L, op, v = self.label, self.op, self.value
        if not ok:
            if op == "exists":
                return False, [f"不符合：{self.condition()}"]
            if x is _MISSING or x is None:
                return False, [f"不符合：{self.condition()}（未登记{L}）"]
            return False, [f"不符合：{self.condition()}（实际为 {self._with_unit(x)}）"]
        if op == "exists":
            return True, [self.condition()]
        if op == "=":
            return True, [f"{L}为 {_fmt(x)}"]
        if op == "!=":
            return True, [f"{L}为 {_fmt(x)}，不是 {_fmt(v)}"]
        if op in _ORDER_OPS:
            return True, [f"{L} {self._with_unit(x)} {op} {_fmt(v)}"]
        if op == "between":
            return True, [f"{L} {self._with_unit(x)}，在 {_fmt(v[0])}–{_fmt(v[1])} 之间"]
        if op == "in":
            if isinstance(x, _MULTI):
                wanted = set(v)
                hits = [e for e in x if e in wanted]
                return True, [f"{L}含 {_fmt(hits)}"]
            return True, [f"{L}为 {_fmt(x)}"]
        if op == "not_in":
            if isinstance(x, _MULTI):
                return True, [f"{L}不含 {_fmt(v)}"]
            return True, [f"{L}为 {_fmt(x)}，不属于 {_fmt(v)}"]
        return True, [f"{L}包含 {_fmt(v)}"]

    def fields(self) -> set[str]:
        return {self.field}


class _Group:
    __slots__ = ("children", "kind")

    def __init__(self, kind: str, children: list[_Leaf | _Group]) -> None:
        self.kind, self.children = kind, children

    def test_fn(self) -> Callable[[Record], bool]:
        fns = tuple(c.test_fn() for c in self.children)
        if len(fns) == 1:
            return fns[0]
        if self.kind == "all":
            return lambda r: all(f(r) for f in fns)
        return lambda r: any(f(r) for f in fns)

    def mask(
        self, cols: Mapping[str, list[Any]], n: int, cache: dict[Any, np.ndarray]
    ) -> np.ndarray:
        masks = [c.mask(cols, n, cache) for c in self.children]
        reduce = np.logical_and if self.kind == "all" else np.logical_or
        return reduce.reduce(masks) if len(masks) > 1 else masks[0]

    def explain(self, record: Record) -> tuple[bool, list[str]]:
        results = [c.explain(record) for c in self.children]
        if self.kind == "all":
            ok = all(r[0] for r in results)
            # Eligible: every condition that held. Not: only the ones that failed.
            chosen = [r for r in results if r[0] == ok]
        else:
            ok = any(r[0] for r in results)
            chosen = [r for r in results if r[0]] if ok else results
        return ok, [reason for r in chosen for reason in r[1]]

    def fields(self) -> set[str]:
        return set().union(*(c.fields() for c in self.children))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A validated rule compiled once: ``test`` for one record, ``explain`` for reasons."""

    rule: Rule
    test: Callable[[Record], bool] = field(repr=False)
    _root: _Leaf | _Group = field(repr=False)

    @property
    def fields(self) -> frozenset[str]:
        """The record fields the rule reads."""
        return frozenset(self._root.fields())

    def explain(self, record: Record) -> Match:
        """Evaluate with reasons: the conditions that matched, or those that failed."""
        ok, reasons = self._root.explain(record)
        return Match(ok, reasons)

    def mask(
        self, columns: Mapping[str, list[Any]], n: int, cache: dict[Any, np.ndarray] | None = None
    ) -> np.ndarray:
        """Boolean mask over ``n`` records stored column-wise (missing values as absent)."""
        return self._root.mask(columns, n, {} if cache is None else cache)


def compile_rule(
    rule: Rule,
    fields: Mapping[str, type] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> CompiledRule:
    """Validate and compile ``rule``; ``labels``/``units`` extend the Chinese field names."""
    validate_rule(rule, fields)
    all_labels = {**DEFAULT_LABELS, **(labels or {})}
    all_units = {**DEFAULT_UNITS, **(units or {})}

    def build(node: Rule) -> _Leaf | _Group:
        for kind in ("all", "any"):
            if kind in node:
                return _Group(kind, [build(c) for c in node[kind]])
        name = node["field"]
        ftype = fields.get(name) if fields else None
        return _Leaf(node, ftype, all_labels.get(name, name), all_units.get(name, ""))

    root = build(rule)
    return CompiledRule(rule=rule, test=root.test_fn(), _root=root)


def evaluate(
    rule: Rule | CompiledRule,
    record: Record,
    *,
    fields: Mapping[str, type] | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> Match:
    """Evaluate one rule on one record, with reasons. Compile once when evaluating many."""
    compiled = (
        rule
        if isinstance(rule, CompiledRule)
        else compile_rule(rule, fields, labels=labels, units=units)
    )
    return compiled.explain(record)


# --------------------------------------------------------------------------------------------
# 政策找人: the index of qualifying children not yet receiving each policy


@dataclass(frozen=True, slots=True)
class Candidate:
    """A child who qualifies for a policy and does not receive it yet, with the reasons."""

    policy_id: Hashable
    child_id: Hashable
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """What an update did to the worklist: pairs newly to offer, and pairs no longer to offer."""

    added: list[Candidate]
    removed: list[tuple[Hashable, Hashable]]  # (policy_id, child_id)


class EligibilityIndex:
    """For N policies and M children, who qualifies for what, kept current incrementally.

    The full build evaluates each policy column-wise (each distinct condition once, across all
    policies); ``update_child`` re-tests one child against every policy with the compiled
    closures, and ``update_policy`` one policy over every child. Children who already receive a
    policy (``receiving``: ``(child_id, policy_id)`` pairs) are not offered it again.
    """

    def __init__(
        self,
        policies: Mapping[Hashable, Rule],
        children: Mapping[Hashable, Record],
        *,
        receiving: Iterable[tuple[Hashable, Hashable]] = (),
        fields: Mapping[str, type] | None = None,
        labels: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
    ) -> None:
        self._fields, self._labels, self._units = fields, labels, units
        self._receiving: set[tuple[Hashable, Hashable]] = set(receiving)
        self._policies: dict[Hashable, CompiledRule] = {}
        errors: list[tuple[str, str]] = []
        for pid, rule in policies.items():
            try:
                self._policies[pid] = self._compile(rule)
            except RuleError as e:
                errors += [(f"{pid}:{path}" if path else str(pid), msg) for path, msg in e.errors]
        if errors:
            raise RuleError(errors)
        self._ids: list[Hashable] = list(children)
        self._pos: dict[Hashable, int] = {cid: i for i, cid in enumerate(self._ids)}
        self._records: list[Record | None] = list(children.values())
        self._columns: dict[str, list[Any]] = {}
        # Eligibility regardless of receiving; the worklist is this minus ``receiving``.
        self._eligible: dict[Hashable, set[Hashable]] = {}
        cache: dict[Any, np.ndarray] = {}
        for pid, compiled in self._policies.items():
            self._eligible[pid] = self._evaluate_all(compiled, cache)

    def _compile(self, rule: Rule) -> CompiledRule:
        return compile_rule(rule, self._fields, labels=self._labels, units=self._units)

    def _column(self, name: str) -> list[Any]:
        col = self._columns.get(name)
        if col is None:
            missing = _MISSING
            col = [missing if r is None else r.get(name, missing) for r in self._records]
            self._columns[name] = col
        return col

    def _evaluate_all(self, compiled: CompiledRule, cache: dict[Any, np.ndarray]) -> set[Hashable]:
        n = len(self._ids)
        if n == 0:
            return set()
        cols = {name: self._column(name) for name in compiled.fields}
        mask = compiled.mask(cols, n, cache)
        ids, records = self._ids, self._records
        # Removed children leave a None record behind; ``exists: false`` would match them.
        return {ids[i] for i in np.flatnonzero(mask).tolist() if records[i] is not None}

    def _candidate(self, pid: Hashable, cid: Hashable) -> Candidate:
        record = self._records[self._pos[cid]]
        assert record is not None
        return Candidate(pid, cid, tuple(self._policies[pid].explain(record).reasons))

    def _offered(self, pid: Hashable, cid: Hashable) -> bool:
        return (cid, pid) not in self._receiving

    # --- queries -----------------------------------------------------------------------------

    def matches(self) -> dict[Hashable, list[Candidate]]:
        """For each policy, the qualifying children not yet receiving it, in child order."""
        pos = self._pos
        return {
            pid: [
                self._candidate(pid, cid)
                for cid in sorted(eligible, key=pos.__getitem__)
                if self._offered(pid, cid)
            ]
            for pid, eligible in self._eligible.items()
        }

    def pairs(self) -> set[tuple[Hashable, Hashable]]:
        """The worklist as ``(policy_id, child_id)`` pairs, without computing reasons."""
        return {
            (pid, cid)
            for pid, eligible in self._eligible.items()
            for cid in eligible
            if self._offered(pid, cid)
        }

    def explain(self, child_id: Hashable, policy_id: Hashable) -> Match:
        """Why ``child_id`` does or does not qualify for ``policy_id``."""
        record = self._records[self._pos[child_id]]
        if record is None:
            raise KeyError(child_id)
        return self._policies[policy_id].explain(record)

    # --- updates -----------------------------------------------------------------------------

    def update_child(self, child_id: Hashable, record: Record | None) -> Change:
        """Set (or, with ``None``, remove) one child's record and re-test it against every policy."""
        i = self._pos.get(child_id)
        if i is None:
            if record is None:
                return Change([], [])
            i = self._pos[child_id] = len(self._ids)
            self._ids.append(child_id)
            self._records.append(record)
            for name, col in self._columns.items():
                col.append(record.get(name, _MISSING))
        else:
            self._records[i] = record
            for name, col in self._columns.items():
                col[i] = _MISSING if record is None else record.get(name, _MISSING)
        added: list[Candidate] = []
        removed: list[tuple[Hashable, Hashable]] = []
        for pid, compiled in self._policies.items():
            eligible = self._eligible[pid]
            was = child_id in eligible
            now = record is not None and compiled.test(record)
            if now == was:
                continue
            if now:
                eligible.add(child_id)
                if self._offered(pid, child_id):
                    added.append(self._candidate(pid, child_id))
            else:
                eligible.discard(child_id)
                if self._offered(pid, child_id):
                    removed.append((pid, child_id))
        return Change(added, removed)

    def remove_child(self, child_id: Hashable) -> Change:
        """Drop a child (e.g. 结案 or 转出); its pending matches are removed."""
        return self.update_child(child_id, None)

    def update_policy(self, policy_id: Hashable, rule: Rule | None) -> Change:
        """Add, replace or (with ``None``) remove one policy and re-evaluate it over every child."""
        old = self._eligible.get(policy_id, set())
        if rule is None:
            self._policies.pop(policy_id, None)
            self._eligible.pop(policy_id, None)
            new: set[Hashable] = set()
        else:
            compiled = self._compile(rule)  # validate before touching any state
            self._policies[policy_id] = compiled
            new = self._evaluate_all(compiled, {})
            self._eligible[policy_id] = new
        pos = self._pos
        added = [
            self._candidate(policy_id, cid)
            for cid in sorted(new - old, key=pos.__getitem__)
            if self._offered(policy_id, cid)
        ]
        removed = [
            (policy_id, cid)
            for cid in sorted(old - new, key=pos.__getitem__)
            if self._offered(policy_id, cid)
        ]
        return Change(added, removed)

    def set_receiving(self, child_id: Hashable, policy_id: Hashable, receiving: bool) -> Change:
        """Record that a child now receives (or no longer receives) a policy."""
        pair = (child_id, policy_id)
        if (pair in self._receiving) == receiving:
            return Change([], [])
        eligible = child_id in self._eligible.get(policy_id, ())
        if receiving:
            self._receiving.add(pair)
            return Change([], [(policy_id, child_id)] if eligible else [])
        self._receiving.discard(pair)
        return Change([self._candidate(policy_id, child_id)] if eligible else [], [])

    def __len__(self) -> int:
        return sum(r is not None for r in self._records)
