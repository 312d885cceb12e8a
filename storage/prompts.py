"""Prompts for a note: a group's for 办结, 退回 or 转派, a resident's for 不满意."""

from __future__ import annotations

import sqlite3

from reports.records import NotePrompt
from storage.db import Connection, fetch_one


def _prompt(row: sqlite3.Row | None) -> NotePrompt | None:
    return NotePrompt(**dict(row)) if row is not None else None


async def insert(
    conn: Connection,
    *,
    report_id: int,
    action: str,
    to_group: str | None,
    staff_id: int | None,
    resident_id: int | None,
    now: float,
) -> int:
    row = await fetch_one(
        conn,
        "INSERT INTO note_prompts (report_id, action, to_group, staff_id, resident_id,"
        " created_at) VALUES (?,?,?,?,?,?) RETURNING id",
        (report_id, action, to_group, staff_id, resident_id, now),
    )
    assert row is not None
    return int(row[0])


async def get(conn: Connection, prompt_id: int) -> NotePrompt | None:
    return _prompt(await fetch_one(conn, "SELECT * FROM note_prompts WHERE id = ?", (prompt_id,)))


async def use(conn: Connection, prompt_id: int) -> bool:
    """Mark an open prompt answered; False if it was answered already."""
    row = await fetch_one(
        conn,
        "UPDATE note_prompts SET status = 'used' WHERE id = ? AND status = 'open' RETURNING id",
        (prompt_id,),
    )
    return row is not None
