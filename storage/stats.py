"""The office's figures: counts and medians over a period's reports, aggregated in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Connection, fetch_all

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

# The column is spliced into the SQL text, so only these may reach it.
TIME_COLUMNS: frozenset[str] = frozenset({"accepted_at", "resolved_at"})

# (group_key, category, cases, accepted_in_time, resolved, resolved_in_time, pleased, rated)
CountRow = tuple[str, str, int, int, int, int, int, int]


async def counts(
    conn: Connection,
    since: float,
    until: float,
    limits: Sequence[tuple[str, float, float]],
) -> list[CountRow]:
    """Per (group, category) counts of cases filed in [since, until), one row each."""
    # One "WHEN ? THEN ?" per category serves both CASEs; only the parameters differ.
    accept = " ".join("WHEN ? THEN ?" for _ in limits)
    params = [x for key, accept_s, _ in limits for x in (key, accept_s)]
    params += [x for key, _, resolve_s in limits for x in (key, resolve_s)]
    sql = _COUNTS.format(accept=accept, resolve=accept)
    rows = await fetch_all(conn, sql, (*params, since, until))
    # TOTAL() gives floats; the figures are whole counts.
    return [
        (r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7])) for r in rows
    ]


async def medians(conn: Connection, since: float, until: float, column: str) -> dict[str, float]:
    """Median seconds from filing to `column` per group, and over all groups under '*'."""
    if column not in TIME_COLUMNS:
        raise ValueError(f"not a time column: {column!r}")
    rows = await fetch_all(conn, _MEDIANS.format(column=column), (since, until))
    return {row[0]: row[1] for row in rows}
