"""The outbox: messages the bot must still send, persisted so none is lost.

An item is written in the same transaction as the change it announces, and
leaves the table's `pending` state only when Telegram has accepted it (or it
can never be delivered). Items for one target go out in order.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reports.outbox import GROUPS_CHANNEL, OutboxItem, group_recipient, resident_recipient
from storage.db import Connection, execute, execute_count, fetch_all, fetch_value


def _item(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    return OutboxItem(**data)


async def enqueue(
    conn: Connection,
    kind: str,
    target: str,
    now: float,
    report_id: int | None = None,
    payload: dict[str, Any] | None = None,
    *,
    channel: str,
    recipient: str,
) -> None:
    await execute(
        conn,
        "INSERT INTO outbox (kind, target, report_id, payload, next_attempt_at, created_at,"
        " channel, recipient) VALUES (?,?,?,?,?,?,?,?)",
        (
            kind,
            target,
            report_id,
            json.dumps(payload or {}, ensure_ascii=False),
            now,
            now,
            channel,
            recipient,
        ),
    )


async def enqueue_to_resident(
    conn: Connection,
    kind: str,
    resident_id: int,
    now: float,
    report_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue a message to a resident, on the channel they write from, after their
    earlier messages (a resident's messages are ordered among themselves)."""
    recipient = resident_recipient(resident_id)
    await execute(
        conn,
        "INSERT INTO outbox (kind, target, report_id, payload, next_attempt_at, created_at,"
        " channel, recipient) SELECT ?,?,?,?,?,?, channel, ? FROM residents WHERE id = ?",
        (
            kind,
            recipient,
            report_id,
            json.dumps(payload or {}, ensure_ascii=False),
            now,
            now,
            recipient,
            resident_id,
        ),
    )


async def enqueue_to_group(
    conn: Connection,
    kind: str,
    group_key: str,
    target: str,
    now: float,
    report_id: int | None = None,
    payload: dict[str, Any] | None = None,
    channels: tuple[str, ...] = (GROUPS_CHANNEL,),
) -> None:
    """Queue a message to a working group on each channel it is on, in line behind
    `target`'s others there."""
    for channel in channels:
        await enqueue(
            conn,
            kind,
            target,
            now,
            report_id,
            payload,
            channel=channel,
            recipient=group_recipient(group_key),
        )


async def due(conn: Connection, channel: str, now: float, limit: int) -> list[OutboxItem]:
    """A channel's pending items due now that are first in line for their target there
    (a group on two channels hears of a case on each in order; one channel's outage does
    not hold up the other's)."""
    rows = await fetch_all(
        conn,
        "SELECT o.* FROM outbox o WHERE o.channel = ? AND o.status = 'pending'"
        " AND o.next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM outbox p"
        " WHERE p.target = o.target AND p.channel = o.channel AND p.status = 'pending'"
        " AND p.id < o.id)"
        " ORDER BY o.next_attempt_at, o.id LIMIT ?",
        (channel, now, limit),
    )
    return [_item(r) for r in rows]


async def next_due_at(conn: Connection, channel: str) -> float | None:
    return await fetch_value(
        conn,
        "SELECT MIN(next_attempt_at) FROM outbox WHERE channel = ? AND status = 'pending'",
        (channel,),
    )


async def advance(conn: Connection, item_id: int, step: int) -> None:
    """Record that the first `step` parts of a multi-part item were delivered."""
    await execute(conn, "UPDATE outbox SET step = ? WHERE id = ?", (step, item_id))


async def mark_sent(conn: Connection, item_id: int, now: float) -> None:
    await execute(
        conn,
        "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
        (now, item_id),
    )


async def mark_failed(conn: Connection, item_id: int, error: str) -> None:
    await execute(
        conn, "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?", (error, item_id)
    )


async def retry_later(
    conn: Connection, item_id: int, at: float, error: str, transient: bool = False
) -> None:
    await execute(
        conn,
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
        " transient = ? WHERE id = ?",
        (at, error, int(transient), item_id),
    )


async def oldest_transient(conn: Connection, channel: str) -> int | None:
    """A channel's first pending item waiting after a transient fault (it probes)."""
    return await fetch_value(
        conn,
        "SELECT MIN(id) FROM outbox WHERE channel = ? AND status = 'pending' AND transient = 1",
        (channel,),
    )


async def retry_transient_now(conn: Connection, channel: str, now: float) -> None:
    """Make a channel's items waiting after a transient fault due now: the fault is over."""
    await execute(
        conn,
        "UPDATE outbox SET next_attempt_at = ? WHERE channel = ? AND status = 'pending'"
        " AND transient = 1 AND next_attempt_at > ?",
        (now, channel, now),
    )


async def retry_group_now(conn: Connection, group_key: str, now: float) -> None:
    """Make every pending item about a group's reports due now."""
    await execute(
        conn,
        "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?"
        " AND report_id IN (SELECT id FROM reports WHERE group_key = ?)",
        (now, now, group_key),
    )


async def delete_sent_before(conn: Connection, before: float) -> int:
    """Delete items delivered before `before`; pending and failed ones are never deleted."""
    return await execute_count(
        conn, "DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?", (before,)
    )


async def refused_last(conn: Connection, channel: str, target: str, before_id: int) -> bool:
    """Whether the last item for `target` on `channel` before `before_id` that is no longer
    pending was refused (failed), not delivered: a refusal already told of."""
    status = await fetch_value(
        conn,
        "SELECT status FROM outbox WHERE target = ? AND channel = ? AND id < ?"
        " AND status IN ('sent', 'failed') ORDER BY id DESC LIMIT 1",
        (target, channel, before_id),
    )
    return status == "failed"
