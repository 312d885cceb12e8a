"""Submitted reports and the history of what happened to each."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class Report:
    id: int
    ticket: str
    resident_id: int
    chat_id: int
    text: str
    category: str
    group_key: str
    confidence: float
    photos: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    address: str | None
    status: str
    note: str | None
    alert_chat_id: int | None
    alert_message_id: int | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Event:
    id: int
    report_id: int
    action: str
    status: str
    actor_id: int | None
    actor_name: str | None
    note: str | None
    at: float


def _report(row: sqlite3.Row | None) -> Report | None:
    if row is None:
        return None
    data = dict(row)
    data["photos"] = tuple(json.loads(data["photos"]))
    return Report(**data)


async def count_since(conn: aiosqlite.Connection, resident_id: int, since: float) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM reports WHERE resident_id = ? AND created_at >= ?",
        (resident_id, since),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def count_with_ticket_prefix(conn: aiosqlite.Connection, prefix: str) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM reports WHERE ticket >= ? AND ticket < ?",
        (prefix, prefix + "\uffff"),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def insert(
    conn: aiosqlite.Connection,
    *,
    ticket: str,
    resident_id: int,
    chat_id: int,
    text: str,
    category: str,
    group_key: str,
    confidence: float,
    photos: tuple[str, ...],
    latitude: float | None,
    longitude: float | None,
    address: str | None,
    status: str,
    now: float,
) -> Report:
    cur = await conn.execute(
        "INSERT INTO reports (ticket, resident_id, chat_id, text, category, group_key,"
        " confidence, photos, latitude, longitude, address, status, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            ticket,
            resident_id,
            chat_id,
            text,
            category,
            group_key,
            confidence,
            json.dumps(list(photos)),
            latitude,
            longitude,
            address,
            status,
            now,
            now,
        ),
    )
    report = await get(conn, cur.lastrowid or 0)
    assert report is not None
    return report


async def get(conn: aiosqlite.Connection, report_id: int) -> Report | None:
    async with conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)) as cur:
        return _report(await cur.fetchone())


async def by_ticket(conn: aiosqlite.Connection, ticket: str) -> Report | None:
    async with conn.execute("SELECT * FROM reports WHERE ticket = ?", (ticket,)) as cur:
        return _report(await cur.fetchone())


async def of_resident(conn: aiosqlite.Connection, resident_id: int, limit: int) -> list[Report]:
    async with conn.execute(
        "SELECT * FROM reports WHERE resident_id = ? ORDER BY id DESC LIMIT ?",
        (resident_id, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [r for r in map(_report, rows) if r is not None]


async def count_of_resident(conn: aiosqlite.Connection, resident_id: int) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM reports WHERE resident_id = ?", (resident_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def set_status(
    conn: aiosqlite.Connection,
    report_id: int,
    *,
    expected: str,
    status: str,
    now: float,
    note: str | None = None,
) -> bool:
    """Change the status only if it is still `expected` (two staff pressing at once)."""
    cur = await conn.execute(
        "UPDATE reports SET status = ?, note = COALESCE(?, note), updated_at = ?"
        " WHERE id = ? AND status = ?",
        (status, note, now, report_id, expected),
    )
    return cur.rowcount == 1


async def set_alert(
    conn: aiosqlite.Connection, report_id: int, chat_id: int, message_id: int
) -> None:
    await conn.execute(
        "UPDATE reports SET alert_chat_id = ?, alert_message_id = ? WHERE id = ?",
        (chat_id, message_id, report_id),
    )


async def add_event(
    conn: aiosqlite.Connection,
    report_id: int,
    *,
    action: str,
    status: str,
    actor_id: int | None,
    actor_name: str | None,
    note: str | None,
    now: float,
) -> None:
    await conn.execute(
        "INSERT INTO report_events (report_id, action, status, actor_id, actor_name, note, at)"
        " VALUES (?,?,?,?,?,?,?)",
        (report_id, action, status, actor_id, actor_name, note, now),
    )


async def events(conn: aiosqlite.Connection, report_id: int) -> list[Event]:
    async with conn.execute(
        "SELECT * FROM report_events WHERE report_id = ? ORDER BY id", (report_id,)
    ) as cur:
        rows = await cur.fetchall()
    return [Event(**dict(r)) for r in rows]
