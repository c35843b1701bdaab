"""Reads of core data."""

from __future__ import annotations

from yimi.core.models import Area, AuditLog, DataVersion, User
from yimi.core.roles import Role


def area_for_point(lon: float, lat: float) -> Area | None:
    """The deepest area whose boundary contains the point, or None."""
    from shapely.geometry import Point

    best: Area | None = None
    pt = Point(lon, lat)
    for area, geom in _area_shapes():
        if geom.covers(pt) and (best is None or area.level > best.level):
            best = area
    return best


def area_index():
    """An object that assigns many points to areas quickly (a shapely STRtree over boundaries)."""
    return _AreaIndex(_area_shapes())


class _AreaIndex:
    def __init__(self, shapes):
        from shapely import STRtree

        self.areas = [a for a, _ in shapes]
        self.geoms = [g for _, g in shapes]
        self.tree = STRtree(self.geoms) if self.geoms else None

    def lookup(self, lon: float, lat: float) -> Area | None:
        if self.tree is None:
            return None
        from shapely.geometry import Point

        pt = Point(lon, lat)
        best = None
        for i in self.tree.query(pt, predicate="intersects"):
            a = self.areas[int(i)]
            if best is None or a.level > best.level:
                best = a
        return best


def _area_shapes():
    from shapely.geometry import shape
    from shapely.validation import make_valid

    return [
        (a, make_valid(shape(a.boundary)))
        for a in Area.objects.exclude(boundary__isnull=True).order_by("level")
    ]


def area_tree() -> list[Area]:
    return list(Area.objects.all().order_by("path"))


def audit_list(
    *,
    user: User,
    object_type: str | None = None,
    actor: str | None = None,
    action: str | None = None,
):
    """Audit rows an administrator may browse: everything for 系统管理员, own area for 妇儿工委办."""
    if not (user.is_authenticated and (user.is_superuser or user.role in (Role.ADMIN, Role.WCCO))):
        return AuditLog.objects.none()
    qs = AuditLog.objects.visible_to(user).select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if action:
        qs = qs.filter(action=action)
    return qs


def data_version(key: str) -> str:
    """The current token of the data set ``key`` ("" when it was never written)."""
    return DataVersion.objects.filter(key=key).values_list("token", flat=True).first() or ""
