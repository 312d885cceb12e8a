"""Tests of the Bot API stand-in, driven by a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    PollHandler,
    filters,
)

from simulator import BotApiStandIn, solid_png
from simulator.formatting import EntityParseError, parse_formatted

USER = 1001
OTHER = 1002
GROUP = -1001234567890

Context = ContextTypes.DEFAULT_TYPE
UNDO = InlineKeyboardMarkup([[InlineKeyboardButton("撤销", callback_data="undo")]])


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    s = BotApiStandIn()
    s.add_user(USER, "张三", username="zhangsan")
    s.add_user(OTHER, "李四")
    s.add_group(GROUP, "幸福里小区群", members=[USER])
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


def build_app(s: BotApiStandIn) -> Application:
    return (
        ApplicationBuilder()
        .token(s.token)
        .base_url(s.base_url)
        .base_file_url(s.base_file_url)
        .build()
    )


@contextlib.asynccontextmanager
async def running(
    s: BotApiStandIn, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application]:
    """A started PTB Application (polling the stand-in) with the given handlers."""
    app = build_app(s)
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@contextlib.asynccontextmanager
async def bot_only(s: BotApiStandIn) -> AsyncIterator[Application]:
    """An initialized Application without polling, for calling Bot API methods directly."""
    app = build_app(s)
    await app.initialize()
    try:
        yield app
    finally:
        await app.shutdown()


# --------------------------------------------------------------------------- messaging


async def test_echo_and_start_command(standin: BotApiStandIn) -> None:
    async def start(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "欢迎使用！",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("上报问题", callback_data="report:new")]]
            ),
        )

    async def echo(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"收到：{update.effective_message.text}")

    handlers = (
        CommandHandler("start", start),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    )
    async with running(standin, *handlers):
        standin.send_text(USER, "/start")
        welcome = await standin.next_sent(USER)
        assert welcome.text == "欢迎使用！"
        assert welcome.button_data("上报") == "report:new"
        assert welcome.raw["from"]["is_bot"] is True

        standin.send_text(USER, "路灯坏了")
        reply = await standin.next_sent(USER)
        assert reply.text == "收到：路灯坏了"
        assert reply.message_id == 4  # per-chat counter: user 1, bot 2, user 3, bot 4

        # A command addressed to the bot in a group reaches the CommandHandler too.
        standin.send_text(USER, f"/start@{standin.bot_user['username']}", chat_id=GROUP)
        in_group = await standin.next_sent(GROUP)
        assert in_group.text == "欢迎使用！"
        assert in_group.raw["chat"] == {"id": GROUP, "type": "supergroup", "title": "幸福里小区群"}

    assert standin.calls["getMe"] == 1
    assert standin.calls["sendMessage"] == 3
    assert all(r.ok for r in standin.requests)


async def test_callback_query_answer_and_edit(standin: BotApiStandIn) -> None:
    async def on_press(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"已选择 {query.data}")
        await query.edit_message_text(f"你选择了：{query.data}", reply_markup=UNDO)

    async with running(standin, CallbackQueryHandler(on_press)) as app:
        menu = await app.bot.send_message(
            USER,
            "请选择问题类型",
            reply_markup=InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton("道路", callback_data="kind:road")],
                    [InlineKeyboardButton("照明", callback_data="kind:light")],
                ]
            ),
        )
        sent = standin.sent[-1]
        assert sent.button_data("照明") == "kind:light"
        callback_id = standin.press(USER, sent.raw, sent.button_data("道路"))
        answer = await standin.answer_to(callback_id)
        assert answer == {"text": "已选择 kind:road", "show_alert": False, "url": None}
        edited = await standin.wait_for(lambda: standin.edits)
        assert edited[0].text == "你选择了：kind:road"
        current = standin.message(USER, menu.message_id)
        assert current is not None and "edit_date" in current
        assert current["text"] == "你选择了：kind:road"
        assert current["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "undo"
        # Forged callback data is delivered as is (pressing by message id).
        forged = standin.press(USER, menu.message_id, "x" * 100)
        assert (await standin.answer_to(forged))["text"] == "已选择 " + "x" * 100
        await standin.wait_for(lambda: len(standin.edits) == 2)
        current = standin.message(USER, menu.message_id)
        assert current is not None and current["text"] == "你选择了：" + "x" * 100

        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await app.bot.edit_message_text(
                current["text"], chat_id=USER, message_id=menu.message_id, reply_markup=UNDO
            )
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await app.bot.edit_message_text("新", chat_id=USER, message_id=999)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(callback_id, text="again")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query("123", text="unknown")
        # editMessageReplyMarkup without markup removes the keyboard.
        await app.bot.edit_message_reply_markup(chat_id=USER, message_id=menu.message_id)
        current = standin.message(USER, menu.message_id)
        assert current is not None and "reply_markup" not in current
        assert [e.method for e in standin.edits[-1:]] == ["editMessageReplyMarkup"]


async def test_media_updates_parse(standin: BotApiStandIn) -> None:
    received: list[Message] = []

    async def collect(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        received.append(update.effective_message)

    async with running(standin, MessageHandler(filters.ALL, collect)) as app:
        photo = standin.send_photo(USER, caption="井盖缺失", media_group_id="g1")
        standin.send_location(USER, 31.2, 121.4, reply_to_message_id=photo["message_id"])
        standin.send_sticker(USER)
        standin.send_voice(USER)
        standin.send_video(USER, caption="视频")
        standin.send_document(USER, file_name="证明.pdf")
        standin.send_contact(USER)
        joined = standin.user_joins(GROUP, OTHER)
        await standin.wait_for(lambda: len(received) == 8)

        p = received[0]
        assert p.caption == "井盖缺失" and p.media_group_id == "g1"
        assert len(p.photo) == 2 and p.photo[-1].file_id == photo["photo"][-1]["file_id"]
        loc = received[1]
        assert loc.location is not None and loc.location.latitude == pytest.approx(31.2)
        assert loc.reply_to_message is not None
        assert loc.reply_to_message.message_id == photo["message_id"]
        assert received[2].sticker is not None
        assert received[3].voice is not None
        assert received[4].video is not None and received[4].caption == "视频"
        assert received[5].document is not None
        assert received[5].document.file_name == "证明.pdf"
        assert received[6].contact is not None and received[6].contact.user_id == USER
        assert received[7].new_chat_members[0].id == OTHER
        assert joined["chat"]["id"] == GROUP
        assert standin.calls["getChatMember"] == 0

        # The photo can be downloaded through getFile + base_file_url.
        tg_file = await p.photo[-1].get_file()
        data = await tg_file.download_as_bytearray()
        assert bytes(data) == standin.file_bytes(p.photo[-1].file_id)
        assert bytes(data).startswith(b"\x89PNG")
        assert app.bot.base_file_url.startswith(standin.base_file_url)


async def test_sending_media(standin: BotApiStandIn) -> None:
    png = standin.file_bytes(standin.send_photo(USER)["photo"][-1]["file_id"])
    async with bot_only(standin) as app:
        uploaded = await app.bot.send_photo(
            USER,
            photo=png,
            caption="<b>处理前</b>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("查看", callback_data="v")]]),
        )
        record = standin.sent[-1]
        assert record.method == "sendPhoto"
        assert record.text == "处理前" and record.source_text == "<b>处理前</b>"
        assert record.reply_markup == {
            "inline_keyboard": [[{"text": "查看", "callback_data": "v"}]]
        }
        assert uploaded.photo[-1].file_id == record.photo_file_ids[-1]
        assert uploaded.caption_entities[0].type == "bold"

        by_id = await app.bot.send_photo(GROUP, photo=uploaded.photo[-1].file_id)
        assert by_id.photo[-1].file_id == uploaded.photo[-1].file_id
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await app.bot.send_photo(GROUP, photo="no-such-file-id")

        album = await app.bot.send_media_group(
            GROUP,
            media=[
                InputMediaPhoto(png, caption="第一张"),
                InputMediaPhoto(uploaded.photo[-1].file_id),
            ],
        )
        assert len(album) == 2
        assert album[0].media_group_id == album[1].media_group_id is not None
        assert album[0].caption == "第一张"

        location = await app.bot.send_location(USER, latitude=31.19, longitude=121.43)
        assert location.location is not None
        assert standin.sent[-1].location == {"latitude": 31.19, "longitude": 121.43}
        venue = await app.bot.send_venue(
            USER, latitude=31.19, longitude=121.43, title="居委会", address="幸福路 1 号"
        )
        assert venue.venue is not None and venue.venue.title == "居委会"

        csv = "编号,类型\n1,道路\n".encode()
        doc = await app.bot.send_document(GROUP, document=csv, filename="reports.csv")
        assert doc.document is not None and doc.document.file_name == "reports.csv"
        assert standin.sent[-1].document_bytes == csv
        assert standin.sent[-1].document == doc.document.to_dict()

        await app.bot.send_chat_action(USER, "typing")
        await app.bot.set_my_commands([("start", "开始"), ("report", "上报问题")])
        commands = await app.bot.get_my_commands()
        assert [c.command for c in commands] == ["start", "report"]
        assert await app.bot.set_chat_menu_button()

        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton("发送位置", request_location=True)]], one_time_keyboard=True
        )
        await app.bot.send_message(USER, "请发送位置", reply_markup=keyboard)
        assert standin.sent[-1].reply_markup is None  # only inline keyboards are kept
        assert standin.requests[-1].params["reply_markup"]["keyboard"][0][0]["request_location"]


async def test_validation_errors(standin: BotApiStandIn) -> None:
    async with bot_only(standin) as app:
        bot = app.bot
        before = len(standin.sent)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "   ")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "长" * 4097)
        # The limit applies to the visible text, not the markup.
        await bot.send_message(USER, "<b>" + "长" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(
                USER,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("按钮", callback_data="数" * 22)]]
                ),
            )
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, "a < b", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)reserved"):
            await bot.send_message(USER, "版本 1.0", parse_mode="MarkdownV2")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(424242, "hi")
        with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
            await bot.send_message(USER, "hi", reply_parameters=ReplyParameters(message_id=999))
        assert len(standin.sent) == before + 1

        original = standin.send_text(USER, "原始消息")
        reply = await bot.send_message(
            USER, "回复你", reply_parameters=ReplyParameters(message_id=original["message_id"])
        )
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.text == "原始消息"

        assert await bot.delete_message(USER, reply.message_id)
        assert standin.message(USER, reply.message_id) is None
        assert (USER, reply.message_id) in standin.deleted
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(USER, reply.message_id)

        assert standin.requests[-1].status == 400
        assert standin.requests[-1].description == "Bad Request: message to delete not found"

    # Unknown methods and a wrong token, as the real API answers them.
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{standin.base_url}{standin.token}/sendFoo", json={}) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.post(f"{standin.base_url}1:WRONG/getMe") as resp:
            assert resp.status == 401
    with pytest.raises(InvalidToken):
        async with Bot("1:WRONG", base_url=standin.base_url):
            pass


async def test_group_members(standin: BotApiStandIn) -> None:
    async with bot_only(standin) as app:
        member = await app.bot.get_chat_member(GROUP, USER)
        assert member.status == "member"
        outsider = await app.bot.get_chat_member(GROUP, OTHER)
        assert outsider.status == "left"
        standin.set_member_status(GROUP, OTHER, "administrator")
        admin = await app.bot.get_chat_member(GROUP, OTHER)
        assert admin.status == "administrator"
        standin.set_member_status(GROUP, USER, "kicked")
        assert (await app.bot.get_chat_member(GROUP, USER)).status == "kicked"
        standin.set_member_status(GROUP, USER, "creator")
        assert (await app.bot.get_chat_member(GROUP, USER)).status == "creator"
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await app.bot.get_chat_member(-999, USER)
        chat = await app.bot.get_chat(GROUP)
        assert chat.title == "幸福里小区群"
        private = await app.bot.get_chat(USER)
        assert private.first_name == "张三"
    assert standin.calls["getChatMember"] == 6


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("kind", "exc_type", "match"),
    [
        ("chat_not_found", BadRequest, r"(?i)chat not found"),
        ("forbidden", Forbidden, "(?i)bot was blocked by the user"),
        ("server_error", NetworkError, "Bad Gateway"),
        ("flood", RetryAfter, "Retry in 0:00:03"),
        ("disconnect", NetworkError, "disconnected"),
    ],
)
async def test_fail_chat(
    standin: BotApiStandIn,
    kind: Any,
    exc_type: type[Exception],
    match: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # RetryAfter warns about its int retry_after unless PTB_TIMEDELTA opts in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with bot_only(standin) as app:
        standin.fail_chat(USER, kind, retry_after=3)
        for _ in range(2):
            with pytest.raises(exc_type, match=match):
                await app.bot.send_message(USER, "推送")
        with pytest.raises(exc_type, match=match):
            await app.bot.edit_message_text("x", chat_id=USER, message_id=1)
        # Other chats are unaffected; failed calls created no messages.
        await app.bot.send_message(OTHER, "正常")
        assert standin.sent_to(USER) == []

        standin.clear_failures(USER)
        await app.bot.send_message(USER, "恢复")
        assert [s.text for s in standin.sent_to(USER)] == ["恢复"]

        standin.fail_chat(USER, kind, times=1)
        with pytest.raises(exc_type):
            await app.bot.send_message(USER, "一次")
        await app.bot.send_message(USER, "再次")
        assert [s.text for s in standin.sent_to(USER)] == ["恢复", "再次"]


async def test_rate_limit_counts_floods(
    standin: BotApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with bot_only(standin) as app:
        standin.rate_limit(1)
        results = await asyncio.gather(
            *(app.bot.send_message(USER, f"第{i}条") for i in range(10)), return_exceptions=True
        )
        floods = [r for r in results if isinstance(r, RetryAfter)]
        sent = [r for r in results if isinstance(r, Message)]
        assert len(floods) + len(sent) == 10
        assert floods and standin.flood_count == len(floods)
        assert len(standin.sent) == len(sent)
        standin.rate_limit(None)
        await app.bot.send_message(USER, "不限速")
        assert standin.flood_count == len(floods)


# --------------------------------------------------------------------------- polls


async def test_quiz_poll_answer(standin: BotApiStandIn) -> None:
    answers: list[tuple[int, tuple[int, ...], tuple[str, ...]]] = []
    polls: list[bool] = []

    async def on_answer(update: Update, context: Context) -> None:
        answer = update.poll_answer
        assert answer is not None and answer.user is not None
        answers.append((answer.user.id, answer.option_ids, answer.option_persistent_ids))

    async def on_poll(update: Update, context: Context) -> None:
        assert update.poll is not None
        polls.append(update.poll.is_closed)

    async with running(standin, PollAnswerHandler(on_answer), PollHandler(on_poll)) as app:
        message = await app.bot.send_poll(
            USER,
            "垃圾分类：废电池属于？",
            ["可回收物", "有害垃圾", "其他垃圾"],
            type="quiz",
            correct_option_ids=[1],
            is_anonymous=False,
            explanation="废电池含重金属，属于有害垃圾。",
        )
        assert message.poll is not None
        assert message.poll.correct_option_ids == (1,)
        assert standin.sent[-1].poll is not None
        poll_id = message.poll.id

        standin.answer_poll(USER, poll_id, [1])
        await standin.wait_for(lambda: answers)
        persistent = message.poll.options[1].persistent_id
        assert answers == [(USER, (1,), (persistent,))]
        with pytest.raises(ValueError, match="changing the vote"):
            standin.answer_poll(USER, poll_id, [0])

        stopped = await app.bot.stop_poll(USER, message.message_id)
        assert stopped.is_closed and stopped.options[1].voter_count == 1
        await standin.wait_for(lambda: True in polls)

        anonymous = await app.bot.send_poll(GROUP, "今晚开会吗？", ["来", "不来"])
        assert anonymous.poll is not None
        assert standin.answer_poll(USER, anonymous.poll.id, [0]) is None
        await standin.wait_for(lambda: len(polls) >= 3)
        assert len(answers) == 1


# --------------------------------------------------------------------------- transport


async def test_long_polling_semantics(standin: BotApiStandIn) -> None:
    url = f"{standin.base_url}{standin.token}/getUpdates"
    async with aiohttp.ClientSession() as http:
        waiting = asyncio.create_task(http.post(url, data={"timeout": "30"}))
        await asyncio.sleep(0)
        first = standin.send_text(USER, "一")["message_id"]
        resp = await asyncio.wait_for(waiting, 10)
        body = await resp.json()
        assert body["ok"] and [u["message"]["message_id"] for u in body["result"]] == [first]
        update_id = body["result"][0]["update_id"]

        standin.send_text(USER, "二")
        async with http.post(url, json={"offset": update_id + 1, "timeout": 0}) as resp:
            result = (await resp.json())["result"]
        assert [u["message"]["text"] for u in result] == ["二"]
        assert [u["update_id"] for u in standin.pending_updates()] == [update_id + 1]
        async with http.post(url, data={"offset": str(update_id + 2), "timeout": "0"}) as resp:
            assert (await resp.json())["result"] == []
    assert standin.calls["getUpdates"] == 3


async def test_wait_for_reports_recent_requests(standin: BotApiStandIn) -> None:
    async with bot_only(standin) as app:
        await app.bot.send_message(USER, "唯一的消息")
    with pytest.raises(AssertionError, match="sendMessage"):
        await standin.wait_for(lambda: False, timeout=0.05)


# --------------------------------------------------------------------------- web chat


async def test_web_chat_endpoints(standin: BotApiStandIn) -> None:
    async def echo(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if message.photo:
            await message.reply_text("收到照片")
        elif message.location:
            await message.reply_text("收到位置")
        else:
            await message.reply_text(
                f"回声：{message.text}",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("好", callback_data="ok")]]
                ),
            )

    async def on_press(update: Update, context: Context) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("谢谢", show_alert=True)

    base = standin.web_url.rstrip("/")
    handlers = (MessageHandler(filters.ALL, echo), CallbackQueryHandler(on_press))
    async with running(standin, *handlers) as app, aiohttp.ClientSession() as http:
        async with http.get(base + "/") as resp:
            page = await resp.text()
            assert resp.status == 200 and "<html" in page
        script = page.split('<script src="', 1)[1].split('"', 1)[0]
        async with http.get(base + script) as resp:
            assert resp.status == 200 and "/ui/state" in await resp.text()
        async with http.get(base + "/ui/world") as resp:
            world = await resp.json()
            assert {u["id"] for u in world["users"]} == {USER, OTHER}
            assert world["groups"][0]["members"][str(USER)] == "member"

        async with http.post(base + "/ui/send", json={"user_id": USER, "text": "你好"}) as resp:
            assert resp.status == 200
        reply = await standin.next_sent(USER, after=0)
        assert reply.text == "回声：你好"
        async with http.get(base + "/ui/state", params={"chat_id": str(USER)}) as resp:
            state = await resp.json()
        texts = [m.get("text") for m in state["messages"]]
        assert texts == ["你好", "回声：你好"]
        async with http.get(
            base + "/ui/state", params={"chat_id": str(USER), "since": str(state["version"])}
        ) as resp:
            assert (await resp.json())["unchanged"] is True

        press = {"user_id": USER, "message_id": reply.message_id, "data": "ok"}
        async with http.post(base + "/ui/press", json=press) as resp:
            pressed = await resp.json()
        assert pressed["answer"] == {"text": "谢谢", "show_alert": True, "url": None}

        png = standin.file_bytes(standin.send_photo(OTHER)["photo"][-1]["file_id"])
        form = aiohttp.FormData()
        form.add_field("user_id", str(USER))
        form.add_field("chat_id", str(GROUP))
        form.add_field("caption", "路面塌陷")
        form.add_field("photo", png, filename="hole.png", content_type="image/png")
        async with http.post(base + "/ui/photo", data=form) as resp:
            photo_message = await resp.json()
        assert photo_message["caption"] == "路面塌陷"
        assert (await standin.next_sent(GROUP, after=0)).text == "收到照片"
        file_id = photo_message["photo"][-1]["file_id"]
        async with http.get(f"{base}/ui/file/{file_id}") as resp:
            assert await resp.read() == png

        location = {"user_id": USER, "latitude": 31.2, "longitude": 121.5, "reply_to": 1}
        async with http.post(base + "/ui/location", json=location) as resp:
            assert (await resp.json())["reply_to_message"]["message_id"] == 1
        assert (await standin.next_sent(USER, after=1)).text == "收到位置"

        poll = await app.bot.send_poll(USER, "满意吗？", ["满意", "不满意"])
        assert poll.poll is not None
        vote = {"user_id": USER, "poll_id": poll.poll.id, "option_ids": [0]}
        async with http.post(base + "/ui/poll", json=vote) as resp:
            assert resp.status == 200
        stored = standin.message(USER, poll.message_id)
        assert stored is not None and stored["poll"]["options"][0]["voter_count"] == 1

        async with http.post(base + "/ui/send", json={"user_id": 1, "text": "x"}) as resp:
            assert resp.status == 400


# --------------------------------------------------------------------------- formatting


def test_formatting_entities_and_errors() -> None:
    text, entities = parse_formatted("😀<b>粗</b> &lt;<a href='https://x.cn'>链接</a>", "HTML")
    assert text == "😀粗 <链接"
    assert entities == [
        {"type": "bold", "offset": 2, "length": 1},
        {"type": "text_link", "offset": 5, "length": 2, "url": "https://x.cn"},
    ]
    text, entities = parse_formatted(r"*粗体* 版本 1\.0 `a.b`", "MarkdownV2")
    assert text == "粗体 版本 1.0 a.b"
    assert [e["type"] for e in entities] == ["bold", "code"]
    assert parse_formatted("a < b", None) == ("a < b", [])
    for bad, mode in [
        ("<b>x", "HTML"),
        ("<b>x</i>", "HTML"),
        ("<x>y</x>", "HTML"),
        ("*x", "MarkdownV2"),
    ]:
        with pytest.raises(EntityParseError):
            parse_formatted(bad, mode)


# --------------------------------------------------------------------------- refusals


async def post_ui(standin: BotApiStandIn, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(standin.web_url.rstrip("/") + path, **kwargs) as resp:
            return resp.status, await resp.json()


def photo_form(data: bytes, content_type: str = "image/png") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("user_id", str(USER))
    form.add_field("photo", data, filename="photo.png", content_type=content_type)
    return form


def refusal(status: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description}


async def test_the_web_chat_refuses_an_empty_text_as_telegram_does(standin: BotApiStandIn) -> None:
    status, body = await post_ui(standin, "/ui/send", json={"user_id": USER, "text": "  "})
    assert (status, body) == (400, refusal(400, "Bad Request: message text is empty"))
    assert standin.pending_updates() == []


async def test_the_web_chat_refuses_a_text_over_4096_characters(standin: BotApiStandIn) -> None:
    status, body = await post_ui(standin, "/ui/send", json={"user_id": USER, "text": "长" * 4097})
    assert (status, body) == (400, refusal(400, "Bad Request: message is too long"))
    status, _ = await post_ui(standin, "/ui/send", json={"user_id": USER, "text": "长" * 4096})
    assert status == 200


async def test_the_web_chat_refuses_a_photo_over_10_mb(standin: BotApiStandIn) -> None:
    big = solid_png(8, 8) + b"\0" * (10 * 1024 * 1024)
    status, body = await post_ui(standin, "/ui/photo", data=photo_form(big))
    assert (status, body) == (400, refusal(400, "Bad Request: file is too big"))
    assert standin.pending_updates() == []


async def test_the_web_chat_refuses_a_file_that_is_not_a_picture(standin: BotApiStandIn) -> None:
    form = photo_form(b"%PDF-1.4", content_type="application/pdf")
    status, body = await post_ui(standin, "/ui/photo", data=form)
    assert (status, body) == (400, refusal(400, "Bad Request: IMAGE_PROCESS_FAILED"))


async def test_the_web_chat_refuses_a_location_off_the_globe(standin: BotApiStandIn) -> None:
    place = {"user_id": USER, "latitude": 91, "longitude": 121.5}
    status, body = await post_ui(standin, "/ui/location", json=place)
    assert (status, body) == (400, refusal(400, "Bad Request: wrong latitude or longitude"))


async def test_a_bot_photo_over_10_mb_is_refused(standin: BotApiStandIn) -> None:
    big = solid_png(8, 8) + b"\0" * (10 * 1024 * 1024)
    async with bot_only(standin) as app:
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await app.bot.send_photo(USER, big)
    assert standin.sent_to(USER) == []


async def test_a_request_over_the_upload_limit_is_refused_with_413(standin: BotApiStandIn) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("document", b"\0" * (52 * 1024 * 1024), filename="big.bin")
    url = f"{standin.base_url}{standin.token}/sendDocument"
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as resp:
        assert (resp.status, await resp.json()) == (413, refusal(413, "Request Entity Too Large"))


async def test_get_file_refuses_a_file_over_20_mb(standin: BotApiStandIn) -> None:
    big = standin.send_document(USER, "big.zip", data=b"\0" * (20 * 1024 * 1024 + 1))
    async with bot_only(standin) as app:
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await app.bot.get_file(big["document"]["file_id"])


def test_the_simulator_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        BotApiStandIn(host="0.0.0.0")
    assert BotApiStandIn(host="localhost").host == "localhost"


async def test_the_web_chat_learns_which_messages_force_a_reply(standin: BotApiStandIn) -> None:
    async with bot_only(standin) as app:
        asked = await app.bot.send_message(
            GROUP, "请回复说明", reply_markup=ForceReply(input_field_placeholder="办结说明")
        )
        plain = await app.bot.send_message(GROUP, "普通消息")
    async with aiohttp.ClientSession() as http:
        url = standin.web_url.rstrip("/") + "/ui/state"
        async with http.get(url, params={"chat_id": str(GROUP)}) as resp:
            state = await resp.json()
    assert state["force_reply"] == {str(asked.message_id): "办结说明"}
    assert str(plain.message_id) not in state["force_reply"]
