"""Care API: dynamic monitoring (动态监测).

Counts are integers, or the string ``"<5"`` where a count of 1–4 children is suppressed in the
de-identified view (above the community; see :mod:`yimi.care.selectors.monitor`).
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.security import django_auth
from pydantic import Field

from ..selectors import monitor as selectors

router = Router(tags=["care"], auth=django_auth)

Count = int | str


class MonitorScopeSchema(Schema):
    area: str | None
    area_name: str
    deidentified: bool = Field(description="true above the community: totals only, no names")
    small_cell: int | None = Field(description="counts below this are shown as '<5'")
    today: dt.date


class MonitorTotalsSchema(Schema):
    children: Count
    active: Count
    overdue_visits: Count
    unserved_children: Count


class MonitorCountSchema(Schema):
    code: str
    label: str
    count: Count


class MonitorCategorySchema(Schema):
    code: str
    label: str


class MonitorAreaSchema(Schema):
    code: str
    name: str
    active: Count
    overdue_visits: Count
    categories: dict[str, Count]


class MonitorDepartmentSchema(Schema):
    department: str
    total: int
    open: int
    overdue: int
    escalated: int


class MonitorOrdersSchema(Schema):
    total: int
    open: int
    overdue: int
    escalated: int
    by_state: list[MonitorCountSchema]
    by_department: list[MonitorDepartmentSchema]


class MonitorUnservedSchema(Schema):
    policy: str
    name: str
    children: Count


class MonitorChildSchema(Schema):
    id: int
    file_no: str
    name: str
    area: str
    next_visit_due: dt.date | None
    url: str | None


class MonitorDrilldownSchema(Schema):
    children_url: str | None
    overdue: list[MonitorChildSchema]


class MonitorSchema(Schema):
    scope: MonitorScopeSchema
    totals: MonitorTotalsSchema
    by_category: list[MonitorCountSchema]
    by_risk: list[MonitorCountSchema]
    by_status: list[MonitorCountSchema]
    categories: list[MonitorCategorySchema]
    areas: list[MonitorAreaSchema]
    orders: MonitorOrdersSchema
    unserved: list[MonitorUnservedSchema]
    drilldown: MonitorDrilldownSchema | None = Field(
        description="only for a community caseworker: their own children with an overdue visit"
    )


@router.get(
    "/monitor",
    response=MonitorSchema,
    summary="Monitoring totals; de-identified with small cells suppressed above the community",
)
def monitor(request):
    return selectors.monitor_summary(user=request.user)
