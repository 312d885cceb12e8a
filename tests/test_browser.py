"""The demo in a real browser: a resident reports, a group acts, the resident hears and plays.

Runs `python bot.py demo` as a process and drives Debian's Chromium with
Playwright. Without Playwright or Chromium the test skips, except under CI=true,
where it must run (and fails without them). With UPDATE_SCREENSHOTS=1 it also
refreshes the README's pictures.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tomli_w

from demo import ADMIN, PLACES, RESIDENTS, STAFF, relocated_config, street_photo
from tests.world import ROOT

try:
    from playwright import async_api as playwright_api
except ModuleNotFoundError:
    playwright_api = None  # type: ignore[assignment]  # the chromium fixture says what to do

SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESIDENT = next(iter(RESIDENTS))  # 王小明
URBAN_STAFF = STAFF["urban"][0]
REPORT = "路边绿化带里全是塑料袋和饮料瓶，好几天没人清理"
PLACE, LATITUDE, LONGITUDE = PLACES[3]


@pytest.fixture
def chromium() -> str:
    """Debian's Chromium (or $CHROMIUM) for Playwright; skip if either is missing, not under CI."""
    if playwright_api is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but Playwright is not installed: pip install -r requirements-dev.txt"
            )
        pytest.skip("no Playwright (pip install -r requirements-dev.txt)")
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but no chromium: scripts/ensure-chromium should have installed it")
    pytest.skip("no chromium (scripts/ensure-chromium installs it as root)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def demo_url(
    chromium: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """`python bot.py demo` on a free port with its own database; stopped with Ctrl-C.

    Empty unless the test is marked `seeded` (the sample cases take seconds to make).
    """
    seeded = request.node.get_closest_marker("seeded") is not None
    raw = relocated_config(ROOT / "config.toml", tmp_path / "civic.db")
    raw["demo"] = {"port": free_port()}
    # Paced far above Telegram's limits: the sample cases are made in a second or two.
    raw["telegram"].update(send_rate=1000, chat_rate=1000, group_per_minute=10_000)
    config = tmp_path / "config.toml"
    config.write_text(tomli_w.dumps(raw), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        "demo",
        "--config",
        str(config),
        *([] if seeded else ["--empty"]),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    url = ""
    async with asyncio.timeout(60):
        while not url:
            line = (await process.stdout.readline()).decode()
            assert line, f"the demo exited with {await process.wait()} before printing its URL"
            if match := re.search(r"demo: (http://127\.0\.0\.1:\d+/)", line):
                url = match.group(1)
    drain = asyncio.create_task(process.stdout.read())
    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            code = await process.wait()
        output = (await drain).decode(errors="replace")
        assert code == 0, f"the demo did not stop cleanly on Ctrl-C ({code}):\n{output[-2000:]}"
        assert "Traceback" not in output, output[-2000:]


@pytest.fixture
async def page(chromium: str, demo_url: str) -> AsyncIterator[playwright_api.Page]:
    """A phone-sized page of the demo's web chat, in the district's language and time."""
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = await browser.new_page(
            viewport={"width": 460, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        await page.goto(demo_url)
        yield page
        await browser.close()


@pytest.mark.seeded
async def test_a_report_goes_round_the_loop_in_the_browser(
    page: playwright_api.Page, tmp_path: Path
) -> None:
    photo = tmp_path / "litter.png"
    photo.write_bytes(street_photo(litter=(235, 235, 240)))
    chat = Chat(page)
    await chat.become(RESIDENT)
    await page.fill("#text", REPORT)
    await page.set_input_files("#photo", str(photo))
    await chat.bubble(REPORT[:8], button="确认").wait_for()
    await page.click("#locBtn")
    await page.locator("#places").get_by_role("button", name=PLACE).click()
    await page.click("#locSend")
    card = chat.bubble("已添加位置", button="确认")
    filed = page.locator(".bubble", has_text="已提交！工单号")
    earlier = await filed.count()  # 王小明 filed two of the demo's seeded cases
    await card.get_by_role("button", name="确认").click()
    await filed.nth(earlier).wait_for()
    ticket = re.search(r"工单号：(\S+)", await filed.nth(earlier).inner_text()).group(1)  # type: ignore[union-attr]

    await chat.become(ADMIN[0])  # in every group: the new alert is marked there
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#chat option')].some("
        "o => o.textContent.includes('城镇建设管理组') && o.textContent.includes('条新消息'))"
    )
    assert "条新消息" not in await page.locator("#chat option").first.inner_text()

    await chat.become(URBAN_STAFF)  # opens in 城镇建设管理组's chat
    alert = chat.bubble(ticket, button="受理")
    assert f"{LONGITUDE:.6f},{LATITUDE:.6f}" in await alert.inner_text()
    await alert.get_by_role("button", name="受理").click()
    await page.locator("#toast", has_text="已受理").wait_for()  # the callback's answer
    alert = chat.bubble(ticket, button="办结").filter(has_text="状态：已受理")
    await shoot(page, tmp_path, "group-chat.png", alert)
    await alert.get_by_role("button", name="办结").click()
    await chat.bubble("写一句办结说明").wait_for()  # a forced reply: the reply opens itself
    await page.locator("#replyText", has_text="写一句办结说明").wait_for()
    await page.fill("#text", "已清理干净，并提醒保洁加强巡查")
    await page.click("#send")
    await chat.bubble(ticket).filter(has_text="已办结").first.wait_for()

    await chat.become(RESIDENT)
    await chat.bubble(f"工单 {ticket}：城镇建设管理组已受理").wait_for()
    rating = chat.bubble(ticket, button="满意")
    await rating.wait_for()
    await shoot(page, tmp_path, "resident-chat.png", rating)

    await page.fill("#text", "/quiz")
    await page.click("#send")
    first = page.locator(".poll").last
    await first.wait_for()
    asked = await first.locator(".q").inner_text()
    question = page.locator(".poll", has_text=asked)  # the next one follows at once
    await question.locator("button").first.click()
    await question.locator(".expl").wait_for()
    await page.locator(".poll").nth(1).wait_for()


async def test_a_text_telegram_would_refuse_is_refused_and_kept(page: playwright_api.Page) -> None:
    chat = Chat(page)
    await chat.become(RESIDENT)
    await page.fill("#text", "长" * 4097)
    await page.click("#send")
    await page.locator("#toast", has_text="消息太长").wait_for()
    assert "message is too long" in await page.locator("#toast").inner_text()
    assert len(await page.input_value("#text")) == 4097


async def test_a_drawn_sample_photo_starts_a_report(page: playwright_api.Page) -> None:
    chat = Chat(page)
    await chat.become(RESIDENT)
    await page.fill("#text", "人行道上全是垃圾")
    await page.click("#samplePhoto")
    card = chat.bubble("照片：1 张", button="确认")
    await card.wait_for()
    assert "人行道上全是垃圾" in await card.inner_text()


class Chat:
    """The web chat's page, in the words of the scenario."""

    def __init__(self, page: playwright_api.Page) -> None:
        self.page = page

    async def become(self, user_id: int) -> None:
        """Pick who we are; the chat follows (the private chat, or a staff member's group)."""
        await self.page.select_option("#who", str(user_id))

    def bubble(self, text: str, button: str | None = None) -> playwright_api.Locator:
        """The last message bubble containing `text` (and a button labelled `button`)."""
        found = self.page.locator(".bubble", has_text=text)
        if button is not None:
            found = found.filter(has=self.page.get_by_role("button", name=button))
        return found.last


async def shoot(
    page: playwright_api.Page, folder: Path, name: str, bottom: playwright_api.Locator
) -> None:
    """A screenshot ending at `bottom`; with UPDATE_SCREENSHOTS=1 also the README's picture."""
    await page.add_style_tag(content="#toast { visibility: hidden; }")
    await bottom.evaluate("node => node.scrollIntoView({block: 'end'})")
    await page.screenshot(path=str(folder / name))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / name, SCREENSHOTS / name)
