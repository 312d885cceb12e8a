"""A tiny bot on a WeChatStandIn's callback URL, for the web view's tests.

It checks WeChat's signature, decrypts with wechatpy, keeps every message it got, and
answers by a fixed table: a passive reply to most messages, a customer-service menu
message (msgmenu) to 菜单, a template message to 进度, the custom menu on a follow.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from simulator.wechat import WeChatStandIn, parse_xml

JSON = dict[str, Any]
TEMPLATE = "tpl_case_progress_0001"
MENU = {
    "button": [
        {"type": "click", "name": "随手拍", "key": "REPORT"},
        {
            "name": "更多",
            "sub_button": [
                {"type": "click", "name": "我的上报", "key": "MY_CASES"},
                {"type": "view", "name": "创建指南", "url": "http://127.0.0.1/guide"},
            ],
        },
    ]
}
MENU_MESSAGE = {
    "head_content": "请选择问题类型：",
    "list": [
        {"id": "101", "content": "1 占道经营"},
        {"id": "102", "content": "2 乱扔垃圾"},
    ],
    "tail_content": "也可以直接回复数字",
}


class PlayBot:
    """The receiver: what it got, and its answers (module docstring)."""

    def __init__(self, standin: WeChatStandIn) -> None:
        self.standin = standin
        self.url = ""
        self.received: list[JSON] = []
        #: Answer HTTP 500 to everything (the account's server is broken).
        self.broken = False
        self._crypto = WeChatCrypto(standin.token, standin.encoding_aes_key, standin.app_id)
        self._http: aiohttp.ClientSession | None = None

    def last(self) -> JSON:
        return self.received[-1]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        check_signature(self.standin.token, query["signature"], query["timestamp"], query["nonce"])
        if self.broken:
            return web.Response(status=500)
        body = await request.text()
        if query.get("encrypt_type") == "aes":
            body = self._crypto.decrypt_message(
                body, query["msg_signature"], query["timestamp"], query["nonce"]
            )
        message = parse_xml(body)
        self.received.append(message)
        answer = await self.answer(message)
        if answer is None:
            return web.Response(text="success")
        reply = TextReply(
            source=self.standin.account_id, target=message["FromUserName"], content=answer
        ).render()
        if query.get("encrypt_type") == "aes":
            reply = self._crypto.encrypt_message(reply, query["nonce"])
        return web.Response(text=str(reply), content_type="text/xml")

    async def answer(self, m: JSON) -> str | None:
        """The passive reply to ``m`` (None: answered through the API, or not at all)."""
        kind, openid = m["MsgType"], m["FromUserName"]
        if kind == "event" and m["Event"] == "subscribe":
            await self.api("menu/create", MENU)
            return "欢迎关注文明城区随手拍"
        if kind == "event" and m["Event"] == "CLICK":
            return f"点了 {m['EventKey']}"
        if kind == "text" and "bizmsgmenuid" in m:
            return f"已选：{m['Content']}"
        if kind == "text" and m["Content"] == "菜单":
            await self.api(
                "message/custom/send",
                {"touser": openid, "msgtype": "msgmenu", "msgmenu": MENU_MESSAGE},
            )
            return None
        if kind == "text" and m["Content"] == "进度":
            data = {
                "first": {"value": "您的上报有新进展"},
                "thing1": {"value": "占道经营"},
                "phrase2": {"value": "已受理"},
                "remark": {"value": "感谢您的参与"},
            }
            await self.api(
                "message/template/send", {"touser": openid, "template_id": TEMPLATE, "data": data}
            )
            return None
        if kind == "text":
            return f"收到：{m['Content']}"
        if kind == "location":
            return f"位置：{m['Label']}"
        if kind == "voice":
            return f"语音：{m.get('Recognition', '')}"
        if kind == "image":
            return "照片收到"
        return None

    async def api(self, path: str, body: JSON) -> JSON:
        """Call WeChat's API as the bot (a fresh access token each time: a test bot)."""
        assert self._http is not None
        base = f"{self.standin.base_url}/cgi-bin"
        params = {
            "grant_type": "client_credential",
            "appid": self.standin.app_id,
            "secret": self.standin.app_secret,
        }
        async with self._http.get(f"{base}/token", params=params) as response:
            token = (await response.json(content_type=None))["access_token"]
        data = json.dumps(body, ensure_ascii=False).encode()
        async with self._http.post(
            f"{base}/{path}", params={"access_token": token}, data=data
        ) as response:
            answer: JSON = await response.json(content_type=None)
        assert answer.get("errcode", 0) == 0, answer
        return answer


@asynccontextmanager
async def wechat_with_bot() -> AsyncIterator[tuple[WeChatStandIn, PlayBot]]:
    """A started WeChatStandIn (safe mode) whose callback is a started PlayBot."""
    standin = WeChatStandIn(mode="safe")
    standin.add_template(TEMPLATE, ["thing1", "phrase2"])
    bot = PlayBot(standin)
    app = web.Application()
    app.router.add_route("*", "/wechat", bot.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    bot.url = standin.callback_url = f"http://127.0.0.1:{port}/wechat"
    async with aiohttp.ClientSession() as http, standin:
        bot._http = http
        try:
            yield standin, bot
        finally:
            await runner.cleanup()
