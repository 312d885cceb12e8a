"""The demo: a person in a browser can report and a group member can act, with no token."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import aiohttp

from demo import ADMIN, STAFF, Demo
from settings import load_settings
from tests.world import ROOT


async def test_the_web_chat_carries_a_report_from_resident_to_group(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config.toml")
    settings = dataclasses.replace(settings, storage_path=tmp_path / "civic.db")
    demo = Demo(settings, port=0)
    await demo.start()
    try:
        api = demo.api
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
        social = demo.settings.groups["social"]
        alert = await api.next_sent(social.chat_id, after=0)
        assert "商场里抽烟" in alert.text
        assert demo.settings.storage_path == tmp_path / "demo.db"
        assert ADMIN[0] in demo.settings.admins and STAFF["social"][0]
    finally:
        await demo.stop()
