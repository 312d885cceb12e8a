"""Pace what the bot sends under Telegram's flood limits, and retry a 429 after retry_after.

Telegram allows about 30 messages a second overall, about one a second in a
private chat and 20 a minute in a group; beyond that it answers 429 with
`retry_after`. Handlers reply directly (reply_text, edits, callback answers),
and a reply that met a 429 used to be lost. PTB's AIORateLimiter paces only
the overall and group limits, not one private chat's, and a 429 in one chat
halts every request; so we pace ourselves, per chat as well:

- messages that create a message are paced per chat (private: `chat_rate` a
  second; group: `group_per_minute` a minute), then overall (`send_rate`);
  edits count in the overall window only;
- a 429 holds back that chat only, and the request is sent again after
  retry_after, up to `retries` times (direct replies).

The outbox courier and the pusher keep their own books for a 429 (when to
try again, how often they tried): inside `own_retries()` a 429 is raised to
them at once instead of being retried here, so no send is retried twice; and
a chat whose window is full for longer than `WORKER_MAX_WAIT` answers them
with a 429 of our own, so that one busy group does not hold the courier's
places while other chats' messages wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Methods that put a new message in a chat: Telegram's per-chat limits count these.
CREATES_MESSAGE = frozenset(
    {
        "copyMessage",
        "forwardMessage",
        "sendAnimation",
        "sendAudio",
        "sendContact",
        "sendDice",
        "sendDocument",
        "sendLocation",
        "sendMediaGroup",
        "sendMessage",
        "sendPhoto",
        "sendPoll",
        "sendSticker",
        "sendVenue",
        "sendVideo",
        "sendVideoNote",
        "sendVoice",
    }
)
EDITS_MESSAGE = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"}
)
# A reply that would wait longer than this is not worth holding an update for.
MAX_RETRY_WAIT = 30.0
# The courier and the pusher reschedule rather than wait longer than this for a chat.
WORKER_MAX_WAIT = 2.0
# Chats not sent to for this long are forgotten, so memory follows activity.
FORGET_AFTER = 300.0

# A direct send that must not be lost (a quiz's results) is tried again this many times
# after a 5xx, a dropped connection or a timeout, waiting 0.5 s, 1 s, 2 s ... in between.
TRANSIENT_RETRIES = 4
TRANSIENT_BACKOFF = 0.5
T = TypeVar("T")

_own_retries: ContextVar[bool] = ContextVar("own_retries", default=False)


@contextlib.contextmanager
def own_retries() -> Iterator[None]:
    """Within this block a 429 is raised to the caller at once: it reschedules on its own."""
    token = _own_retries.set(True)
    try:
        yield
    finally:
        _own_retries.reset(token)


async def send_retrying(
    send: Callable[[], Awaitable[T]],
    retries: int = TRANSIENT_RETRIES,
    backoff: float = TRANSIENT_BACKOFF,
) -> T:
    """Send directly, and again after a 5xx, a dropped connection or a timeout, backing off.

    The pacer already sends again after a 429; a 400 or 403 is final. A send that
    timed out may have been posted all the same: the resident may see it twice,
    which beats not at all. After the last retry the error is raised.
    """
    for attempt in range(retries + 1):
        try:
            return await send()
        except BadRequest:
            raise  # PTB derives it from NetworkError, but a retry cannot mend it
        except NetworkError as exc:
            if attempt == retries:
                raise
            delay = backoff * 2**attempt
            log.warning("direct send failed (%s); sending again in %.1fs", exc, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class Window:
    """At most `limit` sends in any `period` seconds, each counted from when it finished.

    Counting from the end of a request (not its start) keeps us on the safe
    side of Telegram, which counts from when it received the request. Waiters
    are served in order.
    """

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._finished: deque[float] = deque()
        self._flying = 0
        self._turn = asyncio.Lock()
        self._landed = asyncio.Event()
        self._held_until = 0.0  # after a 429: nothing goes before this

    @property
    def last_used(self) -> float:
        return self._finished[-1] if self._finished else 0.0

    @property
    def idle(self) -> bool:
        return not self._flying and not self._turn.locked()

    def free_in(self) -> float:
        """About how many seconds until a send could go (0: now)."""
        now = self.clock()
        if now < self._held_until:
            return self._held_until - now
        recent = [t for t in self._finished if now - t < self.period]
        if self._flying + len(recent) < self.limit and not self._turn.locked():
            return 0.0
        # With nothing finished lately, the places are taken by requests about to land.
        return recent[0] + self.period - now if recent else 0.0

    async def acquire(self) -> None:
        async with self._turn:
            while True:
                now = self.clock()
                if now < self._held_until:
                    await asyncio.sleep(self._held_until - now)
                    continue
                while self._finished and now - self._finished[0] >= self.period:
                    self._finished.popleft()
                if self._flying + len(self._finished) < self.limit:
                    self._flying += 1
                    return
                if self._finished:
                    await asyncio.sleep(self._finished[0] + self.period - now)
                else:  # every place is taken by a request still under way
                    self._landed.clear()
                    await self._landed.wait()

    def release(self, not_before: float | None = None, counted: bool = True) -> None:
        """The send is over; after a 429, nothing more goes before `not_before`.

        A send Telegram never took (`counted` False: a 5xx, a refusal) uses no place.
        """
        self._flying -= 1
        if counted:
            self._finished.append(self.clock())
        if not_before is not None:
            self._held_until = max(self._held_until, not_before)
        self._landed.set()


class Pacer(BaseRateLimiter[None]):
    """A PTB rate limiter: per-chat and overall windows, and retries after a 429."""

    def __init__(
        self,
        send_rate: float = 25.0,
        chat_rate: float = 1.0,
        group_per_minute: int = 20,
        retries: int = 3,
    ) -> None:
        self.send_rate = send_rate
        self.chat_rate = chat_rate
        self.group_per_minute = group_per_minute
        self.retries = retries
        self._overall = Window(max(1, round(send_rate)), max(1.0, 1.0 / send_rate))
        self._chats: dict[int | str, Window] = {}
        self._swept_at = time.monotonic()
        self.processes = 1  # how many processes send for this bot (see `share`)

    def share(self, processes: int) -> None:
        """Keep to this process's share of the limits: Telegram counts them per bot, so
        with `processes` processes sending, each may use only a part of each window."""
        processes = max(1, processes)
        if processes == self.processes:
            return
        self.processes = processes
        rate = self.send_rate / processes
        self._overall.limit, self._overall.period = max(1, round(rate)), max(1.0, 1.0 / rate)
        self._chats = {k: w for k, w in self._chats.items() if not w.idle}
        for window in self._chats.values():
            self._fit(window)
        log.info("sending at 1/%d of Telegram's limits: %d processes send", processes, processes)

    def _fit(self, window: Window) -> None:
        """A chat's window, sized to this process's share."""
        if window.period == 60.0:  # a group's
            window.limit = max(1, self.group_per_minute // self.processes)
        else:
            window.period = self.processes / self.chat_rate

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send when the chat's and the overall window allow; retry a 429 for direct replies."""
        chat = self._chat_window(data.get("chat_id")) if endpoint in CREATES_MESSAGE else None
        overall = self._overall if endpoint in CREATES_MESSAGE | EDITS_MESSAGE else None
        retries = 0 if _own_retries.get() else self.retries
        if _own_retries.get() and chat is not None and chat.free_in() > WORKER_MAX_WAIT:
            raise RetryAfter(timedelta(seconds=math.ceil(chat.free_in())))
        attempt = 0
        while True:
            try:
                return await self._send(chat, overall, callback, args, kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if attempt == retries or wait > MAX_RETRY_WAIT:
                    raise
            attempt += 1
            log.info("%s to %s: 429, again in %.1f s", endpoint, data.get("chat_id"), wait)
            if chat is None:  # else the chat's window holds the next attempt back
                await asyncio.sleep(wait)

    async def _send(
        self,
        chat: Window | None,
        overall: Window | None,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> Any:
        """One attempt inside the chat's window, then the overall one."""
        if chat is not None:
            await chat.acquire()
        not_before = None
        counted = True
        try:
            if overall is not None:
                await overall.acquire()
            try:
                return await callback(*args, **kwargs)
            finally:
                if overall is not None:
                    overall.release()
        except RetryAfter as exc:
            not_before = time.monotonic() + _seconds(exc.retry_after)
            raise
        except TimedOut:
            raise  # it may have been posted all the same
        except TelegramError:
            # A 5xx or a refusal posted nothing: counting it would make the group
            # wait out a minute of failed attempts once an outage is over.
            counted = False
            raise
        finally:
            if chat is not None:
                chat.release(not_before, counted)

    def _chat_window(self, chat_id: object) -> Window | None:
        if chat_id is None:
            return None
        key: int | str = chat_id if isinstance(chat_id, int | str) else str(chat_id)
        with contextlib.suppress(ValueError):
            key = int(key)
        self._sweep()
        window = self._chats.get(key)
        if window is None:
            group = not isinstance(key, int) or key < 0  # @channel names are groups too
            window = Window(self.group_per_minute, 60.0) if group else Window(1, 1 / self.chat_rate)
            self._fit(window)
            self._chats[key] = window
        return window

    def _sweep(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < FORGET_AFTER:
            return
        self._swept_at = now
        for key, window in list(self._chats.items()):
            if window.idle and now - window.last_used > FORGET_AFTER:
                del self._chats[key]


def _seconds(value: object) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]
