"""Tests for the OSM reader: synthetic tiny files and the real Haidian sample extract."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import osmium
import osmium.geom
import pytest
from pyproj import Transformer
from shapely.geometry import Point, shape

from yimi.analysis.osm import (
    OsmExtract,
    OsmPlace,
    OsmReadError,
    is_walkable,
    names_similar,
    read_osm,
)

# ---------------------------------------------------------------------------------------------
# A tiny OSM XML writer for synthetic files

LON0, LAT0 = 116.30, 40.0
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))

Tags = dict[str, str]


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    """Metres east/north of (LON0, LAT0) → lon, lat."""
    return LON0 + x_m / M_PER_DEG_LON, LAT0 + y_m / M_PER_DEG_LAT


def _tags_xml(tags: Tags) -> str:
    return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())


META = 'version="3" timestamp="2020-05-01T08:00:00Z" changeset="1" uid="1" user="t"'


def osm_xml(
    nodes: Iterable[tuple[int, float, float, Tags]],
    ways: Iterable[tuple[int, Sequence[int], Tags]] = (),
    relations: Iterable[tuple[int, Sequence[tuple[str, int, str]], Tags]] = (),
) -> str:
    """OSM XML for nodes (id, x_m, y_m, tags), ways (id, refs, tags) and relations.

    Objects are written sorted by id, as area assembly requires (and real extracts are).
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, x, y, tags in sorted(nodes, key=lambda n: n[0]):
        lon, lat = lonlat(x, y)
        out.append(
            f'<node id="{nid}" {META} lat="{lat:.7f}" lon="{lon:.7f}">{_tags_xml(tags)}</node>'
        )
    for wid, refs, tags in sorted(ways, key=lambda w: w[0]):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        out.append(f'<way id="{wid}" {META}>{nds}{_tags_xml(tags)}</way>')
    for rid, members, tags in sorted(relations, key=lambda r: r[0]):
        mem = "".join(f'<member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members)
        out.append(f'<relation id="{rid}" {META}>{mem}{_tags_xml(tags)}</relation>')
    out.append("</osm>")
    return "\n".join(out)


def write_osm(tmp_path: Path, xml: str, name: str = "test.osm") -> Path:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    return path


def square(first_id: int, x: float, y: float, size: float) -> list[tuple[int, float, float, Tags]]:
    """Four untagged corner nodes of a square (counter-clockwise)."""
    corners = [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]
    return [(first_id + i, cx, cy, {}) for i, (cx, cy) in enumerate(corners)]


def ring(first_id: int) -> list[int]:
    return [first_id, first_id + 1, first_id + 2, first_id + 3, first_id]


def by_key(extract: OsmExtract) -> dict[str, OsmPlace]:
    return {p.key: p for p in extract.places}


# ---------------------------------------------------------------------------------------------
# Synthetic files


def test_duplicates_node_inside_area_are_merged(tmp_path: Path) -> None:
    kg = {"amenity": "kindergarten", "name": "阳光幼儿园"}
    nodes = [
        *square(1, 0, 0, 100),
        (10, 50, 50, {**kg, "opening_hours": "Mo-Fr 07:30-17:30", "phone": "010-1"}),
        (11, 20, 20, {"amenity": "kindergarten"}),  # unnamed, inside → merged
        (12, 60, 60, {"amenity": "kindergarten", "name": "星星幼儿园"}),  # other name → kept
        (13, 130, 50, dict(kg)),  # 30 m outside, same name → merged
        (14, 300, 50, dict(kg)),  # 200 m away → kept
        (15, 70, 30, {"amenity": "school", "name": "阳光小学"}),  # other category → kept
        (16, 130, 60, {"amenity": "kindergarten"}),  # unnamed and outside → kept
        *square(20, 500, 0, 50),
        (17, 525, 25, {"leisure": "park", "name": "双清 公园"}),  # park node in pocket park
        *square(30, 1000, 0, 100),
        (18, 1050, 50, {"amenity": "school", "name": "中关村中学"}),  # main school ≠ 分校
        *square(40, 1500, 0, 100),
        (19, 1550, 50, {"amenity": "school", "name": "清华附中"}),  # abbreviation → merged
    ]
    ways = [
        (100, ring(1), kg),
        (200, ring(20), {"leisure": "park", "name": "双清公园"}),
        (300, ring(30), {"amenity": "school", "name": "中关村中学分校"}),
        (400, ring(40), {"amenity": "school", "name": "清华大学附属中学"}),
    ]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways)))
    places = by_key(extract)

    assert extract.stats["duplicates_merged"] == 5
    assert sorted(places) == sorted(
        ["way/100", "way/200", "way/300", "way/400"]
        + ["node/12", "node/14", "node/15", "node/16", "node/18"]
    )
    kindergarten = places["way/100"]
    assert kindergarten.merged_ids == ["node/10", "node/11", "node/13"]
    # The node's extra tags fill in what the area lacks; the area's own tags win.
    assert kindergarten.opening_hours == "Mo-Fr 07:30-17:30"
    assert kindergarten.tags["phone"] == "010-1"
    assert kindergarten.tags["amenity"] == "kindergarten"
    assert kindergarten.geometry is not None and kindergarten.geometry["type"] == "Polygon"
    assert kindergarten.area_m2 == pytest.approx(10_000, rel=0.01)

    park = places["way/200"]
    assert park.category == "pocket_park"
    assert park.merged_ids == ["node/17"]
    assert places["way/400"].merged_ids == ["node/19"]
    assert places["way/300"].merged_ids == []


def test_unnamed_node_in_named_area_merges_and_fills_name(tmp_path: Path) -> None:
    nodes = [
        *square(1, 0, 0, 100),
        (10, 50, 50, {"amenity": "library", "name": "图书馆", "name:en": "Library"}),
    ]
    extract = read_osm(
        write_osm(tmp_path, osm_xml(nodes, [(100, ring(1), {"amenity": "library"})]))
    )
    (library,) = extract.places
    assert library.key == "way/100"
    assert library.name == "图书馆"
    assert library.name_en == "Library"
    assert library.merged_ids == ["node/10"]


@pytest.mark.parametrize(
    ("a", "b", "similar"),
    [
        ("阳光幼儿园", "阳光 幼儿园", True),
        ("清华附中", "清华大学附属中学", True),
        ("图书馆", "清华大学图书馆", True),
        ("中关村中学", "中关村中学分校", False),
        ("清华附中", "清华附中国际部", False),
        ("阳光幼儿园", "星星幼儿园", False),
        ("幼", "幼儿园", False),
    ],
)
def test_names_similar(a: str, b: str, similar: bool) -> None:
    assert names_similar(a, b) is similar
    assert names_similar(b, a) is similar


WALK_WAYS: list[tuple[int, Tags, bool]] = [
    (1, {"highway": "footway", "foot": "no"}, False),
    (2, {"highway": "residential", "access": "private"}, False),
    (3, {"highway": "residential", "access": "private", "foot": "yes"}, True),
    (4, {"highway": "motorway", "foot": "yes"}, False),
    (5, {"highway": "trunk"}, False),
    (6, {"highway": "trunk", "sidewalk": "both"}, True),
    (7, {"highway": "trunk_link", "foot": "designated"}, True),
    (8, {"highway": "cycleway"}, True),
    (9, {"highway": "platform"}, False),
    (10, {"highway": "construction"}, False),
    (11, {"highway": "footway", "oneway:foot": "-1"}, True),
    (12, {"highway": "primary", "oneway": "yes", "name": "成府路"}, True),
    (14, {"highway": "footway", "footway": "crossing"}, True),
    (15, {"highway": "residential", "sidewalk": "no", "lit": "yes", "maxspeed": "30"}, True),
    (16, {"highway": "service", "foot": "use_sidepath"}, False),
    (17, {"highway": "steps", "access": "no", "foot": "permissive"}, True),
    (18, {"highway": "trunk", "sidewalk": "separate"}, False),
    (19, {"highway": "motorway_link"}, False),
    (20, {"highway": "proposed"}, False),
    (21, {"highway": "service", "access": "permissive"}, True),
]


@pytest.mark.parametrize(("way_id", "tags", "walkable"), WALK_WAYS)
def test_is_walkable(way_id: int, tags: Tags, walkable: bool) -> None:
    assert is_walkable(tags) is walkable


def test_walk_network_from_synthetic_file(tmp_path: Path) -> None:
    nodes: list[tuple[int, float, float, Tags]] = []
    ways: list[tuple[int, Sequence[int], Tags]] = []
    # Each test way gets its own three nodes on a row, 100 m apart.
    for row, (way_id, tags, _) in enumerate(WALK_WAYS):
        ids = [1000 + 10 * row + i for i in range(3)]
        nodes += [(nid, 100.0 * i, 50.0 * row, {}) for i, nid in enumerate(ids)]
        ways.append((way_id, ids, tags))
    # A pedestrian square (area=yes): its outline is walkable, 4 edges.
    nodes += square(5000, 0, -200, 40)
    ways.append((13, ring(5000), {"highway": "pedestrian", "area": "yes", "name": "理学院北广场"}))
    # A repeated node makes no zero-length edge.
    nodes += [(6000, 0, -400, {}), (6001, 100, -400, {})]
    ways.append((22, [6000, 6000, 6001], {"highway": "path"}))
    nodes.append((7000, 100, 550, {"highway": "crossing", "crossing": "zebra"}))

    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways)))
    net = extract.network
    walkable_ids = {w for w, _, ok in WALK_WAYS if ok} | {13, 22}
    assert set(net.edge_way_id.tolist()) == walkable_ids
    assert net.n_edges == 2 * (len(walkable_ids) - 2) + 4 + 1
    # Only nodes of walkable ways; sorted ids; indices in range.
    assert net.n_nodes == 3 * (len(walkable_ids) - 2) + 4 + 2
    assert np.all(np.diff(net.node_osm_id) > 0)
    assert net.edge_u.max() < net.n_nodes and net.edge_v.max() < net.n_nodes
    assert not set(net.edge_highway.tolist()) & {"motorway", "motorway_link", "platform"}
    # 100 m segments (and 40 m sides of the square); the synthetic coordinates use a spherical
    # metre-per-degree, the lengths the ellipsoid, hence 1 % (the sample test checks tightly).
    lengths = dict(zip(net.edge_way_id.tolist(), net.edge_length_m.tolist(), strict=True))
    assert lengths[8] == pytest.approx(100.0, rel=1e-2)
    assert np.allclose(net.edge_length_m[net.edge_way_id == 13], 40.0, rtol=1e-2)

    def edges_of(way_id: int) -> np.ndarray:
        return np.flatnonzero(net.edge_way_id == way_id)

    # oneway:foot=-1 → u and v swapped and flagged; plain oneway does not bind pedestrians.
    (e11a, e11b) = edges_of(11)
    assert net.edge_oneway_foot[e11a] and net.edge_oneway_foot[e11b]
    assert net.node_osm_id[net.edge_u[e11a]] == 1000 + 10 * 10 + 1
    assert net.node_osm_id[net.edge_v[e11a]] == 1000 + 10 * 10 + 0
    assert not net.edge_oneway_foot[edges_of(12)].any()
    assert net.edge_name[edges_of(12)[0]] == "成府路"
    assert net.edge_area[edges_of(13)].all() and net.edge_area.sum() == 4
    assert net.edge_crossing[edges_of(14)].all() and net.edge_crossing.sum() == 2
    e15 = edges_of(15)[0]
    assert net.edge_sidewalk[e15] is False
    assert net.edge_lit[e15] is True
    assert net.edge_maxspeed_kmh[e15] == 30.0
    assert net.edge_sidewalk[edges_of(6)[0]] is True
    assert net.edge_sidewalk[edges_of(8)[0]] is None
    assert np.isnan(net.edge_maxspeed_kmh[edges_of(8)[0]])
    assert net.node_crossing.sum() == 0  # node 7000 is on no walkable way
    # Every highway way is on the basemap, walkable or not, with its highway value.
    roads = [f for f in extract.basemap if f.kind == "road"]
    assert len(roads) == len(WALK_WAYS) + 2
    assert {f.highway for f in roads} >= {"motorway", "platform", "construction", "pedestrian"}
    assert extract.stats["highway_ways_not_walkable"] == sum(not ok for _, _, ok in WALK_WAYS)


def test_misleading_names_make_no_places(tmp_path: Path) -> None:
    nodes = [
        (1, 0, 0, {}),
        (2, 100, 0, {}),
        (3, 50, 50, {"highway": "bus_stop", "name": "实验幼儿园"}),
        (4, 60, 50, {"railway": "station", "name": "国家图书馆", "public_transport": "station"}),
        (5, 70, 50, {"amenity": "school", "name": "北京理工大学"}),
        (6, 80, 50, {"amenity": "parking", "name": "科技馆东门"}),
        (7, 90, 50, {"amenity": "restaurant", "name": "清华附中食堂"}),
        (8, 95, 50, {"place": "neighbourhood", "name": "少年宫"}),
        *square(10, 0, 100, 100),
    ]
    ways = [
        (100, [1, 2], {"highway": "residential", "name": "幼儿园路"}),
        (101, ring(10), {"landuse": "residential", "name": "幼儿园小区"}),
    ]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways)))
    assert extract.places == []
    assert extract.stats["places"] == 0
    # The estate is still a residential area for the population analysis.
    (estate,) = extract.buildings
    assert estate.is_landuse and estate.building is None and estate.name == "幼儿园小区"


def test_multipolygon_relation_with_hole(tmp_path: Path) -> None:
    nodes = [*square(1, 0, 0, 200), *square(10, 50, 50, 100)]
    ways = [(100, ring(1), {}), (101, ring(10), {})]
    relations = [
        (
            900,
            [("way", 100, "outer"), ("way", 101, "inner")],
            {"type": "multipolygon", "leisure": "park", "name": "海淀公园"},
        )
    ]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways, relations)))
    (park,) = extract.places
    assert (park.osm_type, park.osm_id) == ("relation", 900)
    assert park.category == "park"  # 30,000 m² is not a pocket park
    assert park.area_m2 == pytest.approx(30_000, rel=0.01)
    assert park.geometry is not None and park.geometry["type"] == "Polygon"
    assert len(park.geometry["coordinates"]) == 2  # outer ring and hole
    polygon = shape(park.geometry)
    assert polygon.covers(Point(park.lon, park.lat))
    assert park.version == 3
    assert park.timestamp == datetime(2020, 5, 1, 8, tzinfo=UTC)
    assert [f.kind for f in extract.basemap] == ["park"]


def test_open_way_place_gets_its_midpoint(tmp_path: Path) -> None:
    nodes = [(1, 0, 0, {}), (2, 100, 0, {}), (3, 100, 100, {})]
    ways = [(100, [1, 2, 3], {"leisure": "playground", "name": "沿河游乐带"})]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways)))
    (playground,) = extract.places
    assert playground.key == "way/100"
    assert playground.geometry is None and playground.area_m2 is None
    assert (playground.lon, playground.lat) == pytest.approx(lonlat(100, 0), abs=1e-6)
    assert extract.stats["place_ways_without_area"] == 1


def test_closed_way_with_area_no_is_a_line_place(tmp_path: Path) -> None:
    nodes = square(1, 0, 0, 100)
    ways = [(100, ring(1), {"leisure": "track", "name": "环湖跑道", "area": "no"})]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways)))
    (track,) = extract.places
    assert track.category == "sports" and track.geometry is None
    # Halfway round the ring is the opposite corner.
    assert (track.lon, track.lat) == pytest.approx(lonlat(100, 100), abs=1e-6)


def test_site_relation_is_counted_not_placed(tmp_path: Path) -> None:
    nodes = [(1, 0, 0, {}), (2, 10, 0, {})]
    relations = [(900, [("node", 1, ""), ("node", 2, "")], {"type": "site", "amenity": "school"})]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, (), relations)))
    assert extract.places == []
    assert extract.stats["place_relations_not_areas"] == 1


def test_place_attributes(tmp_path: Path) -> None:
    tags = {
        "amenity": "library",
        "name": "Haidian Library",
        "name:zh": "海淀图书馆",
        "name:en": "Haidian Library",
        "addr:province": "北京市",
        "addr:city": "北京市",
        "addr:district": "海淀区",
        "addr:street": "成府路",
        "addr:housenumber": "43",
        "opening_hours": "Tu-Su 09:00-17:00",
        "wheelchair": "yes",
        "fee": "no",
    }
    nodes = [
        (1, 0, 0, tags),
        (2, 500, 0, {"amenity": "school", "addr:full": "北京市海淀区中关村大街1号", "fee": "yes"}),
        (3, 900, 0, {"amenity": "school", "wheelchair": "limited", "addr:housenumber": "5"}),
    ]
    places = by_key(read_osm(write_osm(tmp_path, osm_xml(nodes))))
    lib = places["node/1"]
    assert lib.name == "海淀图书馆"
    assert lib.name_en == "Haidian Library"
    assert lib.address == "北京市海淀区成府路43号"
    assert lib.opening_hours == "Tu-Su 09:00-17:00"
    assert (lib.wheelchair, lib.fee) == (True, False)
    assert lib.geometry is None and lib.area_m2 is None
    assert lib.category_reason == "标签 amenity=library；名称含“图书馆”→ 图书馆/阅读空间"
    assert lib.tags == tags
    assert places["node/2"].address == "北京市海淀区中关村大街1号"
    assert places["node/2"].fee is True
    assert places["node/3"].address is None  # a bare house number is no address
    assert places["node/3"].wheelchair is None


def test_residential_buildings(tmp_path: Path) -> None:
    nodes = [*square(1, 0, 0, 20), *square(10, 100, 0, 30), *square(20, 200, 0, 10)]
    ways = [
        (100, ring(1), {"building": "residential", "building:levels": "6", "name": "1号楼"}),
        (101, ring(10), {"building": "apartments", "building:levels": "六层"}),
        (102, ring(20), {"building": "yes"}),
    ]
    extract = read_osm(write_osm(tmp_path, osm_xml(nodes, ways)))
    buildings = {b.osm_id: b for b in extract.buildings}
    assert set(buildings) == {100, 101}
    assert buildings[100].levels == 6 and buildings[100].building == "residential"
    assert buildings[100].area_m2 == pytest.approx(400, rel=0.01)
    assert not buildings[100].is_landuse
    assert buildings[101].levels is None
    assert (buildings[100].lon, buildings[100].lat) == pytest.approx(lonlat(10, 10), abs=1e-6)
    assert [f.kind for f in extract.basemap] == ["building"] * 3


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.osm"
    with pytest.raises(FileNotFoundError, match="nowhere.osm"):
        read_osm(missing)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.osm", b"this is not xml"),
        ("empty.osm", b""),
        ("truncated.osm", b'<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="40" '),
        ("garbage.osm.pbf", b"\x00\x00\x00\x0dnot a pbf at all"),
        ("mystery.dat", b"\x89PNG\r\n\x1a\n"),
    ],
)
def test_unreadable_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(OsmReadError, match=name.replace(".", r"\.")) as info:
        read_osm(path)
    assert isinstance(info.value, ValueError)


def test_unsorted_file_says_how_to_fix_it(tmp_path: Path) -> None:
    xml = osm_xml([(1, 0, 0, {}), (2, 100, 0, {})])
    xml = xml.replace(
        "</osm>",
        '<way id="9"><nd ref="1"/><nd ref="2"/></way>'
        '<way id="5"><nd ref="1"/><nd ref="2"/></way></osm>',
    )
    with pytest.raises(OsmReadError, match="osmium sort"):
        read_osm(write_osm(tmp_path, xml))


def test_unknown_suffix_is_sniffed(tmp_path: Path) -> None:
    xml = osm_xml([(1, 0, 0, {"amenity": "kindergarten", "name": "小太阳幼儿园"})])
    extract = read_osm(write_osm(tmp_path, xml, name="export.xml"))
    assert [p.category for p in extract.places] == ["kindergarten"]


# ---------------------------------------------------------------------------------------------
# The real sample


@pytest.fixture(scope="module")
def sample(sample_osm_path: Path) -> OsmExtract:
    return read_osm(sample_osm_path)


# Checked by hand against a plain tag count (see test_category_counts_match_plain_tag_counts
# and the listing in the report): 12 leisure=park + 3 leisure=garden ways, of which 6 are
# under 10,000 m²; 8 amenity=school minus the 幼儿园 and the merged 清华附中 node plus the
# building=school 清华附中国际部; 3 amenity=library minus one merged node; …
SAMPLE_COUNTS = {
    "park": 9,
    "playground": 1,
    "pocket_park": 6,
    "children_home": 0,
    "library": 2,
    "museum": 1,
    "school": 7,
    "kindergarten": 2,
    "childcare": 0,
    "hospital": 2,
    "nursing_room": 0,
    "sports": 16,
    "study_base": 1,
    "protection_station": 0,
    "other": 0,
}


def test_sample_counts(sample: OsmExtract) -> None:
    stats = sample.stats
    assert (stats["nodes"], stats["ways"], stats["relations"]) == (7450, 1360, 189)
    assert stats["places_by_category"] == SAMPLE_COUNTS
    assert stats["places"] == len(sample.places) == sum(SAMPLE_COUNTS.values()) == 47
    assert Counter(p.category for p in sample.places) == +Counter(SAMPLE_COUNTS)
    assert stats["duplicates_merged"] == 2
    assert stats["way_nodes_missing"] == 0
    assert stats["areas_invalid"] == 0
    assert sample.newest_timestamp == datetime(2017, 6, 24, 10, 40, 54, tzinfo=UTC)
    assert sample.declared_bounds == (116.3084, 39.9905, 116.332, 40.0123)
    assert sample.bounds == pytest.approx((116.26425, 39.91428, 116.36738, 40.02236), abs=1e-5)


def test_category_counts_match_plain_tag_counts(sample_osm_path: Path, sample: OsmExtract) -> None:
    raw: Counter[tuple[str, str, str]] = Counter()
    for obj in osmium.FileProcessor(str(sample_osm_path)):
        for key in ("amenity", "leisure"):
            if key in obj.tags:
                raw[(obj.type_str(), key, obj.tags[key])] += 1
    counts = sample.stats["places_by_category"]
    parks = raw[("w", "leisure", "park")] + raw[("w", "leisure", "garden")]
    assert parks == 15 == counts["park"] + counts["pocket_park"]
    schools = raw[("n", "amenity", "school")] + raw[("w", "amenity", "school")]
    # − 洁华幼儿园 (kindergarten by name) − 清华附中 node (merged) + 清华附中国际部 (by name)
    assert schools == 8 and counts["school"] == schools - 1 - 1 + 1
    assert raw[("w", "amenity", "kindergarten")] + 1 == counts["kindergarten"]
    assert raw[("n", "amenity", "library")] + raw[("w", "amenity", "library")] - 1 == 2
    assert raw[("w", "amenity", "hospital")] == counts["hospital"]
    # 2 leisure=playground, one of which is a 棒球场 (sports ground) by name.
    assert raw[("w", "leisure", "playground")] - 1 == counts["playground"]
    assert raw[("w", "amenity", "university")] + raw[("n", "amenity", "college")] == 3


def test_sample_kindergartens(sample: OsmExtract) -> None:
    places = by_key(sample)
    jiehua = places["node/4107402561"]
    assert jiehua.name == "清华大学洁华幼儿园"
    assert jiehua.tags["amenity"] == "school"
    assert jiehua.category == "kindergarten"
    assert jiehua.category_reason == "标签 amenity=school；名称含“幼儿园”→ 幼儿园"
    assert jiehua.geometry is None

    attached = places["way/226628792"]
    assert attached.name == "清华大学附属幼儿园"
    assert attached.category == "kindergarten"
    assert attached.geometry is not None and attached.geometry["type"] == "Polygon"
    polygon = shape(attached.geometry)
    assert polygon.is_valid
    assert polygon.contains(Point(attached.lon, attached.lat))
    assert attached.area_m2 is not None
    # Cross-check the geodesic area against a UTM zone 50N projection.
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    xs, ys = to_utm.transform(*np.asarray(polygon.exterior.coords).T)
    planar = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))
    assert attached.area_m2 == pytest.approx(planar, rel=2e-3)
    assert attached.area_m2 == pytest.approx(18_806, abs=1)
    assert attached.version == 2


def test_sample_merges_and_misleading_features(sample: OsmExtract) -> None:
    places = by_key(sample)
    assert places["way/412298166"].merged_ids == ["node/1362305692"]  # 清华附中 node
    library = places["way/80319114"]
    assert library.merged_ids == ["node/4481615171"]
    assert library.name == "图书馆"  # the area had no name; the node's fills it in
    assert "node/1362305692" not in places and "node/4481615171" not in places
    # The node 中关村中学 lies inside 中关村中学分校 but is the main school: not merged.
    assert places["node/1747551900"].category == "school"
    names = {p.name for p in places.values()}
    # Universities, the college and stations named after places are not places.
    assert not names & {
        "清华大学",
        "北京大学",
        "清华大学五道口金融学院",
        "国家图书馆",
        "清华附中食堂",
    }
    assert places["way/226936619"].category == "sports"  # 棒球场 tagged leisure=playground
    assert places["way/451335313"].category == "museum"  # building named 艺术博物馆


def test_sample_network(sample_osm_path: Path, sample: OsmExtract) -> None:
    net = sample.network
    assert (net.n_nodes, net.n_edges) == (2123, 2532)
    assert sample.stats["walkable_ways"] == 637
    # Independent count: every highway way except platforms, motorways and the one access=no
    # footway, one edge per consecutive node pair.
    excluded: set[int] = set()
    edges = 0
    nodes: set[int] = set()
    haversine_total = 0.0
    for way in osmium.FileProcessor(str(sample_osm_path)).with_locations():
        if not way.is_way() or "highway" not in way.tags:
            continue
        highway = way.tags["highway"]
        if highway in ("platform", "motorway") or way.tags.get("access") == "no":
            excluded.add(way.id)
            continue
        refs = [n.ref for n in way.nodes]
        edges += sum(a != b for a, b in zip(refs[:-1], refs[1:], strict=True))
        nodes.update(refs)
        haversine_total += osmium.geom.haversine_distance(way.nodes)
    assert len(excluded) == 47
    assert (len(nodes), edges) == (net.n_nodes, net.n_edges)
    assert not set(net.edge_way_id.tolist()) & excluded
    assert not set(net.edge_highway.tolist()) & {"motorway", "motorway_link", "platform"}
    # Geodesic (ellipsoid) vs osmium's haversine (sphere): within 0.5 % over 124 km.
    assert net.edge_length_m.sum() == pytest.approx(124_335, abs=1)
    assert net.edge_length_m.sum() == pytest.approx(haversine_total, rel=5e-3)
    # Per edge, against planar UTM distances.
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    x, y = to_utm.transform(net.lon, net.lat)
    planar = np.hypot(x[net.edge_u] - x[net.edge_v], y[net.edge_u] - y[net.edge_v])
    assert np.allclose(net.edge_length_m, planar, rtol=2e-3, atol=1e-6)
    assert net.node_traffic_signals.sum() > 0 and net.node_crossing.sum() > 0


def test_sample_basemap_and_buildings(sample: OsmExtract) -> None:
    kinds = Counter(f.kind for f in sample.basemap)
    assert kinds == {"road": 684, "building": 521, "park": 45, "water": 10}
    for feature in sample.basemap:
        assert feature.geometry["type"] in ("LineString", "Polygon", "MultiPolygon")
        assert (feature.highway is not None) == (feature.kind == "road")
    first = sample.basemap[0].geometry["coordinates"][0]
    assert all(round(c, 6) == c for c in first)
    residential = [b for b in sample.buildings if not b.is_landuse]
    landuse = [b for b in sample.buildings if b.is_landuse]
    # 117 residential + 6 apartments + 24 dormitory buildings; 6 landuse=residential areas.
    assert len(residential) == 147 and len(landuse) == 6
    assert Counter(b.building for b in residential) == {
        "residential": 117,
        "dormitory": 24,
        "apartments": 6,
    }
    assert all(b.area_m2 > 0 for b in sample.buildings)


def test_osm_and_pbf_give_identical_results(sample: OsmExtract, sample_pbf_path: Path) -> None:
    pbf = read_osm(sample_pbf_path)
    assert pbf.places == sample.places
    assert pbf.basemap == sample.basemap
    assert pbf.buildings == sample.buildings
    assert pbf.stats == sample.stats
    assert pbf.bounds == sample.bounds
    assert pbf.newest_timestamp == sample.newest_timestamp
    for f in dataclasses.fields(sample.network):
        a, b = getattr(sample.network, f.name), getattr(pbf.network, f.name)
        if isinstance(a, list):
            assert a == b, f.name
        else:
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f.name
    # Only the header differs: the XML export declares its bounding box, the PBF does not.
    assert pbf.declared_bounds is None


def test_sample_reports_progress(sample_osm_path: Path) -> None:
    # Speed is measured in bench/, never by a timed test.
    calls: list[tuple[str, int, int | None]] = []
    read_osm(
        sample_osm_path, progress=lambda stage, done, total: calls.append((stage, done, total))
    )
    stages = [c[0] for c in calls]
    assert stages[-3:] == ["read", "places", "network"]
    assert calls[-3] == ("read", 8999, 8999)
    assert ("read", 5000, None) in calls
    assert len(calls) <= 10
