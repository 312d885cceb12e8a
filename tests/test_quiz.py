"""Quiz rounds in the chat: native quiz polls, answers scored, results with explanations."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import started_world
from tests.world import RESIDENT, World

TWO = {"quizzes": {"round_size": 2}}


def polls(world: World) -> list:
    return [m for m in world.api.sent_to(RESIDENT) if m.poll]


async def poll_no(world: World, n: int) -> dict:
    """The n-th quiz poll sent to the resident (0-based), waiting for it."""
    message = await world.api.wait_for(lambda: polls(world)[n] if len(polls(world)) > n else None)
    return message.poll


def results(world: World) -> list[str]:
    return [m.text for m in world.api.sent_to(RESIDENT) if "本轮答对" in (m.text or "")]


async def test_a_round_is_quiz_polls_scored_and_explained(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **TWO) as world:
        await world.say("/quiz")
        first = await world.api.wait_for(lambda: polls(world)[0] if polls(world) else None)
        poll = first.poll
        assert poll["type"] == "quiz" and poll["is_anonymous"] is False
        assert poll["correct_option_ids"] and poll.get("explanation")
        world.api.answer_poll(RESIDENT, poll["id"], poll["correct_option_ids"])
        second = await world.api.wait_for(
            lambda: polls(world)[1] if len(polls(world)) > 1 else None
        )
        wrong = [
            i
            for i in range(len(second.poll["options"]))
            if i not in second.poll["correct_option_ids"]
        ]
        world.api.answer_poll(RESIDENT, second.poll["id"], wrong[:1])
        results = await world.api.wait_for(
            lambda: next(
                (m for m in world.api.sent_to(RESIDENT) if "本轮答对" in (m.text or "")), None
            )
        )
        assert "答对 1/2 题" in results.text and "得 10 分" in results.text
        assert "正确答案" in results.text and second.poll["question"] in results.text


async def test_a_topic_can_be_chosen_by_its_chinese_name(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **TWO) as world:
        await world.say("/quiz 垃圾分类")
        first = await world.api.wait_for(lambda: polls(world)[0] if polls(world) else None)
        assert first.poll["question"]
        async with world.db.session() as conn:
            rows = await conn.execute_fetchall("SELECT topic FROM quiz_rounds")
        assert [tuple(r) for r in rows] == [("garbage",)]


async def test_an_unknown_topic_lists_the_topics(world: World) -> None:
    reply = await world.say("/quiz 天文")
    assert "垃圾分类" in reply.text and "/quiz" in reply.text


async def test_questions_answered_lately_are_not_asked_again_while_others_remain(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **TWO) as world:
        asked: list[str] = []
        for round_ in range(3):
            await world.say("/quiz 志愿服务")
            for n in range(2):
                index = round_ * 2 + n
                poll = await world.api.wait_for(
                    lambda index=index: polls(world)[index] if len(polls(world)) > index else None
                )
                asked.append(poll.poll["question"])
                world.api.answer_poll(RESIDENT, poll.poll["id"], poll.poll["correct_option_ids"])
            await world.api.wait_for(
                lambda round_=round_: (
                    sum("本轮答对" in (m.text or "") for m in world.api.sent_to(RESIDENT)) > round_
                )
            )
        assert len(set(asked)) == 6
