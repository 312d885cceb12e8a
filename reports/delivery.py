"""Outbox bookkeeping for the sender: what is due, what went, what waits and why."""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable

from reports.message_refs import ALERT, RELAY
from reports.outbox import (
    GROUPS_CHANNEL,
    OFFICE_NOTICE,
    REFUSAL_NOTICE,
    OutboxItem,
    alert_target,
    leader_of,
)
from reports.records import Report
from storage import message_refs, outbox, reports
from storage.db import Connection, Database

log = logging.getLogger(__name__)
# How long a claim on an item lasts: a process that died holding items lets another
# take them over after this. Longer than any one send takes (each part of a multi-part
# item renews it).
CLAIM_LEASE = 120.0


def process_id() -> str:
    """A name for this process's claims, new at each start: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: base, 2·base, 4·base ... at most cap."""
    delay = min(cap, base * (2 ** min(attempts, 30)))
    return delay * random.uniform(0.8, 1.0)


class OutboxService:
    """Hands due items to a channel's sender and records each outcome.

    After a transient fault (a timeout, a dropped connection, a 5xx) items back
    off as usual, but the oldest of them retries at least every `probe` seconds,
    and the first send that succeeds afterwards makes all of them due at once:
    when Telegram is back, what waited goes out together, not each after its
    own, by then long, backoff.

    Several processes may deliver from one PostgreSQL database: each item handed out is
    claimed under `owner` for `lease` seconds, and only the claim's holder records how
    it went. A holder that died lets another process take the item once the lease runs
    out; if it was only slow, its late outcome is not recorded (the item went out twice,
    at most once more for each item in flight when that happened).
    """

    def __init__(
        self,
        db: Database,
        retry_base: float,
        retry_max: float,
        clock: Callable[[], float] = time.time,
        probe: float = 5.0,
        *,
        notices_group: str,
        channel: str,
        group_channels: Callable[[str], tuple[str, ...]] = lambda _: (GROUPS_CHANNEL,),
        owner: str | None = None,
        lease: float = CLAIM_LEASE,
    ) -> None:
        self.db = db
        # Whose claims this service makes, and for how long each holds.
        self.owner = owner or process_id()
        self.lease = lease
        # The channel whose items this service hands out (its adapter's courier).
        self.channel = channel
        # The channels a group is on: what it must hear goes to each.
        self.group_channels = group_channels
        # Notices of messages refused for good go to this group, in order: the
        # target is the group's key (roles.notices).
        self.notices_group = notices_group
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.clock = clock
        self.probe = probe
        # True until a success has released what waits after a fault: items may
        # be waiting from before a restart too.
        self._troubled = True
        self._released_at = float("-inf")

    async def due(self, limit: int, busy: set[str]) -> list[OutboxItem]:
        """Claim and return items due now, first in line for their target, none for a busy
        target (what this process has in flight: its own claims, which it could take again).
        """
        async with self.db.session() as conn:
            items = await outbox.claim_due(
                conn, self.channel, self.clock(), limit + len(busy), self.owner, self.lease
            )
        return [i for i in items if i.target not in busy][:limit]

    async def next_due_in(self) -> float | None:
        """Seconds until the earliest pending item is due (0 if overdue), or None."""
        async with self.db.session() as conn:
            at = await outbox.next_due_at(conn, self.channel, self.owner, self.clock())
        return None if at is None else max(0.0, at - self.clock())

    async def release_claims(self) -> None:
        """Let other processes take what this one holds (it is stopping)."""
        async with self.db.session() as conn:
            await outbox.release_claims(conn, self.channel, self.owner)

    async def forget_dead_claims(self) -> None:
        """On a database no other process uses, free the claims of the process before this
        one (killed before it could release them) instead of waiting out their lease."""
        if not getattr(self.db, "shared", False):
            async with self.db.session() as conn:
                await outbox.release_claims(conn, self.channel)

    def _lost(self, item: OutboxItem, held: bool) -> None:
        """Say so when another process had taken an item over before its outcome came."""
        if not held:
            log.warning(
                "outbox item %s (%s to %s): its claim ran out and another process took it"
                " over; this outcome is not recorded",
                item.id,
                item.kind,
                item.target,
            )

    async def sent(self, item: OutboxItem) -> None:
        async with self.db.session() as conn:
            self._lost(item, await outbox.mark_sent(conn, item.id, self.clock(), self.owner))
        await self._release()

    async def advance(self, item: OutboxItem, step: int) -> None:
        async with self.db.session() as conn:
            held = await outbox.advance(conn, item.id, step, self.owner, self.clock() + self.lease)
        self._lost(item, held)
        await self._release()

    async def _done(self, conn: Connection, item: OutboxItem, done: bool) -> None:
        """All of an item went (`done`), or its first part: record it if still held."""
        if done:
            held = await outbox.mark_sent(conn, item.id, self.clock(), self.owner)
        else:
            held = await outbox.advance(conn, item.id, 1, self.owner, self.clock() + self.lease)
        self._lost(item, held)

    async def _release(self) -> None:
        """A send went through: what waits after a transient fault is due now.

        At most once a probe interval, so that one chat that keeps failing does
        not retry after every other chat's success.
        """
        now = self.clock()
        if self._troubled and now - self._released_at >= self.probe:
            self._troubled = False
            self._released_at = now
            async with self.db.session() as conn:
                await outbox.retry_transient_now(conn, self.channel, now)

    async def alert_posted(
        self, item: OutboxItem, report: Report, chat: str | int, message_id: str | int, done: bool
    ) -> None:
        """The alert's text went out: remember where (for the case's current assignment),
        and that step 1 (or all) is done."""
        async with self.db.transaction() as conn:
            await message_refs.remember(
                conn, self.channel, str(chat), str(message_id), ALERT, report.id, self.clock(),
                report.assigned_at,
            )  # fmt: skip
            await self._done(conn, item, done)
        await self._release()

    async def posted(
        self,
        item: OutboxItem,
        subject: str,
        subject_id: int,
        chat: str | int,
        message_id: str | int,
        done: bool,
    ) -> None:
        """A message showing `subject` went out (a nomination's alert): remember where, and
        that step 1 (or all) is done, in one commit."""
        async with self.db.transaction() as conn:
            await message_refs.remember(
                conn, self.channel, str(chat), str(message_id), subject, subject_id, self.clock()
            )
            await self._done(conn, item, done)
        await self._release()

    async def relayed(self, item: OutboxItem, chat: str | int, message_id: str | int) -> None:
        """A question reached the resident: their reply to it will find the case."""
        assert item.report_id is not None
        async with self.db.transaction() as conn:
            await message_refs.remember(
                conn, self.channel, str(chat), str(message_id), RELAY, item.report_id, self.clock()
            )
            self._lost(item, await outbox.mark_sent(conn, item.id, self.clock(), self.owner))
        await self._release()

    async def give_up(
        self, item: OutboxItem, error: str, notice: dict[str, object] | None = None
    ) -> None:
        """Stop trying an item; with `notice`, tell the notices group once (in the same commit)."""
        async with self.db.transaction() as conn:
            held = await outbox.mark_failed(conn, item.id, error[:500], self.owner)
            self._lost(item, held)
            if held and notice is not None:
                await outbox.enqueue_to_group(
                    conn,
                    REFUSAL_NOTICE,
                    self.notices_group,
                    self.notices_group,
                    self.clock(),
                    item.report_id,
                    notice,
                    self.group_channels(self.notices_group),
                )

    async def fail_and_tell(
        self, item: OutboxItem, error: str, group: str, reason: str, gone: bool = False
    ) -> None:
        """Fail an item refused for good and queue one notice of it to the office, in the
        same commit: which message, for which group, the case's ticket and why (`gone`:
        the group was taken out of the config). None about a notice itself: it would loop."""
        if item.kind == REFUSAL_NOTICE:
            log.error("could not tell the office of a refused message %s: %s", item.payload, error)
            await self.give_up(item, error)
            return
        notice: dict[str, object] = {
            "kind": item.kind,
            "part": item.step,
            "group": group,
            "reason": reason,
            "ticket": None,
        }
        if gone:
            notice["gone"] = True
        if item.report_id is not None:
            async with self.db.session() as conn:
                report = await reports.get(conn, item.report_id)
            notice["ticket"] = report.ticket if report is not None else None
        await self.give_up(item, error, notice)

    async def refuse_leader_copy(self, item: OutboxItem, error: str, reason: str) -> None:
        """A leader cannot get copies on this channel (never started the bot, an unknown
        id): fail the copy, and tell the office once, not again for each copy after it
        until one reaches the leader."""
        leader = leader_of(item.recipient)
        async with self.db.session() as conn:
            told = await outbox.refused_last(conn, self.channel, item.target, item.id)
        if told or leader is None:
            await self.give_up(item, error)
            return
        notice: dict[str, object] = {
            "kind": item.kind,
            "area": leader[0],
            "leader": leader[1],
            "channel": self.channel,
            "reason": reason,
        }
        await self.give_up(item, error, notice)

    async def tell_office(self, text: str) -> bool:
        """Tell the notices group, on its channels other than this one (which cannot be
        reached: that is the news), what an administrator must do; False if it has none."""
        channels = tuple(c for c in self.group_channels(self.notices_group) if c != self.channel)
        if not channels:
            return False
        async with self.db.transaction() as conn:
            await outbox.enqueue_to_group(
                conn,
                OFFICE_NOTICE,
                self.notices_group,
                self.notices_group,
                self.clock(),
                None,
                {"text": text},
                channels,
            )
        return True

    async def give_up_and_tell_group(
        self, item: OutboxItem, error: str, kind: str, payload: dict[str, object]
    ) -> None:
        """Stop trying an item about a case and tell the case's group, under its alert
        (in the same commit)."""
        assert item.report_id is not None
        async with self.db.transaction() as conn:
            held = await outbox.mark_failed(conn, item.id, error[:500], self.owner)
            self._lost(item, held)
            if not held:
                return
            report = await reports.get(conn, item.report_id)
            assert report is not None
            await outbox.enqueue_to_group(
                conn, kind, report.group_key, alert_target(report.id), self.clock(), report.id,
                payload, self.group_channels(report.group_key),
            )  # fmt: skip

    async def retry(
        self, item: OutboxItem, error: str, after: float | None = None, transient: bool = False
    ) -> float:
        """Schedule another attempt; Telegram's retry_after wins over our backoff.

        A transient fault (`transient`) marks the item to go as soon as a send
        succeeds again; the oldest such item probes at least every `probe` s.
        """
        delay = (
            after
            if after is not None
            else backoff_seconds(item.attempts, self.retry_base, self.retry_max)
        )
        # A 429 met on the way out of a fault (the pacer's or Telegram's) does not
        # end the wait after that fault: the item still goes when sends succeed.
        mark = transient or (after is not None and bool(item.transient))
        async with self.db.session() as conn:
            if transient:
                self._troubled = True
                oldest = await outbox.oldest_transient(conn, self.channel)
                if oldest is None or oldest >= item.id:
                    delay = min(delay, self.probe)
            held = await outbox.retry_later(
                conn, item.id, self.clock() + delay, error[:500], transient=mark, owner=self.owner
            )
        self._lost(item, held)
        return delay
