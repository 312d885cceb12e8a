"""The office's figures: a period's counts, aggregated in SQL, and its durations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from storage.db import Connection, Row, fetch_all

# Counted from the covering index reports_stats alone; each category's time
# limits are inlined as CASE expressions (one pass, no join).
_COUNTS = """
SELECT group_key, category, COUNT(*) AS cases,
  SUM(CASE WHEN accepted_at - created_at <= CASE category {accept} END THEN 1 ELSE 0 END),
  SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN resolved_at - created_at <= CASE category {resolve} END THEN 1 ELSE 0 END),
  SUM(CASE WHEN rating IN ('satisfied', 'basically') THEN 1 ELSE 0 END),
  SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END)
FROM reports INDEXED BY reports_stats
WHERE created_at >= ? AND created_at < ?
GROUP BY group_key, category
"""

# The same counts per area (a case outside every area, or filed before areas, has none).
_AREA_COUNTS = """
SELECT area, COUNT(*) AS cases,
  SUM(CASE WHEN accepted_at - created_at <= CASE category {accept} END THEN 1 ELSE 0 END),
  SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN resolved_at - created_at <= CASE category {resolve} END THEN 1 ELSE 0 END),
  SUM(CASE WHEN rating IN ('satisfied', 'basically') THEN 1 ELSE 0 END),
  SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END)
FROM reports INDEXED BY reports_stats
WHERE created_at >= ? AND created_at < ? AND area IS NOT NULL
GROUP BY area
"""

# Medians are taken in Python from these durations: measured on 1,000,000 cases,
# window functions over the period took 660 ms for 30 days (9.4 s for a year)
# against 100 ms (1.8 s) for reading the durations off the covering index and
# sorting them here.
_DURATIONS = """
SELECT group_key, category, accepted_at - created_at, resolved_at - created_at
FROM reports INDEXED BY reports_stats
WHERE created_at >= ? AND created_at < ?
  AND (accepted_at IS NOT NULL OR resolved_at IS NOT NULL)
"""
DURATION_CHUNK = 5000

# (group_key, category, cases, accepted_in_time, resolved, resolved_in_time, pleased, rated)
CountRow = tuple[str, str, int, int, int, int, int, int]


def _deadlines(limits: Sequence[tuple[str, float, float]]) -> tuple[str, list[object]]:
    """The CASE branches giving each category's deadline, and their parameters: one
    "WHEN ? THEN …" per category serves both CASEs (accept, resolve); only the parameters
    differ. The cast tells PostgreSQL the parameter is a number, not text."""
    whens = " ".join("WHEN ? THEN CAST(? AS DOUBLE PRECISION)" for _ in limits)
    params: list[object] = [x for key, accept_s, _ in limits for x in (key, accept_s)]
    params += [x for key, _, resolve_s in limits for x in (key, resolve_s)]
    return whens, params


async def counts(
    conn: Connection,
    since: float,
    until: float,
    limits: Sequence[tuple[str, float, float]],
) -> list[CountRow]:
    """Per (group, category) counts of cases filed in [since, until), one row each."""
    whens, params = _deadlines(limits)
    sql = _COUNTS.format(accept=whens, resolve=whens)
    rows = await fetch_all(conn, sql, (*params, since, until))
    # Whole counts whatever the driver returns (SQLite's SUM of integers is one already).
    return [
        (r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7])) for r in rows
    ]


# (area, cases, accepted_in_time, resolved, resolved_in_time, pleased, rated)
AreaRow = tuple[str, int, int, int, int, int, int]


async def area_counts(
    conn: Connection,
    since: float,
    until: float,
    limits: Sequence[tuple[str, float, float]],
) -> list[AreaRow]:
    """Per area counts of cases filed in [since, until), one row each."""
    whens, params = _deadlines(limits)
    sql = _AREA_COUNTS.format(accept=whens, resolve=whens)
    rows = await fetch_all(conn, sql, (*params, since, until))
    return [(r[0], *(int(x or 0) for x in r[1:])) for r in rows]  # type: ignore[misc]


async def open_by_area(conn: Connection, statuses: Sequence[str]) -> dict[str, int]:
    """How many cases in one of `statuses` (the open ones) each area has now."""
    marks = ",".join("?" * len(statuses))
    rows = await fetch_all(
        conn,
        f"SELECT area, COUNT(*) FROM reports WHERE status IN ({marks}) AND area IS NOT NULL"
        " GROUP BY area",
        tuple(statuses),
    )
    return {r[0]: int(r[1]) for r in rows}


async def durations(conn: Connection, since: float, until: float) -> AsyncIterator[list[Row]]:
    """(group, category, seconds to accept, seconds to resolve) of the period's handled
    cases, a chunk at a time, so a year of cases never sits in memory at once."""
    cursor = await conn.execute(_DURATIONS, (since, until))
    try:
        while rows := await cursor.fetchmany(DURATION_CHUNK):
            yield list(rows)
    finally:
        await cursor.close()
