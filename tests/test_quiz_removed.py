"""Questions removed from the bank (the editors drop some) while stored answers, rounds in
progress and the leaderboard still name them: nothing breaks, a removed question is skipped."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialogue import texts
from quizzes.bank import QuestionBank
from storage import quizzes
from tests.conftest import started_world
from tests.wechat_world import OPENID, WeChatWorld, wechat_world
from tests.world import ADMIN, RESIDENT, World

ROUND_OF_3 = {"quizzes": {"round_size": 3}}


def polls(world: World) -> list[Any]:
    return [m.poll for m in world.api.sent_to(RESIDENT) if m.poll]


async def poll_no(world: World, n: int) -> dict[str, Any]:
    return await world.api.wait_for(lambda: polls(world)[n] if len(polls(world)) > n else None)


async def results(world: World) -> str:
    return await world.api.wait_for(
        lambda: next(
            (m.text for m in world.api.sent_to(RESIDENT) if "本轮答对" in (m.text or "")), None
        )
    )


def wrong(poll: dict[str, Any]) -> list[int]:
    return [next(i for i in range(len(poll["options"])) if i not in poll["correct_option_ids"])]


async def restarted_without(world: World, *removed: str) -> None:
    """Restart the bot with a bank from which these questions were removed."""
    await world.restart()
    service = world.runtime.quizzes
    bank = service.bank
    service.bank = QuestionBank(
        topics=bank.topics, questions=tuple(q for q in bank.questions if q.id not in removed)
    )


async def round_questions(world: World) -> tuple[str, ...]:
    return (await world.runtime.quizzes.current(1)).questions


async def test_a_round_skips_a_question_removed_since_it_began(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **ROUND_OF_3) as world:
        await world.say("/quiz")
        first = await poll_no(world, 0)
        world.api.answer_poll(RESIDENT, first["id"], wrong(first))
        second = await poll_no(world, 1)
        missed, _, unsent = await round_questions(world)
        await restarted_without(world, missed, unsent)
        world.api.answer_poll(RESIDENT, second["id"], second["correct_option_ids"])
        text = await results(world)
        assert "答对 1/2 题" in text
        assert first["question"] not in text  # missed, but no longer in the bank to explain
        assert len(polls(world)) == 2


async def test_an_answer_to_a_question_removed_while_open_scores_nothing_and_the_round_goes_on(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, quizzes={"round_size": 2}) as world:
        await world.say("/quiz")
        first = await poll_no(world, 0)
        removed = (await round_questions(world))[0]
        await restarted_without(world, removed)
        world.api.answer_poll(RESIDENT, first["id"], first["correct_option_ids"])
        second = await poll_no(world, 1)
        world.api.answer_poll(RESIDENT, second["id"], second["correct_option_ids"])
        assert "答对 1/2 题" in await results(world)
        async with world.db.session() as conn:
            rows = await conn.execute_fetchall("SELECT question_id FROM quiz_answers")
        assert removed not in [r[0] for r in rows] and len(rows) == 1


async def test_rank_and_quiz_stats_carry_answers_to_removed_questions_and_topics(
    world: World,
) -> None:
    async with world.db.session() as conn:
        for question_id, topic in (("gone-001", "gone"), ("traffic-999", "traffic")):
            await quizzes.add_answer(
                conn,
                resident_id=RESIDENT,
                question_id=question_id,
                topic=topic,
                correct=True,
                points=10,
                now=time.time(),
            )
    assert "20 分" in (await world.say("/rank")).text
    stats = (await world.say("/quiz_stats", user=ADMIN)).text
    assert "共答 2 题" in stats and "gone" in stats and "文明交通" in stats


@pytest.fixture
async def wechat(tmp_path: Path, classifier: object) -> AsyncIterator[WeChatWorld]:
    async with wechat_world(tmp_path, classifier) as w:
        yield w


async def test_a_text_quiz_answer_to_a_removed_question_is_not_scored_and_the_round_goes_on(
    wechat: WeChatWorld,
) -> None:
    await wechat.resident().click("daily_quiz")
    menu = await wechat.wx.wait_for(
        lambda: next((m for m in wechat.wx.sent_to(OPENID) if "第 1/" in (m.text or "")), None)
    )
    service = wechat.tg.runtime.quizzes
    removed = (await service.current(1)).questions[0]
    service.bank = QuestionBank(
        topics=service.bank.topics,
        questions=tuple(q for q in service.bank.questions if q.id != removed),
    )
    before = len(wechat.wx.sent_to(OPENID))
    await wechat.resident().choose(menu, menu.choices[0][1])
    verdict = await wechat.next_to(after=before)
    assert verdict.text == texts.QUIZ_TEXT_WITHDRAWN
    second = await wechat.next_to(after=before + 1)
    assert "第 2/" in (second.text or "")
