"""Fixtures for the map's tests: the sample extract imported once per test that needs it."""

import pytest

from yimi.core.tests.factories import make_city


@pytest.fixture
def imported(db, sample_osm_path):
    """The demo city's areas and the real sample extract, imported."""
    from yimi.core.demo import build_city
    from yimi.places.osm_import import osm_import

    areas = build_city(lambda s: None)
    run = osm_import(actor=None, path=sample_osm_path)
    return {"areas": areas, "run": run}


@pytest.fixture
def city(db):
    return make_city()
