"""The demo: no token, a web chat, and cases in different states to look at."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import bot
from demo import ADMIN, PLACES, RESIDENTS, STAFF, Demo, Walkthrough
from settings import load_settings
from tests.world import ROOT


def demo_for(tmp_path: Path, seed: bool) -> Demo:
    settings = load_settings(ROOT / "config.toml")
    # Paced far above Telegram's limits, as the other scenarios are: seeding the demo's
    # cases at one message a second to a chat is the demo's pace, not what is tested here.
    telegram = dataclasses.replace(
        settings.telegram, send_rate=1000, chat_rate=1000, group_per_minute=10_000
    )
    settings = dataclasses.replace(settings, storage_path=tmp_path / "civic.db", telegram=telegram)
    return Demo(settings, port=0, seed=seed)


@pytest.fixture
async def bare_demo(tmp_path: Path) -> AsyncIterator[Demo]:
    demo = demo_for(tmp_path, seed=False)
    await demo.start()
    yield demo
    await demo.stop()


async def statuses(demo: Demo) -> Counter[str]:
    assert demo.runtime is not None
    async with demo.runtime.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT status FROM reports")
    return Counter(row[0] for row in rows)


async def test_the_web_chat_carries_a_report_from_resident_to_group(bare_demo: Demo) -> None:
    api = bare_demo.api
    async with aiohttp.ClientSession(api.web_url) as web:
        page = await web.get("/")
        assert "text/html" in page.headers["Content-Type"]
        await web.post("/ui/send", json={"user_id": 1001, "text": "有人在商场里抽烟"})
        card = await api.next_sent(1001, after=0, timeout=10)
        state = await (await web.get("/ui/state", params={"chat_id": "1001"})).json()
        assert any("室内吸烟" in (m.get("text") or "") for m in state["messages"])
        data = card.button_data("确认")
        await web.post(
            "/ui/press", json={"user_id": 1001, "message_id": card.message_id, "data": data}
        )
    social = bare_demo.settings.groups["social"]
    alert = await api.next_sent(social.chat_id, after=0)
    assert "商场里抽烟" in alert.text


async def test_the_demo_keeps_its_own_database_and_an_admin(
    bare_demo: Demo, tmp_path: Path
) -> None:
    assert bare_demo.settings.storage_path == tmp_path / "demo.db"
    assert ADMIN[0] in bare_demo.settings.admins


async def test_the_web_chat_knows_every_role_and_the_map_spots(bare_demo: Demo) -> None:
    async with aiohttp.ClientSession(bare_demo.api.web_url) as web:
        world = await (await web.get("/ui/world")).json()
    roles = world["roles"]
    assert {roles[str(uid)] for uid in RESIDENTS} == {"居民"}
    assert {roles[str(uid)] for uid, _ in STAFF.values()} == {"工作组成员"}
    assert "管理员" in roles[str(ADMIN[0])]
    assert [p["name"] for p in world["places"]] == [name for name, _, _ in PLACES]
    titles = {g["title"] for g in world["groups"]}
    assert titles == {f"{g.name}工作群" for g in bare_demo.settings.groups.values()}


async def test_the_demo_starts_with_cases_in_every_state(tmp_path: Path) -> None:
    demo = demo_for(tmp_path, seed=True)
    await demo.start()
    try:
        assert await statuses(demo) == {
            "submitted": 2,
            "accepted": 1,
            "resolved": 1,
            "closed": 1,
            "rejected": 1,
        }
        urban = demo.settings.groups["urban"].chat_id
        assert len([m for m in demo.api.sent_to(urban) if m.buttons]) >= 3
        assert any(m.photo_file_ids for m in demo.api.sent_to(urban))
    finally:
        await demo.stop()


async def test_the_demos_area_leaders_get_their_copies(tmp_path: Path) -> None:
    demo = demo_for(tmp_path, seed=True)
    await demo.start()
    try:
        assert demo.runtime is not None

        async def copies() -> list[str]:
            async with demo.runtime.db.session() as conn:
                rows = await conn.execute_fetchall(
                    "SELECT status FROM outbox WHERE kind = 'leader_copy'"
                )
            found = [row[0] for row in rows]
            return found if found and "pending" not in found else []

        async with asyncio.timeout(20):
            while not (statuses_now := await copies()):  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(0.05)
        assert set(statuses_now) == {"sent"}
    finally:
        await demo.stop()


async def test_each_start_begins_again_from_a_fresh_database(tmp_path: Path) -> None:
    demo = demo_for(tmp_path, seed=False)
    await demo.start()
    await Walkthrough(demo.api).file("中山公园的路灯坏了，晚上一片漆黑", 1001)
    assert await statuses(demo) == {"submitted": 1}
    await demo.stop()
    demo = demo_for(tmp_path, seed=False)
    await demo.start()
    try:
        assert await statuses(demo) == Counter()
    finally:
        await demo.stop()


def test_a_busy_port_is_named_with_the_setting_that_changes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert bot.main(["demo", "--port", str(port)]) == 1
    error = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in error and "[demo] port" in error
