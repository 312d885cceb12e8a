"""The office's figures as text, for any channel: a period's statistics, and this week
against the last."""

from __future__ import annotations

from datetime import datetime

from dialogue import texts
from dialogue.render import Renderer, lateness
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
    return "\n".join([*lines, *_messages(figures)])


def _messages(figures: Statistics) -> list[str]:
    """The line on residents' texts that were no report (questions, praise, small talk, spam)."""
    if not figures.messages:
        return []
    counts = {kind: figures.messages.get(kind, 0) for kind in texts.STATS_INTENT_NAMES}
    parts = "　".join(f"{texts.STATS_INTENT_NAMES[k]} {n}" for k, n in counts.items())
    return [texts.STATS_MESSAGES.format(parts=parts, spammers=figures.spammers)]


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
