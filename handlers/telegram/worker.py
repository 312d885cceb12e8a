"""A background task beside polling that sleeps until woken: the courier and the pusher."""

from __future__ import annotations

import asyncio
import contextlib

from handlers.telegram.pacer import own_retries


class Worker:
    """Runs `_run` as one task; `wake` tells it new work is waiting."""

    name = "worker"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            # A worker keeps its own books for a 429 (when to try again, how often it
            # tried): the pacer must raise it to the worker, not retry it as well.
            with own_retries():  # the task copies this context when it is created
                self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
