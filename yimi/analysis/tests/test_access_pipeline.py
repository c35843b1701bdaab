"""Tests for the one-call analysis: every part equals a direct dense computation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yimi.analysis.access.demand import DemandPoints, allocate_children, demand_from_points
from yimi.analysis.access.facilities import Facilities
from yimi.analysis.access.fca import Decay, two_step_fca
from yimi.analysis.access.network import Reach
from yimi.analysis.access.pipeline import analyse_access
from yimi.analysis.access.rulepack import load_rule_pack
from yimi.analysis.graph import WalkGraph
from yimi.analysis.osm import read_osm
from yimi.analysis.tests.test_access_support import perturbed_grid, random_points

CATEGORIES = ["kindergarten", "school", "school", "park", "pocket_park", "playground", "library"]
NAMES = {"school": ["第一小学", "第二中学", "九年一贯制学校", "艺术学校"]}


def scene(seed: int) -> tuple[WalkGraph, Facilities, DemandPoints]:
    lon, lat, u, v, rng = perturbed_grid(seed, nx_=18, ny=14)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    n_fac = 24
    flon, flat = random_points(rng, lon, lat, n_fac)
    cats = [CATEGORIES[i % len(CATEGORIES)] for i in range(n_fac)]
    names = [NAMES["school"][i % 4] if c == "school" else f"{c}{i}" for i, c in enumerate(cats)]
    area = np.where(np.isin(cats, ["park", "pocket_park", "playground"]), 0.0, np.nan)
    area[area == 0.0] = rng.uniform(300, 80_000, int((area == 0.0).sum()))
    seats = np.where(np.isin(cats, ["kindergarten", "school"]), rng.uniform(50, 500, n_fac), np.nan)
    seats[0] = np.nan  # one kindergarten without a known capacity
    fac = Facilities.from_arrays(
        flon, flat, cats, name=names, area_m2=area, supply={"seats": seats}
    )
    hlon, hlat = random_points(rng, lon, lat, 120)
    counts = rng.integers(0, 5, (120, 4)).astype(float)
    areas = [f"S{k}" for k in rng.integers(0, 3, 120)]
    demand = demand_from_points(hlon, hlat, counts, area=areas)
    return graph, fac, demand


@pytest.mark.parametrize("decay", ["flat", "gaussian"])
@pytest.mark.parametrize("seed", [0, 1])
def test_pipeline_equals_dense_reference(seed: int, decay: Decay) -> None:
    graph, fac, demand = scene(seed)
    pack = load_rule_pack()
    res = analyse_access(graph, fac, demand, pack, decay=decay, h3_resolution=8)
    dense = graph.distance_matrix_snapped(
        graph.snap(fac.lon, fac.lat), graph.snap(demand.lon, demand.lat)
    )
    assert list(res.rules) == [r.id for r in pack.rules]
    assert not res.generated
    for rule in pack.rules:
        rr = res.rules[rule.id]
        assert rr.facilities.tolist() == fac.select(rule).tolist()
        d = dense[rr.facilities]
        expected = d.min(axis=0) if d.size else np.full(len(demand), np.inf)
        np.testing.assert_allclose(rr.nearest_m, expected, rtol=0, atol=1e-6)
        ok = rr.nearest_facility >= 0
        assert np.array_equal(ok, np.isfinite(expected))
        np.testing.assert_allclose(
            dense[rr.nearest_facility[ok], np.flatnonzero(ok)], rr.nearest_m[ok], atol=1e-6
        )
        assert sorted(rr.counts) == sorted({300.0, 500.0, 1000.0, rule.threshold_m})
        for dist, counts in rr.counts.items():
            np.testing.assert_array_equal(counts, (d <= dist).sum(axis=0))
        kids = demand.children(rule.age_groups)
        assert rr.children_unreachable == pytest.approx(kids[~np.isfinite(expected)].sum())
        supply = fac.supply_of(rule.supply)[rr.facilities]
        known = np.isfinite(supply)
        assert rr.fca_facilities.tolist() == rr.facilities[known].tolist()
        if rr.fca is None:
            assert not known.any()
            continue
        # The same 2SFCA from the dense matrix, through a reach built from it.
        sub = d[known]
        pairs = np.argwhere(sub <= rule.threshold_m)
        reach = Reach(
            pairs[:, 0],
            pairs[:, 1],
            sub[sub <= rule.threshold_m],
            sub.shape[0],
            len(demand),
            rule.threshold_m,
        )
        ref = two_step_fca(reach, supply[known], kids, catchment_m=rule.threshold_m, decay=decay)
        np.testing.assert_allclose(rr.fca.ratio, ref.ratio, rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(rr.fca.access, ref.access, rtol=1e-9, atol=1e-15)
    # Coverage rows agree with the nearest distances; gap maps hold every child.
    kg = res.rules["kindergarten"]
    city = [r for r in res.coverage if r.rule_id == "kindergarten" and r.area_id is None]
    kids = demand.children(["3-6"])
    for row in city:
        assert row.children_covered == pytest.approx(kids[kg.nearest_m <= row.distance_m].sum())
    for rule in pack.rules:
        cells = res.gaps[rule.id]
        assert sum(c.children for c in cells) == pytest.approx(demand.total(rule.age_groups))


def test_pipeline_options() -> None:
    graph, fac, demand = scene(2)
    far = demand_from_points(
        np.append(demand.lon, demand.lon[0] + 1.0),
        np.append(demand.lat, demand.lat[0]),
        np.vstack([demand.weights, np.ones((1, 4))]),
        generated=True,
    )
    res = analyse_access(
        graph, fac, far, rule_ids=["kindergarten", "middle_school"], max_offset_m=500.0
    )
    assert list(res.rules) == ["kindergarten", "middle_school"]
    assert {r.rule_id for r in res.coverage} == {"kindergarten", "middle_school"}
    assert res.demand_unsnapped == 1 and res.generated
    assert np.isinf(res.rules["kindergarten"].nearest_m[-1])
    steps: list[str] = []
    analyse_access(
        graph, fac, demand, rule_ids=["library"], progress=lambda s, i, n: steps.append(s)
    )
    assert steps[0] == "snap" and steps[-1] == "results"
    with pytest.raises(KeyError, match="no rule"):
        analyse_access(graph, fac, demand, rule_ids=["zoo"])


def test_real_sample_pipeline(sample_osm_path: Path) -> None:
    extract = read_osm(sample_osm_path)
    net = extract.network
    graph = WalkGraph.from_arrays(net.lon, net.lat, net.edge_u, net.edge_v, net.edge_length_m)
    fac = Facilities.from_places(extract.places)
    totals = {"wdk": {"0-3": 310, "3-6": 402, "6-12": 733, "12-15": 377}}
    demand = allocate_children(
        extract.buildings, totals, building_area=["wdk"] * len(extract.buildings)
    ).demand
    res = analyse_access(graph, fac, demand)
    ms = res.rules["middle_school"]
    names = {fac.name[i] for i in ms.facilities}
    assert "中关村中学" in names and "清华附小" not in names
    city = {r.rule_id: r for r in res.coverage if r.area_id is None and r.is_threshold}
    assert city["kindergarten"].children == 402.0
    assert 0.0 < city["middle_school"].share <= 1.0
    # No 儿童之家 is mapped in the sample: every child is reported, none covered.
    assert city["children_home"].children_covered == 0.0
    assert city["children_home"].children_unreachable == city["children_home"].children


def test_the_access_core_imports_no_django() -> None:
    code = (
        "import sys, yimi.analysis.access, yimi.analysis.access.benchmark; "
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
