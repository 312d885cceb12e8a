"""The pusher: delivers a push run paced under Telegram's limits, resuming after restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from telegram import Bot
from telegram.error import Forbidden, RetryAfter, TelegramError

from dialogue.render import push_message
from handlers.telegram.keyboards import inline
from handlers.telegram.worker import Worker
from quizzes.push import PushService
from quizzes.records import Recipient
from reports.delivery import backoff_seconds
from reports.outbox import TELEGRAM

log = logging.getLogger(__name__)


class Pusher(Worker):
    """Sends due recipients one at a time, at most `rate` a second overall."""

    name = "pusher"

    def __init__(self, bot: Bot, pushes: PushService, rate: float) -> None:
        super().__init__()
        self.bot = bot
        self.pushes = pushes
        self.interval = 1.0 / rate

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                self._wake.clear()
                batch = await self.pushes.due(TELEGRAM, 50)
                if not batch:
                    wait = await self.pushes.next_due_in(TELEGRAM)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=min(wait or 5.0, 5.0))
                    continue
                for recipient in batch:
                    began = loop.time()
                    async with self._finishing():
                        pause = await self.deliver(recipient)
                    # Pace: one message per interval; a 429 stops everyone for retry_after.
                    await asyncio.sleep(max(pause, self.interval - (loop.time() - began)))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pusher loop failed; retrying shortly")
                await asyncio.sleep(1)

    async def deliver(self, r: Recipient) -> float:
        """Send one recipient today's quiz; return how long everyone must now wait."""
        text, choices = push_message(r.kind)
        markup = inline(choices)
        try:
            await self.bot.send_message(int(r.external_id), text, reply_markup=markup)
        except RetryAfter as exc:
            after = _seconds(exc.retry_after)
            await self.pushes.retry(r, after, str(exc))
            return after
        except Forbidden as exc:
            await self.pushes.blocked(r, str(exc))
        except (TelegramError, OSError) as exc:
            await self.pushes.retry(r, backoff_seconds(r.attempts, 2.0, 300.0), str(exc))
        else:
            await self.pushes.sent(r)
        return 0.0


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]
