"""Residents: our own id for each (channel, external id) a resident writes from."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_one, fetch_value


async def resolve(conn: Connection, channel: str, external_id: str, now: float) -> int:
    """Our id for a channel's resident, creating it on first sight."""
    # Two statements, not an upsert with RETURNING: ON CONFLICT DO NOTHING returns
    # no row for a resident who exists already.
    await execute(
        conn,
        "INSERT INTO residents (channel, external_id, created_at) VALUES (?,?,?)"
        " ON CONFLICT DO NOTHING",
        (channel, external_id, now),
    )
    value = await fetch_value(
        conn,
        "SELECT id FROM residents WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    )
    return int(value)


async def lookup(conn: Connection, channel: str, external_id: str) -> int | None:
    """Our id for a channel's resident, or None if they never wrote."""
    value = await fetch_value(
        conn,
        "SELECT id FROM residents WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    )
    return None if value is None else int(value)


async def external(conn: Connection, resident_id: int) -> tuple[str, str] | None:
    """The channel and the channel's own id of one of our residents."""
    row = await fetch_one(
        conn, "SELECT channel, external_id FROM residents WHERE id = ?", (resident_id,)
    )
    return None if row is None else (str(row[0]), str(row[1]))


async def touch(conn: Connection, resident_id: int, at: float) -> None:
    """The resident wrote at `at`."""
    await execute(
        conn,
        "UPDATE residents SET last_message_at = ? WHERE id = ?"
        " AND (last_message_at IS NULL OR last_message_at < ?)",
        (at, resident_id, at),
    )


async def last_message_at(conn: Connection, resident_id: int) -> float | None:
    value = await fetch_value(
        conn, "SELECT last_message_at FROM residents WHERE id = ?", (resident_id,)
    )
    return None if value is None else float(value)
