"""Residents' messages that opened no report draft, kept with the intent they were taken for."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_all, fetch_one, fetch_value


async def keep(
    conn: Connection,
    resident_id: int,
    text: str,
    intent: str,
    confidence: float,
    unsure: bool,
    now: float,
) -> int:
    """Store a message; its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO resident_messages (resident_id, text, intent, confidence, unsure, created_at)"
        " VALUES (?,?,?,?,?,?) RETURNING id",
        (resident_id, text, intent, confidence, int(unsure), now),
    )
    assert row is not None
    return int(row[0])


async def text_of(conn: Connection, resident_id: int, message_id: int) -> tuple[str, int | None]:
    """A resident's own kept message and the draft it became, if any; ("", None) if none."""
    row = await fetch_one(
        conn,
        "SELECT text, draft_id FROM resident_messages WHERE id = ? AND resident_id = ?",
        (message_id, resident_id),
    )
    if row is None:
        return "", None
    return str(row[0]), None if row[1] is None else int(row[1])


async def set_draft(conn: Connection, message_id: int, draft_id: int) -> None:
    await execute(
        conn, "UPDATE resident_messages SET draft_id = ? WHERE id = ?", (draft_id, message_id)
    )


async def count_since(conn: Connection, resident_id: int, intent: str, since: float) -> int:
    """How many of a resident's messages since `since` were taken for `intent`, surely."""
    value = await fetch_value(
        conn,
        "SELECT COUNT(*) FROM resident_messages"
        " WHERE resident_id = ? AND intent = ? AND unsure = 0 AND created_at >= ?",
        (resident_id, intent, since),
    )
    return int(value or 0)


async def counts_by_intent(
    conn: Connection, since: float, until: float, spam_limit: int
) -> tuple[dict[str, int], int]:
    """{intent: messages} in a period, and how many accounts sent at least `spam_limit` spam."""
    rows = await fetch_all(
        conn,
        "SELECT intent, COUNT(*) FROM resident_messages"
        " WHERE created_at >= ? AND created_at < ? GROUP BY intent",
        (since, until),
    )
    spammers = await fetch_value(
        conn,
        "SELECT COUNT(*) FROM (SELECT resident_id FROM resident_messages"
        " WHERE intent = 'spam' AND unsure = 0 AND created_at >= ? AND created_at < ?"
        " GROUP BY resident_id HAVING COUNT(*) >= ?) AS heavy",
        (since, until, spam_limit),
    )
    return {str(r[0]): int(r[1]) for r in rows}, int(spammers or 0)


async def delete_before(conn: Connection, before: float) -> int:
    """Forget messages older than the retention that never became a report; how many."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM resident_messages WHERE created_at < ? AND draft_id IS NULL",
        (before,),
    )
    await execute(
        conn,
        "DELETE FROM resident_messages WHERE created_at < ? AND draft_id IS NULL",
        (before,),
    )
    return int(row[0]) if row else 0
