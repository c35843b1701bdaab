"""A reader of the seed (/shared/seed/000_*.txt: the national list converted from a PDF table)
for the tests: areas, measures and items with their full text, so the data files can be
checked against the list itself.

The table's cells are split at page breaks and its rows are not always in order (the heading
of policy area 五 sits before measure 四(二)), so the reader does not trust the table's columns.
It walks the paragraphs in order: a measure marker "(一)" that does not follow on from the last
one starts a new policy area; items numbered from "1." go to the earliest measure that has none
yet (area 一 lists its measures (一)(二) before their items); a paragraph right after a measure
marker that is not numbered is that measure's single item; any other paragraph continues the
item before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

NUMERALS = "一二三四五六七八九十"
_MEASURE = re.compile(r"^[(（]([一二三四五六七八九十])[)）]\s*(.*)$")
_ITEM = re.compile(r"^(\d{1,2})\.\s*(.*)$")


@dataclass
class SeedItem:
    code: str
    text: str


@dataclass
class SeedMeasure:
    code: str
    title: str
    items: list[SeedItem] = field(default_factory=list)


@dataclass
class SeedArea:
    number: int
    measures: list[SeedMeasure] = field(default_factory=list)


def seed_dir() -> Path | None:
    d = Path(__file__).resolve().parents[3].parent / "shared" / "seed"
    return d if any(d.glob("000_*.txt")) else None


def seed_text(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.glob("000_*.txt")))


def _chunks(raw: str) -> list[str]:
    raw = re.sub(r"</?p>", "\n", raw).replace("\t", "\n")
    return [c.strip() for c in raw.split("\n") if c.strip()]


def parse(raw: str) -> list[SeedArea]:
    start = raw.find("具体内容")  # the table's header row ends there
    chunks = _chunks(raw[start + len("具体内容") :])
    areas: list[SeedArea] = []
    pending: list[SeedMeasure] = []  # measures whose items have not started yet
    current: SeedMeasure | None = None
    item: SeedItem | None = None
    last_was_measure = False
    for chunk in chunks:
        if chunk in NUMERALS[:7] or chunk == "—":
            continue  # the area's number cell
        m = _MEASURE.match(chunk)
        if m:
            n = NUMERALS.index(m.group(1)) + 1
            last = areas[-1].measures[-1] if areas and areas[-1].measures else None
            if last is None or n != NUMERALS.index(last.code[-2]) + 2:
                areas.append(SeedArea(number=len(areas) + 1))
            area = areas[-1]
            measure = SeedMeasure(
                code=f"{NUMERALS[area.number - 1]}({m.group(1)})", title=m.group(2)
            )
            area.measures.append(measure)
            pending.append(measure)
            last_was_measure = True
            continue
        i = _ITEM.match(chunk)
        if i:
            n = int(i.group(1))
            if n == 1:
                current = pending.pop(0)
            assert current is not None and n == len(current.items) + 1, chunk[:30]
            item = SeedItem(code=f"{current.code}{n}", text=i.group(2))
            current.items.append(item)
            last_was_measure = False
            continue
        if last_was_measure and pending and pending[-1] is (areas[-1].measures[-1]):
            # An un-numbered single item right after its measure's heading.
            current = pending.pop()
            item = SeedItem(code=f"{current.code}1", text=chunk)
            current.items.append(item)
        elif item is not None:
            item.text += chunk  # a cell continued after a page break
        last_was_measure = False
    return areas
