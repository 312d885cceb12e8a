"""A resident on WeChat in a real browser: follows, writes, hears back, taps a menu item;
and, through the real demo, reports a case a working group resolves and rates the result.

The first test: the web chat's server (the Telegram stand-in, with the WeChat view mounted
as the demo mounts it) and a WeChatStandIn whose callback is tests/wechat_bot.py's PlayBot
run in this process. The second: `python bot.py demo` as tests/test_browser.py starts it
(the bot with both stand-ins). Playwright drives Debian's Chromium. They skip and fail as
tests/test_browser.py does: without Playwright or Chromium they skip, except under
CI=true, where they fail.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo import PLACES, STAFF
from simulator import BotApiStandIn
from simulator.wechat_web import WeChatWebView
from tests.test_browser import CHROMIUM_FLAGS, Chat, playwright_api
from tests.test_browser import chromium as chromium  # the fixture, with its skip/fail rules
from tests.test_browser import demo_url as demo_url  # `python bot.py demo`, stopped cleanly
from tests.wechat_bot import PlayBot, wechat_with_bot

RESIDENT = "赵奶奶"  # one of the demo's residents on WeChat, too
REPORT = "楼下有人乱扔垃圾"
LITTER = "小区门口垃圾成堆没人清理"
URBAN_STAFF = STAFF["urban"][0]  # 城镇建设管理组's member
NOTE = "已清运干净，并安排保洁每天巡查"


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


async def phone_page(chromium: str, url: str) -> AsyncIterator[playwright_api.Page]:
    """A phone-sized page of the web chat at `url`, in the district's language and time."""
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = await browser.new_page(
            viewport={"width": 460, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        await page.goto(url)
        yield page
        await browser.close()


@pytest.fixture
async def page(chromium: str, bot: tuple[PlayBot, str]) -> AsyncIterator[playwright_api.Page]:
    async for page in phone_page(chromium, bot[1]):
        yield page


@pytest.fixture
async def demo_page(chromium: str, demo_url: str) -> AsyncIterator[playwright_api.Page]:
    async for page in phone_page(chromium, demo_url):
        yield page


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


async def test_a_wechat_residents_report_is_resolved_by_a_group_in_the_demo(
    demo_page: playwright_api.Page,
) -> None:
    page, chat = demo_page, Chat(demo_page)
    await become_on_wechat(page, RESIDENT)
    await page.fill("#text", LITTER)
    await page.click("#send")
    card = page.locator(".bubble", has_text=LITTER).filter(has=page.locator(".menuItem")).last
    await card.locator(".menuItem", has_text="确认提交").click()
    filed = page.locator(".bubble", has_text="工单号：").last
    await filed.wait_for()
    ticket = re.search(r"工单号：(\S+)", await filed.inner_text()).group(1)  # type: ignore[union-attr]

    await chat.become(URBAN_STAFF)  # opens in 城镇建设管理组's chat
    alert = chat.bubble(ticket, button="受理")
    await alert.get_by_role("button", name="受理").click()
    await page.locator("#toast", has_text="已受理").wait_for()
    alert = chat.bubble(ticket, button="办结").filter(has_text="状态：已受理")
    await alert.get_by_role("button", name="办结").click()
    await page.locator("#replyText", has_text="写一句办结说明").wait_for()  # a forced reply
    await page.fill("#text", NOTE)
    await page.click("#send")
    await chat.bubble(ticket).filter(has_text="已办结").first.wait_for()

    await become_on_wechat(page, RESIDENT)
    await page.locator(".bubble", has_text=f"工单 {ticket}").filter(has_text="已受理").wait_for()
    resolved = page.locator(".bubble", has_text=f"工单 {ticket}").filter(has_text="已办结")
    await resolved.filter(has_text=NOTE).wait_for()
    await resolved.locator(".menuItem", has_text="基本满意").wait_for()  # the rating menu
    await resolved.locator(".menuItem", has_text="😊 满意").click()
    await page.locator(".bubble", has_text="感谢您的评价：满意").wait_for()


async def become_on_wechat(page: playwright_api.Page, name: str) -> None:
    """Pick a resident on WeChat in 我是 (their option's label may count unread messages)."""
    option = page.locator("#who option[value^='wx:']", has_text=name).first
    await page.select_option("#who", await option.get_attribute("value"))
