"""A push callback served on 127.0.0.1 for a test, with an HTTP client posting to it as the
platform (WeChat or WeCom) would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from handlers.callback import PushCallback, build_callback_app


@dataclass
class Served:
    url: str
    http: aiohttp.ClientSession
    callback: Any  # the channel's PushCallback, its internals open to the test

    async def post(self, body: str, query: dict, content_type: str = "text/xml") -> tuple[int, str]:
        async with self.http.post(
            self.url, params=query, data=body.encode(), headers={"Content-Type": content_type}
        ) as response:
            return response.status, await response.text()

    async def get(self, query: dict | str) -> tuple[int, str]:
        """GET with `query` as parameters, or (a string) as the raw query, unencoded."""
        if isinstance(query, str):
            async with self.http.get(f"{self.url}?{query}") as response:
                return response.status, await response.text()
        async with self.http.get(self.url, params=query) as response:
            return response.status, await response.text()


@asynccontextmanager
async def served(callback: PushCallback[Any, Any]) -> AsyncIterator[Served]:
    """The callback at a free port, and an HTTP client for it."""
    runner = web.AppRunner(build_callback_app(callback))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(f"http://127.0.0.1:{port}{callback.limits.path}", http, callback)
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serving(
    make: Callable[..., PushCallback[Any, Any]], cfg: Any, on_inbound, deliver_late, clock=None
) -> AsyncIterator[Served]:
    """The callback `make` builds (a channel's class) on 127.0.0.1, with a client for it."""
    kwargs = {"clock": clock} if clock else {}
    async with served(make(cfg, on_inbound, deliver_late, **kwargs)) as wire:
        yield wire
