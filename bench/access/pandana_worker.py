"""The pandana engine of bench/access, run by ``run.py`` in a fresh process of the SEPARATE
benchmark-only environment ``bench/results/pandana-venv`` (pandana is AGPL-3.0: a benchmark peer,
never a dependency of Yimi; it is not in pyproject.toml):

    bench/results/pandana-venv/bin/python bench/access/pandana_worker.py pandana PARAMS RESULT

Imports only numpy, pandas, pandana and ``common.py``. The same queries as ``workers.py``, the
way pandana's documentation does them: ``Network(...)`` (builds the contraction hierarchy and a
KD-tree), ``precompute(1000)``, ``set_pois`` + ``nearest_pois`` for the nearest facility,
``get_node_ids`` + ``set`` + ``aggregate(type='sum', decay='flat')`` for counts, and two
aggregates per category for 2SFCA (demand within the catchment of each facility's node, then
the sum of supply/demand ratios within the catchment of each node).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

_T_START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandana  # noqa: E402
import pandas as pd  # noqa: E402
from common import (  # noqa: E402
    CATCHMENT_M,
    CATEGORIES,
    PANDANA_NEAREST_MAX_M,
    THRESHOLDS_M,
    category_members,
    load_inputs,
    now,
    save_check,
    worker_entry,
)


def engine_pandana(p: dict[str, Any]) -> dict[str, Any]:
    t_import = now() - _T_START
    t0 = now()
    z = load_inputs(p["input"])
    t_load = now() - t0
    lon, lat = z["lon"], z["lat"]
    n = lon.shape[0]
    fac_node, supply, demand = z["fac_node"], z["fac_supply"], z["node_demand"]
    members = category_members(z["fac_cat"])
    sub = p.get("categories")
    cats = list(range(len(CATEGORIES))) if sub is None else [CATEGORIES.index(c) for c in sub]

    t0 = now()
    net = pandana.Network(
        pd.Series(lon),
        pd.Series(lat),
        pd.Series(z["u"]),
        pd.Series(z["v"]),
        pd.DataFrame({"length": z["w"]}),
        twoway=True,
    )
    t_build = now() - t0
    t0 = now()
    net.precompute(max(THRESHOLDS_M))
    t_pre = now() - t0
    # Facility points at their nodes' positions; pandana maps them to nodes itself (KD-tree).
    all_nodes = pd.Series(np.arange(n))

    near_s, count_s, fca_s = [], [], []
    out_near, out_count, out_fca = [], [], []
    mapped_ok = 0
    for c in cats:
        sel = members[c]
        name = CATEGORIES[c]
        fx, fy = pd.Series(lon[fac_node[sel]]), pd.Series(lat[fac_node[sel]])
        t0 = now()
        net.set_pois(
            category=name,
            maxdist=PANDANA_NEAREST_MAX_M,
            maxitems=1,
            x_col=fx,
            y_col=fy,
        )
        near = net.nearest_pois(PANDANA_NEAREST_MAX_M, name, num_pois=1, max_distance=np.inf)
        near = near[1].to_numpy(dtype=np.float64)
        near_s.append(now() - t0)

        t0 = now()
        ids = net.get_node_ids(fx, fy)
        net.set(ids, name=name)  # a variable of ones at the facilities' nodes
        counts = np.stack(
            [net.aggregate(t, type="sum", decay="flat", name=name).to_numpy() for t in THRESHOLDS_M]
        )
        counts = np.rint(counts).astype(np.int32)
        count_s.append(now() - t0)
        mapped_ok += int((ids.to_numpy() == fac_node[sel]).sum())

        d0 = CATCHMENT_M[name]
        t0 = now()
        net.set(all_nodes, variable=pd.Series(demand), name="demand")
        within = net.aggregate(d0, type="sum", decay="flat", name="demand").to_numpy()
        w = within[ids.to_numpy()]
        ratio = np.divide(supply[sel], w, out=np.zeros(sel.shape[0]), where=w > 0)
        net.set(ids, variable=pd.Series(ratio, index=ids.index), name="ratio")
        access = net.aggregate(d0, type="sum", decay="flat", name="ratio").to_numpy()
        fca_s.append(now() - t0)
        if p.get("check"):
            s = z["sample"]
            out_near.append(near[s])
            out_count.append(counts[:, s])
            out_fca.append(access[s])
    cap_1000 = None
    if p.get("check"):
        # Untimed in the totals: the nearest queries again with a 1000 m search cap, to show
        # how much of pandana's nearest time is due to the 3000 m cap.
        t0 = now()
        for c in cats:
            name = CATEGORIES[c]
            sel = members[c]
            fx, fy = pd.Series(lon[fac_node[sel]]), pd.Series(lat[fac_node[sel]])
            net.set_pois(category=name, maxdist=1000.0, maxitems=1, x_col=fx, y_col=fy)
            net.nearest_pois(1000.0, name, num_pois=1, max_distance=np.inf)
        cap_1000 = (now() - t0) / len(cats)
        save_check(
            p["check"],
            cats=np.asarray(cats),
            nearest=np.stack(out_near),
            counts=np.stack(out_count),
            fca=np.stack(out_fca),
        )
    return {
        "import_s": t_import,
        "load_s": t_load,
        "build": {"Network (contraction hierarchy)": t_build, "precompute(1000)": t_pre},
        "categories": [CATEGORIES[c] for c in cats],
        "nearest_s": near_s,
        "counts_s": count_s,
        "fca_s": fca_s,
        "facilities_mapped_to_their_node": mapped_ok,
        "nearest_per_query_s_with_1000m_cap": cap_1000,
        "facilities_run": int(sum(members[c].shape[0] for c in cats)),
        "nodes": n,
        "pandana": pandana.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


if __name__ == "__main__":
    worker_entry({"pandana": engine_pandana})
