"""Places out as GeoJSON, Excel or CSV, in the coordinate system the user picks."""

from __future__ import annotations

import csv
import io
import json

from django.utils.translation import gettext as _

from yimi.analysis import coords
from yimi.analysis.categories import CATEGORY_LABELS_ZH
from yimi.core.models import AuditLog
from yimi.core.services import audit_record
from yimi.places.models import Place
from yimi.places.tabular import COLUMNS

FORMATS = {
    "geojson": ("application/geo+json", "geojson"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}
CRS_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def _yn(v: bool | None) -> str:
    return "" if v is None else ("是" if v else "否")


def _row(p: Place, crs: str) -> dict[str, object]:
    lon, lat = coords.from_wgs84(p.lon, p.lat, crs)
    fee = {"free": "免费", "paid": "收费"}.get(p.fee, "")
    return {
        "id": p.pk,
        "name": p.name,
        "name_en": p.name_en,
        "category": CATEGORY_LABELS_ZH[p.category],
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "crs": CRS_LABEL[crs],
        "address": p.address,
        "opening_hours": p.opening_hours,
        "age_min": p.age_min if p.age_min is not None else "",
        "age_max": p.age_max if p.age_max is not None else "",
        "capacity": p.capacity if p.capacity is not None else "",
        "accessible": _yn(p.accessible),
        "nursing_room": _yn(p.nursing_room),
        "family_toilet": _yn(p.family_toilet),
        "fee": fee,
        "phone": p.phone,
        "website": p.website,
        "description": p.description,
        "area_code": p.area.code if p.area_id else "",
        "themes": ",".join(t.name for t in p.themes.all()),
    }


def _geometry(p: Place, crs: str) -> dict:
    if not p.geometry:
        lon, lat = coords.from_wgs84(p.lon, p.lat, crs)
        return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
    if crs == "wgs84":
        return p.geometry
    import numpy as np
    import shapely
    from shapely.geometry import mapping, shape

    return mapping(
        shapely.transform(
            shape(p.geometry), lambda c: np.column_stack(coords.from_wgs84(c[:, 0], c[:, 1], crs))
        )
    )


def export_places(places: list[Place], *, fmt: str, crs: str) -> tuple[bytes, str, str]:
    if fmt not in FORMATS:
        raise ValueError(_("format must be geojson, xlsx or csv."))
    crs = coords.normalise_crs(crs)
    ctype, ext = FORMATS[fmt]
    if fmt == "geojson":
        feats = []
        for p in places:
            props = _row(p, crs)
            props["category_code"] = p.category
            props["verification"] = p.verification
            props["source"] = p.source_ref
            feats.append(
                {"type": "Feature", "id": p.pk, "geometry": _geometry(p, crs), "properties": props}
            )
        doc = {
            "type": "FeatureCollection",
            "crs_name": CRS_LABEL[crs],
            "attribution": "© OpenStreetMap contributors (ODbL) where source is OSM",
            "features": feats,
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8"), ctype, ext
    headers = [zh for _k, zh, _en, _r in COLUMNS]
    keys = [k for k, _zh, _en, _r in COLUMNS]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(headers)
        for p in places:
            r = _row(p, crs)
            w.writerow([r[k] for k in keys])
        # UTF-8 with BOM so that Excel in China opens it without garbling the Chinese.
        return buf.getvalue().encode("utf-8-sig"), ctype, ext
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "地点"
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for p in places:
        r = _row(p, crs)
        ws.append([r[k] for k in keys])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), ctype, ext


def audit_export(*, actor, fmt: str, crs: str, count: int) -> None:
    audit_record(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        object_type="places.place",
        object_repr=f"{count} places",
        note=f"format={fmt} crs={crs}",
    )
