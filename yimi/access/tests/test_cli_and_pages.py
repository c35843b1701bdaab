"""`yimi access run` and `yimi access nearest`, the demo step, and the pages' permissions."""

import csv
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from scipy.sparse.csgraph import dijkstra

from yimi.access.models import AnalysisRun, ChildPopulation
from yimi.access.nearest import nearest_place_per_node
from yimi.core.roles import Role
from yimi.core.tests.factories import make_user
from yimi.places.models import Place
from yimi.places.network import get_walk_graph

from .conftest import set_population

pytestmark = pytest.mark.django_db


def test_access_nearest_writes_one_row_per_node_with_walkgraph_distances(imported, tmp_path):
    out = tmp_path / "parks.csv"
    call_command("access", "nearest", "--category", "park", "--csv", str(out), "--no-progress")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    graph = get_walk_graph()
    assert len(rows) == graph.n_nodes == 2123
    assert [int(r["osm_node_id"]) for r in rows] == graph.node_ids.tolist()
    # The reference: every park's snapped point, walked to each node through either end of its
    # edge, with dense shortest paths from those end nodes.
    parks = list(Place.objects.filter(category="park").values_list("id", "lon", "lat"))
    snap = graph.snap([p[1] for p in parks], [p[2] for p in parks])
    ends = np.concatenate([snap.u, snap.v])
    d = dijkstra(graph.csr, directed=True, indices=ends)
    k = len(parks)
    via = np.minimum(
        (snap.offset_m + snap.dist_from_u_m)[:, None] + d[:k],
        (snap.offset_m + snap.dist_from_v_m)[:, None] + d[k:],
    )
    best = via.min(axis=0)
    got = np.array([float(r["distance_m"]) if r["distance_m"] else np.inf for r in rows])
    finite = np.isfinite(best)
    assert (np.isfinite(got) == finite).all()
    assert np.allclose(got[finite], best[finite], atol=1e-3)  # written with 3 decimals
    exact, _which = nearest_place_per_node(graph, snap)
    assert np.allclose(exact[finite], best[finite], rtol=0, atol=1e-6)
    assert not finite.all()  # some nodes are in fragments without a park: empty distance
    ids = np.array([int(r["place_id"]) if r["place_id"] else -1 for r in rows])
    which = np.array([p[0] for p in parks])[via.argmin(axis=0)]
    # Ties may name another park at the same distance; elsewhere the same park.
    with np.errstate(invalid="ignore"):
        unique = finite & (np.sort(via, axis=0)[1] - best > 1e-6)
    assert (ids[unique] == which[unique]).all()
    with pytest.raises(CommandError):
        call_command("access", "nearest", "--category", "castle", "--csv", str(out))


def test_access_run_prints_a_chinese_summary_and_writes_json(imported, tmp_path, capsys):
    set_population()
    out = tmp_path / "run.json"
    call_command(
        "access", "run", "--rules", "kindergarten,library", "--json", str(out), "--no-progress"
    )
    text = capsys.readouterr().out
    assert "幼儿园" in text and "54" in text and "380" in text
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["rule"] for r in doc["summary"]["rules"]] == ["kindergarten", "library"]
    assert doc["summary"]["children"] == 1840
    assert any(r["area"] == "110108900001" for r in doc["coverage"])
    assert AnalysisRun.objects.get(pk=doc["run"]).status == "done"
    with pytest.raises(CommandError):
        call_command("access", "run", "--rules", "castles", "--no-progress")


def test_demo_step_is_safe_to_run_twice(imported):
    from yimi.access.demo import DEMO_SOURCE, build_access_demo

    lines: list[str] = []
    build_access_demo(lines.append)
    assert ChildPopulation.objects.count() == 8
    assert set(ChildPopulation.objects.values_list("source", flat=True)) == {DEMO_SOURCE}
    assert "演示数据" in DEMO_SOURCE
    runs = list(AnalysisRun.objects.order_by("id"))
    assert [r.status for r in runs] == ["done", "done"]
    assert runs[1].params["include_planned"] and runs[1].summary["planned"] == 1
    build_access_demo(lines.append)
    assert ChildPopulation.objects.count() == 8 and AnalysisRun.objects.count() == 2


def test_pages_are_for_staff_only(client, imported):
    index = reverse("access:index")
    assert index == "/access/"
    resp = client.get(index)
    assert resp.status_code == 302 and "/login/" in resp["Location"]
    client.force_login(make_user(Role.PUBLIC))
    assert client.get(index).status_code == 403
    assert client.get(reverse("access:run", kwargs={"pk": 1})).status_code == 403


def test_page_config_for_the_scripts(rf, imported):
    from yimi.access.views import page_config

    user = make_user(Role.WCCO, imported["areas"]["110108"])
    request = rf.get("/access/")
    request.user = user
    config = page_config(request, run_id=7)
    assert config["api"] == "/api/v1" and config["runId"] == 7
    assert config["isStaff"] and config["canEditPopulation"]
    assert config["basemap"]["kind"] in ("own", "tiles")
    assert "kindergarten" in {r["id"] for r in config["rules"]["rules"]}
    assert {a["code"] for a in config["areas"]} >= {"110108", "110108900001"}
    assert "110000" not in {a["code"] for a in config["areas"]}
    assert config["urls"]["run"] == "/access/runs/{id}/"
    json.dumps(config)
