"""Staff: our own id for each (channel, external id) a working group's member acts from."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_one, fetch_value


async def resolve(conn: Connection, channel: str, external_id: str, name: str, now: float) -> int:
    """Our id for a channel's member, creating it on first sight; their latest name kept."""
    await execute(
        conn,
        "INSERT INTO staff (channel, external_id, name, created_at) VALUES (?,?,?,?)"
        " ON CONFLICT (channel, external_id) DO UPDATE SET name = excluded.name"
        " WHERE excluded.name != ''",
        (channel, external_id, name, now),
    )
    value = await fetch_value(
        conn, "SELECT id FROM staff WHERE channel = ? AND external_id = ?", (channel, external_id)
    )
    return int(value)


async def external(conn: Connection, staff_id: int) -> tuple[str, str] | None:
    """The channel and the channel's own id of one of our staff."""
    row = await fetch_one(conn, "SELECT channel, external_id FROM staff WHERE id = ?", (staff_id,))
    return None if row is None else (str(row[0]), str(row[1]))
