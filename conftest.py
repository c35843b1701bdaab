"""Test set-up shared by every app: an isolated data directory with the sample data pre-seeded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from yimi.core.tests.browser_support import CHROMIUM


@pytest.fixture(scope="session")
def sample_osm_path() -> Path:
    """The real sample extract (Haidian, Beijing), pre-seeded into the data cache."""
    from yimi.sample_data import SAMPLE_OSM, fetch, preseed

    cache = Path(os.environ["YIMI_DATA_DIR"]) / "cache"
    preseed(cache)
    return fetch(SAMPLE_OSM, cache)


@pytest.fixture(scope="session")
def sample_pbf_path(sample_osm_path: Path) -> Path:
    from yimi.sample_data import shared_sample_dir

    d = shared_sample_dir()
    if d is None or not (d / "beijing-haidian-wudaokou.osm.pbf").exists():
        pytest.skip("the .osm.pbf sample is not beside the repository (../shared/data/osm)")
    return d / "beijing-haidian-wudaokou.osm.pbf"


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`), headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            # No background networking: this machine's closed network refuses those connections.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield b
        b.close()
