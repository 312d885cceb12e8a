"""Every update a process takes in, kept in the database until it is handled.

Several processes may serve one bot behind a load balancer, each taking any update.
So that nothing a resident sent is lost and no one's messages are handled out of
order, each channel records an update in the inbox before it acknowledges it (the
webhook's 200, the poll's next offset, a push's answer):

- a sender's updates are handled one at a time, in the order they were recorded,
  whichever process took each (`turn`: the one whose turn it is is the sender's
  earliest update not yet handled; the others wait for it);
- a redelivery of an update some process recorded is recognised by the platform's
  own id for it and dropped;
- each process renews its heartbeat every third of `takeover_seconds`; the updates
  a process recorded but had not handled when it died (its heartbeat ran out) are
  taken over by another, which handles them from their recorded payload.

On SQLite the one process is the only one; at its start it takes over whatever the
process before it left unhandled (killed mid-work), so a restart loses nothing either.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from reports.leadership import Every
from storage import inbox
from storage.db import Connection, Database, is_storage_fault
from storage.inbox import Received

log = logging.getLogger("civic")

TAKEOVER_SECONDS = 30.0
# Handled updates are kept this long to recognise a redelivery: Telegram keeps an
# update it could not deliver for 24 hours.
KEEP_HANDLED_SECONDS = 2 * 86400.0
# How long a waiting update sleeps between two looks at whose turn it is, at first and
# at most: an update handled here wakes its sender's next at once; one handled by
# another process is noticed on the next look.
FIRST_LOOK_SECONDS = 0.005
LAST_LOOK_SECONDS = 0.1
# Updates taken over from dead processes at a time.
TAKEOVER_BATCH = 200

Resume = Callable[[Received], Awaitable[None]]


class InboxUnavailable(Exception):
    """The database would not take the update (full, read-only, away): the channel
    handles it without a record, so the conversation can say what went wrong."""


class Inbox:
    """Records updates, hands out sender turns, and keeps this process's heartbeat."""

    def __init__(
        self,
        db: Database,
        name: str,
        takeover_seconds: float = TAKEOVER_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.name = name  # this process, as the heartbeats and the outbox claims name it
        self.takeover_seconds = takeover_seconds
        self.clock = clock
        # Per channel: how a channel handles an update taken over from a dead process.
        self._resumers: dict[str, Resume] = {}
        # Per sender, the updates this process holds, waiting or in hand: only the
        # earliest looks at the database for its turn (the others wait for it here),
        # so a resident's backlog costs one look at a time, not one each.
        self._lines: dict[str, list[int]] = {}
        # Per sender waiting here: set when one of the sender's updates is handled here.
        self._handled: dict[str, asyncio.Event] = {}
        # Updates handled whose record failed (the database away): recorded on a beat.
        self._unfinished: set[int] = set()
        self._beats = Every(self.beat, takeover_seconds / 3, "inbox")
        # Called on each beat with how many processes are alive (this one included).
        self.on_processes: list[Callable[[int], None]] = []
        self._purged_at = float("-inf")

    # -- Life

    async def open(self) -> None:
        """Say this process is alive (before any update is recorded under its name); on a
        database no other process uses, the processes before it are dead."""
        async with self.db.session() as conn:
            if not self.db.shared:
                await inbox.forget_others(conn, self.name)
            await self._beat(conn)

    def resume_with(self, channel: str, resume: Resume) -> None:
        """How `channel` handles an update taken over from a dead process."""
        self._resumers[channel] = resume

    async def start(self) -> None:
        """Take over what dead processes left (the channels are up), then beat."""
        await self.take_over()
        self._beats.start()

    async def stop(self) -> None:
        """Stop beating and leave: what this process still holds is taken over at once."""
        await self._beats.stop()
        with contextlib.suppress(Exception):
            await self._finish_unfinished()
            async with self.db.session() as conn:
                await inbox.sign_off(conn, self.name)

    async def beat(self) -> None:
        """Renew the heartbeat, record what could not be, take over the dead's updates."""
        async with self.db.session() as conn:
            await self._beat(conn)
            processes = await inbox.alive(conn, self.clock())
        for listener in self.on_processes:
            listener(processes)
        await self._finish_unfinished()
        await self.take_over()
        now = self.clock()
        if now - self._purged_at > 3600:
            self._purged_at = now
            async with self.db.session() as conn:
                await inbox.forget_handled(conn, now - KEEP_HANDLED_SECONDS)

    async def _beat(self, conn: Connection) -> None:
        now = self.clock()
        await inbox.beat(conn, self.name, now, now + self.takeover_seconds)

    async def take_over(self) -> int:
        """Hand each channel the updates dead processes recorded but never handled."""
        taken = 0
        for channel, resume in self._resumers.items():
            while True:
                async with self.db.session() as conn:
                    rows = await inbox.take_over(
                        conn, channel, self.name, self.clock(), TAKEOVER_BATCH
                    )
                for row in rows:
                    await resume(row)
                taken += len(rows)
                if len(rows) < TAKEOVER_BATCH:
                    break
        if taken:
            log.warning("took over %d update(s) another process had not handled", taken)
        return taken

    # -- Each update

    async def record(self, channel: str, key: str, sender: str, payload: str) -> int | None:
        """Keep an update before it is acknowledged; None for a redelivery (drop it).

        InboxUnavailable if the store fails: handled unrecorded, the update still reaches
        the conversation, which tells the resident it could not be saved.
        """
        try:
            async with self.db.session() as conn:
                return await inbox.record(
                    conn, channel, key, sender, payload, self.name, self.clock()
                )
        except Exception as exc:
            if is_storage_fault(exc):
                log.warning("update %s of %s not recorded: %s", key, channel, exc)
                raise InboxUnavailable(str(exc)) from exc
            raise

    async def record_many(
        self, channel: str, updates: list[tuple[str, str, str]]
    ) -> list[int | None]:
        """`record` for several (key, sender, payload) at once: one transaction, in order."""
        try:
            async with self.db.transaction() as conn:
                return await inbox.record_many(conn, channel, updates, self.name, self.clock())
        except Exception as exc:
            if is_storage_fault(exc):
                log.warning("%d update(s) of %s not recorded: %s", len(updates), channel, exc)
                raise InboxUnavailable(str(exc)) from exc
            raise

    @asynccontextmanager
    async def turn(self, update_id: int, sender: str) -> AsyncIterator[None]:
        """Wait for the sender's earlier updates to be handled, anywhere; then handle this
        one, and record it handled however the handling ends."""
        line = self._lines.setdefault(sender, [])
        bisect.insort(line, update_id)
        try:
            await self._wait_for_turn(update_id, sender, line)
            yield
        finally:
            line.remove(update_id)
            if not line:
                del self._lines[sender]
            await self._finish(update_id, sender)

    async def _wait_for_turn(self, update_id: int, sender: str, line: list[int]) -> None:
        while line[0] != update_id:  # an earlier one held here goes first
            handled = self._handled.setdefault(sender, asyncio.Event())
            await handled.wait()
        pause = FIRST_LOOK_SECONDS
        while True:
            if self._unfinished:  # perhaps the one it waits for, handled here
                with contextlib.suppress(Exception):
                    await self._finish_unfinished()
            try:
                async with self.db.session() as conn:
                    first = await inbox.first_waiting(conn, sender)
            except Exception as exc:
                if not is_storage_fault(exc):
                    raise
                # The database is away: the update waits for it rather than being dropped
                # (or handled out of turn).
                log.warning("inbox update %s waits for the database: %s", update_id, exc)
                first = -1
                pause = LAST_LOOK_SECONDS * 10
            if first is None or first >= update_id:
                return
            handled = self._handled.setdefault(sender, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(handled.wait(), pause)
            pause = max(FIRST_LOOK_SECONDS, min(pause * 2, LAST_LOOK_SECONDS))

    async def _finish(self, update_id: int, sender: str) -> None:
        try:
            async with self.db.session() as conn:
                await inbox.finish(conn, update_id, self.clock())
        except Exception as exc:
            # The sender's next update waits until this is recorded: it tries again, as
            # does every beat.
            if not is_storage_fault(exc):
                raise
            log.warning("inbox update %s handled but not marked so yet: %s", update_id, exc)
            self._unfinished.add(update_id)
        handled = self._handled.pop(sender, None)
        if handled is not None:
            handled.set()

    async def _finish_unfinished(self) -> None:
        for update_id in sorted(self._unfinished):
            async with self.db.session() as conn:
                await inbox.finish(conn, update_id, self.clock())
            self._unfinished.discard(update_id)
