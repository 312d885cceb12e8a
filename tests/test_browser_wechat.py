"""A resident on WeChat in a real browser: follows, writes, hears back, taps a menu item.

The web chat's server (the Telegram stand-in, with the WeChat view mounted as the demo
mounts it) and a WeChatStandIn whose callback is tests/wechat_bot.py's PlayBot run in
this process; Playwright drives Debian's Chromium. It skips and fails as
tests/test_browser.py does: without Playwright or Chromium it skips, except under
CI=true, where it fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo import PLACES
from simulator import BotApiStandIn
from simulator.wechat_web import WeChatWebView
from tests.test_browser import CHROMIUM_FLAGS, playwright_api
from tests.test_browser import chromium as chromium  # the fixture, with its skip/fail rules
from tests.wechat_bot import PlayBot, wechat_with_bot

RESIDENT = "赵奶奶"
REPORT = "楼下有人乱扔垃圾"


@pytest.fixture
async def bot(chromium: str) -> AsyncIterator[tuple[PlayBot, str]]:
    """The bot on WeChat, and the address of the web chat that shows its residents."""
    async with wechat_with_bot() as (wechat, bot):
        api = BotApiStandIn()
        api.places = list(PLACES)
        api.add_user(1001, "王小明")
        view = WeChatWebView(wechat, account_name="文明城区随手拍")
        api.web_mounts.append(view.mount)
        async with api:
            yield bot, api.web_url


@pytest.fixture
async def page(chromium: str, bot: tuple[PlayBot, str]) -> AsyncIterator[playwright_api.Page]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = await browser.new_page(
            viewport={"width": 460, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        await page.goto(bot[1])
        yield page
        await browser.close()


async def test_a_wechat_resident_talks_to_the_account_in_the_browser(
    page: playwright_api.Page, bot: tuple[PlayBot, str], tmp_path: Path
) -> None:
    async def name_the_resident(dialog: playwright_api.Dialog) -> None:
        await dialog.accept(RESIDENT)

    page.once("dialog", name_the_resident)
    await page.select_option("#who", "wx:new")
    await page.locator(".msg.system", has_text="你关注了公众号").wait_for()
    await page.locator("#wxMenu button", has_text="随手拍").wait_for()  # the bot's menu

    await page.fill("#text", REPORT)
    await page.click("#send")
    await page.locator(".bubble", has_text=f"收到：{REPORT}").wait_for()

    await page.fill("#text", "菜单")
    await page.click("#send")
    await page.locator(".menuItem", has_text="2 乱扔垃圾").click()
    await page.locator(".bubble", has_text="已选：2 乱扔垃圾").wait_for()
    assert bot[0].last()["bizmsgmenuid"] == "102"
    await page.screenshot(path=str(tmp_path / "wechat-resident.png"))
