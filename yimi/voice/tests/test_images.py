"""Uploads: real pictures only (by content), size and pixel limits, metadata re-encoded away."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.utils import translation
from PIL import Image

from yimi.voice import images
from yimi.voice.images import ImageRejected, clean_image

from .conftest import jpeg_with_gps, png_bytes


@pytest.fixture(autouse=True)
def _english():
    # Messages are matched in English here; the Chinese wording is checked in test_api.
    with translation.override("en"):
        yield


def test_a_png_is_kept_as_png():
    out = clean_image(png_bytes())
    assert out.content_type == "image/png"
    assert Image.open(io.BytesIO(out.data)).size == (40, 30)


def test_a_text_file_named_like_a_picture_is_refused():
    with pytest.raises(ImageRejected, match="JPEG, PNG or WebP"):
        clean_image(b"<?php echo 'hi'; ?>" + b"\x00" * 100)


def test_a_truncated_picture_is_refused():
    data = png_bytes((200, 200))
    with pytest.raises(ImageRejected):
        clean_image(data[: len(data) // 2])


def test_other_image_formats_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(ImageRejected):
        clean_image(out.getvalue())


def test_a_html_file_with_a_png_signature_only_is_refused():
    with pytest.raises(ImageRejected):
        clean_image(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>")


def test_oversized_file_is_refused():
    with pytest.raises(ImageRejected, match="8 MB"):
        clean_image(b"\xff" * (images.MAX_BYTES + 1))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size: what a decompression bomb looks like to Image.open."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [7_000, 50_000])
def test_decompression_bombs_are_refused_before_decoding(side):
    bomb = _png_header_only(side, side)
    assert len(bomb) < 1000
    with pytest.raises(ImageRejected, match="too large to open"):
        clean_image(bomb)


def test_exif_and_gps_are_stripped_from_a_jpeg():
    data = jpeg_with_gps()
    before = Image.open(io.BytesIO(data))
    assert before.getexif().get_ifd(0x8825), "the test picture must carry GPS to begin with"
    out = clean_image(data)
    assert out.content_type == "image/jpeg"
    after = Image.open(io.BytesIO(out.data))
    assert not after.getexif()
    assert "exif" not in after.info and "comment" not in after.info
    assert b"KidPhone" not in out.data and b"home address" not in out.data
    assert after.size == (64, 48)


def test_png_text_chunks_are_stripped():
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "王小明 四年级二班")
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 128)).save(buf, format="PNG", pnginfo=meta)
    out = clean_image(buf.getvalue())
    assert "王小明".encode() not in out.data and b"Author" not in out.data
    assert Image.open(io.BytesIO(out.data)).mode == "RGBA"


def test_webp_is_accepted():
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (9, 9, 9)).save(buf, format="WEBP")
    assert clean_image(buf.getvalue()).content_type == "image/webp"
