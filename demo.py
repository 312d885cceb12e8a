"""The demo: the real bot against the local Bot API stand-in, with a web chat.

`python bot.py demo` (or `make run` without BOT_TOKEN) needs no token and no
network: open the printed address, pick a resident or a staff member, and try
the whole flow. Its database is separate from the real one.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from pathlib import Path
from typing import Any

from bot import Runtime
from settings import Settings
from simulator import BotApiStandIn

log = logging.getLogger("civic.demo")

RESIDENTS = {1001: "王小明", 1002: "李阿姨"}
ADMIN = (9001, "区创建办")
STAFF = {
    "office": (2000, "办公室小陈"),
    "supervision": (2001, "督导组老周"),
    "publicity": (2002, "宣传组小林"),
    "urban": (2003, "城管张工"),
    "order": (2004, "交警赵警官"),
    "social": (2005, "社会事业组刘老师"),
    "rural": (2006, "农村组孙书记"),
}
FIRST_GROUP_CHAT = -1001000


def demo_settings(settings: Settings) -> Settings:
    """The configured district, with demo group chats, an admin and its own database."""
    groups = {
        key: dataclasses.replace(group, chat_id=FIRST_GROUP_CHAT - i)
        for i, (key, group) in enumerate(settings.groups.items())
    }
    return dataclasses.replace(
        settings,
        groups=groups,
        admins=settings.admins | {ADMIN[0]},
        storage_path=settings.storage_path.with_name("demo.db"),
        telegram=dataclasses.replace(settings.telegram, base_url=None, poll_timeout=10),
    )


def standin_config(
    config: Path, api: BotApiStandIn, db_path: Path, group_chats: dict[str, int]
) -> dict[str, Any]:
    """A config file's content pointed at a stand-in (for tests and benchmarks).

    Relative paths become absolute, so the result can be written anywhere.
    """
    raw = tomllib.loads(config.read_text("utf-8"))
    base = config.resolve().parent
    raw["telegram"] = {"base_url": api.base_url, "base_file_url": api.base_file_url}
    raw["telegram"]["poll_timeout"] = 1
    raw["storage"]["path"] = str(db_path)
    for key in ("negations_file", "examples_dir"):
        if key in raw.get("classifier", {}):
            raw["classifier"][key] = str(base / raw["classifier"][key])
    for key, chat_id in group_chats.items():
        raw["groups"][key]["chat_id"] = chat_id
    quizzes = raw.setdefault("quizzes", {})
    quizzes["bank_dir"] = str(base / quizzes.get("bank_dir", "quizzes/bank"))
    for category in raw["categories"].values():
        if "keywords_file" in category:
            category["keywords_file"] = str(base / category["keywords_file"])
    return raw


class Demo:
    """Starts the stand-in (residents, staff, seven group chats) and the bot on it."""

    def __init__(self, settings: Settings, port: int = 8080, host: str = "127.0.0.1") -> None:
        self.settings = demo_settings(settings)
        self.api = BotApiStandIn(host=host, port=port, bot_username="civic_demo_bot")
        self.runtime: Runtime | None = None

    async def start(self) -> None:
        await self.api.start()
        for user_id, name in RESIDENTS.items():
            self.api.add_user(user_id, name)
        self.api.add_user(*ADMIN)
        for key, group in self.settings.groups.items():
            staff_id, staff_name = STAFF[key]
            self.api.add_user(staff_id, staff_name)
            self.api.add_group(group.chat_id, f"{group.name}工作群", [staff_id, ADMIN[0]])
        self.runtime = Runtime(
            self.settings,
            token=self.api.token,
            base_url=self.api.base_url,
            base_file_url=self.api.base_file_url,
        )
        await self.runtime.start()
        log.info("demo ready: open %s in a browser (Ctrl+C to stop)", self.api.web_url)
        print(f"\n  文明城区随手拍 demo: {self.api.web_url}\n", flush=True)

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
        await self.api.stop()
