"""The callback server WeChat pushes residents' messages and events to (服务器配置 URL).

GET verifies the URL (the signature over token, timestamp and nonce; echostr
back). POST carries one message: in plaintext, or with `encrypt_type=aes` and a
`msg_signature` (compatible mode sends the plaintext beside the ciphertext, safe
mode the ciphertext only; either way only the signed ciphertext is believed).

WeChat waits 5 s for an answer, then retries the same push (three tries in
all). So the handler runs with a budget under that: its reply, if it comes in
time, is the passive reply; otherwise WeChat is answered `success` and the reply
goes out later through `deliver_late` (a customer-service message). A retry
never runs the handler twice: it waits for the same handling, or gets the same
answer. What is remembered is bounded in time and number, and lives in this
process: two processes behind one URL would each run a retry that reaches them
(out of scope: one process serves the account).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from handlers.wechat.inbound import Inbound, MalformedMessage, inbound_from_xml, xml_fields
from settings import WeChatSettings

log = logging.getLogger(__name__)

OnInbound = Callable[[Inbound], Awaitable[str | None]]
DeliverLate = Callable[[str, str], Awaitable[None]]

# The answer that tells WeChat "received, nothing to show" (it then does not retry).
SUCCESS = "success"


@dataclass(frozen=True)
class CallbackConfig:
    token: str
    app_id: str
    encoding_aes_key: str | None  # None: no encrypted push can be read
    plaintext: bool  # accept unencrypted pushes (明文模式, or compatible mode without aes)
    path: str = "/wechat"
    budget_seconds: float = 4.0  # under WeChat's 5 s, with room for the network
    max_body_bytes: int = 64 * 1024  # a message is a few KB; compatible mode triples it
    remember_seconds: float = 300.0  # WeChat's three tries are over in about 15 s
    remember_max: int = 10_000

    @classmethod
    def from_settings(cls, wechat: WeChatSettings) -> CallbackConfig:
        """The callback's part of [wechat]."""
        return cls(
            token=wechat.token,
            app_id=wechat.app_id,
            encoding_aes_key=wechat.encoding_aes_key,
            plaintext=wechat.plaintext,
            path=wechat.path,
            budget_seconds=wechat.reply_budget_seconds,
        )


@dataclass(eq=False)
class _Handling:
    """One push being handled, or handled: what its retries are answered with."""

    inbound: Inbound
    expires: float
    done: asyncio.Event = field(default_factory=asyncio.Event)
    reply: str | None = None
    finished: bool = False
    late: bool = False  # finished with nobody waiting: the reply went out as a late message
    waiters: int = 0  # requests (the push and its retries) waiting within their budget


class WeChatCallback:
    """Verifies, decrypts, deduplicates and answers WeChat's pushes."""

    def __init__(
        self,
        config: CallbackConfig,
        on_inbound: OnInbound,
        deliver_late: DeliverLate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._on_inbound = on_inbound
        self._deliver_late = deliver_late
        self._clock = clock
        self._crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.app_id)
            if config.encoding_aes_key
            else None
        )
        self._seen: OrderedDict[str, _Handling] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        """The GET (URL verification) and POST (messages) routes at the configured path."""
        return [
            web.get(self.config.path, self.verify_url, allow_head=False),
            web.post(self.config.path, self.receive),
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

    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer WeChat's URL check with its echostr, if it is signed with our token."""
        if not self._signed(request.query):
            log.warning("wechat: URL verification with a bad signature refused")
            raise web.HTTPForbidden()
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """Check, decrypt and handle one push; answer a passive reply or success."""
        query = request.query
        if "xml" not in request.content_type and request.content_type != "text/plain":
            raise web.HTTPUnsupportedMediaType()
        body = await self._read_body(request)
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        xml = self._decrypted(body, query) if encrypted else self._plain(body, query)
        try:
            inbound = inbound_from_xml(xml)
        except MalformedMessage as exc:
            log.warning("wechat: a push that is not a message refused: %s", exc)
            raise web.HTTPBadRequest() from None
        reply = await self._answer(inbound)
        if not reply:
            return web.Response(text=SUCCESS, content_type="text/plain")
        now = int(time.time())
        rendered = TextReply(
            source=inbound.account, target=inbound.openid, content=reply, time=now
        ).render()
        if encrypted:
            assert self._crypto is not None
            rendered = self._crypto.encrypt_message(rendered, query.get("nonce", ""), str(now))
        return web.Response(text=rendered, content_type="application/xml")

    def _signed(self, query: Mapping[str, str]) -> bool:
        try:
            check_signature(
                self.config.token,
                query.get("signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
            )
        except InvalidSignatureException:
            return False
        return True

    async def _read_body(self, request: web.Request) -> str:
        limit = self.config.max_body_bytes
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

    def _plain(self, body: str, query: Mapping[str, str]) -> str:
        """A plaintext push, if it is signed and plaintext is accepted at all."""
        if not self._signed(query):
            log.warning("wechat: a push with a bad signature refused")
            raise web.HTTPForbidden()
        if not self.config.plaintext:
            log.warning("wechat: a plaintext push refused (plaintext is off)")
            raise web.HTTPForbidden()
        return body

    def _decrypted(self, body: str, query: Mapping[str, str]) -> str:
        """The message inside an encrypted push, if its msg_signature and appid are ours."""
        if self._crypto is None:
            log.warning("wechat: an encrypted push refused: no EncodingAESKey is configured")
            raise web.HTTPForbidden()
        try:
            envelope = xml_fields(body)
        except MalformedMessage as exc:
            log.warning("wechat: an encrypted push that is not XML refused: %s", exc)
            raise web.HTTPBadRequest() from None
        try:
            return self._crypto.decrypt_message(
                {"Encrypt": envelope.get("Encrypt", "")},
                query.get("msg_signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
            )
        except InvalidSignatureException:
            log.warning("wechat: an encrypted push with a bad msg_signature refused")
            raise web.HTTPForbidden() from None
        except Exception as exc:  # bad base64, padding, length, or another app's id
            log.warning("wechat: an encrypted push that does not decrypt refused: %r", exc)
            raise web.HTTPForbidden() from None

    async def _answer(self, inbound: Inbound) -> str | None:
        """The reply to give now, or None for `success` (none, late, or given already)."""
        self._forget_old()
        handling = self._seen.get(inbound.key)
        if handling is None:
            handling = _Handling(inbound, self._clock() + self.config.remember_seconds)
            self._seen[inbound.key] = handling
            while len(self._seen) > self.config.remember_max:
                self._seen.popitem(last=False)
            task = asyncio.create_task(self._handle(handling))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            log.info("wechat: %s pushed again (WeChat's retry)", inbound.key)
        if not handling.finished:
            handling.waiters += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(handling.done.wait(), self.config.budget_seconds)
            finally:
                handling.waiters -= 1
        # No await from here on: a handling that finishes while someone waits is
        # answered by a waiter, never also late (see _handle).
        if handling.finished and not handling.late:
            return handling.reply
        return None

    async def _handle(self, handling: _Handling) -> None:
        inbound = handling.inbound
        try:
            reply = await self._on_inbound(inbound)
        except Exception:
            log.exception("wechat: handling %s from %s failed", inbound.key, inbound.openid)
            reply = None
        handling.reply = reply or None
        handling.finished = True
        handling.done.set()
        if handling.waiters:
            return  # a request within its budget gives the reply passively
        handling.late = True
        if handling.reply is None:
            return
        try:
            await self._deliver_late(inbound.openid, handling.reply)
        except Exception:
            log.exception("wechat: the late reply to %s could not be delivered", inbound.openid)

    def _forget_old(self) -> None:
        now = self._clock()
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest.expires > now:
                break
            self._seen.popitem(last=False)


def build_callback_app(callback: WeChatCallback) -> web.Application:
    """An aiohttp application serving the callback; it lets handlings finish on shutdown."""
    app = web.Application(client_max_size=callback.config.max_body_bytes)
    app.add_routes(callback.routes())

    async def finish_handlings(_: web.Application) -> None:
        await callback.close()

    app.on_shutdown.append(finish_handlings)
    return app
