"""The callback server WeChat pushes residents' messages and events to (服务器配置 URL).

GET verifies the URL (the signature over token, timestamp and nonce; echostr
back). POST carries one message: in plaintext, or with `encrypt_type=aes` and a
`msg_signature` (compatible mode sends the plaintext beside the ciphertext, safe
mode the ciphertext only; either way only the signed ciphertext is believed).

WeChat waits 5 s for an answer, then retries the same push (three tries in
all). The budget, the retries and the late replies are handlers.callback's, the
machinery WeCom's callback shares: a reply in time is the passive reply;
otherwise WeChat is answered `success` and the reply goes out later through
`deliver_late` (a customer-service message).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from handlers.callback import CallbackLimits, MalformedMessage, PushCallback
from handlers.callback import build_callback_app as build_callback_app
from handlers.wechat.inbound import Inbound, inbound_from_xml
from settings import WeChatSettings

log = logging.getLogger(__name__)

OnInbound = Callable[[Inbound], Awaitable[str | None]]
DeliverLate = Callable[[str, str], Awaitable[None]]

# The answer that tells WeChat "received, nothing to show" (it then does not retry).
SUCCESS = "success"


@dataclass(frozen=True, kw_only=True)
class CallbackConfig(CallbackLimits):
    token: str
    app_id: str
    encoding_aes_key: str | None  # None: no encrypted push can be read
    plaintext: bool  # accept unencrypted pushes (明文模式, or compatible mode without aes)
    path: str = "/wechat"

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


class WeChatCallback(PushCallback[Inbound, str]):
    """Verifies, decrypts, deduplicates and answers WeChat's pushes."""

    def __init__(
        self,
        config: CallbackConfig,
        on_inbound: OnInbound,
        deliver_late: DeliverLate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config, on_inbound, log, "wechat", clock)
        self.config = config
        self._deliver = deliver_late
        self._crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.app_id)
            if config.encoding_aes_key
            else None
        )

    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer WeChat's URL check with its echostr, if it is signed with our token."""
        if not self._signed(request.query):
            log.warning("wechat: URL verification with a bad signature refused")
            raise web.HTTPForbidden()
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """Check, decrypt and handle one push; answer a passive reply or success."""
        query = request.query
        body = await self._read_body(request)
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        xml = self._opened(body, query) if encrypted else self._plain(body, query)
        try:
            inbound = inbound_from_xml(xml)
        except MalformedMessage as exc:
            log.warning("wechat: a push that is not a message refused: %s", exc)
            raise web.HTTPBadRequest() from None
        reply = await self._answer(inbound, xml)
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

    async def _deliver_late(self, inbound: Inbound, reply: str) -> None:
        await self._deliver(inbound.openid, reply)

    def _read(self, xml: str) -> Inbound:
        return inbound_from_xml(xml)

    def _sender(self, inbound: Inbound) -> str:
        return inbound.openid

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

    def _plain(self, body: str, query: Mapping[str, str]) -> str:
        """A plaintext push, if it is signed and plaintext is accepted at all."""
        if not self._signed(query):
            log.warning("wechat: a push with a bad signature refused")
            raise web.HTTPForbidden()
        if not self.config.plaintext:
            log.warning("wechat: a plaintext push refused (plaintext is off)")
            raise web.HTTPForbidden()
        return body

    def _opened(self, body: str, query: Mapping[str, str]) -> str:
        """The message inside an encrypted push, if its msg_signature and appid are ours."""
        if self._crypto is None:
            log.warning("wechat: an encrypted push refused: no EncodingAESKey is configured")
            raise web.HTTPForbidden()
        return self._decrypted(self._crypto, body, query)
