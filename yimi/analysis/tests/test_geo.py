"""Tests for yimi.analysis.geo: distances against published values, the local projection, bbox."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from yimi.analysis.geo import EARTH_RADIUS_M, LocalProjection, bbox_of, geodesic_m, haversine_m

DistanceFn = Callable[..., Any]

WGS84 = Geod(ellps="WGS84")

# Rosetta Code, "Haversine formula" task: BNA (36.12, -86.67) to LAX (33.94, -118.40) is
# 2886.44444283798329974715782394574671655 km on a sphere of radius 6371.0 km.
BNA = (-86.67, 36.12)
LAX = (-118.40, 33.94)
ROSETTA_KM_AT_6371 = 2886.44444283798329974715782394574671655

# GeographicLib's documented example (JS/Python READMEs): Wellington, NZ (41.32S, 174.81E) to
# Salamanca, Spain (40.96N, 5.50W) "The distance is 19959679.267 m."
WELLINGTON = (174.81, -41.32)
SALAMANCA = (-5.50, 40.96)
GEOGRAPHICLIB_M = 19959679.267

# Wudaokou, Haidian (the sample extract's area).
CENTRE = (116.3376, 39.9929)


def test_haversine_rosetta_code() -> None:
    want = ROSETTA_KM_AT_6371 * 1000.0 * EARTH_RADIUS_M / 6371000.0
    assert haversine_m(*BNA, *LAX) == pytest.approx(want, rel=1e-12)


def test_haversine_one_degree_of_meridian() -> None:
    assert haversine_m(116.0, 39.0, 116.0, 40.0) == pytest.approx(
        EARTH_RADIUS_M * math.pi / 180.0, rel=1e-12
    )


def test_haversine_edge_cases() -> None:
    assert haversine_m(*CENTRE, *CENTRE) == 0.0
    # Antipodes: exactly half the circumference, not NaN.
    assert haversine_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    # Across the antimeridian is short.
    assert haversine_m(179.9, 0.0, -179.9, 0.0) == pytest.approx(
        EARTH_RADIUS_M * math.radians(0.2), rel=1e-9
    )


def test_geodesic_geographiclib_example() -> None:
    assert geodesic_m(*WELLINGTON, *SALAMANCA) == pytest.approx(GEOGRAPHICLIB_M, abs=1e-3)


def test_geodesic_and_haversine_agree_to_half_a_percent() -> None:
    rng = np.random.default_rng(7)
    lon1, lat1 = rng.uniform(-180, 180, 500), rng.uniform(-80, 80, 500)
    lon2, lat2 = rng.uniform(-180, 180, 500), rng.uniform(-80, 80, 500)
    g = geodesic_m(lon1, lat1, lon2, lat2)
    h = haversine_m(lon1, lat1, lon2, lat2)
    assert np.all(np.abs(h - g) <= 0.006 * g)


@pytest.mark.parametrize("func", [haversine_m, geodesic_m])
def test_scalars_and_shapes(func: DistanceFn) -> None:
    d = func(*CENTRE, 116.34, 39.99)
    assert type(d) is float
    lon2 = np.full((3, 4), 116.34)
    d = func(*CENTRE, lon2, 39.99)
    assert isinstance(d, np.ndarray) and d.shape == (3, 4)
    assert func(*CENTRE, lon2[0, 0], 39.99) == d[2, 3]
    empty = func(np.array([]), np.array([]), np.array([]), np.array([]))
    assert empty.shape == (0,)


@pytest.mark.parametrize("func", [haversine_m, geodesic_m])
def test_distance_bad_input(func: DistanceFn) -> None:
    with pytest.raises(ValueError, match="latitude"):
        func(0.0, 91.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="longitude"):
        func(0.0, 0.0, np.array([0.0, np.nan]), 0.0)
    with pytest.raises(ValueError, match="incompatible shapes"):
        func(np.zeros(3), 0.0, np.zeros(2), 0.0)


# --- LocalProjection -------------------------------------------------------------------------


def test_projection_centre_is_origin() -> None:
    proj = LocalProjection(*CENTRE)
    x, y = proj.forward(*CENTRE)
    assert type(x) is float and abs(x) < 1e-6 and abs(y) < 1e-6
    assert "116.3376" in repr(proj)


def test_projection_axes_point_east_and_north() -> None:
    proj = LocalProjection(*CENTRE)
    x, y = proj.forward(CENTRE[0] + 0.01, CENTRE[1])
    assert x > 800.0 and abs(y) < 1.0
    x, y = proj.forward(CENTRE[0], CENTRE[1] + 0.01)
    assert y > 1100.0 and abs(x) < 1e-6


def test_projection_distances_from_centre_are_true() -> None:
    # The defining property of azimuthal-equidistant: |(x, y)| is the geodesic distance.
    rng = np.random.default_rng(3)
    lon = CENTRE[0] + rng.uniform(-0.3, 0.3, 200)
    lat = CENTRE[1] + rng.uniform(-0.3, 0.3, 200)
    proj = LocalProjection(*CENTRE)
    x, y = proj.forward(lon, lat)
    np.testing.assert_allclose(np.hypot(x, y), geodesic_m(*CENTRE, lon, lat), rtol=0, atol=1e-6)


def test_projection_local_distances_are_nearly_true() -> None:
    # Between two arbitrary points 10 km out, planar distance is within 0.01 % of geodesic.
    proj = LocalProjection(*CENTRE)
    a, b = (116.45, 40.05), (116.25, 39.92)
    (xa, ya), (xb, yb) = proj.forward(*a), proj.forward(*b)
    assert math.hypot(xa - xb, ya - yb) == pytest.approx(geodesic_m(*a, *b), rel=1e-4)


def test_projection_round_trip_and_shapes() -> None:
    proj = LocalProjection(*CENTRE)
    lon = CENTRE[0] + np.linspace(-0.2, 0.2, 12).reshape(3, 4)
    lat = CENTRE[1] + np.linspace(0.2, -0.2, 12).reshape(3, 4)
    x, y = proj.forward(lon, lat)
    assert isinstance(x, np.ndarray) and x.shape == (3, 4) and y.shape == (3, 4)
    lon2, lat2 = proj.inverse(x, y)
    assert isinstance(lon2, np.ndarray) and lon2.shape == (3, 4)
    np.testing.assert_allclose(lon2, lon, rtol=0, atol=1e-10)
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-10)
    back = proj.inverse(0.0, 0.0)
    assert type(back[0]) is float and back == pytest.approx(CENTRE, abs=1e-12)


def test_projection_bad_input() -> None:
    with pytest.raises(ValueError, match="latitude"):
        LocalProjection(116.0, 100.0)
    proj = LocalProjection(*CENTRE)
    with pytest.raises(ValueError, match="longitude"):
        proj.forward(np.inf, 40.0)
    with pytest.raises(ValueError, match="finite"):
        proj.inverse(np.array([0.0, np.nan]), 0.0)


# --- bbox_of ---------------------------------------------------------------------------------


def _random_points_in_disc(
    lon: float, lat: float, radius_m: float, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points inside the disc, weighted towards its rim (where a too-small box would fail)."""
    rng = np.random.default_rng(seed)
    az = rng.uniform(-180.0, 180.0, n)
    dist = radius_m * np.sqrt(rng.uniform(0.0, 1.0, n))
    dist[: n // 2] = radius_m  # half exactly on the rim
    lons, lats, _ = WGS84.fwd(np.full(n, lon), np.full(n, lat), az, dist)
    return np.asarray(lons), np.asarray(lats)


@pytest.mark.parametrize(
    "lon, lat, radius_m",
    [
        (*CENTRE, 500.0),
        (*CENTRE, 3000.0),
        (121.47, 31.23, 25_000.0),  # Shanghai, city-wide
        (0.0, 0.0, 100.0),
        (-70.0, -55.0, 200_000.0),  # far south, large
        (30.0, 80.0, 50_000.0),  # high latitude: longitude span grows
    ],
)
def test_bbox_contains_the_disc_and_is_tight(lon: float, lat: float, radius_m: float) -> None:
    w, s, e, n = bbox_of(lon, lat, radius_m)
    lons, lats = _random_points_in_disc(lon, lat, radius_m, 20_000, seed=int(radius_m))
    assert np.all((lons >= w) & (lons <= e) & (lats >= s) & (lats <= n))
    # Tight: the box is no more than 1 % larger than the extremes actually reached.
    assert (e - w) <= 1.01 * (lons.max() - lons.min())
    assert (n - s) <= 1.01 * (lats.max() - lats.min())


def test_bbox_zero_radius() -> None:
    assert bbox_of(*CENTRE, 0.0) == (CENTRE[0], CENTRE[1], CENTRE[0], CENTRE[1])


def test_bbox_across_antimeridian_is_full_width() -> None:
    w, s, e, n = bbox_of(179.999, 10.0, 1000.0)
    assert (w, e) == (-180.0, 180.0)
    assert s < 10.0 < n


def test_bbox_around_a_pole() -> None:
    w, s, e, n = bbox_of(45.0, 89.99, 5000.0)
    assert (w, e, n) == (-180.0, 180.0, 90.0)
    assert s < 89.99 - 0.04
    w, s, e, n = bbox_of(0.0, -90.0, 1000.0)
    assert (w, s, e) == (-180.0, -90.0, 180.0) and -90.0 < n < -89.99


@pytest.mark.parametrize("radius", [-1.0, math.nan, math.inf])
def test_bbox_bad_radius(radius: float) -> None:
    with pytest.raises(ValueError, match="radius_m"):
        bbox_of(*CENTRE, radius)


def test_bbox_bad_centre() -> None:
    with pytest.raises(ValueError, match="latitude"):
        bbox_of(116.0, -91.0, 10.0)
