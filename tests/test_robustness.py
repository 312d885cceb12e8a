"""Edges Telegram and operators bring: a button on a message too old to be shown, a group
upgraded to a supergroup, a group dropped from the config with work queued for it, and a
quiz's results meeting a Telegram hiccup."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogue import callbacks, texts
from simulator.server import PressedMessage, SentMessage
from tests.conftest import started_world
from tests.world import (
    DROP,
    GROUP_CHATS,
    RESIDENT,
    URBAN_STAFF,
    World,
    settings_for_tests,
)

LITTER = "小区东门垃圾桶满了好几天没人清运"
URBAN = GROUP_CHATS["urban"]
OFFICE = GROUP_CHATS["office"]
SUPERGROUP = -1_001_234_567_890
# Work that waits for a group is not retried again before the test ends, unless released.
SLOW_RETRIES = {"outbox": {"retry_base_seconds": 30.0, "retry_max_seconds": 60.0}}


# --- a button on a message Telegram no longer shows ------------------------------------

BUTTONS = {
    "draft": callbacks.draft_button("cat", 1),
    "draft_location": callbacks.draft_button("loc", 1),
    "quiz_start": callbacks.quiz_button("go"),
    "quiz_subscribe": callbacks.quiz_button("sub"),
    "survey": callbacks.survey_button("yes"),
    "rating": callbacks.report_button("rt", 1, "s"),
    "group_action": callbacks.report_button("mv", 1),
}


async def chat_is_settled(world: World, user: int) -> list[str]:
    """Every text the bot sent in a user's chat, once all it had to say there is out.

    The chat's updates are handled in order: once /help is answered, so is the press.
    """
    await world.say("/help", user=user)
    return [m.text or "" for m in world.api.sent_to(user)]


@pytest.mark.parametrize("shown", ["absent", "inaccessible"])
@pytest.mark.parametrize("button", sorted(BUTTONS))
async def test_a_button_on_a_message_too_old_to_show_is_answered_politely(
    world: World, button: str, shown: PressedMessage
) -> None:
    user, chat_id = RESIDENT, RESIDENT
    if button.startswith("draft"):
        message = await world.card(LITTER)  # an open draft, id 1
    else:
        await world.file(LITTER)  # a case with id 1
        message = world.api.sent_to(RESIDENT)[0]
    if button == "group_action":
        user, chat_id = URBAN_STAFF, URBAN
        message = await world.alert("urban")
    answer = await world.driver.press_data(user, message, BUTTONS[button], shown=shown)
    assert answer["text"] and answer["text"].startswith(texts.BUTTON_TOO_OLD)
    if chat_id == RESIDENT:  # the resident hears no "something went wrong" after it
        assert texts.ERROR not in await chat_is_settled(world, RESIDENT)


# --- a group chat upgraded to a supergroup ----------------------------------------------


async def test_an_alert_to_a_group_upgraded_to_a_supergroup_goes_to_the_new_chat_at_once(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **SLOW_RETRIES) as world:
        world.api.add_group(SUPERGROUP, "urban 工作群", [URBAN_STAFF])
        world.api.fail_chat(URBAN, "migrated", migrate_to=SUPERGROUP)
        _, ticket = await world.file(LITTER)
        first = await world.api.next_sent(SUPERGROUP)
        assert ticket in first.text and first.buttons
        await world.press(URBAN_STAFF, first, "受理")  # staff act on it where it now is
        await world.wait_text(first, "状态：已受理")

        await world.restart()  # the new chat is remembered
        tries_at_old_chat = failed_sends_to(world, URBAN)
        after = len(world.api.sent_to(SUPERGROUP))
        _, second_ticket = await world.file("人行道上的井盖松动了，走上去一直响")
        second = await world.api.next_sent(SUPERGROUP, after=after)
        assert second_ticket in second.text
        assert failed_sends_to(world, URBAN) == tries_at_old_chat
        assert office_notices(world, ticket) == []


def failed_sends_to(world: World, chat_id: int) -> int:
    return sum(1 for r in world.api.requests if r.params.get("chat_id") == chat_id and not r.ok)


# --- a group dropped from the config while its work is queued --------------------------

URBAN_CATEGORIES = ["litter", "street_vending", "illegal_construction", "ads_graffiti"]


async def test_an_alert_for_a_group_dropped_from_the_config_fails_and_the_office_hears_once(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **SLOW_RETRIES) as world:
        world.api.fail_chat(URBAN, "server_error")
        _, ticket = await world.file(LITTER)
        await world.eventually(lambda: outbox_attempts(world, "group_alert"))
        world.settings = settings_for_tests(
            world.settings.storage_path,
            groups={"urban": DROP},
            categories={key: {"group": "social"} for key in [*URBAN_CATEGORIES, "road_facilities"]},
            **SLOW_RETRIES,
        )
        world.api.clear_failures(URBAN)
        await world.restart()
        # As if its retry were due, once the new config runs (not before: the old
        # courier would send it).
        async with world.db.transaction() as conn:
            await conn.execute("UPDATE outbox SET next_attempt_at = 0")
        world.runtime.courier.wake()
        [notice] = await world.api.wait_for(lambda: office_notices(world, ticket))
        assert "urban" in notice.text
        rows = await outbox_rows(world)
        assert ("group_alert", "failed") in rows
        assert [kind for kind, _ in rows].count("refusal_notice") == 1
        assert world.api.sent_to(URBAN) == []


async def outbox_attempts(world: World, kind: str) -> int:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT attempts FROM outbox WHERE kind = ?", (kind,))
    return sum(r[0] for r in rows)


async def outbox_rows(world: World) -> list[tuple[str, str]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT kind, status FROM outbox ORDER BY id")
    return [(r[0], r[1]) for r in rows]


def office_notices(world: World, ticket: str) -> list[SentMessage]:
    return [m for m in world.api.sent_to(OFFICE) if ticket in (m.text or "")]


# --- quiz results meet a Telegram hiccup ------------------------------------------------


async def test_quiz_results_arrive_though_telegram_fails_twice_as_they_go_out(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, quizzes={"round_size": 2}) as world:
        await world.say("/quiz")
        for n in range(2):
            poll = await world.api.wait_for(
                lambda n=n: polls(world)[n] if len(polls(world)) > n else None
            )
            if n == 1:
                world.api.fail_chat(RESIDENT, "server_error", times=2)
            world.api.answer_poll(RESIDENT, poll.poll["id"], poll.poll["correct_option_ids"])
        results = await world.api.wait_for(
            lambda: next(
                (m for m in world.api.sent_to(RESIDENT) if "本轮答对" in (m.text or "")), None
            )
        )
        assert "答对 2/2 题" in results.text


def polls(world: World) -> list[SentMessage]:
    return [m for m in world.api.sent_to(RESIDENT) if m.poll]
