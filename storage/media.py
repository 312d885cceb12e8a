"""Photos kept as bytes: those a channel cannot name for the others."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_one, fetch_value


async def keep(
    conn: Connection, channel: str, external_id: str, content_type: str, data: bytes, now: float
) -> int:
    """Store a channel's photo once (a retried message stores nothing twice); its id."""
    await execute(
        conn,
        "INSERT INTO media (channel, external_id, content_type, data, created_at)"
        " VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        (channel, external_id, content_type, data, now),
    )
    value = await fetch_value(
        conn,
        "SELECT id FROM media WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    )
    return int(value)


async def get(conn: Connection, media_id: int) -> tuple[str, bytes] | None:
    row = await fetch_one(conn, "SELECT content_type, data FROM media WHERE id = ?", (media_id,))
    return None if row is None else (str(row[0]), bytes(row[1]))
