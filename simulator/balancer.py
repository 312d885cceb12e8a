"""A load balancer stand-in: spreads POSTs round-robin over several bot processes.

Plays the part nginx plays in front of several webhook servers: each request goes to
the next backend in turn, and when that backend refuses the connection or fails
without answering (a killed process), to the one after it, as nginx's
`proxy_next_upstream error timeout` does; a backend that answers, whatever its
status, has answered. Headers (the webhook's secret token among them) and the body
are passed through, and the backend's status and body come back.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from types import TracebackType

import aiohttp
from aiohttp import web

_LOG = logging.getLogger(__name__)

# Headers that belong to one hop, not to the request (RFC 9110 §7.6.1), and those
# aiohttp sets itself.
_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class Balancer:
    """A reverse proxy on a loopback port over `backends` (base URLs, e.g. http://127.0.0.1:8001)."""

    def __init__(self, backends: list[str], timeout: float = 30.0) -> None:
        self.backends = list(backends)
        self.timeout = timeout
        self.url = ""  # http://127.0.0.1:<port>, once started
        #: Requests each backend answered, and connections it failed (refused, cut).
        self.answered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        """Listen on a free loopback port; the balancer's base URL."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            connector=aiohttp.TCPConnector(limit=0),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Balancer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        """Send the request to the next backend that answers; 502 if none does."""
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        first = next(self._turn)
        for n in range(len(self.backends)):
            backend = self.backends[(first + n) % len(self.backends)]
            try:
                async with self._session.request(
                    request.method,
                    backend + request.path_qs,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    kept = {
                        k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS
                    }
                    self.answered[backend] += 1
                    return web.Response(status=answer.status, body=content, headers=kept)
            except (TimeoutError, aiohttp.ClientError) as exc:
                # Refused, reset or cut mid-answer: the next backend gets the request.
                self.failed[backend] += 1
                _LOG.info("backend %s failed (%r); trying the next", backend, exc)
        return web.Response(status=502, text="no backend answered")
