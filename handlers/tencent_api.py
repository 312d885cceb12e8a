"""What the clients of Tencent's token APIs (WeChat Official Accounts, WeCom) share.

Both APIs take an ``access_token`` query parameter fetched with the app's credentials,
answer JSON with ``{"errcode", "errmsg"}``, and refuse with errcodes that mean a stale
token, a busy server, or a call that can never succeed. ``TencentApiClient`` owns that
machinery: the aiohttp session (its own or a borrowed one), the token cached until
shortly before expiry with one refresh in flight, one HTTP call mapping errcodes to
typed errors, the retry of busy refusals with backoff, and the authenticated call that
replaces a stale token once. A subclass says how its token is fetched, what its errcodes
mean, which errors it raises, and adds its API methods.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import aiohttp

JSON = dict[str, Any]

# Refresh this long before the token's expiry: both APIs keep an old token usable a few
# minutes after a new one, and no call should carry a dying token.
REFRESH_MARGIN = 300.0
SYSTEM_BUSY = -1


class TencentApiError(Exception):
    """The API refused a call with ``errcode``; ``permanent`` if it always will."""

    #: Whose API refused, as the message names it.
    service: ClassVar[str] = "Tencent"
    #: Refusals that the same call will meet every time.
    permanent_codes: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, errcode: int, errmsg: str, permanent: bool | None = None) -> None:
        super().__init__(f"{self.service} error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self._permanent = permanent

    @property
    def permanent(self) -> bool:
        """Whether repeating the same call can never succeed."""
        if self._permanent is not None:
            return self._permanent
        return self.errcode in self.permanent_codes


class TencentBusy(TencentApiError):
    """A transient refusal (or the API unreachable): try again after ``retry_after`` seconds."""

    def __init__(self, errcode: int, errmsg: str, retry_after: float) -> None:
        super().__init__(errcode, errmsg, permanent=False)
        self.retry_after = retry_after


def dumps(body: JSON) -> bytes:
    """A JSON body as UTF-8 as is: some APIs refuse \\uXXXX escapes (WeChat's 40033)."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class TencentApiClient:
    """One app's token API over aiohttp; a subclass fills in the channel's protocol."""

    #: The channel's refusal, and its busy refusal (a subclass of both).
    api_error: ClassVar[type[TencentApiError]]
    busy_error: ClassVar[type[TencentBusy]]
    #: The errcodes saying the token is stale or missing: fetch a new one, call again.
    token_errors: ClassVar[frozenset[int]]
    #: Transient refusals, and how long the caller should wait before trying again (s).
    busy_codes: ClassVar[Mapping[int, float]]
    #: Refusals that have a class of their own, by errcode.
    special_errors: ClassVar[Mapping[int, Callable[[int, str], TencentApiError]]] = {}

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        busy_retries: int = 2,
        backoff: float = 0.5,
        timeout: float = 10.0,
    ) -> None:
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

    # ------------------------------------------------------------------ what a channel says

    def _token_request(self) -> tuple[str, dict[str, str]]:
        """The path and query parameters that fetch an access token."""
        raise NotImplementedError

    def _retries_now(self, busy: TencentBusy) -> bool:
        """Whether a busy refusal is worth retrying at once (after a short backoff)."""
        return True

    def _malformed(self, errcode: int, errmsg: str) -> TencentApiError:
        """The error of an answer that is not the API's JSON: ``errcode`` is the HTTP status,
        or -1 for JSON of the wrong shape. By default permanent (a wrong path, a proxy's page:
        the same call fails again)."""
        return self.api_error(errcode, errmsg, permanent=True)

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
        """Forget the token the API called stale (unless another caller replaced it already)."""
        if self._token == stale:
            self._token = None
            self._token_expires_at = 0.0

    async def _fetch_token(self) -> str:
        path, params = self._token_request()
        body = await self._request("GET", path, params)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.api_error(-1, f"no access_token in {body!r}", permanent=False)
        lifetime = float(body.get("expires_in", 7200))
        self._token = token
        self._token_expires_at = self.clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2)
        return token

    def _error_for(self, errcode: int, errmsg: str) -> TencentApiError:
        """The typed exception of a refusal."""
        special = self.special_errors.get(errcode)
        if special is not None:
            return special(errcode, errmsg)
        if errcode in self.busy_codes:
            return self.busy_error(errcode, errmsg, self.busy_codes[errcode])
        return self.api_error(errcode, errmsg)

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: bytes | aiohttp.FormData | None = None,
        raw: bool = False,
    ) -> Any:
        """One HTTP call; the API's JSON answer (raises on errcode), or bytes with ``raw``."""
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
            unreachable = f"{self.api_error.service} unreachable: {exc!r}"
            raise self._error_for(SYSTEM_BUSY, unreachable) from exc
        if status >= 500:
            raise self._error_for(SYSTEM_BUSY, f"HTTP {status}")
        # Errors come as JSON even where success is a file.
        is_json = content_type.startswith(("application/json", "text/plain"))
        if raw and not is_json and status == 200:
            return payload
        try:
            answer = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self._malformed(status, f"HTTP {status}, not JSON: {payload[:200]!r}") from None
        if not isinstance(answer, dict):
            raise self._malformed(-1, f"unexpected answer {answer!r}")
        errcode = int(answer.get("errcode", 0) or 0)
        if errcode != 0:
            raise self._error_for(errcode, str(answer.get("errmsg", "")))
        return answer

    async def _retrying(self, call: Callable[[], Any]) -> Any:
        """Run ``call``, retrying a busy refusal a couple of times with backoff."""
        for attempt in range(self.busy_retries + 1):
            try:
                return await call()
            except TencentBusy as exc:
                if attempt == self.busy_retries or not self._retries_now(exc):
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
                data = form() if form is not None else (dumps(body) if body is not None else None)
                try:
                    return await self._request(method, path, query, data, raw)
                except TencentApiError as exc:
                    if exc.errcode not in self.token_errors or attempt == 1:
                        raise
                    self._drop_token(token)
            raise AssertionError("unreachable")

        return await self._retrying(once)

    # ------------------------------------------------------------------ shared API

    async def upload_image(self, data: bytes, filename: str) -> str:
        """Upload a temporary image (kept 3 days); returns its media_id."""
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"

        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("media", data, filename=filename, content_type=content_type)
            return fields

        answer = await self._call("POST", "/cgi-bin/media/upload", {"type": "image"}, form=form)
        return str(answer["media_id"])
