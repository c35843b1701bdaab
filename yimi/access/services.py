"""Writes of the access part: population totals, demand tables, planned facilities, analysis runs.

Keyword-only, atomic, each with its audit row. ``actor=None`` is the system (CLI, demo, tasks).
:func:`run_execute` is the body of the background task that computes a run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.analysis.access import AGE_GROUPS, analyse_access, generate_population, load_rule_pack
from yimi.analysis.categories import CATEGORY_CODES
from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import STAFF_ROLES, Role
from yimi.core.selectors import area_index, data_version
from yimi.core.services import PermissionDenied, ServiceError, audit_record, snapshot

from . import tabular
from .models import AnalysisRun, ChildPopulation, DemandSet, PlannedFacility

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]

DECAYS = ("flat", "gaussian")
H3_RESOLUTIONS = range(6, 12)  # 36 km² … 0.002 km² cells; 9 (≈0.1 km²) by default
MAX_PLANNED_PER_RUN = 500


# ---------------------------------------------------------------------- permissions


def is_staff(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.role in STAFF_ROLES)
    )


def can_edit_population(user: User | None) -> bool:
    """Population totals are entered by the 妇儿工委办 (and administrators)."""
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.role in (Role.ADMIN, Role.WCCO))
    )


def _require_staff(actor: User | None) -> None:
    if actor is not None and not is_staff(actor):
        raise PermissionDenied(_("Only staff may use the accessibility analysis."))


def _is_admin(actor: User) -> bool:
    return actor.is_superuser or actor.role == Role.ADMIN


def _check_area(actor: User | None, area: Area | None) -> None:
    """Staff work inside their own area; only city-level staff own what lies in no area."""
    if actor is None or _is_admin(actor):
        return
    if actor.area_id is None:
        raise PermissionDenied(_("Your account has no area."))
    if area is None:
        if actor.area.parent_id is not None:
            raise PermissionDenied(_("This lies outside your area."))
        return
    if not area.path.startswith(actor.area.path):
        raise PermissionDenied(_("This lies outside your area."))


def _area_by_code(code: str) -> Area:
    area = Area.objects.filter(code=str(code).strip()).first()
    if area is None:
        raise ServiceError(
            _("There is no area with division code “%(code)s”.") % {"code": code},
            code="not_found",
        )
    return area


# ---------------------------------------------------------------------- population


def _population_after(row: ChildPopulation) -> dict[str, Any]:
    return snapshot(row, exclude=("updated_by",))


@transaction.atomic
def population_set(*, actor: User | None, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Set children per area, age group and year (all rows or none).

    Each row: ``area`` (division code or Area), ``age_group`` ('0-3', '3-6', '6-12', '12-15'),
    ``count``, ``year`` and optionally ``source`` and ``row`` (for error messages). Existing
    totals for the same area, group and year are replaced.

    Returns
    -------
    dict
        ``created``, ``updated`` and ``unchanged`` counts.
    """
    if actor is not None and not can_edit_population(actor):
        raise PermissionDenied(
            _("Only the Women and Children Working Committee Office may enter population totals.")
        )
    rows = list(rows)
    errors: list[dict[str, Any]] = []
    clean: list[tuple[Area, str, int, int, str]] = []
    seen: set[tuple[int, str, int]] = set()
    areas: dict[str, Area | None] = {}
    for i, r in enumerate(rows, start=1):
        where = r.get("row", i)
        n_before = len(errors)

        def err(column: str, message: str, where=where) -> None:
            errors.append({"row": where, "column": column, "message": message})

        raw_area = r.get("area")
        area = raw_area if isinstance(raw_area, Area) else None
        if area is None:
            code = str(raw_area or "").strip()
            if code not in areas:
                areas[code] = Area.objects.filter(code=code).first() if code else None
            area = areas[code]
            if area is None:
                err("area", _("There is no area with division code “%(code)s”.") % {"code": code})
        if area is not None:
            try:
                _check_area(actor, area)
            except PermissionDenied:
                err("area", _("%(name)s lies outside your area.") % {"name": area.name})
        group = r.get("age_group")
        if group not in AGE_GROUPS:
            err("age_group", _("“%(v)s” is not an age group.") % {"v": group})
        count = r.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            err("count", _("must be a whole number, 0 or more."))
        year = r.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 2100:
            err("year", _("“%(v)s” is not a year.") % {"v": year})
        if len(errors) == n_before:
            key = (area.pk, group, year)
            if key in seen:
                err("area", _("This area, age group and year is given twice."))
                continue
            seen.add(key)
            clean.append((area, group, count, year, str(r.get("source") or "")[:200]))
    if errors:
        raise ServiceError(
            _("The population totals have errors; nothing was saved."), details=errors
        )
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for area, group, count, year, source in clean:
        row = ChildPopulation.objects.filter(area=area, age_group=group, year=year).first()
        if row is None:
            row = ChildPopulation.objects.create(
                area=area,
                age_group=group,
                count=count,
                year=year,
                source=source,
                updated_by=actor if actor is not None and actor.is_authenticated else None,
            )
            audit_record(
                actor=actor, action=AuditLog.Action.CREATE, obj=row, after=_population_after(row)
            )
            counts["created"] += 1
            continue
        before = _population_after(row)
        row.count, row.source = count, source
        after = _population_after(row)
        if before == after:
            counts["unchanged"] += 1
            continue
        row.updated_by = actor if actor is not None and actor.is_authenticated else None
        row.save()
        audit_record(
            actor=actor, action=AuditLog.Action.UPDATE, obj=row, before=before, after=after
        )
        counts["updated"] += 1
    return counts


def population_import(*, actor: User | None, content: bytes, file_name: str) -> dict[str, int]:
    """Population totals from the Chinese Excel/CSV template (all rows or none)."""
    try:
        parsed = tabular.parse_population(content, file_name)
    except tabular.ImportFileError as exc:
        raise ServiceError(str(exc)) from exc
    if parsed.errors:
        raise ServiceError(
            _("The file has errors; nothing was imported."),
            details=[e.as_dict() for e in parsed.errors],
        )
    header = {k: zh for k, zh, _a, _r in tabular.POPULATION_COLUMNS}
    try:
        return population_set(actor=actor, rows=parsed.rows)
    except ServiceError as exc:
        # Name the file's columns, not the API's fields.
        names = {"area": header["area"], "year": header["year"], "count": _("count")}
        for d in exc.details:
            d["column"] = names.get(d.get("column"), d.get("column"))
        raise


# ---------------------------------------------------------------------- demand tables


def _owner_area(actor: User | None) -> Area | None:
    return actor.area if actor is not None and actor.is_authenticated else None


@transaction.atomic
def demand_set_create(
    *,
    actor: User | None,
    name: str,
    parsed: tabular.ParsedDemand,
    file_name: str = "",
    generated: bool = False,
    note: str = "",
) -> DemandSet:
    """Store a validated demand table (see :func:`tabular.parse_demand`)."""
    _require_staff(actor)
    if parsed.errors:
        raise ServiceError(
            _("The file has errors; nothing was imported."),
            details=[e.as_dict() for e in parsed.errors],
        )
    if not parsed.n_rows:
        raise ServiceError(_("The table has no rows."))
    data: dict[str, Any] = {"counts": parsed.counts, "labels": parsed.labels}
    if parsed.kind == DemandSet.Kind.H3:
        data["cells"] = parsed.cells
    else:
        data["lon"] = [round(x, 7) for x in parsed.lon]
        data["lat"] = [round(y, 7) for y in parsed.lat]
    ds = DemandSet.objects.create(
        name=(name or file_name or _("Demand table"))[:200],
        kind=parsed.kind,
        file_name=file_name[:255],
        rows=parsed.n_rows,
        children=round(parsed.children, 3),
        generated=generated,
        data=data,
        note=note,
        area=_owner_area(actor),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        obj=ds,
        after=snapshot(ds, exclude=("data",)),
        note=file_name,
    )
    return ds


def demand_set_upload(
    *,
    actor: User | None,
    content: bytes,
    file_name: str,
    kind: str,
    name: str = "",
    generated: bool = False,
) -> DemandSet:
    """Parse and store an uploaded table of points or H3 cells; errors name row and column."""
    _require_staff(actor)
    if kind not in DemandSet.Kind.values:
        raise ServiceError(_("The kind must be points or h3."))
    try:
        parsed = tabular.parse_demand(content, file_name, kind=kind)
    except tabular.ImportFileError as exc:
        raise ServiceError(str(exc)) from exc
    return demand_set_create(
        actor=actor, name=name, parsed=parsed, file_name=file_name, generated=generated
    )


@transaction.atomic
def demand_set_generate(
    *, actor: User | None, n_points: int, seed: int = 0, name: str = ""
) -> DemandSet:
    """A GENERATED population on the stored network (scale tests, demos): labelled as such."""
    from yimi.places.network import get_walk_graph

    _require_staff(actor)
    if not 1 <= n_points <= 1_000_000:
        raise ServiceError(_("The number of homes must be between 1 and 1,000,000."))
    graph = get_walk_graph()
    if graph is None:
        raise ServiceError(_("No walking network is stored: import an OSM extract first."))
    pop = generate_population(graph, n_points, seed)
    parsed = tabular.ParsedDemand(
        kind=DemandSet.Kind.POINTS,
        lon=pop.lon.tolist(),
        lat=pop.lat.tolist(),
        counts=pop.weights.tolist(),
        labels=[f"G{i + 1}" for i in range(len(pop))],
    )
    return demand_set_create(
        actor=actor,
        name=name
        or _("Generated population (%(n)s homes, seed %(s)s)") % {"n": n_points, "s": seed},
        parsed=parsed,
        generated=True,
        note=f"generate_population(n_points={n_points}, seed={seed})",
    )


# ---------------------------------------------------------------------- planned facilities


@transaction.atomic
def planned_facility_create(
    *,
    actor: User | None,
    name: str,
    category: str,
    lon: float,
    lat: float,
    capacity: int | None = None,
    area_m2: float | None = None,
    note: str = "",
) -> PlannedFacility:
    _require_staff(actor)
    if not str(name or "").strip():
        raise ServiceError(_("A planned facility needs a name."))
    if category not in CATEGORY_CODES:
        raise ServiceError(_("“%(c)s” is not a known category.") % {"c": category})
    if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
        raise ServiceError(_("The coordinates are out of range."))
    if capacity is not None and capacity < 0:
        raise ServiceError(_("The capacity cannot be negative."))
    if area_m2 is not None and not area_m2 >= 0:
        raise ServiceError(_("The area cannot be negative."))
    area = area_index().lookup(float(lon), float(lat))
    _check_area(actor, area)
    fac = PlannedFacility.objects.create(
        name=name.strip()[:200],
        category=category,
        lon=float(lon),
        lat=float(lat),
        capacity=capacity,
        area_m2=area_m2,
        note=note,
        area=area,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=fac, after=snapshot(fac))
    return fac


@transaction.atomic
def planned_facility_delete(*, actor: User | None, facility: PlannedFacility) -> None:
    _require_staff(actor)
    if (
        actor is not None
        and not PlannedFacility.objects.visible_to(actor, "change").filter(pk=facility.pk).exists()
    ):
        raise PermissionDenied(_("This lies outside your area."))
    before = snapshot(facility)
    audit_record(actor=actor, action=AuditLog.Action.DELETE, obj=facility, before=before)
    facility.delete()


# ---------------------------------------------------------------------- analysis runs


@transaction.atomic
def run_create(
    *,
    actor: User | None,
    area: Area | str | None = None,
    rules: list[str] | None = None,
    h3_resolution: int = 9,
    decay: str = "flat",
    demand: str | int = "buildings",
    include_planned: bool = False,
    year: int | None = None,
    background: bool = True,
) -> AnalysisRun:
    """Validate a run's parameters, store it and queue its computation.

    ``background=False`` only stores it (the CLI then calls :func:`run_execute` itself).
    """
    _require_staff(actor)
    pack = load_rule_pack()
    if isinstance(area, str):
        area = _area_by_code(area)
    # Staff below the city analyse their own area unless they name a part of it.
    if (
        area is None
        and actor is not None
        and not _is_admin(actor)
        and actor.area_id
        and actor.area.parent_id is not None
    ):
        area = actor.area
    _check_area(actor, area)
    known = [r.id for r in pack.rules]
    if rules is None:
        rule_ids = known
    else:
        rule_ids = []
        for r in rules:
            if r not in known:
                raise ServiceError(
                    _("There is no rule “%(r)s” (rules: %(known)s).")
                    % {"r": r, "known": ", ".join(known)}
                )
            if r not in rule_ids:
                rule_ids.append(r)
        if not rule_ids:
            raise ServiceError(_("Choose at least one rule."))
        rule_ids.sort(key=known.index)
    if h3_resolution not in H3_RESOLUTIONS:
        raise ServiceError(
            _("The H3 resolution must be between %(a)s and %(b)s.")
            % {"a": H3_RESOLUTIONS.start, "b": H3_RESOLUTIONS.stop - 1}
        )
    if decay not in DECAYS:
        raise ServiceError(_("The distance decay must be flat or gaussian."))
    demand_set = None
    if str(demand) != "buildings":
        try:
            pk = int(demand)
        except (TypeError, ValueError):
            raise ServiceError(
                _("The demand must be “buildings” or the id of a demand table.")
            ) from None
        qs = DemandSet.objects.all() if actor is None else DemandSet.objects.visible_to(actor)
        demand_set = qs.filter(pk=pk).first()
        if demand_set is None:
            raise ServiceError(_("There is no demand table %(id)s.") % {"id": pk}, code="not_found")
    elif not ChildPopulation.objects.exists():
        raise ServiceError(
            _(
                "No child population has been entered: enter the children of each 社区 or 街道 "
                "first, or choose an uploaded demand table."
            )
        )
    planned_ids: list[int] = []
    if include_planned:
        qs = (
            PlannedFacility.objects.all()
            if actor is None
            else PlannedFacility.objects.visible_to(actor)
        )
        planned_ids = list(qs.order_by("id").values_list("id", flat=True)[:MAX_PLANNED_PER_RUN])
    params = {
        "area": area.code if area else None,
        "rules": rule_ids,
        "h3_resolution": h3_resolution,
        "decay": decay,
        "demand": demand_set.pk if demand_set else "buildings",
        "include_planned": bool(include_planned),
        "planned_ids": planned_ids,
        "year": year,
        "walking_speed_m_per_min": pack.walking_speed_m_per_min,
        "rule_pack": {"id": pack.id, "version": pack.version},
    }
    run = AnalysisRun.objects.create(
        area=area,
        params=params,
        demand_set=demand_set,
        generated_demand=bool(demand_set and demand_set.generated),
        stage="queued",
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=run, after=snapshot(run))
    if background:
        from .tasks import analysis_run_task

        analysis_run_task.enqueue(run.pk)
        # An immediate backend (tests) has already computed it.
        run.refresh_from_db()
    return run


def _set_progress(run_id: int, stage: str, percent: int, progress: Progress | None) -> None:
    AnalysisRun.objects.filter(pk=run_id).update(progress=percent, stage=stage[:100])
    if progress is not None:
        progress(stage, percent, 100)


def run_execute(*, run_id: int, progress: Progress | None = None) -> AnalysisRun:
    """Compute a queued run: load the network, facilities and children, analyse, store.

    Progress (0–100) and the stage are written to the run as it goes, so pages can show them;
    ``progress`` is also called as ``progress(stage, percent, 100)``. A failure leaves the run
    ``failed`` with the error; it is not raised.
    """
    claimed = AnalysisRun.objects.filter(pk=run_id, status=AnalysisRun.Status.QUEUED).update(
        status=AnalysisRun.Status.RUNNING, started_at=timezone.now(), progress=1, stage="network"
    )
    if not claimed:  # already taken (a re-delivered task) or gone
        return AnalysisRun.objects.get(pk=run_id)
    run = AnalysisRun.objects.select_related("area", "demand_set").get(pk=run_id)
    try:
        _compute(run, progress)
    except Exception as exc:
        log.exception("analysis run %s failed", run_id)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        AnalysisRun.objects.filter(pk=run_id).update(
            status=AnalysisRun.Status.FAILED,
            error=str(message)[:4000],
            stage="failed",
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    return run


def _compute(run: AnalysisRun, progress: Progress | None) -> None:
    from yimi.places.network import get_walk_graph, network_version

    from .inputs import AreaTable, demand_from_buildings, demand_from_set, facilities_load
    from .inputs import network_index as get_index
    from .storage import (
        coverage_rows,
        gap_tables,
        result_name,
        result_path,
        summary_of,
        write_arrays,
    )

    params = run.params
    pack = load_rule_pack()
    if progress is not None:
        progress("network", 1, 100)
    graph = get_walk_graph()
    if graph is None or graph.n_edges == 0:
        raise ServiceError(
            _("No walking network is stored: import an OSM extract first (yimi import-osm).")
        )
    _set_progress(run.pk, "facilities", 3, progress)
    planned = []
    if params.get("include_planned"):
        planned = list(PlannedFacility.objects.filter(pk__in=params.get("planned_ids", [])))
    facilities = facilities_load(planned=planned)
    _set_progress(run.pk, "demand", 5, progress)
    if params.get("demand", "buildings") == "buildings":
        demand = demand_from_buildings(scope=run.area, year=params.get("year"))
    else:
        if run.demand_set is None:
            raise ServiceError(_("The run's demand table has been deleted."))
        demand = demand_from_set(run.demand_set, scope=run.area)
    if not len(demand.points) or demand.points.total() <= 0:
        raise ServiceError(
            _("There are no children to analyse here: enter population totals for this area.")
        )
    index = get_index(graph)

    def core_progress(step: str, done: int, total: int) -> None:
        _set_progress(run.pk, step, 8 + (82 * done) // max(total, 1), progress)

    result = analyse_access(
        graph,
        facilities,
        demand.points,
        pack,
        rule_ids=params["rules"],
        decay=params.get("decay", "flat"),
        h3_resolution=int(params.get("h3_resolution", 9)),
        index=index,
        progress=core_progress,
    )
    _set_progress(run.pk, "tables", 92, progress)
    areas = AreaTable.load()
    coverage = coverage_rows(
        demand, result.nearest_m, pack, areas, run.area.path if run.area else None
    )
    gaps = gap_tables(result, demand)
    summary = summary_of(result, demand, facilities, pack)
    summary["network"] = {
        "nodes": graph.n_nodes,
        "edges": graph.n_edges,
        "version": network_version(),
    }
    summary["places_version"] = data_version("places")
    summary["planned"] = len(planned)
    _set_progress(run.pk, "store", 96, progress)
    name = result_name(run.pk)
    write_arrays(result_path(name), result, demand, facilities)
    # One statement: the run turns "done" together with its results.
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisRun.Status.DONE,
        progress=100,
        stage="done",
        summary=summary,
        tables={"coverage": coverage, "gaps": gaps},
        result_file=name,
        generated_demand=bool(result.generated),
        finished_at=timezone.now(),
    )
    if progress is not None:
        progress("done", 100, 100)


__all__ = [
    "DECAYS",
    "H3_RESOLUTIONS",
    "can_edit_population",
    "demand_set_create",
    "demand_set_generate",
    "demand_set_upload",
    "is_staff",
    "planned_facility_create",
    "planned_facility_delete",
    "population_import",
    "population_set",
    "run_create",
    "run_execute",
]
