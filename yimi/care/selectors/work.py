"""Reads of the daily work: who is due a visit, follow-ups, the menu, the worklist, "my day".

Every list starts from :mod:`yimi.care.policy` (``children_visible_to``, ``orders_visible_to``,
``tasks_visible_to``), so nothing here can show a child outside the reader's scope.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from yimi.core.models import Area, User
from yimi.core.roles import Role

from .. import matching, policy
from ..eligibility import EligibilityIndex
from ..models import (
    Category,
    Child,
    Order,
    OrderTask,
    Policy,
    Risk,
    SchoolStage,
    Section,
    Sex,
    Status,
    Visit,
    WorklistItem,
)

# "Due" is this week; "upcoming" the week after (the visits page shows 14 days ahead).
DUE_DAYS = 7
UPCOMING_DAYS = 14
DUE_CHOICES = ("overdue", "due", "upcoming")

# Encrypted columns a list of children never needs (the name is shown; nothing else is).
_LIST_DEFER = (
    "id_number",
    "address",
    "phone",
    "school",
    "education",
    "health",
    "disability",
    "welfare",
    "notes",
)


# ------------------------------------------------------------------------------ visits


def _active(qs: QuerySet[Child]) -> QuerySet[Child]:
    return qs.filter(status=Status.ACTIVE, anonymised_at__isnull=True)


def visit_schedule(
    user: User | None, *, due: str = "due", today: dt.date | None = None
) -> QuerySet[Child]:
    """Children of the user's area by ``next_visit_due``: ``overdue`` (before today), ``due``
    (today and the next 6 days), ``upcoming`` (the week after)."""
    if not policy.is_caseworker(user):
        return Child.objects.none()
    today = today or timezone.localdate()
    qs = _active(policy.children_visible_to(user)).filter(next_visit_due__isnull=False)
    if due == "overdue":
        qs = qs.filter(next_visit_due__lt=today)
    elif due == "due":
        qs = qs.filter(
            next_visit_due__gte=today, next_visit_due__lt=today + dt.timedelta(days=DUE_DAYS)
        )
    elif due == "upcoming":
        qs = qs.filter(
            next_visit_due__gte=today + dt.timedelta(days=DUE_DAYS),
            next_visit_due__lte=today + dt.timedelta(days=UPCOMING_DAYS),
        )
    else:
        raise ValueError(due)
    return qs.select_related("area").defer(*_LIST_DEFER).order_by("next_visit_due", "file_no")


def community_of(area: Area) -> str:
    """The 社区 code of an area (a 网格's community; the area itself above that level)."""
    codes = [c for c in area.path.split("/") if c]
    return codes[3] if len(codes) > 3 else codes[-1]


@dataclass
class CommunityGroup:
    """A supervisor's view: one community, its child directors, its children."""

    community: Area | None
    directors: list[User] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)


def group_by_community(children: list[Child]) -> list[CommunityGroup]:
    """Group children by community with the community's child directors (two queries)."""
    codes = sorted({community_of(c.area) for c in children})
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    directors: dict[int, list[User]] = defaultdict(list)
    for u in User.objects.filter(role=Role.DIRECTOR, area__code__in=codes, is_active=True).order_by(
        "username"
    ):
        directors[u.area_id].append(u)
    groups: dict[str, CommunityGroup] = {}
    for child in children:
        code = community_of(child.area)
        area = areas.get(code)
        group = groups.get(code)
        if group is None:
            group = groups[code] = CommunityGroup(
                community=area, directors=directors.get(area.pk, []) if area else []
            )
        group.children.append(child)
    return sorted(groups.values(), key=lambda g: g.community.path if g.community else "")


@dataclass
class FollowUp:
    visit: Visit
    index: int
    action: str
    due: dt.date
    overdue: bool


def follow_ups_due(
    user: User | None, *, today: dt.date | None = None, within_days: int = DUE_DAYS
) -> list[FollowUp]:
    """Open follow-up actions of the user's children due within ``within_days`` (or overdue).

    Follow-ups are encrypted, so visits with any are read and filtered here; a community has
    tens to hundreds of children, and only visits with follow-ups are loaded.
    """
    if not policy.is_caseworker(user):
        return []
    today = today or timezone.localdate()
    limit = today + dt.timedelta(days=within_days)
    visits = (
        Visit.objects.filter(
            child__in=_active(policy.children_visible_to(user)), follow_ups__isnull=False
        )
        .select_related("child__area")
        .defer(*(f"child__{f}" for f in _LIST_DEFER), "findings")
        .order_by("visited_on", "pk")
    )
    out = []
    for visit in visits:
        for i, item in enumerate(visit.follow_ups or []):
            if item.get("done"):
                continue
            try:
                due = dt.date.fromisoformat(str(item.get("due")))
            except ValueError:
                continue
            if due <= limit:
                out.append(FollowUp(visit, i, str(item.get("action", "")), due, due < today))
    out.sort(key=lambda f: (f.due, f.visit.child.file_no))
    return out


def visit_get(user: User | None, pk: int) -> Visit:
    """A visit of a child the user may see with the visits section (else DoesNotExist)."""
    visit = Visit.objects.select_related("child__area", "visitor").get(pk=pk)
    if Section.VISITS not in policy.sections_for(user, visit.child):
        raise Visit.DoesNotExist
    return visit


def last_visits(child: Child, n: int = 3) -> list[Visit]:
    return list(Visit.objects.filter(child=child).select_related("visitor")[:n])


# ------------------------------------------------------------------------------ the menu


def _ancestor_paths(path: str) -> list[str]:
    parts = [c for c in path.split("/") if c]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def policy_list(user: User | None, *, include_inactive: bool = False) -> QuerySet[Policy]:
    """The menu as the user sees it: the menus covering the user's area (its own and those
    above) and, for the 妇儿工委办, the menus below it; inactive items only for those who keep
    the menu."""
    if not (policy.may_use_care(user) or getattr(user, "is_yimi_staff", False)):
        return Policy.objects.none()
    qs = Policy.objects.all()
    if user.area_id is not None:
        q = Q(area__path__in=_ancestor_paths(user.area.path))
        if policy.can_manage_menu(user):
            q |= Q(area__path__startswith=user.area.path)
        qs = qs.filter(q)
    elif not (user.is_superuser or user.role == Role.ADMIN):
        return Policy.objects.none()
    if not (include_inactive and policy.can_manage_menu(user)):
        qs = qs.filter(active=True)
    return (
        qs.select_related("lead_department", "area")
        .prefetch_related("cooperating")
        .order_by("domain", "code")
    )


def policy_get(user: User | None, pk: int) -> Policy:
    return policy_list(user, include_inactive=True).get(pk=pk)


def policy_count_qualifying(user: User | None, rule: dict, area: Area | None = None) -> int:
    """How many active children of ``area`` (default: the user's) a rule selects now.

    A count only: the 妇儿工委办 sees totals, never names.
    """
    area = area or (user.area if user is not None else None)
    qs = matching._active_children(area.path if area is not None else None).defer(
        "name", *[f for f in _LIST_DEFER if f != "disability"]
    )
    today = timezone.localdate()
    records = {c.pk: matching.child_record(c, today=today) for c in qs}
    index = EligibilityIndex(
        {"preview": rule}, records, fields=matching.FIELDS, labels=matching.LABELS
    )
    return len(index.pairs())


# ------------------------------------------------------------------------------ rule builder

FIELD_LABELS = {
    "categories": _("Category"),
    "age": _("Age (years)"),
    "sex": _("Sex"),
    "low_income": _("Subsistence or extreme-poverty household"),
    "disability_grade": _("Disability grade"),
    "school_stage": _("School stage"),
    "risk_level": _("Risk level"),
    "status": _("Status"),
    "district": _("District (division code)"),
    "street": _("Street (division code)"),
    "community": _("Community (division code)"),
}
OP_LABELS = {
    "=": _("is"),
    "!=": _("is not"),
    "<": _("is less than"),
    "<=": _("is at most"),
    ">": _("is more than"),
    ">=": _("is at least"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "exists": _("is recorded"),
    "between": _("is between"),
}
FIELD_CHOICES = {
    "categories": Category,
    "sex": Sex,
    "school_stage": SchoolStage,
    "risk_level": Risk,
    "status": Status,
}
_SPLIT = re.compile(r"\s*[,，、;；]\s*")
_TRUE = {"true", "yes", "1", "是", "有", "y"}
_FALSE = {"false", "no", "0", "否", "无", "n"}


def _choice_code(name: str, token: str) -> str:
    choices = FIELD_CHOICES.get(name)
    if choices is None:
        return token
    for code, label in choices.choices:
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        if token in (code, zh, en) or token.lower() == en.lower():
            return code
    return token


def _scalar(name: str, token: str) -> Any:
    ftype = matching.FIELDS.get(name)
    token = token.strip()
    if ftype is int:
        try:
            return int(token)
        except ValueError:
            return token
    if ftype is bool:
        low = token.lower()
        return True if low in _TRUE else False if low in _FALSE else token
    return _choice_code(name, token)


def condition_value(name: str, op: str, text: str) -> Any:
    """A typed rule value from what was typed (codes or labels; lists split on commas)."""
    text = (text or "").strip()
    if op == "exists":
        low = text.lower()
        return low not in _FALSE
    if op in ("in", "not_in", "between"):
        return [_scalar(name, t) for t in _SPLIT.split(text) if t]
    return _scalar(name, text)


def rule_from_conditions(conditions: list[dict[str, str]], combine: str = "all") -> dict:
    """A rule from rows of ``{"field", "op", "value"}`` (blank rows skipped)."""
    leaves = [
        {
            "field": c["field"],
            "op": c["op"],
            "value": condition_value(c["field"], c["op"], c.get("value", "")),
        }
        for c in conditions
        if c.get("field") and c.get("op")
    ]
    return {"any" if combine == "any" else "all": leaves}


def _value_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "，".join(_value_text(name, v) for v in value)
    choices = FIELD_CHOICES.get(name)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value)


def conditions_from_rule(rule: dict | None) -> tuple[str, list[dict[str, str]]] | None:
    """The builder rows of a flat rule (one all/any of leaves); None when it is nested."""
    rule = rule or {"all": []}
    if "field" in rule:
        rule = {"all": [rule]}
    for combine in ("all", "any"):
        if combine in rule and len(rule) == 1:
            leaves = rule[combine]
            if not isinstance(leaves, list) or any(
                not isinstance(x, dict) or "field" not in x for x in leaves
            ):
                return None
            return combine, [
                {
                    "field": x.get("field", ""),
                    "op": x.get("op", ""),
                    "value": _value_text(x.get("field", ""), x.get("value")),
                }
                for x in leaves
            ]
    return None


# ------------------------------------------------------------------------------ the worklist

# Codes of record values that the stored reasons may carry, readable in the current language.
_VALUE_CHOICES = (Category, SchoolStage, Risk, Sex, Status)
_CODE = re.compile(r"\b[a-z][a-z_]+\b")


def reason_display(reason: str) -> str:
    """A stored reason ("类别含 left_behind") with value codes as labels ("类别含 留守儿童")."""
    labels = {code: str(label) for choices in _VALUE_CHOICES for code, label in choices.choices}
    return _CODE.sub(lambda m: labels.get(m.group(0), m.group(0)), reason)


def worklist_open(user: User | None) -> QuerySet[WorklistItem]:
    """Open 政策找人 matches of the children of the user's area (caseworkers only)."""
    if not policy.is_caseworker(user):
        return WorklistItem.objects.none()
    return (
        WorklistItem.objects.filter(
            state=WorklistItem.State.OPEN, child__in=policy.children_visible_to(user)
        )
        .select_related("child__area", "policy__lead_department")
        .defer(*(f"child__{f}" for f in _LIST_DEFER))
        .order_by("-found_at", "-pk")
    )


def worklist_item_get(user: User | None, pk: int) -> WorklistItem:
    if not policy.is_caseworker(user):
        raise WorklistItem.DoesNotExist
    return WorklistItem.objects.select_related("child__area", "policy").get(
        pk=pk, child__in=policy.children_visible_to(user)
    )


# ------------------------------------------------------------------------------ my day


def home_summary(user: User | None, *, today: dt.date | None = None) -> dict[str, Any]:
    """What the user's day holds, by role (counts for oversight; nothing identifying)."""
    today = today or timezone.localdate()
    out: dict[str, Any] = {"kind": None}
    if policy.is_caseworker(user):
        out.update(
            kind="caseworker",
            overdue=list(visit_schedule(user, due="overdue", today=today)),
            due=list(visit_schedule(user, due="due", today=today)),
            worklist=worklist_open(user).count(),
            worklist_top=list(worklist_open(user)[:5]),
            orders_waiting=policy.orders_visible_to(user).filter(state=Order.State.APPLIED).count(),
            follow_ups=follow_ups_due(user, today=today),
        )
    elif policy.is_oversight(user):
        children = _active(policy.children_visible_to(user))
        by_risk = dict(children.values_list("risk_level").annotate(n=Count("pk")))
        orders = policy.orders_visible_to(user)
        out.update(
            kind="oversight",
            children=sum(by_risk.values()),
            by_risk=[(Risk(r).label, by_risk.get(r, 0)) for r in Risk.values],
            overdue=children.filter(next_visit_due__lt=today).count(),
            worklist=WorklistItem.objects.filter(
                state=WorklistItem.State.OPEN, child__in=children
            ).count(),
            escalated=orders.filter(escalated_at__isnull=False)
            .exclude(state__in=(Order.State.DONE, Order.State.FOLLOWED_UP))
            .exclude(state__in=(Order.State.REJECTED, Order.State.WITHDRAWN))
            .count(),
            policies=policy_list(user).count(),
        )
    elif policy.is_department(user):
        out.update(
            kind="department",
            tasks=policy.tasks_visible_to(user).filter(state=OrderTask.State.OPEN).count(),
        )
    elif policy.is_volunteer(user):
        out.update(kind="volunteer", children=policy.children_visible_to(user).count())
    return out
