"""Submitted reports and the history of what happened to each."""

from __future__ import annotations

import json
import sqlite3

from reports.records import Event, Report
from storage.db import Connection, execute, fetch_all, fetch_one, fetch_value, serialise

# The advisory lock a filing holds while it numbers its ticket (see storage.postgres's keys).
TICKET_LOCK = 0x0C1B1C_0017


def _report(row: sqlite3.Row | None) -> Report | None:
    if row is None:
        return None
    data = dict(row)
    data["photos"] = tuple(json.loads(data["photos"]))
    return Report(**data)


async def counts_for_filing(
    conn: Connection, resident_id: int, since: float, ticket_prefix: str
) -> tuple[int, int]:
    """The resident's reports since `since`, and all reports whose ticket has the prefix.

    The count numbers the next ticket: on PostgreSQL the filing transaction holds a lock
    from here to its end, so two processes filing at once do not count the same reports.
    """
    await serialise(conn, TICKET_LOCK)
    row = await fetch_one(
        conn,
        "SELECT (SELECT COUNT(*) FROM reports WHERE resident_id = ? AND created_at >= ?),"
        " (SELECT COUNT(*) FROM reports WHERE ticket >= ? AND ticket < ?)",
        (resident_id, since, ticket_prefix, ticket_prefix + "\uffff"),
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def insert(
    conn: Connection,
    *,
    ticket: str,
    resident_id: int,
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
    area: str | None = None,
) -> Report:
    row = await fetch_one(
        conn,
        "INSERT INTO reports (ticket, resident_id, text, category, group_key,"
        " confidence, photos, latitude, longitude, address, status, created_at, updated_at,"
        " assigned_at, area) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING *",
        (
            ticket,
            resident_id,
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
            now,
            area,
        ),
    )
    report = _report(row)
    assert report is not None
    return report


async def get(conn: Connection, report_id: int) -> Report | None:
    return _report(await fetch_one(conn, "SELECT * FROM reports WHERE id = ?", (report_id,)))


async def nearby(
    conn: Connection,
    *,
    category: str,
    statuses: tuple[str, ...],
    since: float,
    lat_range: tuple[float, float],
    lon_range: tuple[float, float],
) -> list[Report]:
    """Cases of a category, in given states, filed since `since`, located in a box."""
    marks = ",".join("?" * len(statuses))
    rows = await fetch_all(
        conn,
        f"SELECT * FROM reports WHERE category = ? AND status IN ({marks})"
        " AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ? AND created_at >= ?"
        " ORDER BY created_at",
        (category, *statuses, *lat_range, *lon_range, since),
    )
    return [r for r in map(_report, rows) if r is not None]


async def follow(conn: Connection, report_id: int, resident_id: int, now: float) -> bool:
    """Add a follower; False if they follow it already or reported it themselves, so that
    a case's followers are distinct people other than its reporter."""
    row = await fetch_one(
        conn,
        "INSERT INTO followers (report_id, resident_id, at) SELECT ?,?,?"
        " WHERE NOT EXISTS (SELECT 1 FROM reports WHERE id = ? AND resident_id = ?)"
        " ON CONFLICT DO NOTHING RETURNING report_id",
        (report_id, resident_id, now, report_id, resident_id),
    )
    return row is not None


async def followers(conn: Connection, report_id: int) -> list[int]:
    """The residents following a case, in the order they joined."""
    rows = await fetch_all(
        conn, "SELECT resident_id FROM followers WHERE report_id = ? ORDER BY at", (report_id,)
    )
    return [r[0] for r in rows]


EXPORT_COLUMNS = (
    "ticket",
    "category",
    "group_key",
    "status",
    "created_at",
    "accepted_at",
    "resolved_at",
    "rated_at",
    "rating",
    "reopened",
    "latitude",
    "longitude",
    "address",
    "area",
    "text",
)


async def export_chunk(
    conn: Connection, since: float, until: float, after_id: int, limit: int
) -> list[sqlite3.Row]:
    """The next `limit` cases filed in [since, until) after id `after_id` (no resident ids)."""
    columns = ", ".join(EXPORT_COLUMNS)
    return await fetch_all(
        conn,
        f"SELECT id, {columns} FROM reports WHERE created_at >= ? AND created_at < ?"
        " AND id > ? ORDER BY id LIMIT ?",
        (since, until, after_id, limit),
    )


async def by_ticket(conn: Connection, ticket: str) -> Report | None:
    return _report(await fetch_one(conn, "SELECT * FROM reports WHERE ticket = ?", (ticket,)))


async def of_resident(conn: Connection, resident_id: int, limit: int) -> list[Report]:
    rows = await fetch_all(
        conn,
        "SELECT * FROM reports WHERE resident_id = ? ORDER BY id DESC LIMIT ?",
        (resident_id, limit),
    )
    return [r for r in map(_report, rows) if r is not None]


async def count_of_resident(conn: Connection, resident_id: int) -> int:
    return int(
        await fetch_value(
            conn, "SELECT COUNT(*) FROM reports WHERE resident_id = ?", (resident_id,)
        )
    )


async def set_status(
    conn: Connection,
    report_id: int,
    *,
    expected: str,
    status: str,
    now: float,
    note: str | None = None,
) -> Report | None:
    """Change the status only if it is still `expected` (two staff pressing at once)."""
    row = await fetch_one(
        conn,
        "UPDATE reports SET status = ?, note = COALESCE(?, note), updated_at = ?,"
        " accepted_at = CASE WHEN ? = 'accepted' THEN COALESCE(accepted_at, ?)"
        " ELSE accepted_at END,"
        " resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE resolved_at END"
        " WHERE id = ? AND status = ? RETURNING *",
        (status, note, now, status, now, status, now, report_id, expected),
    )
    return _report(row)


async def reassign(
    conn: Connection, report_id: int, *, expected: str, group_key: str, status: str, now: float
) -> Report | None:
    """Hand a case to another group: a new assignment, so its old alert is not its alert."""
    row = await fetch_one(
        conn,
        "UPDATE reports SET group_key = ?, status = ?, updated_at = ?, assigned_at = ?"
        " WHERE id = ? AND status = ? RETURNING *",
        (group_key, status, now, now, report_id, expected),
    )
    return _report(row)


async def open_cases(conn: Connection, statuses: tuple[str, ...], before: float) -> list[Report]:
    """Cases in one of `statuses` that reached their group before `before`."""
    marks = ",".join("?" * len(statuses))
    rows = await fetch_all(
        conn,
        f"SELECT * FROM reports WHERE status IN ({marks}) AND assigned_at < ?",
        (*statuses, before),
    )
    return [r for r in map(_report, rows) if r is not None]


async def created_since(conn: Connection, since: float) -> list[Report]:
    rows = await fetch_all(
        conn, "SELECT * FROM reports WHERE created_at >= ? ORDER BY id", (since,)
    )
    return [r for r in map(_report, rows) if r is not None]


async def record_notice(
    conn: Connection,
    report_id: int,
    *,
    assigned_at: float,
    kind: str,
    level: str,
    late: float,
    now: float,
) -> bool:
    """Write down a deadline notice; False if this one was written before."""
    row = await fetch_one(
        conn,
        "INSERT INTO deadline_notices (report_id, assigned_at, kind, level, late, at)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id",
        (report_id, assigned_at, kind, level, late, now),
    )
    return row is not None


async def rate(
    conn: Connection, report_id: int, *, rating: str, status: str, expected: str, now: float
) -> Report | None:
    """Record the resident's rating (once) and the status it leads to."""
    row = await fetch_one(
        conn,
        "UPDATE reports SET rating = ?, rated_at = ?, status = ?, updated_at = ?"
        " WHERE id = ? AND status = ? AND rating IS NULL RETURNING *",
        (rating, now, status, now, report_id, expected),
    )
    return _report(row)


async def reopen(conn: Connection, report_id: int, *, now: float) -> Report | None:
    """Send a resolved case back to its group, flagged, as a new assignment."""
    row = await fetch_one(
        conn,
        "UPDATE reports SET status = 'reopened', reopened = reopened + 1, updated_at = ?,"
        " assigned_at = ? WHERE id = ? AND status = 'resolved' RETURNING *",
        (now, now, report_id),
    )
    return _report(row)


async def resolved_before(conn: Connection, before: float) -> list[Report]:
    """Resolved cases nobody rated, resolved before `before`."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM reports WHERE status = 'resolved' AND rating IS NULL AND updated_at < ?",
        (before,),
    )
    return [r for r in map(_report, rows) if r is not None]


async def add_event(
    conn: Connection,
    report_id: int,
    *,
    action: str,
    status: str,
    actor_id: int | None,
    actor_name: str | None,
    note: str | None,
    now: float,
    group_key: str,
    to_group: str | None = None,
) -> None:
    await execute(
        conn,
        "INSERT INTO report_events (report_id, action, status, actor_id, actor_name, note, at,"
        " group_key, to_group) VALUES (?,?,?,?,?,?,?,?,?)",
        (report_id, action, status, actor_id, actor_name, note, now, group_key, to_group),
    )


async def events(conn: Connection, report_id: int) -> list[Event]:
    rows = await fetch_all(
        conn, "SELECT * FROM report_events WHERE report_id = ? ORDER BY id", (report_id,)
    )
    return [Event(**dict(r)) for r in rows]
