"""The bot's client of the WeChat Official Account API (access token, messages, media, menu).

It knows WeChat's protocol and nothing of the domain: the caller (the outbox courier)
decides what to send and what to do when WeChat refuses. The access token is cached and
refreshed by one caller at a time; an answer saying the token is stale makes it fetch a
new one and try the call once more. Errors come out typed:

- ``OutsideWindow`` (45015): no customer-service message now; send a template instead;
- ``WeChatBusy`` (-1 system busy, 45047 over the per-interaction quota, 45009/45011 over
  the API quotas, or WeChat unreachable): try again later, ``retry_after`` says when;
- ``WeChatApiError`` otherwise, ``permanent`` when the same call can never succeed.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
from collections.abc import Callable
from typing import Any

import aiohttp

JSON = dict[str, Any]

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
# Refresh this long before WeChat's expiry: WeChat keeps an old token usable 5 minutes
# after a new one, so a token is never used in its last minutes.
REFRESH_MARGIN = 300.0
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
OUTSIDE_WINDOW = 45015
# Transient refusals, and how long the caller should wait before trying again (seconds).
BUSY_CODES: dict[int, float] = {
    -1: 5.0,  # system busy
    45009: 3600.0,  # the daily API quota
    45011: 60.0,  # the per-minute API quota
    45047: 600.0,  # the quota of messages per interaction: only the resident writing resets it
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


class WeChatApiError(Exception):
    """WeChat refused a call with ``errcode``; ``permanent`` if it always will."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def permanent(self) -> bool:
        """Whether repeating the same call can never succeed."""
        return self.errcode in PERMANENT_CODES


class OutsideWindow(WeChatApiError):
    """45015: the resident has not written within 48 h (or unfollowed); use a template."""


class WeChatBusy(WeChatApiError):
    """A transient refusal (or WeChat unreachable): try again after ``retry_after`` seconds."""

    def __init__(self, errcode: int, errmsg: str, retry_after: float) -> None:
        super().__init__(errcode, errmsg)
        self.retry_after = retry_after


def _error_for(errcode: int, errmsg: str) -> WeChatApiError:
    """The typed exception of a WeChat refusal."""
    if errcode == OUTSIDE_WINDOW:
        return OutsideWindow(errcode, errmsg)
    if errcode in BUSY_CODES:
        return WeChatBusy(errcode, errmsg, BUSY_CODES[errcode])
    return WeChatApiError(errcode, errmsg)


def _dumps(body: JSON) -> bytes:
    # WeChat refuses \uXXXX escapes in some APIs (40033): send UTF-8 as is.
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


# Too many customer-service messages since the resident last wrote.
QUOTA_SPENT = 45047


class WeChatClient:
    """WeChat's API for one Official Account, over aiohttp."""

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
        self.app_id = app_id
        self._app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.busy_retries = busy_retries
        self.backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owns_session = session is None
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()

    # ------------------------------------------------------------------ plumbing

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if the client opened it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    async def access_token(self) -> str:
        """A valid access token: the cached one, or a new one (one fetch at a time)."""
        token = self._token
        if token is not None and self.clock() < self._token_expires_at:
            return token
        async with self._token_lock:
            # Another caller may have fetched one while this one waited.
            if self._token is not None and self.clock() < self._token_expires_at:
                return self._token
            return await self._fetch_token()

    def _drop_token(self, stale: str) -> None:
        """Forget the token WeChat called stale (unless another caller replaced it already)."""
        if self._token == stale:
            self._token = None
            self._token_expires_at = 0.0

    async def _fetch_token(self) -> str:
        params = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._app_secret,
        }
        body = await self._request("GET", "/cgi-bin/token", params)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatApiError(-1, f"no access_token in {body!r}")
        lifetime = float(body.get("expires_in", 7200))
        self._token = token
        self._token_expires_at = self.clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2)
        return token

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: bytes | aiohttp.FormData | None = None,
        raw: bool = False,
    ) -> Any:
        """One HTTP call; WeChat's JSON answer (raises on errcode), or bytes with ``raw``."""
        headers = (
            {"Content-Type": "application/json; charset=utf-8"} if isinstance(body, bytes) else None
        )
        try:
            async with self._http().request(
                method,
                self.base_url + path,
                params=params,
                data=body,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                content_type = response.headers.get("Content-Type", "")
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatBusy(-1, f"WeChat unreachable: {exc!r}", BUSY_CODES[-1]) from exc
        if status >= 500:
            raise WeChatBusy(-1, f"HTTP {status}", BUSY_CODES[-1])
        # WeChat answers errors as JSON even where success is a file.
        is_json = content_type.startswith(("application/json", "text/plain"))
        if raw and not is_json and status == 200:
            return payload
        try:
            answer = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WeChatApiError(-1, f"HTTP {status}, not JSON: {payload[:200]!r}") from None
        if not isinstance(answer, dict):
            raise WeChatApiError(-1, f"unexpected answer {answer!r}")
        errcode = int(answer.get("errcode", 0) or 0)
        if errcode != 0:
            raise _error_for(errcode, str(answer.get("errmsg", "")))
        return answer

    async def _retrying(self, call: Callable[[], Any]) -> Any:
        """Run ``call``, retrying a busy refusal a couple of times with backoff."""
        for attempt in range(self.busy_retries + 1):
            try:
                return await call()
            except WeChatBusy as exc:
                # Over the quota (45047) clears only when the resident writes: no use
                # waiting here; the caller sends a template instead.
                if attempt == self.busy_retries or exc.errcode == QUOTA_SPENT:
                    raise
                await asyncio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: JSON | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        raw: bool = False,
    ) -> Any:
        """An authenticated call: a stale token is replaced and the call made once more."""

        async def once() -> Any:
            for attempt in range(2):
                token = await self.access_token()
                query = {**(params or {}), "access_token": token}
                data: bytes | aiohttp.FormData | None
                data = form() if form is not None else (_dumps(body) if body is not None else None)
                try:
                    return await self._request(method, path, query, data, raw)
                except WeChatApiError as exc:
                    if exc.errcode not in TOKEN_ERRORS or attempt == 1:
                        raise
                    self._drop_token(token)
            raise AssertionError("unreachable")

        return await self._retrying(once)

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

    async def upload_image(self, data: bytes, filename: str) -> str:
        """Upload a temporary image (kept 3 days by WeChat); returns its media_id."""
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"

        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("media", data, filename=filename, content_type=content_type)
            return fields

        answer = await self._call("POST", "/cgi-bin/media/upload", {"type": "image"}, form=form)
        return str(answer["media_id"])

    async def download_media(self, media_id: str) -> bytes:
        """The bytes of a temporary media file (a resident's photo or voice)."""
        result = await self._call("GET", "/cgi-bin/media/get", {"media_id": media_id}, raw=True)
        if not isinstance(result, bytes):
            raise WeChatApiError(40007, f"no file for {media_id}: {result!r}")
        return result

    async def create_menu(self, buttons: list[JSON]) -> None:
        """Replace the account's custom menu."""
        await self._call("POST", "/cgi-bin/menu/create", body={"button": buttons})
