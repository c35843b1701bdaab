"""Statistics of the voice part for staff: suggestions by topic, area and department, adoption
rate, median response time, overdue counts and participation; an Excel export (no personal data).

Scope: every count passes through ``visible_to(user, "stats")`` — the user's area and below, and
for a department only its own suggestions. Each figure is one aggregate query (a fixed number of
queries whatever the number of rows).

Definitions
-----------
- answered: handling status ``answered`` with a decision on the adoption scale;
- adoption rate = (采纳 + 部分采纳) / answered; 列入计划 and 暂不采纳 count as answered, not adopted;
- response time: from the letter's arrival (``created_at``) to the answer (``answered_at``), in
  days; the median is the middle value (mean of the two middle ones for an even count);
- overdue: not answered and its handling deadline (``due_on``) is before today;
- participation: attendances at observer-group activities (one per member per activity),
  distinct members who attended, event registrations holding places and the children they
  registered, children checked in, and walk-in participants.
"""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import STAFF_ROLES
from yimi.core.services import audit_record

from ..models import Activity, Adoption, Event, ObserverGroup, Registration, Suggestion, Topic
from ..services.cobuilding import HOLDING
from ..services.handling import overdue_q

ADOPTED = (Adoption.ADOPTED, Adoption.PARTLY)


def may_see_stats(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or getattr(user, "role", None) in STAFF_ROLES)
    )


def _suggestions(user: User) -> QuerySet[Suggestion]:
    return Suggestion.objects.visible_to(user, "stats")


def _answered_q() -> Q:
    return Q(status=Suggestion.Status.ANSWERED) & ~Q(adoption="")


def _counts() -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "total": Count("id"),
        "answered": Count("id", filter=_answered_q()),
        "adopted": Count("id", filter=_answered_q() & Q(adoption__in=ADOPTED)),
        "overdue": Count("id", filter=overdue_q(today)),
    }


def adoption_rate(adopted: int, answered: int) -> float | None:
    """(采纳 + 部分采纳) / answered, as a percentage with one decimal; None when nothing answered."""
    return round(100 * adopted / answered, 1) if answered else None


def median_response_days(qs: QuerySet[Suggestion]) -> float | None:
    """The median of (answered_at − created_at) in days over the answered suggestions of ``qs``.

    Two or three queries: the count, then the one or two middle rows ordered by the duration
    (SQLite has no median aggregate; the database sorts, Python reads one or two values)."""
    answered = qs.filter(answered_at__isnull=False)
    n = answered.count()
    if n == 0:
        return None
    ordered = answered.annotate(
        took=ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())
    ).order_by("took", "id")
    lo = (n - 1) // 2
    hi = n // 2
    values = list(ordered.values_list("took", flat=True)[lo : hi + 1])
    days = [v.total_seconds() / 86400 for v in values]
    return round(sum(days) / len(days), 1)


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def _rows(values: list[dict[str, Any]], key: str, label) -> list[dict[str, Any]]:
    rows = []
    for r in values:
        rows.append(
            {
                "key": r[key],
                "label": label(r),
                "value": r["total"],
                "answered": r["answered"],
                "adopted": r["adopted"],
                "overdue": r["overdue"],
                "rate": adoption_rate(r["adopted"], r["answered"]),
            }
        )
    return with_bars(rows)


def with_bars(rows: list[dict[str, Any]], key: str = "value") -> list[dict[str, Any]]:
    largest = max([r[key] for r in rows] or [0])
    for r in rows:
        r["bar"] = (100.0 * r[key] / largest) if largest else 0.0
    return rows


def _area_level_below(user: User) -> tuple[Area | None, int]:
    """Suggestions are grouped by the areas one level below the user's (a city user sees
    districts, a district user streets …); administrators see districts."""
    area = getattr(user, "area", None)
    if area is None:
        return None, Area.Level.DISTRICT
    return area, min(area.level + 1, Area.Level.GRID)


def _by_area(qs: QuerySet[Suggestion], user: User) -> list[dict[str, Any]]:
    # One aggregate per distinct area of a suggestion, then each area is folded into its
    # ancestor one level below the user's: a loop over areas, not over suggestions.
    per_area = list(qs.values("area_id", "area__path").annotate(**_counts()).order_by("area__path"))
    _root, level = _area_level_below(user)
    codes_by_path: dict[str, str] = {}
    for r in per_area:
        path = r["area__path"] or ""
        parts = [c for c in path.split("/") if c]
        codes_by_path[path] = (
            parts[level - 1] if len(parts) >= level else (parts[-1] if parts else "")
        )
    names = dict(
        Area.objects.filter(code__in=set(codes_by_path.values())).values_list("code", "name")
    )
    folded: dict[str, dict[str, Any]] = {}
    for r in per_area:
        code = codes_by_path[r["area__path"] or ""]
        name = names.get(code) or code or _("No area")
        row = folded.setdefault(
            code,
            {"code": code, "name": name, "total": 0, "answered": 0, "adopted": 0, "overdue": 0},
        )
        for k in ("total", "answered", "adopted", "overdue"):
            row[k] += r[k]
    rows = sorted(folded.values(), key=lambda r: (-r["total"], r["name"]))
    return _rows(rows, "code", lambda r: r["name"])


def _participation(user: User) -> dict[str, int]:
    activities = Activity.objects.filter(group__in=_groups_visible(user))
    att = activities.aggregate(
        activities=Count("id", distinct=True),
        attendances=Count("attendees"),
        members=Count("attendees", distinct=True),
    )
    events = Event.objects.visible_to(user, "stats")
    ev = events.aggregate(events=Count("id"), walk_ins=Sum("walk_ins"))
    reg = Registration.objects.filter(event__in=events.values("pk")).aggregate(
        registrations=Count("id", filter=Q(status__in=HOLDING)),
        registered_children=Sum("children", filter=Q(status__in=HOLDING)),
        checked_in_children=Sum("children", filter=Q(status=Registration.Status.CHECKED_IN)),
    )
    out = {
        "activities": att["activities"] or 0,
        "attendances": att["attendances"] or 0,
        "members": att["members"] or 0,
        "events": ev["events"] or 0,
        "walk_ins": ev["walk_ins"] or 0,
        "registrations": reg["registrations"] or 0,
        "registered_children": reg["registered_children"] or 0,
        "checked_in_children": reg["checked_in_children"] or 0,
    }
    out["event_participants"] = out["checked_in_children"] + out["walk_ins"]
    out["total"] = out["attendances"] + out["event_participants"]
    return out


def _groups_visible(user: User):
    return ObserverGroup.objects.visible_to(user, "stats").values("pk")


def voice_stats(*, user: User) -> dict[str, Any]:
    """Every figure of the statistics page, scoped to the user."""
    qs = _suggestions(user)
    totals = qs.aggregate(**_counts())
    totals["rate"] = adoption_rate(totals["adopted"], totals["answered"])
    totals["median_days"] = median_response_days(qs)
    by_adoption = {
        r["adoption"]: r["n"]
        for r in qs.filter(_answered_q()).values("adoption").annotate(n=Count("id")).order_by()
    }
    by_topic = _rows(
        list(qs.values("topic").annotate(**_counts()).order_by("-total", "topic")),
        "topic",
        lambda r: _label(Topic, r["topic"]),
    )
    by_department = _rows(
        list(
            qs.values("department_id", "department__name")
            .annotate(**_counts())
            .order_by("-total", "department__name")
        ),
        "department_id",
        lambda r: r["department__name"] or _("Not assigned yet"),
    )
    for r in by_department:
        sub = qs.filter(department_id=r["key"]) if r["key"] else qs.filter(department__isnull=True)
        r["median_days"] = median_response_days(sub)
    area = getattr(user, "area", None)
    return {
        "scope": {
            "area_name": area.name if area else _("All areas"),
            "department": user.department.name
            if getattr(user, "department_id", None) and user.role == "department"
            else "",
        },
        "totals": totals,
        "by_adoption": with_bars(
            [
                {"key": a.value, "label": str(a.label), "value": by_adoption.get(a.value, 0)}
                for a in Adoption
            ]
        ),
        "by_topic": by_topic,
        "by_area": _by_area(qs, user),
        "by_department": by_department,
        "participation": _participation(user),
    }


def stats_export(*, user: User, ip: str | None = None) -> bytes:
    """The statistics as an .xlsx workbook (counts only, no personal data); the export is
    audited."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = voice_stats(user=user)
    wb = Workbook()
    bold = Font(bold=True)

    ws = wb.active
    ws.title = _("Summary")
    t = data["totals"]
    p = data["participation"]
    summary = [
        (_("Area"), data["scope"]["area_name"]),
        (_("Department"), data["scope"]["department"] or "—"),
        (_("Suggestions"), t["total"]),
        (_("Answered"), t["answered"]),
        (_("Adopted or partly adopted"), t["adopted"]),
        (_("Adoption rate (%)"), t["rate"] if t["rate"] is not None else "—"),
        (
            _("Median response time (days)"),
            t["median_days"] if t["median_days"] is not None else "—",
        ),
        (_("Overdue"), t["overdue"]),
        (_("Observer group activities"), p["activities"]),
        (_("Activity attendances"), p["attendances"]),
        (_("Event registrations"), p["registrations"]),
        (_("Children checked in"), p["checked_in_children"]),
        (_("Walk-in participants"), p["walk_ins"]),
        (_("Participations in all"), p["total"]),
        (_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]
    for row in summary:
        ws.append(row)
    for cell in ws["A"]:
        cell.font = bold
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 24

    head = [
        _("Suggestions"),
        _("Answered"),
        _("Adopted or partly adopted"),
        _("Adoption rate (%)"),
        _("Overdue"),
    ]
    for title, first, rows in (
        (_("By topic"), _("Topic"), data["by_topic"]),
        (_("By area"), _("Area"), data["by_area"]),
        (_("By department"), _("Department"), data["by_department"]),
    ):
        sheet = wb.create_sheet(title)
        sheet.append([first, *head])
        for cell in sheet[1]:
            cell.font = bold
        for r in rows:
            sheet.append(
                [
                    r["label"],
                    r["value"],
                    r["answered"],
                    r["adopted"],
                    r["rate"] if r["rate"] is not None else "",
                    r["overdue"],
                ]
            )
        sheet.column_dimensions["A"].width = 28

    out = io.BytesIO()
    wb.save(out)
    audit_record(
        actor=user,
        action=AuditLog.Action.EXPORT,
        object_type="voice.stats",
        object_repr=_("Voice statistics (.xlsx)"),
        note=f"counts only; {t['total']} suggestions",
        area_path=user.area.path if getattr(user, "area_id", None) else "",
        ip=ip,
    )
    return out.getvalue()
