"""Odd input gets a usage answer or is ignored, never the generic error."""

from __future__ import annotations

import math
import time

import pytest

from dialogue import texts
from reports.tickets import parse_ticket
from tests.world import ADMIN, RESIDENT, World

LITTER = "小区东门垃圾桶满了好几天没人清运"


def edit(world: World, message: dict, text: str) -> None:
    """The user edits a message they sent: Telegram sends it again as edited_message."""
    edited = {**message, "text": text, "edit_date": int(time.time())}
    world.api.inject({"edited_message": edited})


async def digests_queued(world: World) -> int:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE kind = 'digest'")
    return int(next(iter(rows))[0])


async def test_an_edited_digest_command_does_not_send_the_digests_again(world: World) -> None:
    after = len(world.api.sent_to(ADMIN))
    command = world.api.send_text(ADMIN, "/digest")
    assert "已把今天的简报" in (await world.api.next_sent(ADMIN, after=after)).text
    once = await digests_queued(world)
    edit(world, command, "/digest ")
    # Updates of one chat are handled in order: once /help is answered, the edit was seen.
    help_reply = await world.say("/help", user=ADMIN)
    assert help_reply.text == texts.HELP
    assert await digests_queued(world) == once
    assert len(world.api.sent_to(ADMIN)) == after + 2  # 已把今天的简报…, then the help


async def test_an_edited_command_in_a_group_is_ignored_too(world: World) -> None:
    chat = -200_001
    world.api.add_group(chat, "区创建办工作群", [ADMIN])
    command = world.api.send_text(ADMIN, "/digest", chat_id=chat)
    assert "已把今天的简报" in (await world.api.next_sent(chat)).text
    once = await digests_queued(world)
    edit(world, command, "/digest")
    await world.say("/bind", user=ADMIN, chat_id=chat)  # a later update of the same chat
    assert await digests_queued(world) == once
    assert not any("已把今天的简报" in (m.text or "") for m in world.api.sent_to(chat)[1:])


async def test_a_status_with_a_five_thousand_digit_ticket_gets_the_usage(world: World) -> None:
    reply = await world.say("/status " + "9" * 5000)
    assert reply.text == texts.STATUS_USAGE


async def test_a_status_with_a_long_sequence_gets_the_usage(world: World) -> None:
    reply = await world.say("/status 261128-" + "0" * 5000)
    assert reply.text == texts.STATUS_USAGE


@pytest.mark.parametrize(
    "dates",
    [
        "99999-99-99",
        "2024-13-45",
        "2024-02-30",
        "2026-11-30 2026-11-01",
        "2026-11-01 9999-12-31",
        "0001-01-01",
        "2026-11-01 2026-11-30 2026-12-31",
    ],
)
async def test_an_export_with_impossible_dates_gets_the_usage(world: World, dates: str) -> None:
    reply = await world.say(f"/export {dates}", user=ADMIN)
    assert reply.text == texts.EXPORT_USAGE


@pytest.mark.parametrize("days", ["9" * 5000, "-1", "0", "1e9", "nan"])
async def test_stats_with_an_impossible_number_of_days_gets_the_usage(
    world: World, days: str
) -> None:
    reply = await world.say(f"/stats {days}", user=ADMIN)
    assert reply.text == texts.STATS_USAGE


@pytest.mark.parametrize("data", ["", "hello", "v1:d:ok", "v2:d:ok:1", "v1:q:sv:0:zzz"])
async def test_a_button_with_data_that_is_not_ours_gets_the_stale_answer(
    world: World, data: str
) -> None:
    card = await world.card(LITTER)
    answer = await world.press_data(RESIDENT, card, data)
    assert answer["text"] == texts.BUTTON_STALE


async def drafts_stored(world: World) -> list[tuple[object, object]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT latitude, longitude FROM drafts")
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize(
    "where", [(91.0, 121.47), (-90.5, 121.47), (31.23, 180.5), (31.23, -999.0), (math.nan, 0.0)]
)
async def test_a_location_off_the_globe_is_refused_and_nothing_is_stored(
    world: World, where: tuple[float, float]
) -> None:
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_location(RESIDENT, *where)
    reply = await world.api.next_sent(RESIDENT, after=after)
    assert reply.text == texts.LOCATION_IMPOSSIBLE
    assert await drafts_stored(world) == []


async def test_a_location_off_the_globe_leaves_the_open_draft_as_it_was(world: World) -> None:
    await world.card(LITTER)
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_location(RESIDENT, 200.0, 500.0)
    reply = await world.api.next_sent(RESIDENT, after=after)
    assert reply.text == texts.LOCATION_IMPOSSIBLE
    assert await drafts_stored(world) == [(None, None)]


@pytest.mark.parametrize("typed", ["9" * 5000, "261128-" + "0" * 5000, "٢٦١١٢٨-٠٠١"])
def test_a_ticket_is_ascii_digits_of_a_plausible_length(typed: str) -> None:
    assert parse_ticket(typed) is None
