"""Working groups and their roles come from config: a district may add a group, and say
which group is escalated to, gets the weekly report and hears of refused messages."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import started_world
from tests.world import ADMIN, GROUP_CHATS, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
HOUR = 3600.0
SANITATION_CHAT = -100_100
# A district with an eighth group, 环卫组, that handles litter.
SANITATION = {
    "groups": {"sanitation": {"name": "环卫组", "chat_id": SANITATION_CHAT}},
    "categories": {"litter": {"group": "sanitation"}},
}


def texts_in(world: World, chat_id: int, fragment: str) -> list[str]:
    return [m.text for m in world.api.sent_to(chat_id) if fragment in (m.text or "")]


async def test_a_category_routed_to_an_eighth_group_alerts_its_chat(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **SANITATION) as world:
        world.api.add_group(SANITATION_CHAT, "sanitation 工作群", [])
        assert world.settings.group_keys[-1] == "sanitation"
        _, ticket = await world.file(LITTER)
        alert = await world.api.next_sent(SANITATION_CHAT, after=0)
        assert ticket in alert.text and alert.buttons
        assert texts_in(world, GROUP_CHATS["urban"], ticket) == []


async def test_an_overdue_case_escalates_to_the_group_roles_escalation_names(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, roles={"escalation": "office"}) as world:
        _, ticket = await world.file(LITTER)
        world.clock.advance(24 * HOUR + 60)
        assert await world.runtime.reports.cases.check_deadlines() == 1  # the group's reminder
        world.clock.advance(24 * HOUR)
        assert await world.runtime.reports.cases.check_deadlines() == 1  # the escalation
        office = GROUP_CHATS["office"]
        [escalation] = await world.api.wait_for(lambda: texts_in(world, office, "超过受理时限"))
        assert ticket in escalation and "城镇建设管理组" in escalation
        assert texts_in(world, GROUP_CHATS["supervision"], "超过受理时限") == []


async def test_the_weekly_report_goes_to_the_group_roles_weekly_report_names(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, roles={"weekly_report": "publicity"}) as world:
        await world.runtime.reports.office.queue_weekly_report()
        publicity = GROUP_CHATS["publicity"]
        assert "周报" in (await world.api.next_sent(publicity, after=0)).text
        assert texts_in(world, GROUP_CHATS["office"], "周报") == []


async def test_refused_messages_are_told_to_the_group_roles_notices_names(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, roles={"notices": "supervision"}) as world:
        urban = GROUP_CHATS["urban"]
        world.api.fail_chat(urban, "forbidden", times=1)
        await world.say("/digest", user=ADMIN)
        supervision = GROUP_CHATS["supervision"]
        [notice] = await world.api.wait_for(lambda: texts_in(world, supervision, "无法送达"))
        assert "城镇建设管理组" in notice and "每日简报" in notice
        assert texts_in(world, GROUP_CHATS["office"], "无法送达") == []
