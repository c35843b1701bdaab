"""Dynamic monitoring (动态监测): totals of children, visits, orders and unserved matches.

Everything is scoped by :mod:`yimi.care.policy` (children_visible_to, orders_visible_to).

De-identification above the community
-------------------------------------
Only a community (or grid) caseworker sees identified data: the list of their own overdue
children. Everyone above the community — street supervisors, district and city users, the
妇儿工委办 and administrators — sees totals only: never a name, never a file number.

Small-cell suppression: in the de-identified view every count of children between 1 and 4
(``1 <= n < SMALL_CELL``) is shown as ``"<5"``, so no child can be singled out by combining an
area, a category and a risk level. Zero stays 0 (it discloses nobody). Because an exact total
would let a reader recover a lone suppressed cell by subtraction, a row or column of a table
whose total is shown that has exactly one suppressed cell gets a second one hidden as well
(the smallest other non-zero cell, shown as ``"*"``) — "secondary suppression", repeated until
stable. It applies along dimensions whose cells add up to a published total (areas and risk
levels to the children on the register, the areas within one category to that category); the
number of all records (on the register, closed, transferred) is hidden instead when a status
count is suppressed, since the number on the register is published. Categories overlap (a child may be an orphan and
of a low-income family), so a row of categories allows no subtraction. Order counts are not
counts of children and are shown exactly.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import Role
from yimi.core.services import audit_record

from .. import policy
from ..models import Category, Order, Risk, Status, WorklistItem

SMALL_CELL = 5
SUPPRESSED = "<5"
HIDDEN = "*"
FINAL_ORDER_STATES = (Order.State.FOLLOWED_UP, Order.State.REJECTED, Order.State.WITHDRAWN)

Cell = int | str


def may_monitor(user: User | None) -> bool:
    """Caseworkers and the 妇儿工委办 (and administrators) see monitoring; nobody else."""
    return policy.is_caseworker(user) or policy.is_oversight(user)


def deidentified(user: User | None) -> bool:
    """True above the community: only a community or grid caseworker sees identified lists."""
    if not policy.is_caseworker(user):
        return True
    return user.area.level < Area.Level.COMMUNITY


# ------------------------------------------------------------------------------ suppression


def _small(v: int) -> bool:
    return 0 < v < SMALL_CELL


def suppress_table(
    rows: list[list[int]], row_totals: list[int] | None, col_totals: list[int] | None
) -> list[list[Cell]]:
    """Primary and secondary suppression of a table of child counts (see the module docstring).

    ``row_totals``/``col_totals`` are the published totals along each dimension whose cells add
    up to them (``None``: they do not, e.g. a child may be in several categories, so the
    dimension allows no subtraction). Small cells become :data:`SUPPRESSED` ("<5"); cells hidden
    only so that a small one cannot be worked out by subtraction become :data:`HIDDEN` ("*").
    """
    primary = [[_small(v) for v in row] for row in rows]
    flags = [list(row) for row in primary]

    def protect(cells: list[tuple[int, int]], total: int) -> bool:
        if _small(total) or total == 0:
            return False  # the total itself is suppressed (or there is nothing to protect)
        hidden = [c for c in cells if flags[c[0]][c[1]]]
        if len(hidden) != 1:
            return False
        candidates = [c for c in cells if not flags[c[0]][c[1]] and rows[c[0]][c[1]] > 0]
        if not candidates:
            return False
        i, j = min(candidates, key=lambda c: rows[c[0]][c[1]])
        flags[i][j] = True
        return True

    changed = True
    while changed:
        changed = False
        if row_totals is not None:
            for i, row in enumerate(rows):
                changed |= protect([(i, j) for j in range(len(row))], row_totals[i])
        if col_totals is not None:
            for j, total in enumerate(col_totals):
                changed |= protect([(i, j) for i in range(len(rows))], total)
    return [
        [SUPPRESSED if primary[i][j] else HIDDEN if flags[i][j] else v for j, v in enumerate(row)]
        for i, row in enumerate(rows)
    ]


def suppress_list(values: list[int], total: int | None) -> list[Cell]:
    """Suppress a list of counts that add up to ``total`` (``None``: they need not)."""
    return suppress_table([values], None if total is None else [total], None)[0]


def suppress_value(v: int) -> Cell:
    return SUPPRESSED if _small(v) else v


# ------------------------------------------------------------------------------ summary


def _scope_area(user: User) -> Area | None:
    if policy.role(user) == Role.ADMIN and user.area_id is None:
        return None
    return user.area


def _try_reverse(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def monitor_summary(*, user: User | None, today: dt.date | None = None) -> dict[str, Any]:
    """The monitoring tables for ``user``; de-identified and suppressed above the community."""
    if not may_monitor(user):
        raise PermissionDenied(_("You may not see the monitoring."))
    today = today or timezone.localdate()
    now = timezone.now()
    hide = deidentified(user)
    scope = _scope_area(user)

    # Sub-areas: one row per child area of the user's area, plus the area itself for children
    # registered directly at its level.
    if scope is None:
        subareas = list(Area.objects.filter(parent__isnull=True).order_by("path"))
    else:
        subareas = list(Area.objects.filter(parent=scope).order_by("path"))
    buckets = [(a.path, a.code, a.name) for a in subareas]

    def bucket_of(path: str) -> int:
        for k, (prefix, _code, _name) in enumerate(buckets):
            if path.startswith(prefix):
                return k
        return len(buckets)  # directly in the scope area

    children = policy.children_visible_to(user)
    rows = children.values_list(
        "area__path", "categories", "risk_level", "status", "next_visit_due"
    )
    cat_codes = list(Category.values)
    n_b = len(buckets) + 1
    matrix = [[0] * len(cat_codes) for _ in range(n_b)]
    area_total = [0] * n_b
    area_overdue = [0] * n_b
    by_category: Counter[str] = Counter()
    by_risk: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    total = active = overdue = 0
    for path, categories, risk, status, due in rows.iterator():
        total += 1
        by_status[status] += 1
        if status != Status.ACTIVE:
            continue
        active += 1
        b = bucket_of(path)
        area_total[b] += 1
        by_risk[risk] += 1
        for code in set(categories or ()):
            if code in cat_codes:
                by_category[code] += 1
                matrix[b][cat_codes.index(code)] += 1
        if due is not None and due < today:
            overdue += 1
            area_overdue[b] += 1

    # Drop the "directly in the scope area" row when it is empty.
    labels = [(code, name) for _p, code, name in buckets]
    if scope is not None and area_total[-1]:
        labels.append((scope.code, _("%(name)s (directly)") % {"name": scope.name}))
    else:
        matrix, area_total, area_overdue = matrix[:-1], area_total[:-1], area_overdue[:-1]

    cat_values = [by_category[c] for c in cat_codes]
    risk_codes, status_codes = list(Risk.values), list(Status.values)
    risk_values = [by_risk[c] for c in risk_codes]
    status_values = [by_status[c] for c in status_codes]
    if hide:
        # Rows of categories overlap (no row totals); columns add up to the category totals.
        matrix_out = suppress_table(matrix, None, cat_values)
        area_total_out = suppress_list(area_total, active)
        area_overdue_out = suppress_list(area_overdue, overdue)
        cat_out = suppress_list(cat_values, None)
        risk_out = suppress_list(risk_values, active)
        # The number on the register is published (it is every other table's total), so the
        # statuses are suppressed without a total, and the number of all records is hidden
        # whenever it would give a small count of closed or transferred records away.
        status_out = suppress_list(status_values, None)
        hidden_total = any(v == SUPPRESSED for v in status_out)
        totals = {
            "children": HIDDEN if hidden_total and not _small(total) else suppress_value(total),
            "active": suppress_value(active),
            "overdue_visits": suppress_value(overdue),
        }
    else:
        matrix_out, area_total_out, area_overdue_out = matrix, area_total, area_overdue
        cat_out, risk_out, status_out = cat_values, risk_values, status_values
        totals = {"children": total, "active": active, "overdue_visits": overdue}

    cat_label = dict(Category.choices)
    areas = [
        {
            "code": code,
            "name": name,
            "active": area_total_out[k],
            "overdue_visits": area_overdue_out[k],
            "categories": dict(zip(cat_codes, matrix_out[k], strict=True)),
        }
        for k, (code, name) in enumerate(labels)
    ]

    # Orders (counts of orders, not of children: shown exactly).
    orders = policy.orders_visible_to(user)
    state_counts = dict(
        orders.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    open_q = ~Q(state__in=FINAL_ORDER_STATES)
    overdue_q = open_q & Q(step_due__lt=now)
    escalated_q = open_q & Q(escalations__gt=0)
    by_department = [
        {
            "department": row["policy__lead_department__name"],
            "total": row["total"],
            "open": row["open"],
            "overdue": row["overdue"],
            "escalated": row["escalated"],
        }
        for row in orders.values("policy__lead_department__name")
        .annotate(
            total=Count("id"),
            open=Count("id", filter=open_q),
            overdue=Count("id", filter=overdue_q),
            escalated=Count("id", filter=escalated_q),
        )
        .order_by("-total", "policy__lead_department__name")
    ]
    order_totals = orders.aggregate(
        total=Count("id"),
        open=Count("id", filter=open_q),
        overdue=Count("id", filter=overdue_q),
        escalated=Count("id", filter=escalated_q),
    )

    # 政策找人: children who qualify for a policy and do not receive it yet.
    unserved_rows = (
        WorklistItem.objects.filter(
            state=WorklistItem.State.OPEN,
            child__in=children.filter(status=Status.ACTIVE),
        )
        .values("policy__code", "policy__name")
        .annotate(children=Count("child", distinct=True))
        .order_by("-children", "policy__code")
    )
    unserved_children = (
        WorklistItem.objects.filter(
            state=WorklistItem.State.OPEN, child__in=children.filter(status=Status.ACTIVE)
        )
        .values("child")
        .distinct()
        .count()
    )
    unserved = [
        {
            "policy": r["policy__code"],
            "name": r["policy__name"],
            "children": suppress_value(r["children"]) if hide else r["children"],
        }
        for r in unserved_rows
    ]

    drilldown = None
    if not hide:
        due_children = (
            children.filter(status=Status.ACTIVE, next_visit_due__lt=today)
            .select_related("area")
            .order_by("next_visit_due", "file_no")
        )
        drilldown = {
            "children_url": _try_reverse("care:children"),
            "overdue": [
                {
                    "id": c.pk,
                    "file_no": c.file_no,
                    "name": c.name,
                    "area": c.area.name,
                    "next_visit_due": c.next_visit_due,
                    "url": _try_reverse("care:child", pk=c.pk),
                }
                for c in due_children[:200]
            ],
        }

    return {
        "scope": {
            "area": scope.code if scope else None,
            "area_name": scope.name if scope else _("All areas"),
            "deidentified": hide,
            "small_cell": SMALL_CELL if hide else None,
            "today": today,
        },
        "totals": {
            **totals,
            "unserved_children": suppress_value(unserved_children) if hide else unserved_children,
        },
        "by_category": [
            {"code": c, "label": str(cat_label[c]), "count": v}
            for c, v in zip(cat_codes, cat_out, strict=True)
        ],
        "by_risk": [
            {"code": c, "label": str(dict(Risk.choices)[c]), "count": v}
            for c, v in zip(risk_codes, risk_out, strict=True)
        ],
        "by_status": [
            {"code": c, "label": str(dict(Status.choices)[c]), "count": v}
            for c, v in zip(status_codes, status_out, strict=True)
        ],
        "categories": [{"code": c, "label": str(cat_label[c])} for c in cat_codes],
        "areas": areas,
        "orders": {
            **order_totals,
            "by_state": [
                {"code": c, "label": str(label), "count": state_counts.get(c, 0)}
                for c, label in Order.State.choices
            ],
            "by_department": by_department,
        },
        "unserved": unserved,
        "drilldown": drilldown,
    }


# ------------------------------------------------------------------------------ bars and export


def bar_percent(value: Cell, largest: int) -> float:
    """Width of a CSS bar; a suppressed cell gets a fixed small width that reveals nothing."""
    if isinstance(value, str):
        return 3.0
    if largest <= 0 or value <= 0:
        return 0.0
    return round(100.0 * value / largest, 1)


def _largest(values: list[Cell]) -> int:
    return max([v for v in values if isinstance(v, int)] or [0])


def with_bars(items: list[dict], key: str = "count") -> list[dict]:
    largest = _largest([i[key] for i in items])
    return [
        {
            **i,
            "label": i.get("label") or i.get("name") or i.get("code") or i.get("policy"),
            "value": i[key],
            "bar": bar_percent(i[key], largest),
            "suppressed": isinstance(i[key], str),
        }
        for i in items
    ]


def monitor_export(*, user: User | None, ip: str | None = None) -> bytes:
    """The monitoring tables as an Excel workbook; audited as an export."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = monitor_summary(user=user)
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "概况"
    scope = data["scope"]
    who = user.get_username() if user is not None else ""
    ws.append(["动态监测 / Monitoring"])
    ws["A1"].font = bold
    ws.append(["范围 / Scope", scope["area_name"]])
    ws.append(["导出人 / Exported by", who])
    ws.append(["导出时间 / Exported at", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    if scope["deidentified"]:
        ws.append(
            [
                "说明 / Note",
                "去标识化汇总；1–4 人的单元格显示为 <5，为防止由合计推算而隐藏的单元格显示为 * / "
                "De-identified totals; cells of 1–4 children shown as <5, cells hidden so that "
                "they cannot be worked out from a total shown as *",
            ]
        )
    ws.append([])
    for key, label in (
        ("children", "儿童总数 / Children"),
        ("active", "在册 / On register"),
        ("overdue_visits", "走访逾期 / Overdue visits"),
        ("unserved_children", "符合未享受 / Qualified but unserved"),
    ):
        ws.append([label, data["totals"][key]])

    ws = wb.create_sheet("地区×类别")
    cats = data["categories"]
    ws.append(["地区代码", "地区", "在册", "走访逾期", *[c["label"] for c in cats]])
    for a in data["areas"]:
        ws.append(
            [
                a["code"],
                a["name"],
                a["active"],
                a["overdue_visits"],
                *[a["categories"][c["code"]] for c in cats],
            ]
        )

    for title, key in (("类别", "by_category"), ("风险", "by_risk"), ("状态", "by_status")):
        ws = wb.create_sheet(title)
        ws.append(["代码", "名称", "人数"])
        for r in data[key]:
            ws.append([r["code"], r["label"], r["count"]])

    ws = wb.create_sheet("工单")
    o = data["orders"]
    ws.append(["状态", "名称", "件数"])
    for r in o["by_state"]:
        ws.append([r["code"], r["label"], r["count"]])
    ws.append([])
    ws.append(["牵头部门", "总数", "办理中", "逾期", "督办"])
    for r in o["by_department"]:
        ws.append([r["department"], r["total"], r["open"], r["overdue"], r["escalated"]])

    ws = wb.create_sheet("符合未享受")
    ws.append(["政策代码", "政策", "儿童人数"])
    for r in data["unserved"]:
        ws.append([r["policy"], r["name"], r["children"]])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = bold

    buf = io.BytesIO()
    wb.save(buf)
    audit_record(
        actor=user,
        action=AuditLog.Action.EXPORT,
        object_type="care.monitor",
        object_id=scope["area"] or "",
        object_repr=f"monitor {scope['area'] or 'all'}",
        note=f"monitor xlsx deidentified={scope['deidentified']}",
        area_path=user.area.path if user is not None and user.area_id else "",
        ip=ip,
    )
    return buf.getvalue()
