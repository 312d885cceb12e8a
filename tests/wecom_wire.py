"""Building WeCom's side of the app's callback in tests: encrypted URL checks and pushes
sealed with wechatpy's enterprise crypto, a server, and a member's handler."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ElementTree
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from handlers.wecom.callback import Reply, WeComCallback, WeComCallbackConfig
from handlers.wecom.inbound import WeComInbound
from tests import callback_wire
from tests.callback_wire import Served

TOKEN = "wecomtoken"
CORP_ID = "ww0123456789abcdef"
AES_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
AGENT_ID = 1000002
USERID = "zhangsan"


def signature(token: str, *parts: str) -> str:
    """WeCom's msg_signature: SHA-1 over the sorted, concatenated parts (with the token)."""
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


def push_xml(msg_type: str, userid: str = USERID, created: int = 1700000000, **fields: str) -> str:
    """A decrypted push as WeCom writes it: <xml> with one element per field, AgentID last."""
    parts = [
        f"<ToUserName><![CDATA[{CORP_ID}]]></ToUserName>",
        f"<FromUserName><![CDATA[{userid}]]></FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    agent_id = fields.pop("AgentID", str(AGENT_ID))
    parts += [f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()]
    parts.append(f"<AgentID>{agent_id}</AgentID>")
    return "<xml>" + "".join(parts) + "</xml>"


def card_press_xml(task_id: str = "case-42-v1", button: str = "accept", **fields: str) -> str:
    """A press on a button of a 按钮交互型 card (template_card_event)."""
    values = {
        "Event": "template_card_event",
        "EventKey": button,
        "TaskId": task_id,
        "CardType": "button_interaction",
        "ResponseCode": "rc-" + task_id,
        **fields,
    }
    return push_xml("event", **values)


def text_xml(content: str, msg_id: str = "7001", **fields: str) -> str:
    return push_xml("text", Content=content, MsgId=msg_id, **fields)


def encrypted(
    xml: str,
    token: str = TOKEN,
    aes_key: str = AES_KEY,
    corp_id: str = CORP_ID,
    timestamp: str = "1700000000",
    nonce: str = "42",
) -> tuple[dict, str]:
    """The query and body of a push of `xml`, sealed as WeCom seals it."""
    envelope = WeChatCrypto(token, aes_key, corp_id).encrypt_message(xml, nonce, timestamp)
    fields = {child.tag: child.text for child in ElementTree.fromstring(envelope)}
    body = f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
    body += f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt>"
    body += f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    query = {"msg_signature": fields["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
    return query, body


def url_check(
    plain: str,
    token: str = TOKEN,
    aes_key: str = AES_KEY,
    corp_id: str = CORP_ID,
    timestamp: str = "1700000000",
    nonce: str = "42",
) -> dict:
    """The query of WeCom's URL check: `plain` encrypted as echostr, signed."""
    key = base64.b64decode(aes_key + "=")
    echostr = PrpCrypto(key).encrypt(plain, corp_id).decode()
    return {
        "msg_signature": signature(token, timestamp, nonce, echostr),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }


def opened_reply(
    text: str, token: str = TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID
) -> ElementTree.Element:
    """A passive reply, checked and decrypted as WeCom would: its XML."""
    envelope = {child.tag: child.text or "" for child in ElementTree.fromstring(text)}
    xml = WeChatCrypto(token, aes_key, corp_id).decrypt_message(
        {"Encrypt": envelope["Encrypt"]},
        envelope["MsgSignature"],
        envelope["TimeStamp"],
        envelope["Nonce"],
    )
    return ElementTree.fromstring(xml)


@dataclass
class Member:
    """The handler side: what reached it, what went out through the API."""

    reply: Reply | None = None
    inbounds: list[WeComInbound] = field(default_factory=list)
    late: list[tuple[str, Reply]] = field(default_factory=list)

    async def on_inbound(self, inbound: WeComInbound) -> Reply | None:
        self.inbounds.append(inbound)
        return self.reply

    async def deliver_late(self, inbound: WeComInbound, reply: Reply) -> None:
        self.late.append((inbound.userid, reply))


def config(**overrides: object) -> WeComCallbackConfig:
    values: dict = {
        "token": TOKEN,
        "corp_id": CORP_ID,
        "encoding_aes_key": AES_KEY,
        "agent_id": AGENT_ID,
        "budget_seconds": 30.0,  # tests that need a handler to miss it pass a tiny one
    }
    values.update(overrides)
    return WeComCallbackConfig(**values)


def serving(
    cfg: WeComCallbackConfig, on_inbound, deliver_late, clock=None
) -> AbstractAsyncContextManager[Served]:
    """The callback on 127.0.0.1 at a free port, and an HTTP client for it."""
    return callback_wire.serving(WeComCallback, cfg, on_inbound, deliver_late, clock)
