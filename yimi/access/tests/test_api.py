"""The access API: permissions and scoping, the contract's shapes, uploads and exports."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yimi.access.models import AnalysisRun, ChildPopulation, DemandSet
from yimi.core.models import Area, AuditLog
from yimi.core.roles import Role
from yimi.core.services import area_create
from yimi.core.tests.factories import box, make_user

from .conftest import POPULATION, set_population

pytestmark = pytest.mark.django_db

API = "/api/v1/access"


def _csv(rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _start(client, **body) -> dict:
    resp = client.post(f"{API}/runs", body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    return resp.json()


# ---------------------------------------------------------------------- permissions


ENDPOINTS = [
    ("get", "/rules"),
    ("get", "/areas"),
    ("get", "/population"),
    ("put", "/population", []),
    ("get", "/demand"),
    ("post", "/demand/generate"),
    ("get", "/planned"),
    ("post", "/planned", {"name": "x", "category": "park", "lon": 116.3, "lat": 40.0}),
    ("delete", "/planned/1"),
    ("get", "/runs"),
    ("post", "/runs"),
    ("get", "/runs/1"),
    ("get", "/runs/1/coverage"),
    ("get", "/runs/1/gaps"),
    ("get", "/runs/1/worst"),
    ("get", "/runs/1/export"),
    ("post", "/runs/1/siting", {"rule": "kindergarten"}),
    ("get", "/runs/1/compare/2"),
    ("get", "/schools"),
    ("get", "/runs/1/safe-routes?school=1"),
]


def test_anonymous_401_public_and_expert_403(client, areas):
    users = [make_user(Role.PUBLIC), make_user(Role.EXPERT, areas["110108"])]
    for method, path, *body in ENDPOINTS:
        call = getattr(client, method)
        kwargs = {}
        if method != "get":
            kwargs = {"content_type": "application/json", "data": body[0] if body else {}}
        client.logout()
        resp = call(API + path, **kwargs)
        assert resp.status_code == 401, (method, path)
        assert resp.json()["error"]["code"] == "unauthenticated"
        for user in users:
            client.force_login(user)
            resp = call(API + path, **kwargs)
            assert resp.status_code == 403, (user.role, method, path)
            assert resp.json()["error"]["code"] == "forbidden"


def test_a_district_cannot_see_another_districts_run(client, populated):
    beijing = populated["areas"]["110000"]
    other = area_create(
        actor=None,
        code="110105",
        name="朝阳区",
        level=Area.Level.DISTRICT,
        parent=beijing,
        boundary=box(116.40, 39.85, 116.60, 40.05),
    )
    a_user = make_user(Role.WCCO, populated["areas"]["110108"])
    b_user = make_user(Role.SUPERVISOR, other)
    client.force_login(a_user)
    run = _start(client, rules=["kindergarten"])
    assert run["status"] == "done" and run["area"] == "110108"
    client.force_login(b_user)
    assert client.get(f"{API}/runs/{run['id']}").status_code == 404
    assert client.get(f"{API}/runs/{run['id']}/coverage").status_code == 404
    assert client.get(f"{API}/runs/{run['id']}/export?format=xlsx").status_code == 404
    assert run["id"] not in [r["id"] for r in client.get(f"{API}/runs").json()]
    # Nor start one in district A.
    resp = client.post(f"{API}/runs", {"area": "110108900"}, content_type="application/json")
    assert resp.status_code == 403
    # A community director of district A sees runs of their community only.
    director = make_user(Role.DIRECTOR, populated["areas"]["110108900001"])
    client.force_login(director)
    assert client.get(f"{API}/runs/{run['id']}").status_code == 404
    own = _start(client, rules=["kindergarten"])
    assert own["area"] == "110108900001"
    # Only the community's homes: its 3-6 year-olds.
    assert own["summary"]["rules"][0]["children"] == POPULATION["110108900001"][1]


# ---------------------------------------------------------------------- contract


def test_rules_and_schools(staff_client, imported):
    body = staff_client.get(f"{API}/rules").json()
    assert body["walking_speed_m_per_min"] == 60
    assert [c["minutes"] for c in body["life_circles"]] == [5, 10, 15]
    kg = next(r for r in body["rules"] if r["id"] == "kindergarten")
    assert kg["label"] == "幼儿园" and kg["threshold_m"] == 300 and kg["age_groups"] == ["3-6"]
    assert {"categories", "life_circle", "supply", "source", "verified", "label_en"} <= set(kg)
    schools = staff_client.get(f"{API}/schools").json()
    assert "清华附小" in {s["name"] for s in schools}
    assert set(schools[0]) == {"id", "name", "lon", "lat"}


def test_population_put_get_and_permissions(client, areas, wcco):
    client.force_login(wcco)
    body = [
        {"area": code, "age_group": g, "count": n, "year": 2020, "source": "七普"}
        for code, counts in POPULATION.items()
        for g, n in zip(("0-3", "3-6", "6-12", "12-15"), counts, strict=True)
    ]
    resp = client.put(f"{API}/population", body, content_type="application/json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["created"] == 8 and len(resp.json()["rows"]) == 8
    # The same again changes nothing (and writes no audit row).
    n_audit = AuditLog.objects.count()
    assert (
        client.put(f"{API}/population", body, content_type="application/json").json()["unchanged"]
        == 8
    )
    assert AuditLog.objects.count() == n_audit
    rows = client.get(f"{API}/population?area=110108900001").json()
    assert {r["age_group"]: r["count"] for r in rows} == dict(
        zip(("0-3", "3-6", "6-12", "12-15"), POPULATION["110108900001"], strict=True)
    )
    assert rows[0]["area_name"] == "清华西演示社区" and rows[0]["level"] == 4
    # All or nothing: one bad row, nothing saved.
    bad = [
        {"area": "110108900001", "age_group": "0-3", "count": 1, "year": 2021},
        {"area": "no-such-area", "age_group": "0-3", "count": 1, "year": 2021},
    ]
    resp = client.put(f"{API}/population", bad, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["error"]["details"][0]["row"] == 2
    assert not ChildPopulation.objects.filter(year=2021).exists()
    # Supervisors and directors read but do not enter totals.
    client.force_login(make_user(Role.SUPERVISOR, areas["110108900"]))
    assert client.get(f"{API}/population").status_code == 200
    resp = client.put(f"{API}/population", body[:1], content_type="application/json")
    assert resp.status_code == 403


def test_population_import_from_excel_template(staff_client):
    from openpyxl import load_workbook

    resp = staff_client.get(f"{API}/population/template.xlsx?year=2020")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    ws = wb["儿童人口"]
    header = [c.value for c in ws[1]]
    assert header[0] == "区划代码*" and "0-3岁" in header and "来源" in header
    codes = [ws.cell(row=i, column=1).value for i in range(2, ws.max_row + 1)]
    assert set(POPULATION) <= set(codes)
    for i in range(2, ws.max_row + 1):
        code = ws.cell(row=i, column=1).value
        if code in POPULATION:
            for j, n in enumerate(POPULATION[code]):
                ws.cell(row=i, column=3 + j, value=n)
            ws.cell(row=i, column=8, value="第七次人口普查")
    buf = io.BytesIO()
    wb.save(buf)
    up = SimpleUploadedFile("pop.xlsx", buf.getvalue())
    resp = staff_client.post(f"{API}/population/import", {"file": up})
    assert resp.status_code == 200, resp.content
    assert resp.json()["created"] == 8
    assert ChildPopulation.objects.get(area__code="110108900002", age_group="6-12").count == 360


def test_population_import_errors_name_row_and_column(staff_client):
    table = _csv(
        [
            ["区划代码", "0-3岁", "3-6岁", "6-12岁", "12-15岁", "年份", "来源"],
            ["110108900001", "10", "20", "30", "40", "2020", ""],
            ["110108900002", "-5", "20", "abc", "", "2020", ""],
            ["110108900002", "1", "", "", "", "二〇二〇", ""],
        ]
    )
    resp = staff_client.post(
        f"{API}/population/import", {"file": SimpleUploadedFile("p.csv", table)}
    )
    assert resp.status_code == 400
    details = resp.json()["error"]["details"]
    assert {(d["row"], d["column"]) for d in details} == {
        (3, "0-3岁"),
        (3, "6-12岁"),
        (4, "年份"),
    }
    assert not ChildPopulation.objects.exists()


def test_demand_upload_errors_by_row_and_column_and_nothing_saved(staff_client):
    table = _csv(
        [
            ["名称", "经度", "纬度", "0-3岁", "3-6岁", "6-12岁", "12-15岁"],
            ["A", "116.320", "39.998", "1", "2", "3", "4"],
            ["B", "39.998", "116.320", "1", "2", "3", "4"],
            ["C", "116.321", "", "1", "2", "3", "4"],
            ["D", "116.322", "39.999", "x", "-1", "3", "4"],
        ]
    )
    resp = staff_client.post(
        f"{API}/demand", {"file": SimpleUploadedFile("d.csv", table), "kind": "points"}
    )
    assert resp.status_code == 400
    details = resp.json()["error"]["details"]
    assert {(d["row"], d["column"]) for d in details} == {
        (3, "纬度"),
        (4, "纬度"),
        (5, "0-3岁"),
        (5, "3-6岁"),
    }
    assert not DemandSet.objects.exists()
    resp = staff_client.post(
        f"{API}/demand",
        {"file": SimpleUploadedFile("d.csv", b"foo,bar\n1,2\n"), "kind": "points"},
    )
    assert resp.status_code == 400 and "经度" in resp.json()["error"]["message"]


def test_demand_upload_points_and_h3_then_run_on_them(staff_client, imported):
    points = _csv(
        [
            ["名称", "经度", "纬度", "坐标系", "3-6岁"],
            ["甲", "116.3259", "40.0098", "WGS-84", "40"],
            ["乙", "116.3201", "39.9958", "", "10"],
        ]
    )
    resp = staff_client.post(
        f"{API}/demand",
        {"file": SimpleUploadedFile("d.csv", points), "kind": "points", "name": "测试点"},
    )
    assert resp.status_code == 201, resp.content
    ds = resp.json()
    assert (ds["name"], ds["rows"], ds["children"], ds["generated"]) == ("测试点", 2, 50, False)
    run = _start(staff_client, rules=["kindergarten"], demand=ds["id"])
    assert run["status"] == "done", run["error"]
    kg = run["summary"]["rules"][0]
    # 乙 stands next to a kindergarten, 甲 is far from both.
    assert (kg["children"], kg["covered"]) == (50, 10)
    import h3

    cell = h3.latlng_to_cell(39.9958, 116.3201, 9)
    cells = _csv([["H3网格", "3-6岁"], [cell, "7"], ["not-a-cell", "1"], [cell, "2"]])
    resp = staff_client.post(
        f"{API}/demand", {"file": SimpleUploadedFile("h.csv", cells), "kind": "h3"}
    )
    assert resp.status_code == 400
    assert [(d["row"], d["column"]) for d in resp.json()["error"]["details"]] == [
        (3, "H3网格"),
        (4, "H3网格"),
    ]
    ok = _csv([["h3", "3-6"], [cell, "7"]])
    resp = staff_client.post(
        f"{API}/demand", {"file": SimpleUploadedFile("h.csv", ok), "kind": "h3"}
    )
    assert resp.status_code == 201 and resp.json()["kind"] == "h3"
    listed = staff_client.get(f"{API}/demand").json()
    assert len(listed) == 2 and {"id", "name", "rows", "children", "generated"} <= set(listed[0])


def test_planned_facilities_api(staff_client):
    body = {"name": "规划幼儿园", "category": "kindergarten", "lon": 116.3259, "lat": 40.0098}
    resp = staff_client.post(
        f"{API}/planned", {**body, "capacity": 270}, content_type="application/json"
    )
    assert resp.status_code == 201, resp.content
    fac = resp.json()
    assert {k: fac[k] for k in ("name", "category", "capacity")} == {
        "name": "规划幼儿园",
        "category": "kindergarten",
        "capacity": 270,
    }
    assert fac["area"] == "110108900002"
    assert [p["id"] for p in staff_client.get(f"{API}/planned").json()] == [fac["id"]]
    bad = staff_client.post(
        f"{API}/planned", {**body, "category": "castle"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert staff_client.delete(f"{API}/planned/{fac['id']}").status_code == 204
    assert staff_client.get(f"{API}/planned").json() == []
    assert staff_client.delete(f"{API}/planned/{fac['id']}").status_code == 404


# ---------------------------------------------------------------------- runs


def test_run_endpoints_follow_the_contract(staff_client, imported):
    set_population()
    run = _start(staff_client)
    assert set(run) >= {
        "id",
        "status",
        "progress",
        "stage",
        "params",
        "area",
        "created_at",
        "started_at",
        "finished_at",
        "error",
        "generated_demand",
        "summary",
    }
    assert run["status"] == "done" and run["progress"] == 100 and run["stage"] == "已完成"
    assert run["generated_demand"] is False
    s = run["summary"]
    assert (s["children"], s["demand_points"], s["unsnapped"]) == (1840, 150, 0)
    assert set(s["rules"][0]) >= {
        "rule",
        "label",
        "threshold_m",
        "facilities",
        "children",
        "covered",
        "share",
        "unreachable",
        "mean_m",
    }
    rid = run["id"]
    assert staff_client.get(f"{API}/runs").json()[0]["id"] == rid
    cov = staff_client.get(f"{API}/runs/{rid}/coverage").json()
    city = [r for r in cov if r["area"] is None]
    assert city and all(r["level"] == 0 for r in city)
    assert {r["area"] for r in cov if r["level"] == 4} == set(POPULATION)
    gaps = staff_client.get(f"{API}/runs/{rid}/gaps?rule=kindergarten").json()
    assert gaps["type"] == "FeatureCollection" and gaps["legend"]["field"] == "share_covered"
    props = gaps["features"][0]["properties"]
    assert {"cell", "children", "not_covered", "share_covered", "mean_m", "max_m"} <= set(props)
    worst = staff_client.get(f"{API}/runs/{rid}/worst?rule=kindergarten&n=3").json()
    assert len(worst) == 3
    assert set(worst[0]) >= {
        "cell",
        "lon",
        "lat",
        "children",
        "not_covered",
        "nearest_m",
        "area_name",
    }
    assert staff_client.get(f"{API}/runs/{rid}/gaps?rule=nope").status_code == 404
    siting = staff_client.post(
        f"{API}/runs/{rid}/siting",
        {"rule": "kindergarten", "k": 2, "candidates": [{"lon": 116.3259, "lat": 40.0098}]},
        content_type="application/json",
    ).json()
    assert siting["k"] == 2 and len(siting["sites"]) == 1 and siting["sites"][0]["rank"] == 1
    assert siting["covered_after"] - siting["covered_before"] == siting["sites"][0]["gain"]
    staff_client.post(
        f"{API}/planned",
        {"name": "规划", "category": "kindergarten", "lon": 116.3259, "lat": 40.0098},
        content_type="application/json",
    )
    after = _start(staff_client, rules=["kindergarten"], include_planned=True)
    comp = staff_client.get(f"{API}/runs/{rid}/compare/{after['id']}").json()
    assert [c["rule"] for c in comp] == ["kindergarten"]
    assert comp[0]["delta"] == siting["sites"][0]["gain"]
    assert set(comp[0]) >= {
        "rule",
        "label",
        "covered_before",
        "covered_after",
        "share_before",
        "share_after",
        "delta",
    }
    school = next(s for s in staff_client.get(f"{API}/schools").json() if s["name"] == "清华附小")
    sr = staff_client.get(f"{API}/runs/{rid}/safe-routes?school={school['id']}&routes=3").json()
    assert sr["school"]["id"] == school["id"] and sr["homes"] > 0
    assert sr["routes"]["type"] == "FeatureCollection" and len(sr["routes"]["features"]) == 6
    if sr["hotspots"]:
        assert set(sr["hotspots"][0]) >= {
            "rank",
            "lon",
            "lat",
            "road",
            "road_class",
            "children",
            "penalty",
            "signals",
        }


def test_a_run_still_queued_has_no_results_yet(staff_client, wcco):
    from yimi.access.services import run_create

    set_population()
    run = run_create(actor=wcco, background=False)
    resp = staff_client.get(f"{API}/runs/{run.pk}")
    assert resp.json()["status"] == "queued" and resp.json()["stage"] == "等待后台任务"
    assert staff_client.get(f"{API}/runs/{run.pk}/coverage").status_code == 409


def test_exports_are_readable_and_audited(staff_client, imported):
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    set_population()
    rid = _start(staff_client)["id"]
    xlsx = staff_client.get(f"{API}/runs/{rid}/export?format=xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx["Content-Disposition"]
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames[:2] == ["覆盖率", "缺口网格"]
    cov = list(wb["覆盖率"].iter_rows(values_only=True))
    assert cov[0][0] == "区划代码"
    kg_city = next(r for r in cov[1:] if r[4] == "kindergarten" and not r[0] and r[7] == "是")
    assert (kg_city[8], kg_city[9]) == (380, 54)
    gj = staff_client.get(f"{API}/runs/{rid}/export?format=geojson&rule=kindergarten")
    doc = json.loads(gj.content)
    assert doc["type"] == "FeatureCollection" and doc["rule"] == "kindergarten"
    assert sum(f["properties"]["children"] for f in doc["features"]) == 380
    pqr = staff_client.get(f"{API}/runs/{rid}/export?format=geoparquet&rule=kindergarten")
    assert pqr.status_code == 200
    table = pq.read_table(io.BytesIO(pqr.content))
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    assert table.num_rows == len(doc["features"])
    import shapely

    first = shapely.from_wkb(table.column("geometry")[0].as_py())
    assert first.geom_type == "Polygon" and first.is_valid
    assert sum(table.column("children").to_pylist()) == 380
    assert staff_client.get(f"{API}/runs/{rid}/export?format=shp").status_code == 400
    assert AuditLog.objects.filter(action="export", object_type="access.analysisrun").count() == 3


def test_run_create_errors_have_the_error_shape(staff_client):
    resp = staff_client.post(f"{API}/runs", {}, content_type="application/json")
    # No population entered yet.
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid"
    set_population()
    resp = staff_client.post(f"{API}/runs", {"rules": ["castles"]}, content_type="application/json")
    assert resp.status_code == 400 and "castles" in resp.json()["error"]["message"]
    assert AnalysisRun.objects.count() == 0
