"""The office's figures as text, for any channel: a period's statistics, and this week
against the last."""

from __future__ import annotations

from datetime import datetime

from dialogue import texts
from dialogue.render import MESSAGE_LIMIT, Renderer, lateness
from reports.area_ranking import rank_areas
from reports.stats import Figures, Statistics


def stats_text(figures: Statistics, days: int, render: Renderer) -> str:
    """The figures as text: the district, each group, each category."""
    since = datetime.fromtimestamp(figures.since, render.tz).strftime("%m-%d")
    until = datetime.fromtimestamp(figures.until, render.tz).strftime("%m-%d")
    lines = [texts.STATS_TITLE.format(days=days, since=since, until=until)]
    if not figures.total.cases:
        lines.append(texts.STATS_EMPTY)
        return "\n".join([*lines, *_messages(figures)])
    lines.append(_line(texts.STATS_DISTRICT, figures.total))
    lines.append(texts.STATS_BY_GROUP)
    for key, group_figures in figures.by_group.items():
        if group_figures.cases:
            lines.append(_line(render.group(key), group_figures))
    lines.append(texts.STATS_BY_CATEGORY)
    for key, category_figures in sorted(figures.by_category.items(), key=lambda kv: -kv[1].cases):
        lines.append(_line(render.category(key), category_figures))
    lines += _messages(figures)
    if figures.by_area:
        lines += area_lines(figures, render, MESSAGE_LIMIT - 16 - len("\n".join(lines)))
    return "\n".join(lines)


def _messages(figures: Statistics) -> list[str]:
    """The line on residents' texts that were no report (questions, praise, small talk, spam)."""
    if not figures.messages:
        return []
    counts = {kind: figures.messages.get(kind, 0) for kind in texts.STATS_INTENT_NAMES}
    parts = "　".join(f"{texts.STATS_INTENT_NAMES[k]} {n}" for k, n in counts.items())
    return [texts.STATS_MESSAGES.format(parts=parts, spammers=figures.spammers)]


def area_lines(figures: Statistics, render: Renderer, room: int) -> list[str]:
    """The 通报 section: the areas ranked by their rates, then those with too few cases
    to rank, then those with none; cut to `room` characters, naming how many were left
    out (the ranked first: they are the news)."""
    min_cases = render.settings.areas_min_cases
    ranking = rank_areas(figures.by_area, min_cases)
    lines = [texts.STATS_BY_AREA.format(min_cases=min_cases)]
    quiet = []
    for entry in ranking:
        name = render.area(entry.area) or entry.area
        f = entry.figures
        if not f.cases:
            quiet.append(name)
            continue
        rates = {
            "name": name,
            "cases": f.cases,
            "response": _pct(f.response_rate),
            "resolution": _pct(f.resolution_rate),
            "satisfaction": _pct(f.satisfaction_rate),
        }
        if entry.place is None:
            lines.append(texts.STATS_AREA_UNRANKED.format(**rates))
        else:
            score = _pct(entry.score)
            lines.append(texts.STATS_AREA_RANKED.format(place=entry.place, score=score, **rates))
    if quiet:
        lines.append(texts.STATS_AREA_QUIET.format(names="、".join(quiet)))
    if len("\n".join(lines)) <= room:
        return lines
    kept: list[str] = []
    for n, line in enumerate(lines):
        if len("\n".join([*kept, line, texts.STATS_AREA_MORE.format(count=99)])) > room:
            return [*kept, texts.STATS_AREA_MORE.format(count=len(lines) - n)]
        kept.append(line)
    return kept


def trend_text(week: Statistics, before: Statistics) -> str:
    """This week against the one before: more or fewer cases, rates up or down."""

    def change(now: float | None, then: float | None) -> str:
        if now is None or then is None:
            return "—"
        return f"{(now - then) * 100:+.0f} 个百分点"

    cases = week.total.cases - before.total.cases
    return texts.WEEKLY_TREND.format(
        cases=f"{cases:+d} 件",
        resolution=change(week.total.resolution_rate, before.total.resolution_rate),
        satisfaction=change(week.total.satisfaction_rate, before.total.satisfaction_rate),
    )


def _line(name: str, f: Figures) -> str:
    text = texts.STATS_LINE.format(
        name=name,
        cases=f.cases,
        response=_pct(f.response_rate),
        resolution=_pct(f.resolution_rate),
        on_time=_pct(f.on_time_rate),
        satisfaction=_pct(f.satisfaction_rate),
        rated=f.rated,
    )
    return text + texts.STATS_MEDIANS.format(
        accept=lateness(f.median_accept) if f.median_accept is not None else "—",
        resolve=lateness(f.median_resolve) if f.median_resolve is not None else "—",
    )


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"
