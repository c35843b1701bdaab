"""GENERATED benchmark data: places, query points and a city-scale walking grid.

Everything here is synthetic and seeded (numpy's PCG64); nothing is real map data. Wherever the
benchmark prints or stores figures made from it, they are labelled "generated".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The export box of the real sample extract (beijing-haidian-wudaokou.osm, <bounds>).
SAMPLE_BOX = (116.3084, 39.9905, 116.3320, 40.0123)  # min_lon, min_lat, max_lon, max_lat

M_PER_DEG_LAT = 111_320.0


def _clip_box(lon, lat, box):
    x0, y0, x1, y1 = box
    return np.clip(lon, x0, x1), np.clip(lat, y0, y1)


def places_in_box(
    n: int,
    box: tuple[float, float, float, float],
    rng: np.random.Generator,
    *,
    n_categories: int,
    clustered_share: float = 0.5,
    n_clusters: int | None = None,
    sigma_m: float = 150.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` generated places: part uniform over ``box``, part in Gaussian clusters inside it.

    Returns lon, lat (WGS-84 degrees) and a category index in ``[0, n_categories)``.
    """
    x0, y0, x1, y1 = box
    n_cl = round(n * clustered_share)
    n_un = n - n_cl
    lon_u = rng.uniform(x0, x1, n_un)
    lat_u = rng.uniform(y0, y1, n_un)
    if n_clusters is None:
        # about one cluster ("a neighbourhood") per 0.25 km² of the box
        w_m = (x1 - x0) * M_PER_DEG_LAT * math.cos(math.radians(0.5 * (y0 + y1)))
        h_m = (y1 - y0) * M_PER_DEG_LAT
        n_clusters = max(1, round(w_m * h_m / 250_000.0))
    centre_lon = rng.uniform(x0, x1, n_clusters)
    centre_lat = rng.uniform(y0, y1, n_clusters)
    which = rng.integers(0, n_clusters, n_cl)
    lat0 = 0.5 * (y0 + y1)
    s_lat = sigma_m / M_PER_DEG_LAT
    s_lon = sigma_m / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    lon_c = centre_lon[which] + rng.normal(0.0, s_lon, n_cl)
    lat_c = centre_lat[which] + rng.normal(0.0, s_lat, n_cl)
    lon_c, lat_c = _clip_box(lon_c, lat_c, box)
    lon = np.concatenate([lon_u, lon_c])
    lat = np.concatenate([lat_u, lat_c])
    perm = rng.permutation(n)  # so the first k places are a fair sample of the mix
    cat = rng.integers(0, n_categories, n)
    return lon[perm], lat[perm], cat


def points_in_box(
    n: int, box: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` generated query points ("where the user stands"), uniform over ``box``."""
    x0, y0, x1, y1 = box
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


@dataclass(frozen=True)
class GridCity:
    """A GENERATED city-scale walking network: a perturbed grid with some streets missing."""

    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    nx: int
    ny: int
    spacing_m: float
    box: tuple[float, float, float, float]


def grid_city(
    n_nodes: int,
    rng: np.random.Generator,
    *,
    spacing_m: float = 50.0,
    centre: tuple[float, float] = (116.3202, 40.0014),
    keep: float = 0.8,
    diagonal: float = 0.05,
    jitter: float = 0.25,
) -> GridCity:
    """About ``n_nodes`` nodes on a 5:4 grid, ``spacing_m`` apart, jittered by ±``jitter``·spacing.

    Each grid street segment is kept with probability ``keep``; each cell gets one diagonal with
    probability ``diagonal``. Edge lengths are left to ``WalkGraph.from_arrays`` (geodesic).
    """
    ny = max(2, round(math.sqrt(n_nodes / 1.25)))
    nx = max(2, math.ceil(n_nodes / ny))
    lon0, lat0 = centre
    dlat = spacing_m / M_PER_DEG_LAT
    dlon = spacing_m / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
    ii, jj = ii.ravel(), jj.ravel()  # node k = j * nx + i
    lon = lon0 + (ii - (nx - 1) / 2 + rng.uniform(-jitter, jitter, ii.size)) * dlon
    lat = lat0 + (jj - (ny - 1) / 2 + rng.uniform(-jitter, jitter, jj.size)) * dlat
    k = np.arange(nx * ny).reshape(ny, nx)
    h_u, h_v = k[:, :-1].ravel(), k[:, 1:].ravel()
    v_u, v_v = k[:-1, :].ravel(), k[1:, :].ravel()
    d_u, d_v = k[:-1, :-1].ravel(), k[1:, 1:].ravel()
    a_u, a_v = k[:-1, 1:].ravel(), k[1:, :-1].ravel()
    cell_diag = rng.random(d_u.size) < diagonal
    flip = rng.random(d_u.size) < 0.5
    diag_u = np.where(flip, a_u, d_u)[cell_diag]
    diag_v = np.where(flip, a_v, d_v)[cell_diag]
    u = np.concatenate([h_u, v_u])
    v = np.concatenate([h_v, v_v])
    kept = rng.random(u.size) < keep
    u = np.concatenate([u[kept], diag_u]).astype(np.int64)
    v = np.concatenate([v[kept], diag_v]).astype(np.int64)
    box = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    return GridCity(lon, lat, u, v, nx, ny, spacing_m, box)
