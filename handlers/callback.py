"""What every push callback shares: WeChat's Official Account and WeCom's app alike.

Both push one message a request and wait 5 s for the answer, then retry the
same push (three tries in all). So the handler runs with a budget under that:
its reply, if it comes in time and the channel can give it in the HTTP answer,
is the passive reply; otherwise the push is acknowledged and the reply goes out
later through the channel's API (`_deliver_late`). A retry never runs the
handler twice: it waits for the same handling, or gets the same answer. What is
remembered here is bounded in time and number; with the inbox (`use_inbox`), a
push is also recorded in the database before it is handled, so several processes
behind one URL each recognise a retry another took (and acknowledge it), one
sender's pushes are handled in order whichever process took each, and a push a
dead process took is handled by another (its reply then goes out late).

A channel subclasses `PushCallback` with its signature and crypto checks, its
reading of a message and its rendering of a reply; the body checks, the
decryption of a signed `<Encrypt>` envelope and the XML reading are here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import xml.etree.ElementTree as ElementTree
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web
from wechatpy.exceptions import InvalidSignatureException

from reports.inbox import Inbox, InboxUnavailable
from storage.inbox import Received


class MalformedMessage(ValueError):
    """The body is not a pushed message (not XML, no MsgType, no sender...)."""


class Keyed(Protocol):
    @property
    def key(self) -> str:
        """The same for the retries of one push, distinct otherwise."""
        ...


InboundT = TypeVar("InboundT", bound=Keyed)
ReplyT = TypeVar("ReplyT")


@dataclass(frozen=True, kw_only=True)
class CallbackLimits:
    """Where a callback listens and what it allows; a channel's config adds its secrets."""

    path: str
    budget_seconds: float = 4.0  # under the 5 s the push waits, with room for the network
    max_body_bytes: int = 64 * 1024  # a message is a few KB; WeChat's compatible mode triples it
    remember_seconds: float = 300.0  # the three tries are over in about 15 s
    remember_max: int = 10_000


@dataclass(eq=False)
class _Handling(Generic[InboundT, ReplyT]):
    """One push being handled, or handled: what its retries are answered with."""

    inbound: InboundT
    expires: float
    row: int | None = None  # the push's row in the inbox, if there is one
    done: asyncio.Event = field(default_factory=asyncio.Event)
    reply: ReplyT | None = None
    finished: bool = False
    late: bool = False  # finished with nobody waiting: the reply went out through the API
    waiters: int = 0  # requests (the push and its retries) waiting within their budget


class PushCallback(ABC, Generic[InboundT, ReplyT]):
    """Runs the handler once per push within a budget; a channel adds its wire format."""

    def __init__(
        self,
        limits: CallbackLimits,
        on_inbound: Callable[[InboundT], Awaitable[ReplyT | None]],
        log: logging.Logger,
        name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self._on_inbound = on_inbound
        self._log = log  # the channel's logger
        self._name = name  # the channel, first in every line it logs
        self._clock = clock
        self._seen: OrderedDict[str, _Handling[InboundT, ReplyT]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._inbox: Inbox | None = None
        self._channel = name

    def use_inbox(self, inbox: Inbox, channel: str) -> None:
        """Record every push in `inbox` before handling it, as `channel`'s."""
        self._inbox = inbox
        self._channel = channel
        inbox.resume_with(channel, self._resume)

    # -- What a channel provides

    @abstractmethod
    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer the platform's check of the URL (GET)."""

    @abstractmethod
    async def receive(self, request: web.Request) -> web.Response:
        """Check, open and answer one push (POST)."""

    @abstractmethod
    async def _deliver_late(self, inbound: InboundT, reply: ReplyT) -> None:
        """Send a reply that could not be the passive one, through the channel's API."""

    @abstractmethod
    def _sender(self, inbound: InboundT) -> str:
        """Who wrote, for the log."""

    @abstractmethod
    def _read(self, xml: str) -> InboundT:
        """A push's decrypted XML, read (MalformedMessage if it is not one)."""

    def _passive(self, inbound: InboundT, reply: ReplyT) -> bool:
        """Whether this reply can be the HTTP answer to this push (else it goes out late)."""
        return True

    # -- Serving

    def routes(self) -> list[web.RouteDef]:
        """The GET (URL verification) and POST (messages) routes at the configured path."""
        return [
            web.get(self.limits.path, self.verify_url, allow_head=False),
            web.post(self.limits.path, self.receive),
        ]

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Let the handlings in flight finish (and deliver) for a while, then cancel them."""
        tasks = set(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _read_body(self, request: web.Request) -> str:
        """The body as text, if it is XML (or text) and within the size allowed."""
        if "xml" not in request.content_type and request.content_type != "text/plain":
            raise web.HTTPUnsupportedMediaType()
        limit = self.limits.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
        chunks, size = [], 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
            chunks.append(chunk)
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError:
            raise web.HTTPBadRequest() from None

    def _decrypted(self, crypto: Any, body: str, query: Mapping[str, str]) -> str:
        """The message inside a signed <Encrypt> envelope; 403 unless it is sealed for us.

        `crypto` is wechatpy's WeChatCrypto (an Official Account's AppID inside) or
        its enterprise one (a corp id inside): the same envelope, the same checks.
        """
        name = self._name
        try:
            envelope = xml_fields(body)
        except MalformedMessage as exc:
            self._log.warning("%s: an encrypted push that is not XML refused: %s", name, exc)
            raise web.HTTPBadRequest() from None
        try:
            return crypto.decrypt_message(
                {"Encrypt": envelope.get("Encrypt", "")},
                query.get("msg_signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
            )
        except InvalidSignatureException:
            self._log.warning("%s: an encrypted push with a bad msg_signature refused", name)
            raise web.HTTPForbidden() from None
        except Exception as exc:  # bad base64, padding, length, or another account's id
            self._log.warning("%s: an encrypted push that does not decrypt refused: %r", name, exc)
            raise web.HTTPForbidden() from None

    # -- Once per push, within the budget

    async def _answer(self, inbound: InboundT, xml: str) -> ReplyT | None:
        """The reply to give now, or None to acknowledge only (none, late, or given already).

        With the inbox, a push not recorded yet is recorded first: if that fails the
        push fails (the platform tries again), and one another process recorded is a
        retry it answers.
        """
        self._forget_old()
        handling = self._seen.get(inbound.key)
        if handling is None:
            row = None
            if self._inbox is not None:
                try:
                    row = await self._inbox.record(
                        self._channel, inbound.key, self._in_turn(inbound), xml
                    )
                except InboxUnavailable:
                    row = 0  # handled unrecorded: the conversation says it was not saved
                if row is None:
                    self._log.info("%s: %s was taken by another process", self._name, inbound.key)
                    return None
                handling = self._seen.get(inbound.key)  # a retry here while recording
            if handling is None:
                handling = self._start(inbound, row)
        else:
            self._log.info("%s: %s pushed again (a retry)", self._name, inbound.key)
        if not handling.finished:
            handling.waiters += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(handling.done.wait(), self.limits.budget_seconds)
            finally:
                handling.waiters -= 1
        # No await from here on: a handling that finishes while someone waits is
        # answered by a waiter, never also late (see _handle).
        if handling.finished and not handling.late:
            return handling.reply
        return None

    def _in_turn(self, inbound: InboundT) -> str:
        """Whose pushes are handled in order, one at a time (the inbox's sender)."""
        return f"{self._channel}:{self._sender(inbound)}"

    def _start(self, inbound: InboundT, row: int | None) -> _Handling[InboundT, ReplyT]:
        """Remember a push and start handling it in a task of its own."""
        handling = _Handling(inbound, self._clock() + self.limits.remember_seconds, row)
        self._seen[inbound.key] = handling
        while len(self._seen) > self.limits.remember_max:
            self._seen.popitem(last=False)
        task = asyncio.create_task(self._handle(handling))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return handling

    async def _resume(self, received: Received) -> None:
        """Handle a push a dead process had taken; its reply goes out late."""
        try:
            inbound = self._read(received.payload)
        except MalformedMessage:
            return  # it was read once already: this does not happen
        if inbound.key not in self._seen:
            self._start(inbound, received.id)

    async def _handle(self, handling: _Handling[InboundT, ReplyT]) -> None:
        inbound = handling.inbound
        try:
            if self._inbox is not None and handling.row:
                async with self._inbox.turn(handling.row, self._in_turn(inbound)):
                    reply = await self._on_inbound(inbound) or None
            else:
                reply = await self._on_inbound(inbound) or None
        except Exception:
            self._log.exception(
                "%s: handling %s from %s failed", self._name, inbound.key, self._sender(inbound)
            )
            reply = None
        passive = reply is not None and self._passive(inbound, reply)
        handling.reply = reply if passive else None
        handling.finished = True
        handling.done.set()
        if passive and handling.waiters:
            return  # a request within its budget gives the reply passively
        handling.late = True
        if reply is None:
            return
        try:
            await self._deliver_late(inbound, reply)
        except Exception:
            self._log.exception(
                "%s: the late reply to %s could not be delivered", self._name, self._sender(inbound)
            )

    def _forget_old(self) -> None:
        now = self._clock()
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest.expires > now:
                break
            self._seen.popitem(last=False)


def build_callback_app(callback: PushCallback[Any, Any]) -> web.Application:
    """An aiohttp application serving the callback; it lets handlings finish on shutdown."""
    app = web.Application(client_max_size=callback.limits.max_body_bytes)
    app.add_routes(callback.routes())

    async def finish_handlings(_: web.Application) -> None:
        await callback.close()

    app.on_shutdown.append(finish_handlings)
    return app


def xml_fields(xml: str) -> dict[str, str]:
    """The top-level elements' text; no DTD: WeChat and WeCom never send one, an attacker might."""
    start = xml.find("<xml")
    if "<!" in (xml if start < 0 else xml[:start]):
        raise MalformedMessage("a DTD is not accepted")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise MalformedMessage(f"not XML: {exc}") from None
    if root.tag != "xml":
        raise MalformedMessage(f"root element <{root.tag}>, not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}
