"""A working-group member on WeCom in a real browser, through the real demo: a resident on
WeChat reports, 城镇建设管理组's member sees the card in the app chat, accepts, resolves with
a note written in the app chat, and the resident sees the steps and rates the result.

`python bot.py demo --empty` as tests/test_browser.py starts it (the bot with its three
stand-ins). Playwright drives Debian's Chromium. It skips and fails as tests/test_browser.py
does: without Playwright or Chromium it skips, except under CI=true, where it fails.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo import WECOM_MEMBER
from tests.test_browser import chromium as chromium  # the fixture, with its skip/fail rules
from tests.test_browser import demo_url as demo_url  # `python bot.py demo`, stopped cleanly
from tests.test_browser import playwright_api
from tests.test_browser_wechat import become_on_wechat, phone_page

RESIDENT = "赵奶奶"  # one of the demo's residents on WeChat
LITTER = "小区门口垃圾成堆没人清理"
NOTE = "已清运干净，并安排保洁每天巡查"
MEMBER = "wc:" + WECOM_MEMBER[0]  # 城管张工, of 城镇建设管理组 on WeCom


@pytest.fixture
async def page(chromium: str, demo_url: str) -> AsyncIterator[playwright_api.Page]:
    async for page in phone_page(chromium, demo_url):
        yield page


async def test_a_wecom_member_resolves_a_wechat_residents_report_in_the_demo(
    page: playwright_api.Page, tmp_path: Path
) -> None:
    await become_on_wechat(page, RESIDENT)
    await page.fill("#text", LITTER)
    await page.click("#send")
    draft = page.locator(".bubble", has_text=LITTER).filter(has=page.locator(".menuItem")).last
    await draft.locator(".menuItem", has_text="确认提交").click()
    filed = page.locator(".bubble", has_text="工单号：").last
    await filed.wait_for()
    ticket = re.search(r"工单号：(\S+)", await filed.inner_text()).group(1)  # type: ignore[union-attr]

    # The card reaches the member while someone else is open: 我是 counts it.
    member = page.locator(f"#who option[value='{MEMBER}']")
    await member.filter(has_text="条新消息").wait_for(state="attached")
    await page.select_option("#who", MEMBER)
    await page.locator("#wxBar", has_text="文明创建工单").wait_for()
    card = page.locator(".qcard", has_text=f"工单 {ticket}")
    await card.get_by_role("button", name="受理").click()
    await card.filter(has_text="已受理").get_by_role("button", name="办结").click()
    await page.locator(".bubble", has_text="办结说明").wait_for()
    await page.fill("#text", NOTE)
    await page.click("#send")
    await page.locator(".mine .bubble", has_text=NOTE).wait_for()
    await card.filter(has_text="已办结").first.wait_for()
    await page.screenshot(path=str(tmp_path / "wecom-member.png"))

    await become_on_wechat(page, RESIDENT)
    await page.locator(".bubble", has_text=f"工单 {ticket}").filter(has_text="已受理").wait_for()
    resolved = page.locator(".bubble", has_text=f"工单 {ticket}").filter(has_text="已办结")
    await resolved.filter(has_text=NOTE).wait_for()
    await resolved.locator(".menuItem", has_text="😊 满意").click()
    await page.locator(".bubble", has_text="感谢您的评价：满意").wait_for()
