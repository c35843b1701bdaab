"""Tests for the generated networks, populations and facilities used by benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yimi.analysis.access.network import NetworkArrays
from yimi.analysis.access.pipeline import analyse_access
from yimi.analysis.access.rulepack import load_rule_pack
from yimi.analysis.access.synthetic import (
    generate_facilities,
    generate_grid_network,
    generate_population,
    stitch_tiles,
)
from yimi.analysis.osm import read_osm
from yimi.analysis.tests.test_access_support import geodesic


def test_grid_network_is_seeded_exact_and_sound() -> None:
    a = generate_grid_network(5000, seed=7)
    b = generate_grid_network(5000, seed=7)
    c = generate_grid_network(5000, seed=8)
    assert a.generated and "GENERATED" in a.description
    assert a.n_nodes == 5000
    for field in ("lon", "lat", "edge_u", "edge_v", "edge_length_m"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.lon, c.lon)
    straight = geodesic(a.lon[a.edge_u], a.lat[a.edge_u], a.lon[a.edge_v], a.lat[a.edge_v])
    np.testing.assert_allclose(a.edge_length_m, straight)
    # Mostly a grid: about 2 edges per node; spacing near 60 m.
    assert 1.7 < a.n_edges / a.n_nodes < 2.1
    assert 40 < np.median(a.edge_length_m) < 80
    assert {"primary", "secondary", "residential", "footway"} == set(a.edge_highway.tolist())
    graph = a.to_graph()
    assert graph.component_sizes[0] > 0.95 * graph.n_nodes
    assert generate_grid_network(1, seed=0).n_edges == 0
    with pytest.raises(ValueError, match="n_nodes"):
        generate_grid_network(0, seed=0)


def test_stitched_tiles_of_the_real_sample(sample_osm_path: Path) -> None:
    net = read_osm(sample_osm_path).network
    tile = NetworkArrays(
        net.lon,
        net.lat,
        net.edge_u,
        net.edge_v,
        net.edge_length_m,
        net.edge_highway,
        generated=False,
        description="sample",
    )
    big = stitch_tiles(tile, 3, 2, connectors_per_side=4)
    assert big.generated and "3×2" in big.description
    assert big.n_nodes == 6 * tile.n_nodes
    assert big.n_edges == 6 * tile.n_edges + (2 * 2 + 3 * 1) * 4
    # Lengths never below the straight line, and the copies keep the tile's lengths.
    straight = geodesic(
        big.lon[big.edge_u], big.lat[big.edge_u], big.lon[big.edge_v], big.lat[big.edge_v]
    )
    assert np.all(big.edge_length_m >= straight)
    np.testing.assert_allclose(big.edge_length_m[: tile.n_edges], tile.edge_length_m, rtol=1e-5)
    # The tiles' main pieces are joined into one.
    g_tile, g_big = tile.to_graph(), big.to_graph()
    assert g_big.component_sizes[0] == 6 * g_tile.component_sizes[0]
    # Tile (1, 0) is the first tile shifted east by about its width.
    n = tile.n_nodes
    assert np.all(big.lon[n : 2 * n] > big.lon[:n])
    np.testing.assert_allclose(big.lat[n : 2 * n], big.lat[:n], atol=1e-4)


def test_population_and_facilities_are_labelled_generated() -> None:
    graph = generate_grid_network(3000, seed=1).to_graph()
    pop = generate_population(graph, 500, seed=2)
    assert pop.generated and pop.kind == "generated" and len(pop) == 500
    assert pop.weights.sum() > 0 and np.array_equal(pop.weights, np.round(pop.weights))
    assert set(pop.area_index.tolist()) <= set(range(len(pop.area_ids)))
    again = generate_population(graph, 500, seed=2)
    assert np.array_equal(pop.lon, again.lon) and np.array_equal(pop.weights, again.weights)
    fac = generate_facilities(graph, seed=3)
    assert fac.generated and len(fac) > 0
    pack = load_rule_pack()
    for rule_id in ("primary_school", "middle_school", "kindergarten", "community_park"):
        assert fac.select(pack.rule(rule_id)).size > 0
    res = analyse_access(graph, fac, pop, rule_ids=["kindergarten"])
    assert res.generated
