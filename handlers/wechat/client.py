"""The bot's client of the WeChat Official Account API (access token, messages, media, menu).

It knows WeChat's protocol and nothing of the domain: the caller (the outbox courier)
decides what to send and what to do when WeChat refuses. The machinery it shares with
the other Tencent client is ``handlers.tencent_api``'s: the access token is cached and
refreshed by one caller at a time; an answer saying the token is stale makes it fetch a
new one and try the call once more. Errors come out typed:

- ``OutsideWindow`` (45015): no customer-service message now; send a template instead;
- ``WeChatBusy`` (-1 system busy, 45047 over the per-interaction quota, 45009/45011 over
  the API quotas, or WeChat unreachable): try again later, ``retry_after`` says when;
- ``WeChatApiError`` otherwise, ``permanent`` when the same call can never succeed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import aiohttp

from handlers.tencent_api import JSON, TencentApiClient, TencentApiError, TencentBusy

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
OUTSIDE_WINDOW = 45015
# Too many customer-service messages since the resident last wrote.
QUOTA_SPENT = 45047
# Transient refusals, and how long the caller should wait before trying again (seconds).
BUSY_CODES: dict[int, float] = {
    -1: 5.0,  # system busy
    45009: 3600.0,  # the daily API quota
    45011: 60.0,  # the per-minute API quota
    QUOTA_SPENT: 600.0,  # the quota of messages per interaction: only the resident resets it
}
# Refusals that the same call will meet every time.
PERMANENT_CODES = frozenset(
    {
        40003,  # invalid openid
        40004,  # invalid media type
        40005,  # invalid file type
        40006,  # invalid media size
        40007,  # invalid media_id (unknown or older than 3 days)
        40008,  # invalid message type
        40009,  # invalid image size
        40013,  # invalid appid
        40016,
        40017,
        40018,
        40019,
        40020,
        40023,
        40024,
        40025,
        40026,
        40027,  # the menu breaks a rule
        40033,  # invalid charset
        40037,  # invalid template_id
        40066,  # invalid url
        40125,  # invalid appsecret
        41005,  # media data missing
        43004,  # require subscribe (the resident unfollowed)
        44002,
        44003,
        44004,  # empty
        45002,  # content size out of limit
        45008,  # too many articles
        47001,  # data format error
        47003,  # a template argument is invalid
        48001,  # api unauthorized
    }
)


class WeChatApiError(TencentApiError):
    """WeChat refused a call with ``errcode``; ``permanent`` if it always will."""

    service = "WeChat"
    permanent_codes = PERMANENT_CODES


class OutsideWindow(WeChatApiError):
    """45015: the resident has not written within 48 h (or unfollowed); use a template."""


class WeChatBusy(TencentBusy, WeChatApiError):
    """A transient refusal (or WeChat unreachable): try again after ``retry_after`` seconds."""


class WeChatClient(TencentApiClient):
    """WeChat's API for one Official Account, over aiohttp."""

    api_error = WeChatApiError
    busy_error = WeChatBusy
    token_errors = TOKEN_ERRORS
    busy_codes = BUSY_CODES
    special_errors: ClassVar[dict[int, type[WeChatApiError]]] = {OUTSIDE_WINDOW: OutsideWindow}

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        busy_retries: int = 2,
        backoff: float = 0.5,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, session, clock, busy_retries, backoff, timeout)
        self.app_id = app_id
        self._app_secret = app_secret

    def _token_request(self) -> tuple[str, dict[str, str]]:
        params = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._app_secret,
        }
        return "/cgi-bin/token", params

    def _retries_now(self, busy: TencentBusy) -> bool:
        # Over the quota (45047) clears only when the resident writes: no use waiting
        # here; the caller sends a template instead.
        return busy.errcode != QUOTA_SPENT

    def _malformed(self, errcode: int, errmsg: str) -> TencentApiError:
        # A garbled answer may come right the next time.
        return WeChatApiError(-1, errmsg)

    # ------------------------------------------------------------------ messages

    async def _send_custom(self, openid: str, msgtype: str, content: JSON) -> None:
        await self._call(
            "POST",
            "/cgi-bin/message/custom/send",
            body={"touser": openid, "msgtype": msgtype, msgtype: content},
        )

    async def send_text(self, openid: str, text: str) -> None:
        """Send a customer-service text message."""
        await self._send_custom(openid, "text", {"content": text})

    async def send_menu(
        self, openid: str, head: str, choices: list[tuple[str, str]], tail: str = ""
    ) -> None:
        """Send a menu message: tappable (id, content) choices between a head and a tail."""
        items = [{"id": choice_id, "content": content} for choice_id, content in choices]
        await self._send_custom(
            openid, "msgmenu", {"head_content": head, "list": items, "tail_content": tail}
        )

    async def send_image(self, openid: str, media_id: str) -> None:
        """Send an uploaded image as a customer-service message."""
        await self._send_custom(openid, "image", {"media_id": media_id})

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> int:
        """Send a template message (no 48-hour rule); returns WeChat's msgid."""
        fields = {
            key: value if isinstance(value, dict) else {"value": str(value)}
            for key, value in data.items()
        }
        body: JSON = {"touser": openid, "template_id": template_id, "data": fields}
        if url is not None:
            body["url"] = url
        answer = await self._call("POST", "/cgi-bin/message/template/send", body=body)
        return int(answer.get("msgid", 0))

    # ------------------------------------------------------------------ media and menu

    async def download_media(self, media_id: str) -> bytes:
        """The bytes of a temporary media file (a resident's photo or voice)."""
        result = await self._call("GET", "/cgi-bin/media/get", {"media_id": media_id}, raw=True)
        if not isinstance(result, bytes):
            raise WeChatApiError(40007, f"no file for {media_id}: {result!r}")
        return result

    async def create_menu(self, buttons: list[JSON]) -> None:
        """Replace the account's custom menu."""
        await self._call("POST", "/cgi-bin/menu/create", body={"button": buttons})
