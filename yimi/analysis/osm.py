"""Read an OSM extract (.osm or .osm.pbf) with pyosmium into plain data for Yimi's analyses.

One pass over the file (pyosmium reads relations once more to assemble areas) yields the
child-friendly places, the walking network, an offline basemap and the residential buildings.
"""

from __future__ import annotations

import errno
import math
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import osmium.geom
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.polygon import orient

from yimi.analysis.categories import (
    CATEGORY_CODES,
    Classification,
    classify,
    names_of,
    normalise_name,
)

__all__ = [
    "DUPLICATE_MAX_DISTANCE_M",
    "RESIDENTIAL_BUILDINGS",
    "WALKABLE_HIGHWAYS",
    "BasemapFeature",
    "OsmBuilding",
    "OsmExtract",
    "OsmPlace",
    "OsmReadError",
    "ProgressCallback",
    "WalkNetwork",
    "is_walkable",
    "names_similar",
    "read_osm",
]

ProgressCallback = Callable[[str, int, int | None], None]

# A node and an area of the same place farther apart than this are two places.
DUPLICATE_MAX_DISTANCE_M: float = 50.0
# Report progress this often (objects read).
PROGRESS_EVERY: int = 5_000

# Ways a pedestrian may use. In China pedestrians may use cycleways and, in practice, the rare
# bridleway, unless foot=no says otherwise; 'road' (unknown class) and 'crossing' are kept so
# half-finished mapping does not cut the network.
WALKABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "steps",
        "track",
        "cycleway",
        "corridor",
        "bridleway",
        "crossing",
        "road",
    }
)
# Expressways (快速路) are usually tagged trunk: walkable only where a sidewalk or foot access is
# mapped explicitly.
_TRUNK_HIGHWAYS = frozenset({"trunk", "trunk_link"})
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
_FOOT_FORBIDDEN = frozenset({"no", "private", "use_sidepath"})
_ACCESS_FORBIDDEN = frozenset({"no", "private"})
_SIDEWALK_YES = frozenset({"both", "left", "right", "yes", "separate"})
_SIDEWALK_NO = frozenset({"no", "none"})
_YES = frozenset({"yes", "true", "1"})

# Buildings people live in (for the population analysis); easy to extend.
RESIDENTIAL_BUILDINGS: frozenset[str] = frozenset(
    {"residential", "apartments", "house", "dormitory", "detached", "terrace"}
)

# Basemap polygon kinds.
_PARK_TAGS: dict[str, frozenset[str]] = {
    "leisure": frozenset({"park", "garden"}),
    "landuse": frozenset(
        {"grass", "forest", "park", "recreation_ground", "village_green", "meadow"}
    ),
    "natural": frozenset({"wood", "grassland"}),
}
_WATER_AREA_TAGS: dict[str, frozenset[str]] = {
    "natural": frozenset({"water"}),
    "waterway": frozenset({"riverbank", "dock"}),
    "landuse": frozenset({"reservoir", "basin"}),
}
_WATER_LINES = frozenset({"river", "stream", "canal"})

# Categories that are the same kind of place for duplicate detection (a node 公园 inside a
# small park area that became 口袋公园 is still the same park).
_MERGE_FAMILY: dict[str, str] = {"pocket_park": "park"}
# Name parts that distinguish a branch from the main institution: never merge across them.
_BRANCH_MARKERS: tuple[str, ...] = (
    "分校",
    "分园",
    "分院",
    "分馆",
    "分部",
    "校区",
    "院区",
    "园区",
    "国际部",
    "小学部",
    "初中部",
    "高中部",
)
_NAME_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)

_GEOD = Geod(ellps="WGS84")
_M_PER_DEG_LAT = 111_320.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLACE_DECIMALS = 7  # ≈ 1 cm; places feed analyses
_BASEMAP_DECIMALS = 6  # ≈ 0.1 m; enough for drawing


class OsmReadError(ValueError):
    """An OSM file exists but pyosmium cannot read it (the message names the file and why)."""


@dataclass
class OsmPlace:
    """A child-friendly place found in the extract.

    Attributes
    ----------
    osm_type : str
        ``'node'``, ``'way'`` or ``'relation'``.
    osm_id : int
        OSM id of that object.
    version : int
        OSM version (0 when the file carries no metadata).
    timestamp : datetime or None
        Time of the last edit (UTC, timezone-aware), None when the file has no metadata.
    name : str or None
        Chinese name: ``name:zh-Hans``, then ``name:zh``, then ``name``.
    name_en : str or None
        ``name:en``.
    category : str
        One of :data:`yimi.analysis.categories.CATEGORY_CODES`.
    category_reason : str
        Short Chinese explanation of the category.
    lon, lat : float
        WGS-84 position; for areas a representative point inside the shape.
    geometry : dict or None
        GeoJSON Polygon/MultiPolygon (WGS-84) for areas, None for points.
    area_m2 : float or None
        Geodesic area of the shape in m², None for points.
    tags : dict
        All OSM tags (plus tags merged in from a duplicate node).
    address : str or None
        Chinese address from ``addr:*`` (``addr:full`` when given).
    opening_hours : str or None
        Raw ``opening_hours``.
    wheelchair : bool or None
        ``wheelchair=yes/designated`` → True, ``no`` → False, otherwise None.
    fee : bool or None
        ``fee=yes`` → True, ``fee=no`` → False, otherwise None.
    merged_ids : list of str
        Other OSM objects mapping the same place, merged into this one (e.g. ``["node/123"]``).
    """

    osm_type: str
    osm_id: int
    version: int
    timestamp: datetime | None
    name: str | None
    name_en: str | None
    category: str
    category_reason: str
    lon: float
    lat: float
    geometry: dict[str, Any] | None
    area_m2: float | None
    tags: dict[str, str]
    address: str | None
    opening_hours: str | None
    wheelchair: bool | None
    fee: bool | None
    merged_ids: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``"node/123"``-style identifier."""
        return f"{self.osm_type}/{self.osm_id}"


@dataclass
class WalkNetwork:
    """The pedestrian network: one edge per consecutive node pair of each walkable way.

    Edges are undirected (pedestrians ignore ``oneway``) unless ``edge_oneway_foot`` is set,
    in which case only u → v may be walked.

    Attributes
    ----------
    node_osm_id : ndarray of int64
        OSM node ids, sorted ascending.
    lon, lat : ndarray of float64
        WGS-84 node positions.
    node_crossing : ndarray of bool
        Node is a pedestrian crossing (``highway=crossing`` or ``crossing=*``).
    node_traffic_signals : ndarray of bool
        Node has traffic signals (``highway=traffic_signals`` or ``crossing=traffic_signals``).
    edge_u, edge_v : ndarray of int64
        Indices into the node arrays.
    edge_length_m : ndarray of float64
        Geodesic length on the WGS-84 ellipsoid.
    edge_way_id : ndarray of int64
        OSM way the edge comes from.
    edge_highway : ndarray of str
        The way's ``highway`` value.
    edge_name : list of (str or None)
        The way's Chinese name.
    edge_sidewalk : list of (bool or None)
        Sidewalk present (``sidewalk=both/left/right/yes/separate``, ``footway=sidewalk``),
        absent (``sidewalk=no/none``) or unknown.
    edge_crossing : ndarray of bool
        The way is a crossing (``footway=crossing``, ``highway=crossing``, ``crossing=*``).
    edge_lit : list of (bool or None)
        ``lit=yes`` / ``lit=no`` / unknown.
    edge_maxspeed_kmh : ndarray of float64
        Parsed ``maxspeed`` (NaN when absent or unparsable).
    edge_oneway_foot : ndarray of bool
        ``oneway:foot=yes`` (or ``-1``, with u and v swapped): walkable from u to v only.
    edge_area : ndarray of bool
        The edge is on the outline of a pedestrian area (``area=yes``).
    """

    node_osm_id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    node_crossing: NDArray[np.bool_]
    node_traffic_signals: NDArray[np.bool_]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_way_id: NDArray[np.int64]
    edge_highway: NDArray[np.str_]
    edge_name: list[str | None]
    edge_sidewalk: list[bool | None]
    edge_crossing: NDArray[np.bool_]
    edge_lit: list[bool | None]
    edge_maxspeed_kmh: NDArray[np.float64]
    edge_oneway_foot: NDArray[np.bool_]
    edge_area: NDArray[np.bool_]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_osm_id.size)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_u.size)


@dataclass
class BasemapFeature:
    """One feature of the offline basemap.

    Attributes
    ----------
    kind : str
        ``'road'``, ``'park'``, ``'water'`` or ``'building'``.
    name : str or None
        Chinese name.
    geometry : dict
        GeoJSON geometry, WGS-84, coordinates rounded to 6 decimals.
    highway : str or None
        The ``highway`` value for roads, None otherwise.
    osm_ref : str
        The OSM object it was drawn from (``"way/123"``), so a newer file replaces it.
    """

    kind: str
    name: str | None
    geometry: dict[str, Any]
    highway: str | None = None
    osm_ref: str = ""


@dataclass
class OsmBuilding:
    """A residential building, or a residential land-use area, for the population analysis.

    Attributes
    ----------
    osm_type : str
        ``'way'`` or ``'relation'``.
    osm_id : int
        OSM id.
    building : str or None
        The ``building`` value; None for land-use areas.
    is_landuse : bool
        True for a ``landuse=residential`` area, False for a building.
    levels : int or None
        Parsed ``building:levels``; None when absent or not a plausible number.
    area_m2 : float
        Geodesic footprint area.
    lon, lat : float
        Centroid (WGS-84).
    name : str or None
        Chinese name.
    geometry : dict or None
        GeoJSON footprint (or land-use polygon), WGS-84, 6 decimals.
    """

    osm_type: str
    osm_id: int
    building: str | None
    is_landuse: bool
    levels: int | None
    area_m2: float
    lon: float
    lat: float
    name: str | None = None
    geometry: dict[str, Any] | None = None


@dataclass
class OsmExtract:
    """Everything Yimi takes from one OSM file.

    Attributes
    ----------
    places : list of OsmPlace
        Child-friendly places, duplicates merged; nodes, then ways, then relations, by id.
    network : WalkNetwork
        The pedestrian network.
    basemap : list of BasemapFeature
        Roads, parks, water and buildings for an offline map.
    buildings : list of OsmBuilding
        Residential buildings and residential land-use areas.
    bounds : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` of all node locations in the file.
    declared_bounds : tuple of float or None
        The bounding box the file header declares (OSM XML ``<bounds>``), None if absent.
    stats : dict
        Counts: objects read, places per category, duplicates merged, network size, …
    newest_timestamp : datetime or None
        Newest edit time of any object (how current the data is).
    """

    places: list[OsmPlace]
    network: WalkNetwork
    basemap: list[BasemapFeature]
    buildings: list[OsmBuilding]
    bounds: tuple[float, float, float, float]
    declared_bounds: tuple[float, float, float, float] | None
    stats: dict[str, Any]
    newest_timestamp: datetime | None


# ---------------------------------------------------------------------------------------------
# Tag helpers


def _display_name(tags: Mapping[str, str]) -> str | None:
    names = names_of(tags)
    return names[0] if names else None


def _yes_no(value: str | None, yes: Iterable[str], no: Iterable[str]) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in yes:
        return True
    if v in no:
        return False
    return None


def _address(tags: Mapping[str, str]) -> str | None:
    """Assemble a Chinese address (largest unit first, no separators)."""
    full = (tags.get("addr:full") or "").strip()
    if full:
        return full
    street = (tags.get("addr:street") or tags.get("addr:place") or "").strip()
    if not street:
        return None
    out = ""
    for key in ("addr:province", "addr:city", "addr:district", "addr:subdistrict"):
        part = (tags.get(key) or "").strip()
        # Mappers often repeat units (addr:city=北京市海淀区 and addr:district=海淀区).
        if part and part not in out:
            out += part
    out += street
    number = (tags.get("addr:housenumber") or "").strip()
    if number:
        # Chinese house numbers read 43号; mappers often type only the digits.
        if re.fullmatch(r"[0-9]+(?:[-–][0-9]+)?", number):
            number += "号"
        out += number
    return out


def _sidewalk(tags: Mapping[str, str]) -> bool | None:
    if tags.get("footway") == "sidewalk" or tags.get("path") == "sidewalk":
        return True
    value = tags.get("sidewalk")
    if value in _SIDEWALK_YES:
        return True
    sides = [tags.get(f"sidewalk:{s}") for s in ("both", "left", "right")]
    if any(s in _SIDEWALK_YES for s in sides):
        return True
    if value in _SIDEWALK_NO or (
        any(s is not None for s in sides) and all(s in _SIDEWALK_NO for s in sides if s)
    ):
        return False
    return None


def _has_sidewalk_to_walk_on(tags: Mapping[str, str]) -> bool:
    """A sidewalk on the road itself ('separate' means a separate way carries pedestrians)."""
    on_road = _SIDEWALK_YES - {"separate"}
    return tags.get("sidewalk") in on_road or any(
        tags.get(f"sidewalk:{s}") in on_road for s in ("both", "left", "right")
    )


def _maxspeed_kmh(value: str | None) -> float:
    if not value:
        return math.nan
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(km/h|kmh|kph|mph)?\s*", value)
    if not m:
        return math.nan
    speed = float(m.group(1))
    return speed * 1.609344 if m.group(2) == "mph" else speed


def _levels(value: str | None) -> int | None:
    """Parse ``building:levels``; garbage, zero and implausible values become None."""
    if not value:
        return None
    m = re.fullmatch(r"\s*([0-9]{1,3})(?:\.[0-9]+)?\s*", value)
    if not m:
        return None
    levels = int(m.group(1))
    return levels if 0 < levels <= 200 else None


def is_walkable(tags: Mapping[str, str]) -> bool:
    """Whether a pedestrian may use a way with these tags.

    Parameters
    ----------
    tags : Mapping[str, str]
        The way's tags.

    Returns
    -------
    bool
        True for :data:`WALKABLE_HIGHWAYS` (trunk roads only with ``foot=yes/designated/
        permissive`` or a sidewalk), unless ``foot=no/private/use_sidepath`` or
        ``access=no/private`` without explicit foot access. Motorways, platforms,
        construction and the like never are.
    """
    highway = tags.get("highway")
    if highway is None:
        return False
    foot = tags.get("foot")
    if foot in _FOOT_FORBIDDEN:
        return False
    foot_ok = foot in _FOOT_ALLOWED
    if tags.get("access") in _ACCESS_FORBIDDEN and not foot_ok:
        return False
    if highway in WALKABLE_HIGHWAYS:
        return True
    if highway in _TRUNK_HIGHWAYS:
        return foot_ok or _has_sidewalk_to_walk_on(tags)
    return False


# ---------------------------------------------------------------------------------------------
# Geometry helpers


def _round_coords(obj: Any, decimals: int) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(c), decimals) for c in obj]
        return [_round_coords(o, decimals) for o in obj]
    return obj


def _geojson(geom: shapely.Geometry, decimals: int) -> dict[str, Any]:
    mapping = shapely.geometry.mapping(geom)
    return {"type": mapping["type"], "coordinates": _round_coords(mapping["coordinates"], decimals)}


def _geodesic_area(geom: Polygon | MultiPolygon) -> float:
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    # orient(..., 1.0): exterior counter-clockwise, holes clockwise, so areas come out positive
    # with the holes subtracted.
    return float(sum(_GEOD.geometry_area_perimeter(orient(p, 1.0))[0] for p in polys))


def _simplify_multi(geom: shapely.Geometry) -> shapely.Geometry:
    """A one-part MultiPolygon reads better as a Polygon."""
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def _metric_distance(point: Point, geom: shapely.Geometry) -> float:
    """Distance in metres, in an equirectangular projection centred on ``point``.

    Good to well under 1 % at the 50 m scale this is used for.
    """
    kx = _M_PER_DEG_LAT * math.cos(math.radians(point.y))

    def to_m(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return (xy - [point.x, point.y]) * [kx, _M_PER_DEG_LAT]

    return float(shapely.distance(Point(0.0, 0.0), shapely.transform(geom, to_m)))


def _midpoint(coords: list[tuple[float, float]]) -> Point:
    """The point halfway along a line, measured in metres rather than degrees."""
    if len(coords) == 1:
        return Point(coords[0])
    # Scale longitude by cos(latitude) so both axes are in comparable units.
    kx = math.cos(math.radians(coords[0][1]))
    line = LineString([(x * kx, y) for x, y in coords])
    mid = line.interpolate(0.5, normalized=True)
    return Point(mid.x / kx, mid.y)


# ---------------------------------------------------------------------------------------------
# Duplicate detection


def _comparable(name: str) -> str:
    return _NAME_NOISE.sub("", normalise_name(name))


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def names_similar(a: str, b: str) -> bool:
    """Whether two names plausibly name the same place.

    Parameters
    ----------
    a, b : str
        Raw names.

    Returns
    -------
    bool
        Equal after normalisation (NFKC, case, spaces and punctuation), or one contains the
        other, or the shorter is a Chinese abbreviation of the longer (its characters appear in
        order and it starts alike: 清华附中 ~ 清华大学附属中学) — unless the longer one has a
        branch marker (分校, 校区, 国际部 …) the shorter lacks.
    """
    na, nb = _comparable(a), _comparable(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    short, long = sorted((na, nb), key=len)
    if len(short) < 2:
        return False
    if any(m in long and m not in short for m in _BRANCH_MARKERS):
        return False
    if short in long:
        return True
    return short[0] == long[0] and _is_subsequence(short, long)


def _any_names_similar(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return any(names_similar(x, y) for x in names_of(a) for y in names_of(b))


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class _RawWay:
    osm_id: int
    version: int
    timestamp: datetime | None
    tags: dict[str, str]
    refs: list[int]
    coords: list[tuple[float, float]]


def _timestamp(obj: osmium.osm.OSMObject[Any]) -> datetime | None:
    ts = obj.timestamp
    # Files without metadata report the epoch.
    if ts is None or ts <= _EPOCH:
        return None
    return ts


def _osmium_file(path: Path) -> str | osmium.io.File:
    """Let osmium pick the format from the suffix; sniff the content when it cannot."""
    name = path.name.lower()
    known = (".osm", ".pbf", ".osm.bz2", ".osm.gz", ".o5m", ".opl", ".osc", ".osc.gz", ".osh")
    if name.endswith(known):
        return str(path)
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        fmt = "osm"
    elif head.startswith(b"BZh"):
        fmt = "osm.bz2"
    elif head.startswith(b"\x1f\x8b"):
        fmt = "osm.gz"
    elif b"OSMHeader" in head:
        fmt = "pbf"
    else:
        raise OsmReadError(f"cannot read OSM file {path}: not an OSM XML or PBF file")
    return osmium.io.File(str(path), fmt)


class _Collector:
    """Gathers what Yimi needs while pyosmium streams the file."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.counts: Counter[str] = Counter()
        self.newest: datetime | None = None
        self.node_lon = array("d")
        self.node_lat = array("d")
        self.crossing_nodes: set[int] = set()
        self.signal_nodes: set[int] = set()
        self.node_places: list[OsmPlace] = []
        self.area_places: list[OsmPlace] = []
        self.poi_ways: dict[int, _RawWay] = {}
        self.ways_with_area: set[int] = set()
        self.poi_relations: set[int] = set()
        self.relations_with_area: set[int] = set()
        self.walk_ways: list[_RawWay] = []
        self.basemap_lines: list[BasemapFeature] = []
        self.basemap_polygons: list[tuple[int, int, BasemapFeature]] = []
        self.buildings: list[OsmBuilding] = []
        self.wkb = osmium.geom.WKBFactory()
        self.read = 0

    # -- per object --------------------------------------------------------------------------

    def add(self, obj: osmium.osm.OSMObject[Any]) -> None:
        kind = obj.type_str()
        if kind != "a":
            self.read += 1
            ts = _timestamp(obj)
            if ts is not None and (self.newest is None or ts > self.newest):
                self.newest = ts
            if self.progress is not None and self.read % PROGRESS_EVERY == 0:
                self.progress("read", self.read, None)
        if kind == "n":
            self._node(obj)
        elif kind == "w":
            self._way(obj)
        elif kind == "r":
            self._relation(obj)
        else:
            self._area(obj)

    def _node(self, node: osmium.osm.Node) -> None:
        self.counts["nodes"] += 1
        loc = node.location
        if not loc.valid():
            return
        lon, lat = loc.lon, loc.lat
        self.node_lon.append(lon)
        self.node_lat.append(lat)
        if not node.tags:
            return
        tags = dict(node.tags)
        highway = tags.get("highway")
        crossing = tags.get("crossing")
        if highway == "crossing" or (crossing and crossing != "no"):
            self.crossing_nodes.add(node.id)
        if highway == "traffic_signals" or crossing == "traffic_signals":
            self.signal_nodes.add(node.id)
        cls = classify(tags)
        if cls is not None:
            self.node_places.append(
                _place("node", node.id, node.version, _timestamp(node), tags, cls, Point(lon, lat))
            )

    def _way(self, way: osmium.osm.Way) -> None:
        self.counts["ways"] += 1
        if not way.tags:
            return
        tags = dict(way.tags)
        highway = tags.get("highway")
        waterway = tags.get("waterway")
        walkable = is_walkable(tags)
        cls = classify(tags)
        if highway is None and waterway not in _WATER_LINES and cls is None:
            return
        refs: list[int] = []
        coords: list[tuple[float, float]] = []
        for nr in way.nodes:
            loc = nr.location
            if loc.valid():
                refs.append(nr.ref)
                coords.append((loc.lon, loc.lat))
        if len(coords) < len(way.nodes):
            self.counts["way_nodes_missing"] += len(way.nodes) - len(coords)
        raw = _RawWay(way.id, way.version, _timestamp(way), tags, refs, coords)
        if len(coords) >= 2:
            line = LineString(coords)
            if highway is not None:
                self.basemap_lines.append(
                    BasemapFeature(
                        "road",
                        _display_name(tags),
                        _geojson(line, _BASEMAP_DECIMALS),
                        highway,
                        f"way/{way.id}",
                    )
                )
            elif waterway in _WATER_LINES and tags.get("area") != "yes":
                self.basemap_lines.append(
                    BasemapFeature(
                        "water",
                        _display_name(tags),
                        _geojson(line, _BASEMAP_DECIMALS),
                        osm_ref=f"way/{way.id}",
                    )
                )
        if walkable:
            self.walk_ways.append(raw)
        elif highway is not None:
            self.counts["highway_ways_not_walkable"] += 1
        if cls is not None:
            self.poi_ways[way.id] = raw

    def _relation(self, rel: osmium.osm.Relation) -> None:
        self.counts["relations"] += 1
        if not rel.tags:
            return
        tags = dict(rel.tags)
        if classify(tags) is None:
            return
        if tags.get("type") in ("multipolygon", "boundary"):
            self.poi_relations.add(rel.id)
        else:
            # type=site and similar groupings are not assembled into shapes.
            self.counts["place_relations_not_areas"] += 1

    def _area(self, area: osmium.osm.Area) -> None:
        self.counts["areas"] += 1
        if not area.tags:
            return
        tags = dict(area.tags)
        building = tags.get("building")
        is_building = building is not None and building != "no"
        basemap_kind = _basemap_polygon_kind(tags)
        residential = (is_building and building in RESIDENTIAL_BUILDINGS) or (
            tags.get("landuse") == "residential"
        )
        cls = classify(tags)
        if basemap_kind is None and not residential and cls is None:
            return
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(area))
        except (RuntimeError, shapely.errors.GEOSException):
            self.counts["areas_invalid"] += 1
            return
        if geom.is_empty:
            self.counts["areas_invalid"] += 1
            return
        geom = _simplify_multi(geom)
        from_way = area.from_way()
        osm_type = "way" if from_way else "relation"
        osm_id = area.orig_id()
        # Keep each drawn shape once, in id order, whatever order areas were assembled in.
        if basemap_kind is not None:
            self.basemap_polygons.append(
                (
                    0 if from_way else 1,
                    osm_id,
                    BasemapFeature(
                        basemap_kind,
                        _display_name(tags),
                        _geojson(geom, _BASEMAP_DECIMALS),
                        osm_ref=f"{osm_type}/{osm_id}",
                    ),
                )
            )
        area_m2: float | None = None
        if residential:
            area_m2 = _geodesic_area(geom)
            centroid = geom.centroid
            is_landuse = not is_building
            self.buildings.append(
                OsmBuilding(
                    osm_type,
                    osm_id,
                    None if is_landuse else building,
                    is_landuse,
                    None if is_landuse else _levels(tags.get("building:levels")),
                    area_m2,
                    round(centroid.x, _PLACE_DECIMALS),
                    round(centroid.y, _PLACE_DECIMALS),
                    _display_name(tags),
                    _geojson(geom, _BASEMAP_DECIMALS),
                )
            )
        if cls is None:
            return
        if area_m2 is None:
            area_m2 = _geodesic_area(geom)
        cls = classify(tags, area_m2=area_m2)
        if cls is None:
            return
        place = _place(osm_type, osm_id, area.version, _timestamp(area), tags, cls, geom)
        place.area_m2 = area_m2
        self.area_places.append(place)
        if from_way:
            self.ways_with_area.add(osm_id)
        else:
            self.relations_with_area.add(osm_id)

    # -- after the pass ----------------------------------------------------------------------

    def finish(self, declared: tuple[float, float, float, float] | None) -> OsmExtract:
        if self.progress is not None:
            self.progress("read", self.read, self.read)
        line_places = self._line_places()
        places, merged = _merge_duplicates(self.node_places, self.area_places + line_places)
        places.sort(key=lambda p: (("node", "way", "relation").index(p.osm_type), p.osm_id))
        if self.progress is not None:
            self.progress("places", len(places), len(places))

        network = self._network()
        if self.progress is not None:
            self.progress("network", network.n_edges, network.n_edges)

        self.basemap_polygons.sort(key=lambda t: (t[0], t[1]))
        basemap = self.basemap_lines + [f for _, _, f in self.basemap_polygons]
        self.buildings.sort(key=lambda b: (b.osm_type != "way", b.osm_id))

        if self.node_lon:
            lon = np.frombuffer(self.node_lon, dtype=np.float64)
            lat = np.frombuffer(self.node_lat, dtype=np.float64)
            bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        else:
            bounds = (math.nan, math.nan, math.nan, math.nan)

        per_category = Counter(p.category for p in places)
        stats: dict[str, Any] = {
            "nodes": self.counts["nodes"],
            "ways": self.counts["ways"],
            "relations": self.counts["relations"],
            "areas_assembled": self.counts["areas"],
            "areas_invalid": self.counts["areas_invalid"],
            "way_nodes_missing": self.counts["way_nodes_missing"],
            "places": len(places),
            "places_by_category": {c: per_category.get(c, 0) for c in CATEGORY_CODES},
            "places_by_type": dict(Counter(p.osm_type for p in places)),
            "duplicates_merged": merged,
            "place_ways_without_area": len(line_places),
            "place_relations_unassembled": len(self.poi_relations - self.relations_with_area),
            "place_relations_not_areas": self.counts["place_relations_not_areas"],
            "walkable_ways": len(self.walk_ways),
            "highway_ways_not_walkable": self.counts["highway_ways_not_walkable"],
            "network_nodes": network.n_nodes,
            "network_edges": network.n_edges,
            "network_length_m": float(network.edge_length_m.sum()),
            "basemap_by_kind": dict(Counter(f.kind for f in basemap)),
            "residential_buildings": sum(not b.is_landuse for b in self.buildings),
            "residential_landuse_areas": sum(b.is_landuse for b in self.buildings),
        }
        return OsmExtract(
            places=places,
            network=network,
            basemap=basemap,
            buildings=self.buildings,
            bounds=bounds,
            declared_bounds=declared,
            stats=stats,
            newest_timestamp=self.newest,
        )

    def _line_places(self) -> list[OsmPlace]:
        """Places on ways that did not become areas (open, area=no, or broken): midpoint."""
        out: list[OsmPlace] = []
        for way_id, raw in sorted(self.poi_ways.items()):
            if way_id in self.ways_with_area or not raw.coords:
                continue
            point = _midpoint(raw.coords)
            cls = classify(raw.tags)
            if cls is None:
                continue
            out.append(_place("way", way_id, raw.version, raw.timestamp, raw.tags, cls, point))
        return out

    def _network(self) -> WalkNetwork:
        us: list[int] = []
        vs: list[int] = []
        way_ids: list[int] = []
        highways: list[str] = []
        names: list[str | None] = []
        sidewalks: list[bool | None] = []
        crossings: list[bool] = []
        lits: list[bool | None] = []
        speeds: list[float] = []
        oneway: list[bool] = []
        areas: list[bool] = []
        coords: dict[int, tuple[float, float]] = {}
        for raw in self.walk_ways:
            tags = raw.tags
            highway = tags["highway"]
            name = _display_name(tags)
            sidewalk = _sidewalk(tags)
            crossing = (
                tags.get("footway") == "crossing"
                or tags.get("cycleway") == "crossing"
                or tags.get("path") == "crossing"
                or highway == "crossing"
                or tags.get("crossing", "no") != "no"
            )
            lit = _yes_no(tags.get("lit"), ("yes", "24/7", "automatic"), ("no",))
            speed = _maxspeed_kmh(tags.get("maxspeed"))
            oneway_foot = tags.get("oneway:foot")
            one = oneway_foot in _YES or oneway_foot == "-1"
            reverse = oneway_foot == "-1"
            is_area = tags.get("area") == "yes"
            for ref, xy in zip(raw.refs, raw.coords, strict=True):
                coords[ref] = xy
            for a, b in zip(raw.refs[:-1], raw.refs[1:], strict=True):
                if a == b:
                    continue  # repeated node: no zero-length self-loop
                if reverse:
                    a, b = b, a
                us.append(a)
                vs.append(b)
                way_ids.append(raw.osm_id)
                highways.append(highway)
                names.append(name)
                sidewalks.append(sidewalk)
                crossings.append(crossing)
                lits.append(lit)
                speeds.append(speed)
                oneway.append(one)
                areas.append(is_area)
        node_ids = np.array(sorted(coords), dtype=np.int64)
        lon = np.array([coords[i][0] for i in node_ids.tolist()], dtype=np.float64)
        lat = np.array([coords[i][1] for i in node_ids.tolist()], dtype=np.float64)
        u = np.searchsorted(node_ids, np.array(us, dtype=np.int64)).astype(np.int64)
        v = np.searchsorted(node_ids, np.array(vs, dtype=np.int64)).astype(np.int64)
        if u.size:
            _, _, length = _GEOD.inv(lon[u], lat[u], lon[v], lat[v])
            length = np.asarray(length, dtype=np.float64)
        else:
            length = np.zeros(0, dtype=np.float64)
        return WalkNetwork(
            node_osm_id=node_ids,
            lon=lon,
            lat=lat,
            node_crossing=np.isin(node_ids, np.fromiter(self.crossing_nodes, np.int64)),
            node_traffic_signals=np.isin(node_ids, np.fromiter(self.signal_nodes, np.int64)),
            edge_u=u,
            edge_v=v,
            edge_length_m=length,
            edge_way_id=np.array(way_ids, dtype=np.int64),
            edge_highway=np.array(highways, dtype=np.str_),
            edge_name=names,
            edge_sidewalk=sidewalks,
            edge_crossing=np.array(crossings, dtype=bool),
            edge_lit=lits,
            edge_maxspeed_kmh=np.array(speeds, dtype=np.float64),
            edge_oneway_foot=np.array(oneway, dtype=bool),
            edge_area=np.array(areas, dtype=bool),
        )


def _basemap_polygon_kind(tags: Mapping[str, str]) -> str | None:
    building = tags.get("building")
    if building is not None and building != "no":
        return "building"
    for kind, table in (("water", _WATER_AREA_TAGS), ("park", _PARK_TAGS)):
        if any(tags.get(k) in values for k, values in table.items()):
            return kind
    return None


def _place(
    osm_type: str,
    osm_id: int,
    version: int,
    timestamp: datetime | None,
    tags: dict[str, str],
    cls: Classification,
    geom: shapely.Geometry,
) -> OsmPlace:
    """Build an :class:`OsmPlace` from tags and a shapely geometry (point or areal)."""
    if isinstance(geom, Point):
        point, geometry = geom, None
    else:
        point = geom.point_on_surface()
        geometry = _geojson(geom, _PLACE_DECIMALS)
    return OsmPlace(
        osm_type=osm_type,
        osm_id=osm_id,
        version=version,
        timestamp=timestamp,
        name=_display_name(tags),
        name_en=(tags.get("name:en") or "").strip() or None,
        category=cls.category,
        category_reason=cls.reason,
        lon=round(point.x, _PLACE_DECIMALS),
        lat=round(point.y, _PLACE_DECIMALS),
        geometry=geometry,
        area_m2=None,
        tags=tags,
        address=_address(tags),
        opening_hours=(tags.get("opening_hours") or "").strip() or None,
        wheelchair=_yes_no(tags.get("wheelchair"), ("yes", "designated"), ("no",)),
        fee=_yes_no(tags.get("fee"), ("yes",), ("no",)),
    )


def _merge_duplicates(nodes: list[OsmPlace], areas: list[OsmPlace]) -> tuple[list[OsmPlace], int]:
    """Merge node places into the area places that map the same place.

    A node merges into an area of the same category family when the node lies inside the area
    and either is unnamed, or the area is unnamed, or the names are similar; or when both are
    named alike and the node is within :data:`DUPLICATE_MAX_DISTANCE_M` of the area. The best
    candidate is the one with a similar name, then containing the node, then the smallest.

    Returns
    -------
    tuple
        The surviving places and the number of nodes merged.
    """
    shaped = [a for a in areas if a.geometry is not None]
    if not nodes or not shaped:
        return nodes + areas, 0
    geoms = [shapely.geometry.shape(a.geometry) for a in shaped]
    tree = shapely.STRtree(geoms)
    kept: list[OsmPlace] = []
    merged = 0
    for node in nodes:
        point = Point(node.lon, node.lat)
        dlat = DUPLICATE_MAX_DISTANCE_M / _M_PER_DEG_LAT
        dlon = dlat / max(math.cos(math.radians(node.lat)), 1e-6)
        window = shapely.box(node.lon - dlon, node.lat - dlat, node.lon + dlon, node.lat + dlat)
        family = _MERGE_FAMILY.get(node.category, node.category)
        best: tuple[tuple[int, int, float], OsmPlace] | None = None
        for idx in tree.query(window).tolist():
            area = shaped[idx]
            if _MERGE_FAMILY.get(area.category, area.category) != family:
                continue
            geom = geoms[idx]
            inside = bool(geom.covers(point))
            similar = _any_names_similar(node.tags, area.tags)
            if similar:
                ok = inside or _metric_distance(point, geom) <= DUPLICATE_MAX_DISTANCE_M
            else:
                ok = inside and (node.name is None or area.name is None)
            if not ok:
                continue
            rank = (0 if similar else 1, 0 if inside else 1, area.area_m2 or 0.0)
            if best is None or rank < best[0]:
                best = (rank, area)
        if best is None:
            kept.append(node)
            continue
        _absorb(best[1], node)
        merged += 1
    return kept + areas, merged


def _absorb(area: OsmPlace, node: OsmPlace) -> None:
    """Record ``node`` as a duplicate of ``area`` and take over the tags the area lacks."""
    area.merged_ids.append(node.key)
    added = False
    for key, value in node.tags.items():
        if key not in area.tags:
            area.tags[key] = value
            added = True
    if not added:
        return
    area.name = area.name or node.name
    area.name_en = area.name_en or node.name_en
    area.address = area.address or _address(area.tags)
    area.opening_hours = area.opening_hours or node.opening_hours
    if area.wheelchair is None:
        area.wheelchair = node.wheelchair
    if area.fee is None:
        area.fee = node.fee


def _declared_bounds(src: str | osmium.io.File) -> tuple[float, float, float, float] | None:
    with osmium.io.Reader(src, osmium.osm.NOTHING) as reader:
        box = reader.header().box()
    if not box.valid():
        return None
    bl, tr = box.bottom_left, box.top_right
    return (bl.lon, bl.lat, tr.lon, tr.lat)


def read_osm(path: str | Path, *, progress: ProgressCallback | None = None) -> OsmExtract:
    """Read an OSM XML or PBF file into an :class:`OsmExtract`.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.pbf`` (or another format pyosmium reads; sniffed when the suffix
        says nothing).
    progress : callable, optional
        Called as ``progress(stage, done, total)`` every few thousand objects and at the end of
        each stage (``"read"``, ``"places"``, ``"network"``); ``total`` is None while unknown.

    Returns
    -------
    OsmExtract
        Places, walking network, basemap, residential buildings, bounds and statistics.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    OsmReadError
        When the file cannot be read as OSM data (the message names the file and the reason).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "OSM file not found", str(path))
    if path.is_dir():
        raise OsmReadError(f"cannot read OSM file {path}: it is a directory")
    src = _osmium_file(path)
    collector = _Collector(progress)
    try:
        for obj in osmium.FileProcessor(src).with_areas():
            collector.add(obj)
        declared = _declared_bounds(src)
    except (RuntimeError, osmium.InvalidLocationError) as exc:
        hint = ""
        if "out of order" in str(exc):
            # Area assembly needs objects sorted by type and id, as OSM exports are.
            hint = " (sort it first, e.g. `osmium sort`)"
        raise OsmReadError(f"cannot read OSM file {path}: {exc}{hint}") from exc
    return collector.finish(declared)
