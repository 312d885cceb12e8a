"""The office's figures: per group and per category, aggregated in SQL."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from storage import stats as stats_db
from storage.db import Connection


@dataclass(frozen=True)
class Figures:
    """One row of the statistics: a group, a category, or the whole district."""

    cases: int = 0
    accepted_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    pleased: int = 0  # 满意 + 基本满意
    rated: int = 0
    median_accept: float | None = None  # seconds
    median_resolve: float | None = None

    def rate(self, part: int, whole: int | None = None) -> float | None:
        whole = self.cases if whole is None else whole
        return part / whole if whole else None

    @property
    def response_rate(self) -> float | None:
        return self.rate(self.accepted_in_time)

    @property
    def resolution_rate(self) -> float | None:
        return self.rate(self.resolved)

    @property
    def on_time_rate(self) -> float | None:
        return self.rate(self.resolved_in_time)

    @property
    def satisfaction_rate(self) -> float | None:
        return self.rate(self.pleased, self.rated)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.cases + other.cases,
            self.accepted_in_time + other.accepted_in_time,
            self.resolved + other.resolved,
            self.resolved_in_time + other.resolved_in_time,
            self.pleased + other.pleased,
            self.rated + other.rated,
        )


@dataclass(frozen=True)
class Statistics:
    since: float
    until: float
    by_group: dict[str, Figures]
    by_category: dict[str, Figures]
    total: Figures
    # Residents' texts that opened no report, by intent; accounts throttled for spam.
    messages: dict[str, int] = field(default_factory=dict)
    spammers: int = 0
    # Each configured area's figures (none without areas); medians are not taken per area.
    by_area: dict[str, Figures] = field(default_factory=dict)


async def collect(
    conn: Connection,
    since: float,
    until: float,
    limits: Iterable[tuple[str, float, float]],
    groups: Iterable[str],
    areas: Iterable[str] = (),
) -> Statistics:
    """Count every case filed in [since, until) by group and category, in one pass,
    plus the median times to accept and to resolve per group, per category and overall."""
    limits = list(limits)
    rows = await stats_db.counts(conn, since, until, limits)
    by_group: dict[str, Figures] = {g: Figures() for g in groups}
    by_category: dict[str, Figures] = {}
    total = Figures()
    for group_key, category, *counts in rows:
        figures = Figures(*counts)
        by_group[group_key] = by_group.get(group_key, Figures()) + figures
        by_category[category] = by_category.get(category, Figures()) + figures
        total = total + figures

    medians = await _medians(conn, since, until)

    def with_medians(figures: Figures, key: str) -> Figures:
        return Figures(
            figures.cases,
            figures.accepted_in_time,
            figures.resolved,
            figures.resolved_in_time,
            figures.pleased,
            figures.rated,
            medians.get(("accept", key)),
            medians.get(("resolve", key)),
        )

    by_group = {g: with_medians(f, f"group:{g}") for g, f in by_group.items()}
    by_category = {c: with_medians(f, f"category:{c}") for c, f in by_category.items()}
    total = with_medians(total, "*")
    by_area: dict[str, Figures] = {a: Figures() for a in areas}
    if by_area:
        for area, *counts in await stats_db.area_counts(conn, since, until, limits):
            if area in by_area:  # an area taken out of the file since is not ranked
                by_area[area] = Figures(*counts)
    return Statistics(since, until, by_group, by_category, total, by_area=by_area)


async def _medians(conn: Connection, since: float, until: float) -> dict[tuple[str, str], float]:
    """The middle time to accept and to resolve, keyed (what, 'group:<key>' |
    'category:<key>' | '*'); the upper middle of an even count, as before."""
    seconds: dict[tuple[str, str], array[float]] = defaultdict(lambda: array("d"))
    async for rows in stats_db.durations(conn, since, until):
        for group_key, category, to_accept, to_resolve in rows:
            for what, value in (("accept", to_accept), ("resolve", to_resolve)):
                if value is not None:
                    seconds[what, f"group:{group_key}"].append(value)
                    seconds[what, f"category:{category}"].append(value)
                    seconds[what, "*"].append(value)
    return {key: sorted(values)[len(values) // 2] for key, values in seconds.items()}
