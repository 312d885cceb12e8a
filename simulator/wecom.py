"""A local stand-in for WeCom (企业微信): a self-built app and the group robots.

``WeComStandIn`` plays both sides of WeCom for tests and the demo:

- the API the bot calls (``/cgi-bin/gettoken``, ``message/send``,
  ``message/update_template_card``, temporary media, the contacts, the group robot's
  ``webhook/send``), answering as WeCom does: HTTP 200 with ``{"errcode", "errmsg"}``,
  WeCom's codes, and its errmsg texts followed by ``hint`` and ``more info``;
- WeCom's servers posting members' card presses (``template_card_event``) and texts to
  the app's callback URL, always encrypted and signed (``msg_signature``), retried when
  the bot does not answer in time, the bot's encrypted passive reply checked and applied.

Time is the stand-in's ``clock``, so a test moves it instead of sleeping.

What WeCom documents and the stand-in enforces (developer.work.weixin.qq.com):
- access_token lives 7200 s; asking again while it lives returns the same token.
- message/send: ``touser`` "a|b" (or "@all", at most 1000), ``toparty`` and ``totag``
  (at most 100 each); unknown recipients come back in ``invaliduser`` / ``invalidparty``
  / ``invalidtag``, and if none is valid the send fails with 81013. A text is cut at
  2048 bytes; a markdown message holds at most 2048 bytes.
- template cards: ``task_id`` of digits, letters and ``_-@``, at most 128 bytes, unique
  within the app; ``horizontal_content_list`` at most 6; a ``button_interaction`` card
  has 1-6 buttons, each a text and a unique key of at most 1024 bytes.
- a callback-able card's send returns one ``response_code`` (for the whole message, not
  per recipient) and every press calls back with a fresh one; each updates the card
  once (for the given ``userids`` / ``partyids`` / ``tagids`` or ``atall``) within 72 h,
  after which ``update_template_card`` answers 60140 (无效的response_code).
- group robots: 20 messages a minute each (45009 beyond); markdown at most 4096 bytes,
  text at most 2048; an unknown key is 93000.
- 60020 (not allow to access from your ip) refuses every call made with an access
  token while the caller's IP is not trusted; fetching the token still works.
- callbacks: ``msg_signature`` = SHA-1 of the sorted token, timestamp, nonce and the
  ciphertext; the body carries ToUserName (the corp id), AgentID and Encrypt. WeCom
  waits 5 s for an answer, then tries again (3 attempts in all); any HTTP status but
  200 counts as a failure and is retried too. The URL check's ``echostr`` is itself
  encrypted: the bot answers its plaintext.

Where WeCom's documentation is silent the stand-in chooses, and says so: a reused
``task_id`` is refused with 42014 (task_id不合法); an unknown API path answers HTTP 404.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import re
import secrets
import socket
import time
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import aiohttp
from aiohttp import web
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from simulator.wechat import parse_xml, signature

JSON = dict[str, Any]
T = TypeVar("T")

_LOG = logging.getLogger("simulator.wecom")
_WAIT_TICK = 0.01

TOKEN_LIFETIME = 7200.0
RESPONSE_CODE_LIFETIME = 72 * 3600.0
MEDIA_LIFETIME = 3 * 24 * 3600.0
MAX_TEXT_BYTES = 2048
MAX_MARKDOWN_BYTES = 2048
MAX_TOUSER = 1000
MAX_TOPARTY = 100
MAX_TOTAG = 100
MAX_UPDATE_USERIDS = 1000
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_MEDIA_BYTES = 5
ROBOT_PER_MINUTE = 20
ROBOT_MARKDOWN_BYTES = 4096
ROBOT_TEXT_BYTES = 2048
CARD_TYPES = frozenset(
    {"text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"}
)
CALLBACK_CARD_TYPES = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
MAX_HORIZONTAL = 6
MAX_BUTTONS = 6
MAX_BUTTON_KEY_BYTES = 1024
MAX_TASK_ID_BYTES = 128
_TASK_ID = re.compile(r"[0-9A-Za-z_\-@]+")
_MESSAGE_TYPES = frozenset({"text", "image", "markdown", "template_card"})

# WeCom's errmsg texts (WeCom appends ", hint: [...], from ip: ..., more info at ...").
ERRMSG = {
    -1: "system busy",
    40001: "invalid credential",
    40004: "invalid media type",
    40005: "invalid type",
    40006: "invalid file size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    40058: "invalid Request Parameter",
    40068: "invalid tagid",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41006: "media_id missing",
    42001: "access_token expired",
    42014: "invalid task_id",
    43001: "require GET method",
    43002: "require POST method",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    60020: "not allow to access from your ip",
    60111: "userid not found",
    60123: "invalid party id",
    60140: "invalid response_code",
    81013: "user & party & tag all invalid",
    93000: "invalid webhook url",
}


class WeComError(Exception):
    """An error answer of the WeCom API (rendered as errcode/errmsg)."""

    def __init__(self, errcode: int, detail: str | None = None) -> None:
        self.errcode = errcode
        base = ERRMSG.get(errcode, "unknown error")
        self.errmsg = f"{base}: {detail}" if detail else base
        super().__init__(f"{errcode} {self.errmsg}")


class CallbackError(Exception):
    """The bot's callback answered in a way WeCom would not accept."""


class StaffError(AssertionError):
    """A member tried what WeCom's client would not let them do (a greyed-out button)."""


@dataclass
class CardUpdate:
    """One change to a member's card: new button text, or a whole new card."""

    time: float
    via: Literal["api", "reply"]
    replace_name: str | None = None
    card: JSON | None = None


@dataclass
class Delivered:
    """A message that reached a member through the app (its card kept up to date)."""

    userid: str
    msgtype: str
    payload: JSON
    time: float
    msgid: str
    via: Literal["send", "reply"] = "send"
    task_id: str | None = None
    #: The card as the member sees it now (after every update).
    card: JSON | None = None
    #: Set when an update greyed the buttons out: the text they show instead.
    replace_name: str | None = None
    updates: list[CardUpdate] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """What the member reads: a text or markdown's content, a card's title and lines."""
        if self.msgtype in ("text", "markdown"):
            return str(self.payload.get("content", ""))
        if self.card is not None:
            lines = [str(self.card.get("main_title", {}).get("title", ""))]
            lines.append(str(self.card.get("main_title", {}).get("desc", "")))
            lines.append(str(self.card.get("sub_title_text", "")))
            for row in self.card.get("horizontal_content_list", []):
                lines.append(f"{row.get('keyname', '')}：{row.get('value', '')}")
            return "\n".join(line for line in lines if line)
        return None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """The (text, key) of the card's buttons still pressable (none once greyed out)."""
        if self.card is None or self.replace_name is not None:
            return []
        return [
            (str(b.get("text", "")), str(b.get("key", "")))
            for b in self.card.get("button_list", [])
            if int(b.get("type", 0) or 0) == 0
        ]

    @property
    def pressable(self) -> bool:
        return bool(self.buttons)

    def button_key(self, label: str) -> str:
        """The key of the first pressable button whose text contains ``label``."""
        for text, key in self.buttons:
            if label in text:
                return key
        shown = self.replace_name if self.replace_name is not None else self.buttons
        raise StaffError(f"no pressable button {label!r} on the card; it shows {shown!r}")


@dataclass
class Posted:
    """A press or a text a member posted to the bot (once, however often it was retried)."""

    userid: str
    fields: JSON
    time: float
    after: int  # how many messages had reached members before it

    @property
    def msgtype(self) -> str:
        return str(self.fields.get("MsgType", ""))


@dataclass
class ApiCall:
    """One API request the bot made, and the errcode it got (0 for success)."""

    path: str
    query: dict[str, str]
    body: Any
    errcode: int
    time: float


@dataclass
class CallbackAttempt:
    """One POST the stand-in made to the bot's callback URL."""

    userid: str
    query: dict[str, str]
    body: str
    plain: str
    status: int | None
    answer: str | None
    seconds: float | None = None  # to the bot's whole answer (None: no answer came)


@dataclass
class RobotMessage:
    """A message a group robot posted in its group chat."""

    key: str
    msgtype: str
    content: str
    time: float


@dataclass
class Media:
    """A temporary media file the bot uploaded."""

    media_id: str
    kind: str
    data: bytes
    extension: str
    created_at: float

    @property
    def content_type(self) -> str:
        return "image/png" if self.extension == "png" else "image/jpeg"


@dataclass
class Member:
    userid: str
    name: str
    departments: list[int]


@dataclass
class _Tag:
    name: str
    userids: list[str]
    parties: list[int]


@dataclass
class _Task:
    """A callback-able card sent once, and who got it."""

    task_id: str
    card_type: str
    recipients: list[str]
    deliveries: dict[str, Delivered]


@dataclass
class _Code:
    task_id: str
    expires_at: float
    used: bool = False


@dataclass
class _Failure:
    errcode: int
    remaining: int


class _Signal:
    """Wakes every waiter on each ``notify()``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class RawXml(str):
    """An XML fragment put into a message as is."""


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: list[tuple[str, str | int]]) -> str:
    """An XML message as WeCom writes it: strings in CDATA, numbers bare."""
    parts = ["<xml>"]
    for name, value in fields:
        if isinstance(value, RawXml):
            text = str(value)
        elif isinstance(value, str):
            text = _cdata(value)
        else:
            text = str(value)
        parts.append(f"<{name}>{text}</{name}>")
    parts.append("</xml>")
    return "".join(parts)


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    return None


def _split(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split("|") if part.strip()]


def _require(condition: bool, detail: str) -> None:
    if not condition:
        raise WeComError(40058, detail)


def validate_card(card: Any, require_task_id: bool = True) -> str:
    """Check a ``template_card`` as WeCom does; returns its card_type."""
    _require(isinstance(card, dict), "template_card must be an object")
    card_type = card.get("card_type")
    _require(card_type in CARD_TYPES, f"template_card.card_type invalid: {card_type!r}")
    task_id = card.get("task_id")
    if task_id is not None or (require_task_id and card_type in CALLBACK_CARD_TYPES):
        if (
            not isinstance(task_id, str)
            or not _TASK_ID.fullmatch(task_id)
            or _utf8_len(task_id) > MAX_TASK_ID_BYTES
        ):
            raise WeComError(42014, f"task_id {task_id!r}")
    main_title = card.get("main_title")
    if main_title is not None:
        _require(isinstance(main_title, dict), "template_card.main_title must be an object")
    rows = card.get("horizontal_content_list", [])
    _require(isinstance(rows, list), "template_card.horizontal_content_list must be a list")
    _require(
        len(rows) <= MAX_HORIZONTAL,
        f"template_card.horizontal_content_list exceed max size {MAX_HORIZONTAL}",
    )
    for row in rows:
        _require(isinstance(row, dict), "horizontal_content_list item must be an object")
        _require(
            isinstance(row.get("keyname"), str) and bool(row["keyname"]),
            "horizontal_content_list.keyname missing",
        )
        kind = int(row.get("type", 0) or 0)
        _require(kind in (0, 1, 2, 3), "horizontal_content_list.type invalid")
        needed = {1: "url", 2: "media_id", 3: "userid"}.get(kind)
        if needed:
            _require(bool(row.get(needed)), f"horizontal_content_list.{needed} missing")
    if card_type == "button_interaction":
        _require(
            isinstance(main_title, dict) and bool(main_title.get("title")),
            "template_card.main_title.title missing",
        )
        _validate_buttons(card.get("button_list"))
    elif card_type == "text_notice":
        has_title = isinstance(main_title, dict) and bool(main_title.get("title"))
        _require(has_title or bool(card.get("sub_title_text")), "main_title.title missing")
        action = card.get("card_action")
        _require(
            isinstance(action, dict) and int(action.get("type", 0) or 0) in (1, 2),
            "template_card.card_action missing",
        )
    return str(card_type)


def _validate_buttons(buttons: Any) -> None:
    _require(isinstance(buttons, list) and bool(buttons), "template_card.button_list missing")
    _require(
        len(buttons) <= MAX_BUTTONS, f"template_card.button_list exceed max size {MAX_BUTTONS}"
    )
    keys: set[str] = set()
    for button in buttons:
        _require(isinstance(button, dict), "button_list item must be an object")
        _require(
            isinstance(button.get("text"), str) and bool(button["text"]), "button_list.text missing"
        )
        kind = int(button.get("type", 0) or 0)
        _require(kind in (0, 1), "button_list.type invalid")
        if kind == 1:
            _require(isinstance(button.get("url"), str) and bool(button["url"]), "button_list.url")
            continue
        key = button.get("key")
        _require(isinstance(key, str) and bool(key), "button_list.key missing")
        assert isinstance(key, str)
        _require(
            _utf8_len(key) <= MAX_BUTTON_KEY_BYTES,
            f"button_list.key exceed max length {MAX_BUTTON_KEY_BYTES}",
        )
        _require(key not in keys, f"button_list.key duplicated: {key!r}")
        keys.add(key)


class WeComStandIn:
    """An in-process stand-in for a WeCom corp's self-built app (module docstring)."""

    def __init__(
        self,
        corp_id: str = "ww5e1d2c3b4a596870",
        secret: str = "Wc0f1e2d3c4b5a69788796a5b4c3d2e1f0Sec",
        agent_id: int = 1000002,
        token: str = "civicWeComCallback2026",
        encoding_aes_key: str = "zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUT",
        callback_url: str | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_timeout: float = 5.0,
        callback_attempts: int = 3,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.token = token
        self.encoding_aes_key = encoding_aes_key
        self.callback_url = callback_url
        self.clock = clock
        self.host = host
        self.port = port
        #: WeCom waits 5 s for an answer, then tries again (3 attempts in all).
        self.callback_timeout = callback_timeout
        self.callback_attempts = callback_attempts

        # Inspection.
        self.calls: list[ApiCall] = []
        self.call_counts: Counter[str] = Counter()
        self.token_requests = 0
        self.delivered: list[Delivered] = []
        self.attempts: list[CallbackAttempt] = []
        self.posted: list[Posted] = []
        self.robot_messages: list[RobotMessage] = []

        self._members: dict[str, Member] = {}
        self._departments: dict[int, tuple[str, int | None]] = {1: ("本单位", None)}
        self._tags: dict[int, _Tag] = {}
        self._robots: dict[str, deque[float]] = {}
        self._token: tuple[str, float] | None = None  # (value, expires_at)
        self._expired: set[str] = set()
        self._ip_blocked = False
        self._tasks: dict[str, _Task] = {}
        self._codes: dict[str, _Code] = {}
        self._media: dict[str, Media] = {}
        self._failures: dict[str, _Failure] = {}
        self._rate_limits: dict[str, tuple[int, deque[float]]] = {}
        self._msg_ids = itertools.count(7_000_000_000_000_000_000 + secrets.randbelow(10**12))
        self._signal: _Signal | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)
        self._key = base64.b64decode(encoding_aes_key + "=")

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Where the bot's WeComClient points (instead of https://qyapi.weixin.qq.com)."""
        return f"http://{self.host}:{self.port}"

    def build_app(self) -> web.Application:
        """The aiohttp application of the API side."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        return app

    async def start(self) -> None:
        """Bind and serve on 127.0.0.1 (an ephemeral port with ``port=0``)."""
        if self._runner is not None:
            raise RuntimeError("stand-in already started")
        self._signal = _Signal()
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._session = aiohttp.ClientSession()
        _LOG.info("WeCom stand-in listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving and posting."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _notify(self) -> None:
        if self._signal is not None:
            self._signal.notify()

    # ------------------------------------------------------------------ test hooks

    def add_department(self, department_id: int, name: str, parent: int | None = 1) -> None:
        """Add a department (1 is the corp itself, there from the start)."""
        self._departments[department_id] = (name, parent)

    def add_user(self, userid: str, name: str, departments: list[int] | None = None) -> None:
        """Add a member of the corp, in ``departments`` (default: the corp itself)."""
        for department in departments or [1]:
            self._departments.setdefault(department, (f"部门{department}", 1))
        self._members[userid] = Member(userid, name, list(departments or [1]))

    def add_tag(
        self, tag_id: int, name: str, userids: list[str], parties: list[int] | None = None
    ) -> None:
        """Add a tag on these members (and departments)."""
        self._tags[tag_id] = _Tag(name, list(userids), list(parties or []))

    def add_robot(self, key: str) -> str:
        """Add a group robot; returns its webhook key."""
        self._robots.setdefault(key, deque())
        return key

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` ("message/send") with ``errcode``."""
        self._failures[self._api_path(path)] = _Failure(errcode, times)

    def limit_rate(self, path: str, per_minute: int) -> None:
        """Answer 45009 to calls of ``path`` beyond ``per_minute`` in any 60 s."""
        self._rate_limits[self._api_path(path)] = (per_minute, deque())

    def block_ip(self, blocked: bool = True) -> None:
        """Whether the bot's IP is outside the app's trusted IPs (60020 while it is)."""
        self._ip_blocked = blocked

    def expire_tokens(self) -> None:
        """The access token issued so far is past its lifetime (42001 from now on)."""
        if self._token is not None:
            self._expired.add(self._token[0])
            self._token = None

    def members(self) -> list[Member]:
        """Every member of the corp's contacts, in the order they were added."""
        return list(self._members.values())

    def department_name(self, department_id: int) -> str:
        """A department's name ("" if there is none by that id)."""
        entry = self._departments.get(department_id)
        return entry[0] if entry else ""

    def sent_to(self, userid: str) -> list[Delivered]:
        """What reached ``userid``, oldest first; cards as they look now."""
        return [d for d in self.delivered if d.userid == userid]

    def robot_sent(self, key: str) -> list[RobotMessage]:
        """What the robot ``key`` posted in its group, oldest first."""
        return [m for m in self.robot_messages if m.key == key]

    def posted_by(self, userid: str) -> list[Posted]:
        """What ``userid`` posted to the bot, oldest first."""
        return [p for p in self.posted if p.userid == userid]

    def card(self, userid: str, task_id: str) -> Delivered:
        """The card of ``task_id`` as ``userid`` has it."""
        task = self._tasks.get(task_id)
        if task is None or userid not in task.deliveries:
            raise KeyError(f"{userid} has no card {task_id!r}")
        return task.deliveries[userid]

    def media(self, media_id: str) -> Media | None:
        """An uploaded file still kept, if any."""
        try:
            return self._live_media(media_id)
        except WeComError:
            return None

    def calls_to(self, path: str) -> list[ApiCall]:
        """The bot's calls of one API path."""
        wanted = self._api_path(path)
        return [c for c in self.calls if c.path == wanted]

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every call and every 10 ms)."""
        if self._signal is None:
            raise RuntimeError("stand-in not started")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value is not None and value is not False and bool(value):
                return value  # type: ignore[return-value]
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [f"{c.path} -> {c.errcode}" for c in self.calls[-8:]]
                raise AssertionError(f"condition not met within {timeout}s; last calls: {recent}")
            await self._signal.wait(min(remaining, _WAIT_TICK))

    async def next_sent(
        self,
        userid: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int | None = None,
    ) -> Delivered:
        """Wait for the next message to reach ``userid`` (after ``after`` already there)."""
        skip = len(self.sent_to(userid)) if after is None else after

        def check() -> Delivered | None:
            sent = self.sent_to(userid)
            return sent[skip] if len(sent) > skip else None

        return await self.wait_for(check, timeout)

    def member(self, userid: str) -> WeComMember:
        """A member on WeCom, to press cards and write as."""
        return WeComMember(self, userid)

    # ------------------------------------------------------------------ the API side

    @staticmethod
    def _api_path(path: str) -> str:
        path = path.strip("/")
        return path if path.startswith("cgi-bin/") else f"cgi-bin/{path}"

    def _answer(self, body: JSON) -> web.Response:
        text = json.dumps(body, ensure_ascii=False)
        return web.Response(text=text, headers={"Content-Type": "application/json; charset=UTF-8"})

    def _error_body(self, error: WeComError) -> JSON:
        hint = f"{int(self.clock())}{secrets.randbelow(10**12):012d}"
        errmsg = (
            f"{error.errmsg}, hint: [{hint}], from ip: {self.host}, "
            f"more info at https://open.work.weixin.qq.com/devtool/query?e={error.errcode}"
        )
        return {"errcode": error.errcode, "errmsg": errmsg}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"].strip("/")
        query = dict(request.query)
        raw = b"" if request.content_type.startswith("multipart/") else await request.read()
        route = self._routes().get(path)
        errcode = 0
        try:
            if route is None:
                errcode = 404
                return web.Response(status=404, text="404 page not found")
            method, handler, authenticated = route
            if request.method != method:
                raise WeComError(43001 if method == "GET" else 43002)
            if authenticated:
                self._check_token(query)
                if self._ip_blocked:
                    raise WeComError(60020)
            self._check_rate(path)
            failure = self._failures.get(path)
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    del self._failures[path]
                raise WeComError(failure.errcode)
            return await handler(request, query, raw)
        except WeComError as error:
            errcode = error.errcode
            return self._answer(self._error_body(error))
        finally:
            body: Any = raw[:2000].decode("utf-8", "replace")
            self.calls.append(ApiCall(path, query, body, errcode, self.clock()))
            self.call_counts[path] += 1
            self._notify()

    def _routes(
        self,
    ) -> dict[
        str, tuple[str, Callable[[web.Request, dict[str, str], bytes], Awaitable[Any]], bool]
    ]:
        # (method, handler, needs an access token)
        return {
            "cgi-bin/gettoken": ("GET", self._gettoken, False),
            "cgi-bin/message/send": ("POST", self._message_send, True),
            "cgi-bin/message/update_template_card": ("POST", self._update_card, True),
            "cgi-bin/media/upload": ("POST", self._media_upload, True),
            "cgi-bin/media/get": ("GET", self._media_get, True),
            "cgi-bin/user/get": ("GET", self._user_get, True),
            "cgi-bin/user/simplelist": ("GET", self._user_simplelist, True),
            "cgi-bin/tag/get": ("GET", self._tag_get, True),
            "cgi-bin/webhook/send": ("POST", self._webhook_send, False),
        }

    def _check_rate(self, path: str) -> None:
        limit = self._rate_limits.get(path)
        if limit is None:
            return
        per_minute, times = limit
        if not self._within_rate(times, per_minute):
            raise WeComError(45009)

    def _within_rate(self, times: deque[float], per_minute: int) -> bool:
        """Count one call in a 60 s sliding window; False when it is one too many."""
        now = self.clock()
        while times and times[0] <= now - 60.0:
            times.popleft()
        if len(times) >= per_minute:
            return False
        times.append(now)
        return True

    def _check_token(self, query: dict[str, str]) -> None:
        value = query.get("access_token")
        if not value:
            raise WeComError(41001)
        if value in self._expired:
            raise WeComError(42001)
        if self._token is None or value != self._token[0]:
            raise WeComError(40014)
        if self.clock() >= self._token[1]:
            self._expired.add(value)
            self._token = None
            raise WeComError(42001)

    @staticmethod
    def _json_body(raw: bytes) -> JSON:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WeComError(40058, "Warning: wrong json format.") from None
        if not isinstance(body, dict):
            raise WeComError(40058, "Warning: wrong json format.")
        return body

    async def _gettoken(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self.token_requests += 1
        if not query.get("corpid"):
            raise WeComError(41002)
        if query["corpid"] != self.corp_id:
            raise WeComError(40013)
        if not query.get("corpsecret"):
            raise WeComError(41004)
        if query["corpsecret"] != self.secret:
            raise WeComError(40001)
        now = self.clock()
        if self._token is None or now >= self._token[1]:
            if self._token is not None:
                self._expired.add(self._token[0])
            self._token = (secrets.token_urlsafe(144), now + TOKEN_LIFETIME)
        value, expires_at = self._token
        return self._answer(
            {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": value,
                "expires_in": int(expires_at - now),
            }
        )

    # messages

    def _department_tree(self, department_id: int) -> set[int]:
        found = {department_id}
        changed = True
        while changed:
            changed = False
            for child, (_, parent) in self._departments.items():
                if parent in found and child not in found:
                    found.add(child)
                    changed = True
        return found

    def _department_members(self, department_id: int, recursive: bool) -> list[str]:
        wanted = self._department_tree(department_id) if recursive else {department_id}
        return [m.userid for m in self._members.values() if wanted & set(m.departments)]

    def _recipients(self, body: JSON) -> tuple[list[str], JSON]:
        """The members a send reaches, and WeCom's invaliduser/invalidparty/invalidtag."""
        users, parties, tags = _split(body.get("touser")), _split(body.get("toparty")), []
        tags = _split(body.get("totag"))
        _require(len(users) <= MAX_TOUSER, f"touser exceed max size {MAX_TOUSER}")
        _require(len(parties) <= MAX_TOPARTY, f"toparty exceed max size {MAX_TOPARTY}")
        _require(len(tags) <= MAX_TOTAG, f"totag exceed max size {MAX_TOTAG}")
        reached: list[str] = []
        invalid: JSON = {"invaliduser": [], "invalidparty": [], "invalidtag": []}

        def reach(userid: str) -> None:
            if userid not in reached:
                reached.append(userid)

        if users == ["@all"]:
            for userid in self._members:
                reach(userid)
        else:
            for userid in users:
                if userid in self._members:
                    reach(userid)
                else:
                    invalid["invaliduser"].append(userid.lower())
        for party in parties:
            if party.isdigit() and int(party) in self._departments:
                for userid in self._department_members(int(party), recursive=True):
                    reach(userid)
            else:
                invalid["invalidparty"].append(party)
        for tag_text in tags:
            tag = self._tags.get(int(tag_text)) if tag_text.isdigit() else None
            if tag is None:
                invalid["invalidtag"].append(tag_text)
                continue
            for userid in tag.userids:
                if userid in self._members:
                    reach(userid)
            for party in tag.parties:
                for userid in self._department_members(party, recursive=True):
                    reach(userid)
        if not reached:
            raise WeComError(81013)
        return reached, {k: "|".join(v) for k, v in invalid.items()}

    def _check_agent(self, body: JSON) -> None:
        agent = body.get("agentid")
        if isinstance(agent, str) and agent.isdigit():
            agent = int(agent)
        if agent != self.agent_id:
            raise WeComError(40056)

    async def _message_send(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        body = self._json_body(raw)
        msgtype = body.get("msgtype")
        if msgtype not in _MESSAGE_TYPES:
            raise WeComError(40008)
        self._check_agent(body)
        payload = body.get(msgtype)
        if not isinstance(payload, dict):
            raise WeComError(40058, f"{msgtype} missing")
        payload = dict(payload)
        card_type: str | None = None
        if msgtype == "text":
            content = payload.get("content")
            if not isinstance(content, str) or not content:
                raise WeComError(44004)
            # WeCom cuts a long text rather than refusing it.
            payload["content"] = _cut_utf8(content, MAX_TEXT_BYTES)
        elif msgtype == "markdown":
            content = payload.get("content")
            if not isinstance(content, str) or not content:
                raise WeComError(44004)
            if _utf8_len(content) > MAX_MARKDOWN_BYTES:
                raise WeComError(45002)
        elif msgtype == "image":
            media_id = payload.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise WeComError(41006)
            self._live_media(media_id)
        else:
            card_type = validate_card(payload)
            if card_type in CALLBACK_CARD_TYPES and payload["task_id"] in self._tasks:
                raise WeComError(42014, f"task_id {payload['task_id']!r} exists")
        recipients, invalid = self._recipients(body)
        msgid = secrets.token_urlsafe(32)
        now = self.clock()
        answer: JSON = {"errcode": 0, "errmsg": "ok", **invalid, "msgid": msgid}
        if msgtype == "template_card":
            task_id = payload.get("task_id")
            deliveries = {}
            for userid in recipients:
                delivered = Delivered(
                    userid, msgtype, payload, now, msgid, task_id=task_id, card=dict(payload)
                )
                deliveries[userid] = delivered
                self.delivered.append(delivered)
            if card_type in CALLBACK_CARD_TYPES:
                assert isinstance(task_id, str) and card_type is not None
                self._tasks[task_id] = _Task(task_id, card_type, recipients, deliveries)
                answer["response_code"] = self._issue_code(task_id)
        else:
            for userid in recipients:
                self.delivered.append(Delivered(userid, msgtype, payload, now, msgid))
        return self._answer(answer)

    def _issue_code(self, task_id: str) -> str:
        code = secrets.token_urlsafe(48)
        self._codes[code] = _Code(task_id, self.clock() + RESPONSE_CODE_LIFETIME)
        return code

    def _spend_code(self, code: Any) -> _Task:
        """The task a response code updates, the code spent (60140 if it cannot be)."""
        entry = self._codes.get(code) if isinstance(code, str) else None
        if entry is None or entry.used or self.clock() >= entry.expires_at:
            raise WeComError(60140)
        entry.used = True
        return self._tasks[entry.task_id]

    async def _update_card(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        body = self._json_body(raw)
        self._check_agent(body)
        button = body.get("button")
        card = body.get("template_card")
        if (button is None) == (card is None):
            raise WeComError(40058, "one of button and template_card is required")
        if button is not None:
            name = button.get("replace_name") if isinstance(button, dict) else None
            _require(isinstance(name, str) and bool(name), "button.replace_name missing")
        else:
            validate_card(card, require_task_id=False)
        userids = body.get("userids", [])
        _require(isinstance(userids, list), "userids must be a list")
        _require(len(userids) <= MAX_UPDATE_USERIDS, "userids exceed max size 1000")
        task = self._spend_code(body.get("response_code"))
        targets: list[str] = []
        if int(body.get("atall", 0) or 0) == 1:
            targets = list(task.recipients)
        else:
            wanted = set(map(str, userids))
            for party in body.get("partyids", []) or []:
                wanted.update(self._department_members(int(party), recursive=True))
            for tag_id in body.get("tagids", []) or []:
                tag = self._tags.get(int(tag_id))
                wanted.update(tag.userids if tag else [])
            targets = [u for u in task.recipients if u in wanted]
        invalid = [u for u in map(str, userids) if u not in task.recipients]
        update = CardUpdate(
            self.clock(),
            "api",
            replace_name=button.get("replace_name") if isinstance(button, dict) else None,
            card=dict(card) if isinstance(card, dict) else None,
        )
        for userid in targets:
            self._apply(task.deliveries[userid], update)
        self._notify()
        return self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": invalid})

    @staticmethod
    def _apply(delivered: Delivered, update: CardUpdate) -> None:
        delivered.updates.append(update)
        if update.card is not None:
            delivered.card = dict(update.card)
            delivered.replace_name = None
        else:
            delivered.replace_name = update.replace_name

    # media

    def _live_media(self, media_id: str) -> Media:
        media = self._media.get(media_id)
        if media is None or self.clock() >= media.created_at + MEDIA_LIFETIME:
            raise WeComError(40007)
        return media

    async def _media_upload(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        kind = query.get("type", "")
        if kind not in ("image", "voice", "video", "file"):
            raise WeComError(40005)
        if kind != "image":
            raise WeComError(40005, "the stand-in keeps images only")
        if request.content_type != "multipart/form-data":
            raise WeComError(40058, "media missing")
        try:
            form = await request.post()
        except ValueError:
            raise WeComError(40058, "media missing") from None
        upload = form.get("media")
        if not isinstance(upload, web.FileField):
            raise WeComError(40058, "media missing")
        data = upload.file.read()
        if len(data) < MIN_MEDIA_BYTES:
            raise WeComError(40006)
        extension = _sniff_image(data)
        if extension is None:
            raise WeComError(40004)
        if len(data) > MAX_IMAGE_BYTES:
            raise WeComError(40009)
        media = Media(secrets.token_urlsafe(48), kind, data, extension, self.clock())
        self._media[media.media_id] = media
        return self._answer(
            {
                "errcode": 0,
                "errmsg": "",
                "type": kind,
                "media_id": media.media_id,
                "created_at": str(int(media.created_at)),
            }
        )

    async def _media_get(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        media_id = query.get("media_id")
        if not media_id:
            raise WeComError(41006)
        media = self._live_media(media_id)
        return web.Response(
            body=media.data,
            headers={
                "Content-Type": media.content_type,
                "Content-disposition": f'attachment; filename="{media.media_id}.{media.extension}"',
            },
        )

    # contacts

    async def _user_get(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        member = self._members.get(query.get("userid", ""))
        if member is None:
            raise WeComError(60111, f"invalid string value `{query.get('userid', '')}`")
        return self._answer(
            {
                "errcode": 0,
                "errmsg": "ok",
                "userid": member.userid,
                "name": member.name,
                "department": member.departments,
                "status": 1,
            }
        )

    async def _user_simplelist(
        self, request: web.Request, query: dict[str, str], raw: bytes
    ) -> Any:
        text = query.get("department_id", "")
        if not text.isdigit() or int(text) not in self._departments:
            raise WeComError(60123)
        recursive = query.get("fetch_child") == "1"
        userlist = [
            {
                "userid": self._members[u].userid,
                "name": self._members[u].name,
                "department": self._members[u].departments,
            }
            for u in self._department_members(int(text), recursive)
        ]
        return self._answer({"errcode": 0, "errmsg": "ok", "userlist": userlist})

    async def _tag_get(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        text = query.get("tagid", "")
        tag = self._tags.get(int(text)) if text.isdigit() else None
        if tag is None:
            raise WeComError(40068)
        userlist = [
            {"userid": u, "name": self._members[u].name} for u in tag.userids if u in self._members
        ]
        return self._answer(
            {
                "errcode": 0,
                "errmsg": "ok",
                "tagname": tag.name,
                "userlist": userlist,
                "partylist": tag.parties,
            }
        )

    # the group robot

    async def _webhook_send(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        key = query.get("key", "")
        times = self._robots.get(key)
        if times is None:
            raise WeComError(93000)
        body = self._json_body(raw)
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "markdown"):
            raise WeComError(40008)
        payload = body.get(msgtype)
        content = payload.get("content") if isinstance(payload, dict) else None
        if not isinstance(content, str) or not content:
            raise WeComError(44004)
        limit = ROBOT_MARKDOWN_BYTES if msgtype == "markdown" else ROBOT_TEXT_BYTES
        if _utf8_len(content) > limit:
            raise WeComError(40058, f"{msgtype}.content exceed max length {limit}")
        if not self._within_rate(times, ROBOT_PER_MINUTE):
            raise WeComError(45009)
        self.robot_messages.append(RobotMessage(key, msgtype, content, self.clock()))
        return self._answer({"errcode": 0, "errmsg": "ok"})

    # ------------------------------------------------------------------ the staff side

    def _fields(self, userid: str, msgtype: str) -> list[tuple[str, str | int]]:
        return [
            ("ToUserName", self.corp_id),
            ("FromUserName", userid),
            ("CreateTime", int(self.clock())),
            ("MsgType", msgtype),
        ]

    async def post_card_press(
        self,
        userid: str,
        task_id: str,
        button_key: str,
        response_code: str | None = None,
    ) -> JSON | None:
        """A member presses a card's button; returns the bot's passive reply, if any.

        WeCom mints a fresh ``response_code`` for every press; pass one to post that
        instead (a replayed or forged press).
        """
        delivered = self.card(userid, task_id)
        if button_key not in {key for _, key in delivered.buttons}:
            raise StaffError(
                f"{userid} cannot press {button_key!r} on {task_id!r}: "
                f"the card shows {delivered.replace_name or delivered.buttons!r}"
            )
        code = response_code if response_code is not None else self._issue_code(task_id)
        fields = self._fields(userid, "event")
        fields += [
            ("Event", "template_card_event"),
            ("EventKey", button_key),
            ("TaskId", task_id),
            ("CardType", str((delivered.card or {}).get("card_type", "button_interaction"))),
            ("ResponseCode", code),
            ("AgentID", self.agent_id),
            # A button card has no selections; WeCom's event still carries the element.
            ("SelectedItems", RawXml("")),
        ]
        return await self._post(userid, fields, pressed=delivered)

    async def post_text(self, userid: str, text: str) -> JSON | None:
        """A member writes in the app's chat; returns the bot's passive reply, if any."""
        fields = self._fields(userid, "text")
        fields += [("Content", text), ("MsgId", next(self._msg_ids)), ("AgentID", self.agent_id)]
        return await self._post(userid, fields)

    def encrypt(self, plain: str) -> str:
        """WeCom's ciphertext of ``plain`` (AES with the corp id appended)."""
        return str(PrpCrypto(self._key).encrypt(plain, self.corp_id).decode())

    def _signed_query(self, encrypt: str) -> dict[str, str]:
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        return {
            "msg_signature": signature(self.token, timestamp, nonce, encrypt),
            "timestamp": timestamp,
            "nonce": nonce,
        }

    async def verify_url(self, url: str | None = None) -> str:
        """WeCom's check of the callback URL: an encrypted echostr whose plaintext comes back.

        Returns the bot's answer; raises CallbackError unless it is the plaintext exactly.
        """
        target = url or self._require_callback()
        echo = str(secrets.randbelow(10**19))
        encrypt = self.encrypt(echo)
        params = {**self._signed_query(encrypt), "echostr": encrypt}
        async with self._require_session().get(target, params=params) as response:
            answer = await response.text()
        if response.status != 200 or answer != echo:
            raise CallbackError(
                f"echostr校验失败: HTTP {response.status}, answered {answer[:80]!r} for {echo!r}"
            )
        return answer

    def _require_callback(self) -> str:
        if not self.callback_url:
            raise RuntimeError("set callback_url to the bot's callback first")
        return self.callback_url

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("stand-in not started")
        return self._session

    async def _post(
        self,
        userid: str,
        fields: list[tuple[str, str | int]],
        pressed: Delivered | None = None,
    ) -> JSON | None:
        target = self._require_callback()
        session = self._require_session()
        plain = render_xml(fields)
        self.posted.append(Posted(userid, parse_xml(plain), self.clock(), len(self.delivered)))
        encrypt = self.encrypt(plain)
        query = self._signed_query(encrypt)
        body = render_xml(
            [("ToUserName", self.corp_id), ("AgentID", str(self.agent_id)), ("Encrypt", encrypt)]
        )
        timeout = aiohttp.ClientTimeout(total=self.callback_timeout)
        self._notify()
        for _ in range(self.callback_attempts):
            attempt = CallbackAttempt(userid, query, body, plain, None, None)
            self.attempts.append(attempt)
            started = time.perf_counter()  # real time, whatever ``clock`` says
            try:
                async with session.post(
                    target,
                    params=query,
                    data=body.encode("utf-8"),
                    headers={"Content-Type": "text/xml"},
                    timeout=timeout,
                ) as response:
                    attempt.status = response.status
                    attempt.answer = await response.text()
                    attempt.seconds = time.perf_counter() - started
            except (TimeoutError, aiohttp.ClientError):
                self._notify()
                continue
            self._notify()
            if attempt.status != 200:
                continue  # WeCom counts any other status as a failure and tries again
            return self._passive_reply(userid, attempt.answer, pressed)
        raise CallbackError(
            f"no accepted answer from the callback in {self.callback_attempts} attempts "
            f"of {self.callback_timeout}s"
        )

    def _passive_reply(
        self, userid: str, answer: str | None, pressed: Delivered | None
    ) -> JSON | None:
        """The bot's answer decrypted and checked as WeCom does; None for an empty one."""
        text = (answer or "").strip()
        if text in ("", "success"):
            return None
        try:
            outer = parse_xml(text)
        except ET.ParseError as exc:
            raise CallbackError(f"the reply is not XML: {text[:200]!r}") from exc
        if "Encrypt" not in outer:
            raise CallbackError("a plaintext reply: WeCom takes encrypted replies only")
        try:
            inner = self._crypto.decrypt_message(
                text,
                outer.get("MsgSignature", ""),
                outer.get("TimeStamp", ""),
                outer.get("Nonce", ""),
            )
        except (InvalidSignatureException, InvalidCorpIdException) as exc:
            raise CallbackError(f"the encrypted reply fails WeCom's check: {exc!r}") from exc
        reply = parse_xml(inner)
        if reply.get("ToUserName") != userid or reply.get("FromUserName") != self.corp_id:
            raise CallbackError(f"the reply is addressed wrong: {reply}")
        msgtype = reply.get("MsgType", "")
        now = self.clock()
        if msgtype == "text":
            content = _cut_utf8(str(reply.get("Content", "")), MAX_TEXT_BYTES)
            self.delivered.append(
                Delivered(userid, "text", {"content": content}, now, "", via="reply")
            )
        elif msgtype == "update_button":
            if pressed is None:
                raise CallbackError("update_button answers a card press only")
            button = reply.get("Button")
            name = button.get("ReplaceName") if isinstance(button, dict) else None
            if not name:
                raise CallbackError(f"update_button without Button.ReplaceName: {reply}")
            self._apply(pressed, CardUpdate(now, "reply", replace_name=str(name)))
        elif msgtype in ("image", "voice", "video", "news"):
            self.delivered.append(Delivered(userid, msgtype, reply, now, "", via="reply"))
        else:
            raise CallbackError(f"reply MsgType {msgtype!r} is not modelled by the stand-in")
        self._notify()
        return reply


class WeComMember:
    """A member of a working group on WeCom: presses cards and writes as them."""

    def __init__(self, standin: WeComStandIn, userid: str) -> None:
        self.standin = standin
        self.userid = userid

    async def press(self, card: Delivered, label: str) -> JSON | None:
        """Press the button of ``card`` whose text contains ``label`` (as it looks now)."""
        if card.task_id is None:
            raise StaffError("not a card with buttons")
        current = self.standin.card(self.userid, card.task_id)
        return await self.standin.post_card_press(
            self.userid, card.task_id, current.button_key(label)
        )

    async def say(self, text: str) -> JSON | None:
        """Write in the app's chat."""
        return await self.standin.post_text(self.userid, text)

    @property
    def received(self) -> list[Delivered]:
        """What reached this member so far."""
        return self.standin.sent_to(self.userid)

    async def next_message(self, timeout: float = 5.0) -> Delivered:  # noqa: ASYNC109
        """Wait for the next message to reach this member."""
        return await self.standin.next_sent(self.userid, timeout)
