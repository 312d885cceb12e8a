"""What both Tencent API clients share and neither client's tests reach: a borrowed
session, and a server error answered by a proxy rather than by the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from handlers.tencent_api import TencentApiClient, TencentApiError, TencentBusy


class ExampleError(TencentApiError):
    service = "Example"


class ExampleBusy(TencentBusy, ExampleError):
    pass


class ExampleClient(TencentApiClient):
    """The least a channel says: its token's path, its errors and its busy codes."""

    api_error = ExampleError
    busy_error = ExampleBusy
    token_errors = frozenset({42001})
    busy_codes: ClassVar[dict[int, float]] = {-1: 5.0}

    def _token_request(self) -> tuple[str, dict[str, str]]:
        return "/token", {"secret": "s"}


class Api:
    """An API whose calls fail with HTTP 502 ``failures`` times before they succeed."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def token(self, request: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "expires_in": 7200})

    async def ping(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.failures:
            return web.Response(status=502, text="<html>Bad Gateway</html>")
        return web.json_response({"errcode": 0, "errmsg": "ok", "pong": True})


async def serve(api: Api) -> TestServer:
    app = web.Application()
    app.router.add_get("/token", api.token)
    app.router.add_get("/ping", api.ping)
    server = TestServer(app)
    await server.start_server()
    return server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def ping(api: Api, session: aiohttp.ClientSession) -> object:
    server = await serve(api)
    client = ExampleClient(str(server.make_url("/")), session, backoff=0.0)
    try:
        return await client._call("GET", "/ping")
    finally:
        await client.close()
        await server.close()


async def test_closing_a_client_leaves_the_session_it_borrowed_open(
    session: aiohttp.ClientSession,
) -> None:
    await ping(Api(failures=0), session)
    assert not session.closed


async def test_a_proxys_server_error_is_busy_and_retried(session: aiohttp.ClientSession) -> None:
    api = Api(failures=2)
    answer = await ping(api, session)
    assert answer == {"errcode": 0, "errmsg": "ok", "pong": True}
    assert api.calls == 3


async def test_server_errors_past_the_retries_are_busy_with_a_delay(
    session: aiohttp.ClientSession,
) -> None:
    with pytest.raises(ExampleBusy) as busy:
        await ping(Api(failures=3), session)
    assert (busy.value.errcode, busy.value.retry_after, busy.value.permanent) == (-1, 5.0, False)
