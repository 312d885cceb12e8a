"""A running bot against the Bot API stand-in, and short verbs for test scenarios."""

from __future__ import annotations

import asyncio
import functools
import time
import tomllib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from demo import CONFIRM as CONFIRM
from demo import Walkthrough, runtime_on
from runtime import Runtime
from settings import Settings, parse_settings
from simulator import BotApiStandIn
from simulator.server import SentMessage

ROOT = Path(__file__).resolve().parent.parent

RESIDENT = 1001
NEIGHBOUR = 1002
URBAN_STAFF = 2001
ORDER_STAFF = 2002
OUTSIDER = 3001
ADMIN = 9001
# The areas file's leaders on Telegram (areas/demo.geojson): 人民广场社区's, 人民路's, 幸福路's.
RENMIN_LEADER = 900001
RENMINLU_LEADER = 900101
XINGFULU_LEADER = 900102
# One test chat for each group of the committed config, in its order.
COMMITTED_GROUPS = tuple(tomllib.loads((ROOT / "config.toml").read_text("utf-8"))["groups"])
GROUP_CHATS = {key: -100_000 - i for i, key in enumerate(COMMITTED_GROUPS)}
T = TypeVar("T")
# In `settings_for_tests` overrides: remove the key (a group dropped from the config).
DROP: Any = object()


def settings_for_tests(
    db_path: Path, environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """The committed config with test chats, a temporary database and quick retries
    (secrets from `environ`, else none)."""
    raw = tomllib.loads((ROOT / "config.toml").read_text("utf-8"))
    raw["admins"] = [ADMIN]
    raw["storage"]["path"] = str(db_path)
    for key, chat_id in GROUP_CHATS.items():
        raw["groups"][key]["chat_id"] = chat_id
    raw["outbox"].update(retry_base_seconds=0.05, retry_max_seconds=0.2, idle_poll_seconds=0.2)
    # Paced far above Telegram's limits, so that scenarios need not wait a second per
    # message in a chat; tests of the pacing itself set Telegram's.
    raw["telegram"].update(send_rate=1000, chat_rate=1000, group_per_minute=10000)
    deep_update(raw, overrides)
    return parse_settings(raw, base_dir=ROOT, environ=environ or {})


def deep_update(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge nested tables: {"categories": {"litter": {"accept_hours": 1}}} changes one key.

    A value of `DROP` removes the key: {"groups": {"urban": DROP}}.
    """
    for key, value in changes.items():
        if value is DROP:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_update(target[key], value)
        else:
            target[key] = value


class Clock:
    """Real time plus a jump the test controls: work keeps flowing, and hours pass at once.

    Every service of the bot reads it (see `make_runtime`), so a test moves the
    bot's time forward instead of sleeping, or sets it to a chosen moment.
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set(self, moment: float) -> None:
        """From now on the clock reads `moment` (and goes on from there)."""
        self.offset = moment - time.time()


@dataclass
class World:
    """The stand-in (residents, staff, group chats) and the bot talking to it."""

    api: BotApiStandIn
    runtime: Runtime
    settings: Settings
    clock: Clock

    @property
    def db(self) -> Any:
        return self.runtime.db

    async def eventually(self, check: Callable[[], Awaitable[T]], wait: float = 5.0) -> T:
        """Poll an async condition (e.g. a database query) until it is truthy."""
        async with asyncio.timeout(wait):
            while not (value := await check()):  # noqa: ASYNC110 (a database has no event)
                await asyncio.sleep(0.02)
        return value

    async def resident_id(self, user: int = RESIDENT) -> int:
        """Our id of the resident who writes from Telegram as `user` (they must have written)."""
        async with self.db.session() as conn:
            rows = await conn.execute_fetchall(
                "SELECT id FROM residents WHERE channel = 'telegram' AND external_id = ?",
                (str(user),),
            )
        found = [int(r[0]) for r in rows]
        assert found, f"Telegram user {user} is no resident of ours"
        return found[0]

    async def run_timer_now(self, name: str) -> float:
        """Run the first job of that name on the bot's job queue now, instead of when it is
        due (the test drives the timer); return in how many seconds it was due."""
        job = await self.api.wait_for(
            lambda: next(iter(self.runtime.app.job_queue.get_jobs_by_name(name)), None)
        )
        due_in = job.next_t.timestamp() - time.time()
        job.schedule_removal()
        await job.run(self.runtime.app)
        return due_in

    async def restart(self) -> None:
        """Stop the bot and start a fresh one on the same database and stand-in."""
        await self.runtime.stop()
        self.runtime = make_runtime(self.api, self.settings, self.runtime.classifier, self.clock)
        await self.runtime.start()

    @functools.cached_property
    def driver(self) -> Walkthrough:
        return Walkthrough(self.api)

    async def say(self, text: str, user: int = RESIDENT, **kwargs: Any) -> SentMessage:
        """Send a text as a user and return the bot's first reply in that chat."""
        return await self.driver.say(text, user, **kwargs)

    async def card(self, text: str, user: int = RESIDENT) -> SentMessage:
        """Start a report with a text; return the draft card (the reply with buttons)."""
        reply = await self.say(text, user)
        assert reply.buttons, f"expected a draft card, got {reply.text!r}"
        return reply

    async def press(self, user: int, message: SentMessage, label: str) -> dict[str, Any]:
        """Press the button whose label contains `label`; return the callback answer."""
        return await self.driver.press(user, message, label)

    async def press_data(self, user: int, message: SentMessage, data: str) -> dict[str, Any]:
        """Press a button with any callback data (also forged data); return the answer."""
        return await self.driver.press_data(user, message, data)

    async def file(self, text: str, user: int = RESIDENT) -> tuple[SentMessage, str]:
        """Report and confirm; return the card (now saying 已提交) and the ticket."""
        return await self.driver.file(text, user)

    async def wait_text(self, message: SentMessage, fragment: str) -> str:
        """Wait until a bot message (after edits) contains `fragment`; return its text."""
        return await self.driver.wait_text(message, fragment)

    async def act_with_note(
        self, user: int, alert: SentMessage, label: str, note: str, then: str = ""
    ) -> SentMessage:
        """Press 办结/退回/转派 (then a group button), reply to the prompt; return the reply."""
        return await self.driver.act_with_note(user, alert, label, note, then)

    async def alert(self, group: str, after: int = 0) -> SentMessage:
        """The `after`-th message sent to a group's chat (waiting for it)."""
        return await self.api.next_sent(GROUP_CHATS[group], after=after)


def message_now(world: World, message: SentMessage) -> SentMessage:
    """A bot message as it is now, after any edits."""
    return world.driver.now(message)


def populate(api: BotApiStandIn) -> None:
    """Residents, staff, an outsider, an admin, and the seven group chats."""
    api.add_user(RESIDENT, "王小明", "xiaoming")
    api.add_user(NEIGHBOUR, "李阿姨")
    api.add_user(URBAN_STAFF, "张工", "zhang_urban")
    api.add_user(ORDER_STAFF, "赵警官")
    api.add_user(OUTSIDER, "路人甲")
    api.add_user(ADMIN, "区创建办")
    api.add_user(RENMIN_LEADER, "人民广场社区书记")
    api.add_user(RENMINLU_LEADER, "王副区长")
    api.add_user(XINGFULU_LEADER, "李副区长")
    for key, chat_id in GROUP_CHATS.items():
        members = {"urban": [URBAN_STAFF], "order": [ORDER_STAFF]}.get(key, [])
        api.add_group(chat_id, f"{key} 工作群", members)


def make_runtime(
    api: BotApiStandIn, settings: Settings, classifier: Any, clock: Clock | None = None
) -> Runtime:
    """A bot for the stand-in; with a clock, every service and cache tells time by it."""
    runtime = runtime_on(api, settings, classifier, poll_timeout=1)
    if clock is not None:
        d = runtime.deps
        timed = (runtime.reports.shared, runtime.outbox, d.pushes, d.quizzes, d.surveys, d.members)
        for service in timed:
            service.clock = clock
        if runtime.wechat is not None:
            runtime.wechat_outbox.clock = clock
        if runtime.wecom is not None:
            runtime.wecom_outbox.clock = clock
    return runtime
