"""An area's leaders get a read-only copy (no buttons) of each new case's alert in their
area and of each escalation, in their private chat on Telegram and as a WeCom text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulator.server import SentMessage
from simulator.wecom import WeComStandIn
from tests.conftest import started_world
from tests.places import HERE, report_at
from tests.test_deadlines import ACCEPT, ESCALATE, texts_to
from tests.wecom_setup import wecom_app
from tests.world import CONFIRM, GROUP_CHATS, RENMIN_LEADER, RESIDENT, World

# In 中山公园社区, which names no leader.
ELSEWHERE = (31.2300, 121.4694)
RENMIN_WECOM = "rmgc_shuji"  # 人民广场社区书记 on WeCom (areas/demo.geojson)


async def filed_at(world: World, where: tuple[float, float], user: int = RESIDENT) -> str:
    """A case filed with a location; its ticket."""
    card = await report_at(world, user, where)
    await world.press(user, card, CONFIRM)
    body = await world.wait_text(card, "工单号")
    return body.split("工单号：", 1)[1].split()[0]


def copies_to(world: World, user: int, fragment: str = "") -> list[SentMessage]:
    return [
        m
        for m in world.api.sent_to(user)
        if "【抄送】" in (m.text or "") and fragment in (m.text or "")
    ]


async def leader_rows(world: World) -> list[tuple[str, str, str]]:
    """(ticket, channel, status) of every leader copy queued."""
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall(
            "SELECT r.ticket, o.channel, o.status FROM outbox o JOIN reports r"
            " ON r.id = o.report_id WHERE o.kind = 'leader_copy' ORDER BY o.id"
        )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_leader_gets_a_read_only_copy_of_an_alert_in_their_area_only(
    world: World,
) -> None:
    elsewhere = await filed_at(world, ELSEWHERE)
    ticket = await filed_at(world, HERE)
    [copy] = await world.api.wait_for(lambda: copies_to(world, RENMIN_LEADER, ticket))
    assert copy.text.startswith("【抄送】人民广场社区")
    assert "城镇建设管理组" in copy.text and "🏘 区域：人民广场社区" in copy.text
    assert not copy.buttons
    # Queued with the case, in its transaction: none for the case in another area.
    assert [row[0] for row in await leader_rows(world)] == [ticket]
    assert copies_to(world, RENMIN_LEADER, elsewhere) == []


async def test_an_escalation_is_copied_to_the_area_leader(world: World) -> None:
    ticket = await filed_at(world, HERE)
    await world.api.wait_for(lambda: copies_to(world, RENMIN_LEADER, ticket))
    world.clock.advance(ACCEPT + 60)
    assert await world.runtime.reports.cases.check_deadlines() == 1  # the group's reminder
    world.clock.advance(ESCALATE)
    assert await world.runtime.reports.cases.check_deadlines() == 1  # the escalation
    [copy] = await world.api.wait_for(lambda: copies_to(world, RENMIN_LEADER, "督办"))
    assert ticket in copy.text and "超过受理时限" in copy.text and not copy.buttons
    await world.api.wait_for(lambda: texts_to(world, "supervision", "超过受理时限"))


async def test_a_leader_who_never_started_the_bot_is_told_of_once_and_not_retried(
    world: World,
) -> None:
    world.api.fail_chat(RENMIN_LEADER, "not_started")
    first = await filed_at(world, HERE)
    second = await filed_at(world, HERE)

    async def both_failed() -> bool:
        rows = [r for r in await leader_rows(world) if r[1] == "telegram"]
        return [r[0] for r in rows] == [first, second] and all(r[2] == "failed" for r in rows)

    await world.eventually(both_failed)
    # The notice is queued in the commit that failed the first copy: it is out by now
    # or on its way; the second copy's failure queued none.
    notices = await world.api.wait_for(
        lambda: [
            m for m in world.api.sent_to(GROUP_CHATS["office"]) if "抄送无法送达" in (m.text or "")
        ]
    )
    assert len(notices) == 1
    assert "人民广场社区书记" in notices[0].text and "/start" in notices[0].text
    async with world.db.session() as conn:
        [[count]] = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'refusal_notice'"
        )
    assert count == 1


@pytest.fixture
async def wecom_world(
    tmp_path: Path, classifier: object
) -> AsyncIterator[tuple[World, WeComStandIn]]:
    async with WeComStandIn() as wc:
        wc.add_user(RENMIN_WECOM, "人民广场社区书记", [9])
        environ, overrides = wecom_app(wc)
        async with started_world(tmp_path, classifier, environ, **overrides) as tg:
            assert tg.runtime.wecom is not None
            wc.callback_url = tg.runtime.wecom.callback_url
            yield tg, wc


async def test_a_leader_on_wecom_gets_the_copy_as_a_text(
    wecom_world: tuple[World, WeComStandIn],
) -> None:
    world, wc = wecom_world
    elsewhere = await filed_at(world, ELSEWHERE)
    ticket = await filed_at(world, HERE)
    copy = await wc.wait_for(
        lambda: next((m for m in wc.sent_to(RENMIN_WECOM) if ticket in (m.text or "")), None)
    )
    assert (copy.text or "").startswith("【抄送】人民广场社区") and not copy.task_id
    # On both channels: the leader names both.
    await world.api.wait_for(lambda: copies_to(world, RENMIN_LEADER, ticket))
    assert not any(elsewhere in (m.text or "") for m in wc.sent_to(RENMIN_WECOM))
