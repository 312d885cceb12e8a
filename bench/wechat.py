"""WeChat residents beside Telegram's: report flows per second, and how fast the callback answers.

    python bench/wechat.py [--flows 160] [--residents 16] [--crowd 32] [--rounds 5]

The bot runs as a separate process (`bot.py run` on a temporary database, both
channels: Telegram long polling and the Official Account's callback server), so
it has a core of its own; this process runs the two stand-ins (Telegram's Bot
API, WeChat's API and servers) and plays every resident.

1. Report flows, measured the same way on both channels one after the other,
   on the same bot: `--flows` flows by `--residents` residents at once. A
   WeChat flow: the resident says a report's text, gets the card (a msgmenu),
   taps 确认提交, and the report's alert reaches the group's Telegram chat. A
   Telegram flow is bench/e2e.py's: text, card, 确认, alert in the group chat.
   Printed: flows/s and each flow's p50/p95, first text to alert.
2. The callback's answers with `--crowd` WeChat residents at once (the goal:
   p99 under 1 s, far inside WeChat's 5 s): each, for `--rounds` rounds, says
   a report's text, taps 确认提交 on its card and asks 查询 <ticket>, as fast
   as the answers come. Timed at the stand-in, per callback, from posting to
   the whole HTTP answer. Printed: p50/p95/p99/max, per kind too, and how
   many answers were passive replies and how many `success` (the replies then
   sent as customer-service messages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import Inbox, confirmable  # noqa: E402
from demo import free_port, standin_config  # noqa: E402
from dialogue.texts import BUTTON_CONFIRM, WECHAT_STATUS_WORD  # noqa: E402
from reports.model import read_corpus  # noqa: E402
from settings import load_settings  # noqa: E402
from simulator import BotApiStandIn  # noqa: E402
from simulator.cluster import cpu_seconds  # noqa: E402
from simulator.wechat import (  # noqa: E402
    CallbackAttempt,
    Delivered,
    WeChatStandIn,
    WeChatUser,
    parse_xml,
)

GROUP_CHATS = {key: -100_000 - i for i, key in enumerate(load_settings().group_keys)}
FIRST_RESIDENT = 10_000
TEMPLATE = "bench-case-update"
TEMPLATE_KEYWORDS = ["character_string1", "phrase2", "time3", "thing4"]
PATIENCE = 60.0  # seconds a resident waits for an answer before the bench gives up
MARKER = re.compile(r"#((?:wx|tg)\d+-\d+)")
TICKET = re.compile(r"[0-9]{6}-[0-9]{3,6}")
CONFIRM = BUTTON_CONFIRM.split()[-1]  # 确认提交, as a WeChat menu item shows it
KINDS = {"text": "report text", "menu": "menu tap", "status": "status query"}  # by kind_of


def openid(n: int) -> str:
    return f"oBench-resident-{n:05d}"


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of some values."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def spread(values: Sequence[float], shares: Sequence[float] = (0.5, 0.95)) -> str:
    return ", ".join(f"p{share * 100:g} {percentile(values, share):.3f} s" for share in shares)


def split(total: int, parts: int) -> list[int]:
    """`total` flows shared out over `parts` residents as evenly as can be."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class WeChatInbox:
    """Routes every message that reaches a WeChat resident to their queue, in order."""

    def __init__(self, wx: WeChatStandIn) -> None:
        self.wx = wx
        self.read = 0
        self.queues: dict[str, asyncio.Queue[Delivered]] = defaultdict(asyncio.Queue)
        self.task = asyncio.create_task(self._route())

    async def _route(self) -> None:
        while True:
            await self.wx.wait_for(lambda: len(self.wx.delivered) > self.read, timeout=3600)
            while self.read < len(self.wx.delivered):
                message = self.wx.delivered[self.read]
                self.read += 1
                await self.queues[message.openid].put(message)

    async def menu(self, who: str) -> Delivered:
        """The next msgmenu to reach `who` (what comes before it is read and passed over)."""
        async with asyncio.timeout(PATIENCE):
            while True:
                message = await self.queues[who].get()
                if message.msgtype == "msgmenu":
                    return message


class Groups:
    """Watches the groups' Telegram chats: each alert's marker, once it arrives."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        waits = {asyncio.create_task(self.inbox.next(c, None)): c for c in GROUP_CHATS.values()}
        try:
            while True:
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    chat = waits.pop(task)
                    for marker in MARKER.findall(task.result().text or ""):
                        self.arrived[marker].set()
                    waits[asyncio.create_task(self.inbox.next(chat, None))] = chat
        finally:
            for task in waits:
                task.cancel()

    async def alert(self, marker: str) -> None:
        """Wait for the alert that carries `marker`."""
        await asyncio.wait_for(self.arrived[marker].wait(), PATIENCE)


class Bench:
    """The two stand-ins, the bot's process on them, and the residents' side."""

    def __init__(self, api: BotApiStandIn, wx: WeChatStandIn, bot: subprocess.Popen[bytes]):
        self.api, self.wx, self.bot = api, wx, bot
        corpus = read_corpus(ROOT / "tests/data/labelled_dev.tsv")
        self.texts = [(c, t) for c, t in corpus if c != "other"]
        raw = load_settings().categories
        self.names = {key: category.name for key, category in raw.items()}
        self.tg_inbox = Inbox(api)
        self.wx_inbox = WeChatInbox(wx)
        self.groups = Groups(self.tg_inbox)

    def close(self) -> None:
        for task in (self.tg_inbox.task, self.wx_inbox.task, self.groups.task):
            task.cancel()

    def text(self, n: int) -> tuple[str, str]:
        return self.texts[n % len(self.texts)]

    # -- One flow on each channel

    async def wechat_flow(self, who: int, n: int, index: int) -> str:
        """Say a report's text, tap 确认提交 on the card; the marker its alert will carry."""
        category, text = self.text(index)
        marker = f"wx{who}-{n}"
        resident = self.wx.resident(openid(who))
        await resident.say(f"{text} #{marker}")
        await resident.choose(await self.card(resident, category), CONFIRM)
        return marker

    async def card(self, resident: WeChatUser, category: str) -> Delivered:
        """The card that offers 确认提交, the category picked first if the bot asks."""
        while True:
            menu = await self.wx_inbox.menu(resident.openid)
            items = " ".join(content for _, content in menu.choices)
            if CONFIRM in items:
                return menu
            # Not sure of the category: the resident picks it, as in the chat (a long
            # list comes as several menus; the one with it is tapped, the rest passed).
            if self.names[category] in items:
                await resident.choose(menu, self.names[category])

    async def telegram_flow(self, user: int, n: int, index: int) -> str:
        """bench/e2e.py's flow: a text, the card (its category picked if asked), 确认."""
        api = self.api
        category, text = self.text(index)
        marker = f"tg{user}-{n}"
        api.send_text(user, f"{text} #{marker}")
        card = await self.tg_inbox.next(user)
        if not any("确认" in b["text"] for b in card.buttons):
            api.press(user, card.message_id, card.button_data(self.names[category]))
            card_id = card.message_id
            card.reply_markup = await api.wait_for(
                lambda: confirmable(api.message(user, card_id)), timeout=PATIENCE
            )
        query = api.press(user, card.message_id, card.button_data("确认"))
        await api.answer_to(query, timeout=PATIENCE)
        return marker

    # -- 1. Flows per second

    async def flows(self, channel: str, flows: int, residents: int, first: int) -> None:
        """Run `flows` flows by `residents` residents at once; print flows/s, p50/p95."""
        flow = self.wechat_flow if channel == "wechat" else self.telegram_flow
        durations: list[float] = []

        async def resident(who: int, count: int) -> None:
            for n in range(count):
                began = time.perf_counter()
                await self.groups.alert(await flow(who, n, who + n * residents))
                durations.append(time.perf_counter() - began)

        who = range(first, first + residents)
        watch = Stopwatch(self.bot.pid)
        await asyncio.gather(
            *(resident(w, c) for w, c in zip(who, split(flows, residents), strict=True))
        )
        elapsed, cpu = watch.stop()
        print(
            f"{channel + ' flows':<25}{len(durations) / elapsed:.1f} flows/s,"
            f" per flow {spread(durations)}"
        )
        print(f"    {len(durations)} flows by {residents} residents at once; {cpu}")

    # -- 2. The callback's answers with a crowd

    async def crowd(self, residents: int, rounds: int, first: int) -> None:
        """Each resident reports, taps 确认提交 and asks after the ticket, `rounds` times."""
        start = len(self.wx.attempts)

        async def resident(who: int) -> None:
            me = self.wx.resident(openid(who))
            for n in range(rounds):
                category, text = self.text(who * rounds + n)
                await me.say(text)
                reply = await me.choose(await self.card(me, category), CONFIRM)
                found = TICKET.search(str((reply or {}).get("Content", "")))
                await me.say(f"{WECHAT_STATUS_WORD} {found.group(0) if found else ''}".strip())

        watch = Stopwatch(self.bot.pid)
        await asyncio.gather(*(resident(w) for w in range(first, first + residents)))
        elapsed, cpu = watch.stop()
        attempts = self.wx.attempts[start:]
        print_answers(attempts, elapsed)
        print(f"    {residents} residents at once, {rounds} rounds each; {cpu}")


class Stopwatch:
    """Wall time, and the CPU the bot's process and this one (the stand-ins) used meanwhile."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.began = time.perf_counter()
        self.bot = cpu_seconds(pid)
        self.own = time.process_time()

    def stop(self) -> tuple[float, str]:
        """Seconds elapsed, and the CPU used as a share of them."""
        elapsed = time.perf_counter() - self.began
        bot = (cpu_seconds(self.pid) - self.bot) / elapsed
        own = (time.process_time() - self.own) / elapsed
        return elapsed, f"bot CPU {bot:.0%}, stand-ins and residents CPU {own:.0%}"


def kind_of(attempt: CallbackAttempt) -> str:
    """What a callback carried: a report's text, a menu tap or a status query."""
    kind = attempt.kind
    if kind == "text" and parse_xml(attempt.plain).get("Content", "").startswith(
        WECHAT_STATUS_WORD
    ):
        return "status"
    return kind


def print_answers(attempts: list[CallbackAttempt], elapsed: float) -> None:
    timed = [(a, a.seconds) for a in attempts if a.seconds is not None]
    times = [seconds for _, seconds in timed]
    passive = sum(1 for a, _ in timed if a.passive)
    shares = (0.5, 0.95, 0.99)
    print(
        f"{'callback answers':<25}{spread(times, shares)}, max {max(times):.3f} s"
        f"  ({len(times)} callbacks, {len(times) / elapsed:.1f}/s)"
    )
    for kind, name in KINDS.items():
        some = [seconds for a, seconds in timed if kind_of(a) == kind]
        if some:
            print(f"    {name:<20} {spread(some, shares)}, max {max(some):.3f} s  ({len(some)})")
    print(
        f"{'answered':<25}{passive} passive replies, {len(timed) - passive} success"
        " (replies then sent as customer-service messages)"
    )
    print(
        f"{'unanswered':<25}{len(attempts) - len(timed)} posts not answered within 5 s"
        " (WeChat then retries)"
    )


def bot_config(workdir: Path, api: BotApiStandIn, wx: WeChatStandIn, port: int) -> Path:
    """The committed config on the stand-ins, a temporary database and no flood limits."""
    raw = standin_config(ROOT / "config.toml", api, workdir / "bench.db", GROUP_CHATS)
    # As in bench/e2e.py: residents file many reports back to back against stand-ins
    # with no flood limits, so the figure is the bot's own cost per flow.
    raw["reports"]["max_per_hour"] = 1000
    raw["reports"]["flood_messages"] = 10_000
    raw["telegram"].update(send_rate=1000, chat_rate=1000, group_per_minute=10_000)
    raw["outbox"]["concurrency"] = len(GROUP_CHATS)
    raw["wechat"] = {
        "app_id": wx.app_id,
        "api_base_url": wx.base_url,
        "port": port,
        "templates": {"case_update": TEMPLATE},
    }
    config = workdir / "config.toml"
    config.write_bytes(tomli_w.dumps(raw).encode())
    return config


def start_bot(
    config: Path, api: BotApiStandIn, wx: WeChatStandIn, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOT_TOKEN": api.token,
        "WECHAT_TOKEN": wx.token,
        "WECHAT_APP_SECRET": wx.app_secret,
        "WECHAT_ENCODING_AES_KEY": wx.encoding_aes_key,
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def callback_up(wx: WeChatStandIn, bot: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the bot answers WeChat's URL check (its callback serves last)."""
    async with asyncio.timeout(120):
        while True:
            if bot.poll() is not None:
                raise RuntimeError(f"the bot exited: {tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                if await wx.verify_url():
                    return
            await asyncio.sleep(0.2)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flows", type=int, default=160, help="report flows per channel")
    parser.add_argument("--residents", type=int, default=16, help="residents at once (part 1)")
    parser.add_argument("--crowd", type=int, default=32, help="WeChat residents at once (part 2)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds each (part 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        wx = WeChatStandIn(templates={TEMPLATE: TEMPLATE_KEYWORDS})
        async with wx, BotApiStandIn() as api:
            for key, chat_id in GROUP_CHATS.items():
                api.add_group(chat_id, key)
            for user in range(FIRST_RESIDENT, FIRST_RESIDENT + args.residents + 1):
                api.add_user(user, f"居民{user}")
            port = free_port()
            config = bot_config(workdir, api, wx, port)
            log = workdir / "bot.log"
            bot = start_bot(config, api, wx, log)
            wx.callback_url = f"http://127.0.0.1:{port}/wechat"
            bench: Bench | None = None
            try:
                await callback_up(wx, bot, log)
                bench = Bench(api, wx, bot)
                print(f"{'the bot':<25}its own process (bot.py run, both channels, temporary db)")
                # Warm-up: a flow on each channel (the first reports, the first sends).
                warm = FIRST_RESIDENT + args.residents
                await bench.groups.alert(await bench.telegram_flow(warm, 0, 0))
                await bench.groups.alert(await bench.wechat_flow(0, 0, 0))
                print(
                    "1. report flows: text, card, 确认提交, the alert in the group's Telegram chat"
                )
                await bench.flows("wechat", args.flows, args.residents, first=1)
                await bench.flows("telegram", args.flows, args.residents, first=FIRST_RESIDENT)
                print("    telegram: bench/e2e.py's flow on the same bot, measured the same way")
                print(
                    "2. the WeChat callback: posting to HTTP answer, at the stand-in (p99 < 1 s?)"
                )
                await bench.crowd(args.crowd, args.rounds, first=1000)
            finally:
                if bench is not None:
                    bench.close()
                bot.terminate()
                try:
                    await asyncio.to_thread(bot.wait, 30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    await asyncio.to_thread(bot.wait)


if __name__ == "__main__":
    asyncio.run(main())
