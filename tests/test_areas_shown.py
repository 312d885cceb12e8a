"""Where a case happened is shown: the alert and its WeCom card, /status, /myreports,
the CSV export."""

from __future__ import annotations

from dataclasses import replace

from dialogue.render import Renderer
from tests.places import HERE, report_at
from tests.test_export import exported
from tests.test_wecom_cards import card_of as wecom_card
from tests.test_wecom_cards import case, rows
from tests.world import CONFIRM, RESIDENT, World, settings_for_tests


async def filed_here(world: World) -> str:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    body = await world.wait_text(card, "工单号")
    return body.split("工单号：", 1)[1].split()[0]


async def test_the_alert_names_the_community_the_case_happened_in(world: World) -> None:
    await filed_here(world)
    alert = await world.alert("urban")
    assert "🏘 区域：人民广场社区" in alert.text


async def test_status_and_myreports_name_the_area(world: World) -> None:
    ticket = await filed_here(world)
    status = await world.say(f"/status {ticket}")
    assert "区域：人民广场社区" in status.text
    mine = await world.say("/myreports")
    assert "人民广场社区" in mine.text


async def test_the_csv_has_the_area_column(world: World) -> None:
    await filed_here(world)
    header, case_row = await exported(world)
    assert case_row[header.index("区域")] == "人民广场社区"


def test_a_wecom_card_has_an_area_row_and_a_road_section_says_so(tmp_path: object) -> None:
    render = Renderer(settings_for_tests(tmp_path / "db"))  # type: ignore[operator]
    assert rows(wecom_card(render, replace(case(), area="renmin")))["区域"] == "人民广场社区"
    assert (
        rows(wecom_card(render, replace(case(), area="renminlu")))["区域"] == "人民路（重点路段）"
    )


async def test_a_case_outside_every_area_shows_no_area(world: World) -> None:
    _, ticket = await world.file("小区东门垃圾桶满了好几天没人清运")
    alert = await world.alert("urban")
    assert "区域" not in alert.text
    assert "区域" not in (await world.say(f"/status {ticket}")).text
