"""The support-rate survey: rounds, and each resident's answer in a round."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_all, fetch_one


async def latest_round(conn: Connection) -> tuple[int, float] | None:
    """(id, started_at) of the newest round; None before the first."""
    row = await fetch_one(conn, "SELECT id, started_at FROM survey_rounds ORDER BY id DESC LIMIT 1")
    return None if row is None else (int(row[0]), row[1])


async def recent_rounds(conn: Connection, limit: int) -> list[tuple[int, float]]:
    """(id, started_at) of the newest `limit` rounds, oldest first."""
    rows = await fetch_all(
        conn, "SELECT id, started_at FROM survey_rounds ORDER BY id DESC LIMIT ?", (limit,)
    )
    return [(int(r[0]), float(r[1])) for r in reversed(rows)]


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
    column: str,
    value: str | int | None,
    now: float,
) -> None:
    """Record one of the resident's answers in the round (support, aware, volunteer,
    reason, reason_text); the others stay as they were. The answer keeps the
    resident's profile as it is now."""
    assert column in ANSWER_COLUMNS, column
    await execute(
        conn,
        f"INSERT INTO survey_answers (round_id, resident_id, {column}, at) VALUES (?,?,?,?)"
        f" ON CONFLICT (round_id, resident_id) DO UPDATE SET {column} = excluded.{column},"
        " at = excluded.at",
        (round_id, resident_id, value, now),
    )
    await stamp_profile(conn, round_id, resident_id)


ANSWER_COLUMNS = frozenset({"support", "aware", "volunteer", "reason", "reason_text"})
PROFILE_COLUMNS = frozenset({"community", "age", "lived"})


async def stamp_profile(conn: Connection, round_id: int, resident_id: int) -> None:
    """Copy the resident's profile onto their answer in the round (if any)."""
    await execute(
        conn,
        "UPDATE survey_answers SET"
        " community = (SELECT community FROM survey_profiles WHERE resident_id = ?),"
        " age = (SELECT age FROM survey_profiles WHERE resident_id = ?),"
        " lived = (SELECT lived FROM survey_profiles WHERE resident_id = ?)"
        " WHERE round_id = ? AND resident_id = ?",
        (resident_id, resident_id, resident_id, round_id, resident_id),
    )


async def profile(conn: Connection, resident_id: int) -> tuple[str | None, str | None, int | None]:
    """(community, age, lived) of the resident; all None before they said anything."""
    row = await fetch_one(
        conn,
        "SELECT community, age, lived FROM survey_profiles WHERE resident_id = ?",
        (resident_id,),
    )
    return (None, None, None) if row is None else (row[0], row[1], row[2])


async def save_profile(
    conn: Connection, resident_id: int, column: str, value: str | int, now: float
) -> None:
    """Set one item of the resident's profile."""
    assert column in PROFILE_COLUMNS, column
    await execute(
        conn,
        f"INSERT INTO survey_profiles (resident_id, {column}, at) VALUES (?,?,?)"
        f" ON CONFLICT (resident_id) DO UPDATE SET {column} = excluded.{column},"
        " at = excluded.at",
        (resident_id, value, now),
    )


async def answers(
    conn: Connection, round_id: int
) -> list[tuple[str | None, str | None, int | None, str | None, int | None, str | None]]:
    """Every answer of the round: (community, age, lived, support, aware, volunteer)."""
    rows = await fetch_all(
        conn,
        "SELECT community, age, lived, support, aware, volunteer FROM survey_answers"
        " WHERE round_id = ? ORDER BY at, resident_id",
        (round_id,),
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def reasons(conn: Connection, round_id: int) -> list[tuple[str, int]]:
    """The round's reasons for 不太支持 / 不支持, most given first: (reason, count)."""
    rows = await fetch_all(
        conn,
        "SELECT reason, COUNT(*) FROM survey_answers WHERE round_id = ? AND reason IS NOT NULL"
        " AND support IN ('rather_not', 'against') GROUP BY reason ORDER BY COUNT(*) DESC, reason",
        (round_id,),
    )
    return [(r[0], int(r[1])) for r in rows]


async def reason_texts(conn: Connection, round_id: int, limit: int) -> list[tuple[float, str]]:
    """The round's free-text reasons, most recent first: (at, text)."""
    rows = await fetch_all(
        conn,
        "SELECT at, reason_text FROM survey_answers WHERE round_id = ?"
        " AND reason_text IS NOT NULL AND support IN ('rather_not', 'against')"
        " ORDER BY at DESC, resident_id LIMIT ?",
        (round_id, limit),
    )
    return [(r[0], r[1]) for r in rows]


EXPORT_COLUMNS = (
    "round_id",
    "at",
    "community",
    "age",
    "lived",
    "support",
    "aware",
    "volunteer",
    "reason",
    "reason_text",
)


async def export_rows(conn: Connection) -> list[tuple[object, ...]]:
    """Every answer of every round, oldest first, without who gave it (EXPORT_COLUMNS)."""
    rows = await fetch_all(
        conn,
        f"SELECT {', '.join(EXPORT_COLUMNS)} FROM survey_answers ORDER BY round_id, at",
    )
    return [tuple(r) for r in rows]
