"""A quick benchmark of the whole life-circle pipeline on a GENERATED city (not a test).

Run ``python -m yimi.analysis.access.benchmark --nodes 1000000``; it prints each stage's time
and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from collections.abc import Sequence

from yimi.analysis.access.network import NetworkArrays, NetworkIndex
from yimi.analysis.access.pipeline import analyse_access
from yimi.analysis.access.results import gap_geojson
from yimi.analysis.access.rulepack import load_rule_pack
from yimi.analysis.access.synthetic import (
    generate_facilities,
    generate_grid_network,
    generate_population,
    stitch_tiles,
)


def _peak_rss_gib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _tiled(path: str, n_nodes: int) -> NetworkArrays:
    """Square mosaic of copies of an extract's network with at least ``n_nodes`` nodes."""
    from yimi.analysis.osm import read_osm

    w = read_osm(path).network
    tile = NetworkArrays(
        w.lon, w.lat, w.edge_u, w.edge_v, w.edge_length_m, w.edge_highway, False, path
    )
    side = max(1, math.ceil(math.sqrt(n_nodes / max(tile.n_nodes, 1))))
    return stitch_tiles(tile, side, side)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--homes", type=int, default=None, help="default: nodes / 4")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--decay", choices=["flat", "gaussian"], default="gaussian")
    parser.add_argument("--h3-resolution", type=int, default=9)
    parser.add_argument(
        "--tile-osm",
        default=None,
        help="tile copies of this extract's walking network instead of a generated grid",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    homes = args.homes if args.homes is not None else args.nodes // 4
    stages: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    last = t0

    def mark(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages.append((name, now - last))
        last = now

    if args.tile_osm:
        net = _tiled(args.tile_osm, args.nodes)
    else:
        net = generate_grid_network(args.nodes, args.seed)
    mark("generate network (not part of the analysis)")
    graph = net.to_graph()
    mark("build WalkGraph")
    pop = generate_population(graph, homes, args.seed + 1)
    fac = generate_facilities(graph, args.seed + 2)
    mark("generate population and facilities (not part of the analysis)")
    index = NetworkIndex(graph)
    mark("NetworkIndex")

    def progress(step: str, done: int, total: int) -> None:
        mark(step)

    pack = load_rule_pack()
    res = analyse_access(
        graph,
        fac,
        pop,
        pack,
        decay=args.decay,
        h3_resolution=args.h3_resolution,
        index=index,
        progress=progress,
    )
    geo = gap_geojson(res.gaps[pack.rules[1].id])
    mark("GeoJSON of one gap map")
    analysis = sum(sec for name, sec in stages if "not part of the analysis" not in name)
    out.write(
        f"GENERATED city: {graph.n_nodes:,} nodes, {graph.n_edges:,} edges, "
        f"{len(pop):,} homes, {len(fac):,} facilities, {len(pack.rules)} rules, "
        f"{len(geo['features']):,} H3 cells (res {args.h3_resolution})\n"
    )
    for name, seconds in stages:
        out.write(f"  {seconds:8.2f} s  {name}\n")
    out.write(f"analysis (WalkGraph build to results): {analysis:.1f} s\n")
    out.write(f"total including generation: {time.perf_counter() - t0:.1f} s\n")
    out.write(f"peak memory (max RSS): {_peak_rss_gib():.2f} GiB\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
