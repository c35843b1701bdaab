"""The access part of ``yimi demo``: child population totals for the demo communities, a planned
kindergarten, and a before/after pair of analyses so the pages have content. Safe to run twice.

The population figures are invented for the demo (labelled 演示数据 in their source); the areas
are the demo street's two communities (``yimi.core.demo``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from yimi.core.models import Area

from .models import AnalysisRun, PlannedFacility
from .services import planned_facility_create, population_set, run_create, run_execute

DEMO_YEAR = 2020
DEMO_SOURCE = "演示数据（虚构，非真实统计）/ demo figures, not real statistics"
# Children per age group (0-3, 3-6, 6-12, 12-15) of each demo community.
DEMO_POPULATION = {
    "110108900001": (180, 210, 420, 190),
    "110108900002": (150, 170, 360, 160),
}
DEMO_PLANNED = {
    "name": "演示规划幼儿园（成府路）",
    "category": "kindergarten",
    # In the north of the eastern demo community, among homes far from both existing
    # kindergartens (the second site `siting` suggests on the sample).
    "lon": 116.3259,
    "lat": 40.0098,
    "capacity": 270,
    "note": "演示数据：规划中的幼儿园，用于“建设前后”对比",
}


def build_access_demo(out: Callable[[str], None]) -> None:
    codes = [c for c in DEMO_POPULATION if Area.objects.filter(code=c).exists()]
    if not codes:
        out(_("Access demo: the demo communities are missing; skipped."))
        return
    rows = [
        {
            "area": code,
            "age_group": group,
            "count": count,
            "year": DEMO_YEAR,
            "source": DEMO_SOURCE,
        }
        for code in codes
        for group, count in zip(("0-3", "3-6", "6-12", "12-15"), DEMO_POPULATION[code], strict=True)
    ]
    counts = population_set(actor=None, rows=rows)
    out(
        _("Child population (demo figures): %(c)s new, %(u)s updated, %(n)s unchanged")
        % {"c": counts["created"], "u": counts["updated"], "n": counts["unchanged"]}
    )
    if not PlannedFacility.objects.filter(name=DEMO_PLANNED["name"]).exists():
        planned_facility_create(actor=None, **DEMO_PLANNED)
    if AnalysisRun.objects.filter(status=AnalysisRun.Status.DONE).exists():
        out(_("Accessibility analyses exist; no new demo analysis."))
        return
    runs = []
    for include_planned in (False, True):
        # Scoped to the demo district, so its 妇儿工委办 and staff see the pair.
        district = Area.objects.filter(code="110108").first()
        run = run_create(
            actor=None, area=district, include_planned=include_planned, background=False
        )
        runs.append(run_execute(run_id=run.pk))
    before, after = runs
    if before.status != AnalysisRun.Status.DONE or after.status != AnalysisRun.Status.DONE:
        out(_("Access demo analysis failed: %(e)s") % {"e": before.error or after.error})
        return
    kg = {r["rule"]: r for r in before.summary["rules"]}.get("kindergarten")
    kg_after = {r["rule"]: r for r in after.summary["rules"]}.get("kindergarten")
    out(
        _(
            "Accessibility analyses #%(a)s and #%(b)s (with the planned kindergarten): "
            "%(k)s children; kindergarten within 300 m %(x)s → %(y)s"
        )
        % {
            "a": before.pk,
            "b": after.pk,
            "k": f"{before.summary['children']:,.0f}",
            "x": f"{kg['covered']:,.0f}" if kg else "—",
            "y": f"{kg_after['covered']:,.0f}" if kg_after else "—",
        }
    )
