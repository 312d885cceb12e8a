"""The load balancer stand-in: round-robin over the backends, past the ones that are down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from simulator.balancer import Balancer
from simulator.server import WEBHOOK_SECRET_HEADER
from tests.test_webhook import free_port


@asynccontextmanager
async def backend(name: str, status: int = 200) -> AsyncIterator[str]:
    """A server answering every POST with its name, the secret it got and the body."""

    async def answer(request: web.Request) -> web.Response:
        secret = request.headers.get(WEBHOOK_SECRET_HEADER, "")
        body = await request.text()
        return web.Response(status=status, text=f"{name}|{secret}|{body}")

    app = web.Application()
    app.router.add_post("/{path:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def post(url: str, body: str, secret: str = "s3cret") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        headers = {WEBHOOK_SECRET_HEADER: secret}
        async with session.post(url + "/telegram", data=body, headers=headers) as response:
            return response.status, await response.text()


async def test_posts_go_round_robin_with_their_headers_and_the_backends_answers() -> None:
    async with backend("a") as a, backend("b", status=403) as b:
        async with Balancer([a, b]) as balancer:
            answers = [await post(balancer.url, f"update {n}") for n in range(4)]
    assert answers == [
        (200, "a|s3cret|update 0"),
        (403, "b|s3cret|update 1"),
        (200, "a|s3cret|update 2"),
        (403, "b|s3cret|update 3"),
    ]


async def test_a_backend_that_refuses_connections_is_passed_over_for_the_next() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with backend("a") as a:
        async with Balancer([dead, a]) as balancer:
            answers = [await post(balancer.url, f"update {n}") for n in range(3)]
            assert balancer.failed[dead] == 2 and balancer.answered[a] == 3
    assert answers == [(200, f"a|s3cret|update {n}") for n in range(3)]


async def test_with_every_backend_down_the_answer_is_502() -> None:
    dead = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    async with Balancer(dead) as balancer:
        status, _ = await post(balancer.url, "update")
    assert status == 502
