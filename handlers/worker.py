"""A background task beside a channel's intake that sleeps until woken: its outbox
courier, its pusher."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractContextManager


class Worker:
    """Runs `_run` as one task; `wake` tells it new work is waiting."""

    name = "worker"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def _task_context(self) -> AbstractContextManager[object]:
        """A context the task is created in (it copies the context variables set here)."""
        return contextlib.nullcontext()

    def start(self) -> None:
        if self._task is None:
            with self._task_context():
                self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
