"""``yimi import-osm`` on the real sample: counts, idempotence, updates by OSM id, atomicity."""

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from yimi.core.models import AuditLog
from yimi.places.models import BasemapFeature, OsmImport, Place, WalkEdge, WalkNode
from yimi.places.osm_import import osm_import

pytestmark = pytest.mark.django_db


def _state():
    places = sorted(
        Place.objects.values_list(
            "osm_type", "osm_id", "name", "category", "lon", "lat", "osm_version", "verification"
        )
    )
    edges = sorted(WalkEdge.objects.values_list("u__osm_id", "v__osm_id", "length_m", "way_id"))
    nodes = sorted(WalkNode.objects.values_list("osm_id", "lon", "lat"))
    base = sorted(BasemapFeature.objects.values_list("kind", "osm_ref", "name"))
    return places, edges, nodes, base


def test_sample_import_counts(imported):
    run = imported["run"]
    c = run.counts
    assert run.status == OsmImport.Status.DONE
    assert c["places_created"] == Place.objects.count() > 30
    assert c["per_category"]["kindergarten"] == 2
    assert Place.objects.filter(category="kindergarten", name="清华大学洁华幼儿园").exists()
    assert c["network_edges"] == WalkEdge.objects.count() > 2000
    assert c["network_nodes"] == WalkNode.objects.count()
    # 147 residential buildings and 6 residential land-use areas (see SOURCE.md).
    from yimi.places.models import Building

    assert Building.objects.filter(is_landuse=False).count() == 147
    assert Building.objects.filter(is_landuse=True).count() == 6
    assert c["buildings_changed"] == 153
    # Every place has a point inside the extract's region and an area when inside the demo box.
    inside = Place.objects.filter(
        lon__gte=116.3084, lon__lte=116.3320, lat__gte=39.9905, lat__lte=40.0123
    )
    assert inside.exists() and not inside.filter(area__isnull=True).exists()


def test_areas_get_a_shape_and_a_point_inside_it(imported):
    from shapely.geometry import Point, shape

    kg = Place.objects.get(name="清华大学附属幼儿园")
    assert kg.geometry["type"] in ("Polygon", "MultiPolygon")
    assert shape(kg.geometry).contains(Point(kg.lon, kg.lat))


def test_reimporting_the_same_file_changes_nothing(imported, sample_osm_path):
    before = _state()
    n_audit = AuditLog.objects.count()
    run = osm_import(actor=None, path=sample_osm_path)
    assert run.status == OsmImport.Status.UNCHANGED
    assert run.counts["places_created"] == run.counts["places_updated"] == 0
    assert run.counts["network_ways_changed"] == 0 and run.counts["basemap_changed"] == 0
    assert _state() == before
    # Only the import itself is recorded.
    assert AuditLog.objects.count() == n_audit + 1


def _newer_copy(src: Path, dst: Path) -> Path:
    """The sample with one kindergarten renamed (version bumped) and one park deleted."""
    text = src.read_text(encoding="utf-8")
    m = re.search(
        r'<way id="(\d+)" visible="true" version="(\d+)"[^>]*>(?:(?!</way>).)*?'
        r"清华大学附属幼儿园",
        text,
        re.S,
    )
    assert m, "fixture: kindergarten way not found"
    way_start = m.start()
    head = text[way_start : m.end()]
    new_head = head.replace(f'version="{m.group(2)}"', f'version="{int(m.group(2)) + 1}"', 1)
    text = (
        text[:way_start]
        + new_head.replace("清华大学附属幼儿园", "清华大学附属幼儿园（新园区）")
        + text[m.end() :]
    )
    dst.write_text(text, encoding="utf-8")
    return dst


def test_a_newer_file_updates_by_osm_id(imported, sample_osm_path, tmp_path):
    kg = Place.objects.get(name="清华大学附属幼儿园")
    newer = _newer_copy(sample_osm_path, tmp_path / "newer.osm")
    run = osm_import(actor=None, path=newer)
    assert run.counts["places_updated"] == 1
    assert run.counts["places_created"] == 0
    kg2 = Place.objects.get(pk=kg.pk)
    assert kg2.name == "清华大学附属幼儿园（新园区）"
    assert kg2.osm_version == kg.osm_version + 1
    upd = AuditLog.objects.get(action="update", object_id=str(kg.pk))
    assert upd.before["name"] == "清华大学附属幼儿园"


def test_a_failed_import_leaves_the_database_as_it_was(imported, sample_osm_path, monkeypatch):
    from yimi.places import osm_import as mod

    before = _state()
    newer = sample_osm_path

    def boom(extract):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mod, "_store_basemap", boom)
    Place.objects.filter(osm_id__isnull=False).update(osm_version=0)  # force updates
    before = _state()
    with pytest.raises(RuntimeError):
        osm_import(actor=None, path=newer)
    assert _state() == before
    assert OsmImport.objects.latest("started_at").status == OsmImport.Status.FAILED


def test_a_broken_file_is_refused_with_its_name(db, tmp_path):
    from yimi.analysis.osm import OsmReadError

    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(OsmReadError, match="broken.osm"):
        osm_import(actor=None, path=bad)
    assert Place.objects.count() == 0


def test_cli_prints_counts_per_category(db, sample_osm_path, capsys):
    call_command("import_osm", str(sample_osm_path), "--no-progress")
    out = capsys.readouterr().out
    assert "幼儿园：2" in out or "Kindergarten: 2" in out


def test_pbf_gives_the_same_places(db, sample_osm_path, sample_pbf_path, tmp_path):
    osm_import(actor=None, path=sample_osm_path)
    a = _state()
    Place.objects.all().delete()
    WalkEdge.objects.all().delete()
    WalkNode.objects.all().delete()
    BasemapFeature.objects.all().delete()
    osm_import(actor=None, path=shutil.copy(sample_pbf_path, tmp_path / "s.osm.pbf"))
    b = _state()
    assert a[0] == b[0] and a[1] == b[1]
