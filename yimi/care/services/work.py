"""Writes of the daily work: visits and their follow-ups, the aid menu (菜单), the 政策找人 worklist.

Every service is keyword-only and atomic, checks :mod:`yimi.care.policy`, writes its audit row
with :func:`~.common.care_snapshot` and, where a child's file changes, a timeline entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, Department, User
from yimi.core.services import PermissionDenied, ServiceError, audit_record

from .. import matching, policy
from ..eligibility import RuleError
from ..models import (
    Aspect,
    Child,
    ChildEvent,
    Domain,
    Policy,
    Risk,
    Section,
    Status,
    Visit,
    WorklistItem,
)
from ..schedule import child_schedule_refresh
from .common import care_snapshot, event_add

MAX_FINDING = 2000
MAX_FOLLOW_UPS = 20


def _zh(label) -> str:
    """A choice label in Chinese: timeline summaries are stored text, read by Chinese staff."""
    with translation.override("zh-hans"):
        return str(label)


# ------------------------------------------------------------------------------ visits


def _editable_child(actor: User | None, child: Child) -> None:
    if not policy.can_edit_records(actor):
        raise PermissionDenied(_("Only child directors and supervisors may record visits."))
    if not policy.children_visible_to(actor).filter(pk=child.pk).exists():
        raise PermissionDenied(_("This child is not on the register of your area."))


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ServiceError(
            _("%(what)s is not a date (YYYY-MM-DD): %(value)s") % {"what": what, "value": value}
        ) from exc


def _clean_findings(findings: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(findings) - set(Aspect.values))
    if unknown:
        raise ServiceError(
            _("Unknown aspects of a visit: %(names)s") % {"names": ", ".join(unknown)}
        )
    cleaned = {a: str(findings.get(a) or "").strip() for a in Aspect.values}
    missing = [str(Aspect(a).label) for a, text in cleaned.items() if not text]
    if missing:
        raise ServiceError(
            _("A visit covers all 8 aspects; write what was found for: %(names)s")
            % {"names": "、".join(missing)},
            details=[
                {"field": f"findings.{a}", "message": _("Required.")}
                for a in cleaned
                if not cleaned[a]
            ],
        )
    too_long = [a for a, text in cleaned.items() if len(text) > MAX_FINDING]
    if too_long:
        raise ServiceError(
            _("What was found is limited to %(n)d characters per aspect.") % {"n": MAX_FINDING}
        )
    return cleaned


def _clean_follow_ups(follow_ups: Iterable[Mapping[str, Any]], visited_on: dt.date) -> list[dict]:
    out = []
    for i, item in enumerate(follow_ups or ()):
        action = str(item.get("action") or "").strip()
        if not action:
            continue
        if len(action) > 500:
            raise ServiceError(_("A follow-up action is limited to 500 characters."))
        due = _date(item.get("due"), _("The due date of follow-up %(n)d") % {"n": i + 1})
        if due < visited_on:
            raise ServiceError(_("A follow-up cannot be due before the visit."))
        out.append({"action": action, "due": due.isoformat(), "done": bool(item.get("done"))})
    if len(out) > MAX_FOLLOW_UPS:
        raise ServiceError(_("At most %(n)d follow-up actions per visit.") % {"n": MAX_FOLLOW_UPS})
    return out


def _risk_set(*, actor: User | None, child: Child, risk: str, why: str) -> bool:
    """Change the child's risk level (timeline entry and audit row); False when unchanged."""
    if risk == child.risk_level:
        return False
    before = care_snapshot(child)
    old_label = _zh(Risk(child.risk_level).label) if child.risk_level in Risk.values else "-"
    child.risk_level = risk
    Child.objects.filter(pk=child.pk).update(risk_level=risk, updated_at=timezone.now())
    event_add(
        child=child,
        kind=ChildEvent.Kind.UPDATED,
        summary=f"风险等级 {old_label} → {_zh(Risk(risk).label)}（{why}）",
        actor=actor,
        section=Section.VISITS,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=child,
        before=before,
        after=care_snapshot(child),
        note=f"risk_level after {why}",
        area_path=child.area.path,
    )
    return True


@transaction.atomic
def visit_record(
    *,
    actor: User | None,
    child: Child,
    visited_on: dt.date | str,
    kind: str = Visit.Kind.HOME,
    findings: Mapping[str, str],
    concerns: Iterable[str] = (),
    follow_ups: Iterable[Mapping[str, Any]] = (),
    risk_after: str = "",
) -> Visit:
    """Record a visit covering the 8 aspects; reschedules the next one and re-matches policies."""
    _editable_child(actor, child)
    child = Child.objects.select_for_update().select_related("area").get(pk=child.pk)
    if child.status != Status.ACTIVE or child.anonymised_at is not None:
        raise ServiceError(_("Visits are recorded only for children on the register."))
    visited_on = _date(visited_on, _("The visit date"))
    today = timezone.localdate()
    if visited_on > today:
        raise ServiceError(_("A visit cannot be recorded for a future date."))
    if kind not in Visit.Kind.values:
        raise ServiceError(_("Unknown kind of visit: %(kind)s") % {"kind": kind})
    cleaned = _clean_findings(findings)
    concerns = sorted(set(concerns))
    unknown = [c for c in concerns if c not in Aspect.values]
    if unknown:
        raise ServiceError(
            _("Unknown aspects of a visit: %(names)s") % {"names": ", ".join(unknown)}
        )
    actions = _clean_follow_ups(follow_ups, visited_on)
    if risk_after and risk_after not in Risk.values:
        raise ServiceError(_("Unknown risk level: %(risk)s") % {"risk": risk_after})

    visit = Visit.objects.create(
        child=child,
        visited_on=visited_on,
        kind=kind,
        visitor=actor if actor is not None and actor.is_authenticated else None,
        findings=cleaned,
        concerns=concerns,
        follow_ups=actions or None,
        risk_after=risk_after or "",
    )
    parts = [f"{_zh(Visit.Kind(kind).label)} {visited_on.isoformat()}"]
    if concerns:
        parts.append("关注：" + "、".join(_zh(Aspect(c).label) for c in concerns))
    if actions:
        parts.append(f"后续行动 {len(actions)} 项")
    event_add(
        child=child,
        kind=ChildEvent.Kind.VISIT,
        summary="；".join(parts),
        actor=actor,
        section=Section.VISITS,
        obj=visit,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=visit,
        after=care_snapshot(visit),
        area_path=child.area.path,
    )
    if risk_after:
        _risk_set(actor=actor, child=child, risk=risk_after, why="走访")
    child_schedule_refresh(child=child)
    matching.child_rematch(child=child, actor=actor)
    return visit


@transaction.atomic
def visit_follow_up_done(
    *, actor: User | None, visit: Visit, index: int, done: bool = True
) -> Visit:
    """Mark follow-up action number ``index`` of a visit done (or not done again)."""
    _editable_child(actor, visit.child)
    visit = Visit.objects.select_for_update().select_related("child__area").get(pk=visit.pk)
    actions = list(visit.follow_ups or [])
    if not 0 <= index < len(actions):
        raise ServiceError(_("This visit has no such follow-up action."), code="not_found")
    before = care_snapshot(visit)
    item = dict(actions[index])
    if bool(item.get("done")) == done:
        return visit
    item["done"] = done
    item["done_on"] = timezone.localdate().isoformat() if done else None
    actions[index] = item
    visit.follow_ups = actions
    visit.save(update_fields=["follow_ups"])
    event_add(
        child=visit.child,
        kind=ChildEvent.Kind.VISIT,
        summary=(
            f"走访 {visit.visited_on.isoformat()} 的后续行动第 {index + 1} 项"
            + ("已完成" if done else "重新打开")
        ),
        actor=actor,
        section=Section.VISITS,
        obj=visit,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=visit,
        before=before,
        after=care_snapshot(visit),
        note=f"follow-up {index + 1} {'done' if done else 'reopened'}",
        area_path=visit.child.area.path,
    )
    return visit


# ------------------------------------------------------------------------------ the menu

POLICY_FIELDS = (
    "code",
    "name",
    "domain",
    "benefit",
    "basis",
    "lead_department",
    "cooperating",
    "step_days",
    "eligibility",
    "sections",
    "active",
)


def policy_editable(user: User | None, item: Policy) -> bool:
    """Whether ``user`` keeps the menu ``item`` belongs to (its own area or one below)."""
    if not policy.can_manage_menu(user):
        return False
    if user.area_id is None:
        return True  # a system administrator without an area keeps every menu
    return item.area.path.startswith(user.area.path)


def rule_errors(rule: Any) -> list[dict[str, str]]:
    """Problems of an eligibility rule as ``[{"path", "message"}]`` (empty: valid)."""
    if not isinstance(rule, dict):
        return [{"path": "", "message": _("A rule is a JSON object.")}]
    try:
        matching.compile_policy_rule(rule)
    except RuleError as exc:
        return [{"path": path or "rule", "message": msg} for path, msg in exc.errors]
    return []


def _clean_rule(rule: Any) -> dict:
    if isinstance(rule, str):
        try:
            rule = json.loads(rule or "{}")
        except json.JSONDecodeError as exc:
            raise ServiceError(
                _("The eligibility rule is not valid JSON: %(e)s") % {"e": exc},
                details=[{"path": "", "message": str(exc)}],
            ) from exc
    rule = rule or {"all": []}
    errors = rule_errors(rule)
    if errors:
        raise ServiceError(
            _("The eligibility rule has %(n)d problem(s).") % {"n": len(errors)},
            details=errors,
        )
    return rule


def _clean_step_days(step_days: Mapping[str, Any] | None) -> dict[str, int]:
    out = {}
    for step in Policy.STEPS:
        value = (step_days or {}).get(step)
        try:
            days = int(value)
        except (TypeError, ValueError) as exc:
            raise ServiceError(
                _("Give the days allowed for each step (confirm, handle, follow up).")
            ) from exc
        if not 1 <= days <= 365:
            raise ServiceError(_("The days allowed for a step are between 1 and 365."))
        out[step] = days
    return out


def _clean_policy_fields(fields: dict[str, Any], area: Area) -> dict[str, Any]:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ServiceError(
            _("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    out = dict(fields)
    for key in ("code", "name", "benefit", "basis"):
        if key in out:
            out[key] = str(out[key] or "").strip()
    if "name" in out and not out["name"]:
        raise ServiceError(_("A policy needs a name."))
    if "benefit" in out and not out["benefit"]:
        raise ServiceError(_("Say what the policy gives."))
    if "domain" in out and out["domain"] not in Domain.values:
        raise ServiceError(_("Choose the policy's domain."))
    if "step_days" in out:
        out["step_days"] = _clean_step_days(out["step_days"])
    if "eligibility" in out:
        out["eligibility"] = _clean_rule(out["eligibility"])
    if "sections" in out:
        sections = list(dict.fromkeys(out["sections"] or []))
        bad = [s for s in sections if s not in Section.values]
        if bad:
            raise ServiceError(_("Unknown record sections: %(s)s") % {"s": ", ".join(bad)})
        if Section.IDENTITY in sections:
            raise ServiceError(_("Identity numbers are never shared with departments."))
        out["sections"] = sections
    # Departments of the menu's area, or of the areas above it (a city bureau may lead).
    for key in ("lead_department", "cooperating"):
        if key not in out:
            continue
        depts = [out[key]] if key == "lead_department" else list(out[key] or [])
        depts = [d if isinstance(d, Department) else _department(d) for d in depts]
        for d in depts:
            if d is None:
                raise ServiceError(_("Unknown department."))
            if not (area.path.startswith(d.area.path) or d.area.path.startswith(area.path)):
                raise ServiceError(
                    _("Department “%(d)s” does not work in this menu's area.") % {"d": d.name}
                )
        out[key] = depts[0] if key == "lead_department" else depts
    if "lead_department" in out and out["lead_department"] is None:
        raise ServiceError(_("Choose the lead department."))
    return out


def _department(value: Any) -> Department | None:
    try:
        return Department.objects.select_related("area").get(pk=int(value))
    except (Department.DoesNotExist, TypeError, ValueError):
        return None


def _policy_snapshot(item: Policy) -> dict:
    data = care_snapshot(item)
    data["cooperating"] = sorted(item.cooperating.values_list("pk", flat=True)) if item.pk else []
    return data


def _next_code(area: Area) -> str:
    n = Policy.objects.filter(area=area).count() + 1
    while Policy.objects.filter(code=f"P{area.code}-{n:02d}").exists():
        n += 1
    return f"P{area.code}-{n:02d}"


@transaction.atomic
def policy_create(*, actor: User | None, area: Area | None = None, **fields: Any) -> Policy:
    """Add a policy to the menu of ``area`` (default: the actor's); re-matches its children."""
    if not policy.can_manage_menu(actor):
        raise PermissionDenied(
            _("Only the Women and Children Working Committee Office keeps the menu.")
        )
    area = area or actor.area
    if area is None:
        raise ServiceError(_("Choose the area whose menu the policy belongs to."))
    if actor.area_id is not None and not area.path.startswith(actor.area.path):
        raise PermissionDenied(_("You may only keep the menu of your own area."))
    for required in ("name", "domain", "benefit", "lead_department"):
        if not fields.get(required):
            raise ServiceError(
                _("A policy needs a name, a domain, what it gives and a lead department.")
            )
    fields.setdefault("step_days", {"confirm": 3, "handle": 15, "follow_up": 30})
    fields.setdefault("eligibility", {"all": []})
    fields.setdefault("sections", [Section.BASIC])
    cleaned = _clean_policy_fields(fields, area)
    cooperating = cleaned.pop("cooperating", [])
    if not cleaned.get("code"):
        cleaned["code"] = _next_code(area)
    if Policy.objects.filter(code=cleaned["code"]).exists():
        raise ServiceError(
            _("Another policy has the code %(c)s.") % {"c": cleaned["code"]}, code="conflict"
        )
    item = Policy.objects.create(area=area, **cleaned)
    item.cooperating.set(cooperating)
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=item,
        after=_policy_snapshot(item),
        area_path=area.path,
    )
    matching.policy_rematch(policy=item, actor=actor)
    return item


@transaction.atomic
def policy_update(*, actor: User | None, policy_obj: Policy, **fields: Any) -> Policy:
    """Change a policy of the menu; re-matches its children when anything changed."""
    item = Policy.objects.select_for_update().select_related("area").get(pk=policy_obj.pk)
    if not policy_editable(actor, item):
        raise PermissionDenied(
            _(
                "Only the Women and Children Working Committee Office of this area may change this policy."
            )
        )
    if "code" in fields and fields["code"] != item.code:
        raise ServiceError(_("A policy's code cannot be changed."))
    fields.pop("code", None)
    cleaned = _clean_policy_fields(fields, item.area)
    before = _policy_snapshot(item)
    cooperating = cleaned.pop("cooperating", None)
    for key, value in cleaned.items():
        setattr(item, key, value)
    item.save()
    if cooperating is not None:
        item.cooperating.set(cooperating)
    after = _policy_snapshot(item)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=item,
            before=before,
            after=after,
            area_path=item.area.path,
        )
        matching.policy_rematch(policy=item, actor=actor)
    return item


# ------------------------------------------------------------------------------ the worklist


@transaction.atomic
def worklist_dismiss(*, actor: User | None, item: WorklistItem, note: str) -> WorklistItem:
    """Take a match off the worklist with the reason (the child is not offered it again)."""
    if not policy.can_edit_records(actor):
        raise PermissionDenied(_("Only child directors and supervisors work the worklist."))
    item = (
        WorklistItem.objects.select_for_update()
        .select_related("child__area", "policy")
        .get(pk=item.pk)
    )
    if not policy.children_visible_to(actor).filter(pk=item.child_id).exists():
        raise PermissionDenied(_("This child is not on the register of your area."))
    if item.state != WorklistItem.State.OPEN:
        raise ServiceError(_("This match is no longer open."), code="conflict")
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Say why the policy is not offered."))
    if len(note) > 300:
        raise ServiceError(_("The note is limited to 300 characters."))
    before = care_snapshot(item)
    item.state = WorklistItem.State.DISMISSED
    item.note = note
    item.resolved_at = timezone.now()
    item.resolved_by = actor if actor is not None and actor.is_authenticated else None
    item.save(update_fields=["state", "note", "resolved_at", "resolved_by"])
    event_add(
        child=item.child,
        kind=ChildEvent.Kind.MATCH,
        summary=f"政策找人：不推荐「{item.policy.name}」",
        actor=actor,
        section=Section.ORDERS,
        obj=item,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=item,
        before=before,
        after=care_snapshot(item),
        area_path=item.child.area.path,
    )
    return item


def worklist_rematch(*, actor: User | None) -> matching.Outcome:
    """Rebuild the whole worklist (``yimi care-rematch``), audited."""
    outcome = matching.rematch_all(actor=actor)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        object_type="care.worklist",
        object_repr="rematch_all",
        after={"added": outcome.added, "lapsed": outcome.lapsed, "kept": outcome.kept},
        note="政策找人 full rematch",
    )
    return outcome
