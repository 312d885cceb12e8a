"""Updates run concurrently across chats but one at a time, in order, within a chat.

A resident's album arrives as several updates at once; handling them in
order keeps them in one draft. Waiting for one's turn in a chat must not
take a place among the updates that run: otherwise one resident's 200
messages fill every place while they wait on their own chat, and everyone
else waits behind them.

An update recorded in the inbox (`handlers.telegram.inbox`) waits for its
turn there instead: several processes may hold one chat's updates, and the
inbox's order holds across them (an update taken over from a dead process
included, which an in-process lock would queue behind later ones).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers.telegram.inbox import RecordingQueue, sender_of

# PTB takes its own semaphore before `do_process_update`, waiting included; it
# only bounds the updates in flight. Queued updates are cheap (a task each, and
# PTB creates the task anyway), so the bound is far above any real backlog.
MAX_IN_FLIGHT = 100_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Queue updates per chat (FIFO); only an update that runs holds one of `slots`."""

    def __init__(self, slots: int, queue: RecordingQueue | None = None) -> None:
        super().__init__(MAX_IN_FLIGHT)
        self.slots = slots
        self.queue = queue
        self._running = asyncio.Semaphore(slots)
        self._turns: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            async with self._running:
                await coroutine
            return
        row = self.queue.take_row(update) if self.queue is not None else None
        if row is not None and self.queue is not None:
            async with self.queue.inbox.turn(row, sender_of(update)), self._running:
                await coroutine
            return
        chat = update.effective_chat
        if chat is None:
            async with self._running:
                await coroutine
            return
        key = chat.id
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            # The chat's turn first (asyncio locks are FIFO, so order is kept), and
            # only then a place to run: a chat's backlog waits without holding one.
            async with turn, self._running:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:  # forget idle chats so the dicts stay small
                del self._queued[key]
                del self._turns[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
