"""The WeChat stand-in's resident side: what it posts to the bot's callback, as WeChat does.

A tiny aiohttp receiver plays the bot: it checks WeChat's signatures and decrypts with
wechatpy, as the real callback will, and answers as each test tells it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from handlers.wechat.client import OutsideWindow, WeChatApiError, WeChatClient
from simulator.server import solid_png
from simulator.wechat import CallbackError, Mode, WeChatStandIn, parse_xml

RESIDENT = "oRes1dent0000000000000000001"
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

    standin: WeChatStandIn
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answer: Answer | None = None

    def crypto(self) -> WeChatCrypto:
        s = self.standin
        return WeChatCrypto(s.token, s.encoding_aes_key, s.app_id)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        check_signature(self.standin.token, query["signature"], query["timestamp"], query["nonce"])
        if request.method == "GET":
            return web.Response(text=query["echostr"])
        body = await request.text()
        if query.get("encrypt_type") == "aes":
            plain = self.crypto().decrypt_message(
                body, query["msg_signature"], query["timestamp"], query["nonce"]
            )
        else:
            plain = body
        received = Received(query, body, parse_xml(plain))
        self.received.append(received)
        text = await self.answer(received) if self.answer is not None else "success"
        return web.Response(text=text, content_type="text/xml")

    def reply_text(self, received: Received, content: str) -> str:
        """A passive text reply, encrypted when the request was."""
        reply = TextReply(
            source=self.standin.account_id,
            target=received.message["FromUserName"],
            content=content,
        ).render()
        if received.query.get("encrypt_type") == "aes":
            return str(self.crypto().encrypt_message(reply, received.query["nonce"]))
        return str(reply)


async def start_receiver(bot: Bot) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/wechat", bot.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    bot.url = f"http://127.0.0.1:{port}/wechat"
    return runner


@pytest.fixture(params=["plaintext", "compatible", "safe"])
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def bot(mode: Mode) -> AsyncIterator[Bot]:
    standin = WeChatStandIn(mode=mode, clock=lambda: NOW, callback_timeout=0.3)
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
async def safe_bot() -> AsyncIterator[Bot]:
    standin = WeChatStandIn(mode="safe", clock=lambda: NOW, callback_timeout=0.3)
    bot = Bot(standin)
    runner = await start_receiver(bot)
    standin.callback_url = bot.url
    await standin.start()
    try:
        yield bot
    finally:
        await standin.stop()
        await runner.cleanup()


def last(bot: Bot) -> dict[str, Any]:
    return bot.received[-1].message


def envelope(bot: Bot, **fields: Any) -> dict[str, Any]:
    """The fields every message carries, plus the given ones."""
    return {
        "ToUserName": bot.standin.account_id,
        "FromUserName": RESIDENT,
        "CreateTime": str(int(NOW)),
        **{k: str(v) for k, v in fields.items()},
    }


# ---------------------------------------------------------------------- each message type


async def test_a_text_arrives_with_wechats_fields_in_every_mode(bot: Bot) -> None:
    assert await bot.standin.post_text(RESIDENT, "小区门口垃圾成堆") is None
    message = last(bot)
    assert message.pop("MsgId").isdigit()
    assert message == envelope(bot, MsgType="text", Content="小区门口垃圾成堆")


async def test_the_query_is_signed_as_the_mode_says(bot: Bot, mode: Mode) -> None:
    await bot.standin.post_text(RESIDENT, "你好")
    query = bot.received[-1].query
    assert query["openid"] == RESIDENT
    if mode == "plaintext":
        assert "encrypt_type" not in query and "msg_signature" not in query
    else:
        assert query["encrypt_type"] == "aes"
        outer = parse_xml(bot.received[-1].body)
        assert "Encrypt" in outer
        # Compatible mode carries the plaintext beside the ciphertext; safe mode does not.
        assert ("Content" in outer) == (mode == "compatible")


async def test_a_menu_tap_arrives_as_text_with_bizmsgmenuid(bot: Bot) -> None:
    await bot.standin.post_menu_reply(RESIDENT, "101", "满意")
    message = last(bot)
    assert (message["MsgType"], message["Content"], message["bizmsgmenuid"]) == (
        "text",
        "满意",
        "101",
    )


async def test_a_photo_arrives_with_a_pic_url_and_a_media_id_that_both_serve_it(
    safe_bot: Bot,
) -> None:
    standin, photo = safe_bot.standin, solid_png(40, 30, (10, 200, 10))
    await standin.post_image(RESIDENT, photo)
    message = last(safe_bot)
    assert message["MsgType"] == "image" and message["MsgId"].isdigit()
    async with aiohttp.ClientSession() as session:
        async with session.get(message["PicUrl"]) as response:
            assert await response.read() == photo
    client = WeChatClient(standin.app_id, standin.app_secret, standin.base_url)
    try:
        assert await client.download_media(message["MediaId"]) == photo
    finally:
        await client.close()


async def test_a_location_arrives_latitude_first(safe_bot: Bot) -> None:
    await safe_bot.standin.post_location(RESIDENT, 31.2304, 121.4737, "人民广场", 16)
    message = last(safe_bot)
    message.pop("MsgId")
    assert message == envelope(
        safe_bot,
        MsgType="location",
        Location_X=31.2304,
        Location_Y=121.4737,
        Scale=16,
        Label="人民广场",
    )


async def test_a_voice_message_carries_wechats_recognition(safe_bot: Bot) -> None:
    await safe_bot.standin.post_voice(RESIDENT, "路边有共享单车乱停")
    message = last(safe_bot)
    assert (message["MsgType"], message["Format"], message["Recognition"]) == (
        "voice",
        "amr",
        "路边有共享单车乱停",
    )
    assert message["MediaId"]


async def test_a_menu_click_is_an_event_with_its_key_and_no_msg_id(safe_bot: Bot) -> None:
    await safe_bot.standin.post_event(RESIDENT, "CLICK", "REPORT")
    assert last(safe_bot) == envelope(safe_bot, MsgType="event", Event="CLICK", EventKey="REPORT")


async def test_the_callback_url_check_echoes_the_echostr(safe_bot: Bot) -> None:
    answer = await safe_bot.standin.verify_url()
    assert answer.isdigit()


# ---------------------------------------------------------------------- passive replies


async def test_a_passive_reply_is_decrypted_and_reaches_the_resident(bot: Bot) -> None:
    async def answer(received: Received) -> str:
        return bot.reply_text(received, "收到，正在为您处理")

    bot.answer = answer
    reply = await bot.standin.post_text(RESIDENT, "你好")
    assert reply is not None and reply["Content"] == "收到，正在为您处理"
    [delivered] = bot.standin.sent_to(RESIDENT)
    assert (delivered.via, delivered.text) == ("reply", "收到，正在为您处理")


async def test_a_plaintext_reply_to_a_safe_mode_account_is_refused(safe_bot: Bot) -> None:
    async def answer(received: Received) -> str:
        return str(
            TextReply(source=safe_bot.standin.account_id, target=RESIDENT, content="hi").render()
        )

    safe_bot.answer = answer
    with pytest.raises(CallbackError, match="plaintext reply"):
        await safe_bot.standin.post_text(RESIDENT, "你好")


async def test_a_reply_addressed_to_someone_else_is_refused(safe_bot: Bot) -> None:
    async def answer(received: Received) -> str:
        received.message["FromUserName"] = "oSomebodyElse"
        return safe_bot.reply_text(received, "hi")

    safe_bot.answer = answer
    with pytest.raises(CallbackError, match="addressed wrong"):
        await safe_bot.standin.post_text(RESIDENT, "你好")


# ---------------------------------------------------------------------- retries


async def test_a_slow_callback_gets_the_same_message_again(safe_bot: Bot) -> None:
    release = asyncio.Event()

    async def answer(received: Received) -> str:
        if len(safe_bot.received) == 1:
            await release.wait()  # too slow: WeChat gives up and tries again
        return "success"

    safe_bot.answer = answer
    try:
        assert await safe_bot.standin.post_text(RESIDENT, "第一次") is None
    finally:
        release.set()
    first, second = (r.message for r in safe_bot.received)
    assert first["MsgId"] == second["MsgId"]
    assert first == second


async def test_a_callback_that_never_answers_is_tried_three_times(safe_bot: Bot) -> None:
    release = asyncio.Event()

    async def answer(received: Received) -> str:
        await release.wait()
        return "success"

    safe_bot.answer = answer
    try:
        with pytest.raises(CallbackError, match="3 attempts"):
            await safe_bot.standin.post_event(RESIDENT, "CLICK", "REPORT")
    finally:
        release.set()
    assert len(safe_bot.standin.attempts) == 3
    assert len({r.message["CreateTime"] for r in safe_bot.received}) == 1


async def test_each_attempt_records_what_was_posted_how_it_was_answered_and_how_long_it_took(
    safe_bot: Bot,
) -> None:
    async def answer(received: Received) -> str:
        if received.message.get("Content") == "你好":
            return safe_bot.reply_text(received, "您好")
        return "success"

    safe_bot.answer = answer
    await safe_bot.standin.post_text(RESIDENT, "你好")
    await safe_bot.standin.post_menu_reply(RESIDENT, "101", "满意")
    await safe_bot.standin.post_event(RESIDENT, "CLICK", "REPORT")
    attempts = safe_bot.standin.attempts
    assert [(a.kind, a.passive) for a in attempts] == [
        ("text", True),
        ("menu", False),
        ("event", False),
    ]
    assert all(a.seconds is not None and a.seconds >= 0 for a in attempts)


async def test_an_attempt_that_got_no_answer_has_no_time(safe_bot: Bot) -> None:
    release = asyncio.Event()

    async def answer(received: Received) -> str:
        await release.wait()
        return "success"

    safe_bot.answer = answer
    try:
        with pytest.raises(CallbackError):
            await safe_bot.standin.post_text(RESIDENT, "你好")
    finally:
        release.set()
    assert [a.seconds for a in safe_bot.standin.attempts] == [None, None, None]


# ---------------------------------------------------------------------- followers and window


async def test_subscribe_makes_a_follower_and_unsubscribe_removes_them(safe_bot: Bot) -> None:
    standin = safe_bot.standin
    await standin.post_event(RESIDENT, "subscribe")
    assert standin.is_follower(RESIDENT)
    assert last(safe_bot)["Event"] == "subscribe"
    await standin.post_event(RESIDENT, "unsubscribe")
    assert not standin.is_follower(RESIDENT)
    standin.add_template("tpl", ["thing1"])
    client = WeChatClient(standin.app_id, standin.app_secret, standin.base_url)
    try:
        with pytest.raises(WeChatApiError) as refused:
            await client.send_template(RESIDENT, "tpl", {"thing1": "已办结"})
    finally:
        await client.close()
    assert refused.value.errcode == 43004


async def test_a_resident_writing_opens_the_window_for_customer_service_messages(
    safe_bot: Bot,
) -> None:
    standin = safe_bot.standin
    standin.add_follower(RESIDENT)
    client = WeChatClient(standin.app_id, standin.app_secret, standin.base_url)
    try:
        with pytest.raises(OutsideWindow):
            await client.send_text(RESIDENT, "您好")
        await standin.resident(RESIDENT).say("我要上报")
        await client.send_menu(RESIDENT, "请选择类别", [("1", "市容环境"), ("2", "交通秩序")])
    finally:
        await client.close()
    menu = await standin.next_sent(RESIDENT, after=0)
    await standin.resident(RESIDENT).choose(menu, "交通")
    assert (last(safe_bot)["Content"], last(safe_bot)["bizmsgmenuid"]) == ("交通秩序", "2")


async def test_a_menu_click_allows_three_messages(safe_bot: Bot) -> None:
    standin = safe_bot.standin
    await standin.resident(RESIDENT).click("MINE")
    client = WeChatClient(standin.app_id, standin.app_secret, standin.base_url, backoff=0.0)
    try:
        for i in range(3):
            await client.send_text(RESIDENT, f"第{i + 1}件")
        with pytest.raises(WeChatApiError) as refused:
            await client.send_text(RESIDENT, "第4件")
    finally:
        await client.close()
    assert refused.value.errcode == 45047
