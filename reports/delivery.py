"""Outbox bookkeeping for the sender: what is due, what went, what waits and why."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from storage import outbox, reports
from storage.db import Database
from storage.outbox import OutboxItem


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: base, 2·base, 4·base ... at most cap."""
    delay = min(cap, base * (2 ** min(attempts, 30)))
    return delay * random.uniform(0.8, 1.0)


class OutboxService:
    """Hands due items to a channel's sender and records each outcome."""

    def __init__(
        self,
        db: Database,
        retry_base: float,
        retry_max: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.clock = clock

    async def due(self, limit: int, busy: set[str]) -> list[OutboxItem]:
        """Items due now, first in line for their target, none for a busy target."""
        async with self.db.session() as conn:
            items = await outbox.due(conn, self.clock(), limit + len(busy))
        return [i for i in items if i.target not in busy][:limit]

    async def next_due_in(self) -> float | None:
        """Seconds until the earliest pending item is due (0 if overdue), or None."""
        async with self.db.session() as conn:
            at = await outbox.next_due_at(conn)
        return None if at is None else max(0.0, at - self.clock())

    async def sent(self, item: OutboxItem) -> None:
        async with self.db.session() as conn:
            await outbox.mark_sent(conn, item.id, self.clock())

    async def advance(self, item: OutboxItem, step: int) -> None:
        async with self.db.session() as conn:
            await outbox.advance(conn, item.id, step)

    async def alert_posted(
        self, item: OutboxItem, report_id: int, chat_id: int, message_id: int, done: bool
    ) -> None:
        """The alert's text went out: remember where, and that step 1 (or all) is done."""
        async with self.db.transaction() as conn:
            await reports.set_alert(conn, report_id, chat_id, message_id)
            if done:
                await outbox.mark_sent(conn, item.id, self.clock())
            else:
                await outbox.advance(conn, item.id, 1)

    async def relayed(self, item: OutboxItem, chat_id: int, message_id: int) -> None:
        """A question reached the resident: their reply to it will find the case."""
        assert item.report_id is not None
        async with self.db.transaction() as conn:
            await reports.add_relay(conn, item.report_id, chat_id, message_id, self.clock())
            await outbox.mark_sent(conn, item.id, self.clock())

    async def give_up(self, item: OutboxItem, error: str) -> None:
        async with self.db.session() as conn:
            await outbox.mark_failed(conn, item.id, error)

    async def retry(self, item: OutboxItem, error: str, after: float | None = None) -> float:
        """Schedule another attempt; Telegram's retry_after wins over our backoff."""
        delay = (
            after
            if after is not None
            else backoff_seconds(item.attempts, self.retry_base, self.retry_max)
        )
        async with self.db.session() as conn:
            await outbox.retry_later(conn, item.id, self.clock() + delay, error[:500])
        return delay
