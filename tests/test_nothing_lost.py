"""Nothing a resident submits is lost: the outbox retries, and survives restarts and kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import tomli_w

from demo import standin_config
from simulator import BotApiStandIn
from tests.world import (
    ADMIN,
    GROUP_CHATS,
    RESIDENT,
    ROOT,
    URBAN_STAFF,
    World,
    populate,
)

T = TypeVar("T")
LITTER = "小区东门垃圾桶满了好几天没人清运"
URBAN = GROUP_CHATS["urban"]


async def outbox_rows(world: World) -> list[tuple[str, str, int]]:
    async with world.db.session() as conn:
        async with conn.execute("SELECT kind, status, attempts FROM outbox ORDER BY id") as cur:
            return [tuple(r) for r in await cur.fetchall()]


async def alert_rows(world: World) -> list[tuple[str, str, int]]:
    return [row for row in await outbox_rows(world) if row[0] == "group_alert"]


async def test_the_ticket_is_given_even_while_the_group_chat_is_unreachable(world: World) -> None:
    world.api.fail_chat(URBAN, "server_error")
    _, ticket = await world.file(LITTER)
    assert ticket
    await world.api.wait_for(lambda: world.api.calls["sendMessage"] and _failed_sends(world) >= 2)
    assert world.api.sent_to(URBAN) == []


async def test_the_alert_is_retried_until_the_group_chat_accepts_it(world: World) -> None:
    world.api.fail_chat(URBAN, "chat_not_found")
    _, ticket = await world.file(LITTER)
    await world.api.wait_for(lambda: _failed_sends(world) >= 3)
    world.api.clear_failures(URBAN)
    alert = await world.alert("urban")
    assert ticket in alert.text
    rows = await world.eventually(lambda: _when(alert_rows(world), lambda r: r[0][1] == "sent"))
    [(_, _, attempts)] = rows
    assert attempts >= 3


async def test_flood_control_retry_after_is_honoured(world: World) -> None:
    world.api.fail_chat(URBAN, "flood", times=1, retry_after=1)
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    refused = next(r for r in world.api.requests if r.status == 429)
    delivered = next(r for r in world.api.requests if r.ok and r.params.get("chat_id") == URBAN)
    assert delivered.time - refused.time >= 1.0
    assert ticket in alert.text


async def test_network_errors_are_retried(world: World) -> None:
    world.api.fail_chat(URBAN, "disconnect", times=2)
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    assert ticket in alert.text


async def test_notifications_to_the_resident_are_retried_too(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    world.api.fail_chat(RESIDENT, "server_error", times=2)
    after = len(world.api.sent_to(RESIDENT))
    await world.press(URBAN_STAFF, alert, "受理")
    notice = await world.api.next_sent(RESIDENT, after=after)
    assert "已受理" in notice.text


async def test_a_resident_who_blocked_the_bot_is_not_retried_forever(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    world.api.fail_chat(RESIDENT, "forbidden")
    await world.press(URBAN_STAFF, alert, "受理")

    async def notify_failed() -> bool:
        rows = await outbox_rows(world)
        return any(kind == "notify_resident" and status == "failed" for kind, status, _ in rows)

    await world.eventually(notify_failed)
    tried = _sends_to(world.api, RESIDENT)
    # A day later the courier still does not hand it out again ...
    world.clock.advance(86400)
    assert not [
        i for i in await world.runtime.outbox.due(100, set()) if i.kind == "notify_resident"
    ]
    # ... and after it has delivered something queued later (so it ran its loop
    # again), the resident's chat has seen no further attempt.
    await world.say("/digest", user=ADMIN)
    await world.api.wait_for(lambda: _digest_in(world.api, URBAN))
    assert _sends_to(world.api, RESIDENT) == tried


async def test_a_restart_resumes_pending_sends(world: World) -> None:
    world.api.fail_chat(URBAN, "chat_not_found")
    _, ticket = await world.file(LITTER)
    await world.api.wait_for(lambda: _failed_sends(world) >= 1)
    await world.runtime.stop()
    world.api.clear_failures()
    await world.restart()
    alert = await world.alert("urban")
    assert ticket in alert.text
    assert len(world.api.sent_to(URBAN)) == 1


async def test_kill_9_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    async with BotApiStandIn() as api:
        populate(api)
        config = write_config(tmp_path, api)
        api.fail_chat(URBAN, "server_error")
        bot = start_bot(config, api)
        try:
            api.send_text(RESIDENT, LITTER)
            card = await api.next_sent(RESIDENT, timeout=30)
            api.press(RESIDENT, card.message_id, card.button_data("确认"))
            await api.wait_for(lambda: "工单号" in (api.messages(RESIDENT)[-1].get("text") or ""))
            await api.wait_for(lambda: _failed(api) >= 1)
        finally:
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
        api.clear_failures()
        bot = start_bot(config, api)
        try:
            alert = await api.next_sent(URBAN, after=0, timeout=30)
            assert "乱扔垃圾" in alert.text
            # The alert's outbox row is done, and the courier has since delivered
            # something queued after it to the same chat: no duplicate can follow.
            done = [("group_alert", "sent"), ("ticket_receipt", "sent")]
            await api.wait_for(lambda: _outbox_statuses(tmp_path / "civic.db") == done)
            api.send_text(ADMIN, "/digest")
            await api.wait_for(lambda: _digest_in(api, URBAN), timeout=30)
            assert [m.text for m in api.sent_to(URBAN)].count(alert.text) == 1
        finally:
            bot.terminate()
            # The stand-in shares this event loop: wait without blocking it.
            await asyncio.to_thread(bot.wait, 30)


async def _when(rows: Awaitable[T], condition: Callable[[T], bool]) -> T | None:
    value = await rows
    return value if condition(value) else None


def _sends_to(api: BotApiStandIn, chat_id: int) -> int:
    """Every send or edit attempted in a chat, accepted or not."""
    return sum(1 for r in api.requests if r.params.get("chat_id") == chat_id)


def _digest_in(api: BotApiStandIn, chat_id: int) -> bool:
    return any("每日简报" in (m.text or "") for m in api.sent_to(chat_id))


def _outbox_statuses(db_path: Path) -> list[tuple[str, str]]:
    """The outbox of a bot running in another process, read from its database file."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return conn.execute(
            "SELECT kind, status FROM outbox WHERE kind != 'digest' ORDER BY id"
        ).fetchall()


def _failed_sends(world: World) -> int:
    return _failed(world.api)


def _failed(api: BotApiStandIn) -> int:
    return sum(1 for r in api.requests if r.params.get("chat_id") == URBAN and not r.ok)


def write_config(tmp_path: Path, api: BotApiStandIn) -> Path:
    """The committed config pointed at the stand-in, with its own database."""
    raw = standin_config(ROOT / "config.toml", api, tmp_path / "civic.db", GROUP_CHATS)
    raw["admins"] = [ADMIN]
    raw["outbox"].update(retry_base_seconds=0.05, retry_max_seconds=0.2, idle_poll_seconds=0.2)
    path = tmp_path / "config.toml"
    path.write_bytes(tomli_w.dumps(raw).encode())
    return path


def start_bot(config: Path, api: BotApiStandIn) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": api.token}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
