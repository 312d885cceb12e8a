"""A local stand-in for the Telegram Bot API.

``BotApiStandIn`` is an aiohttp application that answers the Bot API methods the project
uses, keeps a small simulated world (users, group chats, messages, polls, files) and lets
tests inject updates and inspect everything the bot did.  A real python-telegram-bot
``Application`` talks to it through ``base_url``/``base_file_url``.  ``GET /`` serves a
small web chat so a person can try the bot in a browser without a Telegram token.

Updates wait for ``getUpdates``, or, once ``setWebhook`` is called, are posted to the
webhook (with its secret token in ``X-Telegram-Bot-Api-Secret-Token``) and tried again
after a failure, as Telegram does; ``getUpdates`` is then a conflict (409).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import ipaddress
import json
import logging
import re
import secrets
import socket
import struct
import time
import zlib
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from simulator.formatting import EntityParseError, parse_formatted, utf16_len
from simulator.guard import same_site_only

JSON = dict[str, Any]
T = TypeVar("T")
FailureKind = Literal[
    "chat_not_found",
    "forbidden",
    "not_started",
    "server_error",
    "flood",
    "disconnect",
    "slow",
    "migrated",
]
# How a pressed button's message reaches the bot: whole, as Telegram's InaccessibleMessage
# (chat and id, date 0: deleted or too old), or not at all (too old).
PressedMessage = Literal["accessible", "inaccessible", "absent"]

_LOG = logging.getLogger("simulator")
_WEB_DIR = Path(__file__).with_name("web")
_json_dumps = functools.partial(json.dumps, ensure_ascii=False)

# Fallback re-check interval of wait_for().
_WAIT_TICK = 0.01

# Limits of the real Bot API.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # a photo a bot uploads, or a client sends
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # any other file a bot uploads
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses larger files
TOO_BIG = "Bad Request: file is too big"
TOO_LARGE = "Request Entity Too Large"

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]*")
WEBHOOK_SECRET_MAX = 256
# Update types a webhook gets when setWebhook names none (Telegram's default).
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"

# Form-encoded requests carry every non-string value JSON-encoded (that is what PTB does),
# so parameters are decoded by name.
_JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "correct_option_ids",
        "country_codes",
        "description_entities",
        "entities",
        "explanation_entities",
        "link_preview_options",
        "media",
        "menu_button",
        "options",
        "question_entities",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)
_INT_FIELDS = frozenset(
    {
        "cache_time",
        "chat_id",
        "close_date",
        "correct_option_id",
        "from_chat_id",
        "limit",
        "live_period",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "open_period",
        "reply_to_message_id",
        "timeout",
        "user_id",
    }
)
_FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_FIELDS = frozenset(
    {
        "allow_sending_without_reply",
        "allows_multiple_answers",
        "allows_revoting",
        "disable_content_type_detection",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "has_spoiler",
        "is_anonymous",
        "is_closed",
        "members_only",
        "protect_content",
        "show_alert",
        "show_caption_above_media",
    }
)
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "callback_game",
        "copy_text",
        "login_url",
        "pay",
        "switch_inline_query",
        "switch_inline_query_chosen_chat",
        "switch_inline_query_current_chat",
        "url",
        "web_app",
    }
)
# Methods that create messages: subject to fail_chat() and rate_limit().
_SEND_METHODS = frozenset(
    {
        "copyMessage",
        "forwardMessage",
        "sendDocument",
        "sendLocation",
        "sendMediaGroup",
        "sendMessage",
        "sendPhoto",
        "sendPoll",
        "sendVenue",
    }
)
# Methods that change messages: subject to fail_chat().
_EDIT_METHODS = frozenset({"editMessageCaption", "editMessageReplyMarkup", "editMessageText"})
_MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
_ACTIVE_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to = migrate_to


class _Disconnect(Exception):
    """Drop the connection without answering."""


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ApiRequest:
    """One Bot API call the bot made."""

    method: str
    params: JSON
    status: int
    time: float
    description: str | None = None
    files: dict[str, UploadedFile] = field(default_factory=dict)
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class SentMessage:
    """A message the bot sent (or, in ``BotApiStandIn.edits``, an edit it made).

    ``raw`` is a snapshot of the message as returned to the bot; use
    ``BotApiStandIn.message()`` for its current state.
    """

    chat_id: int
    message_id: int
    method: str
    text: str | None
    reply_markup: JSON | None
    raw: JSON
    source_text: str | None = None
    parse_mode: str | None = None
    photo_file_ids: list[str] = field(default_factory=list)
    location: JSON | None = None
    document: JSON | None = None
    document_bytes: bytes | None = None
    poll: JSON | None = None

    @classmethod
    def of(
        cls,
        chat_id: int,
        message: JSON,
        method: str,
        source_text: str | None = None,
        parse_mode: str | None = None,
        document_bytes: bytes | None = None,
    ) -> SentMessage:
        """A snapshot of a bot message as it is now (a send, an edit, or a later look)."""
        raw = copy.deepcopy(message)
        return cls(
            chat_id=chat_id,
            message_id=raw["message_id"],
            method=method,
            text=raw.get("text", raw.get("caption")),
            reply_markup=copy.deepcopy(raw.get("reply_markup")),
            raw=raw,
            source_text=source_text,
            parse_mode=parse_mode,
            photo_file_ids=[s["file_id"] for s in raw.get("photo", [])],
            location=copy.deepcopy(raw.get("location")),
            document=copy.deepcopy(raw.get("document")),
            document_bytes=document_bytes,
            poll=copy.deepcopy(raw.get("poll")),
        )

    @property
    def buttons(self) -> list[JSON]:
        """The inline keyboard buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    def button_data(self, label: str) -> str:
        """``callback_data`` of the first inline button whose text contains ``label``."""
        for button in self.buttons:
            if label in button.get("text", "") and "callback_data" in button:
                return str(button["callback_data"])
        labels = [b.get("text") for b in self.buttons]
        raise AssertionError(f"no callback button containing {label!r}; buttons: {labels}")


@dataclass
class StoredFile:
    """A file known to the stand-in (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    mime_type: str
    file_name: str | None
    file_path: str
    width: int = 0
    height: int = 0
    thumb_id: str | None = None


@dataclass
class _Chat:
    info: JSON
    members: dict[int, str] = field(default_factory=dict)
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)
    reply_keyboard: JSON | None = None
    # Bot messages sent with force_reply (message id -> input placeholder): a client
    # opens a reply to them, so the web chat does too.
    force_replies: dict[int, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def is_private(self) -> bool:
        return self.info["type"] == "private"


@dataclass
class _Failure:
    kind: str
    remaining: int | None
    retry_after: int
    delay: float = 0.0
    migrate_to: int | None = None


@dataclass
class _Poll:
    poll: JSON
    chat_id: int
    message_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


@dataclass
class Webhook:
    """The webhook setWebhook set: where updates are posted, and the last failure to."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def wants(self, update: JSON) -> bool:
        """Whether an update is of a type this webhook gets."""
        kind = next((key for key in update if key != "update_id"), "")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _NOT_BY_DEFAULT


def _chat_of(update: JSON) -> object:
    """The chat an update belongs to (its message's, a button's message's), else its user's
    (a poll answer), else the update itself."""
    for value in update.values():
        if not isinstance(value, dict):
            continue
        message = value.get("message") if "message" in value else value
        chat = (message or {}).get("chat") if isinstance(message, dict) else None
        if chat:
            return ("chat", chat.get("id"))
        user = value.get("from") or value.get("user")
        if user:
            return ("user", user.get("id"))
    return ("update", update.get("update_id"))


class _Signal:
    """Wakes every waiter on each ``notify()``; check your condition, then ``wait()``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class _Params:
    """Decoded request parameters with Bot API style validation errors."""

    def __init__(self, values: JSON, files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, key: str) -> bool:
        return self.values.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value

    def get_str(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def req_str(self, key: str) -> str:
        value = self.get_str(key)
        if value is None:
            raise ApiError(400, f"Bad Request: parameter {key!r} is required")
        return value

    def get_int(self, key: str, default: int | None = None) -> int | None:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            raise ApiError(400, f"Bad Request: invalid {key} specified")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ApiError(400, f"Bad Request: invalid {key} specified")

    def req_int(self, key: str) -> int:
        value = self.get_int(key)
        if value is None:
            raise ApiError(400, f"Bad Request: parameter {key!r} is required")
        return value

    def get_float(self, key: str) -> float:
        value = self.values.get(key)
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {key} specified") from None

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)


def _normalise_params(raw: JSON) -> JSON:
    """Decode form values (JSON-encoded non-strings) into Python values by parameter name."""
    out: JSON = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
            elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            elif key in _FLOAT_FIELDS:
                with contextlib.suppress(ValueError):
                    value = float(value)
            elif key in _BOOL_FIELDS:
                value = value.strip().lower() in {"true", "1"}
        out[key] = value
    return out


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG image, if recognisable."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None


def png(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """An RGB PNG from its rows of pixels (3 bytes each), with no imaging library."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        body = tag + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    raw = zlib.compress(b"".join(b"\x00" + row for row in rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def solid_png(
    width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (90, 150, 220)
) -> bytes:
    """A small solid-colour PNG, used as the content of files that have no real bytes."""
    return png(width, height, [bytes(rgb) * width] * height)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_truthy_result(value: object) -> bool:
    return value is not None and value is not False and bool(value)


class BotApiStandIn:
    """An in-process stand-in for the Telegram Bot API (see the module docstring)."""

    #: Default coordinates offered by the web chat's location form.
    default_location: tuple[float, float] = (31.2304, 121.4737)

    def __init__(
        self,
        token: str = "123456:TEST",
        host: str = "127.0.0.1",
        port: int = 0,
        bot_user_id: int = 100000,
        bot_username: str = "civic_test_bot",
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(
                f"the simulator serves on a loopback address only (127.0.0.1), not {host!r}"
            )
        self.token = token
        self.host = host
        self.port = port
        self.bot_user: JSON = {
            "id": bot_user_id,
            "is_bot": True,
            "first_name": "Civic Test Bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }
        #: Reject send* calls with file ids the stand-in never issued (like Telegram).
        self.strict_file_ids = True
        #: For the web chat: named spots on its map (name, latitude, longitude) ...
        self.places: list[tuple[str, float, float]] = []
        #: ... and a label per user ("居民", "管理员" …) to group the "I am" list by.
        self.roles: dict[int, str] = {}
        #: More of the web chat (the WeChat residents' view, say): each is called with the
        #: app in ``build_app`` to add its routes, under /ui/ to be behind the same guard.
        self.web_mounts: list[Callable[[web.Application], None]] = []
        #: The time users' messages are dated with (a test may set the clock).
        self.clock: Callable[[], float] = time.time

        # Inspection.
        self.requests: list[ApiRequest] = []
        self.calls: Counter[str] = Counter()
        self.sent: list[SentMessage] = []
        self.edits: list[SentMessage] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: dict[str, JSON] = {}
        self.updates: list[JSON] = []
        self.flood_count = 0
        self.commands: dict[str, list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        #: The webhook set by setWebhook: updates are posted to it, not kept for getUpdates.
        self.webhook: Webhook | None = None
        #: A failed post (no answer, or not 2xx) is tried again this many times, after
        #: webhook_backoff seconds and then twice as long each time, and then given up on
        #: (Telegram keeps trying for longer, then also gives up).
        self.webhook_retries = 4
        self.webhook_backoff = 0.05
        #: Every post to the webhook: (update_id, HTTP status; 0 when none came back).
        self.webhook_posts: list[tuple[int, int]] = []
        #: Updates not delivered: given up on, or of a type the webhook did not ask for.
        self.webhook_dropped: list[JSON] = []

        # World.
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, StoredFile] = {}
        self._polls: dict[str, _Poll] = {}
        self._callbacks: dict[str, JSON] = {}
        self._pending_updates: list[JSON] = []
        self._next_update_id = 1
        self._counter = 0
        self._failures: dict[int, _Failure] = {}
        self._rate_limit: float | None = None
        self._send_times: deque[float] = deque()
        self._chat_rate_limit: float | None = None
        self._chat_send_times: dict[int, deque[float]] = {}
        self._ui_version = 0
        self._instance = secrets.token_hex(4)
        self._poll_generation = 0
        self._closing = False

        self._update_signal: _Signal | None = None
        self._activity_signal: _Signal | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[_Params], Awaitable[Any]]]] = {}
        for name, handler in self._method_table().items():
            self._methods[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url()`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url()``."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def web_url(self) -> str:
        """Address of the web chat."""
        return f"http://{self.host}:{self.port}/"

    def build_app(self) -> web.Application:
        """The aiohttp application (``start()`` runs it; useful for embedding).

        It answers only requests addressed to its own host and port (see
        simulator/guard.py), so an embedder sets ``.port`` to where it serves.
        """
        # A little over Telegram's upload limit, so that the limit itself answers.
        app = web.Application(
            client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024,
            middlewares=[
                same_site_only(self.host, lambda: self.port, multipart_paths={"/ui/photo"})
            ],
        )
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file_download)
        app.router.add_get("/", self._ui_page)
        app.router.add_static("/web/", _WEB_DIR)
        app.router.add_get("/ui/world", self._ui_world)
        app.router.add_get("/ui/state", self._ui_state)
        app.router.add_post("/ui/send", self._ui_send)
        app.router.add_post("/ui/press", self._ui_press)
        app.router.add_post("/ui/location", self._ui_location)
        app.router.add_post("/ui/photo", self._ui_photo)
        app.router.add_post("/ui/poll", self._ui_poll)
        app.router.add_post("/ui/contact", self._ui_contact)
        app.router.add_post("/ui/adduser", self._ui_add_user)
        app.router.add_get("/ui/file/{file_id}", self._ui_file)
        for mount in self.web_mounts:
            mount(app)
        return app

    async def start(self) -> None:
        """Bind and serve; with ``port=0`` an ephemeral port is chosen (see ``.port``)."""
        if self._runner is not None:
            raise RuntimeError("stand-in already started")
        self._closing = False
        self._update_signal = _Signal()
        self._activity_signal = _Signal()
        runner = web.AppRunner(
            self.build_app(), access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
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
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        _LOG.info("Bot API stand-in listening on %s", self.web_url)

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once."""
        self._closing = True
        self._signals_notify()
        if self._webhook_task is not None:
            task, self._webhook_task = self._webhook_task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for state in self._polls.values():
            if state.timer is not None:
                state.timer.cancel()
                state.timer = None
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

    def _signals_notify(self) -> None:
        if self._update_signal is not None:
            self._update_signal.notify()
        if self._activity_signal is not None:
            self._activity_signal.notify()

    def _activity(self) -> None:
        if self._activity_signal is not None:
            self._activity_signal.notify()

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _touch_ui(self) -> None:
        self._ui_version += 1

    # ------------------------------------------------------------------ world

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        """Create a user and their private chat (chat id == user id); returns the User JSON."""
        user: JSON = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "zh-hans",
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        self._users[user_id] = user
        chat_info: JSON = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat_info["last_name"] = last_name
        if username:
            chat_info["username"] = username
        existing = self._chats.get(user_id)
        if existing is not None:
            existing.info = chat_info
        else:
            self._chats[user_id] = _Chat(info=chat_info, members={user_id: "member"})
        self._touch_ui()
        return dict(user)

    def add_group(self, chat_id: int, title: str, members: Iterable[int] = ()) -> JSON:
        """Create a supergroup; ``members`` become ``member``; the bot is an administrator.

        Members need not be added users yet (injecting their messages does need add_user).
        """
        info: JSON = {"id": chat_id, "type": "supergroup", "title": title}
        chat = _Chat(info=info)
        chat.members[self.bot_user["id"]] = "administrator"
        for user_id in members:
            chat.members[user_id] = "member"
        self._chats[chat_id] = chat
        self._touch_ui()
        return dict(info)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set a group member's status (creator/administrator/member/restricted/left/kicked)."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown member status {status!r}")
        chat = self._require_chat(chat_id)
        chat.members[user_id] = status
        self._touch_ui()

    def user_joins(self, chat_id: int, user_id: int) -> JSON:
        """Make ``user_id`` a member and inject the ``new_chat_members`` service message."""
        chat = self._require_chat(chat_id)
        user = self._require_user(user_id)
        chat.members[user_id] = "member"
        return self._inject_message(user_id, chat_id, {"new_chat_members": [dict(user)]})

    def user(self, user_id: int) -> JSON:
        return dict(self._require_user(user_id))

    def chat(self, chat_id: int) -> JSON:
        return dict(self._require_chat(chat_id).info)

    def _require_user(self, user_id: int) -> JSON:
        try:
            return self._users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}; call add_user() first") from None

    def _require_chat(self, chat_id: int) -> _Chat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise ValueError(f"unknown chat {chat_id}; call add_user()/add_group()") from None

    # ------------------------------------------------------------------ inspection

    def messages(self, chat_id: int) -> list[JSON]:
        """Current state (after edits, without deleted ones) of the bot's messages in a chat."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [
            copy.deepcopy(m)
            for m in chat.messages.values()
            if m.get("from", {}).get("id") == self.bot_user["id"]
        ]

    def all_messages(self, chat_id: int) -> list[JSON]:
        """Current state of every message (users' and the bot's) in a chat."""
        chat = self._chats.get(chat_id)
        return [] if chat is None else [copy.deepcopy(m) for m in chat.messages.values()]

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """Current state of one message, or None if it does not exist (any more)."""
        chat = self._chats.get(chat_id)
        if chat is None or message_id not in chat.messages:
            return None
        return copy.deepcopy(chat.messages[message_id])

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent to one chat, oldest first."""
        return [s for s in self.sent if s.chat_id == chat_id]

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a known file."""
        return self._files[file_id].data

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates' offset, or not yet posted to the webhook."""
        return copy.deepcopy(self._pending_updates)

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> T:
        """Wait until ``predicate()`` returns a truthy value and return it.

        Re-checked after every Bot API request and injected update, and every 10 ms.  Raises
        AssertionError describing the latest requests when ``timeout`` seconds pass.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        signal = self._activity_signal
        if signal is None:
            raise RuntimeError("stand-in not started")
        while True:
            value = predicate()
            if _is_truthy_result(value):
                return value  # type: ignore[return-value]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"condition not met within {timeout}s; {self.describe_recent()}"
                )
            # Bot requests wake us at once; the short tick catches state that changes
            # without one (e.g. a handler appending to a list the predicate reads).
            await signal.wait(min(remaining, _WAIT_TICK))

    def describe_recent(self, count: int = 10) -> str:
        """A short description of the latest Bot API requests (for assertion messages)."""
        # getUpdates calls (one per long-poll cycle) would crowd out everything else.
        relevant = [r for r in self.requests if r.method != "getUpdates"]
        if not relevant:
            return "the bot made no Bot API requests (other than getUpdates)"
        lines = []
        for req in relevant[-count:]:
            params = {k: v for k, v in req.params.items() if k not in {"timeout", "offset"}}
            text = _json_dumps(params)
            if len(text) > 200:
                text = text[:200] + "…"
            suffix = f" -> {req.description}" if req.description else ""
            lines.append(f"  {req.method} [{req.status}] {text}{suffix}")
        return f"last {len(lines)} of {len(relevant)} requests:\n" + "\n".join(lines)

    async def next_sent(
        self,
        chat_id: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int | None = None,
    ) -> SentMessage:
        """Wait for the next message the bot sends to ``chat_id``.

        ``after`` is the number of messages already sent to that chat to skip (default:
        the number at the time of the call).
        """
        skip = len(self.sent_to(chat_id)) if after is None else after

        def check() -> SentMessage | None:
            sent = self.sent_to(chat_id)
            return sent[skip] if len(sent) > skip else None

        try:
            return await self.wait_for(check, timeout)
        except AssertionError as exc:
            raise AssertionError(f"no message #{skip + 1} to chat {chat_id}: {exc}") from None

    async def answer_to(self, callback_id: str, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait for answerCallbackQuery for ``callback_id``; returns {text, show_alert, url}."""
        try:
            return await self.wait_for(lambda: self.callback_answers.get(callback_id), timeout)
        except AssertionError as exc:
            raise AssertionError(f"callback {callback_id} was not answered: {exc}") from None

    # ------------------------------------------------------------------ failure injection

    def fail_chat(
        self,
        chat_id: int,
        kind: FailureKind,
        times: int | None = None,
        retry_after: int = 1,
        delay: float = 0.0,
        migrate_to: int | None = None,
    ) -> None:
        """Make send*/edit* calls targeting ``chat_id`` fail (``times`` calls, None = until
        ``clear_failures``).  sendChatAction is not affected.  ``"slow"`` is the fault of an
        overloaded Telegram: the call is carried out, but answered ``delay`` seconds late.
        ``"migrated"`` is a group upgraded to the supergroup ``migrate_to`` (400 with
        ``migrate_to_chat_id``); ``"not_started"`` a user who never started the bot (403)."""
        kinds = {
            "chat_not_found",
            "forbidden",
            "not_started",
            "server_error",
            "flood",
            "disconnect",
            "slow",
            "migrated",
        }
        if kind not in kinds:
            raise ValueError(f"unknown failure kind {kind!r}")
        if kind == "migrated" and migrate_to is None:
            raise ValueError("a migrated chat needs migrate_to")
        self._failures[chat_id] = _Failure(kind, times, retry_after, delay, migrate_to)

    def clear_failures(self, chat_id: int | None = None) -> None:
        """Remove injected failures for one chat, or for all chats."""
        if chat_id is None:
            self._failures.clear()
        else:
            self._failures.pop(chat_id, None)

    def rate_limit(self, per_second: float | None, per_chat: float | None = None) -> None:
        """Answer message-sending calls above ``per_second`` (sliding 1 s window, all chats
        together), or above ``per_chat`` in one chat, with 429 retry_after=1; each counts in
        ``flood_count``.  None disables."""
        self._rate_limit = per_second
        self._chat_rate_limit = per_chat
        self._send_times.clear()
        self._chat_send_times.clear()

    def _check_failures(self, method: str, params: JSON) -> float:
        """Raise the failure injected for this call's chat; return how late to answer it."""
        if method not in _SEND_METHODS and method not in _EDIT_METHODS:
            return 0.0
        chat_id = self._chat_id_of(params.get("chat_id"))
        failure = self._failures.get(chat_id) if chat_id is not None else None
        if failure is not None:
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    del self._failures[chat_id]  # type: ignore[arg-type]
            if failure.kind == "slow":
                return failure.delay
            if failure.kind == "chat_not_found":
                raise ApiError(400, "Bad Request: chat not found")
            if failure.kind == "forbidden" and chat_id is not None and chat_id < 0:
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            if failure.kind == "forbidden":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if failure.kind == "not_started":
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            if failure.kind == "server_error":
                raise ApiError(502, "Bad Gateway")
            if failure.kind == "migrated":
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to=failure.migrate_to,
                )
            if failure.kind == "flood":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {failure.retry_after}",
                    retry_after=failure.retry_after,
                )
            raise _Disconnect
        if method not in _SEND_METHODS:
            return
        now = time.monotonic()
        for limit, times in (
            (self._rate_limit, self._send_times),
            (self._chat_rate_limit, self._chat_send_times.get(chat_id or 0)),
        ):
            if limit is None or times is None:
                continue
            while times and now - times[0] >= 1.0:
                times.popleft()
            if len(times) >= limit:
                self.flood_count += 1
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        return 0.0

    def _chat_id_of(self, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            if re.fullmatch(r"-?\d+", value.strip()):
                return int(value)
            if value.startswith("@"):
                for chat in self._chats.values():
                    if chat.info.get("username", "").lower() == value[1:].lower():
                        return chat.id
        return None

    # ------------------------------------------------------------------ update injection

    def inject(self, update: JSON) -> int:
        """Queue a raw update body (without ``update_id``); returns the assigned update_id."""
        body = copy.deepcopy(update)
        body["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._pending_updates.append(body)
        self.updates.append(body)
        self._touch_ui()
        self._signals_notify()
        return int(body["update_id"])

    def _resolve_chat_for(self, user_id: int, chat_id: int | None) -> _Chat:
        self._require_user(user_id)
        return self._require_chat(user_id if chat_id is None else chat_id)

    def _inject_message(
        self,
        user_id: int,
        chat_id: int | None,
        content: JSON,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        user = self._require_user(user_id)
        chat = self._resolve_chat_for(user_id, chat_id)
        message = self._new_message(chat, user, content)
        if reply_to_message_id is not None:
            target = chat.messages.get(reply_to_message_id)
            if target is None:
                del chat.messages[message["message_id"]]
                raise ValueError(f"no message {reply_to_message_id} in chat {chat.id}")
            message["reply_to_message"] = self._reply_copy(target)
        self.inject({"message": message})
        return copy.deepcopy(message)

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """Inject a text message from a user (commands get a ``bot_command`` entity)."""
        content: JSON = {"text": text}
        match = _COMMAND_RE.match(text)
        if match:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}
            ]
        return self._inject_message(user_id, chat_id, content, reply_to_message_id)

    def send_photo(
        self,
        user_id: int,
        caption: str | None = None,
        chat_id: int | None = None,
        media_group_id: str | None = None,
        file_id: str | None = None,
        data: bytes | None = None,
    ) -> JSON:
        """Inject a photo message (two sizes); ``file_id`` is generated when None."""
        if file_id is not None and file_id in self._files:
            stored = self._files[file_id]
        else:
            stored = self._store_file(
                "photo",
                data if data is not None else solid_png(),
                "image/jpeg",
                file_id=file_id,
            )
        content: JSON = {"photo": self._photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._inject_message(user_id, chat_id, content)

    def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """Inject a location message."""
        content = {"location": {"latitude": float(latitude), "longitude": float(longitude)}}
        return self._inject_message(user_id, chat_id, content, reply_to_message_id)

    def send_sticker(self, user_id: int, chat_id: int | None = None, emoji: str = "👍") -> JSON:
        """Inject a sticker message."""
        stored = self._store_file("sticker", solid_png(128, 128), "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._inject_message(user_id, chat_id, {"sticker": sticker})

    def send_voice(self, user_id: int, chat_id: int | None = None, duration: int = 3) -> JSON:
        """Inject a voice message."""
        stored = self._store_file("voice", b"OggS" + bytes(60), "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._inject_message(user_id, chat_id, {"voice": voice})

    def send_video(
        self, user_id: int, chat_id: int | None = None, caption: str | None = None
    ) -> JSON:
        """Inject a video message."""
        stored = self._store_file("video", bytes(64), "video/mp4", file_name="video.mp4")
        video = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 640,
            "height": 360,
            "duration": 5,
            "mime_type": "video/mp4",
            "file_size": len(stored.data),
        }
        content: JSON = {"video": video}
        if caption:
            content["caption"] = caption
        return self._inject_message(user_id, chat_id, content)

    def send_document(
        self,
        user_id: int,
        file_name: str = "a.pdf",
        chat_id: int | None = None,
        caption: str | None = None,
        data: bytes | None = None,
        mime_type: str = "application/pdf",
    ) -> JSON:
        """Inject a document message."""
        stored = self._store_file(
            "document",
            data if data is not None else b"%PDF-1.4\n%%EOF\n",
            mime_type,
            file_name=file_name,
        )
        content: JSON = {"document": self._document_json(stored)}
        if caption:
            content["caption"] = caption
        return self._inject_message(user_id, chat_id, content)

    def send_contact(
        self,
        user_id: int,
        phone_number: str = "+8613800138000",
        chat_id: int | None = None,
    ) -> JSON:
        """Inject the user's own contact (as a "share my phone number" button would)."""
        user = self._require_user(user_id)
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": user["first_name"],
            "user_id": user_id,
        }
        if user.get("last_name"):
            contact["last_name"] = user["last_name"]
        return self._inject_message(user_id, chat_id, {"contact": contact})

    def press(
        self,
        user_id: int,
        message: JSON | int,
        data: str,
        chat_id: int | None = None,
        shown: PressedMessage = "accessible",
    ) -> str:
        """Inject a callback query for a button of a stored message; returns its id.

        ``shown`` is how the query carries the message: whole, inaccessible (chat and
        id only, date 0) or absent, as Telegram does for a message too old.
        """
        user = self._require_user(user_id)
        if isinstance(message, dict):
            target_chat_id = int(message["chat"]["id"])
            message_id = int(message["message_id"])
        else:
            target_chat_id = user_id if chat_id is None else chat_id
            message_id = int(message)
        chat = self._require_chat(target_chat_id)
        stored = chat.messages.get(message_id)
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {target_chat_id}")
        callback_id = str(4_200_000_000_000_000_000 + self._next())
        query: JSON = {
            "id": callback_id,
            "from": dict(user),
            "message": copy.deepcopy(stored),
            "chat_instance": str(-(abs(target_chat_id) * 7919 % 10**18) - 1),
            "data": data,
        }
        if shown == "inaccessible":
            query["message"] = {"chat": stored["chat"], "message_id": message_id, "date": 0}
        elif shown == "absent":
            del query["message"]
        self._callbacks[callback_id] = query
        self.inject({"callback_query": query})
        return callback_id

    def answer_poll(self, user_id: int, poll_id: str, option_ids: Sequence[int]) -> JSON | None:
        """A user votes (empty ``option_ids`` retracts).

        Like Telegram, a ``poll_answer`` update is delivered only for non-anonymous polls
        (returned here; None for anonymous ones) and a ``poll`` update with the new counts
        is delivered for every vote.
        """
        user = self._require_user(user_id)
        state = self._polls.get(poll_id)
        if state is None:
            raise ValueError(f"unknown poll {poll_id}")
        poll = state.poll
        if poll["is_closed"]:
            raise ValueError(f"poll {poll_id} is closed")
        options = [int(o) for o in option_ids]
        if any(o < 0 or o >= len(poll["options"]) for o in options):
            raise ValueError(f"option out of range: {options}")
        if len(options) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("poll does not allow multiple answers")
        previous = state.votes.get(user_id)
        if previous and not poll["allows_revoting"]:
            raise ValueError("poll does not allow changing the vote")
        if previous:
            for option in previous:
                poll["options"][option]["voter_count"] -= 1
            poll["total_voter_count"] -= 1
        if options:
            state.votes[user_id] = options
            for option in options:
                poll["options"][option]["voter_count"] += 1
            poll["total_voter_count"] += 1
        else:
            state.votes.pop(user_id, None)
        self._sync_poll_message(state)
        answer: JSON | None = None
        if not poll["is_anonymous"]:
            answer = {
                "poll_id": poll_id,
                "user": dict(user),
                "option_ids": options,
                "option_persistent_ids": [poll["options"][o]["persistent_id"] for o in options],
            }
            self.inject({"poll_answer": answer})
        self.inject({"poll": self._public_poll(poll)})
        return copy.deepcopy(answer)

    def _sync_poll_message(self, state: _Poll) -> None:
        chat = self._chats.get(state.chat_id)
        if chat is not None and state.message_id in chat.messages:
            chat.messages[state.message_id]["poll"] = copy.deepcopy(state.poll)
        self._touch_ui()

    @staticmethod
    def _public_poll(poll: JSON) -> JSON:
        return copy.deepcopy(poll)

    def _close_poll(self, poll_id: str) -> JSON:
        state = self._polls[poll_id]
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        state.poll["is_closed"] = True
        self._sync_poll_message(state)
        self.inject({"poll": self._public_poll(state.poll)})
        return copy.deepcopy(state.poll)

    # ------------------------------------------------------------------ messages & files

    def _chat_json(self, chat: _Chat) -> JSON:
        return dict(chat.info)

    def _new_message(self, chat: _Chat, sender: JSON, content: JSON) -> JSON:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: JSON = {
            "message_id": message_id,
            "from": dict(sender),
            "chat": self._chat_json(chat),
            "date": int(self.clock()),
        }
        message.update(content)
        chat.messages[message_id] = message
        self._touch_ui()
        return message

    @staticmethod
    def _reply_copy(target: JSON) -> JSON:
        reply = copy.deepcopy(target)
        reply.pop("reply_to_message", None)
        return reply

    def _store_file(
        self,
        kind: str,
        data: bytes,
        mime_type: str,
        file_name: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        n = self._next()
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC"}.get(
            kind, "BAAC"
        )
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}.get(
            kind, kind + "s"
        )
        ext = {
            "photo": ".jpg",
            "sticker": ".webp",
            "voice": ".oga",
            "video": ".mp4",
        }.get(kind, Path(file_name or "").suffix or ".bin")
        stored = StoredFile(
            file_id=file_id or f"{prefix}{kind}{n:06d}",
            file_unique_id=f"AQAD{n:06d}",
            kind=kind,
            data=data,
            mime_type=mime_type,
            file_name=file_name,
            file_path=f"{folder}/file_{n}{ext}",
        )
        if kind == "photo":
            stored.width, stored.height = _image_size(data) or (1280, 960)
        self._files[stored.file_id] = stored
        return stored

    def _photo_sizes(self, stored: StoredFile) -> list[JSON]:
        if stored.thumb_id is None or stored.thumb_id not in self._files:
            thumb = self._store_file("photo", stored.data, stored.mime_type)
            scale = max(stored.width, stored.height) / 320 or 1
            thumb.width = max(1, round(stored.width / scale))
            thumb.height = max(1, round(stored.height / scale))
            stored.thumb_id = thumb.file_id
        thumb = self._files[stored.thumb_id]
        return [
            {
                "file_id": f.file_id,
                "file_unique_id": f.file_unique_id,
                "file_size": len(f.data),
                "width": f.width,
                "height": f.height,
            }
            for f in (thumb, stored)
        ]

    @staticmethod
    def _document_json(stored: StoredFile) -> JSON:
        doc: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "mime_type": stored.mime_type,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            doc["file_name"] = stored.file_name
        return doc

    def _input_file(self, p: _Params, key: str, kind: str, value: Any = None) -> StoredFile:
        """Resolve a file parameter: an upload, an attach:// reference, a URL or a file_id."""
        if value is None:
            if key in p.files:
                return self._store_upload(p.files[key], kind)
            value = p.values.get(key)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if value.startswith("attach://"):
            upload = p.files.get(value[len("attach://") :])
            if upload is None:
                raise ApiError(400, WRONG_FILE_ID)
            return self._store_upload(upload, kind)
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or None
            placeholder = solid_png() if kind == "photo" else b""
            return self._store_file(kind, placeholder, "image/jpeg", file_name=name)
        stored = self._files.get(value)
        if stored is None:
            if self.strict_file_ids:
                raise ApiError(400, WRONG_FILE_ID)
            data = solid_png() if kind == "photo" else b""
            return self._store_file(kind, data, "application/octet-stream", file_id=value)
        if (
            kind in {"photo", "document"}
            and stored.kind != kind
            and stored.kind
            in {
                "photo",
                "document",
            }
        ):
            raise ApiError(
                400,
                f"Bad Request: can't use file of type {stored.kind.capitalize()} as "
                f"{kind.capitalize()}",
            )
        return stored

    def _store_upload(self, upload: UploadedFile, kind: str) -> StoredFile:
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if kind == "photo" and len(upload.data) > MAX_PHOTO_BYTES:
            raise ApiError(400, TOO_BIG)
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, TOO_LARGE)
        mime = upload.content_type or "application/octet-stream"
        if kind == "photo":
            if _image_size(upload.data) is None and not mime.startswith("image/"):
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            mime = "image/jpeg"
        return self._store_file(kind, upload.data, mime, file_name=upload.filename)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> _Params:
        try:
            return await self._read_body(request)
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, TOO_LARGE) from None

    async def _read_body(self, request: web.Request) -> _Params:
        raw: JSON = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON body") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            field_name=key,
                            filename=value.filename,
                            content_type=value.content_type,
                            data=value.file.read(),
                        )
                    else:
                        raw[key] = value
        return _Params(_normalise_params(raw), files)

    @staticmethod
    def _error_body(
        status: int, description: str, retry_after: int | None = None, migrate_to: int | None = None
    ) -> JSON:
        body: JSON = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        if migrate_to is not None:
            body["parameters"] = {"migrate_to_chat_id": migrate_to}
        return body

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method_name = request.match_info["method"]
        token = request.match_info["token"]
        params: _Params | None = None
        record = ApiRequest(method=method_name, params={}, status=0, time=time.time())
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            entry = self._methods.get(method_name.lower())
            if entry is None:
                raise ApiError(404, "Not Found")
            record.method, handler = entry
            params = await self._read_params(request)
            record.params, record.files = params.values, params.files
            late = self._check_failures(record.method, params.values)
            result = await handler(params)
        except _Disconnect:
            record.status = 0
            record.description = "connection dropped (injected)"
            self._record(record)
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)
        except ApiError as exc:
            record.status = exc.status
            record.description = exc.description
            self._record(record)
            body = self._error_body(exc.status, exc.description, exc.retry_after, exc.migrate_to)
            return web.json_response(body, status=exc.status, dumps=_json_dumps)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _LOG.exception("stand-in failed to handle %s", method_name)
            record.status = 500
            record.description = f"Internal Server Error: {exc!r}"
            self._record(record)
            body = self._error_body(500, record.description)
            return web.json_response(body, status=500, dumps=_json_dumps)
        record.status = 200
        record.result = result
        if record.method in _SEND_METHODS and self._rate_limit is not None:
            self._send_times.append(time.monotonic())
        if record.method in _SEND_METHODS and self._chat_rate_limit is not None:
            chat_id = self._chat_id_of(record.params.get("chat_id")) or 0
            self._chat_send_times.setdefault(chat_id, deque()).append(time.monotonic())
        self._record(record)
        if late:
            await asyncio.sleep(late)  # done and recorded; the client may have given up by now
        return web.json_response({"ok": True, "result": result}, dumps=_json_dumps)

    def _record(self, record: ApiRequest) -> None:
        self.calls[record.method] += 1
        self.requests.append(record)
        self._activity()

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(self._error_body(401, "Unauthorized"), status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.mime_type)
        return web.json_response(self._error_body(404, "Not Found"), status=404)

    # ------------------------------------------------------------------ Bot API methods

    def _method_table(self) -> dict[str, Callable[[_Params], Awaitable[Any]]]:
        return {
            "getMe": self._m_get_me,
            "logOut": self._m_true,
            "close": self._m_true,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "getUpdates": self._m_get_updates,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setMyDescription": self._m_true,
            "setMyShortDescription": self._m_true,
            "setMyName": self._m_true,
            "setChatMenuButton": self._m_set_chat_menu_button,
            "getChatMenuButton": self._m_get_chat_menu_button,
            "sendMessage": self._m_send_message,
            "sendPhoto": self._m_send_photo,
            "sendMediaGroup": self._m_send_media_group,
            "sendLocation": self._m_send_location,
            "sendVenue": self._m_send_venue,
            "sendDocument": self._m_send_document,
            "sendPoll": self._m_send_poll,
            "stopPoll": self._m_stop_poll,
            "forwardMessage": self._m_forward_message,
            "copyMessage": self._m_copy_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "deleteMessage": self._m_delete_message,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_pin_chat_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "getChatMember": self._m_get_chat_member,
            "getChatAdministrators": self._m_get_chat_administrators,
            "getChatMemberCount": self._m_get_chat_member_count,
            "getChat": self._m_get_chat,
            "getFile": self._m_get_file,
            "sendChatAction": self._m_send_chat_action,
        }

    async def _m_true(self, p: _Params) -> bool:
        return True

    async def _m_get_me(self, p: _Params) -> JSON:
        return dict(self.bot_user)

    async def _m_set_webhook(self, p: _Params) -> bool:
        url = p.req_str("url")
        if not url:
            return await self._m_delete_webhook(p)
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        # Telegram posts over HTTPS to ports 443, 80, 88 and 8443; the stand-in posts to
        # the machine it runs on, over HTTP too, to any port (a test's server).
        if not _is_loopback(parts.hostname or ""):
            raise ApiError(
                400, "Bad Request: bad webhook: the stand-in posts to a loopback address only"
            )
        secret = p.get_str("secret_token") or None
        if secret is not None and len(secret) > WEBHOOK_SECRET_MAX:
            raise ApiError(400, "Bad Request: secret token is too long")
        if secret is not None and not _WEBHOOK_SECRET_RE.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = p.get_int("max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: invalid max_connections specified")
        allowed = p.raw("allowed_updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise ApiError(400, "Bad Request: can't parse allowed updates")
        if allowed is None and self.webhook is not None:
            allowed = self.webhook.allowed_updates  # unnamed: the previous setting stays
        if p.get_bool("drop_pending_updates"):
            self._pending_updates.clear()
        self.webhook = Webhook(url, secret, allowed, max_connections)
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._signals_notify()  # a long poll under way ends (in a conflict)
        return True

    async def _m_delete_webhook(self, p: _Params) -> bool:
        # Updates not yet posted stay, for getUpdates (unless dropped).
        self.webhook = None
        if p.get_bool("drop_pending_updates"):
            self._pending_updates.clear()
        self._signals_notify()
        return True

    async def _m_get_webhook_info(self, p: _Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending_updates),
        }
        hook = self.webhook
        if hook is not None:
            info.update(url=hook.url, max_connections=hook.max_connections)
            if hook.allowed_updates is not None:
                info["allowed_updates"] = list(hook.allowed_updates)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _deliver_to_webhook(self) -> None:
        """Post pending updates to the webhook while one is set, as Telegram does: up to
        its `max_connections` posts at once, one chat's updates one after another (an
        update is posted once the chat's previous one was answered), in order."""
        signal = self._update_signal
        assert signal is not None
        posting: dict[int, asyncio.Task[None]] = {}  # update_id → its post
        busy: set[object] = set()  # the chats with a post under way
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            try:
                while (hook := self.webhook) is not None and not self._closing:
                    for update in list(self._pending_updates):
                        if len(posting) >= hook.max_connections:
                            break
                        chat = _chat_of(update)
                        if update["update_id"] in posting or chat in busy:
                            continue
                        busy.add(chat)
                        posting[update["update_id"]] = asyncio.create_task(
                            self._deliver_one(session, hook, update, chat, posting, busy)
                        )
                    arrived = asyncio.ensure_future(signal.wait(1.0))
                    await asyncio.wait(
                        [arrived, *posting.values()], return_when=asyncio.FIRST_COMPLETED
                    )
                    arrived.cancel()
            finally:
                for task in posting.values():
                    task.cancel()
                await asyncio.gather(*posting.values(), return_exceptions=True)

    async def _deliver_one(
        self,
        session: aiohttp.ClientSession,
        hook: Webhook,
        update: JSON,
        chat: object,
        posting: dict[int, asyncio.Task[None]],
        busy: set[object],
    ) -> None:
        """Post one update and take it off the pending list (or drop it, given up on)."""
        try:
            delivered = hook.wants(update) and await self._post_update(session, hook, update)
            if self.webhook is not hook:
                return  # deleted or set anew meanwhile: the update is still pending
            with contextlib.suppress(ValueError):
                self._pending_updates.remove(update)
            if not delivered:
                self.webhook_dropped.append(update)
            self._activity()
        finally:
            posting.pop(int(update["update_id"]), None)
            busy.discard(chat)

    async def _post_update(
        self, session: aiohttp.ClientSession, hook: Webhook, update: JSON
    ) -> bool:
        """Post one update, trying again after a failure; whether the webhook took it."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[WEBHOOK_SECRET_HEADER] = hook.secret_token
        body = _json_dumps(update).encode()
        for attempt in range(self.webhook_retries + 1):
            if attempt:
                await asyncio.sleep(self.webhook_backoff * 2 ** (attempt - 1))
                if self.webhook is not hook:
                    return False
            status = 0
            try:
                async with session.post(hook.url, data=body, headers=headers) as response:
                    status = response.status
                    await response.read()
                    problem = f"Wrong response from the webhook: {status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = "Connection refused" if isinstance(exc, OSError) else repr(exc)
            self.webhook_posts.append((int(update["update_id"]), status))
            self._activity()
            if 200 <= status < 300:
                return True
            hook.last_error_date = int(self.clock())
            hook.last_error_message = problem
            _LOG.info("webhook post of update %s failed: %s", update["update_id"], problem)
        return False

    async def _m_get_updates(self, p: _Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = p.get_int("offset")
        limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
        timeout = max(p.get_int("timeout", 0) or 0, 0)
        if offset is not None:
            if offset < 0:
                self._pending_updates = self._pending_updates[offset:]
            else:
                self._pending_updates = [
                    u for u in self._pending_updates if u["update_id"] >= offset
                ]
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        signal = self._update_signal
        assert signal is not None
        while True:
            if self.webhook is not None:
                raise ApiError(409, WEBHOOK_ACTIVE)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._pending_updates or self._closing:
                return copy.deepcopy(self._pending_updates[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await signal.wait(remaining)

    @staticmethod
    def _commands_key(p: _Params) -> str:
        scope = p.raw("scope") or {"type": "default"}
        return _json_dumps([scope, p.get_str("language_code") or ""], sort_keys=True)

    async def _m_set_my_commands(self, p: _Params) -> bool:
        commands = p.raw("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: parameter 'commands' is required")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _BOT_COMMAND_NAME_RE.fullmatch(
                str(cmd.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        self._touch_ui()
        return True

    async def _m_get_my_commands(self, p: _Params) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(p), []))

    async def _m_delete_my_commands(self, p: _Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        self._touch_ui()
        return True

    def default_commands(self) -> list[JSON]:
        """Commands set with the default scope and no language code."""
        key = _json_dumps([{"type": "default"}, ""], sort_keys=True)
        return copy.deepcopy(self.commands.get(key, []))

    async def _m_set_chat_menu_button(self, p: _Params) -> bool:
        chat_id = p.get_int("chat_id")
        if chat_id is not None and chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        button = p.raw("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in {
            "default",
            "commands",
            "web_app",
        }:
            raise ApiError(400, "Bad Request: can't parse menu button")
        self.menu_buttons[chat_id] = button
        return True

    async def _m_get_chat_menu_button(self, p: _Params) -> JSON:
        return copy.deepcopy(self.menu_buttons.get(p.get_int("chat_id"), {"type": "commands"}))

    # ---- sending

    def _target_chat(self, p: _Params, key: str = "chat_id") -> _Chat:
        value = p.values.get(key)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: {key} is empty")
        chat_id = self._chat_id_of(value)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if not chat.is_private:
            status = chat.members.get(self.bot_user["id"], "left")
            if status == "kicked":
                raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
            if status == "left":
                raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _formatted(
        self, p: _Params, text_key: str, mode_key: str, entities_key: str, limit: int, what: str
    ) -> tuple[str, list[JSON]]:
        text = p.get_str(text_key) or ""
        entities = p.raw(entities_key)
        if entities is not None:
            if not isinstance(entities, list):
                raise ApiError(400, f"Bad Request: can't parse {entities_key}")
            plain, parsed = text, entities
        else:
            try:
                plain, parsed = parse_formatted(text, p.get_str(mode_key))
            except EntityParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if utf16_len(plain) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return plain, parsed

    def _message_text(self, p: _Params) -> tuple[str, list[JSON]]:
        plain, entities = self._formatted(
            p, "text", "parse_mode", "entities", MAX_TEXT_LENGTH, "message"
        )
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return plain, entities

    def _caption(self, p: _Params, content: JSON) -> None:
        if p.has("caption"):
            caption, entities = self._formatted(
                p,
                "caption",
                "parse_mode",
                "caption_entities",
                MAX_CAPTION_LENGTH,
                "message caption",
            )
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities

    def _markup(self, p: _Params, chat: _Chat | None, inline_only: bool = False) -> JSON | None:
        """Validate ``reply_markup``; returns the inline keyboard (or None).

        Reply keyboards / removals update the chat's keyboard (shown by the web chat).
        """
        markup = p.raw("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return self._validate_inline_keyboard(markup)
        if inline_only:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    label = button if isinstance(button, str) else (button or {}).get("text")
                    if not isinstance(label, str) or not label:
                        raise ApiError(400, "Bad Request: keyboard button text is empty")
            if chat is not None:
                chat.reply_keyboard = copy.deepcopy(markup)
            return None
        if markup.get("remove_keyboard"):
            if chat is not None:
                chat.reply_keyboard = None
            return None
        if markup.get("force_reply"):
            return None
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_keyboard(markup: JSON) -> JSON:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")
                if not isinstance(button.get("text"), str) or not button["text"]:
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                actions = _INLINE_BUTTON_ACTIONS.intersection(button)
                if len(actions) != 1:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are "
                        "unallowed in the inline keyboard",
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return {"inline_keyboard": copy.deepcopy(rows)}

    def _reply_target(self, p: _Params, chat: _Chat) -> JSON | None:
        params = p.raw("reply_parameters")
        target_id: int | None
        allow_missing = p.get_bool("allow_sending_without_reply")
        target_chat = chat
        if isinstance(params, dict):
            target_id = params.get("message_id")
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
            if params.get("chat_id") is not None:
                other = self._chats.get(self._chat_id_of(params["chat_id"]) or 0)
                if other is None:
                    raise ApiError(400, "Bad Request: chat not found")
                target_chat = other
        else:
            target_id = p.get_int("reply_to_message_id")
        if target_id is None:
            return None
        target = target_chat.messages.get(int(target_id))
        if target is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return self._reply_copy(target)

    def _send(
        self,
        method: str,
        chat: _Chat,
        content: JSON,
        p: _Params,
        inline: JSON | None,
        reply_to: JSON | None,
        stored: StoredFile | None = None,
        source_text: str | None = None,
    ) -> JSON:
        if inline is not None:
            content["reply_markup"] = inline
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._new_message(chat, self._bot_sender(), content)
        markup = p.raw("reply_markup")
        if isinstance(markup, dict) and markup.get("force_reply"):
            placeholder = markup.get("input_field_placeholder")
            chat.force_replies[message["message_id"]] = str(placeholder or "")
        document = stored.data if stored is not None and "document" in message else None
        self.sent.append(
            SentMessage.of(chat.id, message, method, source_text, p.get_str("parse_mode"), document)
        )
        return copy.deepcopy(message)

    async def _m_send_message(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        text, entities = self._message_text(p)
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._send(
            "sendMessage", chat, content, p, inline, reply_to, source_text=p.get_str("text")
        )

    async def _m_send_photo(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        stored = self._input_file(p, "photo", "photo")
        content: JSON = {"photo": self._photo_sizes(stored)}
        self._caption(p, content)
        if p.get_bool("has_spoiler"):
            content["has_media_spoiler"] = True
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        return self._send(
            "sendPhoto",
            chat,
            content,
            p,
            inline,
            reply_to,
            stored,
            source_text=p.get_str("caption"),
        )

    async def _m_send_document(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        stored = self._input_file(p, "document", "document")
        content: JSON = {"document": self._document_json(stored)}
        self._caption(p, content)
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        return self._send(
            "sendDocument",
            chat,
            content,
            p,
            inline,
            reply_to,
            stored,
            source_text=p.get_str("caption"),
        )

    async def _m_send_media_group(self, p: _Params) -> list[JSON]:
        chat = self._target_chat(p)
        media = p.raw("media")
        if not isinstance(media, list):
            raise ApiError(400, "Bad Request: parameter 'media' is required")
        if not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the group (2-10)")
        if p.has("reply_markup"):
            raise ApiError(400, "Bad Request: reply markup is not allowed for media groups")
        reply_to = self._reply_target(p, chat)
        prepared: list[tuple[JSON, StoredFile, str | None, str | None]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in {"photo", "document"}:
                raise ApiError(400, "Bad Request: unsupported media type in the group")
            kind = str(item["type"])
            stored = self._input_file(p, "media", kind, value=item.get("media"))
            content: JSON = (
                {"photo": self._photo_sizes(stored)}
                if kind == "photo"
                else {"document": self._document_json(stored)}
            )
            item_params = _Params(
                {
                    "caption": item.get("caption"),
                    "parse_mode": item.get("parse_mode", p.get_str("parse_mode")),
                    "caption_entities": item.get("caption_entities"),
                },
                {},
            )
            self._caption(item_params, content)
            prepared.append(
                (content, stored, item.get("caption"), item_params.get_str("parse_mode"))
            )
        group_id = str(13_000_000_000_000_000 + self._next())
        results = []
        for content, stored, source, _mode in prepared:
            content["media_group_id"] = group_id
            results.append(
                self._send(
                    "sendMediaGroup", chat, content, p, None, reply_to, stored, source_text=source
                )
            )
        return results

    async def _m_send_location(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        location = self._location(p)
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        return self._send("sendLocation", chat, {"location": location}, p, inline, reply_to)

    @staticmethod
    def _location(p: _Params) -> JSON:
        latitude, longitude = p.get_float("latitude"), p.get_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ApiError(400, "Bad Request: wrong coordinates")
        location: JSON = {"latitude": latitude, "longitude": longitude}
        if p.has("horizontal_accuracy"):
            location["horizontal_accuracy"] = p.get_float("horizontal_accuracy")
        return location

    async def _m_send_venue(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        location = self._location(p)
        venue = {"location": location, "title": p.req_str("title"), "address": p.req_str("address")}
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        content = {"venue": venue, "location": dict(location)}
        return self._send("sendVenue", chat, content, p, inline, reply_to)

    async def _m_forward_message(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        source_chat = self._chats.get(self._chat_id_of(p.raw("from_chat_id")) or 0)
        if source_chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        original = source_chat.messages.get(p.req_int("message_id"))
        if original is None:
            raise ApiError(400, "Bad Request: message to forward not found")
        content = self._copyable_content(original)
        origin_user = original.get("from", {})
        content["forward_origin"] = {
            "type": "user",
            "date": original["date"],
            "sender_user": dict(origin_user),
        }
        return self._send("forwardMessage", chat, content, p, None, None)

    async def _m_copy_message(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        source_chat = self._chats.get(self._chat_id_of(p.raw("from_chat_id")) or 0)
        if source_chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        original = source_chat.messages.get(p.req_int("message_id"))
        if original is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        content = self._copyable_content(original)
        if p.has("caption"):
            content.pop("caption", None)
            content.pop("caption_entities", None)
            self._caption(p, content)
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        sent = self._send("copyMessage", chat, content, p, inline, reply_to)
        return {"message_id": sent["message_id"]}

    @staticmethod
    def _copyable_content(original: JSON) -> JSON:
        skip = {
            "message_id",
            "from",
            "chat",
            "date",
            "reply_to_message",
            "reply_markup",
            "edit_date",
            "forward_origin",
            "sender_chat",
        }
        content = {k: copy.deepcopy(v) for k, v in original.items() if k not in skip}
        if not content:
            raise ApiError(400, "Bad Request: message can't be copied")
        return content

    # ---- polls

    async def _m_send_poll(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        question, question_entities = self._formatted(
            p, "question", "question_parse_mode", "question_entities", 300, "poll question"
        )
        if not question.strip():
            raise ApiError(400, "Bad Request: poll question must be non-empty")
        raw_options = p.raw("options")
        if not isinstance(raw_options, list):
            raise ApiError(400, "Bad Request: parameter 'options' is required")
        if len(raw_options) < 2:
            raise ApiError(400, "Bad Request: poll must have at least 2 option")
        if len(raw_options) > 12:
            raise ApiError(400, "Bad Request: poll can't have more than 12 options")
        poll_type = p.get_str("type") or "regular"
        if poll_type not in {"regular", "quiz"}:
            raise ApiError(400, "Bad Request: wrong poll type specified")
        poll_id = str(5_000_000_000_000_000_000 + self._next())
        options: list[JSON] = []
        for index, option in enumerate(raw_options):
            text = option.get("text") if isinstance(option, dict) else option
            if not isinstance(text, str) or not 1 <= len(text) <= 100:
                raise ApiError(400, "Bad Request: poll options length must not exceed 100")
            options.append({"text": text, "voter_count": 0, "persistent_id": f"{poll_id}-{index}"})
        multiple = p.get_bool("allows_multiple_answers")
        poll: JSON = {
            "id": poll_id,
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": p.get_bool("is_closed"),
            "is_anonymous": p.get_bool("is_anonymous", True),
            "type": poll_type,
            "allows_multiple_answers": multiple,
            "allows_revoting": p.get_bool("allows_revoting", poll_type == "regular"),
            "members_only": p.get_bool("members_only"),
        }
        if question_entities:
            poll["question_entities"] = question_entities
        if poll_type == "quiz":
            correct = p.raw("correct_option_ids")
            if correct is None and p.has("correct_option_id"):
                correct = [p.req_int("correct_option_id")]
            if (
                not isinstance(correct, list)
                or not correct
                or not all(isinstance(c, int) and 0 <= c < len(options) for c in correct)
                or (len(correct) > 1 and not multiple)
            ):
                raise ApiError(400, "Bad Request: wrong correct option ids specified")
            poll["correct_option_ids"] = sorted(set(correct))
            if p.has("explanation"):
                explanation, explanation_entities = self._formatted(
                    p,
                    "explanation",
                    "explanation_parse_mode",
                    "explanation_entities",
                    200,
                    "poll explanation",
                )
                poll["explanation"] = explanation
                if explanation_entities:
                    poll["explanation_entities"] = explanation_entities
        open_period = p.get_int("open_period")
        close_date = p.get_int("close_date")
        delay: float | None = None
        if open_period is not None:
            if not 5 <= open_period <= 2_628_000:
                raise ApiError(400, "Bad Request: wrong open period specified")
            poll["open_period"] = open_period
            delay = open_period
        elif close_date is not None:
            poll["close_date"] = close_date
            delay = max(close_date - time.time(), 0)
        reply_to = self._reply_target(p, chat)
        inline = self._markup(p, chat)
        message = self._send("sendPoll", chat, {"poll": copy.deepcopy(poll)}, p, inline, reply_to)
        state = _Poll(poll=poll, chat_id=chat.id, message_id=message["message_id"])
        self._polls[poll_id] = state
        if delay is not None and not poll["is_closed"]:
            loop = asyncio.get_running_loop()
            state.timer = loop.call_later(delay, self._close_poll_on_timer, poll_id)
        return message

    def _close_poll_on_timer(self, poll_id: str) -> None:
        state = self._polls.get(poll_id)
        if state is not None and not state.poll["is_closed"] and not self._closing:
            state.timer = None
            self._close_poll(poll_id)

    async def _m_stop_poll(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        message = chat.messages.get(p.req_int("message_id"))
        if message is None or "poll" not in message:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        poll_id = message["poll"]["id"]
        if self._polls[poll_id].poll["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        inline = self._markup(p, chat, inline_only=True)
        if inline is not None:
            message["reply_markup"] = inline
        else:
            message.pop("reply_markup", None)
        return self._close_poll(poll_id)

    # ---- editing

    def _editable(self, p: _Params) -> tuple[_Chat, JSON]:
        if p.has("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by the stand-in")
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        method: str,
        chat: _Chat,
        message: JSON,
        changes: JSON,
        inline: JSON | None,
        p: _Params,
        source_text: str | None,
    ) -> JSON:
        current = {k: message.get(k) for k in changes}
        if current == changes and message.get("reply_markup") == inline:
            raise ApiError(400, NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        if inline is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = inline
        message["edit_date"] = int(time.time())
        self._touch_ui()
        self.edits.append(
            SentMessage.of(chat.id, message, method, source_text, p.get_str("parse_mode"))
        )
        return copy.deepcopy(message)

    async def _m_edit_message_text(self, p: _Params) -> JSON:
        chat, message = self._editable(p)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._message_text(p)
        inline = self._markup(p, None, inline_only=True)
        changes = {"text": text, "entities": entities or None}
        return self._apply_edit(
            "editMessageText", chat, message, changes, inline, p, p.get_str("text")
        )

    async def _m_edit_message_caption(self, p: _Params) -> JSON:
        chat, message = self._editable(p)
        if not any(k in message for k in ("photo", "document", "video", "audio", "animation")):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        content: JSON = {}
        self._caption(p, content)
        inline = self._markup(p, None, inline_only=True)
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        return self._apply_edit(
            "editMessageCaption", chat, message, changes, inline, p, p.get_str("caption")
        )

    async def _m_edit_message_reply_markup(self, p: _Params) -> JSON:
        chat, message = self._editable(p)
        inline = self._markup(p, None, inline_only=True)
        return self._apply_edit("editMessageReplyMarkup", chat, message, {}, inline, p, None)

    async def _m_delete_message(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.req_int("message_id")
        if message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del chat.messages[message_id]
        self.deleted.append((chat.id, message_id))
        self._touch_ui()
        return True

    async def _m_pin_chat_message(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        if message_id is not None and message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to pin not found")
        return True

    # ---- callbacks, chats, members, files

    async def _m_answer_callback_query(self, p: _Params) -> bool:
        callback_id = p.req_str("callback_query_id")
        if callback_id not in self._callbacks or callback_id in self.callback_answers:
            raise ApiError(400, QUERY_TOO_OLD)
        text = p.get_str("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[callback_id] = {
            "text": text,
            "show_alert": p.get_bool("show_alert"),
            "url": p.get_str("url"),
        }
        return True

    def _member_json(self, chat: _Chat, user: JSON, status: str) -> JSON:
        member: JSON = {"status": status, "user": dict(user)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "can_change_info": False,
                    "can_invite_users": False,
                    "can_pin_messages": False,
                    "can_send_messages": False,
                    "can_send_polls": False,
                    "can_send_other_messages": False,
                    "can_add_web_page_previews": False,
                    "can_manage_topics": False,
                    "until_date": 0,
                    "can_send_audios": False,
                    "can_send_documents": False,
                    "can_send_photos": False,
                    "can_send_videos": False,
                    "can_send_video_notes": False,
                    "can_send_voice_notes": False,
                    "can_edit_tag": False,
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _bot_sender(self) -> JSON:
        """The bot as the ``from`` of its messages (fewer fields than getMe)."""
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _any_user(self, user_id: int) -> JSON | None:
        if user_id == self.bot_user["id"]:
            return self.bot_user
        return self._users.get(user_id)

    async def _m_get_chat_member(self, p: _Params) -> JSON:
        chat_id = self._chat_id_of(p.raw("chat_id"))
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        user_id = p.req_int("user_id")
        user = self._any_user(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}
        if chat.is_private:
            status = "member" if user_id in (chat.id, self.bot_user["id"]) else "left"
        else:
            status = chat.members.get(user_id, "left")
        return self._member_json(chat, user, status)

    async def _m_get_chat_administrators(self, p: _Params) -> list[JSON]:
        chat = self._target_chat(p)
        result = []
        for user_id, status in chat.members.items():
            user = self._any_user(user_id)
            if user is not None and status in {"creator", "administrator"}:
                result.append(self._member_json(chat, user, status))
        return result

    async def _m_get_chat_member_count(self, p: _Params) -> int:
        chat = self._target_chat(p)
        if chat.is_private:
            return 2
        return sum(1 for s in chat.members.values() if s in _ACTIVE_STATUSES)

    async def _m_get_chat(self, p: _Params) -> JSON:
        chat_id = self._chat_id_of(p.raw("chat_id"))
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        info = dict(chat.info)
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    async def _m_get_file(self, p: _Params) -> JSON:
        stored = self._files.get(p.req_str("file_id"))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, TOO_BIG)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _m_send_chat_action(self, p: _Params) -> bool:
        self._target_chat(p)
        if p.get_str("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # ------------------------------------------------------------------ web chat

    async def _ui_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(_WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @classmethod
    def _ui_error(cls, message: str, status: int = 400) -> web.Response:
        """A refusal in the Bot API's shape, as a Telegram client would get it."""
        return web.json_response(cls._error_body(status, message), status=status)

    async def _ui_json(self, request: web.Request) -> JSON:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(
                text=_json_dumps(self._error_body(400, "Bad Request: can't parse JSON object")),
                content_type="application/json",
            )
        return body

    async def _ui_world(self, request: web.Request) -> web.StreamResponse:
        groups = [
            {
                "id": chat.id,
                "title": chat.info.get("title"),
                "members": {str(uid): status for uid, status in chat.members.items()},
            }
            for chat in self._chats.values()
            if not chat.is_private
        ]
        body = {
            "bot": self.bot_user,
            "users": list(self._users.values()),
            "groups": groups,
            "default_location": list(self.default_location),
            "places": [{"name": n, "latitude": la, "longitude": lo} for n, la, lo in self.places],
            "roles": {str(uid): role for uid, role in self.roles.items()},
            # Chats start empty on every start: what a browser remembers is per instance.
            "instance": self._instance,
            "commands": self.default_commands(),
        }
        return web.json_response(body, dumps=_json_dumps)

    async def _ui_state(self, request: web.Request) -> web.StreamResponse:
        try:
            chat_id = int(request.query["chat_id"])
            since = int(request.query.get("since", "-1"))
        except (KeyError, ValueError):
            return self._ui_error("chat_id required")
        if since == self._ui_version:
            return web.json_response({"version": self._ui_version, "unchanged": True})
        chat = self._chats.get(chat_id)
        if chat is None:
            return self._ui_error("unknown chat", 404)
        messages = []
        for message in chat.messages.values():
            item = copy.deepcopy(message)
            poll = item.get("poll")
            if poll is not None and poll["id"] in self._polls:
                item["ui_votes"] = {
                    str(uid): opts for uid, opts in self._polls[poll["id"]].votes.items()
                }
            messages.append(item)
        body = {
            "version": self._ui_version,
            "messages": messages,
            "reply_keyboard": chat.reply_keyboard,
            "force_reply": {str(mid): text for mid, text in chat.force_replies.items()},
            # Messages per chat, so the web chat can mark the other chats' new ones.
            "counts": {str(c.id): len(c.messages) for c in self._chats.values()},
        }
        return web.json_response(body, dumps=_json_dumps)

    @staticmethod
    def _opt_int(value: Any) -> int | None:
        if value in (None, ""):
            return None
        return int(value)

    async def _ui_send(self, request: web.Request) -> web.StreamResponse:
        body = await self._ui_json(request)
        text = str(body.get("text") or "").strip()
        if not text:
            return self._ui_error("Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            return self._ui_error("Bad Request: message is too long")
        try:
            message = self.send_text(
                int(body["user_id"]),
                text,
                chat_id=self._opt_int(body.get("chat_id")),
                reply_to_message_id=self._opt_int(body.get("reply_to")),
            )
        except (KeyError, ValueError) as exc:
            return self._ui_error(str(exc))
        return web.json_response(message, dumps=_json_dumps)

    async def _ui_press(self, request: web.Request) -> web.StreamResponse:
        body = await self._ui_json(request)
        try:
            callback_id = self.press(
                int(body["user_id"]),
                int(body["message_id"]),
                str(body["data"]),
                chat_id=self._opt_int(body.get("chat_id")),
            )
        except (KeyError, ValueError) as exc:
            return self._ui_error(str(exc))
        answer: JSON | None
        try:
            answer = await self.answer_to(callback_id, timeout=float(body.get("wait", 3.0)))
        except AssertionError:
            answer = None
        return web.json_response({"callback_id": callback_id, "answer": answer})

    async def _ui_location(self, request: web.Request) -> web.StreamResponse:
        body = await self._ui_json(request)
        try:
            latitude, longitude = float(body["latitude"]), float(body["longitude"])
        except (KeyError, ValueError, TypeError):
            return self._ui_error("Bad Request: wrong latitude or longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return self._ui_error("Bad Request: wrong latitude or longitude")
        try:
            message = self.send_location(
                int(body["user_id"]),
                latitude,
                longitude,
                chat_id=self._opt_int(body.get("chat_id")),
                reply_to_message_id=self._opt_int(body.get("reply_to")),
            )
        except (KeyError, ValueError) as exc:
            return self._ui_error(str(exc))
        return web.json_response(message, dumps=_json_dumps)

    async def _ui_contact(self, request: web.Request) -> web.StreamResponse:
        body = await self._ui_json(request)
        try:
            message = self.send_contact(
                int(body["user_id"]),
                str(body.get("phone_number") or "+8613800138000"),
                chat_id=self._opt_int(body.get("chat_id")),
            )
        except (KeyError, ValueError) as exc:
            return self._ui_error(str(exc))
        return web.json_response(message, dumps=_json_dumps)

    async def _ui_photo(self, request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            return self._ui_error(TOO_LARGE, 413)
        # aiohttp reports a broken body as a server-side error; it is the client's.
        except (ValueError, RuntimeError, HttpProcessingError):
            return self._ui_error("Bad Request: malformed multipart body")
        upload = form.get("photo")
        try:
            user_id = int(str(form["user_id"]))
            chat_id = self._opt_int(form.get("chat_id"))
        except (KeyError, ValueError):
            return self._ui_error("user_id required")
        if not isinstance(upload, web.FileField):
            return self._ui_error("Bad Request: there is no photo in the request")
        data = upload.file.read()
        if not data:
            return self._ui_error("Bad Request: file must be non-empty")
        if len(data) > MAX_PHOTO_BYTES:
            return self._ui_error(TOO_BIG)
        if _image_size(data) is None and not (upload.content_type or "").startswith("image/"):
            return self._ui_error("Bad Request: IMAGE_PROCESS_FAILED")
        caption = str(form.get("caption") or "").strip() or None
        if caption is not None and utf16_len(caption) > MAX_CAPTION_LENGTH:
            return self._ui_error("Bad Request: message caption is too long")
        try:
            message = self.send_photo(user_id, caption=caption, chat_id=chat_id, data=data)
        except ValueError as exc:
            return self._ui_error(str(exc))
        return web.json_response(message, dumps=_json_dumps)

    async def _ui_poll(self, request: web.Request) -> web.StreamResponse:
        body = await self._ui_json(request)
        try:
            answer = self.answer_poll(
                int(body["user_id"]), str(body["poll_id"]), [int(o) for o in body["option_ids"]]
            )
        except (KeyError, ValueError, TypeError) as exc:
            return self._ui_error(str(exc))
        return web.json_response({"answer": answer}, dumps=_json_dumps)

    async def _ui_add_user(self, request: web.Request) -> web.StreamResponse:
        body = await self._ui_json(request)
        name = str(body.get("first_name") or "").strip()
        if not name:
            return self._ui_error("name required")
        user_id = max([*self._users, 700000]) + 1
        self.roles[user_id] = "居民"  # the web chat's button says ＋新居民
        return web.json_response(self.add_user(user_id, name[:64]), dumps=_json_dumps)

    async def _ui_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._files.get(request.match_info["file_id"])
        if stored is None:
            return self._ui_error("unknown file", 404)
        headers = {}
        if stored.kind == "document":
            headers["Content-Disposition"] = f'attachment; filename="{stored.file_name or "file"}"'
        return web.Response(body=stored.data, content_type=stored.mime_type, headers=headers)
