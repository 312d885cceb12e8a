"""The office's figures as text and a chart: for /stats and the weekly report."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from dialogue import texts
from dialogue.render import Renderer
from handlers.telegram.area_map import area_map
from handlers.telegram.charts import FontMissing, rates_chart
from reports.stats import Statistics

log = logging.getLogger(__name__)


async def chart_png(render: Renderer, figures: Statistics, days: int) -> bytes | None:
    """The groups' rates as a chart, drawn off the event loop; None without a CJK font,
    b"" when there is nothing to draw."""
    groups = [k for k, f in figures.by_group.items() if f.cases]
    if not groups:
        return b""
    series = {
        name: [getattr(figures.by_group[g], attr) for g in groups]
        for name, attr in texts.STATS_SERIES.items()
    }
    labels = [render.group(g) for g in groups]
    title = texts.STATS_CHART_TITLE.format(days=days)
    try:
        return await asyncio.to_thread(
            rates_chart, title, labels, series, render.settings.stats_font_file
        )
    except FontMissing as exc:
        log.error("%s", exc)
        return None


async def map_png(render: Renderer, open_cases: Mapping[str, int], at: float) -> bytes | None:
    """The 通报 map of the areas by their open cases at `at`, drawn off the event loop;
    None without a CJK font, b"" without areas."""
    areas = render.settings.areas
    if not areas:
        return b""
    title = texts.AREA_MAP_TITLE.format(
        date=datetime.fromtimestamp(at, render.tz).strftime("%Y-%m-%d %H:%M")
    )
    try:
        return await asyncio.to_thread(
            area_map,
            areas,
            open_cases,
            title,
            texts.AREA_MAP_LEGEND,
            texts.AREA_MAP_LABEL,
            render.settings.stats_font_file,
        )
    except FontMissing as exc:
        log.error("%s", exc)
        return None
