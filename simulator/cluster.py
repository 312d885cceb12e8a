"""Several `bot.py run` processes against one stand-in, and residents filing reports.

The harness of the failover test (`tests/test_failover_pg.py`) and of
`bench/processes.py`: the stand-in (a `BotApiStandIn` in the caller's process) plays
Telegram and the residents; each bot is a subprocess with its own webhook port behind
a `Balancer`, whose URL every process gives to setWebhook (or, with one process on
SQLite, a poller). All on one PostgreSQL database, or one SQLite file.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from simulator.balancer import Balancer
from simulator.server import BotApiStandIn, SentMessage

ROOT = Path(__file__).resolve().parent.parent
JIEBA_CACHE = Path(tempfile.gettempdir()) / "civic-cluster-jieba-cache"
FIRST_RESIDENT = 10_000
SECRET = "cluster_Secret-0123456789"
LEADS = "took the leader lock"
LOCATION_ADDED = "📍 已添加位置。"  # dialogue.texts.DRAFT_LOCATION_ADDED
DIGEST_TITLE = "📋 每日简报"  # the start of dialogue.texts.DIGEST_TITLE
# Texts the bot takes for reports at once (a draft card), each with the category's name
# to pick should the card ask for one.
REPORTS = [
    ("小区门口垃圾成堆没人清理", "乱扔垃圾"),
    ("路边的垃圾桶满了好几天没人清运", "乱扔垃圾"),
    ("有人在人行道上乱停电动车，挡住了盲道", "交通不文明"),
    ("电动车闯红灯，差点撞到行人", "交通不文明"),
    ("有人在电梯里抽烟，烟味很大", "室内吸烟"),
    ("路边有人摆摊占道经营，行人没法走", "占道经营"),
    ("楼道里有人在墙上乱贴小广告", "小广告涂写"),
    ("人行道的井盖坏了没人修", "道路设施"),
]
# Where the reports are: a grid around 人民广场 in areas/demo.geojson, each point its own.
BASE = (31.2304, 121.4737)


def group_chats() -> dict[str, int]:
    """A chat id for each working group of config.toml."""
    from settings import load_settings

    return {key: -100_000 - i for i, key in enumerate(load_settings().group_keys)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def marker_of(user: int, n: int) -> str:
    return f"#{user}-{n}#"


MARKER = re.compile(r"#(\d+)-(\d+)#")


def place_of(user: int, n: int) -> tuple[float, float]:
    """A point of its own for each report (about 300 m apart: no report is a duplicate)."""
    i = (user - FIRST_RESIDENT) * 5 + n
    return BASE[0] + 0.003 * (i % 40 - 20), BASE[1] + 0.003 * (i // 40 - 12)


# --------------------------------------------------------------------- a time zone


def zone_due_at(folder: Path, when: float) -> tuple[str, str, str]:
    """A time zone in which `when` (a Unix time) is a whole minute, for a daily job's
    "HH:MM" to fall due at a second the caller chooses: (PYTHONTZPATH, zone, "HH:MM").

    A TZif file with one fixed offset (8 hours and some seconds past it); the bot's
    processes read it through PYTHONTZPATH, as they would a system zone.
    """
    utc = datetime.fromtimestamp(when, UTC)
    local = (utc + timedelta(hours=8, minutes=1)).replace(second=0, microsecond=0)
    offset = round(local.timestamp() - when)
    name = b"DUE\0"
    header = b"TZif" + b"\0" * 16 + struct.pack(">6l", 0, 0, 0, 0, 1, len(name))
    (folder / "Cluster").mkdir(parents=True, exist_ok=True)
    (folder / "Cluster" / "Due").write_bytes(header + struct.pack(">lBB", offset, 0, 0) + name)
    return str(folder), "Cluster/Due", local.strftime("%H:%M")


# --------------------------------------------------------------------- PostgreSQL

_databases = itertools.count(1)


@asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    """A new empty database on the server of `admin_url`, dropped when the block ends."""
    import asyncpg

    name = f"civic_cluster_{os.getpid()}_{next(_databases)}"
    parts = urllib.parse.urlsplit(admin_url)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await admin(f"CREATE DATABASE {name}")
    try:
        yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    finally:
        await admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --------------------------------------------------------------------- the processes


class BotProcess:
    """One `bot.py run`, its log in a file."""

    def __init__(self, name: str, config: Path, env: dict[str, str], port: int | None) -> None:
        self.name = name
        self.port = port
        self.log = config.with_suffix(".log")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.proc.pid
        self.killed = False

    def log_text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def leads(self) -> bool:
        """Whether the process said it took the leader lock (and has not lost it since)."""
        text = self.log_text()
        return text.count(LEADS) > text.count("lost the leader lock")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no goodbye, the lock and the claims held until PostgreSQL sees it gone."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.killed = True

    def stop(self) -> None:
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Cluster:
    api: BotApiStandIn
    bots: list[BotProcess]
    balancer: Balancer | None
    storage_url: str | None

    def leader(self) -> BotProcess | None:
        leading = [b for b in self.bots if b.alive and b.leads()]
        return leading[0] if len(leading) == 1 else None


def cluster_config(
    api: BotApiStandIn, workdir: Path, chats: dict[str, int], storage_url: str | None
) -> dict[str, Any]:
    """The config every process shares: the stand-in's, with its limits out of the way."""
    from demo import standin_config

    raw = standin_config(ROOT / "config.toml", api, workdir / "civic.db", chats)
    if storage_url is not None:
        raw["storage"]["url"] = storage_url
    raw["reports"]["max_per_hour"] = 1000
    raw["reports"]["flood_messages"] = 10_000
    raw["reports"]["duplicate_radius_m"] = 0
    raw["telegram"].update(send_rate=1000, chat_rate=1000, group_per_minute=10_000)
    raw["outbox"]["concurrency"] = len(chats)
    return raw


@asynccontextmanager
async def running_cluster(
    api: BotApiStandIn,
    workdir: Path,
    count: int,
    storage_url: str | None,
    webhook: bool = True,
    adjust: Callable[[dict[str, Any]], None] | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Cluster]:
    """`count` bot processes on one database, by webhook behind a balancer (or one
    poller), started and answering; stopped when the block ends."""
    chats = group_chats()
    for key, chat_id in chats.items():
        api.add_group(chat_id, key)
    raw = cluster_config(api, workdir, chats, storage_url)
    # One jieba cache for every run (built once, ~1 s a process otherwise).
    JIEBA_CACHE.mkdir(exist_ok=True)
    with suppress(FileExistsError):
        (workdir / "jieba-cache").symlink_to(JIEBA_CACHE, target_is_directory=True)
    if adjust is not None:
        adjust(raw)
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(BOT_TOKEN=api.token, TELEGRAM_WEBHOOK_SECRET=SECRET, **(env or {}))
    ports = [free_port() for _ in range(count)] if webhook else [None]
    balancer = Balancer([f"http://127.0.0.1:{p}" for p in ports]) if webhook else None
    if balancer is not None:
        await balancer.start()
    bots: list[BotProcess] = []
    try:
        for n, port in enumerate(ports):
            if balancer is not None:
                raw["telegram"].update(webhook_url=balancer.url + "/telegram", webhook_port=port)
            config = workdir / f"bot{n}.toml"
            config.write_bytes(tomli_w.dumps(raw).encode())
            bots.append(BotProcess(f"bot{n}", config, environ, port))
        await _until_answering(api, bots)
        yield Cluster(api, bots, balancer, storage_url)
    finally:
        for bot in bots:
            bot.stop()
        if balancer is not None:
            await balancer.stop()


async def _until_answering(api: BotApiStandIn, bots: list[BotProcess], wait: float = 120) -> None:
    """Each process listens on its port (or polls), else an error with its log's end."""
    deadline = time.monotonic() + wait
    for bot in bots:
        while True:
            if not bot.alive:
                raise RuntimeError(f"{bot.name} exited:\n{bot.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{bot.name} did not start:\n{bot.log_text()[-3000:]}")
            if bot.port is None:
                if api.calls["getUpdates"]:
                    break
            else:
                with suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", bot.port)
                    writer.close()
                    break
            await asyncio.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------- the residents


@dataclass
class Flow:
    """One report as a resident filed it (or tried to)."""

    user: int
    n: int
    filed: bool = False
    # Whether the bot handled the text and the location sent together in that order,
    # as its answers show (None: no location sent, or no answers to compare).
    in_order: bool | None = None
    replies: list[str] = field(default_factory=list)
    repeats: int = 0  # replies that came twice
    problem: str = ""
    silenced: bool = False  # the problem: no answer at all

    @property
    def marker(self) -> str:
        return marker_of(self.user, self.n)


class Residents:
    """Residents filing reports through the stand-in; what the groups got, by marker."""

    def __init__(self, api: BotApiStandIn, step_wait: float = 60) -> None:
        self.api = api
        self.step_wait = step_wait
        self.groups = set(group_chats().values())
        self.read = 0
        self.queues: dict[int, asyncio.Queue[SentMessage]] = defaultdict(asyncio.Queue)
        #: Alerts per marker, digests per group chat, as the groups got them.
        self.alerts: Counter[str] = Counter()
        self.digests: Counter[int] = Counter()
        self.flows: list[Flow] = []
        self.filed = 0
        self._last: dict[int, str | None] = {}
        self._alerted = asyncio.Event()
        self._task = asyncio.create_task(self._route())

    def close(self) -> None:
        self._task.cancel()

    async def _route(self) -> None:
        while True:
            await self.api.wait_for(lambda: len(self.api.sent) > self.read, timeout=3600)
            while self.read < len(self.api.sent):
                message = self.api.sent[self.read]
                self.read += 1
                if message.chat_id in self.groups:
                    text = message.text or ""
                    if text.startswith(DIGEST_TITLE):
                        self.digests[message.chat_id] += 1
                    for user, n in MARKER.findall(text):
                        self.alerts[marker_of(int(user), int(n))] += 1
                    self._alerted.set()
                else:
                    await self.queues[message.chat_id].put(message)

    async def alerted(self, markers: list[str], wait: float) -> bool:
        """Wait until every marker's alert reached a group; whether they all did."""
        with suppress(TimeoutError):
            async with asyncio.timeout(wait):
                while not all(self.alerts[m] for m in markers):
                    self._alerted.clear()
                    await self._alerted.wait()
        return all(self.alerts[m] for m in markers)

    async def _next(self, user: int, what: str, flow: Flow) -> SentMessage:
        """The next message to a resident, past a repeat of the one before it (an update
        handled again by another process after its first handler died)."""
        while True:
            try:
                message = await asyncio.wait_for(self.queues[user].get(), self.step_wait)
            except TimeoutError:
                raise _Stuck(f"no {what} within {self.step_wait:g} s") from None
            if message.text != self._last.get(user):
                self._last[user] = message.text
                return message
            flow.repeats += 1

    async def file(self, user: int, n: int, located: bool) -> Flow:
        """Text (and at once a location, without waiting), the card, 确认."""
        flow = Flow(user, n)
        self.flows.append(flow)
        text, category = REPORTS[(user + n) % len(REPORTS)]
        api = self.api
        try:
            api.send_text(user, f"{text} {flow.marker}")
            if located:
                api.send_location(user, *place_of(user, n))
            card = await self._next(user, "draft card", flow)
            flow.replies.append(card.text or "")
            if located:
                card = await self._next(user, "card with the location", flow)
                flow.replies.append(card.text or "")
                # In order, the text's card has the text and no location yet, and the
                # location's has both; handled before or alongside the text, the
                # location's card has no text (a draft of its own).
                first, second = flow.replies
                flow.in_order = (
                    flow.marker in first
                    and LOCATION_ADDED not in first
                    and flow.marker in second
                    and LOCATION_ADDED in second
                )
            if not any("确认" in b["text"] for b in card.buttons):
                # Not sure of the category: the resident picks it, as in the chat.
                names = [b["text"] for b in card.buttons]
                pick = next((b for b in names if category in b), None)
                if pick is None:
                    raise _Refused(f"a reply with no 确认 nor {category}: {card.text!r:.80}")
                api.press(user, card.message_id, card.button_data(pick))
                card_id = card.message_id
                try:
                    card.reply_markup = await api.wait_for(
                        lambda: _confirmable(api.message(user, card_id)), self.step_wait
                    )
                except AssertionError:
                    raise _Stuck("no 确认 after the category was picked") from None
            query = api.press(user, card.message_id, card.button_data("确认"))
            try:
                answer = await api.answer_to(query, timeout=self.step_wait)
            except AssertionError:
                raise _Stuck("no answer to 确认") from None
            if "工单号" not in (answer.get("text") or ""):
                raise _Refused(f"确认 answered without a ticket: {answer.get('text')!r}")
            flow.filed = True
            self.filed += 1
        except _Stuck as stuck:
            flow.problem = str(stuck)
            flow.silenced = not isinstance(stuck, _Refused)
        return flow

    async def resident(self, user: int, count: int, located: bool, first: int = 0) -> None:
        """File `count` reports one after another; a resident left without an answer stops
        (one refused goes on to the next report)."""
        for n in range(first, first + count):
            flow = await self.file(user, n, located)
            if flow.silenced:
                for rest in range(n + 1, first + count):
                    self.flows.append(Flow(user, rest, problem=f"not tried: {flow.problem}"))
                return


class _Stuck(Exception):
    """No answer came: the resident gives up."""


class _Refused(_Stuck):
    """An answer came, but not the one a report's flow goes on with."""


def _confirmable(message: dict[str, Any] | None) -> dict[str, Any] | None:
    """The message's keyboard once it offers 确认."""
    markup = (message or {}).get("reply_markup") or {}
    rows = markup.get("inline_keyboard", [])
    return markup if any("确认" in b["text"] for row in rows for b in row) else None
