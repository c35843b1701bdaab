"""The catalogue in the database (loaded on migrate, idempotent, progress kept), Chinese search
(two-character words, several terms, filters, ranking, highlighting and escaping), the pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from yimi.core.models import AuditLog
from yimi.practices import catalog as cat
from yimi.practices import selectors, services
from yimi.practices.models import Case, Item, Measure, MeasureProgress, PolicyArea

FIXTURE = Path(__file__).parent / "fixtures" / "catalog"

pytestmark = pytest.mark.django_db


def keys(hits) -> list[str]:
    return [h.case.key for h in hits]


def search(**kw):
    return selectors.case_search(selectors.CaseFilter(**kw))


def test_migrate_loaded_the_whole_catalogue():
    real = cat.load()
    assert PolicyArea.objects.count() == 7
    assert Measure.objects.filter(retired=False).count() == len(real.measures()) == 18
    assert Item.objects.count() == 44
    assert Case.objects.count() == len(real.cases())
    by_area = {a.number: a.measures.count() for a in PolicyArea.objects.all()}
    assert by_area == {1: 3, 2: 2, 3: 3, 4: 2, 5: 2, 6: 3, 7: 3}
    c = Case.objects.get(key="4-1-1-beijing")
    assert (c.city, c.district, c.source) == ("北京", "东城区", "四(一)1")
    assert {"label": "地图点位", "value": 68, "unit": "个"} in c.figures
    assert round(c.lon) == 116 and round(c.lat) == 40


def test_a_second_load_changes_nothing():
    before = AuditLog.objects.count()
    result = services.catalog_load_and_sync()
    assert (result.created, result.updated, result.deleted, result.retired) == (0, 0, 0, 0)
    assert result.unchanged == 7 + 18 + 44 + Case.objects.count()
    assert AuditLog.objects.count() == before  # nothing changed, nothing to audit


def test_a_new_release_updates_cases_and_keeps_progress(users, tmp_path):
    imports = AuditLog.objects.filter(object_type="practices.catalog", action="import").count()
    m = Measure.objects.get(code="三(一)")
    services.progress_update(actor=users["wcco"], measure=m, status="in_progress", note="进行中")
    gone = Measure.objects.get(code="七(三)")
    services.progress_update(actor=users["wcco"], measure=gone, status="planned")
    # A release with fewer measures and a changed case title (the fixture): matched by ids.
    result = services.catalog_load_and_sync(directory=FIXTURE)
    assert result.retired > 0 and result.deleted > 0
    assert Case.objects.count() == 4
    assert MeasureProgress.objects.get(measure__code="三(一)").note == "进行中"
    gone.refresh_from_db()
    assert gone.retired and MeasureProgress.objects.filter(measure=gone).exists()
    assert selectors.measure_get("七(三)") is None
    # The full list again: the retired measure comes back with its progress.
    services.catalog_load_and_sync()
    gone.refresh_from_db()
    assert not gone.retired and gone.progress.status == "planned"
    assert (
        AuditLog.objects.filter(object_type="practices.catalog", action="import").count()
        == imports + 2
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("口袋", {"3-1-1-kunshan", "3-1-3-zhuhai", "3-2-2-chengdu", "3-3-2-shenyang"}),
        ("托育", {"1-2-2-hangzhou", "2-1-4-liaoyuan", "7-2-1-wuxi"}),
        ("学径", {"3-1-3-zhuhai", "4-1-4-hefei", "7-2-1-wuxi"}),
    ],
)
def test_two_character_words(q, expected):
    assert expected <= set(keys(search(q=q)))


def test_several_terms_must_all_match():
    one = set(keys(search(q="口袋")))
    both = set(keys(search(q="口袋 导则")))
    assert both and both < one
    assert all(
        "导则" in (h.case.title + h.case.summary + h.case.documents_text)
        for h in search(q="口袋 导则")
    )
    assert keys(search(q="口袋，导则")) == keys(search(q="口袋 导则"))  # Chinese comma splits too
    assert search(q="口袋 飞船") == []


def test_measure_titles_are_searched():
    # "1米视角" is in measure 二(一)'s title, not necessarily in its cases' text.
    hits = search(q="1米视角")
    assert hits and {h.case.item.measure.code for h in hits} == {"二(一)"}


def test_documents_are_searched():
    c = Case.objects.exclude(documents=[]).first()
    doc = c.documents[0]
    assert c.key in keys(search(q=doc))


def test_rank_title_before_document_before_summary():
    services.catalog_load_and_sync(directory=FIXTURE)
    # 口袋: in 3-1-1-zhuhai's title and document; 温州 ranks by title; 托育 by title vs summary.
    hits = search(q="托育")
    assert keys(hits)[0] == "1-1-1-changzhou"  # title has 托育
    assert "1-2-1-shanghai" in keys(hits)  # summary only
    assert hits[0].score > hits[-1].score
    # A document match outranks a summary match.
    hits = search(q="测试")
    docs_first = [h for h in hits if "测试" in h.case.documents_text]
    assert docs_first and keys(hits)[: len(docs_first)] == keys(docs_first)


def test_filters():
    assert {h.case.item.measure.area.number for h in search(area=3)} == {3}
    assert {h.case.province for h in search(province="浙江省")} == {"浙江省"}
    wenzhou = search(city="温州")
    assert len(wenzhou) == 3 and {h.case.city for h in wenzhou} == {"温州"}
    tagged = search(tag="困境儿童")
    assert tagged and all("困境儿童" in h.case.tags for h in tagged)
    assert len(tagged) == sum("困境儿童" in c.tags for c in Case.objects.all())
    assert keys(search(q="口袋", area=3, province="广东省")) == ["3-1-3-zhuhai"]
    assert search(q="口袋", area=1) == []


def test_highlight_escapes_everything_but_the_marks():
    services.catalog_load_and_sync(directory=FIXTURE)
    [hit] = search(q="托育 部门")
    assert "<mark>托育</mark>" in hit.summary_html and "<mark>部门</mark>" in hit.summary_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.summary_html
    assert "<script>" not in hit.summary_html
    # Angle brackets separate terms; what is left is still escaped around the mark.
    [hit] = search(q="<script>")
    assert "&lt;<mark>script</mark>&gt;" in hit.summary_html


@pytest.mark.parametrize(
    "q", ["' OR 1=1 --", "%_%", "_", '" OR ""="', "1); DROP TABLE practices_case; --"]
)
def test_injection_attempts_match_nothing(q, client):
    assert search(q=q) == []
    r = client.get("/practices/", {"q": q})
    assert r.status_code == 200 and "prac-empty" in r.content.decode()
    assert Case.objects.count() > 0


def test_library_page_highlights_and_escapes(client):
    services.catalog_load_and_sync(directory=FIXTURE)
    r = client.get("/practices/", {"q": "托育"})
    html = r.content.decode()
    assert "<mark>托育</mark>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    r = client.get("/practices/", {"q": "<img src=x onerror=alert(1)>"})
    assert "<img src=x" not in r.content.decode()


def test_library_page_filters_and_map_points(client):
    r = client.get("/practices/", {"city": "温州"})
    assert r.status_code == 200
    assert len(r.context["hits"]) == 3
    config = r.context["config"]
    assert config["points"] == [
        {
            "city": "温州",
            "province": "浙江省",
            "lon": pytest.approx(120.7, abs=0.2),
            "lat": pytest.approx(28.0, abs=0.2),
            "count": 3,
        }
    ]
    r = client.get("/practices/")
    points = r.context["config"]["points"]
    assert sum(p["count"] for p in points) == Case.objects.count()
    assert len(points) == len(set(Case.objects.values_list("city", flat=True)))


def test_case_page(client):
    c = Case.objects.get(key="4-1-1-beijing")
    r = client.get(f"/practices/cases/{c.key}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert c.title in html and "68个" in html and "东城区儿童友好地图1.0版" in html
    assert "四(一)1" in html
    # How Yimi helps: measure 四(一) has the map and access parts, with their pages.
    assert 'href="/map/"' in html and 'href="/access/"' in html
    assert client.get("/practices/cases/no-such-case/").status_code == 404


def test_how_yimi_helps_says_when_it_does_not(client):
    unsupported = [m for m in selectors.measure_list() if not m.yimi_parts]
    assert unsupported
    r = client.get(f"/practices/measures/{unsupported[0].slug}/")
    assert (
        "一米暂不支持此项" in r.content.decode()
        or "Yimi does not support this yet" in r.content.decode()
    )
    supported = Measure.objects.get(code="五(一)")
    r = client.get(f"/practices/measures/{supported.slug}/")
    assert 'href="/care/"' in r.content.decode()
    r = client.get("/practices/measures/")
    assert r.content.decode().count('data-measure="') == 18


def test_public_pages_show_no_progress(client, users):
    services.progress_update(
        actor=users["wcco"],
        measure=Measure.objects.get(code="三(一)"),
        status="in_progress",
        note="内部备注",
    )
    for url in ("/practices/measures/", "/practices/measures/3-1/"):
        html = client.get(url).content.decode()
        assert "内部备注" not in html and "progress-status" not in html
