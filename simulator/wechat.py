"""A local stand-in for the WeChat Official Account platform (服务号).

``WeChatStandIn`` plays both sides of WeChat for tests and the demo:

- the API the bot calls (``/cgi-bin/token``, customer-service and template messages,
  temporary media, the custom menu), answering as WeChat does: HTTP 200 with
  ``{"errcode": N, "errmsg": "... rid: ..."}`` on errors, WeChat's codes and limits;
- WeChat's servers posting residents' messages and events to the bot's callback URL,
  signed (and in safe or compatible mode encrypted) as WeChat does, retried when the
  bot does not answer in time, the bot's passive reply decrypted and checked.

Every post is an interaction that opens the resident's customer-service window
(WeChat's 48-hour rule and its per-interaction quota); templates need a follower only.
Time is the stand-in's ``clock``, so a test moves it instead of sleeping.

What WeChat documents and the stand-in enforces (developers.weixin.qq.com):
- access_token lives 7200 s; fetching a new one leaves the old one usable 5 minutes.
- customer-service messages after a user message: 5 within 48 h; after a menu click or
  a subscription: 3 within 1 minute (45015 outside every window, 45047 over the quota).
- temporary media: image 10 MB (PNG/JPEG/JPG/GIF), voice 2 MB, video 10 MB, thumb 64 KB;
  kept 3 days.
- menu: 1-3 buttons, 1-5 sub-buttons, names at most 16 / 60 bytes, keys 128 bytes,
  URLs 1024 bytes; a body with \\uXXXX escapes is refused (40033).
WeChat does not publish the text limit of a customer-service message; 2048 bytes is what it
documents for the same message of its WeCom customer-service API, and is used here.
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
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import aiohttp
from aiohttp import web
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

JSON = dict[str, Any]
T = TypeVar("T")
Mode = Literal["plaintext", "compatible", "safe"]
EventName = Literal["subscribe", "unsubscribe", "CLICK", "VIEW"]

_LOG = logging.getLogger("simulator.wechat")
_WAIT_TICK = 0.01

TOKEN_LIFETIME = 7200.0
TOKEN_OVERLAP = 300.0  # an old token stays usable this long after a new one is issued
MEDIA_LIFETIME = 3 * 24 * 3600.0
WINDOW_AFTER_MESSAGE = (48 * 3600.0, 5)  # (seconds, customer-service messages)
WINDOW_AFTER_EVENT = (60.0, 3)  # a menu click or a subscription
MAX_TEXT_BYTES = 2048
MAX_MENU_ITEMS = 10
MAX_MENU_TEXT_BYTES = 1024
MAX_MENU_ITEM_BYTES = 128
MAX_NEWS_ARTICLES = 1
# (limit in bytes, allowed extensions, errcode when too big)
MEDIA_RULES: dict[str, tuple[int, frozenset[str], int]] = {
    "image": (10 * 1024 * 1024, frozenset({"png", "jpeg", "jpg", "gif"}), 40009),
    "voice": (2 * 1024 * 1024, frozenset({"amr", "mp3"}), 40010),
    "video": (10 * 1024 * 1024, frozenset({"mp4"}), 40011),
    "thumb": (64 * 1024, frozenset({"jpg", "jpeg"}), 40012),
}
_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "amr": "audio/amr",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
}
MENU_BUTTONS = 3
MENU_SUB_BUTTONS = 5
MENU_NAME_BYTES = 16
MENU_SUB_NAME_BYTES = 60
MENU_KEY_BYTES = 128
MENU_URL_BYTES = 1024
_KEY_TYPES = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
_URL_TYPES = frozenset({"view", "miniprogram"})
_OTHER_TYPES = frozenset({"media_id", "article_id", "article_view_limited", "view_limited"})
# Template keyword types with a length limit (characters), as WeChat checks them.
_TEMPLATE_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32}

# WeChat's errmsg texts (WeChat appends " rid: ..." to each).
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40006: "invalid meida size",  # sic: WeChat's own spelling
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40010: "invalid voice size",
    40011: "invalid video size",
    40012: "invalid thumb size",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    40037: "invalid template_id",
    40066: "invalid url",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    41006: "media_id missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
}


class WeChatError(Exception):
    """An error answer of the WeChat API (rendered as errcode/errmsg)."""

    def __init__(self, errcode: int, detail: str | None = None) -> None:
        self.errcode = errcode
        base = ERRMSG.get(errcode, "unknown error")
        self.errmsg = f"{base} {detail}" if detail else base
        super().__init__(f"{errcode} {self.errmsg}")


class CallbackError(Exception):
    """The bot's callback answered in a way WeChat would not accept."""


@dataclass
class Delivered:
    """A message that reached a resident: customer-service, template or passive reply."""

    openid: str
    via: Literal["custom", "template", "reply"]
    msgtype: str
    payload: JSON
    time: float

    @property
    def text(self) -> str | None:
        """What the resident reads, for text, menu and template messages."""
        if self.msgtype == "text":
            return str(self.payload.get("content", self.payload.get("Content", "")))
        if self.msgtype == "msgmenu":
            lines = [self.payload.get("head_content", "")]
            lines += [item["content"] for item in self.payload.get("list", [])]
            lines.append(self.payload.get("tail_content", ""))
            return "\n".join(line for line in lines if line)
        if self.msgtype == "template":
            data = self.payload.get("data", {})
            return "\n".join(str(v.get("value", "")) for v in data.values())
        return None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The (id, content) items of a menu message."""
        return [(str(i["id"]), str(i["content"])) for i in self.payload.get("list", [])]

    def choice_id(self, label: str) -> str:
        """The id of the first menu item whose content contains ``label``."""
        for item_id, content in self.choices:
            if label in content:
                return item_id
        raise AssertionError(f"no menu item containing {label!r}; items: {self.choices}")


@dataclass
class Posted:
    """A message or event a resident posted to the bot (once, however often it was retried)."""

    openid: str
    fields: JSON  # the XML's fields, as the bot reads them
    time: float
    # How many messages had reached residents before it: orders it among ``delivered``.
    after: int

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

    openid: str
    query: dict[str, str]
    body: str
    plain: str
    status: int | None
    answer: str | None
    # Seconds from posting to the bot's whole HTTP answer (None: no answer came).
    seconds: float | None = None

    @property
    def kind(self) -> str:
        """What was posted: its MsgType ("text", "event" …), or "menu" for a menu tap."""
        fields = parse_xml(self.plain)
        return "menu" if fields.get("bizmsgmenuid") else str(fields.get("MsgType", ""))

    @property
    def passive(self) -> bool:
        """The bot answered with a passive reply (not `success` or nothing)."""
        return (self.answer or "").strip() not in ("", "success")


@dataclass
class Media:
    """A temporary media file (uploaded by the bot or sent by a resident)."""

    media_id: str
    kind: str
    data: bytes
    extension: str
    created_at: float

    @property
    def content_type(self) -> str:
        return _MIME.get(self.extension, "application/octet-stream")


@dataclass
class _Token:
    expires_at: float
    superseded_at: float | None = None


@dataclass
class _Grant:
    """Customer-service messages a resident's interaction allows."""

    expires_at: float
    remaining: int


@dataclass
class _Follower:
    subscribed: bool = True
    # By what opened them: "message" (48 h) or "event" (a click or a subscription, 1 min).
    grants: dict[str, _Grant] = field(default_factory=dict)


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


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: list[tuple[str, str | int | float]]) -> str:
    """An XML message as WeChat writes it: strings in CDATA, numbers bare."""
    parts = ["<xml>"]
    for name, value in fields:
        text = _cdata(value) if isinstance(value, str) else str(value)
        parts.append(f"<{name}>{text}</{name}>")
    parts.append("</xml>")
    return "".join(parts)


def parse_xml(text: str) -> JSON:
    """The fields of a flat (or one-level nested) WeChat XML message."""
    root = ET.fromstring(text)
    out: JSON = {}
    for child in root:
        if len(child):
            out[child.tag] = {sub.tag: (sub.text or "") for sub in child}
        else:
            out[child.tag] = child.text or ""
    return out


def signature(*parts: str) -> str:
    """WeChat's SHA-1 signature of the sorted parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


class WeChatStandIn:
    """An in-process stand-in for the WeChat Official Account platform (module docstring)."""

    def __init__(
        self,
        app_id: str = "wx5e1d2c3b4a596870",
        app_secret: str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        token: str = "civicCallbackToken2026",
        encoding_aes_key: str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        account_id: str = "gh_3c5d7e9f1a2b",
        mode: Mode = "safe",
        callback_url: str | None = None,
        templates: dict[str, list[str]] | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_timeout: float = 5.0,
        callback_attempts: int = 3,
    ) -> None:
        if mode not in ("plaintext", "compatible", "safe"):
            raise ValueError(f"unknown mode {mode!r}")
        self.app_id = app_id
        self.app_secret = app_secret
        self.token = token
        self.encoding_aes_key = encoding_aes_key
        self.account_id = account_id
        self.mode: Mode = mode
        self.callback_url = callback_url
        #: Template ids the account has, with their keywords ("thing1", "time2" …).
        self.templates: dict[str, list[str]] = dict(templates or {})
        self.clock = clock
        self.host = host
        self.port = port
        #: WeChat waits 5 s for an answer, then tries again (3 attempts in all).
        self.callback_timeout = callback_timeout
        self.callback_attempts = callback_attempts

        # Inspection.
        self.calls: list[ApiCall] = []
        self.call_counts: Counter[str] = Counter()
        self.token_requests = 0
        self.delivered: list[Delivered] = []
        self.attempts: list[CallbackAttempt] = []
        self.posted: list[Posted] = []
        self.menu: JSON | None = None

        self._tokens: dict[str, _Token] = {}
        self._followers: dict[str, _Follower] = {}
        self._media: dict[str, Media] = {}
        self._pictures: dict[str, str] = {}  # PicUrl key -> media id
        self._failures: dict[str, _Failure] = {}
        self._msg_ids = itertools.count(24_000_000_000_000_000 + secrets.randbelow(10**12))
        self._template_msg_ids = itertools.count(3_000_000_000 + secrets.randbelow(10**6))
        self._token_serial = itertools.count(80)
        self._signal: _Signal | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id)
        self._key = base64.b64decode(encoding_aes_key + "=")

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Where the bot's WeChatClient points (instead of https://api.weixin.qq.com)."""
        return f"http://{self.host}:{self.port}"

    def build_app(self) -> web.Application:
        """The aiohttp application of the API side."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_get("/mmbiz/{key}", self._serve_picture)
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
        _LOG.info("WeChat stand-in listening on %s", self.base_url)

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

    def add_follower(self, openid: str) -> None:
        """Make ``openid`` a follower who has not written yet (no open window)."""
        self._followers.setdefault(openid, _Follower()).subscribed = True

    def remove_follower(self, openid: str) -> None:
        """``openid`` unfollows without the bot hearing of it (no unsubscribe posted)."""
        follower = self._followers.setdefault(openid, _Follower())
        follower.subscribed = False
        follower.grants = {}

    def is_follower(self, openid: str) -> bool:
        follower = self._followers.get(openid)
        return follower is not None and follower.subscribed

    def open_window(self, openid: str) -> None:
        """Record a message from ``openid`` without posting it (opens the 48-hour window)."""
        self._interaction(openid, WINDOW_AFTER_MESSAGE)

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` ("message/custom/send") with ``errcode``."""
        self._failures[self._api_path(path)] = _Failure(errcode, times)

    def expire_tokens(self) -> None:
        """Every access token issued so far is past its lifetime (42001 from now on)."""
        now = self.clock()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now)

    def add_template(self, template_id: str, keywords: list[str]) -> None:
        """Give the account a template with these keywords."""
        self.templates[template_id] = list(keywords)

    def media_bytes(self, media_id: str) -> bytes:
        """The content of a known media file."""
        return self._media[media_id].data

    def sent_to(self, openid: str) -> list[Delivered]:
        """What reached ``openid``, oldest first (customer-service, template, passive)."""
        return [d for d in self.delivered if d.openid == openid]

    def posted_by(self, openid: str) -> list[Posted]:
        """What ``openid`` posted to the bot, oldest first."""
        return [p for p in self.posted if p.openid == openid]

    def conversation(self, openid: str) -> list[Posted | Delivered]:
        """What ``openid`` posted and what reached them, in the order it happened."""
        out: list[Posted | Delivered] = []
        shown = 0
        for post in self.posted:
            if post.openid != openid:
                continue
            out += [d for d in self.delivered[shown : post.after] if d.openid == openid]
            shown = max(shown, post.after)
            out.append(post)
        out += [d for d in self.delivered[shown:] if d.openid == openid]
        return out

    def followers(self) -> list[str]:
        """The openids following the account, in the order they first appeared."""
        return [openid for openid, f in self._followers.items() if f.subscribed]

    def media(self, media_id: str) -> Media | None:
        """A media file still kept (uploaded by the bot or sent by a resident), if any."""
        try:
            return self._live_media(media_id)
        except WeChatError:
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
        openid: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int | None = None,
    ) -> Delivered:
        """Wait for the next message to reach ``openid`` (after ``after`` already there)."""
        skip = len(self.sent_to(openid)) if after is None else after

        def check() -> Delivered | None:
            sent = self.sent_to(openid)
            return sent[skip] if len(sent) > skip else None

        return await self.wait_for(check, timeout)

    def resident(self, openid: str) -> WeChatUser:
        """A resident on WeChat, to post messages as."""
        return WeChatUser(self, openid)

    # ------------------------------------------------------------------ the API side

    @staticmethod
    def _api_path(path: str) -> str:
        path = path.strip("/")
        return path if path.startswith("cgi-bin/") else f"cgi-bin/{path}"

    def _answer(self, body: JSON) -> web.Response:
        # WeChat's JSON answers carry this exact content type.
        text = json.dumps(body, ensure_ascii=False)
        return web.Response(text=text, headers={"Content-Type": "application/json; encoding=utf-8"})

    def _error_body(self, error: WeChatError) -> JSON:
        rid = "-".join(secrets.token_hex(4) for _ in range(3))
        return {"errcode": error.errcode, "errmsg": f"{error.errmsg} rid: {rid}"}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"].strip("/")
        query = dict(request.query)
        # A multipart upload is left for its handler to read as a form.
        raw = b"" if request.content_type.startswith("multipart/") else await request.read()
        route = self._routes().get(path)
        errcode = 0
        try:
            if route is None:
                raise WeChatError(40066)
            method, handler = route
            if request.method != method:
                raise WeChatError(43001 if method == "GET" else 43002)
            failure = self._failures.get(path)
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    del self._failures[path]
                raise WeChatError(failure.errcode)
            response = await handler(request, query, raw)
        except WeChatError as error:
            errcode = error.errcode
            response = self._answer(self._error_body(error))
        finally:
            body: Any = raw[:2000].decode("utf-8", "replace")
            self.calls.append(ApiCall(path, query, body, errcode, self.clock()))
            self.call_counts[path] += 1
            self._notify()
        return response

    def _routes(
        self,
    ) -> dict[str, tuple[str, Callable[[web.Request, dict[str, str], bytes], Awaitable[Any]]]]:
        return {
            "cgi-bin/token": ("GET", self._token),
            "cgi-bin/message/custom/send": ("POST", self._custom_send),
            "cgi-bin/message/template/send": ("POST", self._template_send),
            "cgi-bin/media/upload": ("POST", self._media_upload),
            "cgi-bin/media/get": ("GET", self._media_get),
            "cgi-bin/menu/create": ("POST", self._menu_create),
            "cgi-bin/menu/get": ("GET", self._menu_get),
        }

    def _check_token(self, query: dict[str, str]) -> None:
        value = query.get("access_token")
        if not value:
            raise WeChatError(41001)
        if not re.fullmatch(r"\d+_[A-Za-z0-9_-]{20,}", value):
            raise WeChatError(40014)
        token = self._tokens.get(value)
        if token is None:
            raise WeChatError(40001)
        now = self.clock()
        if now >= token.expires_at:
            raise WeChatError(42001)
        if token.superseded_at is not None and now >= token.superseded_at + TOKEN_OVERLAP:
            raise WeChatError(40001)

    @staticmethod
    def _json_body(raw: bytes) -> JSON:
        if not raw.strip():
            raise WeChatError(44002)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WeChatError(47001) from None
        if not isinstance(body, dict):
            raise WeChatError(47001)
        return body

    async def _token(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self.token_requests += 1
        if query.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        if not query.get("appid"):
            raise WeChatError(41002)
        if query["appid"] != self.app_id:
            raise WeChatError(40013)
        if not query.get("secret"):
            raise WeChatError(41004)
        if query["secret"] != self.app_secret:
            raise WeChatError(40125)
        now = self.clock()
        for token in self._tokens.values():
            if token.superseded_at is None:
                token.superseded_at = now
        value = f"{next(self._token_serial)}_{secrets.token_urlsafe(96)}"
        self._tokens[value] = _Token(expires_at=now + TOKEN_LIFETIME)
        return self._answer({"access_token": value, "expires_in": int(TOKEN_LIFETIME)})

    # customer-service messages

    def _consume_window(self, openid: str) -> None:
        follower = self._followers.get(openid)
        if follower is None:
            raise WeChatError(40003)
        if not follower.subscribed:
            raise WeChatError(45015)
        now = self.clock()
        live = sorted(
            (g for g in follower.grants.values() if g.expires_at > now),
            key=lambda g: g.expires_at,
        )
        if not live:
            raise WeChatError(45015)
        for grant in live:
            if grant.remaining > 0:
                grant.remaining -= 1
                return
        raise WeChatError(45047)

    def _validate_custom(self, body: JSON) -> tuple[str, JSON]:
        msgtype = body.get("msgtype")
        if not isinstance(msgtype, str) or not msgtype:
            raise WeChatError(40008)
        payload = body.get(msgtype)
        if msgtype == "text":
            if not isinstance(payload, dict) or not isinstance(payload.get("content"), str):
                raise WeChatError(47001)
            if not payload["content"]:
                raise WeChatError(44004)
            if _utf8_len(payload["content"]) > MAX_TEXT_BYTES:
                raise WeChatError(45002)
        elif msgtype == "image":
            if not isinstance(payload, dict) or not payload.get("media_id"):
                raise WeChatError(41006)
            self._live_media(str(payload["media_id"]))
        elif msgtype == "msgmenu":
            self._validate_msgmenu(payload)
        elif msgtype == "news":
            articles = payload.get("articles") if isinstance(payload, dict) else None
            if not isinstance(articles, list) or not articles:
                raise WeChatError(44003)
            if len(articles) > MAX_NEWS_ARTICLES:
                raise WeChatError(45008)
            if not all(isinstance(a, dict) and a.get("title") for a in articles):
                raise WeChatError(47001)
        else:
            raise WeChatError(40008)
        return msgtype, dict(payload)

    @staticmethod
    def _validate_msgmenu(payload: Any) -> None:
        if not isinstance(payload, dict):
            raise WeChatError(47001)
        items = payload.get("list")
        if not isinstance(items, list) or not items:
            raise WeChatError(47001)
        if len(items) > MAX_MENU_ITEMS:
            raise WeChatError(45002)
        for key in ("head_content", "tail_content"):
            value = payload.get(key, "")
            if not isinstance(value, str):
                raise WeChatError(47001)
            if _utf8_len(value) > MAX_MENU_TEXT_BYTES:
                raise WeChatError(45002)
        for item in items:
            if not isinstance(item, dict):
                raise WeChatError(47001)
            item_id, content = item.get("id"), item.get("content")
            if not isinstance(item_id, str) or not item_id or not isinstance(content, str):
                raise WeChatError(47001)
            if not content:
                raise WeChatError(44004)
            if _utf8_len(content) > MAX_MENU_ITEM_BYTES or _utf8_len(item_id) > 64:
                raise WeChatError(45002)

    async def _custom_send(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self._check_token(query)
        body = self._json_body(raw)
        openid = body.get("touser")
        if not isinstance(openid, str) or not openid:
            raise WeChatError(40003)
        msgtype, payload = self._validate_custom(body)
        self._consume_window(openid)
        self.delivered.append(Delivered(openid, "custom", msgtype, payload, self.clock()))
        return self._answer({"errcode": 0, "errmsg": "ok"})

    # template messages

    async def _template_send(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self._check_token(query)
        body = self._json_body(raw)
        template_id = body.get("template_id")
        if template_id not in self.templates:
            raise WeChatError(40037)
        openid = body.get("touser")
        follower = self._followers.get(openid) if isinstance(openid, str) else None
        if follower is None:
            raise WeChatError(40003)
        if not follower.subscribed:
            raise WeChatError(43004)
        data = body.get("data", {})
        if not isinstance(data, dict):
            raise WeChatError(47001)
        for key, entry in data.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str):
                raise WeChatError(47003, f"data.{key}.value invalid")
            kind = re.sub(r"\d+$", "", key)
            limit = _TEMPLATE_LIMITS.get(kind)
            if limit is not None and len(value) > limit:
                raise WeChatError(47003, f"data.{key}.value invalid")
        url = body.get("url")
        if url is not None and not isinstance(url, str):
            raise WeChatError(47001)
        payload = {"template_id": template_id, "url": url, "data": data}
        assert isinstance(openid, str)
        self.delivered.append(Delivered(openid, "template", "template", payload, self.clock()))
        return self._answer({"errcode": 0, "errmsg": "ok", "msgid": next(self._template_msg_ids)})

    # media

    def _live_media(self, media_id: str) -> Media:
        media = self._media.get(media_id)
        if media is None or self.clock() >= media.created_at + MEDIA_LIFETIME:
            raise WeChatError(40007)
        return media

    def store_media(self, kind: str, data: bytes, extension: str) -> Media:
        """Keep a media file as WeChat does for 3 days; returns it with its new media_id."""
        media = Media(secrets.token_urlsafe(48), kind, data, extension, self.clock())
        self._media[media.media_id] = media
        return media

    async def _media_upload(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self._check_token(query)
        kind = query.get("type", "")
        if kind not in MEDIA_RULES:
            raise WeChatError(40004)
        limit, extensions, too_big = MEDIA_RULES[kind]
        upload = await self._multipart_file(request)
        if upload is None:
            raise WeChatError(41005)
        filename, data = upload
        if not data:
            raise WeChatError(41005)
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in extensions:
            raise WeChatError(40005)
        if kind in ("image", "thumb"):
            sniffed = _sniff_image(data)
            if sniffed is None or (sniffed == "jpg") != (extension in ("jpg", "jpeg")):
                raise WeChatError(40005)
        if len(data) > limit:
            raise WeChatError(too_big)
        media = self.store_media(kind, data, extension)
        return self._answer(
            {"type": kind, "media_id": media.media_id, "created_at": int(media.created_at)}
        )

    @staticmethod
    async def _multipart_file(request: web.Request) -> tuple[str, bytes] | None:
        """The ``media`` part of a multipart form, as (filename, content)."""
        if request.content_type != "multipart/form-data":
            return None
        try:
            form = await request.post()
        except ValueError:
            raise WeChatError(47001) from None
        upload = form.get("media")
        if not isinstance(upload, web.FileField):
            return None
        return upload.filename or "", upload.file.read()

    async def _media_get(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self._check_token(query)
        media_id = query.get("media_id")
        if not media_id:
            raise WeChatError(41006)
        media = self._live_media(media_id)
        return web.Response(
            body=media.data,
            headers={
                "Content-Type": media.content_type,
                "Content-disposition": f'attachment; filename="{media.media_id}.{media.extension}"',
                "Cache-Control": "no-cache, must-revalidate",
            },
        )

    async def _serve_picture(self, request: web.Request) -> web.StreamResponse:
        media_id = self._pictures.get(request.match_info["key"])
        media = self._media.get(media_id) if media_id else None
        if media is None:
            raise web.HTTPNotFound()
        return web.Response(body=media.data, content_type=media.content_type)

    # menu

    async def _menu_create(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self._check_token(query)
        if re.search(rb"\\u[0-9a-fA-F]{4}", raw):
            raise WeChatError(40033)
        body = self._json_body(raw)
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MENU_BUTTONS:
            raise WeChatError(40016)
        for button in buttons:
            if not isinstance(button, dict):
                raise WeChatError(47001)
            subs = button.get("sub_button")
            if _utf8_len(str(button.get("name") or "")) not in range(1, MENU_NAME_BYTES + 1):
                raise WeChatError(40018)
            if isinstance(subs, list) and subs:
                if len(subs) > MENU_SUB_BUTTONS:
                    raise WeChatError(40023)
                for sub in subs:
                    if not isinstance(sub, dict):
                        raise WeChatError(47001)
                    self._check_button(sub, sub=True)
            else:
                self._check_button(button, sub=False)
        self.menu = {"button": buttons}
        return self._answer({"errcode": 0, "errmsg": "ok"})

    @staticmethod
    def _check_button(button: JSON, sub: bool) -> None:
        kind = button.get("type")
        if kind not in _KEY_TYPES | _URL_TYPES | _OTHER_TYPES:
            raise WeChatError(40024 if sub else 40017)
        if sub and _utf8_len(str(button.get("name") or "")) not in range(
            1, MENU_SUB_NAME_BYTES + 1
        ):
            raise WeChatError(40025)
        if kind in _KEY_TYPES:
            key = button.get("key")
            if not isinstance(key, str) or _utf8_len(key) not in range(1, MENU_KEY_BYTES + 1):
                raise WeChatError(40026 if sub else 40019)
        if kind in _URL_TYPES:
            url = button.get("url")
            if not isinstance(url, str) or _utf8_len(url) not in range(1, MENU_URL_BYTES + 1):
                raise WeChatError(40027 if sub else 40020)

    async def _menu_get(self, request: web.Request, query: dict[str, str], raw: bytes) -> Any:
        self._check_token(query)
        if self.menu is None:
            raise WeChatError(46003)
        buttons = []
        for button in self.menu["button"]:
            shown = dict(button)
            shown["sub_button"] = list(button.get("sub_button") or [])
            buttons.append(shown)
        return self._answer({"menu": {"button": buttons}})

    # ------------------------------------------------------------------ the resident side

    def _interaction(self, openid: str, window: tuple[float, int]) -> None:
        """Open (afresh) the customer-service window this interaction grants."""
        follower = self._followers.setdefault(openid, _Follower())
        seconds, quota = window
        kind = "message" if window == WINDOW_AFTER_MESSAGE else "event"
        follower.grants[kind] = _Grant(self.clock() + seconds, quota)

    def _message_fields(self, openid: str, msgtype: str) -> list[tuple[str, str | int | float]]:
        return [
            ("ToUserName", self.account_id),
            ("FromUserName", openid),
            ("CreateTime", int(self.clock())),
            ("MsgType", msgtype),
        ]

    async def post_text(self, openid: str, text: str) -> JSON | None:
        """A resident sends a text message; returns the bot's passive reply, if any."""
        fields = self._message_fields(openid, "text")
        fields += [("Content", text), ("MsgId", next(self._msg_ids))]
        return await self._post(openid, fields, WINDOW_AFTER_MESSAGE)

    async def post_menu_reply(self, openid: str, bizmsgmenuid: str, text: str) -> JSON | None:
        """A resident taps an item of a menu message: text with ``bizmsgmenuid``."""
        fields = self._message_fields(openid, "text")
        fields += [
            ("Content", text),
            ("MsgId", next(self._msg_ids)),
            ("bizmsgmenuid", bizmsgmenuid),
        ]
        return await self._post(openid, fields, WINDOW_AFTER_MESSAGE)

    async def post_image(self, openid: str, image_bytes: bytes) -> JSON | None:
        """A resident sends a photo: kept as media (media/get serves it) and at its PicUrl."""
        extension = _sniff_image(image_bytes) or "jpg"
        media = self.store_media("image", image_bytes, extension)
        key = secrets.token_urlsafe(24)
        self._pictures[key] = media.media_id
        fields = self._message_fields(openid, "image")
        fields += [
            ("PicUrl", f"{self.base_url}/mmbiz/{key}"),
            ("MsgId", next(self._msg_ids)),
            ("MediaId", media.media_id),
        ]
        return await self._post(openid, fields, WINDOW_AFTER_MESSAGE)

    async def post_location(
        self, openid: str, lat: float, lon: float, label: str = "", scale: int = 15
    ) -> JSON | None:
        """A resident shares a location (Location_X is the latitude, Location_Y the longitude)."""
        fields = self._message_fields(openid, "location")
        fields += [
            ("Location_X", float(lat)),
            ("Location_Y", float(lon)),
            ("Scale", int(scale)),
            ("Label", label),
            ("MsgId", next(self._msg_ids)),
        ]
        return await self._post(openid, fields, WINDOW_AFTER_MESSAGE)

    async def post_voice(self, openid: str, recognition: str | None) -> JSON | None:
        """A resident sends a voice message; ``recognition`` is WeChat's transcript, if on."""
        media = self.store_media("voice", b"#!AMR\n" + secrets.token_bytes(64), "amr")
        fields = self._message_fields(openid, "voice")
        fields += [
            ("MediaId", media.media_id),
            ("Format", "amr"),
            ("MsgId", next(self._msg_ids)),
        ]
        if recognition is not None:
            fields.append(("Recognition", recognition))
        return await self._post(openid, fields, WINDOW_AFTER_MESSAGE)

    async def post_event(
        self, openid: str, event: EventName, key: str | None = None
    ) -> JSON | None:
        """A subscribe, unsubscribe, menu CLICK (``key``) or VIEW (``key`` = URL) event."""
        fields = self._message_fields(openid, "event")
        fields += [("Event", event), ("EventKey", key or "")]
        follower = self._followers.setdefault(openid, _Follower())
        if event == "subscribe":
            follower.subscribed = True
            follower.grants = {}
            window: tuple[float, int] | None = WINDOW_AFTER_EVENT
        elif event == "unsubscribe":
            follower.subscribed = False
            follower.grants = {}
            window = None
        elif event == "CLICK":
            window = WINDOW_AFTER_EVENT
        else:
            window = None
        return await self._post(openid, fields, window)

    async def verify_url(self, url: str | None = None) -> str:
        """WeChat's server check of the callback URL: returns what came back (the echostr)."""
        target = url or self._require_callback()
        timestamp, nonce = str(int(self.clock())), secrets.token_hex(5)
        echostr = str(secrets.randbelow(10**19))
        params = {
            "signature": signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        async with self._require_session().get(target, params=params) as response:
            return await response.text()

    def _require_callback(self) -> str:
        if not self.callback_url:
            raise RuntimeError("set callback_url to the bot's callback first")
        return self.callback_url

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("stand-in not started")
        return self._session

    def _envelope(self, openid: str, plain: str) -> tuple[dict[str, str], str]:
        """Query and body of a callback POST, signed (and encrypted) as the mode says."""
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        query = {
            "signature": signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
        }
        if self.mode == "plaintext":
            return query, plain
        encrypt = PrpCrypto(self._key).encrypt(plain, self.app_id).decode()
        query["encrypt_type"] = "aes"
        query["msg_signature"] = signature(self.token, timestamp, nonce, encrypt)
        if self.mode == "safe":
            body = render_xml([("ToUserName", self.account_id), ("Encrypt", encrypt)])
        else:
            body = plain[: -len("</xml>")] + f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        return query, body

    async def _post(
        self,
        openid: str,
        fields: list[tuple[str, str | int | float]],
        window: tuple[float, int] | None,
    ) -> JSON | None:
        target = self._require_callback()
        session = self._require_session()
        if window is not None:
            self._interaction(openid, window)
        plain = render_xml(fields)
        self.posted.append(Posted(openid, dict(fields), self.clock(), len(self.delivered)))
        query, body = self._envelope(openid, plain)
        timeout = aiohttp.ClientTimeout(total=self.callback_timeout)
        self._notify()
        for _ in range(self.callback_attempts):
            attempt = CallbackAttempt(openid, query, body, plain, None, None)
            self.attempts.append(attempt)
            posted = time.perf_counter()  # real time, whatever ``clock`` says
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
                    attempt.seconds = time.perf_counter() - posted
            except (TimeoutError, aiohttp.ClientError):
                self._notify()
                continue
            self._notify()
            if attempt.status != 200:
                raise CallbackError(f"the callback answered HTTP {attempt.status}")
            return self._passive_reply(openid, attempt.answer)
        raise CallbackError(
            f"no answer from the callback in {self.callback_attempts} attempts "
            f"of {self.callback_timeout}s (the resident sees 该公众号暂时无法提供服务)"
        )

    def _passive_reply(self, openid: str, answer: str) -> JSON | None:
        """The bot's answer decrypted and checked as WeChat does; None for success/empty."""
        text = answer.strip()
        if text in ("", "success"):
            return None
        try:
            outer = parse_xml(text)
        except ET.ParseError as exc:
            raise CallbackError(f"the reply is not XML: {text[:200]!r}") from exc
        if "Encrypt" in outer:
            if self.mode == "plaintext":
                raise CallbackError("an encrypted reply to a plaintext-mode account")
            try:
                inner = self._crypto.decrypt_message(
                    text,
                    outer.get("MsgSignature", ""),
                    outer.get("TimeStamp", ""),
                    outer.get("Nonce", ""),
                )
            except (InvalidSignatureException, InvalidAppIdException) as exc:
                raise CallbackError(f"the encrypted reply fails WeChat's check: {exc!r}") from exc
            reply = parse_xml(inner)
        elif self.mode == "safe":
            raise CallbackError("a plaintext reply to a safe-mode account")
        else:
            reply = outer
        if reply.get("ToUserName") != openid or reply.get("FromUserName") != self.account_id:
            raise CallbackError(f"the reply is addressed wrong: {reply}")
        msgtype = reply.get("MsgType", "")
        if msgtype not in ("text", "image", "voice", "video", "music", "news"):
            raise CallbackError(f"unknown reply MsgType {msgtype!r}")
        if msgtype == "text":
            content = reply.get("Content", "")
            self.delivered.append(
                Delivered(openid, "reply", "text", {"content": content}, self.clock())
            )
        else:
            self.delivered.append(Delivered(openid, "reply", msgtype, reply, self.clock()))
        self._notify()
        return reply


class WeChatUser:
    """A resident on WeChat: posts to the bot as them and reads what reached them."""

    def __init__(self, standin: WeChatStandIn, openid: str) -> None:
        self.standin = standin
        self.openid = openid

    async def subscribe(self) -> JSON | None:
        """Follow the account."""
        return await self.standin.post_event(self.openid, "subscribe")

    async def unsubscribe(self) -> JSON | None:
        """Unfollow the account."""
        return await self.standin.post_event(self.openid, "unsubscribe")

    async def say(self, text: str) -> JSON | None:
        """Send a text."""
        return await self.standin.post_text(self.openid, text)

    async def photo(self, image_bytes: bytes) -> JSON | None:
        """Send a photo."""
        return await self.standin.post_image(self.openid, image_bytes)

    async def location(
        self, lat: float, lon: float, label: str = "", scale: int = 15
    ) -> JSON | None:
        """Share a location."""
        return await self.standin.post_location(self.openid, lat, lon, label, scale)

    async def voice(self, recognition: str | None) -> JSON | None:
        """Send a voice message (with WeChat's transcript)."""
        return await self.standin.post_voice(self.openid, recognition)

    async def click(self, key: str) -> JSON | None:
        """Press a click button of the custom menu."""
        return await self.standin.post_event(self.openid, "CLICK", key)

    async def choose(self, menu: Delivered, label: str) -> JSON | None:
        """Tap the item of a menu message whose content contains ``label``."""
        item_id = menu.choice_id(label)
        content = dict(menu.choices)[item_id]
        return await self.standin.post_menu_reply(self.openid, item_id, content)

    @property
    def received(self) -> list[Delivered]:
        """What reached this resident so far."""
        return self.standin.sent_to(self.openid)

    async def next_message(self, timeout: float = 5.0) -> Delivered:  # noqa: ASYNC109
        """Wait for the next message to reach this resident."""
        return await self.standin.next_sent(self.openid, timeout)
