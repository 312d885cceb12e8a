"""A channel's outbox courier: the loop every channel's courier shares.

It keeps up to `concurrency` deliveries going, never two for the same target
(one case's, one resident's messages go in order), sleeps until a commit wakes
it or the next retry is due, and holds what the database would not record: a
send whose outcome could not be written may have gone out, so nothing more
goes until the outcome is written. A channel's courier says how to `deliver`
one item.
"""

from __future__ import annotations

import asyncio
import logging

from handlers.worker import Worker
from reports.delivery import OutboxService
from reports.outbox import OutboxItem
from storage.db import is_storage_fault

log = logging.getLogger(__name__)
# How often a courier holding unrecorded items tries the database again.
STORAGE_POLL = 1.0


class OutboxCourier(Worker):
    """Delivers one channel's outbox items; one item per target at a time, several at once."""

    def __init__(self, outbox: OutboxService, concurrency: int, idle_poll: float) -> None:
        super().__init__()
        # Items whose outcome the database would not take (a full disk): the
        # send may have gone out, so nothing goes out until they are recorded.
        self._unrecorded: list[OutboxItem] = []
        self.outbox = outbox
        self.concurrency = concurrency
        self.idle_poll = idle_poll

    async def deliver(self, item: OutboxItem) -> None:
        """Send one item, recording success, a retry time, or a permanent failure."""
        raise NotImplementedError

    async def _retry(self, item: OutboxItem, exc: Exception, transient: bool = False) -> None:
        """Schedule another attempt after a failed send, and say so in the log."""
        delay = await self.outbox.retry(item, f"{type(exc).__name__}: {exc}", transient=transient)
        log.warning(
            "outbox item %s (%s to %s) failed: %s; retry in %.1fs",
            item.id,
            item.kind,
            item.target,
            exc,
            delay,
        )

    async def stop(self) -> None:
        """Stop delivering, and let other processes take what this one had claimed."""
        if not self.running:
            return  # stopped already (a runtime stops twice), or never started
        await super().stop()
        try:
            await self.outbox.release_claims()
        except Exception as exc:  # a database that is gone or full: the leases run out
            log.warning("%s: could not release its claims: %s", self.name, exc)

    async def _run(self) -> None:
        """Keep up to `concurrency` deliveries going, never two for the same target."""
        flying: dict[asyncio.Task[None], str] = {}
        try:
            await self.outbox.forget_dead_claims()
        except Exception:
            log.exception("%s: could not free a previous process's claims", self.name)
        try:
            while True:
                try:
                    if self._unrecorded and not await self._record_held():
                        await asyncio.sleep(STORAGE_POLL)
                        continue
                    self._wake.clear()
                    free = self.concurrency - len(flying)
                    items = await self.outbox.due(free, set(flying.values())) if free else []
                    for item in items:
                        flying[asyncio.create_task(self._deliver_held(item))] = item.target
                    if len(items) == free and free:
                        continue  # maybe more are due: fill every free slot first
                    wait = await self.outbox.next_due_in() if not flying else None
                    timeout = self.idle_poll if wait is None else min(wait, self.idle_poll)
                    woken = asyncio.ensure_future(self._wake.wait())
                    done, _ = await asyncio.wait(
                        [woken, *flying],
                        timeout=max(timeout, 0.001),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    woken.cancel()
                    for task in done:
                        flying.pop(task, None)  # type: ignore[call-overload]
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the courier must outlive any bad item or a db hiccup
                    if is_storage_fault(exc):
                        # Claiming items is a write: nothing goes out until it can be made.
                        log.info("%s: deliveries wait for the database: %s", self.name, exc)
                        await asyncio.sleep(STORAGE_POLL)
                        continue
                    log.exception("%s loop failed; retrying shortly", self.name)
                    await asyncio.sleep(1)
        finally:
            for task in flying:
                task.cancel()
            await asyncio.gather(*flying, return_exceptions=True)

    async def _deliver_held(self, item: OutboxItem) -> None:
        """Deliver; if the database refuses to record how it went, hold the item.

        Left pending and due, it would be picked and sent again at once, in a
        loop, for as long as the disk stays full.
        """
        try:
            async with self._finishing():
                await self.deliver(item)
        except Exception as exc:
            if not is_storage_fault(exc):
                raise
            log.warning("outbox item %s: the database takes no writes (%s); holding", item.id, exc)
            self._unrecorded.append(item)

    async def _record_held(self) -> bool:
        """Schedule the held items' next attempt; True once the database took them all."""
        while self._unrecorded:
            item = self._unrecorded[0]
            try:
                await self.outbox.retry(item, "the database took no writes")
            except Exception as exc:
                if not is_storage_fault(exc):
                    raise
                log.info("%s: deliveries wait for the database: %s", self.name, exc)
                return False
            self._unrecorded.pop(0)
        return True
