"""Nominations of 身边好人: good deeds residents recommend, and the group's decision."""

from __future__ import annotations

import json
import sqlite3

from reports.records import Nomination, Report
from storage.db import Connection, execute, execute_count, fetch_all, fetch_one
from storage.reports import _report


def _nomination(row: sqlite3.Row | None) -> Nomination | None:
    if row is None:
        return None
    data = dict(row)
    data["photos"] = tuple(json.loads(data["photos"]))
    return Nomination(**data)


async def open_new(
    conn: Connection,
    resident_id: int,
    text: str,
    occurred: str,
    now: float,
    photos: tuple[str, ...] = (),
) -> Nomination:
    """Cancel the resident's open nomination, if any, and open a new one (one at a time)."""
    await execute(
        conn,
        "UPDATE nominations SET status = 'cancelled', updated_at = ?"
        " WHERE resident_id = ? AND status = 'open'",
        (now, resident_id),
    )
    row = await fetch_one(
        conn,
        "INSERT INTO nominations (resident_id, text, photos, occurred, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?) RETURNING *",
        (resident_id, text, json.dumps(list(photos)), occurred, now, now),
    )
    nomination = _nomination(row)
    assert nomination is not None
    return nomination


async def get(conn: Connection, nomination_id: int) -> Nomination | None:
    return _nomination(
        await fetch_one(conn, "SELECT * FROM nominations WHERE id = ?", (nomination_id,))
    )


async def latest_open(conn: Connection, resident_id: int, since: float) -> Nomination | None:
    """The resident's open nomination, if touched since `since`."""
    row = await fetch_one(
        conn,
        "SELECT * FROM nominations WHERE resident_id = ? AND status = 'open' AND updated_at >= ?"
        " ORDER BY updated_at DESC, id DESC LIMIT 1",
        (resident_id, since),
    )
    return _nomination(row)


async def update_open(
    conn: Connection, nomination_id: int, now: float, **fields: object
) -> Nomination | None:
    """Set columns of an open nomination (photos as a tuple) and touch it; None if not open."""
    values = {k: json.dumps(list(v)) if k == "photos" else v for k, v in fields.items()}
    values["updated_at"] = now
    assignments = ", ".join(f"{k} = ?" for k in values)
    row = await fetch_one(
        conn,
        f"UPDATE nominations SET {assignments} WHERE id = ? AND status = 'open' RETURNING *",
        (*values.values(), nomination_id),
    )
    return _nomination(row)


async def close(conn: Connection, nomination_id: int, status: str, now: float) -> Nomination | None:
    """Move an open nomination to submitted or cancelled; None if it was not open."""
    submitted = now if status == "submitted" else None
    row = await fetch_one(
        conn,
        "UPDATE nominations SET status = ?, updated_at = ?, submitted_at = ?"
        " WHERE id = ? AND status = 'open' RETURNING *",
        (status, now, submitted, nomination_id),
    )
    return _nomination(row)


async def decide(
    conn: Connection, nomination_id: int, status: str, staff_id: int, name: str, now: float
) -> Nomination | None:
    """Select or decline a submitted nomination; None if it is not waiting for a decision."""
    row = await fetch_one(
        conn,
        "UPDATE nominations SET status = ?, decided_at = ?, decided_by = ?, decided_by_name = ?,"
        " updated_at = ? WHERE id = ? AND status = 'submitted' RETURNING *",
        (status, now, staff_id, name, now, nomination_id),
    )
    return _nomination(row)


async def selected_between(conn: Connection, since: float, until: float) -> list[Nomination]:
    """Nominations selected in [since, until), in the order they were selected."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM nominations WHERE status = 'selected' AND decided_at >= ?"
        " AND decided_at < ? ORDER BY decided_at, id",
        (since, until),
    )
    return [n for n in map(_nomination, rows) if n is not None]


async def count_selected_between(conn: Connection, since: float, until: float) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM nominations WHERE status = 'selected' AND decided_at >= ?"
        " AND decided_at < ?",
        (since, until),
    )
    return int(row[0]) if row is not None else 0


async def recently_resolved(conn: Connection, resident_id: int, since: float) -> Report | None:
    """The resident's case most recently resolved (办结) since `since`, if any."""
    row = await fetch_one(
        conn,
        "SELECT * FROM reports WHERE resident_id = ? AND status = 'resolved'"
        " AND resolved_at >= ? ORDER BY resolved_at DESC, id DESC LIMIT 1",
        (resident_id, since),
    )
    return _report(row)


async def delete_untouched_since(conn: Connection, before: float) -> int:
    """Delete open or cancelled nominations untouched since `before` (submitted ones stay)."""
    return await execute_count(
        conn,
        "DELETE FROM nominations WHERE status IN ('open', 'cancelled') AND updated_at < ?",
        (before,),
    )
