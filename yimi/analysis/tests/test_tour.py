"""Tests for yimi.analysis.tour: Held–Karp against brute force, known optima, errors."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest

from yimi.analysis.tour import (
    MAX_POINTS,
    TourResult,
    TourUnreachable,
    brute_force_tour,
    shortest_tour,
)

TourFn = Callable[..., TourResult]

# (start, return_to_start) for a matrix of n points; start is resolved per n.
MODES = [("none", False), ("none", True), ("last", False), ("mid", True), ("zero", False)]


def _start(mode: str, n: int) -> int | None:
    return {"none": None, "last": n - 1, "mid": n // 2, "zero": 0}[mode]


def _matrix(n: int, seed: int, *, symmetric: bool, kind: str = "uniform") -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "points":  # Euclidean distances between random points: a realistic city
        xy = rng.uniform(0.0, 5000.0, (n, 2))
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    elif kind == "ties":  # small integers: many equally short tours
        d = rng.integers(1, 4, (n, n)).astype(float)
    else:
        d = rng.uniform(10.0, 3000.0, (n, n))
    if symmetric:
        d = np.triu(d, 1) + np.triu(d, 1).T
    np.fill_diagonal(d, 0.0)
    return d


def _length(d: np.ndarray, order: list[int], closed: bool) -> float:
    legs = list(itertools.pairwise(order))
    if closed and len(order) > 1:
        legs.append((order[-1], order[0]))
    return float(sum(d[a, b] for a, b in legs))


def _check_valid(result: TourResult, d: np.ndarray, start: int | None, closed: bool) -> None:
    n = d.shape[0]
    assert sorted(result.order) == list(range(n))
    assert all(type(i) is int for i in result.order)
    assert type(result.length) is float
    if start is not None:
        assert result.order[0] == start
    elif closed:
        assert result.order[0] == 0
    assert result.length == pytest.approx(_length(d, result.order, closed), rel=1e-12)


CASES = [
    (n, seed, symmetric, kind)
    for n in range(2, 10)
    for seed in range(3 if n <= 7 else 1)
    for symmetric in (True, False)
    for kind in ("uniform", "points", "ties")
    if not (kind == "points" and not symmetric)
]


@pytest.mark.parametrize("n, seed, symmetric, kind", CASES)
def test_matches_brute_force(n: int, seed: int, symmetric: bool, kind: str) -> None:
    d = _matrix(n, 1000 * n + seed, symmetric=symmetric, kind=kind)
    for mode, closed in MODES:
        start = _start(mode, n)
        got = shortest_tour(d, start=start, return_to_start=closed)
        want = brute_force_tour(d, start=start, return_to_start=closed)
        _check_valid(got, d, start, closed)
        _check_valid(want, d, start, closed)
        assert got.length == pytest.approx(want.length, rel=1e-12), (mode, closed)


@pytest.mark.parametrize("n", range(2, 9))
@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_with_missing_legs(n: int, seed: int) -> None:
    # Knock out legs at random: some instances stay solvable, some do not; both must agree.
    rng = np.random.default_rng(seed * 31 + n)
    d = _matrix(n, seed, symmetric=bool(seed % 2))
    d[rng.random((n, n)) < 0.45] = np.inf
    for mode, closed in MODES:
        start = _start(mode, n)
        try:
            want = brute_force_tour(d, start=start, return_to_start=closed)
        except TourUnreachable:
            with pytest.raises(TourUnreachable):
                shortest_tour(d, start=start, return_to_start=closed)
            continue
        got = shortest_tour(d, start=start, return_to_start=closed)
        _check_valid(got, d, start, closed)
        assert got.length == pytest.approx(want.length, rel=1e-12)


# --- Known optima at the full size (too big for brute force) ---------------------------------


def test_points_on_a_line_at_full_size() -> None:
    rng = np.random.default_rng(5)
    x = rng.permutation(np.arange(MAX_POINTS) * 100.0 + rng.uniform(0, 50, MAX_POINTS))
    d = np.abs(x[:, None] - x[None, :])
    span = float(x.max() - x.min())
    open_ = shortest_tour(d)
    assert open_.length == pytest.approx(span)
    assert list(x[open_.order]) in (sorted(x), sorted(x, reverse=True))
    closed = shortest_tour(d, return_to_start=True)
    assert closed.length == pytest.approx(2 * span)
    # Starting in the middle: go to the nearer end first, then sweep to the other.
    mid = int(np.argsort(x)[MAX_POINTS // 2])
    from_mid = shortest_tour(d, start=mid)
    near = min(x[mid] - x.min(), x.max() - x[mid])
    assert from_mid.length == pytest.approx(span + near)


def test_points_on_a_circle_at_full_size() -> None:
    # For points in convex position the optimal cycle is the hull order: the polygon.
    rng = np.random.default_rng(9)
    angle = np.sort(rng.uniform(0, 2 * math.pi, MAX_POINTS))
    ring = np.column_stack([np.cos(angle), np.sin(angle)]) * 1000.0
    polygon = sum(math.dist(ring[i], ring[(i + 1) % MAX_POINTS]) for i in range(MAX_POINTS))
    xy = ring[rng.permutation(MAX_POINTS)]  # hide the answer
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    result = shortest_tour(d, start=3, return_to_start=True)
    assert result.length == pytest.approx(polygon)
    _check_valid(result, d, 3, True)


def test_asymmetric_one_way_ring_at_full_size() -> None:
    # Legs i -> i+1 are cheap, everything else is dear: the only good cycle follows the ring.
    n = MAX_POINTS
    d = np.full((n, n), 1000.0)
    for i in range(n):
        d[i, (i + 1) % n] = 1.0
    result = shortest_tour(d, start=5, return_to_start=True)
    assert result.order == [(5 + k) % n for k in range(n)]
    assert result.length == n
    # Open and free to start anywhere: follow the ring, skipping one cheap leg.
    assert shortest_tour(d).length == n - 1


# --- Trivial sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize("func", [shortest_tour, brute_force_tour])
def test_single_point(func: TourFn) -> None:
    d = np.zeros((1, 1))
    for kwargs in (
        {},
        {"start": 0},
        {"return_to_start": True},
        {"start": 0, "return_to_start": True},
    ):
        assert func(d, **kwargs) == TourResult(order=[0], length=0.0)


@pytest.mark.parametrize("func", [shortest_tour, brute_force_tour])
def test_two_points(func: TourFn) -> None:
    d = np.array([[0.0, 7.0], [3.0, 0.0]])
    assert func(d) == TourResult([1, 0], 3.0)
    assert func(d, start=0) == TourResult([0, 1], 7.0)
    assert func(d, start=1, return_to_start=True) == TourResult([1, 0], 10.0)
    assert func(d, return_to_start=True) == TourResult([0, 1], 10.0)


def test_accepts_lists_and_ignores_the_diagonal() -> None:
    d = [[np.nan, 1.0, 5.0], [1.0, np.inf, 1.0], [5.0, 2.0, -np.inf]]
    assert shortest_tour(d) == TourResult([0, 1, 2], 2.0)
    assert shortest_tour(np.array(d), start=np.int64(2)) == TourResult([2, 1, 0], 3.0)


# --- Unreachable -----------------------------------------------------------------------------


@pytest.mark.parametrize("func", [shortest_tour, brute_force_tour])
def test_isolated_point_is_unreachable(func: TourFn) -> None:
    d = _matrix(6, 1, symmetric=True)
    d[4, :] = np.inf
    d[:, 4] = np.inf
    with pytest.raises(TourUnreachable):
        func(d)


@pytest.mark.parametrize("func", [shortest_tour, brute_force_tour])
def test_one_way_reachability(func: TourFn) -> None:
    d = _matrix(5, 2, symmetric=False)
    d[:, 3] = np.inf  # nobody can get to 3, so an open path must start there
    assert func(d).order[0] == 3
    with pytest.raises(TourUnreachable, match="starting at 0"):
        func(d, start=0)
    with pytest.raises(TourUnreachable):
        func(d, return_to_start=True)
    d = _matrix(5, 2, symmetric=False)
    d[3, :] = np.inf  # nobody can leave 3: fine for an open path, which ends there
    assert func(d).order[-1] == 3
    with pytest.raises(TourUnreachable):
        func(d, start=3)
    with pytest.raises(TourUnreachable):
        func(d, return_to_start=True)


def test_two_islands_are_unreachable() -> None:
    d = _matrix(8, 4, symmetric=True)
    d[:4, 4:] = np.inf
    d[4:, :4] = np.inf
    for kwargs in ({}, {"start": 2}, {"return_to_start": True}):
        with pytest.raises(TourUnreachable):
            shortest_tour(d, **kwargs)


def test_a_bridge_makes_it_reachable() -> None:
    d = _matrix(8, 4, symmetric=True)
    d[:4, 4:] = np.inf
    d[4:, :4] = np.inf
    d[1, 6] = 500.0  # a one-way bridge
    assert shortest_tour(d).length == pytest.approx(brute_force_tour(d).length)
    with pytest.raises(TourUnreachable):
        shortest_tour(d, return_to_start=True)


# --- Bad input -------------------------------------------------------------------------------


def test_size_limit() -> None:
    shortest_tour(_matrix(MAX_POINTS, 0, symmetric=True))  # exactly at the limit is fine
    with pytest.raises(ValueError, match=r"limit of 13 \(12 stops plus a start\)"):
        shortest_tour(_matrix(MAX_POINTS + 1, 0, symmetric=True))
    with pytest.raises(ValueError, match="limit of 10"):
        brute_force_tour(_matrix(11, 0, symmetric=True))


@pytest.mark.parametrize("func", [shortest_tour, brute_force_tour])
@pytest.mark.parametrize(
    "dist, kwargs, message",
    [
        (np.zeros((0, 0)), {}, "empty"),
        (np.zeros((3, 2)), {}, "square"),
        (np.zeros(4), {}, "square"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), {}, "NaN"),
        (np.array([[0.0, -np.inf], [1.0, 0.0]]), {}, "-inf"),
        (np.zeros((3, 3)), {"start": 3}, "start"),
        (np.zeros((3, 3)), {"start": -1}, "start"),
        (np.zeros((3, 3)), {"start": 1.0}, "start"),
        (np.zeros((3, 3)), {"start": True}, "start"),
    ],
)
def test_bad_input(func: TourFn, dist: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        func(dist, **kwargs)


def test_unreachable_is_not_a_value_error() -> None:
    # Callers tell "your input is malformed" from "this trip is impossible".
    assert not issubclass(TourUnreachable, ValueError)
