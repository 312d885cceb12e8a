"""Report drafts: what a resident is composing before pressing 确认."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class Draft:
    id: int
    resident_id: int
    chat_id: int
    text: str
    category: str
    confidence: float
    keywords: tuple[str, ...]
    photos: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    address: str | None
    media_group_id: str | None
    card_message_id: int | None
    status: str
    report_id: int | None
    created_at: float
    updated_at: float


def _draft(row: sqlite3.Row | None) -> Draft | None:
    if row is None:
        return None
    data = dict(row)
    data["keywords"] = tuple(json.loads(data["keywords"]))
    data["photos"] = tuple(json.loads(data["photos"]))
    return Draft(**data)


async def insert(
    conn: aiosqlite.Connection,
    *,
    resident_id: int,
    chat_id: int,
    text: str,
    category: str,
    confidence: float,
    keywords: tuple[str, ...],
    photos: tuple[str, ...],
    media_group_id: str | None,
    now: float,
) -> Draft:
    cur = await conn.execute(
        "INSERT INTO drafts (resident_id, chat_id, text, category, confidence, keywords,"
        " photos, media_group_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            resident_id,
            chat_id,
            text,
            category,
            confidence,
            json.dumps(list(keywords), ensure_ascii=False),
            json.dumps(list(photos)),
            media_group_id,
            now,
            now,
        ),
    )
    draft = await get(conn, cur.lastrowid or 0)
    assert draft is not None
    return draft


async def get(conn: aiosqlite.Connection, draft_id: int) -> Draft | None:
    async with conn.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)) as cur:
        return _draft(await cur.fetchone())


async def latest_open(conn: aiosqlite.Connection, resident_id: int, since: float) -> Draft | None:
    """The resident's most recently touched open draft, if touched since `since`."""
    async with conn.execute(
        "SELECT * FROM drafts WHERE resident_id = ? AND status = 'open' AND updated_at >= ?"
        " ORDER BY updated_at DESC, id DESC LIMIT 1",
        (resident_id, since),
    ) as cur:
        return _draft(await cur.fetchone())


async def by_card(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> Draft | None:
    async with conn.execute(
        "SELECT * FROM drafts WHERE chat_id = ? AND card_message_id = ?", (chat_id, message_id)
    ) as cur:
        return _draft(await cur.fetchone())


async def update(conn: aiosqlite.Connection, draft_id: int, now: float, **fields: object) -> None:
    """Set the given columns (photos and keywords as tuples) and touch updated_at."""
    values = {
        k: json.dumps(list(v), ensure_ascii=False) if k in ("photos", "keywords") else v
        for k, v in fields.items()
    }
    values["updated_at"] = now
    assignments = ", ".join(f"{k} = ?" for k in values)
    await conn.execute(
        f"UPDATE drafts SET {assignments} WHERE id = ?", (*values.values(), draft_id)
    )


async def close(
    conn: aiosqlite.Connection, draft_id: int, status: str, now: float, report_id: int | None
) -> bool:
    """Move an open draft to submitted or cancelled; False if it was no longer open."""
    cur = await conn.execute(
        "UPDATE drafts SET status = ?, report_id = ?, updated_at = ?"
        " WHERE id = ? AND status = 'open'",
        (status, report_id, now, draft_id),
    )
    return cur.rowcount == 1
