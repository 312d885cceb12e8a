"""Push runs: one per kind and day, with a row per recipient saying how delivery went."""

from __future__ import annotations

from quizzes.records import Progress, Recipient
from storage.db import Connection, execute, fetch_all, fetch_one, fetch_value


async def insert_run(conn: Connection, kind: str, day: str, now: float) -> int | None:
    """Create the run of a kind for a day; its id, or None if that run already exists."""
    row = await fetch_one(
        conn,
        "INSERT INTO push_runs (kind, day, created_at) VALUES (?,?,?)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (kind, day, now),
    )
    return None if row is None else int(row[0])


async def add_subscribers(conn: Connection, run_id: int, now: float) -> None:
    """Add every active quiz subscriber to the run, due now."""
    # one INSERT ... SELECT, so the run gets exactly the subscribers of this moment
    await execute(
        conn,
        "INSERT INTO push_recipients (run_id, resident_id, next_at)"
        " SELECT ?, resident_id, ? FROM quiz_subscribers WHERE active = 1",
        (run_id, now),
    )


async def progress(conn: Connection, kind: str, day: str | None) -> Progress | None:
    """Recipients per state of the run of a kind on a day (None: the latest run of the kind)."""
    run = await fetch_one(
        conn,
        "SELECT id, day FROM push_runs WHERE kind = ? AND (CAST(? AS TEXT) IS NULL OR day = ?)"
        " ORDER BY id DESC LIMIT 1",
        (kind, day, day),
    )
    if run is None:
        return None
    rows = await fetch_all(
        conn,
        "SELECT status, COUNT(*) FROM push_recipients WHERE run_id = ? GROUP BY status",
        (run[0],),
    )
    counts = {r[0]: r[1] for r in rows}
    return Progress(
        run[0],
        run[1],
        counts.get("sent", 0),
        counts.get("pending", 0),
        counts.get("failed", 0),
        counts.get("skipped", 0),
    )


async def due(conn: Connection, channel: str, now: float, limit: int) -> list[Recipient]:
    """Up to `limit` of a channel's pending recipients due by `now`, the longest waiting first."""
    rows = await fetch_all(
        conn,
        "SELECT x.run_id, x.resident_id, p.external_id, x.attempts, r.kind"
        " FROM push_recipients x JOIN push_runs r ON r.id = x.run_id"
        " JOIN residents p ON p.id = x.resident_id"
        " WHERE p.channel = ? AND x.status = 'pending' AND x.next_at <= ?"
        " ORDER BY x.next_at LIMIT ?",
        (channel, now, limit),
    )
    return [Recipient(*tuple(r)) for r in rows]


async def next_due_at(conn: Connection, channel: str) -> float | None:
    """When a channel's earliest pending recipient is due; None if nobody is pending."""
    return await fetch_value(
        conn,
        "SELECT MIN(x.next_at) FROM push_recipients x JOIN residents p ON p.id = x.resident_id"
        " WHERE p.channel = ? AND x.status = 'pending'",
        (channel,),
    )


async def mark_sent(conn: Connection, run_id: int, resident_id: int, now: float) -> None:
    """The push reached the recipient."""
    await execute(
        conn,
        "UPDATE push_recipients SET status = 'sent', sent_at = ?, error = NULL"
        " WHERE run_id = ? AND resident_id = ?",
        (now, run_id, resident_id),
    )


async def retry_later(
    conn: Connection, run_id: int, resident_id: int, at: float, error: str
) -> None:
    """Count a failed attempt and make the recipient due again at `at`."""
    await execute(
        conn,
        "UPDATE push_recipients SET attempts = attempts + 1, next_at = ?, error = ?"
        " WHERE run_id = ? AND resident_id = ?",
        (at, error, run_id, resident_id),
    )


async def mark_skipped(conn: Connection, run_id: int, resident_id: int, reason: str) -> None:
    """The recipient's channel may not reach them now (outside its window): not sent."""
    await execute(
        conn,
        "UPDATE push_recipients SET status = 'skipped', error = ?"
        " WHERE run_id = ? AND resident_id = ?",
        (reason, run_id, resident_id),
    )


async def mark_failed(conn: Connection, run_id: int, resident_id: int, error: str) -> None:
    """The push can never reach the recipient."""
    await execute(
        conn,
        "UPDATE push_recipients SET status = 'failed', error = ?"
        " WHERE run_id = ? AND resident_id = ?",
        (error, run_id, resident_id),
    )
