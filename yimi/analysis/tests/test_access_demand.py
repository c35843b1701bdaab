"""Tests for demand: allocation of children to buildings, points and H3 cells."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h3
import numpy as np
import pytest
import shapely

from yimi.analysis.access.ages import AGE_GROUPS
from yimi.analysis.access.demand import (
    DEFAULT_LEVELS,
    LANDUSE_FLOOR_AREA_RATIO,
    allocate_children,
    demand_from_h3,
    demand_from_points,
)
from yimi.analysis.osm import read_osm


@dataclass
class B:
    """A building as the OSM reader gives it."""

    osm_id: int
    area_m2: float
    lon: float
    lat: float
    building: str | None = "residential"
    levels: int | None = None
    is_landuse: bool = False
    osm_type: str = "way"


def test_shares_follow_floor_area_with_default_levels() -> None:
    blds = [
        B(1, 100.0, 116.30, 40.0, levels=10),  # 1000 m²
        B(2, 100.0, 116.31, 40.0),  # residential: 6 storeys → 600 m²
        B(3, 200.0, 116.32, 40.0, building="house"),  # 2 storeys → 400 m²
    ]
    alloc = allocate_children(
        blds, {"a": {"6-12": 20.0}}, building_area=["a", "a", "a"], rounding="none"
    )
    np.testing.assert_allclose(alloc.floor_area_m2, [1000.0, 600.0, 400.0])
    np.testing.assert_allclose(alloc.demand.weights[:, AGE_GROUPS.index("6-12")], [10, 6, 4])
    assert alloc.demand.weights[:, AGE_GROUPS.index("0-3")].sum() == 0
    assert DEFAULT_LEVELS["house"] == 2 and DEFAULT_LEVELS["residential"] == 6
    # Overridden defaults.
    alloc = allocate_children(
        blds, {"a": {"6-12": 20.0}}, building_area=["a"] * 3, default_levels={"residential": 4}
    )
    np.testing.assert_allclose(alloc.floor_area_m2, [1000.0, 400.0, 400.0])
    assert alloc.demand.labels == ("way/1", "way/2", "way/3")
    assert alloc.demand.kind == "buildings" and not alloc.demand.generated


@pytest.mark.parametrize("seed", range(5))
def test_whole_children_sum_exactly_to_each_total(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    blds = [
        B(i, float(rng.uniform(50, 2000)), 116.3 + rng.uniform(0, 0.05), 40.0, levels=None)
        for i in range(n)
    ]
    areas = [f"A{k}" for k in rng.integers(0, 7, n)]
    totals = {f"A{k}": {g: int(rng.integers(0, 5000)) for g in AGE_GROUPS} for k in range(7)}
    alloc = allocate_children(blds, totals, building_area=areas)
    d = alloc.demand
    assert np.array_equal(d.weights, np.round(d.weights))  # whole children
    for a, area in enumerate(d.area_ids):
        got = d.weights[d.area_index == a].sum(axis=0)
        assert got.tolist() == [float(totals[str(area)][g]) for g in AGE_GROUPS]
    # Each building's count is within one child of its exact proportional share.
    floor = alloc.floor_area_m2
    for a, area in enumerate(d.area_ids):
        rows = d.area_index == a
        for g, group in enumerate(AGE_GROUPS):
            exact = totals[str(area)][group] * floor[rows] / floor[rows].sum()
            assert np.abs(d.weights[rows, g] - exact).max() < 1.0


def test_fractional_totals_and_rounding_modes() -> None:
    blds = [B(1, 100.0, 116.3, 40.0), B(2, 300.0, 116.31, 40.0)]
    alloc = allocate_children(blds, {"a": {"3-6": 10.5}}, building_area=["a", "a"])
    np.testing.assert_allclose(alloc.demand.weights[:, 1], [2.625, 7.875])
    with pytest.raises(ValueError, match="whole-number"):
        allocate_children(
            blds, {"a": {"3-6": 10.5}}, building_area=["a", "a"], rounding="largest_remainder"
        )
    # Ties go to the earlier building.
    equal = [B(1, 100.0, 116.3, 40.0), B(2, 100.0, 116.31, 40.0)]
    alloc = allocate_children(equal, {"a": {"0-3": 3}}, building_area=["a", "a"])
    assert alloc.demand.weights[:, 0].tolist() == [2.0, 1.0]


def test_landuse_without_buildings_gets_a_density_share() -> None:
    # A landuse area far from the buildings (nothing inside) and one around a building.
    blds = [
        B(1, 1000.0, 116.300, 40.0, levels=6),  # 6000 m²
        B(2, 4000.0, 116.400, 40.0, building=None, is_landuse=True),  # empty: 4000 × 1.5
        B(3, 90_000.0, 116.3001, 40.0, building=None, is_landuse=True),  # holds building 1
    ]
    alloc = allocate_children(blds, {"a": {"6-12": 12}}, building_area=["a"] * 3)
    assert alloc.landuse_used == 1 and alloc.landuse_skipped == 1
    assert alloc.building_index.tolist() == [0, 1]
    np.testing.assert_allclose(alloc.floor_area_m2, [6000.0, 4000.0 * LANDUSE_FLOOR_AREA_RATIO])
    assert alloc.demand.weights[:, 2].tolist() == [6.0, 6.0]
    # With exact geometries the test is the polygon, not the equal-area disc.
    far_poly = shapely.box(116.2, 39.9, 116.21, 39.91)
    alloc = allocate_children(
        blds,
        {"a": {"6-12": 12}},
        building_area=["a"] * 3,
        landuse_geometries={"way/3": far_poly},
    )
    assert alloc.landuse_used == 2 and alloc.landuse_skipped == 0


def test_polygons_assign_areas_first_polygon_wins_and_fallbacks() -> None:
    blds = [B(1, 100.0, 116.305, 40.005), B(2, 100.0, 116.315, 40.005), B(3, 50.0, 117.0, 41.0)]
    west = shapely.box(116.30, 40.0, 116.31, 40.01)
    both = shapely.box(116.30, 40.0, 116.32, 40.01)  # overlaps west
    empty_area = shapely.box(116.5, 40.5, 116.6, 40.6)
    totals = {
        "west": {"0-3": 4},
        "both": {"0-3": 6},
        "empty": {"0-3": 5},
        "nowhere": {"0-3": 7},
    }
    alloc = allocate_children(
        blds, totals, area_polygons={"west": west, "both": both, "empty": empty_area}
    )
    d = alloc.demand
    # Building 1 lies in both polygons: the first listed wins.
    assert [d.area_ids[i] for i in d.area_index] == ["west", "both", "empty"]
    assert d.weights[:, 0].tolist() == [4.0, 6.0, 5.0]
    assert alloc.fallback_areas == ("empty",)
    p = empty_area.representative_point()
    assert (d.lon[2], d.lat[2]) == (p.x, p.y)
    assert alloc.unallocated == {"nowhere": {"0-3": 7.0, "3-6": 0.0, "6-12": 0.0, "12-15": 0.0}}
    assert alloc.buildings_outside == 1
    with pytest.raises(ValueError, match="exactly one"):
        allocate_children(blds, totals)


def test_invalid_totals() -> None:
    blds = [B(1, 100.0, 116.3, 40.0)]
    with pytest.raises(ValueError, match="unknown age group"):
        allocate_children(blds, {"a": {"0-2": 1}}, building_area=["a"])
    with pytest.raises(ValueError, match="non-negative"):
        allocate_children(blds, {"a": {"0-3": -1}}, building_area=["a"])


def test_real_sample_buildings_allocation_sums(sample_osm_path: Path) -> None:
    buildings = read_osm(sample_osm_path).buildings
    totals = {"wdk": {"0-3": 310, "3-6": 402, "6-12": 733, "12-15": 377}}
    alloc = allocate_children(buildings, totals, building_area=["wdk"] * len(buildings))
    assert alloc.demand.weights.sum(axis=0).tolist() == [310.0, 402.0, 733.0, 377.0]
    assert len(alloc.demand) + alloc.landuse_skipped == len(buildings)
    assert alloc.landuse_skipped > 0  # residential areas with buildings inside


def test_demand_from_points_and_h3() -> None:
    d = demand_from_points(
        [116.3, 116.31],
        [40.0, 40.01],
        {"0-3": [1, 2], "12-15": [3, 0]},
        area=["x", None],
        labels=["p1", "p2"],
    )
    assert d.weights.tolist() == [[1, 0, 0, 3], [2, 0, 0, 0]]
    assert d.area_index.tolist() == [0, -1] and d.area_ids == ("x",)
    assert d.total() == 6 and d.total(["0-3"]) == 3
    assert d.children(["0-3", "12-15"]).tolist() == [4.0, 2.0]
    with pytest.raises(ValueError, match="unknown age group"):
        d.children(["teen"])
    with pytest.raises(ValueError, match="non-negative"):
        demand_from_points([116.3], [40.0], np.array([[1, -1, 0, 0]]))
    g = demand_from_points([116.3], [40.0], np.ones((1, 4)), generated=True)
    assert g.generated and g.kind == "generated"

    cells = [h3.latlng_to_cell(40.0, 116.3, 9), h3.str_to_int(h3.latlng_to_cell(40.01, 116.3, 9))]
    hd = demand_from_h3(cells, np.ones((2, 4)))
    assert hd.kind == "h3" and hd.labels is not None and hd.labels[0] == cells[0]
    lat, lon = h3.cell_to_latlng(cells[0])
    assert (hd.lon[0], hd.lat[0]) == (lon, lat)
    with pytest.raises(ValueError, match="not a valid H3 cell"):
        demand_from_h3(["nonsense"], np.ones((1, 4)))
