"""Seeded, clearly labelled GENERATED walking networks, populations and facilities for benchmarks.

Nothing here is a real place: every result carries ``generated=True``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from pyproj import CRS, Geod, Transformer
from scipy.spatial import cKDTree

from yimi.analysis.access._arrays import FloatArray, IntArray
from yimi.analysis.access.ages import AGE_GROUPS
from yimi.analysis.access.demand import DemandPoints
from yimi.analysis.access.facilities import Facilities
from yimi.analysis.access.network import NetworkArrays
from yimi.analysis.graph import WalkGraph

__all__ = [
    "DEFAULT_FACILITY_DENSITY",
    "generate_facilities",
    "generate_grid_network",
    "generate_population",
    "stitch_tiles",
]

_GEOD = Geod(ellps="WGS84")
# A generated city sits near Beijing's centre unless told otherwise (it is drawn nowhere).
_DEFAULT_CENTRE = (116.40, 39.90)

# Children per age group as a share of all children 0-15, roughly by the width of each band with
# fewer recent births (an assumption for generated populations, not census data).
_AGE_SHARE = np.array([0.16, 0.19, 0.42, 0.23])

# Generated facilities per 10,000 network nodes, by category (about a real district's density
# on a 60 m grid); names carry the words the rule pack's school filters look for.
DEFAULT_FACILITY_DENSITY: dict[str, float] = {
    "childcare": 12.0,
    "kindergarten": 15.0,
    "school": 14.0,
    "playground": 25.0,
    "park": 8.0,
    "pocket_park": 20.0,
    "hospital": 4.0,
    "library": 4.0,
    "children_home": 8.0,
}


def _aeqd(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +datum=WGS84 +units=m")
    return (
        Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )


def _geodesic(lon: FloatArray, lat: FloatArray, u: IntArray, v: IntArray) -> FloatArray:
    if not u.size:
        return np.empty(0)
    return np.asarray(_GEOD.inv(lon[u], lat[u], lon[v], lat[v])[2], dtype=np.float64)


def generate_grid_network(
    n_nodes: int,
    seed: int,
    *,
    spacing_m: float = 60.0,
    jitter: float = 0.2,
    removal: float = 0.08,
    diagonal: float = 0.04,
    arterial_every: int = 12,
    centre: tuple[float, float] = _DEFAULT_CENTRE,
) -> NetworkArrays:
    """A GENERATED street network: a perturbed square grid.

    Parameters
    ----------
    n_nodes : int
        Exactly this many nodes (the grid is as square as possible; the last row is partial).
    seed : int
        Seed of numpy's default generator: the same seed gives the same network.
    spacing_m : float, default 60
        Grid spacing (block side).
    jitter : float, default 0.2
        Node displacement, uniform in ±jitter × spacing on each axis.
    removal : float, default 0.08
        Share of grid edges removed (dead ends, blocks merged; may cut off a few nodes).
    diagonal : float, default 0.04
        Share of grid cells crossed by a diagonal footpath.
    arterial_every : int, default 12
        Every this many grid lines is a primary road, every half of that a secondary one;
        other lines are residential streets (``edge_highway``).
    centre : (lon, lat), default near Beijing
        Where the made-up city is placed.

    Returns
    -------
    NetworkArrays
        Lengths are geodesic; ``generated`` is True.

    Notes
    -----
    Vectorised throughout: 1,000,000 nodes take a few seconds and a few hundred MB.
    """
    if n_nodes < 1:
        raise ValueError("n_nodes must be positive")
    rng = np.random.default_rng(seed)
    nx_ = max(1, math.ceil(math.sqrt(n_nodes)))
    k = np.arange(n_nodes, dtype=np.int64)
    gi, gj = k % nx_, k // nx_
    ny_ = int(gj.max()) + 1
    x = (gi - nx_ / 2.0) * spacing_m + rng.uniform(-jitter, jitter, n_nodes) * spacing_m
    y = (gj - ny_ / 2.0) * spacing_m + rng.uniform(-jitter, jitter, n_nodes) * spacing_m

    right = k[(gi + 1 < nx_) & (k + 1 < n_nodes)]
    up = k[k + nx_ < n_nodes]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + nx_])
    line = np.concatenate([gj[right], gi[up]])  # the grid line each edge runs along
    keep = rng.random(u.shape[0]) >= removal
    u, v, line = u[keep], v[keep], line[keep]
    highway = np.where(
        line % arterial_every == 0,
        "primary",
        np.where(line % max(arterial_every // 2, 1) == 0, "secondary", "residential"),
    )
    cells = k[(gi + 1 < nx_) & (k + nx_ + 1 < n_nodes)]
    diag = cells[rng.random(cells.shape[0]) < diagonal]
    flip = rng.random(diag.shape[0]) < 0.5
    du = np.where(flip, diag + 1, diag)
    dv = np.where(flip, diag + nx_, diag + nx_ + 1)
    u = np.concatenate([u, du])
    v = np.concatenate([v, dv])
    highway = np.concatenate([highway, np.full(du.shape[0], "footway")])

    _, inv = _aeqd(*centre)
    lon, lat = inv.transform(x, y)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return NetworkArrays(
        lon=lon,
        lat=lat,
        edge_u=u,
        edge_v=v,
        edge_length_m=_geodesic(lon, lat, u, v),
        edge_highway=highway.astype(np.str_),
        generated=True,
        description=(
            f"GENERATED grid network: {n_nodes} nodes, seed {seed}, spacing {spacing_m} m, "
            f"jitter {jitter}, removal {removal}, diagonal {diagonal}"
        ),
    )


def stitch_tiles(
    network: NetworkArrays,
    nx: int,
    ny: int,
    *,
    gap_m: float = 40.0,
    connectors_per_side: int = 5,
) -> NetworkArrays:
    """A GENERATED large network: ``nx × ny`` copies of a (real) network, joined by connectors.

    Parameters
    ----------
    network : NetworkArrays
        The tile, e.g. the sample extract's walking network.
    nx, ny : int
        Tiles across and up.
    gap_m : float, default 40
        Space between neighbouring tiles' bounding boxes.
    connectors_per_side : int, default 5
        Footways joining each pair of neighbouring tiles, at evenly spaced positions along the
        shared side, between the nearest nodes of the tile's largest component.

    Returns
    -------
    NetworkArrays
        Tile ``(i, j)`` holds nodes ``(j * nx + i) * n .. + n``; copies are translated in the
        tile's local projection and their lengths are ``max(original, geodesic)`` so that
        curved-way lengths survive and no length falls below the straight line.
    """
    if nx < 1 or ny < 1:
        raise ValueError("nx and ny must be positive")
    n = network.n_nodes
    if not n:
        raise ValueError("the tile has no nodes")
    lon0 = 0.5 * (float(network.lon.min()) + float(network.lon.max()))
    lat0 = 0.5 * (float(network.lat.min()) + float(network.lat.max()))
    fwd, inv = _aeqd(lon0, lat0)
    bx, by = fwd.transform(network.lon, network.lat)
    bx = np.asarray(bx, dtype=np.float64)
    by = np.asarray(by, dtype=np.float64)
    w = float(bx.max() - bx.min()) + gap_m
    h = float(by.max() - by.min()) + gap_m

    labels = WalkGraph.from_arrays(
        network.lon, network.lat, network.edge_u, network.edge_v, network.edge_length_m
    ).component_labels
    main = np.flatnonzero(labels == 0)
    tree = cKDTree(np.column_stack([bx[main], by[main]]))
    ys = np.linspace(by.min(), by.max(), connectors_per_side + 2)[1:-1]
    xs = np.linspace(bx.min(), bx.max(), connectors_per_side + 2)[1:-1]
    east = main[tree.query(np.column_stack([np.full(ys.shape, bx.max()), ys]))[1]]
    west = main[tree.query(np.column_stack([np.full(ys.shape, bx.min()), ys]))[1]]
    north = main[tree.query(np.column_stack([xs, np.full(xs.shape, by.max())]))[1]]
    south = main[tree.query(np.column_stack([xs, np.full(xs.shape, by.min())]))[1]]

    tiles = np.arange(nx * ny, dtype=np.int64)
    ti, tj = tiles % nx, tiles // nx
    x = (bx[None, :] + (ti * w)[:, None]).ravel()
    y = (by[None, :] + (tj * h)[:, None]).ravel()
    lon, lat = inv.transform(x, y)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)

    off = (tiles * n)[:, None]
    u = (network.edge_u[None, :] + off).ravel()
    v = (network.edge_v[None, :] + off).ravel()
    base_len = np.tile(network.edge_length_m, nx * ny)
    highway = np.tile(network.edge_highway, nx * ny)
    right = tiles[ti + 1 < nx]
    above = tiles[tj + 1 < ny]
    cu = np.concatenate(
        [(right * n)[:, None] + east[None, :], (above * n)[:, None] + north[None, :]], axis=None
    )
    cv = np.concatenate(
        [((right + 1) * n)[:, None] + west[None, :], ((above + nx) * n)[:, None] + south[None, :]],
        axis=None,
    )
    u = np.concatenate([u, cu])
    v = np.concatenate([v, cv])
    geo = _geodesic(lon, lat, u, v)
    length = np.concatenate([np.maximum(base_len, geo[: base_len.shape[0]]), geo[base_len.size :]])
    highway = np.concatenate([highway, np.full(cu.shape[0], "footway")])
    return NetworkArrays(
        lon=lon,
        lat=lat,
        edge_u=u,
        edge_v=v,
        edge_length_m=length,
        edge_highway=highway.astype(np.str_),
        generated=True,
        description=(
            f"GENERATED by tiling {nx}×{ny} copies of a {n}-node network "
            f"({network.description or 'given'}), {connectors_per_side} connectors per side"
        ),
    )


def generate_population(
    graph: WalkGraph,
    n_points: int,
    seed: int,
    *,
    children_per_point: float = 6.0,
    setback_m: tuple[float, float] = (10.0, 40.0),
    n_areas: int = 16,
) -> DemandPoints:
    """A GENERATED population of children: homes set back from random network nodes.

    Parameters
    ----------
    graph : WalkGraph
    n_points : int
        Number of homes (demand points).
    seed : int
    children_per_point : float, default 6
        Mean children 0-15 per home (Poisson), split over the age groups by fixed shares.
    setback_m : (float, float), default (10, 40)
        Homes sit at a uniform distance in this range, in a random direction, from their node.
    n_areas : int, default 16
        Homes are grouped into this many made-up areas (vertical strips of the extent),
        ``'G01'``, ``'G02'``…, for coverage tables.

    Returns
    -------
    DemandPoints
        ``generated=True``, ``kind='generated'``.
    """
    if graph.n_nodes == 0 or n_points < 0:
        raise ValueError("need a non-empty graph and a non-negative number of points")
    rng = np.random.default_rng(seed)
    node = rng.integers(0, graph.n_nodes, n_points)
    dist = rng.uniform(*setback_m, n_points)
    angle = rng.uniform(0.0, 2.0 * math.pi, n_points)
    lon, lat, _ = _GEOD.fwd(graph.lon[node], graph.lat[node], np.degrees(angle), dist)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    kids = rng.poisson(children_per_point * _AGE_SHARE, size=(n_points, len(AGE_GROUPS)))
    lo, hi = (float(lon.min()), float(lon.max())) if n_points else (0.0, 1.0)
    strip = np.clip(((lon - lo) / max(hi - lo, 1e-12) * n_areas).astype(np.int64), 0, n_areas - 1)
    return DemandPoints(
        lon=lon,
        lat=lat,
        weights=kids.astype(np.float64),
        area_index=strip,
        area_ids=tuple(f"G{i + 1:02d}" for i in range(n_areas)),
        kind="generated",
        generated=True,
    )


def generate_facilities(
    graph: WalkGraph,
    seed: int,
    *,
    per_10k_nodes: Mapping[str, float] | None = None,
) -> Facilities:
    """GENERATED facilities near random network nodes, with sizes and seats.

    Parameters
    ----------
    graph : WalkGraph
    seed : int
    per_10k_nodes : mapping, optional
        Facilities per 10,000 nodes by category (default :data:`DEFAULT_FACILITY_DENSITY`).

    Returns
    -------
    Facilities
        Schools alternate between 小学 and 中学 names so both school rules find some; parks get
        areas from 1 to 30 ha, pocket parks 0.04-1 ha, playgrounds 100-2,000 m²; kindergartens,
        childcare and schools get seats. ``generated=True``.
    """
    rng = np.random.default_rng(seed)
    density = DEFAULT_FACILITY_DENSITY if per_10k_nodes is None else dict(per_10k_nodes)
    lon: list[FloatArray] = []
    lat: list[FloatArray] = []
    cats: list[str] = []
    names: list[str] = []
    areas: list[FloatArray] = []
    seats: list[FloatArray] = []
    for cat, per in density.items():
        k = max(1, round(per * graph.n_nodes / 10_000))
        node = rng.integers(0, graph.n_nodes, k)
        x, y, _ = _GEOD.fwd(
            graph.lon[node], graph.lat[node], rng.uniform(0, 360, k), rng.uniform(5, 30, k)
        )
        lon.append(np.asarray(x, dtype=np.float64))
        lat.append(np.asarray(y, dtype=np.float64))
        cats += [cat] * k
        if cat == "school":
            names += [f"生成{'小学' if i % 2 == 0 else '中学'}{i + 1}" for i in range(k)]
        else:
            names += [f"生成{cat}{i + 1}" for i in range(k)]
        size = {
            "park": (10_000.0, 300_000.0),
            "pocket_park": (400.0, 10_000.0),
            "playground": (100.0, 2_000.0),
        }.get(cat)
        areas.append(rng.uniform(*size, k) if size else np.full(k, np.nan))
        cap = {"kindergarten": (90, 360), "childcare": (20, 120), "school": (300, 1800)}.get(cat)
        seats.append(rng.integers(*cap, k).astype(np.float64) if cap else np.full(k, np.nan))
    return Facilities.from_arrays(
        np.concatenate(lon),
        np.concatenate(lat),
        cats,
        name=names,
        area_m2=np.concatenate(areas),
        supply={"seats": np.concatenate(seats)},
        ids=[f"generated/{i}" for i in range(len(cats))],
        generated=True,
    )
