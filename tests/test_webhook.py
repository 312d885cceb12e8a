"""Telegram by webhook: PTB's server behind the secret token, the stand-in posting to it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handlers.telegram.app import ALLOWED_UPDATES
from settings import ConfigError
from simulator import BotApiStandIn
from simulator.server import WEBHOOK_ACTIVE, WEBHOOK_SECRET_HEADER
from tests.config_copy import link_data_folders
from tests.conftest import started_world
from tests.test_config import ROOT, run_cli
from tests.world import OUTSIDER, RESIDENT, World, settings_for_tests

SECRET = "webhook_Secret-0123456789"


def free_port() -> int:
    """A port nothing listens on now (the webhook server binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_overrides(port: int) -> dict[str, Any]:
    """The [telegram] overrides for a webhook on this machine at `port`."""
    return {"webhook_url": f"http://127.0.0.1:{port}/telegram", "webhook_port": port}


@asynccontextmanager
async def webhook_world(tmp_path: Path, classifier: object) -> AsyncIterator[World]:
    """A running bot that gets its updates by webhook, with the secret in its environment."""
    environ = {"TELEGRAM_WEBHOOK_SECRET": SECRET}
    telegram = webhook_overrides(free_port())
    async with started_world(tmp_path, classifier, environ, telegram=telegram) as w:
        yield w


async def forge(url: str, update: dict[str, Any], secret: str | None) -> int:
    """Post an update to the bot's webhook as someone else might; the HTTP status."""
    headers = {} if secret is None else {WEBHOOK_SECRET_HEADER: secret}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=update, headers=headers) as response:
            return response.status


async def test_a_report_is_filed_end_to_end_by_webhook(tmp_path: Path, classifier: object) -> None:
    async with webhook_world(tmp_path, classifier) as world:
        _, ticket = await world.file("小区门口垃圾成堆没人清理")
        alert = await world.alert("urban")
        assert ticket in alert.text
        assert world.api.calls["getUpdates"] == 0
        assert world.api.webhook_posts and all(s == 200 for _, s in world.api.webhook_posts)


async def test_the_webhook_is_set_with_the_secret_and_stays_set_when_the_bot_stops(
    tmp_path: Path, classifier: object
) -> None:
    async with webhook_world(tmp_path, classifier) as world:
        (request,) = [r for r in world.api.requests if r.method == "setWebhook"]
        url = world.settings.telegram.webhook_url
        assert request.params["url"] == url
        assert request.params["secret_token"] == SECRET
        assert request.params["allowed_updates"] == list(ALLOWED_UPDATES)
        assert not request.params.get("drop_pending_updates")
        api = world.api
    # Another process behind the same URL may still serve it.
    assert api.calls["deleteWebhook"] == 0
    assert api.webhook is not None and api.webhook.url == url


async def test_a_post_without_the_secret_or_with_a_wrong_one_is_refused_and_changes_nothing(
    tmp_path: Path, classifier: object
) -> None:
    async with webhook_world(tmp_path, classifier) as world:
        url = world.settings.telegram.webhook_url
        assert url is not None
        forged = {
            "update_id": 999_999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": OUTSIDER, "type": "private"},
                "from": {"id": OUTSIDER, "is_bot": False, "first_name": "路人甲"},
                "text": "小区门口垃圾成堆没人清理",
            },
        }
        assert await forge(url, forged, secret=None) == 403
        assert await forge(url, forged, secret="not-the-secret") == 403
        # A real message after them is answered: the forged ones were never queued.
        await world.say("/start")
        assert world.api.sent_to(OUTSIDER) == []
        async with world.db.session() as conn:
            rows = await conn.execute_fetchall(
                "SELECT external_id FROM residents WHERE channel = 'telegram'"
            )
        assert str(OUTSIDER) not in [r[0] for r in rows]


async def test_get_updates_while_a_webhook_is_set_is_a_conflict(
    tmp_path: Path, classifier: object
) -> None:
    async with webhook_world(tmp_path, classifier) as world:
        api_url = f"{world.api.base_url}{world.api.token}/getUpdates"
        async with aiohttp.ClientSession() as session:
            async with session.post(api_url, json={"timeout": 0}) as response:
                body = await response.json()
        assert response.status == 409
        assert body == {"ok": False, "error_code": 409, "description": WEBHOOK_ACTIVE}


async def test_the_stand_in_posts_a_failed_update_again_until_it_is_taken() -> None:
    answers = iter([500, 503, 200])
    received: list[tuple[int, str | None]] = []

    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        received.append((update["update_id"], request.headers.get(WEBHOOK_SECRET_HEADER)))
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with BotApiStandIn() as api:
            api.add_user(RESIDENT, "王小明")
            async with aiohttp.ClientSession() as session:
                set_url = f"{api.base_url}{api.token}/setWebhook"
                hook = {"url": f"http://127.0.0.1:{port}/hook", "secret_token": SECRET}
                async with session.post(set_url, json=hook) as response:
                    assert response.status == 200
            api.send_text(RESIDENT, "你好")
            update_id = api.updates[-1]["update_id"]
            await api.wait_for(lambda: api.pending_updates() == [])
            assert received == [(update_id, SECRET)] * 3
            assert [s for _, s in api.webhook_posts] == [500, 503, 200]
            assert api.webhook is not None
            assert api.webhook.last_error_message == (
                "Wrong response from the webhook: 503 Service Unavailable"
            )
            assert api.webhook_dropped == []
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("", "missing: set TELEGRAM_WEBHOOK_SECRET"),
        ("has spaces and ?", "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters"),
        ("x" * 257, "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters"),
    ],
)
def test_a_webhook_without_a_valid_secret_is_a_config_error_naming_the_key(
    tmp_path: Path, secret: str, why: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_for_tests(
            tmp_path / "civic.db",
            {"TELEGRAM_WEBHOOK_SECRET": secret},
            telegram={"webhook_url": "https://bot.example.org/telegram"},
        )
    (problem,) = caught.value.problems
    assert problem.startswith("telegram.webhook_secret: ") and why in problem
    assert secret not in problem or not secret


def test_check_config_names_a_bad_webhook_secret_and_a_secret_written_in_the_file(
    tmp_path: Path,
) -> None:
    text = (
        (ROOT / "config.toml")
        .read_text("utf-8")
        .replace(
            "[telegram]\n",
            '[telegram]\nwebhook_url = "https://bot.example.org/telegram"\nwebhook_secret = "x"\n',
            1,
        )
    )
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    link_data_folders(tmp_path)
    result = run_cli(
        "check-config", "--config", str(config), env={"TELEGRAM_WEBHOOK_SECRET": "a:b"}
    )
    assert result.returncode == 1
    assert "telegram.webhook_secret: TELEGRAM_WEBHOOK_SECRET must be 1 to 256" in result.stderr
    assert (
        "telegram.webhook_secret: secrets are not written here: set TELEGRAM_WEBHOOK_SECRET"
        in result.stderr
    )


def test_without_a_webhook_url_the_bot_polls(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path / "civic.db", {"TELEGRAM_WEBHOOK_SECRET": SECRET})
    assert not settings.telegram.by_webhook


async def test_stand_in_refuses_a_secret_token_telegram_would_refuse() -> None:
    async with BotApiStandIn() as api:
        async with aiohttp.ClientSession() as session:
            set_url = f"{api.base_url}{api.token}/setWebhook"
            hook = {"url": "http://127.0.0.1:9/hook", "secret_token": "a:b"}
            async with session.post(set_url, json=hook) as response:
                body = await response.json()
        assert response.status == 400
        assert body["description"] == "Bad Request: secret token contains unallowed characters"
        assert api.webhook is None


def test_each_process_on_one_machine_takes_its_ports_from_the_environment(
    tmp_path: Path,
) -> None:
    environ = {"TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_WEBHOOK_PORT": "8442"}
    settings = settings_for_tests(tmp_path / "civic.db", environ, telegram=webhook_overrides(8441))
    assert settings.telegram.webhook_port == 8442  # the environment's, over the file's 8441


def test_a_port_in_the_environment_that_is_no_port_is_a_config_error_naming_it(
    tmp_path: Path,
) -> None:
    environ = {"TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_WEBHOOK_PORT": "84x2"}
    with pytest.raises(ConfigError) as caught:
        settings_for_tests(tmp_path / "civic.db", environ, telegram=webhook_overrides(8441))
    (problem,) = caught.value.problems
    assert problem.startswith("telegram.webhook_port: TELEGRAM_WEBHOOK_PORT='84x2'")


async def test_stand_in_posts_other_chats_at_once_and_one_chats_one_after_another() -> None:
    first_in = asyncio.Event()
    let_go = asyncio.Event()
    seen: list[tuple[int, str]] = []

    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        seen.append((update["message"]["chat"]["id"], update["message"]["text"]))
        if update["message"]["text"] == "A1":
            first_in.set()
            await let_go.wait()  # A1 is slow to answer
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with BotApiStandIn() as api, aiohttp.ClientSession() as session:
            api.add_user(RESIDENT, "王小明")
            api.add_user(OUTSIDER, "路人甲")
            set_url = f"{api.base_url}{api.token}/setWebhook"
            async with session.post(set_url, json={"url": f"http://127.0.0.1:{port}/hook"}):
                pass
            api.send_text(RESIDENT, "A1")
            api.send_text(RESIDENT, "A2")
            api.send_text(OUTSIDER, "B1")
            await first_in.wait()
            await api.wait_for(lambda: (OUTSIDER, "B1") in seen)  # while A1 is unanswered
            assert (RESIDENT, "A2") not in seen  # A's next waits for A1's answer
            let_go.set()
            await api.wait_for(lambda: (RESIDENT, "A2") in seen)
    finally:
        await runner.cleanup()
    assert [text for chat, text in seen if chat == RESIDENT] == ["A1", "A2"]
