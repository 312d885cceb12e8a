"""The support-rate survey: rounds, and each resident's answer in a round."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_all, fetch_one


async def latest_round(conn: Connection) -> tuple[int, float] | None:
    """(id, started_at) of the newest round; None before the first."""
    row = await fetch_one(conn, "SELECT id, started_at FROM survey_rounds ORDER BY id DESC LIMIT 1")
    return None if row is None else (int(row[0]), row[1])


async def insert_round(conn: Connection, now: float) -> int:
    """Start a round now; its id."""
    row = await fetch_one(
        conn, "INSERT INTO survey_rounds (started_at) VALUES (?) RETURNING id", (now,)
    )
    assert row is not None
    return int(row[0])


async def save_answer(
    conn: Connection,
    round_id: int,
    resident_id: int,
    support: str | None,
    aware: bool | None,
    now: float,
) -> None:
    """Record the resident's answer in the round; a None leaves an earlier answer as it was."""
    await execute(
        conn,
        "INSERT INTO survey_answers (round_id, resident_id, support, aware, at)"
        " VALUES (?,?,?,?,?) ON CONFLICT (round_id, resident_id) DO UPDATE SET"
        " support = COALESCE(excluded.support, support),"
        " aware = COALESCE(excluded.aware, aware), at = excluded.at",
        (round_id, resident_id, support, None if aware is None else int(aware), now),
    )


async def figures(conn: Connection, rounds: int) -> list[tuple[int, float, int, int, int, int]]:
    """Newest rounds first: (id, started_at, respondents, supporting, aware, answered_aware)."""
    rows = await fetch_all(
        conn,
        "SELECT r.id, r.started_at, COUNT(a.support),"
        " SUM(CASE WHEN a.support IN ('support', 'rather') THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN a.aware = 1 THEN 1 ELSE 0 END), COUNT(a.aware)"
        " FROM survey_rounds r LEFT JOIN survey_answers a ON a.round_id = r.id"
        " GROUP BY r.id ORDER BY r.id DESC LIMIT ?",
        (rounds,),
    )
    return [(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]
