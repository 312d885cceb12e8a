"""The support-rate survey: one answer per resident a round, changeable; rates for the office."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import started_world
from tests.world import ADMIN, NEIGHBOUR, RESIDENT, URBAN_STAFF, World


async def answer(world: World, user: int, choice: str, aware: str | None = None) -> None:
    question = await world.say("/survey", user=user)
    assert "支持我区创建全国文明城区" in question.text
    after = len(world.api.sent_to(user))
    await world.press(user, question, choice)
    follow_up = await world.api.next_sent(user, after=after)  # 知晓 comes next, always
    if aware is not None:
        await world.press(user, follow_up, aware)


async def test_support_and_awareness_rates_per_round_against_the_target(world: World) -> None:
    await answer(world, RESIDENT, "比较支持", "知道")
    await answer(world, NEIGHBOUR, "不了解", "不知道")
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/survey_stats")
    text = (await world.api.next_sent(ADMIN, after=after)).text
    assert "2 人参与｜支持率 50%｜知晓率 50%" in text and "⚠️" in text
    chart = await world.api.next_sent(ADMIN, after=after + 1)
    assert chart.photo_file_ids


async def test_an_answer_can_be_changed_within_the_round(world: World) -> None:
    await answer(world, RESIDENT, "不太支持")
    await answer(world, RESIDENT, "支持")
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT support FROM survey_answers")
    assert [tuple(r) for r in rows] == [("support",)]


async def test_only_admins_see_the_survey_figures(world: World) -> None:
    assert "无权限" in (await world.say("/survey_stats", user=URBAN_STAFF)).text


@pytest.mark.parametrize(("every_days", "rounds"), [(3, 2), (7, 1)])
async def test_a_new_round_starts_every_days_after_the_last(
    tmp_path: Path, classifier: object, every_days: int, rounds: int
) -> None:
    async with started_world(tmp_path, classifier, survey={"every_days": every_days}) as world:
        await answer(world, RESIDENT, "支持")
        world.clock.advance(4 * 86400)  # four days later the resident answers again
        await answer(world, RESIDENT, "比较支持")
        async with world.db.session() as conn:
            [(count,)] = await conn.execute_fetchall("SELECT COUNT(*) FROM survey_rounds")
            answers = await conn.execute_fetchall(
                "SELECT support FROM survey_answers ORDER BY round_id"
            )
        assert count == rounds
        expected = ["support", "rather"] if rounds == 2 else ["rather"]
        assert [r[0] for r in answers] == expected
