"""The office's figures: per group and per category, aggregated in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Connection, fetch_all


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


# Counted from the covering index reports_stats alone; each category's time
# limits are inlined as CASE expressions (one pass, no join).
_COUNTS = """
SELECT group_key, category, COUNT(*) AS cases,
  TOTAL(accepted_at - created_at <= CASE category {accept} END),
  TOTAL(resolved_at IS NOT NULL),
  TOTAL(resolved_at - created_at <= CASE category {resolve} END),
  TOTAL(rating IN ('satisfied', 'basically')),
  TOTAL(rating IS NOT NULL)
FROM reports INDEXED BY reports_stats
WHERE created_at >= ? AND created_at < ?
GROUP BY group_key, category
"""

# The middle value per group, and over all groups ('*'), in one pass per column.
_MEDIANS = """
WITH d AS (
  SELECT group_key, {column} - created_at AS v FROM reports INDEXED BY reports_stats
  WHERE created_at >= ? AND created_at < ? AND {column} IS NOT NULL
), ranked AS (
  SELECT g, v, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) AS rn,
         COUNT(*) OVER (PARTITION BY g) AS n
  FROM (SELECT group_key AS g, v FROM d UNION ALL SELECT '*' AS g, v FROM d)
)
SELECT g, v FROM ranked WHERE rn = n / 2 + 1
"""


async def collect(
    conn: Connection,
    since: float,
    until: float,
    limits: Iterable[tuple[str, float, float]],
    groups: Iterable[str],
) -> Statistics:
    """Count every case filed in [since, until) by group and category, in one pass,
    plus the median times to accept and to resolve per group and overall."""
    limits = list(limits)
    accept = " ".join("WHEN ? THEN ?" for _ in limits)
    params = [x for key, accept_s, _ in limits for x in (key, accept_s)]
    params += [x for key, _, resolve_s in limits for x in (key, resolve_s)]
    sql = _COUNTS.format(accept=accept, resolve=accept)
    rows = await fetch_all(conn, sql, (*params, since, until))
    by_group: dict[str, Figures] = {g: Figures() for g in groups}
    by_category: dict[str, Figures] = {}
    total = Figures()
    for row in rows:
        figures = Figures(*(int(v) for v in tuple(row)[2:]))
        by_group[row["group_key"]] = by_group.get(row["group_key"], Figures()) + figures
        by_category[row["category"]] = by_category.get(row["category"], Figures()) + figures
        total = total + figures

    medians = {}
    for column in ("accepted_at", "resolved_at"):
        rows = await fetch_all(conn, _MEDIANS.format(column=column), (since, until))
        medians[column] = {row[0]: row[1] for row in rows}

    def with_medians(figures: Figures, key: str) -> Figures:
        return Figures(
            figures.cases,
            figures.accepted_in_time,
            figures.resolved,
            figures.resolved_in_time,
            figures.pleased,
            figures.rated,
            medians["accepted_at"].get(key),
            medians["resolved_at"].get(key),
        )

    by_group = {g: with_medians(f, g) for g, f in by_group.items()}
    total = with_medians(total, "*")
    return Statistics(since, until, by_group, by_category, total)
