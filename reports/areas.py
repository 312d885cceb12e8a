"""The district's areas: communities (社区), villages (村) and key road sections (路段).

The district plan makes each 社区 and 村 answer for its own ground (门前三包) and puts
a district leader in charge of each key road section (领导帮包责任制); a case is placed
in the area it happened in, so the office can rank and name units (表彰 / 通报).

The areas are a GeoJSON FeatureCollection (RFC 7946): positions are [longitude,
latitude], a 社区 or 村 is a Polygon or MultiPolygon, a 路段 a LineString with a
width. Every feature's properties: `key`, `name`, `kind`, and optionally `aliases`
(other names residents write), `population` (社区 and 村), `width_m` (路段, required)
and `leaders` (who gets a read-only copy of the area's alerts).

Placement is pure: a point in a polygon (holes and MultiPolygons included), or within
half the width of a road section's centre line; a typed address by the names it
mentions (the longest wins). A point both on a road section and in a community is
placed on the road section: a key road section has its own leader who answers for
what happens on it, shopfronts along it included, and a case counted for both would
count twice in the ranking; the community stays known from the coordinates
(`Areas.community_at`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from reports.geo import EARTH_RADIUS_M

COMMUNITY = "社区"
VILLAGE = "村"
ROAD = "路段"
KINDS = (COMMUNITY, VILLAGE, ROAD)
AREA_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")

Position = tuple[float, float]  # (longitude, latitude), as GeoJSON writes them
Ring = tuple[Position, ...]  # closed: the first position again at the end
Polygon = tuple[Ring, ...]  # the outer ring, then its holes


@dataclass(frozen=True)
class Leader:
    """A person copied on an area's alerts, on whichever channels they use."""

    name: str
    telegram: int | None = None  # a Telegram user id: a private chat
    wecom: str | None = None  # a WeCom userid: a text from the app


@dataclass(frozen=True)
class Geometry:
    """An area's shape: polygons (a Polygon is a MultiPolygon of one) or a line."""

    polygons: tuple[Polygon, ...] = ()
    line: tuple[Position, ...] = ()

    @property
    def is_line(self) -> bool:
        return bool(self.line)

    def positions(self) -> Iterator[Position]:
        """Every position of the shape."""
        if self.line:
            yield from self.line
        for polygon in self.polygons:
            for ring in polygon:
                yield from ring

    def bbox(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat)."""
        lons, lats = zip(*self.positions(), strict=True)
        return min(lons), min(lats), max(lons), max(lats)


@dataclass(frozen=True)
class Area:
    key: str
    name: str
    kind: str  # 社区, 村 or 路段
    geometry: Geometry
    population: int | None = None  # a 社区 or 村's residents (the survey weights by it)
    leaders: tuple[Leader, ...] = ()
    width_m: float | None = None  # a 路段's width; a point within half of it is on it
    aliases: tuple[str, ...] = ()

    @property
    def is_road(self) -> bool:
        return self.kind == ROAD

    def names(self) -> tuple[str, ...]:
        """The names a resident may write: the name, without 社区 too, and the aliases."""
        names = [self.name, *self.aliases]
        short = self.name.removesuffix(COMMUNITY)
        if short != self.name and len(short) >= 2:
            names.append(short)
        return tuple(dict.fromkeys(n for n in names if n))

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point is in the area (on a road section: within width/2)."""
        if self.geometry.is_line:
            return line_distance_m(self.geometry.line, lat, lon) <= (self.width_m or 0) / 2
        return in_polygons(self.geometry.polygons, lon, lat)


@dataclass(frozen=True)
class Areas:
    """Every area, in file order; empty when no file is configured."""

    all: tuple[Area, ...] = ()
    source: Path | None = None
    _by_key: dict[str, Area] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update((area.key, area) for area in self.all)

    def __bool__(self) -> bool:
        return bool(self.all)

    def __iter__(self) -> Iterator[Area]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)

    @property
    def communities(self) -> tuple[Area, ...]:
        """The 社区 and 村, in file order."""
        return tuple(a for a in self.all if a.kind != ROAD)

    @property
    def roads(self) -> tuple[Area, ...]:
        return tuple(a for a in self.all if a.kind == ROAD)

    def get(self, key: str | None) -> Area | None:
        return self._by_key.get(key) if key else None

    def name_of(self, key: str | None) -> str | None:
        area = self.get(key)
        return area.name if area else None

    def community_at(self, lat: float, lon: float) -> Area | None:
        """The 社区 or 村 the point is in (the first in file order on a shared border)."""
        return next((a for a in self.communities if a.contains(lat, lon)), None)

    def road_at(self, lat: float, lon: float) -> Area | None:
        """The road section the point is on, the nearest centre line if on several."""
        on = [a for a in self.roads if a.contains(lat, lon)]
        return min(on, key=lambda a: line_distance_m(a.geometry.line, lat, lon), default=None)

    def at(self, lat: float, lon: float) -> Area | None:
        """The area a report at this point belongs to: a road section wins (see above)."""
        return self.road_at(lat, lon) or self.community_at(lat, lon)

    def named_in(self, text: str | None) -> Area | None:
        """The area a typed address names: the longest name mentioned, the first on a tie."""
        if not text:
            return None
        best: tuple[int, Area] | None = None
        for area in self.all:
            for name in area.names():
                if name in text and (best is None or len(name) > best[0]):
                    best = (len(name), area)
        return best[1] if best else None

    def place(
        self, lat: float | None, lon: float | None, address: str | None = None
    ) -> Area | None:
        """A report's area: by its coordinates if it has them, else by its address."""
        if lat is not None and lon is not None:
            return self.at(lat, lon)
        return self.named_in(address)


# --- geometry (pure, on a plane: a district is small enough) --------------------------


def _ring_contains(ring: Ring, lon: float, lat: float) -> bool:
    """Ray casting: whether the point is inside the ring (a border point may go either way)."""
    inside = False
    n = len(ring)
    for i in range(n - 1):
        x1, y1 = ring[i]
        x2, y2 = ring[i + 1]
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x:
                inside = not inside
    return inside


def in_polygon(polygon: Polygon, lon: float, lat: float) -> bool:
    """Inside the outer ring and in none of the holes."""
    if not polygon or not _ring_contains(polygon[0], lon, lat):
        return False
    return not any(_ring_contains(hole, lon, lat) for hole in polygon[1:])


def in_polygons(polygons: Sequence[Polygon], lon: float, lat: float) -> bool:
    return any(in_polygon(p, lon, lat) for p in polygons)


def _metres(lat0: float, lon: float, lat: float) -> tuple[float, float]:
    """A position as metres east and north on a plane tangent at latitude lat0."""
    k = math.radians(1) * EARTH_RADIUS_M
    return lon * k * math.cos(math.radians(lat0)), lat * k


def line_distance_m(line: Sequence[Position], lat: float, lon: float) -> float:
    """The distance in metres from the point to the nearest part of the line."""
    px, py = _metres(lat, lon, lat)
    best = math.inf
    points = [_metres(lat, x, y) for x, y in line]
    for (ax, ay), (bx, by) in pairwise(points):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
        best = min(best, math.hypot(px - (ax + t * dx), py - (ay + t * dy)))
    if len(points) == 1:
        best = math.hypot(px - points[0][0], py - points[0][1])
    return best


def _cross(o: Position, a: Position, b: Position) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(a: Position, b: Position, c: Position, d: Position) -> bool:
    """Whether two segments cross at a point inside both (touching does not count)."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0


def _on_border(polygon: Polygon, p: Position) -> bool:
    eps = 1e-12
    for ring in polygon:
        for a, b in pairwise(ring):
            if (
                abs(_cross(a, b, p)) <= eps
                and min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
                and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps
            ):
                return True
    return False


def _strictly_inside(polygon: Polygon, p: Position) -> bool:
    return in_polygon(polygon, p[0], p[1]) and not _on_border(polygon, p)


def _centroid(ring: Ring) -> Position:
    xs, ys = zip(*ring[:-1], strict=True)
    return sum(xs) / len(xs), sum(ys) / len(ys)


def polygons_overlap(a: Polygon, b: Polygon) -> bool:
    """A cheap test of whether two polygons share more than a border.

    Their edges cross, a corner of one lies strictly inside the other, or the middle
    of one does (the same polygon twice). Enough to catch a copy-paste or a swapped
    corner; it may miss an overlap of two odd shapes that touch only at their borders.
    """
    edges_a = [(p, q) for ring in a for p, q in pairwise(ring)]
    edges_b = [(p, q) for ring in b for p, q in pairwise(ring)]
    if any(_segments_cross(p, q, r, s) for p, q in edges_a for r, s in edges_b):
        return True
    if any(_strictly_inside(b, p) for p in a[0]) or any(_strictly_inside(a, p) for p in b[0]):
        return True
    return any(
        _strictly_inside(x, _centroid(y[0])) and in_polygon(y, *_centroid(y[0]))
        for x, y in ((a, b), (b, a))
    )


def _boxes_meet(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --- loading ---------------------------------------------------------------------------


class _Problems:
    """Problems found in the file, each naming the feature and the property."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.list: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.list.append(
            f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}"
        )


def _feature_label(index: int, props: Mapping[str, Any]) -> str:
    key = props.get("key")
    return f'feature {index} ("{key}")' if isinstance(key, str) and key else f"feature {index}"


def load_areas(path: Path | str) -> Areas:
    """Read and validate an areas file; raise ConfigError listing every problem."""
    from settings import ConfigError  # settings loads this module: import here, not above

    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: areas file not found"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{path}: not valid GeoJSON (JSON): {exc}"]) from None
    areas, problems = parse_areas(raw, str(path))
    if problems:
        raise ConfigError(problems)
    return Areas(areas, source=path)


def parse_areas(raw: Any, source: str = "areas") -> tuple[tuple[Area, ...], list[str]]:
    """The areas of an already parsed GeoJSON document, and every problem found."""
    p = _Problems(source)
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection":
        p.add("", 'must be a GeoJSON FeatureCollection ({"type": "FeatureCollection", ...})')
        return (), p.list
    features = raw.get("features")
    if not isinstance(features, list):
        p.add("features", "must be a list of features")
        return (), p.list
    areas: list[Area] = []
    seen: dict[str, str] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            p.add(f"feature {index}", 'must be a GeoJSON Feature ({"type": "Feature", ...})')
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            p.add(f"feature {index}", "has no properties (key, name, kind)")
            continue
        label = _feature_label(index, props)
        area = _parse_feature(p, label, feature, props)
        if area is None:
            continue
        if area.key in seen:
            p.add(label, f'property "key": "{area.key}" is also the key of {seen[area.key]}')
            continue
        seen[area.key] = label
        areas.append(area)
    _check_overlaps(p, areas, seen)
    return tuple(areas), p.list


def _parse_feature(
    p: _Problems, label: str, feature: Mapping[str, Any], props: Mapping[str, Any]
) -> Area | None:
    before = len(p.list)
    known = {"key", "name", "kind", "aliases", "population", "width_m", "leaders"}
    for extra in sorted(set(props) - known):
        p.add(label, f'unknown property "{extra}"; known: {", ".join(sorted(known))}')
    key = props.get("key")
    if not isinstance(key, str) or not AREA_KEY.fullmatch(key):
        p.add(
            label,
            'property "key": must be a lowercase letter, then up to 31 lowercase letters, '
            "digits or _",
        )
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        p.add(label, 'property "name": must be the area\'s name (text)')
    kind = props.get("kind")
    if kind not in KINDS:
        p.add(label, f'property "kind": must be one of {", ".join(KINDS)}, not {kind!r}')
    aliases = props.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        p.add(label, 'property "aliases": must be a list of names')
        aliases = []
    population = props.get("population")
    if population is not None:
        if kind == ROAD:
            p.add(label, 'property "population": only a 社区 or 村 has residents')
        elif not isinstance(population, int) or isinstance(population, bool) or population < 0:
            p.add(label, f'property "population": must be a whole number ≥ 0, not {population!r}')
    width = props.get("width_m")
    if kind == ROAD:
        if not isinstance(width, int | float) or isinstance(width, bool) or not 0 < width <= 500:
            p.add(
                label,
                f'property "width_m": a 路段 needs its width in metres (0-500), not {width!r}',
            )
    elif width is not None:
        p.add(label, 'property "width_m": only a 路段 has a width')
    leaders = _parse_leaders(p, label, props.get("leaders", []))
    geometry = _parse_geometry(p, label, feature.get("geometry"), kind)
    if len(p.list) > before or geometry is None:
        return None
    return Area(
        key=str(key),
        name=str(name).strip(),
        kind=str(kind),
        geometry=geometry,
        population=population,
        leaders=leaders,
        width_m=float(width) if kind == ROAD else None,
        aliases=tuple(aliases),
    )


def _parse_leaders(p: _Problems, label: str, raw: Any) -> tuple[Leader, ...]:
    if not isinstance(raw, list):
        p.add(label, 'property "leaders": must be a list like [{"name": "…", "telegram": 123}]')
        return ()
    leaders = []
    for n, entry in enumerate(raw):
        where = f'property "leaders" [{n}]'
        if not isinstance(entry, dict):
            p.add(label, f"{where}: must be an object with name, telegram and/or wecom")
            continue
        for extra in sorted(set(entry) - {"name", "telegram", "wecom"}):
            p.add(label, f'{where}: unknown field "{extra}"; known: name, telegram, wecom')
        name, tg, wecom = entry.get("name"), entry.get("telegram"), entry.get("wecom")
        if not isinstance(name, str) or not name.strip():
            p.add(label, f'{where}: "name" must be the leader\'s name')
        if tg is not None and (not isinstance(tg, int) or isinstance(tg, bool) or tg <= 0):
            p.add(label, f'{where}: "telegram" must be a Telegram user id (a positive number)')
        if wecom is not None and (
            not isinstance(wecom, str) or not wecom.strip() or any(c.isspace() for c in wecom)
        ):
            p.add(label, f'{where}: "wecom" must be a WeCom userid')
        if tg is None and wecom is None:
            p.add(label, f'{where}: names no channel; give "telegram", "wecom" or both')
        leaders.append(Leader(name=str(name), telegram=tg, wecom=wecom))
    return tuple(leaders)


def _parse_positions(p: _Problems, where: str, raw: Any) -> tuple[Position, ...] | None:
    if not isinstance(raw, list):
        p.add(where, "must be a list of [longitude, latitude] positions")
        return None
    out: list[Position] = []
    for n, pos in enumerate(raw):
        if (
            not isinstance(pos, list)
            or len(pos) not in (2, 3)
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in pos)
            or not all(math.isfinite(c) for c in pos)
        ):
            p.add(where, f"position {n} must be [longitude, latitude], not {pos!r}")
            return None
        lon, lat = float(pos[0]), float(pos[1])
        if abs(lat) > 90:
            hint = " (longitude comes first: [lon, lat])" if abs(lon) <= 90 else ""
            p.add(where, f"position {n}: latitude {lat} is out of range -90..90{hint}")
            return None
        if abs(lon) > 180:
            p.add(where, f"position {n}: longitude {lon} is out of range -180..180")
            return None
        out.append((lon, lat))
    return tuple(out)


def _parse_ring(p: _Problems, where: str, raw: Any) -> Ring | None:
    ring = _parse_positions(p, where, raw)
    if ring is None:
        return None
    if len(ring) < 4:
        p.add(where, f"a ring needs at least 4 positions (closed), has {len(ring)}")
        return None
    if ring[0] != ring[-1]:
        p.add(where, "ring is not closed: its last position must repeat its first")
        return None
    return ring


def _parse_polygon(p: _Problems, where: str, raw: Any) -> Polygon | None:
    if not isinstance(raw, list) or not raw:
        p.add(where, "a Polygon is a list of rings (the outer ring, then holes)")
        return None
    rings = [_parse_ring(p, f"{where} ring {n}", r) for n, r in enumerate(raw)]
    if any(r is None for r in rings):
        return None
    return tuple(r for r in rings if r is not None)


def _parse_geometry(p: _Problems, label: str, raw: Any, kind: Any) -> Geometry | None:
    if not isinstance(raw, dict):
        p.add(label, "has no geometry")
        return None
    gtype, coords = raw.get("type"), raw.get("coordinates")
    where = f"{label} geometry"
    if kind == ROAD:
        if gtype != "LineString":
            p.add(where, f"a 路段 is a LineString (its centre line), not {gtype!r}")
            return None
        line = _parse_positions(p, where, coords)
        if line is None:
            return None
        if len(line) < 2:
            p.add(where, "a LineString needs at least 2 positions")
            return None
        return Geometry(line=line)
    if gtype == "Polygon":
        polygon = _parse_polygon(p, where, coords)
        return Geometry(polygons=(polygon,)) if polygon else None
    if gtype == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            p.add(where, "a MultiPolygon is a list of polygons")
            return None
        polygons = [_parse_polygon(p, f"{where} polygon {n}", c) for n, c in enumerate(coords)]
        if any(x is None for x in polygons):
            return None
        return Geometry(polygons=tuple(x for x in polygons if x is not None))
    p.add(where, f"a {kind or 'community'} is a Polygon or MultiPolygon, not {gtype!r}")
    return None


def _check_overlaps(p: _Problems, areas: Sequence[Area], labels: Mapping[str, str]) -> None:
    """No 社区 overlaps another 社区, nor a 村 another 村 (road sections may cross)."""
    shaped = [(a, a.geometry.bbox()) for a in areas if not a.geometry.is_line]
    for i, (a, box_a) in enumerate(shaped):
        for b, box_b in shaped[i + 1 :]:
            if a.kind != b.kind or not _boxes_meet(box_a, box_b):
                continue
            if any(
                polygons_overlap(x, y) for x in a.geometry.polygons for y in b.geometry.polygons
            ):
                p.add(labels[b.key], f"overlaps {labels[a.key]}, another {a.kind}")
