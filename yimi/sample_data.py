"""The sample data set Yimi ships with: where it comes from and how it is checked.

Plain library, no Django: the data cache is a folder; a file is downloaded once from its stable
address and verified by sha256, unless a file of that name and sha256 is already there (that is
how tests, CI and offline machines pre-seed it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataFile:
    name: str
    url: str
    sha256: str
    size: int
    licence: str


SAMPLE_OSM = DataFile(
    name="beijing-haidian-wudaokou.osm",
    url=(
        "https://raw.githubusercontent.com/FreemanDane/PathPlanning/"
        "e95e8b7c4218c6467090d5c4c8759c42215511c3/data/map.osm"
    ),
    sha256="bc3a079f1d5585f2e51c247d73db453c7be87db9c57a229ede249e75e4fbab7d",
    size=2_370_320,
    licence="© OpenStreetMap contributors, ODbL 1.0",
)


class DataFileError(Exception):
    """A data file could not be fetched or failed its checksum."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(datafile: DataFile, cache_dir: Path, *, progress=None) -> Path:
    """Return the path of ``datafile`` in ``cache_dir``, downloading it when missing.

    A cached file whose sha256 does not match is downloaded again; a download whose sha256
    does not match is refused and not kept.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / datafile.name
    if target.exists() and sha256_of(target) == datafile.sha256:
        return target
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=".download-")
    os.close(fd)
    tmp = Path(tmp_name)
    if not datafile.url.startswith("https://"):
        raise DataFileError(f"{datafile.name}: only https downloads are allowed ({datafile.url})")
    try:
        try:
            # https only (checked above), so S310's file:// concern does not apply.
            resp_cm = urllib.request.urlopen(datafile.url, timeout=60)  # noqa: S310
            with resp_cm as resp, open(tmp, "wb") as out:
                total = int(resp.headers.get("Content-Length") or datafile.size)
                done = 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except OSError as exc:
            raise DataFileError(
                f"could not download {datafile.name} from {datafile.url}: {exc}. "
                f"Offline? Copy the file into {cache_dir} (its sha256 must be {datafile.sha256})."
            ) from exc
        got = sha256_of(tmp)
        if got != datafile.sha256:
            raise DataFileError(
                f"{datafile.name}: sha256 {got} does not match the expected {datafile.sha256}"
            )
        shutil.move(tmp, target)
        return target
    finally:
        tmp.unlink(missing_ok=True)


def shared_sample_dir() -> Path | None:
    """The repository's neighbouring ``shared/data/osm`` folder, where tests pre-seed from."""
    env = os.environ.get("YIMI_SAMPLE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm")
    for c in candidates:
        if (c / SAMPLE_OSM.name).exists():
            return c
    return None


def preseed(cache_dir: Path, datafile: DataFile = SAMPLE_OSM) -> Path | None:
    """Copy ``datafile`` from the shared sample folder into ``cache_dir`` when it is there."""
    src_dir = shared_sample_dir()
    if src_dir is None:
        return None
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / datafile.name
    if not (target.exists() and sha256_of(target) == datafile.sha256):
        shutil.copyfile(src_dir / datafile.name, target)
    return target
