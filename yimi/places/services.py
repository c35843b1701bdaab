"""Writes to the child-friendly map. Keyword-only, atomic, each with its audit rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import h3
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import STAFF_ROLES
from yimi.core.selectors import area_index
from yimi.core.services import (
    PermissionDenied,
    ServiceError,
    audit_record,
    data_version_bump,
    snapshot,
)
from yimi.places.models import Category, Place, Route, RouteStop, Theme

H3_RESOLUTION = 9  # ≈ 0.1 km² cells: small enough for "near me", large enough to stay cheap

EDITABLE_FIELDS = {
    "name",
    "name_en",
    "category",
    "lon",
    "lat",
    "geometry",
    "address",
    "opening_hours",
    "age_min",
    "age_max",
    "capacity",
    "accessible",
    "nursing_room",
    "family_toilet",
    "fee",
    "phone",
    "website",
    "description",
    "area",
}


def _require_staff(actor: User | None) -> None:
    # actor None is the system itself (the CLI, `yimi demo`, background tasks): trusted.
    if actor is None:
        return
    if not actor.is_authenticated or not (actor.is_superuser or actor.role in STAFF_ROLES):
        raise PermissionDenied(_("Only staff may change the map."))


def _require_can_change(actor: User | None, obj) -> None:
    """Staff may change objects in their own area only (the one scoping rule, visible_to)."""
    _require_staff(actor)
    if (
        actor is not None
        and obj.pk is not None
        and not type(obj).objects.visible_to(actor, "change").filter(pk=obj.pk).exists()
    ):
        raise PermissionDenied(_("This belongs to another area."))


def _check_area_for_actor(actor: User | None, area: Area | None) -> None:
    if actor is None or actor.is_superuser or actor.role == "admin":
        return
    if actor.area_id is None:
        raise PermissionDenied(_("Your account has no area."))
    if area is None:
        if actor.area.parent_id is not None:
            raise PermissionDenied(_("This place lies outside your area."))
        return
    if not area.path.startswith(actor.area.path):
        raise PermissionDenied(_("This place lies outside your area."))


def _validate_place_fields(fields: dict[str, Any]) -> None:
    if "name" in fields and not str(fields["name"] or "").strip():
        raise ServiceError(_("A place needs a name."))
    if "category" in fields and fields["category"] not in Category.values:
        raise ServiceError(_("“%(c)s” is not a known category.") % {"c": fields["category"]})
    lon, lat = fields.get("lon"), fields.get("lat")
    if lon is not None and not -180 <= float(lon) <= 180:
        raise ServiceError(_("The longitude is out of range."))
    if lat is not None and not -90 <= float(lat) <= 90:
        raise ServiceError(_("The latitude is out of range."))
    lo, hi = fields.get("age_min"), fields.get("age_max")
    if lo is not None and hi is not None and lo > hi:
        raise ServiceError(_("The lower age is above the upper age."))


def _locate(place: Place, index=None) -> None:
    place.h3_cell = h3.latlng_to_cell(place.lat, place.lon, H3_RESOLUTION)
    if place.area_id is None:
        idx = index if index is not None else area_index()
        place.area = idx.lookup(place.lon, place.lat)


@transaction.atomic
def place_create(*, actor: User | None, source: str = Place.Source.STAFF, **fields: Any) -> Place:
    _require_staff(actor)
    _validate_place_fields(fields)
    place = Place(source=source, **fields)
    _locate(place)
    _check_area_for_actor(actor, place.area)
    place.save()
    audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=place, after=snapshot(place))
    data_version_bump(key="places")
    return place


@transaction.atomic
def place_update(*, actor: User | None, place: Place, **fields: Any) -> Place:
    _require_can_change(actor, place)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ServiceError(_("These fields cannot be changed: %(f)s") % {"f": ", ".join(unknown)})
    _validate_place_fields(fields)
    before = snapshot(place)
    for k, v in fields.items():
        setattr(place, k, v)
    if "lon" in fields or "lat" in fields:
        if "area" not in fields:
            place.area = None
        _locate(place)
    _check_area_for_actor(actor, place.area)
    place.save()
    after = snapshot(place)
    if before != after:
        audit_record(
            actor=actor, action=AuditLog.Action.UPDATE, obj=place, before=before, after=after
        )
        data_version_bump(key="places")
    return place


@transaction.atomic
def place_verify(
    *, actor: User | None, place: Place, state: str = Place.Verification.VERIFIED, note: str = ""
) -> Place:
    _require_can_change(actor, place)
    if state not in Place.Verification.values:
        raise ServiceError(_("Unknown verification state."))
    before = snapshot(place)
    place.verification = state
    place.verified_by = actor if state == Place.Verification.VERIFIED else None
    place.verified_at = timezone.now() if state == Place.Verification.VERIFIED else None
    place.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=place,
        before=before,
        after=snapshot(place),
        note=note,
    )
    data_version_bump(key="places")
    return place


# --- themes and routes ----------------------------------------------------------------------------


@transaction.atomic
def theme_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    name_en: str = "",
    description: str = "",
    color: str = "#e4572e",
    area: Area | None = None,
    places: Iterable[Place] = (),
) -> Theme:
    _require_staff(actor)
    _check_area_for_actor(actor, area)
    if Theme.objects.filter(slug=slug).exists():
        raise ServiceError(
            _("A theme with the code “%(s)s” exists.") % {"s": slug}, code="conflict"
        )
    theme = Theme.objects.create(
        slug=slug, name=name, name_en=name_en, description=description, color=color, area=area
    )
    theme.places.set(list(places))
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=theme,
        after={**snapshot(theme), "places": sorted(p.pk for p in theme.places.all())},
    )
    return theme


@transaction.atomic
def theme_update(
    *, actor: User | None, theme: Theme, places: Iterable[Place] | None = None, **fields: Any
) -> Theme:
    _require_can_change(actor, theme)
    before = {**snapshot(theme), "places": sorted(theme.places.values_list("pk", flat=True))}
    for k, v in fields.items():
        if k not in {"name", "name_en", "description", "color"}:
            raise ServiceError(_("These fields cannot be changed: %(f)s") % {"f": k})
        setattr(theme, k, v)
    theme.save()
    if places is not None:
        theme.places.set(list(places))
    after = {**snapshot(theme), "places": sorted(theme.places.values_list("pk", flat=True))}
    if before != after:
        audit_record(
            actor=actor, action=AuditLog.Action.UPDATE, obj=theme, before=before, after=after
        )
    return theme


def _route_geometry(places: list[Place]) -> dict[str, Any]:
    from yimi.places.selectors import walking_path

    path = walking_path([(p.lon, p.lat) for p in places])
    return path


@transaction.atomic
def route_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    places: list[Place],
    description: str = "",
    theme: Theme | None = None,
    area: Area | None = None,
) -> Route:
    _require_staff(actor)
    _check_area_for_actor(actor, area)
    if len(places) < 2:
        raise ServiceError(_("A route needs at least two places."))
    if Route.objects.filter(slug=slug).exists():
        raise ServiceError(
            _("A route with the code “%(s)s” exists.") % {"s": slug}, code="conflict"
        )
    route = Route(slug=slug, name=name, description=description, theme=theme, area=area)
    _route_fill_path(route, places)
    route.save()
    RouteStop.objects.bulk_create(
        [RouteStop(route=route, place=p, position=i) for i, p in enumerate(places)]
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=route,
        after={**snapshot(route, exclude=("path",)), "stops": [p.pk for p in places]},
    )
    return route


@transaction.atomic
def route_update(
    *, actor: User | None, route: Route, places: list[Place] | None = None, **fields: Any
) -> Route:
    _require_can_change(actor, route)
    stops_before = list(route.stops.values_list("place_id", flat=True))
    before = {**snapshot(route, exclude=("path",)), "stops": stops_before}
    for k, v in fields.items():
        if k not in {"name", "description", "theme"}:
            raise ServiceError(_("These fields cannot be changed: %(f)s") % {"f": k})
        setattr(route, k, v)
    if places is not None:
        if len(places) < 2:
            raise ServiceError(_("A route needs at least two places."))
        route.stops.all().delete()
        RouteStop.objects.bulk_create(
            [RouteStop(route=route, place=p, position=i) for i, p in enumerate(places)]
        )
        _route_fill_path(route, places)
    route.save()
    after = {
        **snapshot(route, exclude=("path",)),
        "stops": list(route.stops.values_list("place_id", flat=True)),
    }
    if before != after:
        audit_record(
            actor=actor, action=AuditLog.Action.UPDATE, obj=route, before=before, after=after
        )
    return route


def _route_fill_path(route: Route, places: list[Place]) -> None:
    from django.conf import settings

    path = _route_geometry(places)
    route.path = path["geometry"]
    route.length_m = path["length_m"]
    route.straight_line = path["straight_line"]
    route.duration_min = path["length_m"] / settings.YIMI_WALK_SPEED_M_PER_MIN


# --- bulk imports from tables and GeoJSON -----------------------------------------------------------


@transaction.atomic
def places_import_rows(
    *,
    actor: User | None,
    rows: list,
    source: str,
    file_name: str,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Create or update places from validated rows (``tabular.ParsedRow``); all or nothing."""
    from yimi.places.tabular import RowError

    _require_staff(actor)
    errors: list[RowError] = []
    idx = area_index()
    areas = {a.code: a for a in Area.objects.all()}
    themes_by_name = {}
    for t in Theme.objects.all():
        themes_by_name[t.slug] = t
        themes_by_name[t.name] = t
    existing_ids = [r.data["id"] for r in rows if r.data.get("id")]
    existing = {p.pk: p for p in Place.objects.filter(pk__in=existing_ids)}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    pending: list[tuple[Any, Place, dict | None, list[Theme]]] = []
    for r in rows:
        d = dict(r.data)
        pid = d.pop("id", None)
        theme_names = d.pop("themes", [])
        area_code = d.pop("area_code", "")
        themes = []
        for tn in theme_names:
            if tn not in themes_by_name:
                errors.append(RowError(r.row, "主题", _("no theme “%(t)s”.") % {"t": tn}))
            else:
                themes.append(themes_by_name[tn])
        area = None
        if area_code:
            area = areas.get(area_code)
            if area is None:
                errors.append(
                    RowError(
                        r.row, "行政区划代码", _("no area with code “%(c)s”.") % {"c": area_code}
                    )
                )
        if pid is not None:
            place = existing.get(pid)
            if place is None:
                errors.append(RowError(r.row, "编号", _("no place with id %(i)s.") % {"i": pid}))
                continue
            before = snapshot(place)
        else:
            place, before = Place(source=source, source_ref=f"{file_name} #{r.row}"), None
        for k, v in d.items():
            setattr(place, k, v)
        if r.geometry is not None:
            place.geometry = r.geometry
        place.area = area
        _locate(place, idx)
        try:
            _check_area_for_actor(actor, place.area)
        except PermissionDenied as exc:
            errors.append(RowError(r.row, "经度", exc.message))
            continue
        pending.append((r.row, place, before, themes))
    if errors:
        raise ServiceError(
            _("The file has errors; nothing was imported."),
            code="invalid",
            details=[e.as_dict() for e in errors],
        )
    total = len(pending)
    for i, (_row, place, before, themes) in enumerate(pending, start=1):
        place.save()
        if themes:
            place.themes.add(*themes)
        after = snapshot(place)
        if before is None:
            counts["created"] += 1
            audit_record(
                actor=actor, action=AuditLog.Action.CREATE, obj=place, after=after, note=file_name
            )
        elif before != after:
            counts["updated"] += 1
            audit_record(
                actor=actor,
                action=AuditLog.Action.UPDATE,
                obj=place,
                before=before,
                after=after,
                note=file_name,
            )
        else:
            counts["unchanged"] += 1
        if progress and (i % 200 == 0 or i == total):
            progress(i, total)
    if counts["created"] or counts["updated"]:
        data_version_bump(key="places")
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        object_type="places.place",
        object_repr=file_name[:255],
        note=str(counts),
        area_path=actor.area.path if actor and actor.area_id else "",
    )
    return counts
