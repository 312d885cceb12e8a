"""The 通报 map: the district's areas, each filled by its open cases, as PNG bytes.

Communities and villages are their polygons (holes left white), key road sections thick
lines over them, each coloured on one scale with a legend, and labelled in Chinese at
its middle. The Chinese font is the charts' (see charts.py): without one, FontMissing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from matplotlib import cm, colors
from matplotlib import pyplot as plt
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.patheffects import withStroke

from handlers.telegram.charts import _png, cjk_font
from reports.areas import Area, Areas, Position

SIZE_INCHES = (10.0, 8.0)
DPI = 110  # 1100 × 880 pixels
COLOURS = "YlOrRd"
ROAD_WIDTH = 7.0  # points: a road section stands out over the communities it crosses


def area_map(
    areas: Areas,
    open_cases: Mapping[str, int],
    title: str,
    legend: str,
    label: str,
    font_file: str | None = None,
) -> bytes:
    """The map as PNG; `label` formats each area's name and count ("{name}\\n{count} 件")."""
    font = cjk_font(font_file)
    figure, axes = plt.subplots(figsize=SIZE_INCHES, dpi=DPI)
    try:
        top = max([*open_cases.values(), 1])
        norm = colors.Normalize(vmin=0, vmax=top)
        scale = plt.get_cmap(COLOURS)
        for area in areas.communities:
            fill = scale(norm(open_cases.get(area.key, 0)))
            for polygon in area.geometry.polygons:
                outer, *holes = polygon
                axes.add_patch(PolygonPatch(outer, closed=True, facecolor=fill, edgecolor="#555"))
                for hole in holes:
                    axes.add_patch(
                        PolygonPatch(hole, closed=True, facecolor="white", edgecolor="#555")
                    )
        for area in areas.roads:
            lons, lats = zip(*area.geometry.line, strict=True)
            colour = scale(norm(open_cases.get(area.key, 0)))
            outline = [withStroke(linewidth=ROAD_WIDTH + 2, foreground="#333")]
            axes.plot(
                lons, lats, color=colour, linewidth=ROAD_WIDTH, solid_capstyle="round",
                path_effects=outline,
            )  # fmt: skip
        # Road sections often cross at their middles: their labels go part of the way
        # along, alternately from either end, so two crossing roads' labels stay apart.
        along = {road.key: (0.3, 0.85)[n % 2] for n, road in enumerate(areas.roads)}
        for area in areas:
            x, y = _label_point(area, along.get(area.key, 0.5))
            text = label.format(name=area.name, count=open_cases.get(area.key, 0))
            axes.text(
                x, y, text, fontproperties=font, fontsize=8, ha="center", va="center",
                path_effects=[withStroke(linewidth=2.5, foreground="white")],
            )  # fmt: skip
        west, south, east, north = _bounds(areas)
        pad_x, pad_y = (east - west) * 0.03 or 0.001, (north - south) * 0.03 or 0.001
        axes.set_xlim(west - pad_x, east + pad_x)
        axes.set_ylim(south - pad_y, north + pad_y)
        # Degrees of longitude are shorter than degrees of latitude away from the equator.
        axes.set_aspect(1 / max(math.cos(math.radians((south + north) / 2)), 0.01))
        axes.set_axis_off()
        axes.set_title(title, fontproperties=font, fontsize=14)
        bar = figure.colorbar(cm.ScalarMappable(norm=norm, cmap=scale), ax=axes, shrink=0.7)
        bar.set_label(legend, fontproperties=font)
        return _png(figure)
    finally:
        plt.close(figure)


def _bounds(areas: Areas) -> tuple[float, float, float, float]:
    boxes = [a.geometry.bbox() for a in areas]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _label_point(area: Area, along: float) -> Position:
    """Where an area's name goes: the centroid of its largest polygon, or the point that
    fraction `along` a road's length."""
    if area.geometry.is_line:
        return _point_along(area.geometry.line, along)
    outer = max((p[0] for p in area.geometry.polygons), key=lambda r: abs(_ring_area(r)))
    return _centroid(outer)


def _ring_area(ring: Sequence[Position]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring)) / 2


def _centroid(ring: Sequence[Position]) -> Position:
    """The area centroid of a closed ring (its vertices' mean if it has no area)."""
    a = _ring_area(ring)
    if abs(a) < 1e-15:
        xs, ys = zip(*ring, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys)
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in pairwise(ring):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return cx / (6 * a), cy / (6 * a)


def _point_along(line: Sequence[Position], fraction: float) -> Position:
    """The point that fraction of the way along a line (on a plane: a road is short)."""
    lengths = [math.dist(a, b) for a, b in pairwise(line)]
    half = sum(lengths) * fraction
    for (a, b), length in zip(pairwise(line), lengths, strict=True):
        if half <= length and length:
            t = half / length
            return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        half -= length
    return line[-1]
