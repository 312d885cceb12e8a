"""'Me too' only for the case the bot offered: a forged 关注 button follows nothing."""

from __future__ import annotations

from dialogue import callbacks, texts
from simulator.server import SentMessage
from tests.places import ACROSS_TOWN, HERE, NEXT_DOOR, report_at
from tests.world import CONFIRM, GROUP_CHATS, NEIGHBOUR, RESIDENT, URBAN_STAFF, World


async def filed_at(world: World, user: int, where: tuple[float, float]) -> tuple[str, int]:
    """File a report at a place; return its ticket and its id."""
    card = await report_at(world, user, where)
    await world.press(user, card, CONFIRM)
    filed = await world.wait_text(card, "工单号")
    ticket = filed.split("工单号：", 1)[1].split()[0]
    return ticket, await report_id(world, ticket)


async def report_id(world: World, ticket: str) -> int:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT id FROM reports WHERE ticket = ?", (ticket,))
    return int(next(iter(rows))[0])


def draft_id(card: SentMessage) -> int:
    button = callbacks.parse(card.button_data(CONFIRM))
    assert button is not None
    return button.id


async def alert_of(world: World, ticket: str) -> SentMessage:
    return await world.driver.about(GROUP_CHATS["urban"], ticket)


async def followers(world: World) -> list[tuple[int, int]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT report_id, resident_id FROM followers")
    return [(r[0], r[1]) for r in rows]


async def draft_status(world: World, draft: int) -> str:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT status FROM drafts WHERE id = ?", (draft,))
    return str(next(iter(rows))[0])


async def offered_a_follow(world: World, user: int, where: tuple[float, float]) -> SentMessage:
    """A draft near an open case, confirmed: the card now offers 关注."""
    card = await report_at(world, user, where, "东门那边垃圾堆成山了")
    await world.press(user, card, CONFIRM)
    await world.wait_text(card, "附近")
    return card


async def test_a_forged_follow_of_a_case_never_offered_is_refused(world: World) -> None:
    _, case = await filed_at(world, RESIDENT, HERE)
    card = await world.card("路口有人闯红灯", NEIGHBOUR)  # nothing nearby was offered
    draft = draft_id(card)
    forged = callbacks.draft_button("fol", draft, str(case))
    answer = await world.press_data(NEIGHBOUR, card, forged)
    assert answer["text"] == texts.BUTTON_STALE
    assert await followers(world) == []
    assert await draft_status(world, draft) == "open"


async def test_a_follow_pointing_at_another_case_than_the_one_offered_is_refused(
    world: World,
) -> None:
    _, far_case = await filed_at(world, RESIDENT, ACROSS_TOWN)
    await filed_at(world, RESIDENT, HERE)
    card = await offered_a_follow(world, NEIGHBOUR, NEXT_DOOR)
    forged = callbacks.draft_button("fol", draft_id_of_offer(world, card), str(far_case))
    answer = await world.press_data(NEIGHBOUR, card, forged)
    assert answer["text"] == texts.BUTTON_STALE
    assert await followers(world) == []


async def test_the_reporter_cannot_follow_their_own_case(world: World) -> None:
    _, case = await filed_at(world, RESIDENT, HERE)
    card = await world.card("路口有人闯红灯", RESIDENT)
    draft = draft_id(card)
    forged = callbacks.draft_button("fol", draft, str(case))
    answer = await world.press_data(RESIDENT, card, forged)
    assert answer["text"] == texts.BUTTON_STALE
    assert await followers(world) == []
    assert await draft_status(world, draft) == "open"


async def test_a_follow_button_with_junk_for_a_case_gets_the_stale_answer(world: World) -> None:
    card = await world.card("路口有人闯红灯", NEIGHBOUR)
    for junk in ("abc", "9" * 32):
        forged = callbacks.draft_button("fol", draft_id(card), junk)
        answer = await world.press_data(NEIGHBOUR, card, forged)
        assert answer["text"] == texts.BUTTON_STALE


async def test_the_offered_case_can_still_be_followed(world: World) -> None:
    ticket, case = await filed_at(world, RESIDENT, HERE)
    card = await offered_a_follow(world, NEIGHBOUR, NEXT_DOOR)
    await world.press(NEIGHBOUR, card, "关注")
    await world.wait_text(card, f"已关注工单 {ticket}")
    assert await followers(world) == [(case, await world.resident_id(NEIGHBOUR))]


async def test_following_the_same_case_twice_counts_the_resident_once(world: World) -> None:
    ticket, _ = await filed_at(world, RESIDENT, HERE)
    alert = await alert_of(world, ticket)
    for _ in range(2):
        card = await offered_a_follow(world, NEIGHBOUR, NEXT_DOOR)
        await world.press(NEIGHBOUR, card, "关注")
        await world.wait_text(card, "已关注工单")
    await world.press(URBAN_STAFF, alert, "受理")
    text = await world.wait_text(alert, "状态：已受理")
    assert "另有 1 位群众" in text


async def test_the_reporter_merged_into_their_own_case_is_not_counted(world: World) -> None:
    first, _ = await filed_at(world, RESIDENT, HERE)
    first_alert = await alert_of(world, first)
    second, _ = await filed_at(world, RESIDENT, NEXT_DOOR)  # their own case is not offered
    second_alert = await alert_of(world, second)
    await world.act_with_note(URBAN_STAFF, second_alert, "重复", first)
    await world.wait_text(second_alert, "状态：重复已合并")
    await world.press(URBAN_STAFF, first_alert, "受理")
    text = await world.wait_text(first_alert, "状态：已受理")
    assert "另有" not in text


def draft_id_of_offer(world: World, card: SentMessage) -> int:
    button = callbacks.parse(world.driver.now(card).button_data("关注"))
    assert button is not None
    return button.id
