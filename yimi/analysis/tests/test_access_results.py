"""Tests for coverage tables, H3 gap maps, their GeoJSON and the worst-served ranking."""

from __future__ import annotations

import json
import math

import h3
import numpy as np
import pytest

from yimi.analysis.access.demand import DemandPoints, demand_from_points
from yimi.analysis.access.results import (
    GapCell,
    coverage_table,
    gap_geojson,
    h3_cells,
    h3_gap_map,
    worst_served,
)
from yimi.analysis.access.rulepack import load_rule_pack


def sample_demand(seed: int, n: int = 400) -> tuple[DemandPoints, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(116.30, 116.34, n)
    lat = rng.uniform(39.98, 40.01, n)
    counts = rng.integers(0, 6, (n, 4)).astype(float)
    area = [None if k == 3 else f"S{k}" for k in rng.integers(0, 4, n)]
    d = demand_from_points(lon, lat, counts, area=area)
    dist = rng.uniform(0, 1500, n)
    dist[rng.random(n) < 0.05] = np.inf
    return d, dist


def test_coverage_table_matches_direct_sums() -> None:
    demand, dist = sample_demand(0)
    pack = load_rule_pack()
    rows = coverage_table(demand, {"kindergarten": dist, "middle_school": dist}, pack)
    assert {r.rule_id for r in rows} == {"kindergarten", "middle_school"}
    kids = demand.children(["3-6"])
    for r in rows:
        if r.rule_id != "kindergarten":
            continue
        mask = (
            np.ones(len(demand), bool)
            if r.area_id is None
            else (demand.area_index == demand.area_ids.index(r.area_id))
        )
        assert r.children == pytest.approx(kids[mask].sum())
        assert r.children_covered == pytest.approx(kids[mask & (dist <= r.distance_m)].sum())
        assert r.children_unreachable == pytest.approx(kids[mask & np.isinf(dist)].sum())
        assert r.share == pytest.approx(r.children_covered / r.children)
    distances = sorted({r.distance_m for r in rows if r.rule_id == "kindergarten"})
    assert distances == [300.0, 500.0, 1000.0]
    city = [r for r in rows if r.area_id is None and r.rule_id == "kindergarten"]
    assert [r.minutes for r in city] == [5, 10, 15]
    assert [r.is_threshold for r in city] == [True, False, False]
    # Areas add up to the city (points in no area are only in the city row).
    by_area = sum(
        r.children
        for r in rows
        if r.area_id is not None and r.rule_id == "kindergarten" and r.distance_m == 300.0
    )
    no_area = kids[demand.area_index < 0].sum()
    assert by_area + no_area == pytest.approx(city[0].children)
    with pytest.raises(ValueError, match="one entry per demand point"):
        coverage_table(demand, {"kindergarten": dist[:-1]}, pack)


@pytest.mark.parametrize("resolution", [7, 9])
def test_h3_gap_map_sums_and_cells(resolution: int) -> None:
    demand, dist = sample_demand(1)
    threshold = 500.0
    cells = h3_gap_map(demand, dist, threshold_m=threshold, resolution=resolution)
    kids = demand.children()
    assert sum(c.n_points for c in cells) == len(demand)
    assert sum(c.children for c in cells) == pytest.approx(kids.sum())
    assert sum(c.children_not_covered for c in cells) == pytest.approx(
        kids[~(dist <= threshold)].sum()
    )
    assert sum(c.children_unreachable for c in cells) == pytest.approx(kids[np.isinf(dist)].sum())
    assert [c.cell for c in cells] == sorted(c.cell for c in cells)
    point_cells = [
        h3.latlng_to_cell(b, a, resolution) for a, b in zip(demand.lon, demand.lat, strict=True)
    ]
    assert (h3_cells(demand.lon, demand.lat, resolution).tolist()) == [
        h3.str_to_int(c) for c in point_cells
    ]
    for c in cells[:: max(1, len(cells) // 10)]:
        inside = np.array([pc == c.cell for pc in point_cells])
        ok = inside & np.isfinite(dist) & (kids > 0)
        if ok.any():
            assert c.mean_nearest_m == pytest.approx(np.average(dist[ok], weights=kids[ok]))
            assert c.max_nearest_m == dist[ok].max()
        else:
            assert math.isnan(c.mean_nearest_m) and math.isnan(c.max_nearest_m)
        assert h3.get_resolution(c.cell) == resolution


def test_gap_geojson_is_valid_json_with_closed_hexagons() -> None:
    demand, dist = sample_demand(2, n=60)
    dist[:] = np.inf  # every mean/max is NaN: must become null
    cells = h3_gap_map(demand, dist, threshold_m=300.0, resolution=8)
    doc = gap_geojson(cells)
    text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
    back = json.loads(text)
    assert len(back["features"]) == len(cells)
    f = back["features"][0]
    ring = f["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    assert f["properties"]["mean_nearest_m"] is None
    lon, lat = f["properties"]["lon"], f["properties"]["lat"]
    assert 116.2 < lon < 116.4 and 39.9 < lat < 40.1
    assert all(116.2 < x < 116.4 and 39.9 < y < 40.1 for x, y in ring)


def test_worst_served_ranking() -> None:
    def cell(name: str, not_cov: float, mean: float) -> GapCell:
        return GapCell(name, 9, 0.0, 0.0, 1, 10.0, not_cov, 0.0, not_cov / 10, mean, mean)

    cells = [
        cell("a", 5.0, 100.0),
        cell("b", 9.0, 50.0),
        cell("c", 5.0, 300.0),
        cell("d", 0.0, 900.0),
        cell("e", 5.0, math.nan),
    ]
    assert [c.cell for c in worst_served(cells, 10)] == ["b", "c", "a", "e"]
    assert [c.cell for c in worst_served(cells, 2)] == ["b", "c"]
    assert [c.cell for c in worst_served(cells, 1, by="mean_nearest_m")] == ["d"]
    with pytest.raises(ValueError, match="cannot rank"):
        worst_served(cells, by="cell")
