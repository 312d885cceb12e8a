"""The web chat's WeChat residents: its endpoints over real HTTP, the bot a tiny receiver.

The view is mounted on the Telegram stand-in's web chat (as the demo mounts it) over a
WeChatStandIn whose callback URL is tests/wechat_bot.py's PlayBot.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from simulator import BotApiStandIn, solid_png
from simulator.wechat import WeChatStandIn
from simulator.wechat_web import WeChatWebView
from tests.wechat_bot import MENU_MESSAGE, PlayBot, wechat_with_bot

EVIL = "http://evil.example"


@dataclass
class Page:
    """The web chat's page, as its script talks to the server."""

    api: BotApiStandIn
    wechat: WeChatStandIn
    bot: PlayBot
    view: WeChatWebView

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.api.port}"

    async def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        sent = {"Origin": self.origin, **(headers or {})}
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.origin + path, headers=sent, **kwargs) as response,
        ):
            return response.status, await response.json(content_type=None)

    async def do(self, action: str, **body: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", f"/ui/wechat/{action}", json=body)

    async def add(self, name: str) -> str:
        status, answer = await self.call("POST", "/ui/wechat/residents", json={"name": name})
        assert status == 200, answer
        return str(answer["result"]["openid"])

    async def state(self, openid: str | None = None) -> dict[str, Any]:
        query = f"?openid={openid}" if openid else ""
        status, answer = await self.call("GET", "/ui/wechat/state" + query)
        assert status == 200, answer
        return answer

    async def messages(self, openid: str) -> list[dict[str, Any]]:
        return list((await self.state(openid))["messages"])


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with wechat_with_bot() as (wechat, bot):
        api = BotApiStandIn()
        view = WeChatWebView(wechat, account_name="文明城区随手拍")
        view.template_titles["tpl_case_progress_0001"] = "上报进度通知"
        api.web_mounts.append(view.mount)
        async with api:
            yield Page(api, wechat, bot, view)


def said(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(side, text) of the text messages."""
    return [(m["side"], m["text"]) for m in messages if m["kind"] == "text"]


async def test_a_new_resident_follows_and_is_listed(page: Page) -> None:
    openid = await page.add("赵奶奶")
    assert page.bot.last() | {"FromUserName": openid, "Event": "subscribe"} == page.bot.last()
    status, listing = await page.call("GET", "/ui/wechat/residents")
    assert status == 200
    assert listing["account"]["name"] == "文明城区随手拍"
    assert {"openid": openid, "name": "赵奶奶", "following": True} in listing["residents"]
    messages = await page.messages(openid)
    assert [m["kind"] for m in messages] == ["event", "text"]
    assert messages[1] == messages[1] | {"side": "account", "via": "reply"}


async def test_the_menu_the_bot_installed_is_in_the_state(page: Page) -> None:
    assert (await page.state())["menu"] is None
    await page.add("赵奶奶")
    menu = (await page.state())["menu"]
    assert [b["name"] for b in menu["button"]] == ["随手拍", "更多"]


async def test_a_text_and_its_reply_appear_in_order(page: Page) -> None:
    openid = await page.add("赵奶奶")
    status, answer = await page.do("text", openid=openid, text="楼下有人乱扔垃圾")
    assert status == 200
    assert answer["result"]["Content"] == "收到：楼下有人乱扔垃圾"
    assert said(await page.messages(openid))[-2:] == [
        ("resident", "楼下有人乱扔垃圾"),
        ("account", "收到：楼下有人乱扔垃圾"),
    ]


async def test_a_menu_message_shows_its_items_and_a_tap_posts_bizmsgmenuid(page: Page) -> None:
    openid = await page.add("赵奶奶")
    await page.do("text", openid=openid, text="菜单")
    menu = (await page.messages(openid))[-1]
    assert menu | {"kind": "msgmenu", "via": "custom"} == menu
    assert (menu["head"], menu["tail"]) == ("请选择问题类型：", "也可以直接回复数字")
    assert menu["items"] == MENU_MESSAGE["list"]

    status, _ = await page.do("choose", openid=openid, message=menu["id"], item="102")
    assert status == 200
    got = page.bot.last()
    assert (got["MsgType"], got["bizmsgmenuid"], got["Content"]) == ("text", "102", "2 乱扔垃圾")
    assert said(await page.messages(openid))[-2:] == [
        ("resident", "2 乱扔垃圾"),
        ("account", "已选：2 乱扔垃圾"),
    ]


async def test_a_menu_button_posts_click_with_its_key(page: Page) -> None:
    openid = await page.add("赵奶奶")
    status, _ = await page.do("click", openid=openid, key="MY_CASES")
    assert status == 200
    got = page.bot.last()
    assert (got["MsgType"], got["Event"], got["EventKey"]) == ("event", "CLICK", "MY_CASES")
    click, reply = (await page.messages(openid))[-2:]
    assert (click["event"], click["label"], reply["text"]) == ("CLICK", "我的上报", "点了 MY_CASES")


async def test_a_location_posts_its_coordinates_and_the_spot_name(page: Page) -> None:
    openid = await page.add("赵奶奶")
    body = {"openid": openid, "latitude": 31.2338, "longitude": 121.479, "label": "幸福路菜市场"}
    status, _ = await page.do("location", **body)
    assert status == 200
    got = page.bot.last()
    assert (got["Location_X"], got["Location_Y"], got["Label"]) == (
        "31.2338",
        "121.479",
        "幸福路菜市场",
    )
    sent = (await page.messages(openid))[-2]
    assert sent == sent | {"kind": "location", "label": "幸福路菜市场", "latitude": 31.2338}


async def test_a_voice_arrives_with_its_recognition(page: Page) -> None:
    openid = await page.add("张大爷")
    status, _ = await page.do("voice", openid=openid, recognition="小区门口的路灯坏了")
    assert status == 200
    got = page.bot.last()
    assert (got["MsgType"], got["Recognition"]) == ("voice", "小区门口的路灯坏了")
    assert (await page.messages(openid))[-1]["text"] == "语音：小区门口的路灯坏了"


async def test_a_photo_is_kept_as_media_and_shown(page: Page) -> None:
    openid = await page.add("赵奶奶")
    photo = solid_png(8, 8, (200, 30, 30))
    status, _ = await page.do("photo", openid=openid, data=base64.b64encode(photo).decode())
    assert status == 200
    assert page.wechat.media_bytes(page.bot.last()["MediaId"]) == photo
    shown = (await page.messages(openid))[-2]
    assert shown["kind"] == "image"
    async with aiohttp.ClientSession() as http, http.get(page.origin + shown["media"]) as got:
        assert await got.read() == photo


async def test_a_template_message_is_a_card(page: Page) -> None:
    openid = await page.add("赵奶奶")
    await page.do("text", openid=openid, text="进度")
    card = (await page.messages(openid))[-1]
    assert card == card | {
        "kind": "template",
        "via": "template",
        "title": "上报进度通知",
        "first": "您的上报有新进展",
        "remark": "感谢您的参与",
    }
    assert [(r["label"], r["value"]) for r in card["rows"]] == [
        ("事项", "占道经营"),
        ("状态", "已受理"),
    ]


async def test_each_resident_has_a_count_of_messages(page: Page) -> None:
    first, second = await page.add("赵奶奶"), await page.add("钱先生")
    await page.do("text", openid=first, text="你好")
    counts = (await page.state())["counts"]
    assert (counts[first], counts[second]) == (4, 2)


async def test_the_state_answers_unchanged_until_something_happens(page: Page) -> None:
    openid = await page.add("赵奶奶")
    version = (await page.state(openid))["version"]
    _, same = await page.call("GET", f"/ui/wechat/state?openid={openid}&since={version}")
    assert same == {"version": version, "unchanged": True}
    await page.do("text", openid=openid, text="你好")
    assert (await page.state(openid))["version"] != version


# ---------------------------------------------------------------- refusals


async def test_an_empty_text_is_refused(page: Page) -> None:
    openid = await page.add("赵奶奶")
    heard = len(page.bot.received)
    status, answer = await page.do("text", openid=openid, text="  ")
    assert (status, answer["description"]) == (400, "Bad Request: message text is empty")
    assert len(page.bot.received) == heard


async def test_a_photo_that_is_no_image_is_refused(page: Page) -> None:
    openid = await page.add("赵奶奶")
    data = base64.b64encode(b"%PDF-1.4 not a picture").decode()
    status, answer = await page.do("photo", openid=openid, data=data)
    assert (status, answer["description"]) == (400, "Bad Request: invalid file type")


async def test_a_button_not_in_the_menu_is_refused(page: Page) -> None:
    openid = await page.add("赵奶奶")
    status, answer = await page.do("click", openid=openid, key="NOT_THERE")
    assert (status, answer["description"]) == (400, "Bad Request: no such menu button")


async def test_an_unknown_resident_is_refused(page: Page) -> None:
    status, answer = await page.do("text", openid="oNobody", text="你好")
    assert (status, answer["description"]) == (404, "Not Found: unknown resident")


async def test_a_bot_that_fails_is_reported_and_the_message_marked(page: Page) -> None:
    openid = await page.add("赵奶奶")
    page.bot.broken = True
    status, answer = await page.do("text", openid=openid, text="有人吗")
    assert status == 502
    assert answer["description"].startswith("Bad Gateway: the account's server did not answer")
    last = (await page.messages(openid))[-1]
    assert last["text"] == "有人吗" and "HTTP 500" in last["failed"]


async def test_a_post_from_another_site_is_refused(page: Page) -> None:
    openid = await page.add("赵奶奶")
    heard = len(page.bot.received)
    body = {"openid": openid, "text": "你好"}
    status, answer = await page.call("POST", "/ui/wechat/text", json=body, headers={"Origin": EVIL})
    assert (status, answer["description"]) == (403, "Forbidden: cross-origin request")
    assert len(page.bot.received) == heard


async def test_a_request_for_another_host_is_refused(page: Page) -> None:
    headers = {"Host": "evil.example", "Origin": "http://evil.example"}
    status, answer = await page.call("GET", "/ui/wechat/state", headers=headers)
    assert (status, answer["description"]) == (403, "Forbidden: wrong Host header")


async def test_a_post_that_is_not_json_is_refused(page: Page) -> None:
    openid = await page.add("赵奶奶")
    heard = len(page.bot.received)
    status, answer = await page.call(
        "POST", "/ui/wechat/text", data={"openid": openid, "text": "你好"}
    )
    assert status == 415
    assert answer["description"] == "Unsupported Media Type: send application/json"
    assert len(page.bot.received) == heard
