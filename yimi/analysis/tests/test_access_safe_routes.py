"""Tests for safe routes to school: the safety cost, shortest vs safest, crossing hotspots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yimi.analysis.access.safe_routes import (
    EdgeAttributes,
    SafetyNetwork,
    load_safety_rules,
    safe_route,
    school_routes,
)
from yimi.analysis.graph import Unreachable
from yimi.analysis.osm import read_osm
from yimi.analysis.tests.test_access_support import to_lonlat

PRIMARY_CROSSING = 300.0  # the shipped pack's penalty for crossing a primary road


def crossing_scene(
    *, bridge: bool = True, signals: bool = False, marked: bool = False
) -> tuple[SafetyNetwork, dict[str, tuple[int, float, float]]]:
    """A primary road (north-south, x = 0); home west of it, school east of it.

    A footway crosses the road at node R3 (0, 0); a footbridge (no node shared with the road)
    goes round 60 m to the north: 120 m longer.
    """
    names: dict[str, tuple[int, float, float]] = {}

    def node(name: str, x: float, y: float) -> None:
        names[name] = (len(names), x, y)

    for k, y in enumerate(range(-300, 301, 100)):
        node(f"R{k}", 0.0, float(y))
    for name, x, y in [("W2", -100, 0), ("W", -50, 0), ("E", 50, 0), ("E2", 100, 0)]:
        node(name, float(x), float(y))
    node("BW", -50.0, 60.0)
    node("BE", 50.0, 60.0)
    edges = [(f"R{k}", f"R{k + 1}", "primary") for k in range(6)]
    edges += [("W2", "W", "footway"), ("W", "R3", "footway"), ("R3", "E", "footway")]
    edges += [("E", "E2", "footway")]
    if bridge:
        edges += [("W", "BW", "footway"), ("BW", "BE", "footway"), ("BE", "E", "footway")]
    order = sorted(names, key=lambda k: names[k][0])
    lon, lat = to_lonlat([names[k][1] for k in order], [names[k][2] for k in order])
    n = len(names)
    sig = np.zeros(n, bool)
    cross = np.zeros(n, bool)
    sig[names["R3"][0]] = signals
    cross[names["R3"][0]] = marked
    attrs = EdgeAttributes.build(
        n,
        [h for _, _, h in edges],
        node_signals=sig,
        node_crossing=cross,
        name=[("中关村大街" if h == "primary" else None) for _, _, h in edges],
    )
    u = [names[a][0] for a, _, _ in edges]
    v = [names[b][0] for _, b, _ in edges]
    return SafetyNetwork.from_arrays(lon, lat, u, v, None, attributes=attrs), names


HOME = to_lonlat([-80.0], [0.0])
SCHOOL = to_lonlat([80.0], [0.0])


def test_safest_route_avoids_the_primary_crossing_via_the_footbridge() -> None:
    net, names = crossing_scene()
    r = safe_route(net, HOME[0][0], HOME[1][0], SCHOOL[0][0], SCHOOL[1][0])
    r3 = names["R3"][0]
    assert r.shortest.length_m == pytest.approx(160.0, abs=0.01)
    assert r.shortest.cost == pytest.approx(160.0 + PRIMARY_CROSSING, abs=0.01)
    assert r.shortest.crossings.tolist() == [r3]
    assert r3 in r.shortest.node_indices.tolist()
    assert r.safest.length_m == pytest.approx(280.0, abs=0.01)
    assert r.safest.cost == pytest.approx(280.0, abs=0.01)
    assert r.safest.crossings.size == 0
    assert r3 not in r.safest.node_indices.tolist()
    assert [names["W"][0], names["BW"][0], names["BE"][0], names["E"][0]] == (
        r.safest.node_indices.tolist()
    )
    assert r.detour_ratio == pytest.approx(280.0 / 160.0, rel=1e-6)
    # The line starts at the home and ends at the school.
    assert r.safest.coords[0] == pytest.approx((HOME[0][0], HOME[1][0]))
    assert r.safest.coords[-1] == pytest.approx((SCHOOL[0][0], SCHOOL[1][0]))


def test_signals_make_the_direct_crossing_acceptable() -> None:
    rules = load_safety_rules()
    net, names = crossing_scene(signals=True)
    r = safe_route(net, HOME[0][0], HOME[1][0], SCHOOL[0][0], SCHOOL[1][0])
    # 160 m + 300 × 0.3 = 250 < 280 m round the bridge.
    assert r.safest.length_m == pytest.approx(160.0, abs=0.01)
    assert r.safest.cost == pytest.approx(160.0 + PRIMARY_CROSSING * rules.signals_factor, abs=0.01)
    assert r.safest.crossings.tolist() == [names["R3"][0]]
    marked, _ = crossing_scene(marked=True)
    r = safe_route(marked, HOME[0][0], HOME[1][0], SCHOOL[0][0], SCHOOL[1][0])
    assert r.shortest.cost == pytest.approx(160.0 + PRIMARY_CROSSING * rules.marked_factor)


def test_edge_costs_follow_the_rules() -> None:
    rules = load_safety_rules()
    net, names = crossing_scene()
    primary = rules.road_class("primary")
    # Primary road edges (sidewalk unknown): 100 m × multiplier; side footways meet them at R3
    # but footways carry no traffic, so walking along the road pays nothing extra there.
    np.testing.assert_allclose(net.input_cost[:6], 100.0 * primary.along_unknown)
    # Footway W-R3 and R3-E each pay half the primary crossing.
    np.testing.assert_allclose(net.input_cost[7:9], 50.0 + PRIMARY_CROSSING / 2)
    np.testing.assert_allclose(net.input_cost[[6, 9]], 50.0)


def test_school_routes_and_crossing_hotspots() -> None:
    net, names = crossing_scene(bridge=False)
    hlon, hlat = to_lonlat([-80.0, -90.0, -70.0, 0.0, 30.0], [0.0, 1.0, -1.0, 250.0, -2.0])
    res = school_routes(net, hlon, hlat, SCHOOL[0], SCHOOL[1], children=[1, 2, 3, 4, 5])
    assert res.school.tolist() == [0] * 5
    np.testing.assert_allclose(res.shortest_m, [160.0, 171.0, 151.0, 330.0, 52.0], atol=0.05)
    np.testing.assert_allclose(res.safest_m, res.shortest_m)  # no alternative
    assert res.shortest_crossings.tolist() == [1, 1, 1, 1, 0]
    assert len(res.hotspots) == 1
    h = res.hotspots[0]
    assert h.node == names["R3"][0]
    assert (h.children, h.homes) == (10.0, 4)  # all but the home east of the road
    assert (h.highway, h.name, h.penalty_m) == ("primary", "中关村大街", PRIMARY_CROSSING)

    net, _ = crossing_scene(bridge=True)
    res = school_routes(net, hlon, hlat, SCHOOL[0], SCHOOL[1], children=[1, 2, 3, 4, 5])
    assert res.safest_crossings.tolist() == [0, 0, 0, 1, 0]
    assert np.all(res.safest_cost <= res.shortest_cost + 1e-9)
    assert np.all(res.safest_m >= res.shortest_m - 1e-9)
    # Only the home on the road itself still joins the crossing.
    assert [(h.children, h.homes) for h in res.hotspots] == [(4.0, 1)]
    # Each home's single route agrees with the batch.
    for i in range(5):
        one = safe_route(net, hlon[i], hlat[i], SCHOOL[0][0], SCHOOL[1][0])
        assert one.safest.length_m == pytest.approx(res.safest_m[i], abs=1e-6)
        assert one.safest.cost == pytest.approx(res.safest_cost[i], abs=1e-6)
        assert one.shortest.length_m == pytest.approx(res.shortest_m[i], abs=1e-6)
        assert one.safest.crossings.size == res.safest_crossings[i]


def test_unreachable_school() -> None:
    # Two separate pieces of footway 5 km apart.
    lon, lat = to_lonlat([0.0, 10.0, 5000.0, 5010.0], [0.0, 0.0, 0.0, 0.0])
    attrs = EdgeAttributes.build(4, ["footway", "footway"])
    net = SafetyNetwork.from_arrays(lon, lat, [0, 2], [1, 3], None, attributes=attrs)
    home, school = to_lonlat([2.0], [1.0]), to_lonlat([5005.0], [1.0])
    with pytest.raises(Unreachable):
        safe_route(net, home[0][0], home[1][0], school[0][0], school[1][0])
    res = school_routes(net, home[0], home[1], school[0], school[1], school_of=[0])
    assert res.school.tolist() == [-1]
    assert np.isnan(res.safest_m).all() and np.isnan(res.shortest_m).all()
    assert res.hotspots == []
    # Nearest-school assignment finds none either.
    assert school_routes(net, home[0], home[1], school[0], school[1]).school.tolist() == [-1]


def test_real_sample_safe_routes(sample_osm_path: Path) -> None:
    extract = read_osm(sample_osm_path)
    net = SafetyNetwork.from_walk_network(extract.network)
    schools = [p for p in extract.places if p.category == "school" and p.name]
    homes = [b for b in extract.buildings if not b.is_landuse]
    res = school_routes(
        net,
        [b.lon for b in homes],
        [b.lat for b in homes],
        [p.lon for p in schools],
        [p.lat for p in schools],
    )
    ok = res.school >= 0
    assert ok.mean() > 0.9
    assert np.all(res.safest_cost[ok] <= res.shortest_cost[ok] + 1e-6)
    assert np.all(res.safest_m[ok] >= res.shortest_m[ok] - 1e-6)
    assert np.nansum(res.safest_crossings) <= np.nansum(res.shortest_crossings)
    assert res.hotspots and all(h.penalty_m >= net.rules.count_from_m for h in res.hotspots)
    assert [h.children for h in res.hotspots] == sorted(
        (h.children for h in res.hotspots), reverse=True
    )
