"""政策找人 (policy finds the child): keeps the worklist of qualifying, unserved children current.

A child's record becomes an eligibility record (:func:`child_record`); each active policy's rule
(:mod:`yimi.care.eligibility`) is evaluated on it. The worklist holds one open item per child and
policy that qualifies and is neither received (a :class:`~.models.Benefit`) nor on order.

- :func:`child_rematch` re-checks one child against every policy (after any change to the
  child, an order or a benefit): milliseconds, not a pass over everything.
- :func:`policy_rematch` re-checks one policy over the children of its area (after the policy
  changes).
- :func:`rematch_all` rebuilds everything column-wise (after a ledger import; `yimi care
  rematch`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from yimi.core.models import User

from .eligibility import CompiledRule, EligibilityIndex, compile_rule
from .models import Benefit, Child, Order, Policy, Status, WorklistItem
from .services.common import bulk_insert, encrypted_field_names

# The fields a rule may read, with their types (checked when a policy is saved).
FIELDS: dict[str, type] = {
    "categories": list,
    "age": int,
    "sex": str,
    "low_income": bool,
    "disability_grade": int,
    "school_stage": str,
    "risk_level": str,
    "status": str,
    "district": str,
    "street": str,
    "community": str,
}
LABELS = {"street": "街道"}

OPEN_ORDER_STATES = (Order.State.APPLIED, Order.State.CONFIRMED, Order.State.HANDLING)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _area_codes(path: str) -> dict[str, str]:
    codes = [c for c in path.split("/") if c]
    # 市 / 区 / 街道 / 社区 / 网格: the path's positions are the levels.
    out = {}
    for key, i in (("district", 1), ("street", 2), ("community", 3)):
        if len(codes) > i:
            out[key] = codes[i]
    return out


def child_record(child: Child, *, today: date | None = None, with_disability: bool = True) -> dict:
    """The eligibility record of ``child``: the fields rules read, nothing identifying.

    ``with_disability=False`` leaves out the grade (which needs decrypting the disability
    details) for rules that do not read it.
    """
    today = today or timezone.localdate()
    record = {
        "categories": list(child.categories or []),
        "age": age_on(child.birth_date, today),
        "sex": child.sex,
        "low_income": bool(child.low_income),
        "school_stage": child.school_stage,
        "risk_level": child.risk_level,
        "status": child.status,
        **_area_codes(child.area.path),
    }
    grade = child.disability_grade if with_disability else None
    if grade is not None:
        record["disability_grade"] = grade
    return record


def compile_policy_rule(rule: dict) -> CompiledRule:
    """Validate and compile a policy's rule; raises :class:`~.eligibility.RuleError`."""
    return compile_rule(rule or {"all": []}, FIELDS, labels=LABELS)


_compiled: dict[tuple[int, str], CompiledRule] = {}


def _compiled_for(policy: Policy) -> CompiledRule:
    key = (policy.pk, policy.updated_at.isoformat() if policy.updated_at else "")
    rule = _compiled.get(key)
    if rule is None:
        rule = _compiled[key] = compile_policy_rule(policy.eligibility)
    return rule


def _policies_for_area(path: str) -> list[Policy]:
    """Active policies of the menus that cover an area (its own and its ancestors')."""
    prefixes = []
    parts = [c for c in path.split("/") if c]
    for i in range(1, len(parts) + 1):
        prefixes.append("/" + "/".join(parts[:i]) + "/")
    return list(Policy.objects.filter(active=True, area__path__in=prefixes).order_by("pk"))


def _receiving(child_ids: Iterable[int] | None = None, policy_ids: Iterable[int] | None = None):
    """(child_id, policy_id) pairs that are received or on order."""
    today = timezone.localdate()
    b = Benefit.objects.filter(Q(until__isnull=True) | Q(until__gte=today))
    o = Order.objects.filter(state__in=OPEN_ORDER_STATES)
    if child_ids is not None:
        ids = list(child_ids)
        b, o = b.filter(child_id__in=ids), o.filter(child_id__in=ids)
    if policy_ids is not None:
        pids = list(policy_ids)
        b, o = b.filter(policy_id__in=pids), o.filter(policy_id__in=pids)
    pairs = set(b.values_list("child_id", "policy_id"))
    pairs.update(o.values_list("child_id", "policy_id"))
    return pairs


@dataclass
class Outcome:
    """What a re-match changed on the worklist."""

    added: int = 0
    lapsed: int = 0
    kept: int = 0


def _sync(
    wanted: dict[tuple[int, int], list[str] | None],
    scope: Q,
    explain,
    actor: User | None,
) -> Outcome:
    """Make the open items within ``scope`` equal ``wanted`` ((child, policy) → reasons|None)."""
    now = timezone.now()
    existing = {
        (c, p): pk
        for pk, c, p in WorklistItem.objects.filter(
            scope, state=WorklistItem.State.OPEN
        ).values_list("pk", "child_id", "policy_id")
    }
    gone = [pk for pair, pk in existing.items() if pair not in wanted]
    # A match staff dismissed (with a note saying why) is not offered again.
    dismissed = set(
        WorklistItem.objects.filter(scope, state=WorklistItem.State.DISMISSED).values_list(
            "child_id", "policy_id"
        )
    )
    new_pairs = [pair for pair in wanted if pair not in existing and pair not in dismissed]
    if gone:
        WorklistItem.objects.filter(pk__in=gone).update(
            state=WorklistItem.State.LAPSED,
            resolved_at=now,
            resolved_by=actor if actor is not None and actor.is_authenticated else None,
        )
    if new_pairs:
        # executemany rather than bulk_create: a full re-match adds 100,000s of items, and many
        # share one explanation, so each distinct list is serialised once.
        reasons_field = WorklistItem._meta.get_field("reasons")
        serialised: dict[int, Any] = {}
        held = []  # keeps each list alive while its id() is a key
        found_at = WorklistItem._meta.get_field("found_at").get_db_prep_save(now, connection)
        rows = []
        # In key order: the indexes on (child, policy) are filled front to back.
        for c, p in sorted(new_pairs):
            reasons = wanted[(c, p)] or explain(c, p)
            value = serialised.get(id(reasons))
            if value is None:
                held.append(reasons)
                value = serialised[id(reasons)] = reasons_field.get_db_prep_save(
                    list(reasons), connection
                )
            rows.append({"child_id": c, "policy_id": p, "reasons": value, "found_at": found_at})
        bulk_insert(WorklistItem, rows, prepared=frozenset({"reasons", "found_at"}))
    return Outcome(added=len(new_pairs), lapsed=len(gone), kept=len(existing) - len(gone))


@transaction.atomic
def child_rematch(*, child: Child, actor: User | None = None) -> Outcome:
    """Re-check one child against every active policy covering its area."""
    policies = _policies_for_area(child.area.path)
    wanted: dict[tuple[int, int], list[str] | None] = {}
    if child.status == Status.ACTIVE and child.anonymised_at is None and policies:
        record = child_record(child)
        receiving = _receiving(child_ids=[child.pk])
        for policy in policies:
            if (child.pk, policy.pk) in receiving:
                continue
            match = _compiled_for(policy).explain(record)
            if match.eligible:
                wanted[(child.pk, policy.pk)] = match.reasons
    return _sync(wanted, Q(child=child), lambda c, p: [], actor)


def _children_records(children: Iterable[Child], *, need_disability: bool) -> dict[int, dict]:
    today = timezone.localdate()
    out = {}
    for child in children:
        out[child.pk] = child_record(child, today=today, with_disability=need_disability)
    return out


def _active_children(area_path: str | None = None):
    qs = Child.objects.filter(status=Status.ACTIVE, anonymised_at__isnull=True).select_related(
        "area"
    )
    if area_path:
        qs = qs.filter(area__path__startswith=area_path)
    return qs


@transaction.atomic
def policy_rematch(*, policy: Policy, actor: User | None = None) -> Outcome:
    """Re-check one policy over every active child of its area (after the policy changed)."""
    if not policy.active:
        return _sync({}, Q(policy=policy), lambda c, p: [], actor)
    compiled = _compiled_for(policy)
    need = "disability_grade" in compiled.fields
    children = _active_children(policy.area.path)
    if not need:
        # Nothing encrypted is read: skip loading (and decrypting) any of it.
        children = children.defer(*encrypted_field_names(Child))
    records = _children_records(children, need_disability=need)
    index = EligibilityIndex(
        {policy.pk: policy.eligibility or {"all": []}},
        records,
        receiving=_receiving(policy_ids=[policy.pk]),
        fields=FIELDS,
        labels=LABELS,
    )
    pairs = index.pairs()
    wanted = {(c, p): None for p, c in pairs}
    return _sync(wanted, Q(policy=policy), lambda c, p: list(index.explain(c, p).reasons), actor)


def _records_columns(need_disability: bool) -> tuple[dict[int, dict], dict[int, str]]:
    """Eligibility records and area paths of every active child, read as plain columns.

    No model instances and no decryption except the disability details when a rule reads the
    grade: 100,000 children in about a second instead of ten.
    """
    today = timezone.localdate()
    cols = [
        "pk",
        "categories",
        "birth_date",
        "sex",
        "low_income",
        "school_stage",
        "risk_level",
        "status",
        "area__path",
    ]
    if need_disability:
        cols.append("disability")
    records: dict[int, dict] = {}
    paths: dict[int, str] = {}
    codes_of: dict[str, dict[str, str]] = {}
    qs = Child.objects.filter(status=Status.ACTIVE, anonymised_at__isnull=True)
    for row in qs.values_list(*cols).iterator(chunk_size=5000):
        pk, cats, birth, sex, low, stage, risk, status, path = row[:9]
        codes = codes_of.get(path)
        if codes is None:
            codes = codes_of[path] = _area_codes(path)
        record = {
            "categories": list(cats or []),
            "age": age_on(birth, today),
            "sex": sex,
            "low_income": bool(low),
            "school_stage": stage,
            "risk_level": risk,
            "status": status,
            **codes,
        }
        if need_disability:
            grade = (row[9] or {}).get("grade")
            if isinstance(grade, int | str) and str(grade).isdigit():
                record["disability_grade"] = int(grade)
        records[pk] = record
        paths[pk] = path
    return records, paths


@transaction.atomic
def rematch_all(*, actor: User | None = None) -> Outcome:
    """Rebuild the whole worklist (every active policy × every active child), column-wise."""
    policies = list(Policy.objects.filter(active=True).select_related("area"))
    rules = {p.pk: p.eligibility or {"all": []} for p in policies}
    need = any("disability_grade" in _compiled_for(p).fields for p in policies)
    records, paths = _records_columns(need)
    index = EligibilityIndex(rules, records, receiving=_receiving(), fields=FIELDS, labels=LABELS)
    policy_paths = {p.pk: p.area.path for p in policies}
    # A policy applies only within its own area's menu.
    wanted = {(c, p): None for p, c in index.pairs() if paths[c].startswith(policy_paths[p])}
    return _sync(wanted, Q(), _explainer(policies, records), actor)


def _explainer(policies: list[Policy], records: dict[int, dict]):
    """``explain(child_id, policy_id)`` → reasons, computed once per distinct combination of the
    values the rule reads (a rule's reasons depend on nothing else): 100,000s of matches share a
    few thousand explanations."""
    compiled = {p.pk: _compiled_for(p) for p in policies}
    reads = {pk: sorted(rule.fields) for pk, rule in compiled.items()}
    memo: dict[tuple, list[str]] = {}

    def frozen(value):
        return tuple(value) if isinstance(value, list) else value

    def explain(c: int, p: int) -> list[str]:
        record = records[c]
        key = (p, *(frozen(record.get(f)) for f in reads[p]))
        reasons = memo.get(key)
        if reasons is None:
            reasons = memo[key] = list(compiled[p].explain(record).reasons)
        return reasons

    return explain
