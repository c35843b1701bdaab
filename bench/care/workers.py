"""The measurements of bench/care, each run in a fresh interpreter by run.py (``--worker``)."""

from __future__ import annotations

import random
import resource
import shutil
import time
from pathlib import Path
from typing import Any

DEMO_STREET = "110108900"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _city(n_communities: int):
    """The demo city plus GENERATED communities 110108900101… under the demo street."""
    from yimi.core.demo import build_city
    from yimi.core.models import Area
    from yimi.core.services import area_create

    areas = build_city(lambda s: None)
    street = areas[DEMO_STREET]
    codes = ["110108900001", "110108900002"]
    for i in range(n_communities - 2):
        code = f"110108900{101 + i:03d}"
        if not Area.objects.filter(code=code).exists():
            area_create(
                actor=None,
                code=code,
                name=f"生成社区{i + 1:02d}",
                level=Area.Level.COMMUNITY,
                parent=street,
                is_demo=True,
            )
        codes.append(code)
    return areas, codes


def _user(areas):
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    return make_user(Role.SUPERVISOR, area=areas[DEMO_STREET])


def _policies(n: int, areas) -> None:
    from gen import policy_rules

    from yimi.care.models import Policy
    from yimi.core.models import Department
    from yimi.core.services import department_create

    dept = Department.objects.filter(code="civil-110108").first() or department_create(
        actor=None, code="civil-110108", name="海淀区民政局", area=areas["110108"]
    )
    Policy.objects.bulk_create(
        [
            Policy(
                code=f"GEN-{i:03d}",
                name=f"生成政策{i:03d}",
                domain=domain,
                benefit="生成数据",
                lead_department=dept,
                area=areas["110108"],
                eligibility=rule,
                step_days={"confirm": 3, "handle": 15, "follow_up": 30},
            )
            for i, (domain, rule) in enumerate(policy_rules(n))
        ]
    )


def w_import(p: dict[str, Any]) -> dict[str, Any]:
    """Import the generated ledger (.xlsx) into a fresh database with a menu of policies."""
    _setup()
    from yimi.care.models import Child, WorklistItem
    from yimi.care.services.ledger import ledger_import

    areas, _codes = _city(p["communities"])
    _policies(p["policies"], areas)
    user = _user(areas)
    content = Path(p["file"]).read_bytes()
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    c0 = time.process_time()
    last: list = [t0, "read"]

    def progress(stage: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if stage != last[1]:
            if last[1] is not None:
                stages[last[1]] = stages.get(last[1], 0.0) + now - last[0]
            last[0], last[1] = now, stage

    plan = ledger_import(actor=user, file=content, filename="ledger.xlsx", progress=progress)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if last[1] is not None:
        stages[last[1]] = stages.get(last[1], 0.0) + time.perf_counter() - last[0]
    assert plan.written and plan.error_count == 0, plan.errors[:5]
    out = {
        "seconds": wall,
        "cpu_seconds": cpu,
        "stages": stages,
        "children": Child.objects.count(),
        "worklist_open": WorklistItem.objects.filter(state="open").count(),
        "peak_rss_mib": _peak_rss_mib(),
    }
    if p.get("keep_db"):
        from django.conf import settings
        from django.db import connection

        connection.close()
        shutil.copy(settings.DATABASES["default"]["NAME"], p["keep_db"])
    return out


def w_read_peer(p: dict[str, Any]) -> dict[str, Any]:
    """The read stage alone: the ledger's python-calamine reader against openpyxl's read-only mode."""
    import django

    django.setup()
    from yimi.care.ledger_format import xlsx_rows
    from yimi.core.tables import raw_rows

    content = Path(p["file"]).read_bytes()
    t0 = time.perf_counter()
    n = len(raw_rows(content, "ledger.xlsx")) if p["engine"] == "openpyxl" else None
    if n is None:
        n = len(xlsx_rows(content, "ledger.xlsx"))
    return {"seconds": time.perf_counter() - t0, "rows": n, "peak_rss_mib": _peak_rss_mib()}


def w_rematch(p: dict[str, Any]) -> dict[str, Any]:
    """rematch_all on a database of children and policies with an empty worklist; then the
    pure EligibilityIndex build on the same records; then a per-record closure loop (peer)."""
    _setup()
    from django.db import connection

    from yimi.care import matching
    from yimi.care.eligibility import EligibilityIndex
    from yimi.care.models import Policy, WorklistItem

    WorklistItem.objects.all().delete()
    connection.close()
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = matching.rematch_all()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    again = matching.rematch_all()
    unchanged = time.perf_counter() - t1
    policies = {q.pk: q.eligibility for q in Policy.objects.filter(active=True)}
    records, _paths = matching._records_columns(True)
    t2 = time.perf_counter()
    index = EligibilityIndex(policies, records, fields=matching.FIELDS, labels=matching.LABELS)
    pairs = index.pairs()
    index_s = time.perf_counter() - t2
    # Peer: the same rules evaluated record by record with the compiled closures.
    compiled = [(pid, matching.compile_policy_rule(r)) for pid, r in policies.items()]
    t3 = time.perf_counter()
    loop = sum(1 for rec in records.values() for _pid, rule in compiled if rule.test(rec))
    loop_s = time.perf_counter() - t3
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "unchanged_seconds": unchanged,
        "index_seconds": index_s,
        "loop_seconds": loop_s,
        "pairs": len(pairs),
        "loop_pairs": loop,
        "added": outcome.added,
        "kept_on_rerun": again.kept,
        "children": len(records),
        "policies": len(policies),
        "peak_rss_mib": _peak_rss_mib(),
    }


def w_incremental(p: dict[str, Any]) -> dict[str, Any]:
    """One record changes (risk, categories, low income), then child_rematch; many children."""
    _setup()
    from yimi.care import matching
    from yimi.care.models import Child

    rng = random.Random(p["seed"])
    ids = list(Child.objects.values_list("pk", flat=True))
    picks = rng.sample(ids, p["changes"])
    cats = ["left_behind", "orphan", "migrant", "low_income", "serious_illness"]
    times = []
    for pk in picks:
        child = Child.objects.select_related("area").get(pk=pk)
        child.categories = [rng.choice(cats)]
        child.low_income = not child.low_income
        child.risk_level = rng.choice(["high", "medium", "low"])
        Child.objects.filter(pk=pk).update(
            categories=child.categories, low_income=child.low_income, risk_level=child.risk_level
        )
        t0 = time.perf_counter()
        matching.child_rematch(child=child)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "n": len(times),
        "p50_ms": times[len(times) // 2] * 1000,
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
        "max_ms": times[-1] * 1000,
        "peak_rss_mib": _peak_rss_mib(),
    }


WORKERS = {
    "import": w_import,
    "read": w_read_peer,
    "rematch": w_rematch,
    "incremental": w_incremental,
}
