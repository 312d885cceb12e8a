"""The web chat's WeCom members: its endpoints over real HTTP, against the real bot.

The view is mounted on a web chat server (a Telegram stand-in, as the demo mounts it) over a
WeComStandIn whose callback is the bot's own WeCom channel, 城镇建设管理组 on WeCom.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulator import BotApiStandIn
from simulator.wecom import WeComStandIn
from simulator.wecom_web import WeComWebView
from tests.conftest import started_world
from tests.wecom_setup import on_wecom
from tests.world import World

MEMBER = "zhanggong"
URBAN_DEPARTMENT = 5
LITTER = "小区门口垃圾成堆没人清理"
NOTE = "已清理完毕，恢复整洁"
EVIL = "http://evil.example"


@dataclass
class Page:
    """The web chat's page, as its script talks to the server; the bot's world behind it."""

    api: BotApiStandIn
    wc: WeComStandIn
    tg: World

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
        return await self.call("POST", f"/ui/wecom/{action}", json=body)

    async def messages(self, userid: str = MEMBER) -> list[dict[str, Any]]:
        status, answer = await self.call("GET", f"/ui/wecom/state?userid={userid}")
        assert status == 200, answer
        return list(answer["messages"])

    async def card(self, ticket: str, status: str = "待受理") -> dict[str, Any]:
        """The latest card about `ticket`, once it shows the case in `status`."""

        async def found() -> dict[str, Any] | None:
            for m in reversed(await self.messages()):
                if m["kind"] == "card" and ticket in m["title"]:
                    shown = {"label": "状态", "value": status, "url": ""}
                    return m if shown in m["rows"] and m["replaced"] is None else None
            return None

        return await self.tg.eventually(found)


@pytest.fixture
async def page(tmp_path: Path, classifier: object) -> AsyncIterator[Page]:
    async with WeComStandIn() as wc:
        wc.add_department(URBAN_DEPARTMENT, "城镇建设管理组")
        wc.add_user(MEMBER, "张工", [URBAN_DEPARTMENT])
        environ, overrides = on_wecom(wc, "urban", URBAN_DEPARTMENT)
        async with started_world(tmp_path, classifier, environ, **overrides) as tg:
            assert tg.runtime.wecom is not None
            wc.callback_url = tg.runtime.wecom.callback_url
            api = BotApiStandIn()
            api.web_mounts.append(WeComWebView(wc, app_name="文明创建工单").mount)
            async with api:
                yield Page(api, wc, tg)


def key_of(card: dict[str, Any], label: str) -> str:
    """The key of the card's button whose text shows `label` (after its emoji)."""
    return next(b["key"] for b in card["buttons"] if label in b["text"])


async def test_the_members_are_listed_with_their_department(page: Page) -> None:
    status, listing = await page.call("GET", "/ui/wecom/members")
    assert status == 200
    assert listing["app"]["name"] == "文明创建工单"
    assert listing["members"] == [
        {"userid": MEMBER, "name": "张工", "department": "城镇建设管理组"}
    ]


async def test_an_alert_shows_as_a_card_with_its_title_rows_and_buttons(page: Page) -> None:
    _, ticket = await page.tg.file(LITTER)
    card = await page.card(ticket)
    assert card["subtitle"] == LITTER
    assert card["title"] == f"工单 {ticket}｜乱扔垃圾" and card["card_type"] == "button_interaction"
    assert [b["text"] for b in card["buttons"]][:2] == ["✅ 受理", "🏁 办结"]


async def test_a_press_posts_the_card_event_and_the_case_is_accepted(page: Page) -> None:
    _, ticket = await page.tg.file(LITTER)
    card = await page.card(ticket)
    status, answer = await page.do(
        "press", userid=MEMBER, message=card["id"], key=key_of(card, "受理")
    )
    assert status == 200, answer
    [press] = [p for p in page.wc.posted_by(MEMBER) if p.msgtype == "event"]
    assert press.fields["Event"] == "template_card_event"
    assert press.fields["EventKey"] == key_of(card, "受理")
    assert await page.card(ticket, "已受理")  # the card follows the case


async def test_a_text_in_the_app_chat_is_the_note_asked_for(page: Page) -> None:
    _, ticket = await page.tg.file(LITTER)
    card = await page.card(ticket)
    await page.do("press", userid=MEMBER, message=card["id"], key=key_of(card, "受理"))
    card = await page.card(ticket, "已受理")
    await page.do("press", userid=MEMBER, message=card["id"], key=key_of(card, "办结"))
    await page.wc.wait_for(
        lambda: next((m for m in page.wc.sent_to(MEMBER) if "办结说明" in (m.text or "")), None)
    )
    status, answer = await page.do("text", userid=MEMBER, text=NOTE)
    assert status == 200, answer
    said = [(m["side"], m["text"]) for m in await page.messages() if m["kind"] == "text"]
    assert ("member", NOTE) in said
    assert ticket in said[-1][1] and said[-1][0] == "app"  # the bot's answer comes after


async def test_a_button_the_card_no_longer_shows_is_refused(page: Page) -> None:
    _, ticket = await page.tg.file(LITTER)
    card = await page.card(ticket)
    accept = key_of(card, "受理")
    await page.do("press", userid=MEMBER, message=card["id"], key=accept)
    await page.card(ticket, "已受理")
    status, answer = await page.do("press", userid=MEMBER, message=card["id"], key=accept)
    assert (status, answer["description"]) == (
        400,
        "Bad Request: the button can no longer be pressed",
    )


async def test_refusals_for_an_unknown_member_an_empty_text_and_no_card(page: Page) -> None:
    status, answer = await page.do("text", userid="nobody", text="你好")
    assert (status, answer["description"]) == (404, "Not Found: unknown member")
    status, answer = await page.do("text", userid=MEMBER, text="  ")
    assert (status, answer["description"]) == (400, "Bad Request: message text is empty")
    status, answer = await page.do("press", userid=MEMBER, message="d99", key="x")
    assert (status, answer["description"]) == (400, "Bad Request: no such card")
    status, _ = await page.call("GET", "/ui/wecom/state?userid=nobody")
    assert status == 404


async def test_the_guard_refuses_another_origin_and_a_non_json_body(page: Page) -> None:
    status, answer = await page.call(
        "POST", "/ui/wecom/text", headers={"Origin": EVIL}, json={"userid": MEMBER, "text": "x"}
    )
    assert status == 403 and answer["ok"] is False
    status, answer = await page.call(
        "POST", "/ui/wecom/text", data="x", headers={"Content-Type": "text/plain"}
    )
    assert status == 415 and answer["ok"] is False
    assert not page.wc.posted_by(MEMBER)
