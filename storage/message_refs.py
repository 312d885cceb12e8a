"""A channel's own messages and what each shows: the rows a channel adapter owns."""

from __future__ import annotations

import json
import sqlite3

from reports.records import MessageRef
from storage.db import Connection, execute, fetch_one


def _ref(row: sqlite3.Row | None) -> MessageRef | None:
    return MessageRef(**dict(row)) if row is not None else None


async def remember(
    conn: Connection,
    channel: str,
    chat: str,
    message_id: str,
    subject: str,
    subject_id: int,
    now: float,
    generation: float | None = None,
) -> None:
    """Record (or touch, making it the subject's latest) what a message shows."""
    await execute(
        conn,
        "INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, generation,"
        " at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (channel, chat, message_id) DO UPDATE SET"
        " subject = excluded.subject, subject_id = excluded.subject_id,"
        " generation = excluded.generation, at = excluded.at",
        (channel, chat, message_id, subject, subject_id, generation, now),
    )


async def at_message(
    conn: Connection, channel: str, chat: str, message_id: str
) -> MessageRef | None:
    row = await fetch_one(
        conn,
        "SELECT * FROM message_refs WHERE channel = ? AND chat = ? AND message_id = ?",
        (channel, chat, message_id),
    )
    return _ref(row)


async def latest(
    conn: Connection,
    channel: str,
    subject: str,
    subject_id: int,
    generation: float | None = None,
) -> MessageRef | None:
    """The subject's latest message on a channel (of one generation, if given)."""
    row = await fetch_one(
        conn,
        "SELECT * FROM message_refs WHERE subject = ? AND subject_id = ? AND channel = ?"
        " AND (CAST(? AS DOUBLE PRECISION) IS NULL OR generation = ?) ORDER BY at DESC LIMIT 1",
        (subject, subject_id, channel, generation, generation),
    )
    return _ref(row)


async def set_token(
    conn: Connection, channel: str, chat: str, message_id: str, token: str | None, now: float
) -> None:
    """Keep the latest handle a channel gave to change a message (None: it is spent)."""
    await execute(
        conn,
        "UPDATE message_refs SET token = ?, token_at = ? WHERE channel = ? AND chat = ?"
        " AND message_id = ?",
        (token, now, channel, chat, message_id),
    )


async def forget(conn: Connection, channel: str, chat: str, message_id: str) -> None:
    await execute(
        conn,
        "DELETE FROM message_refs WHERE channel = ? AND chat = ? AND message_id = ?",
        (channel, chat, message_id),
    )


async def move_chat(conn: Connection, channel: str, old_chat: str, new_chat: str) -> None:
    """A chat became another (a Telegram group upgraded to a supergroup)."""
    await execute(
        conn,
        "UPDATE message_refs SET chat = ? WHERE channel = ? AND chat = ?",
        (new_chat, channel, old_chat),
    )


async def forget_deleted_drafts(conn: Connection) -> None:
    """Forget the cards of drafts that were deleted (their buttons then find nothing)."""
    await execute(
        conn,
        "DELETE FROM message_refs WHERE subject = 'card'"
        " AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.id = message_refs.subject_id)",
    )


async def remember_menu(
    conn: Connection, channel: str, chat: str, choices: list[str], now: float
) -> None:
    """The data of the choices just offered in a chat, numbered from 1 in this order."""
    await execute(
        conn,
        "INSERT INTO message_menus (channel, chat, choices, at) VALUES (?,?,?,?)"
        " ON CONFLICT (channel, chat) DO UPDATE SET choices = excluded.choices, at = excluded.at",
        (channel, chat, json.dumps(choices), now),
    )


async def menu(conn: Connection, channel: str, chat: str) -> tuple[list[str], float] | None:
    """The choices last offered in a chat, and when."""
    row = await fetch_one(
        conn,
        "SELECT choices, at FROM message_menus WHERE channel = ? AND chat = ?",
        (channel, chat),
    )
    return None if row is None else (list(json.loads(row[0])), float(row[1]))
