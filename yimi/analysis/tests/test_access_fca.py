"""Tests for 2SFCA: the sparse computation equals a direct dense one (flat and Gaussian)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yimi.analysis.access.fca import Decay, decay_weights, search_two_step_fca, two_step_fca
from yimi.analysis.access.network import NetworkIndex, Reach
from yimi.analysis.graph import WalkGraph
from yimi.analysis.tests.test_access_support import perturbed_grid, random_points


def dense_2sfca(
    dist: np.ndarray, supply: np.ndarray, demand: np.ndarray, d0: float, decay: Decay
) -> tuple[np.ndarray, np.ndarray]:
    """Textbook 2SFCA on a dense (facilities, homes) distance matrix."""
    if decay == "flat":
        w = (dist <= d0).astype(float)
    else:
        g = (np.exp(-0.5 * (dist / d0) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))
        w = np.where(dist <= d0, g, 0.0)
    ratio = np.full(supply.shape, np.nan)
    for j in range(supply.shape[0]):
        denom = (w[j] * demand).sum()
        if denom > 0:
            ratio[j] = supply[j] / denom
    access = np.zeros(demand.shape)
    for i in range(demand.shape[0]):
        access[i] = sum(
            w[j, i] * ratio[j]
            for j in range(supply.shape[0])
            if w[j, i] > 0 and not np.isnan(ratio[j])
        )
    return ratio, access


def test_decay_weights() -> None:
    d = np.array([0.0, 150.0, 300.0, 301.0, np.inf])
    assert decay_weights(d, 300.0, "flat").tolist() == [1, 1, 1, 0, 0]
    g = decay_weights(d, 300.0, "gaussian")
    assert g[0] == pytest.approx(1.0)
    assert g[1] == pytest.approx((math.exp(-0.125) - math.exp(-0.5)) / (1 - math.exp(-0.5)))
    assert g[2] == pytest.approx(0.0, abs=1e-15) and g[3] == 0 and g[4] == 0
    with pytest.raises(ValueError, match="decay"):
        decay_weights(d, 300.0, "linear")  # type: ignore[arg-type]


@pytest.mark.parametrize("decay", ["flat", "gaussian"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2sfca_equals_dense_computation(decay: Decay, seed: int) -> None:
    lon, lat, u, v, rng = perturbed_grid(seed)
    graph = WalkGraph.from_arrays(lon, lat, u, v)
    fac = graph.snap(*random_points(rng, lon, lat, 12))
    home = graph.snap(*random_points(rng, lon, lat, 80))
    supply = rng.uniform(0, 100, 12)
    supply[3] = 0.0
    demand = rng.integers(0, 8, 80).astype(float)
    d0 = 350.0
    index = NetworkIndex(graph)
    reach = index.reach(fac, home, 500.0)
    dist = graph.distance_matrix_snapped(fac, home)
    ratio, access = dense_2sfca(dist, supply, demand, d0, decay)
    # From the listed pairs, and inside the compiled searches (no pairs listed).
    for got in (
        two_step_fca(reach, supply, demand, catchment_m=d0, decay=decay),
        search_two_step_fca(index, fac, home, supply, demand, catchment_m=d0, decay=decay),
    ):
        np.testing.assert_allclose(got.ratio, ratio, rtol=1e-12, atol=0, equal_nan=True)
        np.testing.assert_allclose(got.access, access, rtol=1e-12, atol=1e-15)
        if decay == "flat":
            # Supply is conserved: every seat of a facility with demand around goes to a child.
            has_demand = ~np.isnan(ratio)
            assert (got.access * demand).sum() == pytest.approx(supply[has_demand].sum())


def test_2sfca_edge_cases() -> None:
    reach = Reach(
        source=np.array([0, 0, 1]),
        target=np.array([0, 1, 1]),
        dist_m=np.array([0.0, 100.0, 50.0]),
        n_sources=3,
        n_targets=3,
        limit_m=200.0,
    )
    res = two_step_fca(reach, [10.0, 5.0, 7.0], [2.0, 0.0, 4.0], catchment_m=200.0)
    # Facility 1 sees only a home without children, facility 2 sees nobody: no ratio.
    assert res.ratio[0] == 5.0 and np.isnan(res.ratio[1]) and np.isnan(res.ratio[2])
    assert res.access.tolist() == [5.0, 5.0, 0.0]
    with pytest.raises(ValueError, match="exceeds the search limit"):
        two_step_fca(reach, [1, 1, 1], [1, 1, 1], catchment_m=300.0)
    with pytest.raises(ValueError, match="supply must be finite"):
        two_step_fca(reach, [np.nan, 1, 1], [1, 1, 1], catchment_m=100.0)
    with pytest.raises(ValueError, match="match the reach"):
        two_step_fca(reach, [1, 1], [1, 1, 1], catchment_m=100.0)
    empty = Reach(np.empty(0, int), np.empty(0, int), np.empty(0), 2, 2, 100.0)
    res = two_step_fca(empty, [1.0, 2.0], [3.0, 4.0], catchment_m=100.0)
    assert res.access.dtype == np.float64 and res.access.tolist() == [0.0, 0.0]
