"""Report drafts: what a resident is composing before pressing 确认."""

from __future__ import annotations

import json
import sqlite3

from reports.records import Draft
from storage.db import Connection, execute, execute_count, fetch_one


def _draft(row: sqlite3.Row | None) -> Draft | None:
    if row is None:
        return None
    data = dict(row)
    data["keywords"] = tuple(json.loads(data["keywords"]))
    data["photos"] = tuple(json.loads(data["photos"]))
    return Draft(**data)


async def insert(
    conn: Connection,
    *,
    resident_id: int,
    text: str,
    category: str,
    confidence: float,
    keywords: tuple[str, ...],
    photos: tuple[str, ...],
    media_group_id: str | None,
    now: float,
    unless_reports_since: tuple[float, int],
) -> Draft | None:
    """Insert a draft unless the resident filed `limit` reports since `since`: one statement,
    so the check and the insert cannot be split by anything else."""
    since, limit = unless_reports_since
    row = await fetch_one(
        conn,
        "INSERT INTO drafts (resident_id, text, category, confidence, keywords,"
        " photos, media_group_id, created_at, updated_at) SELECT ?,?,?,?,?,?,?,?,?"
        " WHERE (SELECT COUNT(*) FROM reports WHERE resident_id = ? AND created_at >= ?) < ?"
        " RETURNING *",
        (
            resident_id,
            text,
            category,
            confidence,
            json.dumps(list(keywords), ensure_ascii=False),
            json.dumps(list(photos)),
            media_group_id,
            now,
            now,
            resident_id,
            since,
            limit,
        ),
    )
    return _draft(row)


async def get(conn: Connection, draft_id: int) -> Draft | None:
    return _draft(await fetch_one(conn, "SELECT * FROM drafts WHERE id = ?", (draft_id,)))


async def latest_open(conn: Connection, resident_id: int, since: float) -> Draft | None:
    """The resident's most recently touched open draft, if touched since `since`."""
    row = await fetch_one(
        conn,
        "SELECT * FROM drafts WHERE resident_id = ? AND status = 'open' AND updated_at >= ?"
        " ORDER BY updated_at DESC, id DESC LIMIT 1",
        (resident_id, since),
    )
    return _draft(row)


async def update(conn: Connection, draft_id: int, now: float, **fields: object) -> Draft:
    """Set the given columns (photos and keywords as tuples), touch updated_at, return it."""
    values = {
        k: json.dumps(list(v), ensure_ascii=False) if k in ("photos", "keywords") else v
        for k, v in fields.items()
    }
    values["updated_at"] = now
    assignments = ", ".join(f"{k} = ?" for k in values)
    row = await fetch_one(
        conn,
        f"UPDATE drafts SET {assignments} WHERE id = ? RETURNING *",
        (*values.values(), draft_id),
    )
    draft = _draft(row)
    assert draft is not None, f"draft {draft_id} vanished"
    return draft


async def close(
    conn: Connection, draft_id: int, status: str, now: float, report_id: int | None
) -> Draft | None:
    """Move an open draft to submitted or cancelled; None if it was no longer open."""
    row = await fetch_one(
        conn,
        "UPDATE drafts SET status = ?, report_id = ?, updated_at = ?"
        " WHERE id = ? AND status = 'open' RETURNING *",
        (status, report_id, now, draft_id),
    )
    return _draft(row)


async def offer(conn: Connection, draft_id: int, report_id: int) -> None:
    """Remember the open case offered to an open draft: the only one it may follow."""
    await execute(
        conn,
        "UPDATE drafts SET offered_report_id = ? WHERE id = ? AND status = 'open'",
        (report_id, draft_id),
    )


async def delete_untouched_since(conn: Connection, before: float) -> int:
    """Delete drafts last touched before `before`: closed ones, and open ones long expired."""
    return await execute_count(conn, "DELETE FROM drafts WHERE updated_at < ?", (before,))
