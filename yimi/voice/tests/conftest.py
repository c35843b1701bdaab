"""Voice tests: a clean rate-limit cache for each test, and small synthetic pictures."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from PIL import Image


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def png_bytes(size: tuple[int, int] = (40, 30), color=(200, 80, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A small JPEG carrying EXIF with a GPS position (天安门), a camera model and a comment."""
    img = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "KidPhone 9"  # Model
    exif[0x0131] = "secret-app"  # Software
    gps = {
        1: "N",
        2: (39.0, 54.0, 26.0),
        3: "E",
        4: (116.0, 23.0, 29.0),
    }
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes(), comment=b"home address")
    return out.getvalue()
