"""Pushes to many residents: persisted runs, one row per recipient (no Telegram here)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database, execute, fetch_all, fetch_one


@dataclass(frozen=True)
class Recipient:
    run_id: int
    resident_id: int
    chat_id: int
    attempts: int
    kind: str  # what is pushed: "quiz" or "survey"


@dataclass(frozen=True)
class Progress:
    run_id: int
    day: str
    sent: int
    pending: int
    failed: int


class PushService:
    """Creates a day's run for the subscribers and hands out who is due next."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def create_run(self, kind: str, day: str) -> tuple[Progress, bool]:
        """Today's run of a kind, made once; (its progress, whether it was made now)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await fetch_one(
                conn,
                "INSERT OR IGNORE INTO push_runs (kind, day, created_at) VALUES (?,?,?)"
                " RETURNING id",
                (kind, day, now),
            )
            created = row is not None
            if created:
                await execute(
                    conn,
                    "INSERT INTO push_recipients (run_id, resident_id, chat_id, next_at)"
                    " SELECT ?, resident_id, chat_id, ? FROM quiz_subscribers WHERE active = 1",
                    (row[0], now),
                )
        progress = await self.progress(kind, day)
        assert progress is not None
        return progress, created

    async def progress(self, kind: str, day: str | None = None) -> Progress | None:
        """How a run is going (the latest of the kind if no day is given)."""
        async with self.db.session() as conn:
            run = await fetch_one(
                conn,
                "SELECT id, day FROM push_runs WHERE kind = ? AND (? IS NULL OR day = ?)"
                " ORDER BY id DESC LIMIT 1",
                (kind, day, day),
            )
            if run is None:
                return None
            rows = await fetch_all(
                conn,
                "SELECT status, COUNT(*) FROM push_recipients WHERE run_id = ? GROUP BY status",
                (run[0],),
            )
        counts = {r[0]: r[1] for r in rows}
        return Progress(
            run[0], run[1], counts.get("sent", 0), counts.get("pending", 0), counts.get("failed", 0)
        )

    async def due(self, limit: int) -> list[Recipient]:
        async with self.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT x.run_id, x.resident_id, x.chat_id, x.attempts, r.kind"
                " FROM push_recipients x JOIN push_runs r ON r.id = x.run_id"
                " WHERE x.status = 'pending' AND x.next_at <= ? ORDER BY x.next_at LIMIT ?",
                (self.clock(), limit),
            )
        return [Recipient(*tuple(r)) for r in rows]

    async def next_due_in(self) -> float | None:
        async with self.db.session() as conn:
            row = await fetch_one(
                conn, "SELECT MIN(next_at) FROM push_recipients WHERE status = 'pending'"
            )
        return None if row is None or row[0] is None else max(0.0, row[0] - self.clock())

    async def sent(self, r: Recipient) -> None:
        async with self.db.session() as conn:
            await execute(
                conn,
                "UPDATE push_recipients SET status = 'sent', sent_at = ?, error = NULL"
                " WHERE run_id = ? AND resident_id = ?",
                (self.clock(), r.run_id, r.resident_id),
            )

    async def retry(self, r: Recipient, after: float, error: str) -> None:
        async with self.db.session() as conn:
            await execute(
                conn,
                "UPDATE push_recipients SET attempts = attempts + 1, next_at = ?, error = ?"
                " WHERE run_id = ? AND resident_id = ?",
                (self.clock() + after, error[:300], r.run_id, r.resident_id),
            )

    async def blocked(self, r: Recipient, error: str) -> None:
        """The resident blocked the bot: fail the row and unsubscribe them."""
        async with self.db.transaction() as conn:
            await execute(
                conn,
                "UPDATE push_recipients SET status = 'failed', error = ?"
                " WHERE run_id = ? AND resident_id = ?",
                (error[:300], r.run_id, r.resident_id),
            )
            await execute(
                conn,
                "UPDATE quiz_subscribers SET active = 0, changed_at = ? WHERE resident_id = ?",
                (self.clock(), r.resident_id),
            )
