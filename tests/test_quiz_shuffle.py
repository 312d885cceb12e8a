"""A question's options are shuffled each time it is sent; answers are scored by the
order the resident saw, through Telegram's quiz polls and the text quiz alike."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, MutableSequence
from pathlib import Path
from typing import Any

import pytest

from quizzes.bank import Question
from quizzes.scoring import shuffled_order, to_bank
from tests.conftest import started_world
from tests.wechat_world import OPENID, WeChatWorld, wechat_world
from tests.world import RESIDENT, World

ROUND_OF = {"quizzes": {"round_size": 1}}


class Reversing(random.Random):
    """Shuffles by reversing: every question's options come in an order not the bank's."""

    def shuffle(self, x: MutableSequence[Any]) -> None:  # type: ignore[override]
        x.reverse()


@pytest.fixture
async def wechat(tmp_path: Path, classifier: object) -> AsyncIterator[WeChatWorld]:
    async with wechat_world(tmp_path, classifier) as w:
        yield w


def polls(world: World) -> list[Any]:
    return [m.poll for m in world.api.sent_to(RESIDENT) if m.poll]


async def poll_no(world: World, n: int, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
    return await world.api.wait_for(
        lambda: polls(world)[n] if len(polls(world)) > n else None, timeout=timeout
    )


async def results(world: World) -> str:
    return await world.api.wait_for(
        lambda: next(
            (m.text for m in world.api.sent_to(RESIDENT) if "本轮答对" in (m.text or "")), None
        )
    )


def asked(world: World, poll: dict[str, Any]) -> Question:
    bank = world.runtime.quizzes.bank
    return next(q for q in bank.questions if q.question == poll["question"])


def test_some_seed_shows_the_options_in_another_order_and_the_same_seed_the_same() -> None:
    orders = {shuffled_order(4, random.Random(seed)) for seed in range(10)}
    assert len(orders) > 1 and all(sorted(order) == [0, 1, 2, 3] for order in orders)
    assert shuffled_order(4, random.Random(7)) == shuffled_order(4, random.Random(7))


def test_an_answer_by_shown_position_maps_to_the_banks_index() -> None:
    assert to_bank([0, 2], (3, 1, 0, 2)) == [3, 0]
    assert to_bank([1], None) == [1]  # a poll sent before shuffling: the bank's order
    assert to_bank([9], (1, 0)) == [-1]  # never shown: matches no correct option


async def test_a_quiz_poll_shows_shuffled_options_and_the_right_one_scores(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **ROUND_OF) as world:
        world.runtime.quizzes.rng = Reversing()
        await world.say("/quiz")
        poll = await poll_no(world, 0)
        question = asked(world, poll)
        assert [o["text"] for o in poll["options"]] == list(reversed(question.options))
        last = len(question.options) - 1
        assert poll["correct_option_ids"] == sorted(last - i for i in question.correct)
        world.api.answer_poll(RESIDENT, poll["id"], poll["correct_option_ids"])
        assert "答对 1/1 题" in await results(world)


async def test_the_shown_order_survives_a_restart_mid_round(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, quizzes={"round_size": 2}) as world:
        world.runtime.quizzes.rng = Reversing()
        await world.say("/quiz")
        first = await poll_no(world, 0)
        question = asked(world, first)
        assert [o["text"] for o in first["options"]] == list(reversed(question.options))
        await world.restart()
        world.api.answer_poll(RESIDENT, first["id"], first["correct_option_ids"])
        second = await poll_no(world, 1)
        world.api.answer_poll(RESIDENT, second["id"], second["correct_option_ids"])
        assert "答对 2/2 题" in await results(world)


async def test_a_text_quiz_answer_by_number_scores_by_the_shown_order(
    wechat: WeChatWorld,
) -> None:
    world = wechat
    world.tg.runtime.quizzes.rng = Reversing()
    await world.resident().click("daily_quiz")
    menu = await world.wx.wait_for(
        lambda: next((m for m in world.wx.sent_to(OPENID) if "第 1/" in (m.text or "")), None)
    )
    round_ = await world.tg.runtime.quizzes.current(1)
    question = world.tg.runtime.quizzes.bank.by_id(round_.questions[0])
    shown = [content for _, content in menu.choices]
    assert shown == [f"{n}. {o}" for n, o in enumerate(reversed(question.options), start=1)]
    number = len(question.options) - question.correct[0]  # the right one's number as shown
    before = len(world.wx.sent_to(OPENID))
    await world.resident().choose(menu, shown[number - 1])
    verdict = await world.next_to(after=before)
    assert verdict.text and verdict.text.startswith("✅")
