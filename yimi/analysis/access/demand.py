"""Demand for life-circle analyses: where children live, by age group.

Children are allocated from area totals to residential buildings by floor area, or taken from
a table of points or H3 cells; synthetic populations are flagged ``generated``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

import h3
import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from yimi.analysis.access._arrays import FloatArray, IntArray, float_vector
from yimi.analysis.access.ages import AGE_GROUPS

__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_LEVELS_FALLBACK",
    "LANDUSE_FLOOR_AREA_RATIO",
    "Allocation",
    "BuildingLike",
    "DemandPoints",
    "allocate_children",
    "demand_from_h3",
    "demand_from_points",
]

# Storeys assumed when a residential building has no building:levels. Most residential
# buildings in Chinese cities are blocks of flats in 小区; 6 storeys is the commonest walk-up
# (多层 means 4-6 storeys, and from 7 storeys a lift is required, GB 50096-2011 §6.4.1), so it
# is the conservative default: high-rises are under-counted relative to their neighbours unless
# OSM gives their levels. Houses (rural 自建房, villas) 2, terraced houses (联排) 3.
DEFAULT_LEVELS: dict[str, int] = {
    "residential": 6,
    "apartments": 6,
    "dormitory": 6,
    "house": 2,
    "detached": 2,
    "terrace": 3,
}
DEFAULT_LEVELS_FALLBACK: int = 6

# Floor-area ratio (容积率) given to a landuse=residential area that has no mapped residential
# building inside: its floor area is area × ratio. 1.5 is typical of multi-storey (多层)
# residential land (GB 50180-2018 table 4.0.1 gives about 1.2-2.0 for 4-6 storey housing across
# climate zones; not verified against the text). Such areas are usually 小区 whose buildings
# are mapped as building=yes, which the OSM reader does not list as residential.
LANDUSE_FLOOR_AREA_RATIO: float = 1.5

# Area ids are whatever the caller uses (街道 codes, database keys); one type per call.
AreaId = TypeVar("AreaId", bound=Hashable)

_M_PER_DEG = 111_195.0  # metres per degree of latitude (mean Earth radius); a local estimate


class BuildingLike(Protocol):
    """What :func:`allocate_children` reads from a building (``OsmBuilding`` has it all)."""

    osm_type: str
    osm_id: int
    building: str | None
    is_landuse: bool
    levels: int | None
    area_m2: float
    lon: float
    lat: float


@dataclass(frozen=True)
class DemandPoints:
    """Demand points: positions and the number of children of each age group.

    Attributes
    ----------
    lon, lat : ndarray of float64, shape (n,)
        WGS-84 positions.
    weights : ndarray of float64, shape (n, len(AGE_GROUPS))
        Children per age group (columns in :data:`~yimi.analysis.access.ages.AGE_GROUPS`
        order); non-negative, not necessarily whole numbers.
    area_index : ndarray of int64, shape (n,)
        Index into ``area_ids`` of the area each point belongs to, or -1.
    area_ids : tuple
        The areas (e.g. 街道 or 社区 ids), in first-appearance order.
    kind : str
        ``'buildings'``, ``'points'``, ``'h3'`` or ``'generated'``.
    generated : bool
        True for synthetic populations: never to be shown as real children.
    labels : tuple of str, optional
        A label per point (``'way/123'``, an H3 cell), when the source has one.
    """

    lon: FloatArray
    lat: FloatArray
    weights: FloatArray
    area_index: IntArray
    area_ids: tuple[Hashable, ...] = ()
    kind: str = "points"
    generated: bool = False
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = self.lon.shape[0]
        if self.lat.shape != (n,) or self.area_index.shape != (n,):
            raise ValueError("lon, lat and area_index must have one entry per point")
        if self.weights.shape != (n, len(AGE_GROUPS)):
            raise ValueError(f"weights must have shape (n, {len(AGE_GROUPS)})")
        if n and not (np.isfinite(self.weights).all() and self.weights.min() >= 0):
            raise ValueError("weights must be finite and non-negative")
        if n and (self.area_index.max() >= len(self.area_ids) or self.area_index.min() < -1):
            raise ValueError("area_index must be -1 or an index into area_ids")
        if self.labels is not None and len(self.labels) != n:
            raise ValueError("labels must have one entry per point")

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    def children(self, groups: Sequence[str] | None = None) -> FloatArray:
        """Children of the given age groups (all when None) at each point."""
        return self.weights[:, _group_columns(groups)].sum(axis=1)

    def total(self, groups: Sequence[str] | None = None) -> float:
        """All children of the given age groups (all when None)."""
        return float(self.children(groups).sum())


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate_children`.

    Attributes
    ----------
    demand : DemandPoints
        One point per building (or landuse area) that received children, plus one point per
        area placed at its polygon (see ``fallback_areas``).
    building_index : ndarray of int64
        For each demand point, its row in the input buildings, or -1 for a fallback point.
    floor_area_m2 : ndarray of float64
        The floor area used for each point's share (NaN for fallback points).
    fallback_areas : tuple
        Areas with children but no homes: all their children were put at the polygon's
        representative point (only when polygons were given).
    unallocated : dict
        Areas with children but no homes and no polygon: children per age group not placed.
    buildings_outside : int
        Buildings (or landuse areas) in no area that has totals.
    landuse_used, landuse_skipped : int
        Residential landuse areas given a share by density, and those skipped because
        residential buildings lie inside them.
    """

    demand: DemandPoints
    building_index: IntArray
    floor_area_m2: FloatArray
    fallback_areas: tuple[Hashable, ...] = ()
    unallocated: dict[Hashable, dict[str, float]] = field(default_factory=dict)
    buildings_outside: int = 0
    landuse_used: int = 0
    landuse_skipped: int = 0


def allocate_children(
    buildings: Sequence[BuildingLike],
    area_totals: Mapping[AreaId, Mapping[str, float]],
    *,
    building_area: Sequence[AreaId | None] | None = None,
    area_polygons: Mapping[AreaId, shapely.Geometry] | None = None,
    default_levels: Mapping[str, int] | None = None,
    landuse_floor_area_ratio: float = LANDUSE_FLOOR_AREA_RATIO,
    landuse_geometries: Mapping[str, shapely.Geometry] | None = None,
    rounding: Literal["auto", "largest_remainder", "none"] = "auto",
) -> Allocation:
    """Allocate each area's children to its residential buildings in proportion to floor area.

    Parameters
    ----------
    buildings : sequence of BuildingLike
        Residential buildings and residential landuse areas (``OsmExtract.buildings``).
    area_totals : mapping
        Area id → {age group → children}, e.g. from the census by 街道. Missing age groups
        count as 0.
    building_area : sequence, optional
        The area id of each building (None: in no area). Give this or ``area_polygons``.
    area_polygons : mapping, optional
        Area id → polygon (WGS-84 lon/lat). A building belongs to the first polygon (in
        mapping order) that contains or touches its centroid.
    default_levels : mapping, optional
        Storeys by ``building`` value when OSM gives none; updates :data:`DEFAULT_LEVELS`.
        The key ``'*'`` replaces :data:`DEFAULT_LEVELS_FALLBACK` for other values.
    landuse_floor_area_ratio : float, default :data:`LANDUSE_FLOOR_AREA_RATIO`
        Floor-area ratio for residential landuse areas without residential buildings inside.
    landuse_geometries : mapping, optional
        ``'way/123'`` → polygon of landuse areas, to test exactly whether buildings lie inside.
        Without it an area is approximated by the disc of equal area around its centroid.
    rounding : {'auto', 'largest_remainder', 'none'}, default 'auto'
        ``'largest_remainder'`` gives whole children whose sum per area and age group equals
        the total exactly (Hamilton's method; ties to the earlier building); ``'none'`` gives
        fractional shares; ``'auto'`` rounds when every total is a whole number.

    Returns
    -------
    Allocation

    Raises
    ------
    ValueError
        On unknown age groups, negative totals, neither or both of ``building_area`` and
        ``area_polygons``, or ``'largest_remainder'`` with fractional totals.
    """
    if (building_area is None) == (area_polygons is None):
        raise ValueError("give exactly one of building_area and area_polygons")
    if not landuse_floor_area_ratio > 0:
        raise ValueError("landuse_floor_area_ratio must be positive")
    totals = _validated_totals(area_totals)
    whole = all(float(v).is_integer() for t in totals.values() for v in t)
    if rounding == "largest_remainder" and not whole:
        raise ValueError("largest_remainder rounding needs whole-number totals")
    integer = rounding == "largest_remainder" or (rounding == "auto" and whole)

    n = len(buildings)
    lon = np.array([b.lon for b in buildings], dtype=np.float64)
    lat = np.array([b.lat for b in buildings], dtype=np.float64)
    area_ids = list(totals)
    area_pos = {a: i for i, a in enumerate(area_ids)}
    if building_area is not None:
        if len(building_area) != n:
            raise ValueError("building_area must have one entry per building")
        owner = np.array(
            [-1 if a is None else area_pos.get(a, -1) for a in building_area], dtype=np.int64
        )
    else:
        assert area_polygons is not None
        owner = _owner_by_polygon(lon, lat, area_polygons, area_pos)

    levels_map = {**DEFAULT_LEVELS, **(default_levels or {})}
    fallback_levels = levels_map.pop("*", DEFAULT_LEVELS_FALLBACK)
    is_landuse = np.array([b.is_landuse for b in buildings], dtype=bool)
    footprint = np.array([max(float(b.area_m2), 0.0) for b in buildings], dtype=np.float64)
    levels = np.array(
        [
            b.levels if b.levels else levels_map.get(b.building or "", fallback_levels)
            for b in buildings
        ],
        dtype=np.float64,
    )
    floor = np.where(is_landuse, footprint * landuse_floor_area_ratio, footprint * levels)
    skip = _landuse_with_buildings(buildings, lon, lat, is_landuse, landuse_geometries)
    floor[skip] = 0.0

    weights_rows: list[FloatArray] = []
    index_rows: list[IntArray] = []
    owners: list[IntArray] = []
    fallback: list[Hashable] = []
    extra_lon: list[float] = []
    extra_lat: list[float] = []
    unallocated: dict[Hashable, dict[str, float]] = {}
    for a, area in enumerate(area_ids):
        members = np.flatnonzero((owner == a) & (floor > 0))
        t = np.asarray(totals[area], dtype=np.float64)
        if not members.size:
            if t.sum() == 0:
                continue
            poly = None if area_polygons is None else area_polygons.get(area)
            if poly is None or poly.is_empty:
                unallocated[area] = dict(zip(AGE_GROUPS, t.tolist(), strict=True))
                continue
            p = poly.representative_point()
            fallback.append(area)
            extra_lon.append(float(p.x))
            extra_lat.append(float(p.y))
            weights_rows.append(t[None, :])
            index_rows.append(np.array([-1], dtype=np.int64))
            owners.append(np.array([a], dtype=np.int64))
            continue
        share = floor[members]
        w = np.empty((members.size, len(AGE_GROUPS)), dtype=np.float64)
        for g in range(len(AGE_GROUPS)):
            w[:, g] = (
                _largest_remainder(int(t[g]), share) if integer else t[g] * share / share.sum()
            )
        weights_rows.append(w)
        index_rows.append(members)
        owners.append(np.full(members.size, a, dtype=np.int64))

    idx = np.concatenate(index_rows) if index_rows else np.empty(0, dtype=np.int64)
    weights = np.concatenate(weights_rows) if weights_rows else np.empty((0, len(AGE_GROUPS)))
    real = idx >= 0
    out_lon = np.empty(idx.shape[0])
    out_lat = np.empty(idx.shape[0])
    out_lon[real], out_lat[real] = lon[idx[real]], lat[idx[real]]
    out_lon[~real], out_lat[~real] = extra_lon, extra_lat
    labels = tuple(
        f"{buildings[i].osm_type}/{buildings[i].osm_id}" if i >= 0 else "area" for i in idx.tolist()
    )
    demand = DemandPoints(
        lon=out_lon,
        lat=out_lat,
        weights=weights,
        area_index=np.concatenate(owners) if owners else np.empty(0, dtype=np.int64),
        area_ids=tuple(area_ids),
        kind="buildings",
        generated=False,
        labels=labels,
    )
    used = is_landuse & ~skip & (owner >= 0) & (floor > 0)
    return Allocation(
        demand=demand,
        building_index=idx,
        floor_area_m2=np.where(real, floor[np.maximum(idx, 0)], np.nan),
        fallback_areas=tuple(fallback),
        unallocated=unallocated,
        buildings_outside=int((owner < 0).sum()),
        landuse_used=int(used.sum()),
        landuse_skipped=int((is_landuse & skip).sum()),
    )


def demand_from_points(
    lon: ArrayLike,
    lat: ArrayLike,
    counts: Mapping[str, ArrayLike] | ArrayLike,
    *,
    area: Sequence[Hashable | None] | None = None,
    labels: Sequence[str] | None = None,
    generated: bool = False,
) -> DemandPoints:
    """Demand from a table of points with children counts.

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 positions.
    counts : mapping or array_like
        Age group → counts per point (missing groups are 0), or an array of shape
        (n, len(AGE_GROUPS)).
    area : sequence, optional
        The area id of each point (None: no area).
    labels : sequence of str, optional
    generated : bool, default False
        True for synthetic populations.

    Returns
    -------
    DemandPoints
    """
    x = float_vector(lon, "lon").copy()
    y = float_vector(lat, "lat").copy()
    if x.shape != y.shape:
        raise ValueError("lon and lat differ in length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("demand coordinates must be finite")
    weights = _counts_matrix(counts, x.shape[0])
    area_index, area_ids = _area_index(area, x.shape[0])
    return DemandPoints(
        lon=x,
        lat=y,
        weights=weights,
        area_index=area_index,
        area_ids=area_ids,
        kind="generated" if generated else "points",
        generated=generated,
        labels=None if labels is None else tuple(str(s) for s in labels),
    )


def demand_from_h3(
    cells: Sequence[str | int],
    counts: Mapping[str, ArrayLike] | ArrayLike,
    *,
    area: Sequence[Hashable | None] | None = None,
    generated: bool = False,
) -> DemandPoints:
    """Demand from children counts per H3 cell, placed at each cell's centre.

    Parameters
    ----------
    cells : sequence of str or int
        H3 cell ids (any resolution; strings or integers).
    counts : mapping or array_like
        As for :func:`demand_from_points`.
    area : sequence, optional
        The area id of each cell.
    generated : bool, default False

    Returns
    -------
    DemandPoints
        Labels are the cells' string ids.

    Raises
    ------
    ValueError
        On an invalid cell id.
    """
    names: list[str] = []
    lon = np.empty(len(cells))
    lat = np.empty(len(cells))
    for i, c in enumerate(cells):
        s = h3.int_to_str(int(c)) if isinstance(c, int | np.integer) else str(c)
        if not h3.is_valid_cell(s):
            raise ValueError(f"cells[{i}]: {c!r} is not a valid H3 cell")
        lat[i], lon[i] = h3.cell_to_latlng(s)
        names.append(s)
    d = demand_from_points(lon, lat, counts, area=area, labels=names, generated=generated)
    return DemandPoints(
        lon=d.lon,
        lat=d.lat,
        weights=d.weights,
        area_index=d.area_index,
        area_ids=d.area_ids,
        kind="h3",
        generated=generated,
        labels=d.labels,
    )


# ---------------------------------------------------------------------- helpers


def _group_columns(groups: Sequence[str] | None) -> list[int]:
    if groups is None:
        return list(range(len(AGE_GROUPS)))
    cols = []
    for g in groups:
        if g not in AGE_GROUPS:
            raise ValueError(f"unknown age group {g!r} (known: {', '.join(AGE_GROUPS)})")
        cols.append(AGE_GROUPS.index(g))
    return cols


def _validated_totals(
    area_totals: Mapping[AreaId, Mapping[str, float]],
) -> dict[AreaId, list[float]]:
    out: dict[AreaId, list[float]] = {}
    for area, groups in area_totals.items():
        unknown = set(groups) - set(AGE_GROUPS)
        if unknown:
            raise ValueError(f"area {area!r}: unknown age group {sorted(unknown)[0]!r}")
        row = [float(groups.get(g, 0.0)) for g in AGE_GROUPS]
        if not all(math.isfinite(v) and v >= 0 for v in row):
            raise ValueError(f"area {area!r}: totals must be finite and non-negative")
        out[area] = row
    return out


def _largest_remainder(total: int, share: FloatArray) -> FloatArray:
    """Whole numbers proportional to ``share`` that sum to ``total`` (Hamilton's method)."""
    quota = total * (share / share.sum())
    base = np.floor(quota)
    left = int(np.clip(total - int(base.sum()), 0, share.shape[0]))
    # Largest fractional parts first; ties to the lower index (lexsort is stable).
    order = np.lexsort((np.arange(share.shape[0]), -(quota - base)))
    base[order[:left]] += 1.0
    return base


def _owner_by_polygon(
    lon: FloatArray,
    lat: FloatArray,
    polygons: Mapping[AreaId, shapely.Geometry],
    area_pos: Mapping[AreaId, int],
) -> IntArray:
    owner = np.full(lon.shape[0], -1, dtype=np.int64)
    keys = [k for k in polygons if k in area_pos]
    if not keys or not lon.size:
        return owner
    tree = shapely.STRtree([polygons[k] for k in keys])
    pts, polys = tree.query(shapely.points(lon, lat), predicate="intersects")
    # The first polygon in mapping order wins where polygons overlap.
    order = np.lexsort((polys, pts))
    pts, polys = pts[order], polys[order]
    first = np.ones(pts.shape[0], dtype=bool)
    first[1:] = pts[1:] != pts[:-1]
    area_index = np.array([area_pos[k] for k in keys], dtype=np.int64)
    owner[pts[first]] = area_index[polys[first]]
    return owner


def _landuse_with_buildings(
    buildings: Sequence[BuildingLike],
    lon: FloatArray,
    lat: FloatArray,
    is_landuse: np.ndarray,
    geometries: Mapping[str, shapely.Geometry] | None,
) -> np.ndarray:
    """Mask of landuse areas that contain a residential building's centroid."""
    skip = np.zeros(lon.shape[0], dtype=bool)
    land = np.flatnonzero(is_landuse)
    bld = np.flatnonzero(~is_landuse)
    if not (land.size and bld.size):
        return skip
    lat0 = float(np.mean(lat))
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    tree = cKDTree(np.column_stack([lon[bld] * kx, lat[bld] * _M_PER_DEG]))
    bld_points = shapely.points(lon[bld], lat[bld])
    for i in land.tolist():
        b = buildings[i]
        geom = None if geometries is None else geometries.get(f"{b.osm_type}/{b.osm_id}")
        if geom is not None:
            skip[i] = bool(shapely.intersects(geom, bld_points).any())
        else:
            radius = math.sqrt(max(float(b.area_m2), 0.0) / math.pi)
            near = tree.query_ball_point([lon[i] * kx, lat[i] * _M_PER_DEG], radius)
            skip[i] = len(near) > 0
    return skip


def _counts_matrix(counts: Mapping[str, ArrayLike] | ArrayLike, n: int) -> FloatArray:
    if isinstance(counts, Mapping):
        unknown = set(counts) - set(AGE_GROUPS)
        if unknown:
            raise ValueError(f"unknown age group {sorted(unknown)[0]!r}")
        w = np.zeros((n, len(AGE_GROUPS)), dtype=np.float64)
        for g, values in counts.items():
            col = float_vector(values, f"counts[{g!r}]")
            if col.shape[0] != n:
                raise ValueError(f"counts[{g!r}] must have one entry per point")
            w[:, AGE_GROUPS.index(g)] = col
    else:
        w = np.array(counts, dtype=np.float64)
        if w.shape != (n, len(AGE_GROUPS)):
            raise ValueError(f"counts must have shape ({n}, {len(AGE_GROUPS)})")
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise ValueError("counts must be finite and non-negative")
    return w


def _area_index(
    area: Sequence[Hashable | None] | None, n: int
) -> tuple[IntArray, tuple[Hashable, ...]]:
    if area is None:
        return np.full(n, -1, dtype=np.int64), ()
    if len(area) != n:
        raise ValueError("area must have one entry per point")
    ids: dict[Hashable, int] = {}
    index = np.array(
        [-1 if a is None else ids.setdefault(a, len(ids)) for a in area], dtype=np.int64
    )
    return index, tuple(ids)
