"""The practice library's part of ``yimi demo``: the catalogue is loaded by ``migrate``; here the
demo district's 妇儿工委办 records a few measures of its self-assessment (through the audited
service), so the progress page has content. Safe to run twice: existing rows are left alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils.translation import gettext as _

from yimi.core.models import Department, User
from yimi.core.roles import Role

from .models import MeasureProgress, ProgressStatus
from .selectors import evidence_choices_qs, measure_get
from .services import catalog_load_and_sync, progress_update

# (measure, status, department code, days from today to the target, evidence kind, note)
DEMO = [
    (
        "四(一)",
        ProgressStatus.ESTABLISHED,
        "culture-110108",
        -30,
        "theme",
        "区儿童友好地图已上线，按主题串联场馆和公园。",
    ),
    (
        "三(一)",
        ProgressStatus.IN_PROGRESS,
        "edu-110108",
        120,
        "analysis",
        "用生活圈分析找出缺口，优先在服务空白处改造口袋公园。",
    ),
    (
        "五(一)",
        ProgressStatus.IN_PROGRESS,
        "civil-110108",
        -10,
        "policy",
        "救助政策菜单已整理，点单流程试运行中。",
    ),
    ("六(二)", ProgressStatus.PLANNED, "edu-110108", 200, "", "计划开通儿童信箱，组建儿童观察团。"),
    ("一(一)", ProgressStatus.PLANNED, "", -45, "", "研究起草儿童友好促进办法。"),
]


def build_practices_demo(out: Callable[[str], None]) -> None:
    catalog_load_and_sync()
    actor = User.objects.filter(username="demo-wcco", role=Role.WCCO).first()
    if actor is None:
        out(_("Practice library: no demo WCCO user; self-assessment not filled in."))
        return
    today = dt.date.today()
    made = 0
    for code, status, dept_code, days, kind, note in DEMO:
        m = measure_get(code)
        if m is None or MeasureProgress.objects.filter(measure=m).exists():
            continue
        obj = evidence_choices_qs(actor, kind).first() if kind else None
        progress_update(
            actor=actor,
            measure=m,
            status=status,
            note=note,
            department=Department.objects.filter(code=dept_code).first() if dept_code else None,
            target_date=today + dt.timedelta(days=days),
            evidence_kind=kind if obj else "",
            evidence_object_id=obj.pk if obj else None,
        )
        made += 1
    out(_("Practice library: %(n)s measures of the self-assessment filled in.") % {"n": made})
