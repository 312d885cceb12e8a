"""Which process runs the timed jobs: the leader, who holds the database's leader lock.

Every process schedules the jobs (PTB's JobQueue, the pushers); a job's body returns
at once unless its process leads. Checking at run time rather than starting and
stopping the jobs on every change keeps one code path for both engines and leaves
nothing to reschedule when leadership moves: a process that takes over simply runs
the next due job. The jobs that must not run twice for one period (the digests, the
weekly report, a survey round) also claim their period in the transaction of their
effect (`storage.job_runs`), for the moment when leadership moves mid-job.

On SQLite the one process always leads. On PostgreSQL the lock is a session-level
advisory lock (`storage.postgres.PgLeaderLock`): the others try again every
`interval` seconds and take over when the leader's session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger("civic")

RETRY_SECONDS = 5.0


class LeaderLock(Protocol):
    async def try_acquire(self) -> bool: ...
    async def still_held(self) -> bool: ...
    async def release(self) -> None: ...


class Leadership:
    """Holds the leader lock when it can; `is_leader` says whether this process leads now."""

    def __init__(self, lock: LeaderLock, interval: float = RETRY_SECONDS) -> None:
        self.lock = lock
        self.is_leader = False
        # Called with True on taking the lead, False on losing it (e.g. wake the pushers).
        self.listeners: list[Callable[[bool], None]] = []
        self._led = asyncio.Event()
        self._checks = Every(self.check, interval, "leadership")

    @property
    def interval(self) -> float:
        """Seconds between two checks of the lock."""
        return self._checks.interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._checks.interval = seconds

    async def start(self) -> None:
        """Try at once (a lone process leads from its start), then every `interval`."""
        await self.check()
        self._checks.start()

    async def stop(self) -> None:
        """Stop trying and let the lock go (the session ends: another process takes over)."""
        await self._checks.stop()
        self._set(False)
        await self.lock.release()

    async def wait_until_leader(self) -> None:
        await self._led.wait()

    async def check(self) -> None:
        """The leader makes sure its session lives; the others try to take the lock."""
        if self.is_leader:
            if not await self.lock.still_held():
                log.warning("lost the leader lock: the timed jobs stop here")
                self._set(False)
        elif await self.lock.try_acquire():
            log.info("took the leader lock: the timed jobs run here")
            self._set(True)

    def _set(self, leading: bool) -> None:
        if leading == self.is_leader:
            return
        self.is_leader = leading
        if leading:
            self._led.set()
        else:
            self._led.clear()
        for listener in self.listeners:
            listener(leading)


class Every:
    """Runs an async call every `interval` seconds in a task of its own (errors logged)."""

    def __init__(self, call: Callable[[], Awaitable[object]], interval: float, name: str) -> None:
        self.call = call
        self.interval = interval
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.call()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again", self.name)
