"""A Telegram worker (the courier, the pusher): a worker whose 429s are its own."""

from __future__ import annotations

from contextlib import AbstractContextManager

from handlers import worker
from handlers.telegram.pacer import own_retries


class Worker(worker.Worker):
    def _task_context(self) -> AbstractContextManager[object]:
        # A worker keeps its own books for a 429 (when to try again, how often it
        # tried): the pacer must raise it to the worker, not retry it as well.
        return own_retries()
