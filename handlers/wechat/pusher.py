"""The WeChat pusher: today's quiz (or the survey) to the WeChat residents who subscribed.

WeChat lets an account message a resident only within 48 hours of the resident's
last message (45015 after), and only a few times per message of theirs (45047):
a subscriber outside that window is skipped, counted for /push_status, not
retried. The push goes as a numbered menu, like every choice on WeChat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from dialogue.choices import flat
from dialogue.render import push_message
from handlers.wechat.client import (
    QUOTA_SPENT,
    OutsideWindow,
    WeChatApiError,
    WeChatBusy,
    WeChatClient,
)
from handlers.wechat.menus import numbered
from handlers.worker import Worker
from quizzes.push import PushService
from quizzes.records import Recipient
from reports.delivery import backoff_seconds
from reports.message_refs import MessageRefs
from reports.outbox import WECHAT
from reports.residents import Residents

log = logging.getLogger(__name__)

WINDOW_SECONDS = 48 * 3600
OUTSIDE_WINDOW = "outside WeChat's 48-hour window"


class WeChatPusher(Worker):
    """Sends due WeChat recipients, at most `rate` a second."""

    name = "wechat-pusher"

    def __init__(
        self,
        client: WeChatClient,
        pushes: PushService,
        residents: Residents,
        refs: MessageRefs,
        rate: float = 20.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.pushes = pushes
        self.residents = residents
        self.refs = refs
        self.interval = 1.0 / rate
        self._clock = clock

    def now(self) -> float:
        return self._clock() if self._clock is not None else self.pushes.clock()

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()
                batch = await self.pushes.due(WECHAT, 50)
                if not batch:
                    wait = await self.pushes.next_due_in(WECHAT)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=min(wait or 5.0, 5.0))
                    continue
                for recipient in batch:
                    async with self._finishing():
                        await self.deliver(recipient)
                    await asyncio.sleep(self.interval)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("WeChat pusher loop failed; retrying shortly")
                await asyncio.sleep(1)

    async def deliver(self, r: Recipient) -> None:
        """Send one recipient the push, or skip them outside WeChat's window."""
        wrote = await self.residents.last_wrote(r.resident_id)
        if wrote is None or self.now() - wrote > WINDOW_SECONDS:
            await self.pushes.skipped(r, OUTSIDE_WINDOW)
            return
        text, choices = push_message(r.kind)
        items, tail = numbered(flat(choices))
        try:
            await self.client.send_menu(r.external_id, text, items, tail)
        except OutsideWindow as exc:
            await self.pushes.skipped(r, f"{OUTSIDE_WINDOW}: {exc}")
        except WeChatBusy as exc:
            if exc.errcode == QUOTA_SPENT:  # clears only when they write again
                await self.pushes.skipped(r, str(exc))
            else:
                await self.pushes.retry(r, exc.retry_after, str(exc))
        except WeChatApiError as exc:
            if exc.permanent:
                await self.pushes.blocked(r, str(exc))  # unfollowed: unsubscribed too
            else:
                await self.pushes.retry(r, backoff_seconds(r.attempts, 2.0, 300.0), str(exc))
        except OSError as exc:
            await self.pushes.retry(r, backoff_seconds(r.attempts, 2.0, 300.0), str(exc))
        else:
            await self.refs.remember_menu(WECHAT, r.external_id, [c.data for c in flat(choices)])
            await self.pushes.sent(r)
