"""Residents' questions: the ones the FAQ could not answer, and counts of the answered."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_all, fetch_value


async def record_gap(
    conn: Connection,
    resident_id: int,
    text: str,
    at: float,
    best_score: float,
    best_entry: str | None,
) -> None:
    """Keep an unanswered question, with the resident's channel (None if unknown)."""
    await execute(
        conn,
        "INSERT INTO faq_gaps (resident_id, channel, text, asked_at, best_score, best_entry)"
        " VALUES (?, (SELECT channel FROM residents WHERE id = ?), ?, ?, ?, ?)",
        (resident_id, resident_id, text, at, best_score, best_entry),
    )


async def count_answer(conn: Connection, entry_id: str, day: str) -> None:
    """One more question answered by the entry on the local day (YYYY-MM-DD)."""
    await execute(
        conn,
        "INSERT INTO faq_answered (entry_id, day, answers) VALUES (?, ?, 1)"
        " ON CONFLICT (entry_id, day) DO UPDATE SET answers = faq_answered.answers + 1",
        (entry_id, day),
    )


async def gaps_since(
    conn: Connection, since: float, limit: int
) -> list[tuple[str, float, float, str | None]]:
    """Newest first, at most `limit`: (text, asked_at, best_score, best_entry)."""
    rows = await fetch_all(
        conn,
        "SELECT text, asked_at, best_score, best_entry FROM faq_gaps"
        " WHERE asked_at >= ? ORDER BY asked_at DESC, id DESC LIMIT ?",
        (since, limit),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def answered_since(conn: Connection, day: str) -> int:
    """Questions answered from the local day `day` (YYYY-MM-DD) on."""
    return int(
        await fetch_value(
            conn, "SELECT COALESCE(SUM(answers), 0) FROM faq_answered WHERE day >= ?", (day,)
        )
    )


async def forget_gaps_before(conn: Connection, cutoff: float) -> int:
    """Delete unanswered questions asked before `cutoff`; how many."""
    rows = await fetch_all(conn, "DELETE FROM faq_gaps WHERE asked_at < ? RETURNING id", (cutoff,))
    return len(rows)
