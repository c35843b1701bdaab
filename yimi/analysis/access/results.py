"""Results for people: coverage tables by area, H3 gap maps and the worst-served places.

Everything is returned as plain records (dataclasses of numbers and strings) and GeoJSON.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import h3
import numpy as np
from numpy.typing import ArrayLike

from yimi.analysis.access._arrays import IntArray, float_vector, weighted_bincount
from yimi.analysis.access.demand import DemandPoints
from yimi.analysis.access.rulepack import RulePack

__all__ = [
    "CoverageRow",
    "GapCell",
    "coverage_table",
    "gap_geojson",
    "h3_cells",
    "h3_gap_map",
    "worst_served",
]


@dataclass(frozen=True)
class CoverageRow:
    """Children within a walking distance of a rule's facilities, in one area or city-wide.

    Attributes
    ----------
    area_id : hashable or None
        The area; None for the city-wide row (which includes points in no area).
    rule_id : str
    distance_m : float
    minutes : int or None
        The life circle this distance stands for, if it is one of the pack's.
    is_threshold : bool
        Whether ``distance_m`` is the rule's own threshold (the standard's requirement).
    children : float
        Children of the rule's age groups.
    children_covered : float
        Of those, within ``distance_m`` of a facility of the rule.
    share : float
        ``children_covered / children`` (NaN when there are no children).
    children_unreachable : float
        Children from whose home no facility of the rule can be reached at all (another
        network component, or no facility): a data problem or a real gap, shown apart.
    """

    area_id: Hashable | None
    rule_id: str
    distance_m: float
    minutes: int | None
    is_threshold: bool
    children: float
    children_covered: float
    share: float
    children_unreachable: float


@dataclass(frozen=True)
class GapCell:
    """One H3 cell of a gap map for one rule.

    Attributes
    ----------
    cell : str
        H3 cell id.
    resolution : int
    lon, lat : float
        The cell's centre.
    n_points : int
        Demand points in the cell.
    children : float
    children_not_covered : float
        Children farther than the threshold from any facility (unreachable ones included).
    children_unreachable : float
        Children who reach no facility at all.
    share_not_covered : float
        NaN when the cell has no children.
    mean_nearest_m, max_nearest_m : float
        Child-weighted mean and the maximum nearest-facility distance over the children who
        reach one; NaN when none does.
    """

    cell: str
    resolution: int
    lon: float
    lat: float
    n_points: int
    children: float
    children_not_covered: float
    children_unreachable: float
    share_not_covered: float
    mean_nearest_m: float
    max_nearest_m: float


def coverage_table(
    demand: DemandPoints,
    nearest_m: Mapping[str, ArrayLike],
    rule_pack: RulePack,
    *,
    distances_m: Sequence[float] | None = None,
) -> list[CoverageRow]:
    """Children and their share within each life circle of each rule, by area and city-wide.

    Parameters
    ----------
    demand : DemandPoints
    nearest_m : mapping
        Rule id → nearest-facility walking distance of each demand point (``inf`` when
        unreachable), e.g. ``AccessResult.nearest_m``. Rules are reported in pack order.
    rule_pack : RulePack
    distances_m : sequence of float, optional
        Distances to report; by default the pack's life circles plus each rule's threshold.

    Returns
    -------
    list of CoverageRow
        For each rule and distance: the city-wide row, then one row per area in
        ``demand.area_ids`` order.
    """
    minutes_of = {c.distance_m: c.minutes for c in rule_pack.life_circles}
    n_areas = len(demand.area_ids)
    # Column 0 collects points in no area; areas follow.
    slot = demand.area_index + 1
    rows: list[CoverageRow] = []
    for rule in rule_pack.rules:
        if rule.id not in nearest_m:
            continue
        dist = float_vector(nearest_m[rule.id], f"nearest_m[{rule.id!r}]")
        if dist.shape[0] != len(demand):
            raise ValueError(f"nearest_m[{rule.id!r}] must have one entry per demand point")
        kids = demand.children(rule.age_groups)
        unreachable = weighted_bincount(slot, kids * np.isinf(dist), n_areas + 1)
        total = weighted_bincount(slot, kids, n_areas + 1)
        wanted = distances_m if distances_m is not None else rule_pack.distances_m
        for d in sorted({float(x) for x in wanted} | {rule.threshold_m}):
            covered = weighted_bincount(slot, kids * (dist <= d), n_areas + 1)
            minutes = minutes_of.get(d)
            # The city row (slot None) sums every slot, including slot 0 (points in no area).
            slots = [(None, None)] + [(area, a + 1) for a, area in enumerate(demand.area_ids)]
            for area, k in slots:
                whole = total.sum() if k is None else total[k]
                part = covered.sum() if k is None else covered[k]
                lost = unreachable.sum() if k is None else unreachable[k]
                rows.append(
                    CoverageRow(
                        area_id=area,
                        rule_id=rule.id,
                        distance_m=d,
                        minutes=minutes,
                        is_threshold=d == rule.threshold_m,
                        children=float(whole),
                        children_covered=float(part),
                        share=_share(part, whole),
                        children_unreachable=float(lost),
                    )
                )
    return rows


def h3_cells(lon: ArrayLike, lat: ArrayLike, resolution: int) -> IntArray:
    """H3 cell (as a 64-bit integer) of each point at the given resolution."""
    x = float_vector(lon, "lon")
    y = float_vector(lat, "lat")
    if not 0 <= resolution <= 15:
        raise ValueError("resolution must be between 0 and 15")
    to_cell = h3.api.basic_int.latlng_to_cell
    return np.fromiter(
        (to_cell(b, a, resolution) for a, b in zip(x.tolist(), y.tolist(), strict=True)),
        dtype=np.uint64,
        count=x.shape[0],
    ).astype(np.int64)


def h3_gap_map(
    demand: DemandPoints,
    nearest_m: ArrayLike,
    *,
    threshold_m: float,
    resolution: int = 9,
    groups: Sequence[str] | None = None,
    cells: IntArray | None = None,
) -> list[GapCell]:
    """Children, children not covered and nearest distances per H3 cell.

    Parameters
    ----------
    demand : DemandPoints
    nearest_m : array_like of float
        Nearest-facility walking distance of each demand point.
    threshold_m : float
        A child farther than this is not covered.
    resolution : int, default 9
        H3 resolution (9: cells of about 0.1 km², 174 m edge).
    groups : sequence of str, optional
        Age groups counted (all by default).
    cells : ndarray of int64, optional
        Precomputed :func:`h3_cells` of the demand points at ``resolution`` (saves time when
        several maps share the points).

    Returns
    -------
    list of GapCell
        Cells holding at least one demand point, by cell id.
    """
    dist = float_vector(nearest_m, "nearest_m")
    if dist.shape[0] != len(demand):
        raise ValueError("nearest_m must have one entry per demand point")
    if cells is None:
        cells = h3_cells(demand.lon, demand.lat, resolution)
    elif cells.shape[0] != len(demand):
        raise ValueError("cells must have one entry per demand point")
    kids = demand.children(groups)
    uniq, inv = np.unique(cells, return_inverse=True)
    m = uniq.shape[0]
    reach = np.isfinite(dist)
    children = weighted_bincount(inv, kids, m)
    not_cov = weighted_bincount(inv, kids * ~(dist <= threshold_m), m)
    unreach = weighted_bincount(inv, kids * ~reach, m)
    counted = reach & (kids > 0)
    wsum = weighted_bincount(inv, np.where(counted, kids, 0.0), m)
    dsum = weighted_bincount(inv, kids * np.where(counted, dist, 0.0), m)
    dmax = np.full(m, -np.inf)
    np.maximum.at(dmax, inv[counted], dist[counted])
    n_points = np.bincount(inv, minlength=m)
    out: list[GapCell] = []
    for k in range(m):
        s, lat, lon = _cell_info(int(uniq[k]))
        out.append(
            GapCell(
                cell=s,
                resolution=resolution,
                lon=lon,
                lat=lat,
                n_points=int(n_points[k]),
                children=float(children[k]),
                children_not_covered=float(not_cov[k]),
                children_unreachable=float(unreach[k]),
                share_not_covered=_share(not_cov[k], children[k]),
                mean_nearest_m=float(dsum[k] / wsum[k]) if wsum[k] > 0 else math.nan,
                max_nearest_m=float(dmax[k]) if np.isfinite(dmax[k]) else math.nan,
            )
        )
    out.sort(key=lambda c: c.cell)
    return out


def gap_geojson(cells: Sequence[GapCell]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the cells' hexagons (NaN properties become null)."""
    features = []
    for c in cells:
        ring = [[float(lng), float(lat)] for lat, lng in h3.cell_to_boundary(c.cell)]
        ring.append(ring[0])
        props = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(c).items()
        }
        features.append(
            {
                "type": "Feature",
                "id": c.cell,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def worst_served(
    cells: Sequence[GapCell], n: int = 10, *, by: str = "children_not_covered"
) -> list[GapCell]:
    """The ``n`` cells with the most children not covered (or the largest ``by`` field).

    Ties go to the larger mean nearest distance, then the cell id. Cells whose ``by`` value is
    0 or NaN are left out.
    """
    if by not in GapCell.__dataclass_fields__ or by in ("cell", "resolution"):
        raise ValueError(f"cannot rank by {by!r}")

    def value(c: GapCell) -> float:
        v = float(getattr(c, by))
        return v if math.isfinite(v) else -math.inf

    def mean(c: GapCell) -> float:
        return c.mean_nearest_m if math.isfinite(c.mean_nearest_m) else -math.inf

    ranked = [c for c in cells if value(c) > 0]
    ranked.sort(key=lambda c: (-value(c), -mean(c), c.cell))
    return ranked[: max(n, 0)]


@functools.lru_cache(maxsize=1 << 18)
def _cell_info(cell: int) -> tuple[str, float, float]:
    """String id and centre (lat, lon) of an H3 cell; cached because every rule's map of the
    same homes asks for the same cells."""
    s = h3.int_to_str(cell)
    lat, lon = h3.cell_to_latlng(s)
    return s, float(lat), float(lon)


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else math.nan
