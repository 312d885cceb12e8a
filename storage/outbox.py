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
from storage.db import (
    Connection,
    execute,
    execute_count,
    fetch_all,
    fetch_value,
    skip_locked,
)


def _item(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    # Whose claim an item is under is the store's business, not the courier's.
    data.pop("claimed_by", None)
    data.pop("claimed_until", None)
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


async def claim_due(
    conn: Connection, channel: str, now: float, limit: int, owner: str, lease: float
) -> list[OutboxItem]:
    """Claim for `owner` until `now + lease` a channel's pending items due now that are
    first in line for their target there, and return them in the order they fell due.

    First in line: no earlier item for the target on the channel is pending, whoever
    holds it, so a case's or a chat's messages go in order across processes too (a
    group on two channels hears of a case on each in order; one channel's outage does
    not hold up the other's). An item claimed by another process is taken only once its
    lease has run out, or its holder's heartbeat has (`processes`: it died); `owner`'s
    own claims it may take again (its courier keeps apart
    what it has in flight). On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`
    while they are claimed: two processes claiming at once never both get a row.
    """
    rows = await fetch_all(
        conn,
        "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
        "SELECT o.id FROM outbox o WHERE o.channel = ? AND o.status = 'pending'"
        " AND o.next_attempt_at <= ?"
        " AND (o.claimed_until IS NULL OR o.claimed_until <= ? OR o.claimed_by = ?"
        " OR EXISTS (SELECT 1 FROM processes q WHERE q.name = o.claimed_by"
        " AND q.alive_until <= ?))"
        " AND NOT EXISTS (SELECT 1 FROM outbox p"
        " WHERE p.target = o.target AND p.channel = o.channel AND p.status = 'pending'"
        " AND p.id < o.id)"
        f" ORDER BY o.next_attempt_at, o.id LIMIT ?{skip_locked(conn)}) RETURNING *",
        (owner, now + lease, channel, now, now, owner, now, limit),
    )
    items = [_item(r) for r in rows]
    return sorted(items, key=lambda i: (i.next_attempt_at, i.id))


async def next_due_at(conn: Connection, channel: str, owner: str, now: float) -> float | None:
    """When the channel's next pending item falls due for `owner`: an item another process
    holds, not before its claim runs out (or the holder's heartbeat has)."""
    return await fetch_value(
        conn,
        "SELECT MIN(CASE WHEN claimed_by <> ? AND claimed_until > next_attempt_at"
        " AND NOT EXISTS (SELECT 1 FROM processes q WHERE q.name = claimed_by"
        " AND q.alive_until <= ?) THEN claimed_until ELSE next_attempt_at END)"
        " FROM outbox WHERE channel = ? AND status = 'pending'",
        (owner, now, channel),
    )


# What the outcomes below require when given an `owner`: that it still holds the claim
# (one whose lease ran out and another process took over is no longer its to record).
_HELD = " AND (CAST(? AS TEXT) IS NULL OR claimed_by = ?)"


async def advance(
    conn: Connection,
    item_id: int,
    step: int,
    owner: str | None = None,
    until: float | None = None,
) -> bool:
    """Record that the first `step` parts of a multi-part item were delivered, and extend
    the claim to `until`; False if `owner` no longer holds it."""
    return bool(
        await execute_count(
            conn,
            "UPDATE outbox SET step = ?, claimed_until = COALESCE(?, claimed_until)"
            " WHERE id = ?" + _HELD,
            (step, until, item_id, owner, owner),
        )
    )


async def mark_sent(conn: Connection, item_id: int, now: float, owner: str | None = None) -> bool:
    """Record the delivery; False if `owner` no longer holds the item."""
    return bool(
        await execute_count(
            conn,
            "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL,"
            " claimed_by = NULL, claimed_until = NULL WHERE id = ?" + _HELD,
            (now, item_id, owner, owner),
        )
    )


async def mark_failed(conn: Connection, item_id: int, error: str, owner: str | None = None) -> bool:
    """Give the item up; False if `owner` no longer holds it."""
    return bool(
        await execute_count(
            conn,
            "UPDATE outbox SET status = 'failed', last_error = ?,"
            " claimed_by = NULL, claimed_until = NULL WHERE id = ?" + _HELD,
            (error, item_id, owner, owner),
        )
    )


async def retry_later(
    conn: Connection,
    item_id: int,
    at: float,
    error: str,
    transient: bool = False,
    owner: str | None = None,
) -> bool:
    """Schedule another attempt and release the claim; False if `owner` no longer holds it."""
    return bool(
        await execute_count(
            conn,
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
            " transient = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?" + _HELD,
            (at, error, int(transient), item_id, owner, owner),
        )
    )


async def release_claims(conn: Connection, channel: str, owner: str | None = None) -> int:
    """Release `owner`'s claims on a channel's pending items (every process's, without
    `owner`: on SQLite, one process, whatever a process before it held is free at start)."""
    return await execute_count(
        conn,
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE channel = ?"
        " AND status = 'pending' AND claimed_by IS NOT NULL" + _HELD,
        (channel, owner, owner),
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
