"""The data files against the seed itself: every area, measure, item and city case is there,
every case is complete, and no summary copies the list's sentences. Also: the checker's
messages name the file, the path and the field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from yimi.practices import catalog as cat

from . import seed

FIXTURE = Path(__file__).parent / "fixtures" / "catalog"
COPY_LIMIT = 12  # this many consecutive characters of the seed in a summary is a copy


@pytest.fixture(scope="module")
def seed_areas():
    d = seed.seed_dir()
    if d is None:
        pytest.skip("the seed is not beside the repository (../shared/seed)")
    return seed.parse(seed.seed_text(d))


@pytest.fixture(scope="module")
def seed_raw():
    d = seed.seed_dir()
    if d is None:
        pytest.skip("the seed is not beside the repository (../shared/seed)")
    return seed.seed_text(d)


@pytest.fixture(scope="module")
def real():
    return cat.load()


def test_the_seed_reader_finds_the_list(seed_areas):
    assert len(seed_areas) == 7
    assert [len(a.measures) for a in seed_areas] == [3, 2, 3, 2, 2, 3, 3]
    assert sum(len(m.items) for a in seed_areas for m in a.measures) == 44
    # A cell continued after a page break belongs to the item before the break.
    shanghai = next(
        i for a in seed_areas for m in a.measures for i in m.items if i.code == "一(二)2"
    )
    assert "纳入政府为民办实事项目" in shanghai.text
    # 五(二) has one un-numbered item.
    assert [i.code for i in seed_areas[4].measures[1].items] == ["五(二)1"]


def test_areas_measures_and_items_match_the_seed(real, seed_areas):
    assert len(real.areas) == 7
    assert [a.number for a in real.areas] == list(range(1, 8))
    for area, s in zip(real.areas, seed_areas, strict=True):
        assert [m.code for m in area.measures] == [m.code for m in s.measures], area.number
        for m, sm in zip(area.measures, s.measures, strict=True):
            assert [i.code for i in m.items] == [i.code for i in sm.items], m.code
    assert len(real.items()) == 44


def _cities_named(text: str, gazetteer: dict) -> set[str]:
    # A city is named as "温州市" (or within "浙江省温州市"); "苏州河" is a river, not 苏州.
    return {name for name in gazetteer if f"{name}市" in text}


def test_every_city_named_in_an_item_is_a_case_of_it(real, seed_areas):
    by_code = {i.code: i for i in real.items()}
    total = 0
    for s in seed_areas:
        for sm in s.measures:
            for si in sm.items:
                named = _cities_named(si.text, real.gazetteer)
                assert named, f"{si.code}: no gazetteer city found in the item's text"
                cases = {c.city for c in by_code[si.code].cases}
                assert named == cases, (
                    f"{si.code}: seed names {sorted(named)}, data has {sorted(cases)}"
                )
                total += len(named)
    assert total == len(real.cases())
    assert 50 <= total <= 60


def test_every_case_is_complete(real):
    ids = set()
    for item in real.items():
        for c in item.cases:
            assert c.id not in ids
            ids.add(c.id)
            assert c.source == item.code
            assert c.city in real.gazetteer
            assert c.province == real.gazetteer[c.city].province
            assert len(c.title) <= cat.MAX_TITLE
            # 2–4 sentences of Chinese.
            assert 2 <= len(re.findall(r"[。！？]", c.summary)) <= 5, c.id
            assert c.tags and set(c.tags) <= set(cat.TAGS)


def test_figures_years_and_documents_from_the_seed(real, seed_raw):
    by_id = {c.id: c for c in real.cases()}
    flat = re.sub(r"\s+", "", seed_raw)
    for c in by_id.values():
        for d in c.documents:
            assert f"《{d}》" in flat, f"{c.id}: document {d} is not named in the seed"
        for y in c.years:
            assert str(y) in flat
    # The brief's examples: 68 点位 (东城), 7000 m² (日照), 90% 准点率 (金华).
    values = {(f.value, f.unit) for c in by_id.values() for f in c.figures}
    assert {(68, "个"), (90, "%")} <= values
    assert any(f.value == 7000 for c in by_id.values() for f in c.figures)


def test_no_summary_copies_the_seed(real, seed_raw):
    flat = re.sub(r"<[^>]+>|\s+", "", seed_raw)
    grams = {flat[i : i + COPY_LIMIT] for i in range(len(flat) - COPY_LIMIT + 1)}
    copies = []
    for c in real.cases():
        s = re.sub(r"\s+", "", c.summary)
        for i in range(len(s) - COPY_LIMIT + 1):
            if s[i : i + COPY_LIMIT] in grams:
                copies.append(f"{c.id}: “{s[i : i + COPY_LIMIT]}”")
                break
    assert copies == []


def test_every_measure_says_how_yimi_helps_or_that_it_does_not(real):
    for m in real.measures():
        assert set(m.yimi_parts) <= set(cat.YIMI_PARTS)
        assert set(m.planned_parts) <= set(cat.PLANNED_PARTS)


# ------------------------------------------------------------------------------ the checker


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    d = tmp_path / "data"
    shutil.copytree(FIXTURE, d)
    p = d / "area_3.yaml"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")
    return d


@pytest.mark.parametrize(
    ("old", "new", "where", "what"),
    [
        ("city: 珠海", "city: 珠海镇", "measures[0].items[0].cases[0].city", "gazetteer"),
        ("tags: [空间, 出行]", "tags: [空间, 飞行]", "cases[0].tags[1]", "飞行"),
        ('source: "三(一)1"', 'source: "三(一)2"', "cases[0].source", "三(一)1"),
        ("value: 7000", "value: 七千", "figures[0].value", "数字"),
        ('id: "3-1-1-zhuhai"', 'id: "珠海"', "cases[0].id", "格式"),
        ('code: "三(一)1"', 'code: "三(一)9"', "items[0].code", "三(一)1"),
        ("title: 珠海口袋公园连通学径", "title: " + "长" * 31, "cases[0].title", "30"),
    ],
)
def test_errors_name_file_path_and_field(tmp_path, old, new, where, what):
    with pytest.raises(cat.CatalogError) as exc:
        cat.load(_broken(tmp_path, old, new))
    msg = str(exc.value)
    assert "area_3.yaml" in msg and where in msg and what in msg, msg


def test_a_yaml_syntax_error_names_the_file(tmp_path):
    d = _broken(tmp_path, "measures:", "measures: [")
    with pytest.raises(cat.CatalogError, match="area_3.yaml: YAML"):
        cat.load(d)


def test_all_problems_are_reported_at_once(tmp_path):
    d = _broken(tmp_path, "city: 珠海", "city: 珠海镇")
    (d / "area_1.yaml").write_text(
        (d / "area_1.yaml").read_text(encoding="utf-8").replace("tags: [法规]", "tags: []"),
        encoding="utf-8",
    )
    with pytest.raises(cat.CatalogError) as exc:
        cat.load(d)
    assert len(exc.value.problems) == 2
