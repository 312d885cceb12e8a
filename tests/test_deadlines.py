"""Deadlines: a late case is reminded in its group, then escalated to 督导组, once each."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import started_world
from tests.world import GROUP_CHATS, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
# About a second to accept, two to resolve; escalation a second after a deadline.
QUICK = {
    "reports": {"escalate_after_hours": 0.0003, "overdue_check_seconds": 0.1},
    "categories": {"litter": {"accept_hours": 0.0003, "resolve_hours": 0.0006}},
}


def texts_to(world: World, group: str, fragment: str) -> list[str]:
    return [m.text for m in world.api.sent_to(GROUP_CHATS[group]) if fragment in (m.text or "")]


async def test_a_case_not_accepted_in_time_is_reminded_then_escalated_once(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **QUICK) as world:
        _, ticket = await world.file(LITTER)
        await world.api.wait_for(lambda: texts_to(world, "urban", "超过受理时限"))
        [escalation] = await world.api.wait_for(
            lambda: texts_to(world, "supervision", "超过受理时限")
        )
        assert ticket in escalation and "城镇建设管理组" in escalation and LITTER in escalation
        await asyncio.sleep(0.5)  # several more checks: none may repeat a notice
        await world.restart()
        await asyncio.sleep(0.5)
        assert len(texts_to(world, "urban", "超过受理时限")) == 1
        assert len(texts_to(world, "supervision", "超过受理时限")) == 1


async def test_the_reminder_sits_under_the_alert(tmp_path: Path, classifier: object) -> None:
    async with started_world(tmp_path, classifier, **QUICK) as world:
        await world.file(LITTER)
        alert = await world.alert("urban")
        await world.api.wait_for(lambda: texts_to(world, "urban", "超过受理时限"))
        reminder = next(r for r in world.api.requests if "超过受理时限" in str(r.params))
        assert reminder.params["reply_parameters"]["message_id"] == alert.message_id


async def test_an_accepted_case_is_not_reminded_to_accept(
    tmp_path: Path, classifier: object
) -> None:
    # About 3 s to accept (pressed well within it), an hour to resolve.
    generous = {**QUICK, "categories": {"litter": {"accept_hours": 0.0008}}}
    async with started_world(tmp_path, classifier, **generous) as world:
        await world.file(LITTER)
        alert = await world.alert("urban")
        await world.press(URBAN_STAFF, alert, "受理")
        await world.wait_text(alert, "状态：已受理")
        await asyncio.sleep(3.5)  # past the accept deadline, well before the resolve one
        assert texts_to(world, "urban", "超过受理时限") == []
        assert texts_to(world, "supervision", "督办") == []


async def test_a_late_resolution_is_escalated_with_how_late(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **QUICK) as world:
        await world.file(LITTER)
        alert = await world.alert("urban")
        await world.press(URBAN_STAFF, alert, "受理")
        [escalation] = await world.api.wait_for(
            lambda: texts_to(world, "supervision", "超过办结时限")
        )
        assert "仍未办结" in escalation and "分钟" in escalation
