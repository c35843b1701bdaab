"""Tests for the Dask runner: a small local cluster returns exactly the single-process results."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from yimi.analysis.access.parallel import (
    analyse_districts,
    analyse_districts_serial,
)
from yimi.analysis.access.pipeline import AccessResult, District
from yimi.analysis.access.synthetic import (
    generate_facilities,
    generate_grid_network,
    generate_population,
)


def districts() -> dict[str, District]:
    out = {}
    for k, name in enumerate(["海淀", "朝阳", "东城"]):
        net = generate_grid_network(1500 + 400 * k, seed=k)
        graph = net.to_graph()
        out[name] = District(
            network=net,
            facilities=generate_facilities(graph, seed=10 + k),
            demand=generate_population(graph, 300, seed=20 + k),
        )
    return out


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Deep equality of results: arrays elementwise (NaN equal to NaN), floats exactly."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b, where


def test_local_cluster_equals_single_process() -> None:
    ds = districts()
    serial = analyse_districts_serial(ds, decay="gaussian", h3_resolution=8)
    parallel = analyse_districts(
        ds, n_workers=2, processes=False, decay="gaussian", h3_resolution=8
    )
    assert list(parallel) == list(ds)
    for name in ds:
        assert isinstance(parallel[name], AccessResult)
        assert_same(parallel[name], serial[name], name)
    # The districts really differ (the comparison is not trivially of equal things).
    assert len(serial["海淀"].rules["kindergarten"].nearest_m) == 300
    assert not np.array_equal(
        serial["海淀"].rules["kindergarten"].nearest_m,
        serial["朝阳"].rules["kindergarten"].nearest_m,
    )


def test_an_existing_client_is_used_and_left_open() -> None:
    from distributed import Client, LocalCluster

    ds = dict(list(districts().items())[:1])
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        got = analyse_districts(ds, client=client, rule_ids=["library"])
        assert client.status == "running"
    assert_same(got, analyse_districts_serial(ds, rule_ids=["library"]))
