"""Building WeChat's side of the callback in tests: signed queries, encrypted bodies, a server."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ElementTree
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from wechatpy.crypto import WeChatCrypto

from handlers.wechat.callback import CallbackConfig, WeChatCallback
from handlers.wechat.inbound import Inbound
from tests import callback_wire
from tests.callback_wire import Served

TOKEN = "civictoken"
APP_ID = "wx0123456789abcdef"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
ACCOUNT = "gh_0123456789ab"
OPENID = "oResident0000000000000001"


def signature(token: str, *parts: str) -> str:
    """WeChat's signature: SHA-1 over the sorted, concatenated parts (with the token)."""
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


def signed_query(token: str = TOKEN, timestamp: str = "1700000000", nonce: str = "42") -> dict:
    return {"timestamp": timestamp, "nonce": nonce, "signature": signature(token, timestamp, nonce)}


def message_xml(
    msg_type: str, openid: str = OPENID, created: int = 1700000000, **fields: str
) -> str:
    """A push as WeChat writes it: <xml> with one element per field."""
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    parts += [f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()]
    return "<xml>" + "".join(parts) + "</xml>"


def encrypted(
    xml: str,
    token: str = TOKEN,
    aes_key: str = AES_KEY,
    app_id: str = APP_ID,
    timestamp: str = "1700000000",
    nonce: str = "42",
) -> tuple[dict, str]:
    """The query and body of a safe-mode push of `xml`, sealed with wechatpy's crypto."""
    envelope = WeChatCrypto(token, aes_key, app_id).encrypt_message(xml, nonce, timestamp)
    fields = {child.tag: child.text for child in ElementTree.fromstring(envelope)}
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
    body += f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>"
    query = signed_query(token, timestamp, nonce)
    query.update(encrypt_type="aes", msg_signature=fields["MsgSignature"])
    return query, body


def opened_reply(
    text: str, token: str = TOKEN, aes_key: str = AES_KEY, app_id: str = APP_ID
) -> dict[str, str]:
    """The fields of an encrypted passive reply, checked and decrypted as WeChat would."""
    envelope = {child.tag: child.text or "" for child in ElementTree.fromstring(text)}
    xml = WeChatCrypto(token, aes_key, app_id).decrypt_message(
        {"Encrypt": envelope["Encrypt"]},
        envelope["MsgSignature"],
        envelope["TimeStamp"],
        envelope["Nonce"],
    )
    return reply_fields(xml)


def reply_fields(text: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(text)}


@dataclass
class Resident:
    """The handler side: what reached it, what went out late."""

    reply: str | None = "收到"
    inbounds: list[Inbound] = field(default_factory=list)
    late: list[tuple[str, str]] = field(default_factory=list)

    async def on_inbound(self, inbound: Inbound) -> str | None:
        self.inbounds.append(inbound)
        return self.reply

    async def deliver_late(self, openid: str, text: str) -> None:
        self.late.append((openid, text))


def config(**overrides: object) -> CallbackConfig:
    values: dict = {
        "token": TOKEN,
        "app_id": APP_ID,
        "encoding_aes_key": AES_KEY,
        "plaintext": False,
        "budget_seconds": 30.0,  # tests that need a handler to miss it pass a tiny one
    }
    values.update(overrides)
    return CallbackConfig(**values)


def serving(
    cfg: CallbackConfig, on_inbound, deliver_late, clock=None
) -> AbstractAsyncContextManager[Served]:
    """The callback on 127.0.0.1 at a free port, and an HTTP client for it."""
    return callback_wire.serving(WeChatCallback, cfg, on_inbound, deliver_late, clock)
