"""Prompts a working group answers by reply: the note for 办结, 退回 or 转派."""

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
    chat_id: int,
    message_id: int,
    actor_id: int,
    now: float,
) -> None:
    await fetch_one(
        conn,
        "INSERT INTO note_prompts (report_id, action, to_group, chat_id, message_id, actor_id,"
        " created_at) VALUES (?,?,?,?,?,?,?) RETURNING id",
        (report_id, action, to_group, chat_id, message_id, actor_id, now),
    )


async def by_message(conn: Connection, chat_id: int, message_id: int) -> NotePrompt | None:
    row = await fetch_one(
        conn,
        "SELECT * FROM note_prompts WHERE chat_id = ? AND message_id = ?",
        (chat_id, message_id),
    )
    return _prompt(row)


async def use(conn: Connection, prompt_id: int) -> bool:
    """Mark an open prompt answered; False if it was answered already."""
    row = await fetch_one(
        conn,
        "UPDATE note_prompts SET status = 'used' WHERE id = ? AND status = 'open' RETURNING id",
        (prompt_id,),
    )
    return row is not None
