"""Fixtures for the access tests: the real sample extract imported, demo population totals."""

import pytest

from yimi.core.roles import Role
from yimi.core.tests.factories import make_user

# Children per age group (0-3, 3-6, 6-12, 12-15) of the two demo communities (yimi.access.demo).
POPULATION = {
    "110108900001": (180, 210, 420, 190),
    "110108900002": (150, 170, 360, 160),
}


@pytest.fixture
def areas(db):
    """The demo city's areas (no map data)."""
    from yimi.core.demo import build_city

    return build_city(lambda s: None)


@pytest.fixture
def imported(areas, sample_osm_path):
    """The demo city's areas and the real sample extract, imported."""
    from yimi.places.osm_import import osm_import

    run = osm_import(actor=None, path=sample_osm_path)
    return {"areas": areas, "run": run}


def set_population(population=POPULATION, year=2020, actor=None):
    from yimi.access.services import population_set

    return population_set(
        actor=actor,
        rows=[
            {"area": code, "age_group": g, "count": n, "year": year, "source": "测试"}
            for code, counts in population.items()
            for g, n in zip(("0-3", "3-6", "6-12", "12-15"), counts, strict=True)
        ],
    )


@pytest.fixture
def populated(imported):
    set_population()
    return imported


@pytest.fixture
def done_run(populated):
    """A finished analysis of every rule over the whole sample."""
    from yimi.access.services import run_create

    run = run_create(actor=None)
    assert run.status == "done", run.error
    return run


@pytest.fixture
def wcco(areas):
    return make_user(Role.WCCO, areas["110108"])


@pytest.fixture
def staff_client(client, wcco):
    client.force_login(wcco)
    return client
