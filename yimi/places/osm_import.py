"""``yimi import-osm``: places, the walking network and basemap layers from an OSM file.

Re-importing the same file changes nothing; a newer file updates places by OSM id. The whole
import is one transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.analysis.categories import CATEGORY_LABELS_ZH
from yimi.analysis.osm import OsmExtract, read_osm
from yimi.core.models import AuditLog, User
from yimi.core.selectors import area_index
from yimi.core.services import ServiceError, audit_record, data_version_bump, snapshot
from yimi.places.models import BasemapFeature, Building, OsmImport, Place, WalkEdge, WalkNode
from yimi.places.services import _locate
from yimi.sample_data import sha256_of

Progress = Callable[[str, int, int | None], None]

# Fields that an OSM import owns; staff edits to other fields (ages, verification …) are kept.
OSM_FIELDS = (
    "name",
    "name_en",
    "category",
    "category_reason",
    "lon",
    "lat",
    "geometry",
    "area_m2",
    "address",
    "opening_hours",
    "accessible",
    "fee",
    "osm_version",
    "osm_timestamp",
    "osm_tags",
    "merged_refs",
)


def _place_fields(p) -> dict[str, Any]:
    fee = {True: Place.Fee.PAID, False: Place.Fee.FREE}.get(p.fee, "")
    return {
        "name": (p.name or "")[:200],
        "name_en": (p.name_en or "")[:200],
        "category": p.category,
        "category_reason": (p.category_reason or "")[:255],
        "lon": round(float(p.lon), 7),
        "lat": round(float(p.lat), 7),
        "geometry": p.geometry,
        "area_m2": round(p.area_m2, 1) if p.area_m2 is not None else None,
        "address": (p.address or "")[:255],
        "opening_hours": (p.opening_hours or "")[:255],
        "accessible": p.wheelchair,
        "fee": fee,
        "osm_version": p.version,
        "osm_timestamp": p.timestamp,
        "osm_tags": dict(p.tags),
        "merged_refs": list(p.merged_ids),
    }


def _unnamed(category: str) -> str:
    # Stored data, so in the city's language whatever the importing user's language is.
    return f"未命名{CATEGORY_LABELS_ZH[category].split('/')[0]}"


def osm_import(
    *, actor: User | None, path: str | Path, progress: Progress | None = None
) -> OsmImport:
    path = Path(path)
    if not path.exists():
        raise ServiceError(_("%(p)s: no such file.") % {"p": path}, code="not_found")
    run = OsmImport.objects.create(
        file_name=path.name,
        sha256=sha256_of(path),
        actor=actor if actor and actor.is_authenticated else None,
    )
    try:
        extract = read_osm(path, progress=progress)
        with transaction.atomic():
            counts = _apply(actor=actor, extract=extract, file_name=path.name, progress=progress)
            audit_record(
                actor=actor,
                action=AuditLog.Action.IMPORT,
                object_type="places.osmimport",
                object_id=str(run.pk),
                object_repr=path.name,
                note=str(counts),
            )
    except Exception as exc:
        run.status = OsmImport.Status.FAILED
        run.error = str(exc)
        run.finished_at = timezone.now()
        run.save()
        raise
    changed = (
        counts["places_created"]
        + counts["places_updated"]
        + counts["places_retired"]
        + counts["network_ways_changed"]
        + counts["network_nodes_changed"]
        + counts["basemap_changed"]
        + counts["buildings_changed"]
    )
    run.status = OsmImport.Status.DONE if changed else OsmImport.Status.UNCHANGED
    run.counts = counts
    run.data_timestamp = extract.newest_timestamp
    run.finished_at = timezone.now()
    run.save()
    return run


def _apply(
    *, actor, extract: OsmExtract, file_name: str, progress: Progress | None
) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "places_created": 0,
        "places_updated": 0,
        "places_unchanged": 0,
        "places_retired": 0,
    }
    per_category: Counter[str] = Counter()
    idx = area_index()
    existing = {(p.osm_type, p.osm_id): p for p in Place.objects.filter(source=Place.Source.OSM)}
    seen = set()
    audit_rows = []
    created: list[Place] = []
    updated: list[tuple[Place, dict]] = []
    total = len(extract.places)
    for i, op in enumerate(extract.places, start=1):
        key = (op.osm_type, op.osm_id)
        seen.add(key)
        per_category[op.category] += 1
        fields = _place_fields(op)
        if not fields["name"]:
            fields["name"] = _unnamed(op.category)
        place = existing.get(key)
        if place is None:
            place = Place(
                source=Place.Source.OSM,
                source_ref=f"{op.osm_type}/{op.osm_id}",
                osm_type=op.osm_type,
                osm_id=op.osm_id,
                **fields,
            )
            _locate(place, idx)
            created.append(place)
        elif (place.osm_version or 0) < (op.version or 0) or (
            place.osm_version == op.version and _differs(place, fields)
        ):
            before = snapshot(place)
            for k, v in fields.items():
                setattr(place, k, v)
            place.area = None
            _locate(place, idx)
            if place.verification == Place.Verification.RETIRED:
                place.verification = Place.Verification.UNVERIFIED
            updated.append((place, before))
        else:
            counts["places_unchanged"] += 1
        if progress and (i % 500 == 0 or i == total):
            progress("store-places", i, total)
    # Written in bulk: a city extract has thousands of places. The primary keys come back from
    # the insert (SQLite ≥ 3.35, PostgreSQL), so every new place still gets its audit row.
    Place.objects.bulk_create(created, batch_size=1000)
    now = timezone.now()
    for place, _before in updated:
        place.updated_at = now
    Place.objects.bulk_update(
        [p for p, _b in updated],
        [*OSM_FIELDS, "area", "h3_cell", "verification", "updated_at"],
        batch_size=1000,
    )
    counts["places_created"] = len(created)
    counts["places_updated"] = len(updated)
    for place in created:
        audit_rows.append(
            _audit_row(actor, AuditLog.Action.CREATE, place, None, snapshot(place), file_name)
        )
    for place, before in updated:
        audit_rows.append(
            _audit_row(actor, AuditLog.Action.UPDATE, place, before, snapshot(place), file_name)
        )
    # OSM objects gone from a file that covers them and is newer: the place closed or moved
    # out of OSM; retire it (kept for history, hidden from the public map).
    min_lon, min_lat, max_lon, max_lat = extract.bounds
    newest = extract.newest_timestamp
    for key, place in existing.items():
        if key in seen or place.verification == Place.Verification.RETIRED:
            continue
        inside = min_lon <= place.lon <= max_lon and min_lat <= place.lat <= max_lat
        if inside and newest and place.osm_timestamp and newest > place.osm_timestamp:
            before = snapshot(place)
            place.verification = Place.Verification.RETIRED
            place.save()
            counts["places_retired"] += 1
            audit_rows.append(
                _audit_row(
                    actor,
                    AuditLog.Action.UPDATE,
                    place,
                    before,
                    snapshot(place),
                    _("gone from %(f)s") % {"f": file_name},
                )
            )
    AuditLog.objects.bulk_create(audit_rows, batch_size=500)
    counts["per_category"] = dict(sorted(per_category.items()))
    counts.update(_store_network(extract, progress))
    counts["basemap_changed"] = _store_basemap(extract)
    counts["buildings_changed"] = _store_buildings(extract, idx)
    if counts["places_created"] or counts["places_updated"] or counts["places_retired"]:
        data_version_bump(key="places")
    if counts["network_ways_changed"] or counts["network_nodes_changed"]:
        data_version_bump(key="network")
    counts["stats"] = {k: v for k, v in extract.stats.items() if isinstance(v, int | float | str)}
    return counts


def _differs(place: Place, fields: dict[str, Any]) -> bool:
    for k, v in fields.items():
        cur = getattr(place, k)
        if k == "osm_timestamp":
            if (cur is None) != (v is None) or (cur and v and cur != v):
                return True
            continue
        if k in ("name",) and not v:
            continue
        if cur != v:
            return True
    return False


def _audit_row(actor, action, place, before, after, note) -> AuditLog:
    real = actor if actor is not None and actor.is_authenticated else None
    return AuditLog(
        actor=real,
        actor_name=real.get_username() if real else "system",
        action=action,
        object_type="places.place",
        object_id=str(place.pk),
        object_repr=place.name[:255],
        before=before,
        after=after,
        note=note,
        area_path=place.area.path if place.area else "",
    )


def _store_network(extract: OsmExtract, progress: Progress | None) -> dict[str, int]:
    """Replace the edges of every way in the file; leave ways of other files alone."""
    net = extract.network
    n_edges = len(net.edge_u)
    node_osm = [int(x) for x in net.node_osm_id]
    new_by_way: dict[int, list[tuple]] = {}
    for e in range(n_edges):
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        new_by_way.setdefault(int(net.edge_way_id[e]), []).append(
            (
                node_osm[u],
                node_osm[v],
                round(float(net.edge_length_m[e]), 3),
                str(net.edge_highway[e]),
                (net.edge_name[e] or "")[:200],
                None if net.edge_sidewalk[e] is None else bool(net.edge_sidewalk[e]),
                bool(net.edge_crossing[e]),
            )
        )
    old_by_way: dict[int, list[tuple]] = {}
    rows = (
        WalkEdge.objects.filter(way_id__in=list(new_by_way))
        .values_list(
            "way_id",
            "u__osm_id",
            "v__osm_id",
            "length_m",
            "highway",
            "name",
            "sidewalk",
            "crossing",
        )
        .order_by("id")
    )
    for way_id, u, v, length, hw, name, sw, cr in rows.iterator(chunk_size=5000):
        old_by_way.setdefault(way_id, []).append((u, v, round(length, 3), hw, name, sw, cr))
    changed_ways = [w for w, edges in new_by_way.items() if old_by_way.get(w) != edges]

    # Nodes: insert the missing; update those that moved or whose crossing/signal tags changed
    # (a crossing can be mapped on a node without its ways changing).
    def node_values(i: int) -> tuple:
        return (
            float(net.lon[i]),
            float(net.lat[i]),
            bool(net.node_crossing[i]),
            bool(net.node_traffic_signals[i]),
        )

    existing = dict(WalkNode.objects.filter(osm_id__in=node_osm).values_list("osm_id", "id"))
    missing = []
    for i in range(len(node_osm)):
        if node_osm[i] not in existing:
            lon, lat, cr, sig = node_values(i)
            missing.append(
                WalkNode(osm_id=node_osm[i], lon=lon, lat=lat, crossing=cr, traffic_signals=sig)
            )
    WalkNode.objects.bulk_create(missing, batch_size=2000)
    changed_nodes = []
    position = {osm_id: i for i, osm_id in enumerate(node_osm)}
    for n in WalkNode.objects.filter(osm_id__in=list(existing)).only(
        "id", "osm_id", "lon", "lat", "crossing", "traffic_signals"
    ):
        values = node_values(position[n.osm_id])
        if (n.lon, n.lat, n.crossing, n.traffic_signals) != values:
            n.lon, n.lat, n.crossing, n.traffic_signals = values
            changed_nodes.append(n)
    WalkNode.objects.bulk_update(
        changed_nodes, ["lon", "lat", "crossing", "traffic_signals"], batch_size=2000
    )
    if not changed_ways:
        return {
            "network_nodes": len(node_osm),
            "network_edges": n_edges,
            "network_ways_changed": 0,
            "network_nodes_changed": len(missing) + len(changed_nodes),
        }
    ids = dict(WalkNode.objects.filter(osm_id__in=node_osm).values_list("osm_id", "id"))
    WalkEdge.objects.filter(way_id__in=changed_ways).delete()
    new_edges = []
    for w in changed_ways:
        for u, v, length, hw, name, sw, cr in new_by_way[w]:
            new_edges.append(
                WalkEdge(
                    u_id=ids[u],
                    v_id=ids[v],
                    length_m=length,
                    way_id=w,
                    highway=hw,
                    name=name,
                    sidewalk=sw,
                    crossing=cr,
                )
            )
    total = len(new_edges)
    for start in range(0, total, 5000):
        WalkEdge.objects.bulk_create(new_edges[start : start + 5000])
        if progress:
            progress("store-network", min(start + 5000, total), total)
    return {
        "network_nodes": len(node_osm),
        "network_edges": n_edges,
        "network_ways_changed": len(changed_ways),
        "network_nodes_changed": len(missing) + len(changed_nodes),
    }


def _bbox(geometry: dict) -> tuple[float, float, float, float]:
    from shapely.geometry import shape

    return shape(geometry).bounds


def _store_basemap(extract: OsmExtract) -> int:
    new = {}
    for f in extract.basemap:
        ref = f.osm_ref
        new[(f.kind, ref)] = f
    old = {
        (b.kind, b.osm_ref): b
        for b in BasemapFeature.objects.filter(osm_ref__in=[r for _k, r in new])
    }
    create, changed = [], 0
    for key, f in new.items():
        b = old.get(key)
        if (
            b is not None
            and b.geometry == f.geometry
            and b.name == (f.name or "")
            and b.highway == (getattr(f, "highway", None) or "")
        ):
            continue
        if b is not None:
            b.delete()
        x0, y0, x1, y1 = _bbox(f.geometry)
        create.append(
            BasemapFeature(
                kind=f.kind,
                osm_ref=key[1],
                name=(f.name or "")[:200],
                highway=(getattr(f, "highway", None) or "")[:30],
                geometry=f.geometry,
                min_lon=x0,
                min_lat=y0,
                max_lon=x1,
                max_lat=y1,
            )
        )
        changed += 1
    BasemapFeature.objects.bulk_create(create, batch_size=1000)
    return changed


def _store_buildings(extract: OsmExtract, idx) -> int:
    """Residential buildings and land use, upserted by OSM id; returns how many changed."""
    fields = ("building", "is_landuse", "levels", "footprint_m2", "lon", "lat", "name", "geometry")
    existing = {
        (b.osm_type, b.osm_id): b
        for b in Building.objects.filter(osm_id__in=[b.osm_id for b in extract.buildings])
    }
    create, update = [], []
    for ob in extract.buildings:
        values = {
            "building": ob.building or "",
            "is_landuse": ob.is_landuse,
            "levels": ob.levels,
            "footprint_m2": round(float(ob.area_m2), 2),
            "lon": ob.lon,
            "lat": ob.lat,
            "name": (ob.name or "")[:200],
            "geometry": ob.geometry,
        }
        b = existing.get((ob.osm_type, ob.osm_id))
        if b is None:
            b = Building(osm_type=ob.osm_type, osm_id=ob.osm_id, **values)
            b.area = idx.lookup(b.lon, b.lat)
            create.append(b)
        elif any(getattr(b, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(b, k, v)
            b.area = idx.lookup(b.lon, b.lat)
            update.append(b)
    Building.objects.bulk_create(create, batch_size=1000)
    Building.objects.bulk_update(update, [*fields, "area"], batch_size=1000)
    return len(create) + len(update)
