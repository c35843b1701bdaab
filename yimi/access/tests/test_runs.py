"""Analysis runs on the real sample extract: figures, allocation, lifecycle, failure, siting,
before/after and safe routes."""

import math

import numpy as np
import pytest

from yimi.access import selectors, services
from yimi.access.models import AnalysisRun, PlannedFacility
from yimi.access.storage import read_arrays
from yimi.analysis.access import AGE_GROUPS, load_rule_pack
from yimi.core.models import Area, AuditLog

from .conftest import POPULATION, set_population

pytestmark = pytest.mark.django_db


def _rules(run):
    return {r["rule"]: r for r in run.summary["rules"]}


def test_coverage_on_the_sample_extract(done_run):
    s = done_run.summary
    assert s["children"] == sum(sum(v) for v in POPULATION.values()) == 1840
    # 153 stored residential buildings and land-use areas; one lies outside both communities,
    # and three land-use areas hold no residential building, so they take a share.
    assert s["demand_points"] == 150 and s["unsnapped"] == 0
    assert s["demand"]["buildings_outside"] == 1 and s["demand"]["landuse_used"] == 3
    r = _rules(done_run)
    # (children of the rule's ages, within its threshold, facilities) on the sample with the
    # demo totals. The totals per rule follow from POPULATION and the rules' age groups; the
    # covered counts are this analysis's, pinned so that any change in them is seen (the
    # distances themselves are checked against networkx in yimi/analysis/tests).
    expected = {
        "kindergarten": (380, 54, 2),
        "primary_school": (780, 129, 1),
        "middle_school": (350, 216, 4),
        "playground": (1490, 0, 1),
        "pocket_park": (1840, 226, 15),
        "community_park": (1840, 313, 9),
        "district_park": (1840, 0, 1),
        "community_health": (1840, 183, 2),
        "library": (1510, 349, 2),
    }
    for rule, (kids, covered, facilities) in expected.items():
        assert (r[rule]["children"], r[rule]["covered"], r[rule]["facilities"]) == (
            kids,
            covered,
            facilities,
        ), rule
        assert r[rule]["share"] == pytest.approx(covered / kids, abs=1e-6)
    # No childcare centre or children's home is mapped: every child is unreachable.
    assert r["childcare"]["facilities"] == 0 and r["childcare"]["unreachable"] == 330
    assert r["children_home"]["covered"] == 0 and r["children_home"]["mean_m"] is None


def test_coverage_table_by_area_adds_up(done_run):
    rows = selectors.run_coverage(done_run, rule="kindergarten")
    city = [x for x in rows if x["area"] is None]
    assert [x["distance_m"] for x in city] == [300, 500, 1000]
    assert [x["covered"] for x in city] == [54, 102, 157]
    assert all(x["level"] == 0 for x in city)
    communities = [x for x in rows if x["level"] == Area.Level.COMMUNITY and x["is_threshold"]]
    assert {x["area"] for x in communities} == set(POPULATION)
    assert sum(x["children"] for x in communities) == 380
    assert sum(x["covered"] for x in communities) == 54
    # 街道 and 区 rows hold every home here (the one building outside the street has no children).
    street = next(x for x in rows if x["area"] == "110108900" and x["is_threshold"])
    assert (street["children"], street["covered"], street["level"]) == (380, 54, 3)
    assert street["area_name"] == "五道口演示街道"


def test_allocation_sums_equal_the_entered_totals(done_run):
    arrays = read_arrays(done_run.result_file)
    codes = arrays["area_codes"].tolist()
    for code, counts in POPULATION.items():
        mine = arrays["area_index"] == codes.index(code)
        assert arrays["weights"][mine].sum(axis=0).tolist() == list(counts)
        # Whole children (largest-remainder rounding), never negative.
        w = arrays["weights"][mine]
        assert (w == np.round(w)).all() and (w >= 0).all()


def test_a_street_total_above_its_communities_goes_to_the_rest_of_the_street(populated):
    # The street has 100 more 3-6 year-olds than its two communities together; no residential
    # building lies in the street outside them, so they sit at the street's representative point.
    street_total = {"110108900": (330, 380 + 100, 780, 350)}
    set_population(street_total)
    run = services.run_create(actor=None, rules=["kindergarten"])
    assert run.status == "done", run.error
    assert run.summary["children"] == 1840 + 100
    assert run.summary["demand"]["fallback_areas"] == ["110108900"]
    arrays = read_arrays(run.result_file)
    street = arrays["area_index"] == arrays["area_codes"].tolist().index("110108900")
    assert arrays["weights"][street].sum(axis=0).tolist() == [0, 100, 0, 0]


def test_run_lifecycle_records_progress_and_audit(populated):
    seen = []
    run = services.run_create(actor=None, rules=["kindergarten", "library"], background=False)
    assert (run.status, run.progress, run.stage) == ("queued", 0, "queued")
    assert AuditLog.objects.filter(object_type="access.analysisrun", action="create").exists()
    run = services.run_execute(
        run_id=run.pk, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    assert run.status == "done" and run.progress == 100 and run.stage == "done"
    assert run.started_at <= run.finished_at
    stages = [s for s, _d, _t in seen]
    for stage in ("network", "demand", "snap", "nearest kindergarten", "2SFCA library", "store"):
        assert stage in stages
    percents = [d for _s, d, _t in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert selectors.stage_label("nearest kindergarten") == "最近设施：幼儿园"
    # Results are kept with the parameters they were computed with.
    assert run.params["rules"] == ["kindergarten", "library"]
    assert run.params["rule_pack"] == {"id": "life_circle", "version": 1}
    assert set(run.tables["gaps"]) == {"kindergarten", "library"}
    # Executing again does nothing (a re-delivered task).
    again = services.run_execute(run_id=run.pk)
    assert again.finished_at == run.finished_at


def test_a_run_without_a_network_fails_with_an_error(db):
    from yimi.core.demo import build_city

    build_city(lambda s: None)
    set_population()
    run = services.run_create(actor=None)
    assert run.status == AnalysisRun.Status.FAILED
    assert "import" in run.error.lower() or "导入" in run.error
    assert run.finished_at is not None and not run.result_file
    with pytest.raises(services.ServiceError):
        selectors.run_get(user=_admin(), pk=run.pk, done=True)


def _admin():
    from yimi.core.tests.factories import make_user

    return make_user("admin")


def test_run_parameters_are_validated(populated):
    for kwargs in (
        {"rules": ["no_such_rule"]},
        {"h3_resolution": 3},
        {"decay": "linear"},
        {"demand": "nothing"},
        {"demand": 999},
        {"area": "000000"},
    ):
        with pytest.raises(services.ServiceError):
            services.run_create(actor=None, **kwargs)


def test_siting_gains_add_up_and_match_a_check(done_run):
    for candidates in ("edges", "nodes"):
        res = selectors.run_siting(done_run, rule="kindergarten", k=3, candidates=candidates)
        gains = [s["gain"] for s in res["sites"]]
        assert len(gains) == 3 and gains == sorted(gains, reverse=True) and gains[0] > 0
        assert math.isclose(sum(gains), res["covered_after"] - res["covered_before"])
        assert res["covered_before"] == 54 and res["total_children"] == 380
        assert res["sites"][-1]["cumulative"] == res["covered_after"]
    # The first site really covers what it claims: re-running with a planned kindergarten there.
    best = selectors.run_siting(done_run, rule="kindergarten", k=1)["sites"][0]
    services.planned_facility_create(
        actor=None, name="规划", category="kindergarten", lon=best["lon"], lat=best["lat"]
    )
    after = services.run_create(actor=None, rules=["kindergarten"], include_planned=True)
    assert _rules(after)["kindergarten"]["covered"] == 54 + best["gain"]
    # User-given candidates: a point on top of an existing kindergarten adds nothing.
    kg = [(116.3201975, 39.9957888)]
    res = selectors.run_siting(done_run, rule="kindergarten", k=2, candidates=kg)
    assert res["sites"] == [] and res["covered_after"] == res["covered_before"]


def test_before_and_after_a_planned_kindergarten(done_run):
    planned = services.planned_facility_create(
        actor=None,
        name="演示规划幼儿园",
        category="kindergarten",
        lon=116.3259,
        lat=40.0098,
        capacity=270,
    )
    assert planned.area.code == "110108900002"
    after = services.run_create(actor=None, include_planned=True)
    assert after.params["planned_ids"] == [planned.pk]
    rows = {r["rule"]: r for r in selectors.run_compare(done_run, after)}
    kg = rows["kindergarten"]
    assert kg["covered_before"] == 54 and kg["covered_after"] > 54
    assert kg["delta"] == kg["covered_after"] - kg["covered_before"]
    assert _rules(after)["kindergarten"]["planned"] == 1
    # The planned kindergarten has seats, so 2SFCA now has supply for it.
    assert _rules(after)["kindergarten"]["supply_per_child"] > 0
    # Nothing else changed.
    assert all(r["delta"] == 0 for k, r in rows.items() if k != "kindergarten")
    # Per community: the gain is in the community where it is planned.
    west = {r["rule"]: r for r in selectors.run_compare(done_run, after, area="110108900001")}
    east = {r["rule"]: r for r in selectors.run_compare(done_run, after, area="110108900002")}
    assert west["kindergarten"]["delta"] == 0
    assert east["kindergarten"]["delta"] == kg["delta"]
    services.planned_facility_delete(actor=None, facility=planned)
    assert not PlannedFacility.objects.exists()


def test_gap_map_and_worst_cells(done_run):
    gaps = selectors.run_gaps(done_run, rule="kindergarten")
    feats = gaps["features"]
    assert gaps["legend"]["field"] == "share_covered"
    assert len(gaps["legend"]["colors"]) == len(gaps["legend"]["breaks"]) - 1
    assert sum(f["properties"]["children"] for f in feats) == 380
    assert sum(f["properties"]["not_covered"] for f in feats) == 380 - 54
    ring = feats[0]["geometry"]["coordinates"][0]
    assert feats[0]["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 7
    worst = selectors.run_worst(done_run, rule="kindergarten", n=5)
    assert len(worst) == 5
    nc = [w["not_covered"] for w in worst]
    assert nc == sorted(nc, reverse=True)
    assert nc[0] == max(f["properties"]["not_covered"] for f in feats)
    assert worst[0]["area_name"] in ("清华西演示社区", "成府路演示社区")


def test_safe_routes_to_a_school(done_run):
    from yimi.places.models import Place

    school = Place.objects.get(name="清华附小")
    res = selectors.run_safe_routes(done_run, school_id=school.pk, max_routes=5)
    assert res["school"]["name"] == "清华附小"
    # The only primary school of the sample: every 6-12 year-old's nearest one.
    assert res["age_groups"] == ["6-12"] and (res["homes"], res["children"]) == (150, 780)
    feats = res["routes"]["features"]
    assert {f["properties"]["kind"] for f in feats} == {"shortest", "safest"}
    by_home: dict = {}
    for f in feats:
        by_home.setdefault(f["properties"]["home"], {})[f["properties"]["kind"]] = f["properties"]
    for pair in by_home.values():
        # The safest walk is never shorter than the shortest, never costlier.
        assert pair["safest"]["length_m"] >= pair["shortest"]["length_m"] - 1e-6
        assert pair["safest"]["cost"] <= pair["shortest"]["cost"] + 1e-6
    assert res["stats"]["safest_m"] >= res["stats"]["shortest_m"] - 1e-6
    for i, h in enumerate(res["hotspots"]):
        assert h["rank"] == i + 1 and h["children"] > 0 and h["road_class"]


def test_a_generated_demand_table_is_labelled(populated):
    ds = services.demand_set_generate(actor=None, n_points=300, seed=7)
    assert ds.generated and ds.rows == 300
    run = services.run_create(actor=None, demand=ds.pk, rules=["kindergarten"])
    assert run.status == "done", run.error
    assert run.generated_demand and run.summary["generated"]
    assert run.summary["demand_kind"] == "generated"
    assert selectors.run_gaps(run, rule="kindergarten")["generated"] is True


def test_rule_pack_payload_matches_the_pack(db):
    payload = selectors.rules_payload()
    pack = load_rule_pack()
    assert [r["id"] for r in payload["rules"]] == [r.id for r in pack.rules]
    assert [c["distance_m"] for c in payload["life_circles"]] == [300, 500, 1000]
    assert set(AGE_GROUPS) >= {g for r in payload["rules"] for g in r["age_groups"]}
