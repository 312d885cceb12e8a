"""The inbox: every update taken in, kept until handled, and the processes' heartbeats."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Connection, execute, execute_count, fetch_all, fetch_value, skip_locked


@dataclass(frozen=True)
class Received:
    """An update in the inbox that a process is to handle."""

    id: int
    channel: str
    sender: str
    payload: str


async def record(
    conn: Connection,
    channel: str,
    key: str,
    sender: str,
    payload: str,
    holder: str,
    now: float,
) -> int | None:
    """Keep an update for `holder` to handle; None if the channel's `key` is known already
    (a redelivery of an update some process took in)."""
    return await fetch_value(
        conn,
        "INSERT INTO inbox (channel, key, sender, payload, received_at, holder)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT (channel, key) DO NOTHING RETURNING id",
        (channel, key, sender, payload, now, holder),
    )


async def record_many(
    conn: Connection,
    channel: str,
    updates: list[tuple[str, str, str]],
    holder: str,
    now: float,
) -> list[int | None]:
    """`record` for several (key, sender, payload), in one transaction (`conn` in one)."""
    return [await record(conn, channel, *update, holder, now) for update in updates]


async def first_waiting(conn: Connection, sender: str) -> int | None:
    """The sender's earliest update not yet handled: the one whose turn it is."""
    return await fetch_value(
        conn,
        "SELECT id FROM inbox WHERE sender = ? AND done_at IS NULL ORDER BY id LIMIT 1",
        (sender,),
    )


async def finish(conn: Connection, update_id: int, now: float) -> None:
    """Record that an update was handled: the sender's next one may go."""
    await execute(conn, "UPDATE inbox SET done_at = ? WHERE id = ?", (now, update_id))


async def take_over(
    conn: Connection, channel: str, holder: str, now: float, limit: int
) -> list[Received]:
    """Give `holder` a channel's unhandled updates whose holder is dead (its heartbeat ran
    out, or it has none), oldest first; rows another process takes at once are skipped."""
    rows = await fetch_all(
        conn,
        "UPDATE inbox SET holder = ? WHERE id IN (SELECT i.id FROM inbox i"
        " WHERE i.channel = ? AND i.done_at IS NULL AND i.holder <> ? AND NOT EXISTS"
        " (SELECT 1 FROM processes p WHERE p.name = i.holder AND p.alive_until > ?)"
        f" ORDER BY i.id LIMIT ?{skip_locked(conn)}) RETURNING id, channel, sender, payload",
        (holder, channel, holder, now, limit),
    )
    return sorted((Received(*r) for r in rows), key=lambda r: r.id)


async def beat(conn: Connection, name: str, now: float, alive_until: float) -> None:
    """Say that process `name` is alive until `alive_until`."""
    await execute(
        conn,
        "INSERT INTO processes (name, started_at, alive_until) VALUES (?,?,?)"
        " ON CONFLICT (name) DO UPDATE SET alive_until = excluded.alive_until",
        (name, now, alive_until),
    )


async def alive(conn: Connection, now: float) -> int:
    """How many processes serve the database now (their heartbeat has not run out)."""
    return int(
        await fetch_value(conn, "SELECT COUNT(*) FROM processes WHERE alive_until > ?", (now,)) or 0
    )


async def forget_others(conn: Connection, name: str) -> None:
    """Declare every other process dead: on a database only this process uses (SQLite),
    whatever was there before it died or stopped."""
    await execute(conn, "DELETE FROM processes WHERE name <> ?", (name,))


async def sign_off(conn: Connection, name: str) -> None:
    """A stopping process leaves: what it still holds is taken over at once."""
    await execute(conn, "DELETE FROM processes WHERE name = ?", (name,))


async def forget_handled(conn: Connection, before: float) -> int:
    """Delete updates handled before `before` (kept a while to recognise redeliveries),
    and the heartbeats of processes dead since then."""
    await execute(conn, "DELETE FROM processes WHERE alive_until < ?", (before,))
    return await execute_count(conn, "DELETE FROM inbox WHERE done_at < ?", (before,))
