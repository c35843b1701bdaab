"""Facilities (supply) for life-circle analyses: places with a category, name, area and capacity."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from yimi.analysis.access._arrays import FloatArray, IntArray, float_vector
from yimi.analysis.access.rulepack import Rule
from yimi.analysis.categories import CATEGORY_CODES

__all__ = ["Facilities", "PlaceLike"]

# OSM tags read as supply attributes by Facilities.from_places (``capacity`` on a kindergarten
# or school is its number of places).
_SUPPLY_TAGS: dict[str, str] = {"seats": "capacity"}
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*$")


class PlaceLike(Protocol):
    """What :meth:`Facilities.from_places` reads (``OsmPlace`` and the places app's rows)."""

    lon: float
    lat: float
    category: str
    name: str | None
    area_m2: float | None


@dataclass(frozen=True)
class Facilities:
    """Facilities of any categories, as arrays.

    Attributes
    ----------
    lon, lat : ndarray of float64, shape (n,)
        WGS-84 positions (an area's representative point, or better its entrance).
    category : tuple of str
        Yimi category code of each facility.
    name : tuple of (str or None)
    area_m2 : ndarray of float64
        Mapped area; NaN when unknown (a point).
    supply : mapping of str to ndarray of float64
        Capacity attributes (e.g. ``seats``), NaN where unknown.
    ids : tuple
        An identifier per facility (``'node/123'``, a database key).
    generated : bool
        True for synthetic facilities.
    """

    lon: FloatArray
    lat: FloatArray
    category: tuple[str, ...]
    name: tuple[str | None, ...]
    area_m2: FloatArray
    supply: Mapping[str, FloatArray] = field(default_factory=dict)
    ids: tuple[Hashable, ...] = ()
    generated: bool = False

    def __post_init__(self) -> None:
        n = self.lon.shape[0]
        if self.lat.shape != (n,) or self.area_m2.shape != (n,):
            raise ValueError("lon, lat and area_m2 must have one entry per facility")
        if len(self.category) != n or len(self.name) != n:
            raise ValueError("category and name must have one entry per facility")
        if self.ids and len(self.ids) != n:
            raise ValueError("ids must have one entry per facility (or be empty)")
        for key, values in self.supply.items():
            if values.shape != (n,):
                raise ValueError(f"supply[{key!r}] must have one entry per facility")
        unknown = set(self.category) - set(CATEGORY_CODES)
        if unknown:
            raise ValueError(f"unknown category {sorted(unknown)[0]!r}")

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        category: Sequence[str],
        *,
        name: Sequence[str | None] | None = None,
        area_m2: ArrayLike | None = None,
        supply: Mapping[str, ArrayLike] | None = None,
        ids: Sequence[Hashable] | None = None,
        generated: bool = False,
    ) -> Facilities:
        """Build from plain arrays (missing names None, unknown areas NaN)."""
        x = float_vector(lon, "lon").copy()
        y = float_vector(lat, "lat").copy()
        n = x.shape[0]
        area = np.full(n, np.nan) if area_m2 is None else float_vector(area_m2, "area_m2").copy()
        return cls(
            lon=x,
            lat=y,
            category=tuple(category),
            name=tuple(name) if name is not None else (None,) * n,
            area_m2=area,
            supply={k: float_vector(v, f"supply[{k!r}]").copy() for k, v in (supply or {}).items()},
            ids=tuple(ids) if ids is not None else (),
            generated=generated,
        )

    @classmethod
    def from_places(
        cls, places: Sequence[PlaceLike], *, supply_tags: Mapping[str, str] | None = None
    ) -> Facilities:
        """Build from places (e.g. ``OsmExtract.places``).

        Parameters
        ----------
        places : sequence of PlaceLike
            Objects with ``lon``, ``lat``, ``category``, ``name`` and ``area_m2``; a ``tags``
            mapping and a ``key`` are used when present.
        supply_tags : mapping, optional
            Supply attribute → OSM tag holding it; default ``{'seats': 'capacity'}``.
        """
        tags_for = _SUPPLY_TAGS if supply_tags is None else dict(supply_tags)
        supply = {
            attr: np.array(
                [_tag_number(getattr(p, "tags", None), tag) for p in places], dtype=np.float64
            )
            for attr, tag in tags_for.items()
        }
        return cls.from_arrays(
            [p.lon for p in places],
            [p.lat for p in places],
            [p.category for p in places],
            name=[p.name for p in places],
            area_m2=[np.nan if p.area_m2 is None else p.area_m2 for p in places],
            supply=supply,
            ids=[getattr(p, "key", i) for i, p in enumerate(places)],
        )

    def select(self, rule: Rule) -> IntArray:
        """Indices of the facilities that count for ``rule`` (category, name and area filters)."""
        keep = [
            i
            for i in range(len(self))
            if rule.matches(
                self.category[i],
                self.name[i],
                None if np.isnan(self.area_m2[i]) else float(self.area_m2[i]),
            )
        ]
        return np.asarray(keep, dtype=np.int64)

    def supply_of(self, attribute: str) -> FloatArray:
        """Capacity per facility: ``'count'`` is 1 each, ``'area_m2'`` the mapped area, or a
        supply attribute (NaN where unknown or absent)."""
        if attribute == "count":
            return np.ones(len(self))
        if attribute == "area_m2":
            return self.area_m2.copy()
        values = self.supply.get(attribute)
        return np.full(len(self), np.nan) if values is None else values.copy()


def _tag_number(tags: Mapping[str, Any] | None, key: str) -> float:
    if not tags:
        return np.nan
    m = _NUMBER.match(str(tags.get(key, "")))
    return float(m.group(1)) if m else np.nan
