"""An open quiz round moves on by itself after a restart: its deadlines are in the database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from simulator.server import SentMessage
from tests.conftest import started_world
from tests.world import RESIDENT, World

# Telegram's shortest open period, so the test waits as little as it can.
QUICK = {"quizzes": {"round_size": 2, "open_period": 5}}


def polls(world: World) -> list[SentMessage]:
    return [m for m in world.api.sent_to(RESIDENT) if m.poll]


async def poll_no(world: World, n: int, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
    """The n-th quiz poll sent to the resident (0-based), waiting for it."""
    return await world.api.wait_for(
        lambda: polls(world)[n] if len(polls(world)) > n else None, timeout=timeout
    )


def rewrite_polls(world: World, assignments: str) -> None:
    """Change the stored polls while the bot is down: as if it had been down a minute."""
    with closing(sqlite3.connect(world.settings.storage_path)) as conn, conn:
        conn.execute(f"UPDATE quiz_polls SET {assignments}")


async def test_a_question_left_open_across_a_restart_still_expires(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **QUICK) as world:
        await world.say("/quiz")
        await poll_no(world, 0)
        await world.restart()
        await world.run_timer_now("quiz-expiry")  # the one the start set again from the database
        second = await poll_no(world, 1)
        world.api.answer_poll(RESIDENT, second.poll["id"], second.poll["correct_option_ids"])
        results = await world.api.wait_for(
            lambda: [m.text for m in world.api.sent_to(RESIDENT) if "本轮答对" in (m.text or "")]
        )
        assert "答对 1/2 题" in results[0]


async def test_a_question_whose_time_ran_out_while_the_bot_was_down_expires_on_start(
    tmp_path: Path, classifier: object
) -> None:
    await next_question_after_a_minute_down(
        tmp_path, classifier, "sent_at = sent_at - 60, expires_at = expires_at - 60"
    )


async def test_a_question_sent_before_deadlines_were_kept_times_out_from_when_it_was_sent(
    tmp_path: Path, classifier: object
) -> None:
    await next_question_after_a_minute_down(
        tmp_path, classifier, "sent_at = sent_at - 60, expires_at = NULL"
    )


async def next_question_after_a_minute_down(
    tmp_path: Path, classifier: object, stored_then: str
) -> None:
    """Ask a question, stop the bot, make its stored poll look a minute old, start again:
    the next question must come well before a fresh open period would end."""
    async with started_world(tmp_path, classifier, **QUICK) as world:
        await world.say("/quiz")
        await poll_no(world, 0)
        await world.runtime.stop()
        rewrite_polls(world, stored_then)
        await world.restart()
        await poll_no(world, 1, timeout=3)
