"""A running bot with both channels: the Telegram stand-in (working groups) and the
WeChat stand-in (residents on the Official Account), one database between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.server import BotApiStandIn
from simulator.wechat import Delivered, WeChatStandIn, WeChatUser
from tests.world import Clock, World, make_runtime, populate, settings_for_tests

OPENID = "oWx-resident-0001"
NEIGHBOUR_OPENID = "oWx-resident-0002"
# The template the stand-in's account has for case updates, and its keywords.
CASE_UPDATE = "tpl-case-update"


@dataclass
class WeChatWorld:
    """The Telegram world, plus the WeChat stand-in and its residents."""

    tg: World
    wx: WeChatStandIn

    def resident(self, openid: str = OPENID) -> WeChatUser:
        return self.wx.resident(openid)

    async def next_to(self, openid: str = OPENID, after: int | None = None) -> Delivered:
        """The next message that reaches a WeChat resident (passive replies included)."""
        return await self.wx.next_sent(openid, after=after)


@asynccontextmanager
async def wechat_world(
    tmp_path: Path,
    classifier: object,
    keywords: list[str] | None = None,
    menu: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> AsyncIterator[WeChatWorld]:
    wx = WeChatStandIn(
        templates={CASE_UPDATE: keywords or ["character_string1", "phrase2", "time3", "thing4"]},
    )
    async with wx, BotApiStandIn() as api:
        populate(api)
        environ = {
            "WECHAT_TOKEN": wx.token,
            "WECHAT_APP_SECRET": wx.app_secret,
            "WECHAT_ENCODING_AES_KEY": wx.encoding_aes_key,
        }
        table = {
            "app_id": wx.app_id,
            "api_base_url": wx.base_url,
            "port": 0,
            "templates": {"case_update": CASE_UPDATE},
        }
        if menu is not None:
            table["menu"] = menu
        settings = settings_for_tests(
            tmp_path / "civic.db", environ=environ, wechat=table, **overrides
        )
        clock = Clock()
        tg = World(api, make_runtime(api, settings, classifier, clock), settings, clock)
        await tg.runtime.start()
        assert tg.runtime.wechat is not None
        wx.callback_url = tg.runtime.wechat.callback_url
        try:
            yield WeChatWorld(tg, wx)
        finally:
            await tg.runtime.stop()
