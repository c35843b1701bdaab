"""Checks for a child's drawing or photo: a real JPEG, PNG or WebP by its content, within size
and pixel limits, re-encoded from its pixels so that no metadata (EXIF, GPS, comments) survives."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

MAX_BYTES = 8 * 1024 * 1024
# 40 megapixels: far more than any phone photo, far less than a decompression bomb.
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ImageRejected(ValueError):
    """The upload is refused; the message is shown to the child as it is."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str


def _open(data: bytes) -> Image.Image:
    # Image.open reads only the header, so the pixel count is known before anything is decoded.
    # Our own limit is checked here rather than by changing Pillow's global MAX_IMAGE_PIXELS
    # (which other threads share); Pillow still raises DecompressionBombError far above it.
    img = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    if img.width * img.height > MAX_PIXELS:
        raise Image.DecompressionBombError(f"{img.width}×{img.height} pixels")
    return img


def clean_image(data: bytes) -> CleanImage:
    """Check ``data`` and return the pixels re-encoded, without any metadata.

    Raises :class:`ImageRejected` with a message in simple words when it is not acceptable.
    """
    if len(data) > MAX_BYTES:
        raise ImageRejected(_("The picture is too big. Please use one under 8 MB."))
    if not data:
        raise ImageRejected(_("The picture is empty."))
    try:
        probe = _open(data)
        fmt = probe.format
        probe.verify()
        # verify() leaves the image unusable: open again to read the pixels.
        img = _open(data)
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected(
            _("The picture is too large to open. Please use a smaller one.")
        ) from exc
    except Exception as exc:  # noqa: BLE001 — anything Pillow cannot read is not an image
        raise ImageRejected(
            _("This file is not a picture we can take. Please use a JPEG, PNG or WebP picture.")
        ) from exc
    if fmt not in ALLOWED_FORMATS:
        raise ImageRejected(
            _("This file is not a picture we can take. Please use a JPEG, PNG or WebP picture.")
        )
    # Turn the picture upright as the camera meant it, then drop the orientation tag with the rest.
    img = ImageOps.exif_transpose(img)
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels = img.convert("RGB")
        clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        clean.save(out, format="JPEG", quality=88)
    else:
        mode = "RGBA" if img.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        pixels = img.convert(mode)
        clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        clean.save(out, format=fmt)
    return CleanImage(out.getvalue(), ALLOWED_FORMATS[fmt])
