"""The resident always learns the ticket: it goes through the outbox, not a direct reply."""

from __future__ import annotations

from simulator.server import SentMessage
from tests.world import CONFIRM, RESIDENT, World

LITTER = "小区东门垃圾桶满了好几天没人清运"


def receipts_sent(world: World) -> list[SentMessage]:
    """New messages (not edits) to the resident that carry a ticket."""
    return [m for m in world.api.sent_to(RESIDENT) if "工单号" in (m.text or "")]


async def failed_card_edit(world: World) -> None:
    """Wait until Telegram has refused at least one edit in the resident's chat."""
    await world.api.wait_for(
        lambda: any(
            r.method == "editMessageText" and not r.ok and r.params.get("chat_id") == RESIDENT
            for r in world.api.requests
        )
    )


async def test_the_ticket_reaches_the_card_after_telegram_fails_a_few_times(world: World) -> None:
    card = await world.card(LITTER)
    world.api.fail_chat(RESIDENT, "server_error", times=3)
    await world.press(RESIDENT, card, CONFIRM)
    text = await world.wait_text(card, "工单号")
    assert "已提交" in text
    assert receipts_sent(world) == []  # the card says it; no second message repeats it


async def test_a_restart_after_filing_still_tells_the_ticket(world: World) -> None:
    card = await world.card(LITTER)
    world.api.fail_chat(RESIDENT, "server_error")
    await world.press(RESIDENT, card, CONFIRM)
    await failed_card_edit(world)
    await world.runtime.stop()  # the bot dies with the report filed and the ticket untold
    world.api.clear_failures()
    await world.restart()
    await world.wait_text(card, "工单号")
    assert receipts_sent(world) == []


async def test_a_card_gone_before_the_edit_gets_the_ticket_as_a_new_message(world: World) -> None:
    card = await world.card(LITTER)
    world.api.fail_chat(RESIDENT, "server_error")
    await world.press(RESIDENT, card, CONFIRM)
    await failed_card_edit(world)
    await world.runtime.app.bot.delete_message(RESIDENT, card.message_id)
    world.api.clear_failures()
    [receipt] = await world.api.wait_for(lambda: receipts_sent(world))
    assert "已提交" in receipt.text


async def test_pressing_confirm_again_shows_the_ticket_in_an_alert(world: World) -> None:
    card, ticket = await world.file(LITTER)
    answer = await world.press_data(RESIDENT, card, card.button_data(CONFIRM))
    assert answer.get("show_alert") is True
    assert ticket in (answer.get("text") or "")
