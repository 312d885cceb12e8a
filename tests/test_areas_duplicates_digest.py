"""Duplicate detection and the daily digest know the area: a duplicate is in the same
area, a digest line names it."""

from __future__ import annotations

from tests.places import HERE, NEXT_DOOR, report_at
from tests.test_digest import digest_to
from tests.world import ADMIN, CONFIRM, NEIGHBOUR, RESIDENT, World

# 28 m apart, either side of the border of 中山公园社区 (west) and 人民广场社区 (east).
WEST_OF_BORDER = (31.2300, 121.4694)
EAST_OF_BORDER = (31.2300, 121.4697)


async def test_a_nearby_case_across_an_area_border_is_no_duplicate(world: World) -> None:
    card = await report_at(world, RESIDENT, WEST_OF_BORDER)
    await world.press(RESIDENT, card, CONFIRM)
    await world.wait_text(card, "工单号")
    second = await report_at(world, NEIGHBOUR, EAST_OF_BORDER, "东门那边垃圾堆成山了")
    await world.press(NEIGHBOUR, second, CONFIRM)
    text = await world.wait_text(second, "工单号")
    assert "附近" not in text


async def test_a_nearby_case_in_the_same_area_is_still_offered(world: World) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    await world.wait_text(card, "工单号")
    second = await report_at(world, NEIGHBOUR, NEXT_DOOR, "东门那边垃圾堆成山了")
    await world.press(NEIGHBOUR, second, CONFIRM)
    assert "同类问题" in await world.wait_text(second, "附近")


async def test_the_digest_names_the_area_of_each_case(world: World) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    body = await world.wait_text(card, "工单号")
    ticket = body.split("工单号：", 1)[1].split()[0]
    await world.say("/digest", user=ADMIN)
    urban = await world.api.wait_for(lambda: digest_to(world, "urban"))
    assert f"{ticket}·人民广场社区" in urban
