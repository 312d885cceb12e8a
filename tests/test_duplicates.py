"""'Me too': a second report of the same problem nearby can follow the open case instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import started_world
from tests.places import ACROSS_TOWN, HERE, NEXT_DOOR, report_at
from tests.world import CONFIRM, NEIGHBOUR, RESIDENT, URBAN_STAFF, World, message_now


async def test_a_nearby_report_of_the_same_problem_is_offered_the_open_case(
    world: World,
) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    filed = await world.wait_text(card, "工单号")
    ticket = filed.split("工单号：", 1)[1].split()[0]
    second = await report_at(world, NEIGHBOUR, NEXT_DOOR, "东门那边垃圾堆成山了")
    await world.press(NEIGHBOUR, second, CONFIRM)
    text = await world.wait_text(second, "附近")
    assert "同类问题" in text and ticket in text and "城镇建设管理组" in text
    labels = [b["text"] for b in message_now(world, second).buttons]
    assert any("关注" in x for x in labels) and any("单独提交" in x for x in labels)


async def test_following_adds_the_resident_without_a_second_report(world: World) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    alert = await world.alert("urban")
    second = await report_at(world, NEIGHBOUR, NEXT_DOOR, "东门那边垃圾堆成山了")
    await world.press(NEIGHBOUR, second, CONFIRM)
    await world.wait_text(second, "附近")
    await world.press(NEIGHBOUR, second, "关注")
    await world.wait_text(second, "已关注工单")
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM reports")
    assert next(iter(rows))[0] == 1
    await world.wait_text(alert, "另有 1 位群众")
    after = len(world.api.sent_to(NEIGHBOUR))
    await world.press(URBAN_STAFF, alert, "受理")
    notice = await world.api.next_sent(NEIGHBOUR, after=after)
    assert "已受理" in notice.text and not notice.buttons


async def test_the_resident_can_still_file_a_separate_report(world: World) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    await world.wait_text(card, "工单号")
    second = await report_at(world, NEIGHBOUR, NEXT_DOOR, "东门那边垃圾堆成山了")
    await world.press(NEIGHBOUR, second, CONFIRM)
    await world.wait_text(second, "附近")
    await world.press(NEIGHBOUR, second, "单独提交")
    await world.wait_text(second, "工单号")
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM reports")
    assert next(iter(rows))[0] == 2


async def test_far_away_or_another_category_is_no_duplicate(world: World) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    await world.wait_text(card, "工单号")
    far = await report_at(world, NEIGHBOUR, ACROSS_TOWN)
    await world.press(NEIGHBOUR, far, CONFIRM)
    await world.wait_text(far, "工单号")
    other = await report_at(world, NEIGHBOUR, NEXT_DOOR, "路口有人闯红灯")
    await world.press(NEIGHBOUR, other, CONFIRM)
    await world.wait_text(other, "工单号")


@pytest.mark.parametrize(("duplicate_hours", "offered"), [(4, True), (2, False)])
async def test_only_a_case_filed_within_duplicate_hours_is_offered(
    tmp_path: Path, classifier: object, duplicate_hours: float, offered: bool
) -> None:
    settings = {"reports": {"duplicate_hours": duplicate_hours}}
    async with started_world(tmp_path, classifier, **settings) as world:
        card = await report_at(world, RESIDENT, HERE)
        await world.press(RESIDENT, card, CONFIRM)
        await world.wait_text(card, "工单号")
        world.clock.advance(3 * 3600)  # the same problem next door, three hours later
        second = await report_at(world, NEIGHBOUR, NEXT_DOOR, "东门那边垃圾堆成山了")
        await world.press(NEIGHBOUR, second, CONFIRM)
        text = await world.wait_text(second, "附近" if offered else "工单号")
        assert ("同类问题" in text) is offered
