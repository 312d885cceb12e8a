"""A background task beside a channel's intake that sleeps until woken: its outbox
courier, its pusher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager

# How long a stop waits for the sends in flight to record their outcome. A send
# cancelled between the request and its record is sent again after a restart
# (twice, never lost); a graceful stop should not do that.
STOP_GRACE = 10.0


class Worker:
    """Runs `_run` as one task; `wake` tells it new work is waiting."""

    name = "worker"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def wake(self) -> None:
        self._wake.set()

    def _task_context(self) -> AbstractContextManager[object]:
        """A context the task is created in (it copies the context variables set here)."""
        return contextlib.nullcontext()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            with self._task_context():
                self._task = asyncio.create_task(self._run(), name=self.name)

    @contextlib.asynccontextmanager
    async def _finishing(self) -> AsyncIterator[None]:
        """A send and the record of its outcome: a stop lets it finish (within STOP_GRACE)
        rather than cancel it in between; once stopping, no new one begins."""
        if self._stopping:
            raise asyncio.CancelledError
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), STOP_GRACE)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None

    async def _run(self) -> None:
        raise NotImplementedError
