"""The WeCom stand-in's staff side: what it posts to the app's callback, as WeCom does.

A tiny aiohttp receiver plays the bot: it checks WeCom's msg_signature and decrypts with
wechatpy's WeCom crypto, as the real callback will, and answers as each test tells it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

from handlers.wecom.client import WeComApiError, WeComClient
from simulator.wecom import (
    CallbackError,
    RawXml,
    StaffError,
    WeComStandIn,
    parse_xml,
    render_xml,
)

ZHANG, LI = "zhangsan", "lisi"
NOW = 1_767_225_600.0

Answer = Callable[["Received"], Awaitable[str]]


@dataclass
class Received:
    """One callback request as the bot sees it, decrypted."""

    query: dict[str, str]
    body: str
    message: dict[str, Any]


@dataclass
class Bot:
    """The receiver: every request it got, and how it answers."""

    standin: WeComStandIn
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answer: Answer | None = None
    echo_ciphertext: bool = False  # a careless bot answers the URL check without decrypting

    def crypto(self) -> WeChatCrypto:
        s = self.standin
        return WeChatCrypto(s.token, s.encoding_aes_key, s.corp_id)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        if request.method == "GET":
            echostr = query["echostr"]
            if self.echo_ciphertext:
                return web.Response(text=echostr)
            plain = self.crypto().check_signature(
                query["msg_signature"], query["timestamp"], query["nonce"], echostr
            )
            return web.Response(text=plain.decode() if isinstance(plain, bytes) else plain)
        body = await request.text()
        plain = self.crypto().decrypt_message(
            body, query["msg_signature"], query["timestamp"], query["nonce"]
        )
        received = Received(query, body, parse_xml(plain))
        self.received.append(received)
        text = await self.answer(received) if self.answer is not None else ""
        return web.Response(text=text, content_type="text/xml")

    def reply(self, received: Received, fields: list[tuple[str, str | int]]) -> str:
        """An encrypted passive reply to the member who posted ``received``."""
        plain = render_xml(
            [
                ("ToUserName", received.message["FromUserName"]),
                ("FromUserName", self.standin.corp_id),
                ("CreateTime", int(NOW)),
                *fields,
            ]
        )
        return str(self.crypto().encrypt_message(plain, received.query["nonce"]))


async def start_receiver(bot: Bot) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/wecom", bot.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    bot.url = f"http://127.0.0.1:{port}/wecom"
    return runner


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    standin = WeComStandIn(clock=lambda: NOW, callback_timeout=0.3)
    standin.add_user(ZHANG, "张三")
    standin.add_user(LI, "李四")
    bot = Bot(standin)
    runner = await start_receiver(bot)
    standin.callback_url = bot.url
    await standin.start()
    try:
        yield bot
    finally:
        await standin.stop()
        await runner.cleanup()


@pytest.fixture
async def client(bot: Bot) -> AsyncIterator[WeComClient]:
    s = bot.standin
    c = WeComClient(s.corp_id, s.secret, s.agent_id, s.base_url)
    try:
        yield c
    finally:
        await c.close()


def alert_card(task_id: str = "case-1024-v1") -> dict[str, Any]:
    return {
        "card_type": "button_interaction",
        "task_id": task_id,
        "main_title": {"title": "新案件 #1024"},
        "button_list": [
            {"text": "受理", "style": 1, "key": "v1:acc:1024"},
            {"text": "退回", "style": 2, "key": "v1:ret:1024"},
        ],
    }


def last(bot: Bot) -> dict[str, Any]:
    return bot.received[-1].message


# ---------------------------------------------------------------------- what is posted


async def test_a_card_press_arrives_with_every_field_wecom_sends(
    bot: Bot, client: WeComClient
) -> None:
    await client.send_card(alert_card(), touser=ZHANG)
    [card] = bot.standin.sent_to(ZHANG)
    assert await bot.standin.member(ZHANG).press(card, "受理") is None
    message = last(bot)
    code = message.pop("ResponseCode")
    assert message == {
        "ToUserName": bot.standin.corp_id,
        "FromUserName": ZHANG,
        "CreateTime": str(int(NOW)),
        "MsgType": "event",
        "Event": "template_card_event",
        "EventKey": "v1:acc:1024",
        "TaskId": "case-1024-v1",
        "CardType": "button_interaction",
        "AgentID": str(bot.standin.agent_id),
        "SelectedItems": "",
    }
    assert code


async def test_the_post_is_encrypted_and_signed_with_the_corp_id_and_agent_outside(
    bot: Bot,
) -> None:
    await bot.standin.post_text(ZHANG, "你好")
    received = bot.received[-1]
    assert set(received.query) == {"msg_signature", "timestamp", "nonce"}
    outer = parse_xml(received.body)
    assert set(outer) == {"ToUserName", "AgentID", "Encrypt"}
    assert (outer["ToUserName"], outer["AgentID"]) == (
        bot.standin.corp_id,
        str(bot.standin.agent_id),
    )
    assert "你好" not in received.body


async def test_a_text_arrives_with_its_msg_id_and_agent(bot: Bot) -> None:
    await bot.standin.member(LI).say("人民路的案子我来跟")
    message = last(bot)
    assert message.pop("MsgId").isdigit()
    assert message == {
        "ToUserName": bot.standin.corp_id,
        "FromUserName": LI,
        "CreateTime": str(int(NOW)),
        "MsgType": "text",
        "Content": "人民路的案子我来跟",
        "AgentID": str(bot.standin.agent_id),
    }


async def test_the_callback_url_check_wants_the_decrypted_echostr(bot: Bot) -> None:
    answer = await bot.standin.verify_url()
    assert answer.isdigit()
    bot.echo_ciphertext = True
    with pytest.raises(CallbackError, match="echostr"):
        await bot.standin.verify_url()


# ---------------------------------------------------------------------- response codes


async def test_each_press_brings_a_fresh_code_that_updates_everyones_card_once(
    bot: Bot, client: WeComClient
) -> None:
    sent = await client.send_card(alert_card(), touser=[ZHANG, LI])
    [card] = bot.standin.sent_to(ZHANG)
    await bot.standin.member(ZHANG).press(card, "受理")
    code = last(bot)["ResponseCode"]
    assert code != sent.response_code
    await client.update_card(code, atall=True, replace_name="张三已受理")
    assert [bot.standin.sent_to(u)[0].replace_name for u in (ZHANG, LI)] == ["张三已受理"] * 2
    with pytest.raises(WeComApiError) as refused:
        await client.update_card(code, atall=True, replace_name="又一次")
    assert refused.value.errcode == 60140
    # The send's own code is still unspent: it works once too.
    assert sent.response_code is not None
    await client.update_card(sent.response_code, userids=[LI], replace_name="已转派")
    assert bot.standin.sent_to(LI)[0].replace_name == "已转派"


async def test_a_greyed_out_card_cannot_be_pressed(bot: Bot, client: WeComClient) -> None:
    sent = await client.send_card(alert_card(), touser=ZHANG)
    assert sent.response_code is not None
    await client.update_card(sent.response_code, atall=True, replace_name="已受理")
    [card] = bot.standin.sent_to(ZHANG)
    with pytest.raises(StaffError, match="已受理"):
        await bot.standin.member(ZHANG).press(card, "退回")
    assert bot.received == []


async def test_a_member_presses_the_card_as_it_looks_after_an_update(
    bot: Bot, client: WeComClient
) -> None:
    sent = await client.send_card(alert_card(), touser=ZHANG)
    assert sent.response_code is not None
    accepted = {**alert_card(), "button_list": [{"text": "办结", "key": "v1:done:1024"}]}
    await client.update_card(sent.response_code, userids=[ZHANG], card=accepted)
    [card] = bot.standin.sent_to(ZHANG)
    await bot.standin.member(ZHANG).press(card, "办结")
    assert last(bot)["EventKey"] == "v1:done:1024"
    with pytest.raises(StaffError):
        await bot.standin.member(ZHANG).press(card, "受理")


# ---------------------------------------------------------------------- passive replies


async def test_an_update_button_reply_greys_out_the_pressers_card_only(
    bot: Bot, client: WeComClient
) -> None:
    async def answer(received: Received) -> str:
        return bot.reply(received, [("MsgType", "update_button"), ("Button", _button("您已受理"))])

    bot.answer = answer
    await client.send_card(alert_card(), touser=[ZHANG, LI])
    reply = await bot.standin.member(ZHANG).press(bot.standin.sent_to(ZHANG)[0], "受理")
    assert reply is not None and reply["MsgType"] == "update_button"
    assert [bot.standin.sent_to(u)[0].replace_name for u in (ZHANG, LI)] == ["您已受理", None]


async def test_a_text_reply_is_decrypted_and_reaches_the_member(bot: Bot) -> None:
    async def answer(received: Received) -> str:
        return bot.reply(received, [("MsgType", "text"), ("Content", "收到")])

    bot.answer = answer
    reply = await bot.standin.post_text(ZHANG, "在吗")
    assert reply is not None and reply["Content"] == "收到"
    [delivered] = bot.standin.sent_to(ZHANG)
    assert (delivered.via, delivered.text) == ("reply", "收到")


async def test_a_plaintext_reply_is_refused(bot: Bot) -> None:
    async def answer(received: Received) -> str:
        return "<xml><MsgType><![CDATA[text]]></MsgType><Content>hi</Content></xml>"

    bot.answer = answer
    with pytest.raises(CallbackError, match="plaintext"):
        await bot.standin.post_text(ZHANG, "你好")


# ---------------------------------------------------------------------- retries


async def test_a_slow_callback_gets_the_same_press_again(bot: Bot, client: WeComClient) -> None:
    release = asyncio.Event()

    async def answer(received: Received) -> str:
        if len(bot.received) == 1:
            await release.wait()  # too slow: WeCom gives up and tries again
        return ""

    bot.answer = answer
    await client.send_card(alert_card(), touser=ZHANG)
    try:
        await bot.standin.member(ZHANG).press(bot.standin.sent_to(ZHANG)[0], "受理")
    finally:
        release.set()
    first, second = (r.message for r in bot.received)
    assert first == second
    assert first["ResponseCode"] == second["ResponseCode"]
    assert len(bot.standin.posted_by(ZHANG)) == 1


async def test_a_callback_that_never_answers_is_tried_three_times(bot: Bot) -> None:
    release = asyncio.Event()

    async def answer(received: Received) -> str:
        await release.wait()
        return ""

    bot.answer = answer
    try:
        with pytest.raises(CallbackError, match="3 attempts"):
            await bot.standin.post_text(ZHANG, "你好")
    finally:
        release.set()
    assert [a.seconds for a in bot.standin.attempts] == [None, None, None]


async def test_an_error_status_is_retried_like_silence(bot: Bot) -> None:
    statuses = iter([500, 200])

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(status=next(statuses), text="")

    app = web.Application()
    app.router.add_post("/flaky", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    bot.standin.callback_url = f"http://127.0.0.1:{port}/flaky"
    try:
        assert await bot.standin.post_text(ZHANG, "你好") is None
    finally:
        await runner.cleanup()
    assert [a.status for a in bot.standin.attempts] == [500, 200]


def _button(replace_name: str) -> RawXml:
    return RawXml(f"<ReplaceName><![CDATA[{replace_name}]]></ReplaceName>")
