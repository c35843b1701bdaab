"""Per-district life-circle analyses in parallel on Dask (``dask.distributed``).

A local cluster by default, a scheduler address when a city outgrows one machine; the results
are exactly those of running :func:`~yimi.analysis.access.pipeline.analyse_district` in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yimi.analysis.access.pipeline import AccessResult, District, analyse_district
from yimi.analysis.access.rulepack import RulePack, load_rule_pack

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["analyse_districts", "analyse_districts_serial"]


def analyse_districts_serial(
    districts: Mapping[str, District], rule_pack: RulePack | None = None, **options: Any
) -> dict[str, AccessResult]:
    """Analyse each district in this process, in turn (the reference for the parallel run)."""
    pack = rule_pack if rule_pack is not None else load_rule_pack()
    return {name: analyse_district(d, pack, **options) for name, d in districts.items()}


def analyse_districts(
    districts: Mapping[str, District],
    rule_pack: RulePack | None = None,
    *,
    client: Client | None = None,
    scheduler_address: str | None = None,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
    **options: Any,
) -> dict[str, AccessResult]:
    """Analyse districts in parallel with ``dask.distributed``.

    Parameters
    ----------
    districts : mapping of str to District
        Name → inputs (plain arrays, so they travel to workers).
    rule_pack : RulePack, optional
        The shipped life-circle pack by default.
    client : distributed.Client, optional
        Use this client (and leave it open).
    scheduler_address : str, optional
        Connect to a running scheduler (``'tcp://10.0.0.5:8786'``) when no client is given.
    n_workers : int, optional
        Workers of the local cluster started when neither a client nor an address is given
        (Dask's default: one per core).
    threads_per_worker : int, default 1
        The analyses are numpy/scipy bound; one thread per worker process avoids contention.
    processes : bool, default True
        Local cluster of processes (False: threads in this process, handy for tests).
    **options
        Passed to :func:`~yimi.analysis.access.pipeline.analyse_access`.

    Returns
    -------
    dict of str to AccessResult
        In the order of ``districts``; equal to :func:`analyse_districts_serial`'s.

    Raises
    ------
    ImportError
        When ``dask[distributed]`` is not installed.
    """
    from distributed import Client, LocalCluster

    pack = rule_pack if rule_pack is not None else load_rule_pack()
    names = list(districts)
    if client is not None:
        return _run(client, names, districts, pack, options)
    if scheduler_address is not None:
        with Client(scheduler_address) as remote:
            return _run(remote, names, districts, pack, options)
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as local,
    ):
        return _run(local, names, districts, pack, options)


def _run(
    client: Client,
    names: list[str],
    districts: Mapping[str, District],
    pack: RulePack,
    options: dict[str, Any],
) -> dict[str, AccessResult]:
    # pure=False: each district is its own task even if two inputs happen to hash alike.
    futures = [
        client.submit(analyse_district, districts[name], pack, pure=False, **options)
        for name in names
    ]
    results = client.gather(futures)
    return dict(zip(names, results, strict=True))
