"""The demo: the real bot against the local Bot API simulator, with a web chat.

`python bot.py demo` (or `make run` without BOT_TOKEN) needs no token and no
network: open the printed address, pick a resident, a staff member or the
admin, and try the whole flow. Each start begins from a fresh demo database
(`data/demo.db`, apart from the real one), seeded through the real bot with a
few residents' cases in different states, so there is something to look at.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import tomllib
from pathlib import Path
from typing import Any

from runtime import Runtime
from settings import MenuButton, Settings, WeChatSettings, WeComSettings
from simulator import BotApiStandIn, SentMessage, png
from simulator.driver import Driver
from simulator.wechat import WeChatStandIn
from simulator.wechat_web import WeChatWebView
from simulator.wecom import WeComStandIn
from simulator.wecom_web import WeComWebView
from storage.db import DatabaseUnusable

log = logging.getLogger("civic.demo")

RESIDENTS = {1001: "王小明", 1002: "李阿姨", 1003: "张大爷", 1004: "陈女士"}
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
ROLE_RESIDENT = "居民"
ROLE_STAFF = "工作组成员"
ROLE_ADMIN = "区创建办（管理员）"
FIRST_GROUP_CHAT = -1001000
# The Official Account's stand-in: its name, its case-update template and keywords, the
# residents who follow it (an older resident who speaks rather than types among them).
WECHAT_ACCOUNT = "文明城区随手拍"
WECHAT_TEMPLATE = "demo-case-update"
WECHAT_TEMPLATE_KEYWORDS = ["character_string1", "phrase2", "time3", "thing4"]
WECHAT_RESIDENTS = ("赵奶奶", "刘先生")
WECHAT_MENU = (
    MenuButton("怎么反映", key="how_to_report"),
    MenuButton("我的反映", key="my_reports"),
    MenuButton(
        "文明参与",
        sub_buttons=(
            MenuButton("每日答题", key="daily_quiz"),
            MenuButton("支持率调查", key="survey"),
        ),
    ),
)
# The working groups' WeCom app: one group there beside its Telegram chat, as a department
# with one member.
WECOM_APP = "文明创建工单"
WECOM_GROUP = "urban"
WECOM_DEPARTMENT = 5
WECOM_MEMBER = ("zhanggong", "城管张工")
CONFIRM = "确认"
# Sample spots on the web chat's map (a made-up district around the default location).
PLACES = [
    ("人民广场", 31.2304, 121.4737),
    ("幸福路菜市场", 31.2338, 121.4790),
    ("中山公园东门", 31.2271, 121.4682),
    ("学府路小学", 31.2352, 121.4701),
    ("光明小区", 31.2282, 121.4801),
    ("滨江步道", 31.2259, 121.4769),
]


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


def relocated_config(config: Path, db_path: Path) -> dict[str, Any]:
    """A config file's content with its own database, writable anywhere.

    Relative paths become absolute, so the result can be written to another folder.
    """
    raw = tomllib.loads(config.read_text("utf-8"))
    base = config.resolve().parent
    raw["storage"]["path"] = str(db_path)
    for key in ("negations_file", "examples_dir"):
        if key in raw.get("classifier", {}):
            raw["classifier"][key] = str(base / raw["classifier"][key])
    quizzes = raw.setdefault("quizzes", {})
    quizzes["bank_dir"] = str(base / quizzes.get("bank_dir", "quizzes/bank"))
    if "dir" in raw.get("faq", {}):
        raw["faq"]["dir"] = str(base / raw["faq"]["dir"])
    if "file" in raw.get("areas", {}):
        raw["areas"]["file"] = str(base / raw["areas"]["file"])
    for category in raw["categories"].values():
        if "keywords_file" in category:
            category["keywords_file"] = str(base / category["keywords_file"])
    return raw


def standin_config(
    config: Path, api: BotApiStandIn, db_path: Path, group_chats: dict[str, int]
) -> dict[str, Any]:
    """A config file's content pointed at a simulator (for tests and benchmarks)."""
    raw = relocated_config(config, db_path)
    raw["telegram"] = {"base_url": api.base_url, "base_file_url": api.base_file_url}
    raw["telegram"]["poll_timeout"] = 1
    for key, chat_id in group_chats.items():
        raw["groups"][key]["chat_id"] = chat_id
    return raw


class Walkthrough(Driver):
    """The civic verbs of a scenario: file a report, act on its alert, rate the result."""

    async def file(
        self,
        text: str,
        user: int,
        photo: bytes | None = None,
        place: tuple[float, float] | None = None,
    ) -> tuple[SentMessage, str]:
        """Report (a text, or a photo with it as caption; then a location) and confirm.

        Returns the card (now saying 已提交) and the ticket.
        """
        if photo is None:
            card = await self.say(text, user)
        else:
            card = await self.reply(user, lambda: self.api.send_photo(user, text, data=photo))
        if place is not None:
            card = await self.reply(user, lambda: self.api.send_location(user, *place))
        assert card.buttons, f"expected a draft card, got {card.text!r}"
        await self.press(user, card, CONFIRM)
        body = await self.wait_text(card, "工单号")
        return card, body.split("工单号：", 1)[1].split()[0]

    async def about(self, chat_id: int, ticket: str, label: str = "") -> SentMessage:
        """The latest bot message in a chat about a ticket with buttons (one with `label`):
        a group's alert, or the resident's rating notice."""

        def check() -> SentMessage | None:
            for sent in reversed(self.api.sent_to(chat_id)):
                if ticket in (sent.text or "") and sent.buttons and label in str(sent.buttons):
                    return sent
            return None

        return await self.api.wait_for(check, self.timeout)

    async def act_with_note(
        self, user: int, alert: SentMessage, label: str, note: str, then: str = ""
    ) -> SentMessage:
        """Press 办结/退回/转派 (then a group button), reply to the prompt; return the reply."""
        chat = alert.chat_id
        after = len(self.api.sent_to(chat))
        await self.press(user, alert, label)
        if then:
            await self.wait_button(alert, then)
            await self.press(user, alert, then)
        # The prompt asks for a reply; other messages (an alert's location) may come first.
        prompt = await self.api.wait_for(
            lambda: next(
                (m for m in self.api.sent_to(chat)[after:] if "回复" in (m.text or "")), None
            ),
            self.timeout,
        )
        return await self.say(note, user=user, chat_id=chat, reply_to_message_id=prompt.message_id)


class PortBusy(Exception):
    """The web chat's port cannot be had; says which settings choose another."""

    def __init__(self, port: int, reason: str) -> None:
        super().__init__(
            f"the demo cannot listen on 127.0.0.1:{port}: {reason}. Stop what uses that"
            " port, or choose another with [demo] port in the config or --port"
        )


class Demo:
    """Starts the simulator (residents, staff, a chat per working group) and the bot on it."""

    def __init__(self, settings: Settings, port: int | None = None, seed: bool = True) -> None:
        self.settings = demo_settings(settings)
        self.api = BotApiStandIn(
            port=settings.demo_port if port is None else port, bot_username="civic_demo_bot"
        )
        self.api.bot_user["first_name"] = "文明城区随手拍"
        self.seed_cases = seed
        self.runtime: Runtime | None = None
        # WeChat's stand-in beside Telegram's: the web chat shows its residents too.
        self.wechat = WeChatStandIn(
            templates={WECHAT_TEMPLATE: WECHAT_TEMPLATE_KEYWORDS},
            port=free_port(),  # known now: the bot's settings name it
        )
        self.settings = dataclasses.replace(self.settings, wechat=demo_wechat(self.wechat))
        self.wechat_view = WeChatWebView(
            self.wechat,
            account_name=WECHAT_ACCOUNT,
            template_titles={WECHAT_TEMPLATE: "工单进度通知"},
        )
        self.api.web_mounts.append(self.wechat_view.mount)
        # WeCom's stand-in: 城镇建设管理组 gets its alerts there too, as cards.
        self.wecom = WeComStandIn(port=free_port())
        self.settings = demo_on_wecom(self.settings, self.wecom)
        self.wecom_view = WeComWebView(self.wecom, app_name=WECOM_APP)
        self.api.web_mounts.append(self.wecom_view.mount)

    async def start(self) -> None:
        try:
            await self.api.start()
        except OSError as exc:
            raise PortBusy(self.api.port, exc.strerror or str(exc)) from exc
        await self.wechat.start()
        await self.wecom.start()
        self.api.places = list(PLACES)
        for user_id, name in RESIDENTS.items():
            self.api.add_user(user_id, name)
            self.api.roles[user_id] = ROLE_RESIDENT
        self.api.add_user(*ADMIN)
        self.api.roles[ADMIN[0]] = ROLE_ADMIN
        for i, (key, group) in enumerate(self.settings.groups.items()):
            # A group the district added beyond the plan's seven gets a member too.
            staff_id, staff_name = STAFF.get(key, (2100 + i, f"{group.name}组员"))
            self.api.add_user(staff_id, staff_name)
            self.api.roles[staff_id] = ROLE_STAFF
            self.api.add_group(group.chat_id, f"{group.name}工作群", [staff_id, ADMIN[0]])
        # The areas' leaders have started the bot (their copies show in the web chat), and
        # those on WeCom are the app's users there.
        for leader in {leader for area in self.settings.areas for leader in area.leaders}:
            if leader.telegram is not None:
                self.api.add_user(leader.telegram, leader.name)
                self.api.roles[leader.telegram] = ROLE_STAFF
            if leader.wecom is not None:
                self.wecom.add_user(leader.wecom, leader.name)
        try:
            fresh_database(self.settings.storage_path)
        except OSError as exc:
            raise DatabaseUnusable(self.settings.storage_path, exc) from exc
        self.runtime = runtime_on(self.api, self.settings)
        await self.runtime.start()
        assert self.runtime.wechat is not None
        self.wechat.callback_url = self.runtime.wechat.callback_url
        if self.runtime.wecom is not None:
            self.wecom.callback_url = self.runtime.wecom.callback_url
        for name in WECHAT_RESIDENTS:
            await self.wechat_view.follow(name)
        if self.seed_cases:
            log.info("seeding the demo with a few residents' cases through the bot")
            try:
                await self.seed()
            # The demo still works, only emptier (also when a district's groups differ).
            except (AssertionError, KeyError) as exc:
                log.warning("seeding the demo cases stopped: %s", exc)
        log.info("demo ready: open %s in a browser (Ctrl+C to stop)", self.api.web_url)
        print(f"\n  文明城区随手拍 demo: {self.api.web_url}\n", flush=True)

    async def seed(self) -> None:
        """A few residents' cases in different states, made through the real bot."""
        w = Walkthrough(self.api, timeout=15)
        groups = self.settings.groups
        urban, order = STAFF["urban"][0], STAFF["order"][0]
        wang, li, zhang, chen = RESIDENTS

        # Waiting for 城镇建设管理组, with a photo and a location.
        await w.file(
            "小区门口的垃圾堆了好几天，没人清运",
            li,
            photo=street_photo(),
            place=PLACES[4][1:],
        )
        # Accepted, being handled.
        _, ticket = await w.file("幸福路菜市场门口有流动摊贩占道经营", wang, place=PLACES[1][1:])
        alert = await w.about(groups["urban"].chat_id, ticket)
        await w.press(urban, alert, "受理")
        await w.wait_button(alert, "办结")
        # Resolved, waiting for the resident's rating.
        _, ticket = await w.file("中山公园东门的路灯坏了，晚上一片漆黑", zhang, place=PLACES[2][1:])
        alert = await w.about(groups["urban"].chat_id, ticket)
        await w.press(urban, alert, "受理")
        await w.wait_button(alert, "办结")
        await w.act_with_note(urban, alert, "办结", "已更换灯泡，今晚起恢复照明")
        await w.about(zhang, ticket, "满意")
        # Resolved and rated: closed.
        _, ticket = await w.file("人民广场路口好多人闯红灯", chen, place=PLACES[0][1:])
        alert = await w.about(groups["order"].chat_id, ticket)
        await w.press(order, alert, "受理")
        await w.wait_button(alert, "办结")
        await w.act_with_note(order, alert, "办结", "已在早晚高峰安排文明交通劝导员")
        rating = await w.about(chen, ticket, "满意")
        await w.press(chen, rating, "😊")
        # Returned to the resident with a reason.
        _, ticket = await w.file("学府路小学门口的电线杆上贴满了小广告", wang)
        alert = await w.about(groups["urban"].chat_id, ticket)
        await w.act_with_note(
            urban, alert, "退回", "请补充是哪一根电线杆（附近门牌号），我们马上派人清理"
        )
        # Waiting for 社会事业组.
        await w.file("商场里有人抽烟，没人管", chen)

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
        await self.api.stop()
        await self.wechat.stop()
        await self.wecom.stop()


def demo_wechat(wechat: WeChatStandIn) -> WeChatSettings:
    """The Official Account channel, pointed at WeChat's stand-in (its own secrets)."""
    return WeChatSettings(
        app_id=wechat.app_id,
        token=wechat.token,
        app_secret=wechat.app_secret,
        encoding_aes_key=wechat.encoding_aes_key,
        api_base_url=wechat.base_url,
        port=0,  # any free port: the stand-in is told the one bound
        templates={"case_update": WECHAT_TEMPLATE},
        menu=WECHAT_MENU,
    )


def demo_on_wecom(settings: Settings, wecom: WeComStandIn) -> Settings:
    """One working group on WeCom's stand-in too: a department there, with one member."""
    group = settings.groups.get(WECOM_GROUP)
    if group is None:  # a district without the plan's 城镇建设管理组
        return settings
    wecom.add_department(WECOM_DEPARTMENT, group.name)
    wecom.add_user(*WECOM_MEMBER, [WECOM_DEPARTMENT])
    groups = {
        **settings.groups,
        WECOM_GROUP: dataclasses.replace(group, wecom_party=WECOM_DEPARTMENT),
    }
    app = WeComSettings(
        corp_id=wecom.corp_id,
        agent_id=wecom.agent_id,
        secret=wecom.secret,
        token=wecom.token,
        encoding_aes_key=wecom.encoding_aes_key,
        api_base_url=wecom.base_url,
        port=0,  # any free port: the stand-in is told the one bound
    )
    return dataclasses.replace(settings, groups=groups, wecom=app)


def free_port() -> int:
    """A port nothing listens on now (for WeChat's stand-in, whose URL the bot is given)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def runtime_on(
    api: BotApiStandIn,
    settings: Settings,
    classifier: Any | None = None,
    poll_timeout: int | None = None,
) -> Runtime:
    """The bot, talking to the stand-in instead of Telegram (the demo, tests, benchmarks)."""
    return Runtime(
        settings,
        token=api.token,
        classifier=classifier,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        poll_timeout=poll_timeout,
    )


def fresh_database(path: Path) -> None:
    """Remove the demo database: the simulator's chats start empty, so must the cases."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def street_photo(litter: tuple[int, int, int] = (200, 60, 50)) -> bytes:
    """A small drawn street scene (sky, buildings, pavement, something left on it) as PNG."""
    width, height = 320, 240
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            if y < 70:
                pixel = (150 + y // 2, 190 + y // 4, 235)  # sky
            elif y < 150:
                block = (x // 64) % 3
                window = (x % 64) in range(12, 26) and (y % 30) in range(8, 20)
                base = ((196, 180, 160), (170, 176, 190), (205, 200, 185))[block]
                pixel = (120, 150, 190) if window else base
            elif y < 165:
                pixel = (70, 130, 70) if (x // 10) % 2 else (60, 118, 62)  # hedge
            else:
                pixel = (150, 150, 148) if (x // 40 + y // 20) % 2 else (160, 160, 158)
            if 190 < y < 215 and (60 < x < 95 or 150 < x < 170 or 220 < x < 262):
                pixel = litter
            row += bytes(pixel)
        rows.append(bytes(row))
    return png(width, height, rows)
