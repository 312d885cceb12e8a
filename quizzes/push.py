"""Pushes to many residents: persisted runs, one row per recipient (no channel's SDK here)."""

from __future__ import annotations

import time
from collections.abc import Callable

from quizzes.records import Progress, Recipient
from storage import pushes, quizzes
from storage.db import Database

# What a push carries: today's quiz, or the support-rate survey.
QUIZ_PUSH = "quiz"
SURVEY_PUSH = "survey"


class PushService:
    """Creates a day's run for the subscribers and hands out who is due next."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        # Each channel's pusher, woken when a run is made (it sends its own recipients).
        self.listeners: list[Callable[[], None]] = []
        # Whether this process leads the timed jobs (`reports.leadership`): only the
        # leader's pushers send, so no two processes send one recipient the push.
        self.leads: Callable[[], bool] = lambda: True

    async def create_run(self, kind: str, day: str) -> tuple[Progress, bool]:
        """Today's run of a kind, made once; (its progress, whether it was made now)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            run_id = await pushes.insert_run(conn, kind, day, now)
            created = run_id is not None
            if run_id is not None:
                await pushes.add_subscribers(conn, run_id, now)
        progress = await self.progress(kind, day)
        assert progress is not None
        for wake in self.listeners:
            wake()
        return progress, created

    async def progress(self, kind: str, day: str | None = None) -> Progress | None:
        """How a run is going (the latest of the kind if no day is given)."""
        async with self.db.session() as conn:
            return await pushes.progress(conn, kind, day)

    async def due(self, channel: str, limit: int) -> list[Recipient]:
        """A channel's recipients due now (each channel's pusher sends its own); none
        unless this process leads."""
        if not self.leads():
            return []
        async with self.db.session() as conn:
            return await pushes.due(conn, channel, self.clock(), limit)

    async def next_due_in(self, channel: str) -> float | None:
        async with self.db.session() as conn:
            at = await pushes.next_due_at(conn, channel)
        return None if at is None else max(0.0, at - self.clock())

    async def sent(self, r: Recipient) -> None:
        async with self.db.session() as conn:
            await pushes.mark_sent(conn, r.run_id, r.resident_id, self.clock())

    async def retry(self, r: Recipient, after: float, error: str) -> None:
        async with self.db.session() as conn:
            await pushes.retry_later(
                conn, r.run_id, r.resident_id, self.clock() + after, error[:300]
            )

    async def skipped(self, r: Recipient, reason: str) -> None:
        """The recipient's channel may not reach them now: counted, not sent, not retried."""
        async with self.db.session() as conn:
            await pushes.mark_skipped(conn, r.run_id, r.resident_id, reason[:300])

    async def blocked(self, r: Recipient, error: str) -> None:
        """The resident blocked the bot: fail the row and unsubscribe them."""
        async with self.db.transaction() as conn:
            await pushes.mark_failed(conn, r.run_id, r.resident_id, error[:300])
            await quizzes.unsubscribe(conn, r.resident_id, self.clock())
