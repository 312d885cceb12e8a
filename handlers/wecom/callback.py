"""The callback server WeCom pushes the app's messages and events to (接收消息 URL).

WeCom always encrypts. GET verifies the URL: its `echostr` is a ciphertext,
signed (`msg_signature`) over token, timestamp, nonce and echostr; the answer
is its plaintext. POST carries one message in an `<Encrypt>` envelope, signed
the same way; the corp id sealed inside must be ours. Anything else is refused
(403) and never reaches the handler.

The budget under WeCom's 5 s, its retries and late replies are handlers.callback's,
shared with WeChat's callback. What can be the passive reply depends on the push:

- a text (or another event) may be answered with a text message;
- a press on a template card (template_card_event) may be answered only with a
  模板卡片更新消息: `ButtonUpdate` renders `update_button`, which relabels the
  pressed button, greyed, for the member who pressed it. A text is not among
  the replies WeCom documents for a card event, so a text answer to a press
  goes out through the API instead (`deliver_late`, at once), as does a
  `ButtonUpdate` that misses the budget (the API's update_template_card, with
  the press's ResponseCode: one use, within 72 hours).

With no reply to give, WeCom is answered an empty body: "received, nothing to
show", after which it does not retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from handlers.callback import CallbackLimits, MalformedMessage, PushCallback
from handlers.wecom.inbound import WeComInbound, wecom_inbound_from_xml
from settings import WeComSettings

log = logging.getLogger(__name__)

# The answer that tells WeCom "received, nothing to show" (it then does not retry).
ACKNOWLEDGED = ""


@dataclass(frozen=True)
class ButtonUpdate:
    """The pressed button's new label (greyed), for the member who pressed it."""

    label: str


# A text message to the member, or (to a card press only) the pressed button's new label.
Reply = str | ButtonUpdate
OnInbound = Callable[[WeComInbound], Awaitable[Reply | None]]
# A reply that is not the passive one: a text through the app's message API to
# inbound.userid; a ButtonUpdate through update_template_card with inbound.response_code.
DeliverLate = Callable[[WeComInbound, Reply], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class WeComCallbackConfig(CallbackLimits):
    token: str
    corp_id: str
    encoding_aes_key: str
    agent_id: int | None = None  # a push for another app of the corp is not handled
    path: str = "/wecom"

    @classmethod
    def from_settings(cls, wecom: WeComSettings) -> WeComCallbackConfig:
        """The callback's part of [wecom]."""
        return cls(
            token=wecom.token,
            corp_id=wecom.corp_id,
            encoding_aes_key=wecom.encoding_aes_key,
            agent_id=wecom.agent_id,
            path=wecom.path,
            budget_seconds=wecom.reply_budget_seconds,
        )


class WeComCallback(PushCallback[WeComInbound, Reply]):
    """Verifies, decrypts, deduplicates and answers WeCom's pushes to the app."""

    def __init__(
        self,
        config: WeComCallbackConfig,
        on_inbound: OnInbound,
        deliver_late: DeliverLate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config, on_inbound, log, "wecom", clock)
        self.config = config
        self._deliver = deliver_late
        self._crypto = WeChatCrypto(config.token, config.encoding_aes_key, config.corp_id)

    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer WeCom's URL check with the echostr's plaintext, if it is signed and ours."""
        query = request.query
        # base64 has no spaces: a "+" that reached us unencoded was read as one.
        echostr = query.get("echostr", "").replace(" ", "+")
        try:
            plain = self._crypto.check_signature(
                query.get("msg_signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
                echostr,
            )
        except InvalidSignatureException:
            log.warning("wecom: URL verification with a bad signature refused")
            raise web.HTTPForbidden() from None
        except Exception as exc:  # not base64, bad padding, or another corp's id inside
            log.warning("wecom: URL verification that does not decrypt refused: %r", exc)
            raise web.HTTPForbidden() from None
        return web.Response(text=plain, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """Check, decrypt and handle one push; answer a passive reply or acknowledge it."""
        query = request.query
        xml = self._decrypted(self._crypto, await self._read_body(request), query)
        try:
            inbound = wecom_inbound_from_xml(xml)
        except MalformedMessage as exc:
            log.warning("wecom: a push that is not a message refused: %s", exc)
            raise web.HTTPBadRequest() from None
        agent_id = self.config.agent_id
        if agent_id is not None and inbound.agent_id not in (None, agent_id):
            log.warning("wecom: %s is for app %s, not ours", inbound.key, inbound.agent_id)
            return web.Response(text=ACKNOWLEDGED, content_type="text/plain")
        reply = await self._answer(inbound, xml)
        if reply is None:
            return web.Response(text=ACKNOWLEDGED, content_type="text/plain")
        now = str(int(time.time()))
        rendered = self._crypto.encrypt_message(
            render_reply(inbound, reply, self.config.corp_id, now), query.get("nonce", ""), now
        )
        return web.Response(text=rendered, content_type="application/xml")

    def _passive(self, inbound: WeComInbound, reply: Reply) -> bool:
        return isinstance(reply, ButtonUpdate) == (inbound.kind == "card_press")

    async def _deliver_late(self, inbound: WeComInbound, reply: Reply) -> None:
        if isinstance(reply, ButtonUpdate) and inbound.kind != "card_press":
            log.warning("wecom: a button label in reply to %s (no card) dropped", inbound.key)
            return
        await self._deliver(inbound, reply)

    def _read(self, xml: str) -> WeComInbound:
        return wecom_inbound_from_xml(xml)

    def _sender(self, inbound: WeComInbound) -> str:
        return inbound.userid


def render_reply(inbound: WeComInbound, reply: Reply, corp_id: str, now: str) -> str:
    """The plaintext XML of a passive reply: a text message, or update_button."""
    head = (
        f"<ToUserName>{_cdata(inbound.userid)}</ToUserName>"
        f"<FromUserName>{_cdata(corp_id)}</FromUserName>"
        f"<CreateTime>{now}</CreateTime>"
    )
    if isinstance(reply, ButtonUpdate):
        body = (
            "<MsgType><![CDATA[update_button]]></MsgType>"
            f"<Button><ReplaceName>{_cdata(reply.label)}</ReplaceName></Button>"
        )
    else:
        body = f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(reply)}</Content>"
    return f"<xml>{head}{body}</xml>"


def _cdata(text: str) -> str:
    """`text` as CDATA, as WeCom writes it; a "]]>" inside is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
