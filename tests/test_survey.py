"""The support-rate survey: one answer per resident a round, changeable; who answers
(community, age band, six months here), why not, the volunteer indicator; the figures
the office can defend (weighted, with intervals, per community), the reasons for
宣传教育组, and the CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from dialogue import texts
from simulator.server import SentMessage
from tests.conftest import started_world
from tests.world import ADMIN, GROUP_CHATS, NEIGHBOUR, RESIDENT, URBAN_STAFF, World

ADULT_HERE = ("中山公园社区", "18至65岁", "是")


async def pressed(world: World, user: int, message: SentMessage, label: str) -> SentMessage:
    """Press a choice; the bot's next message in the chat."""
    after = len(world.api.sent_to(user))
    await world.press(user, message, label)
    return await world.api.next_sent(user, after=after)


async def answer(
    world: World,
    user: int,
    support: str = "支持",
    aware: str = "知道",
    volunteer: str = "支持",
    profile: tuple[str, ...] | None = ADULT_HERE,
    reason: str | None = None,
) -> SentMessage:
    """Answer the whole survey (a reason if asked; the profile if it is asked); the last
    message (the thanks, or the first profile question when `profile` is None)."""
    question = await world.say("/survey", user=user)
    assert texts.SURVEY_QUESTION in question.text
    step = await pressed(world, user, question, support)
    if texts.SURVEY_REASON_QUESTION in step.text:
        after = len(world.api.sent_to(user))
        await world.press(user, step, reason or texts.SURVEY_REASON_SKIP)
        step = await world.api.wait_for(
            lambda: next(
                (
                    m
                    for m in world.api.sent_to(user)[after:]
                    if texts.SURVEY_AWARE_QUESTION in m.text
                ),
                None,
            )
        )
    assert texts.SURVEY_AWARE_QUESTION in step.text
    step = await pressed(world, user, step, aware)
    assert texts.SURVEY_VOLUNTEER_QUESTION in step.text
    after = len(world.api.sent_to(user))
    await world.press(user, step, volunteer)
    last = await world.api.next_sent(user, after=after)
    if texts.SURVEY_PROFILE_INTRO in last.text:
        last = await world.api.next_sent(user, after=after + 1)
        for label in profile or ():
            last = await pressed(world, user, last, label)
    return last


async def stats_text(world: World) -> str:
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/survey_stats")
    return (await world.api.next_sent(ADMIN, after=after)).text


async def stored(world: World, sql: str) -> list[tuple[object, ...]]:
    async with world.db.session() as conn:
        return [tuple(r) for r in await conn.execute_fetchall(sql)]


async def test_the_first_survey_asks_community_age_and_residency_after_the_answers(
    world: World,
) -> None:
    done = await answer(world, RESIDENT)
    assert texts.SURVEY_DONE in done.text and texts.SURVEY_EDIT_PROFILE in str(done.buttons)
    rows = await stored(
        world, "SELECT community, age, lived, support, volunteer FROM survey_answers"
    )
    assert rows == [("zhongshan", "18_65", 1, "support", "support")]


async def test_the_profile_is_not_asked_again_once_given(world: World) -> None:
    await answer(world, RESIDENT)
    again = await answer(world, RESIDENT, profile=None)
    assert again.text == texts.SURVEY_DONE


async def test_my_information_can_be_changed_after_the_survey(world: World) -> None:
    done = await answer(world, RESIDENT)
    step = await pressed(world, RESIDENT, done, texts.SURVEY_EDIT_PROFILE)
    for label in (texts.SURVEY_COMMUNITY_OUTSIDE, "超过65岁", "否"):
        step = await pressed(world, RESIDENT, step, label)
    rows = await stored(world, "SELECT community, age, lived FROM survey_answers")
    assert rows == [("_out", "over_65", 0)]


async def test_communities_come_a_page_at_a_time_within_a_wechat_menu(world: World) -> None:
    await answer(world, RESIDENT, profile=())
    question = world.api.sent_to(RESIDENT)[-1]
    assert texts.SURVEY_COMMUNITY_PAGE.format(page=1, pages=2) in question.text
    assert len(question.buttons) <= 10
    await world.press(RESIDENT, question, texts.SURVEY_COMMUNITY_MORE)
    await world.driver.wait_button(question, "李家村")
    age = await pressed(world, RESIDENT, question, "李家村")
    assert texts.SURVEY_AGE_QUESTION in age.text


async def test_not_quite_supporting_asks_why_and_a_reply_gives_the_words(world: World) -> None:
    await answer(world, RESIDENT, support="不太支持", reason="形式主义")
    prompt = next(m for m in world.api.sent_to(RESIDENT) if texts.SURVEY_REASON_MORE in m.text)
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_text(
        RESIDENT, "检查前突击打扫，平时没人管", reply_to_message_id=prompt.message_id
    )
    noted = await world.api.next_sent(RESIDENT, after=after)
    assert noted.text == texts.SURVEY_REASON_NOTED
    rows = await stored(world, "SELECT reason, reason_text FROM survey_answers")
    assert rows == [("formalism", "检查前突击打扫，平时没人管")]


async def test_the_reason_can_be_skipped(world: World) -> None:
    await answer(world, RESIDENT, support="不支持")
    assert await stored(world, "SELECT support, reason FROM survey_answers") == [("against", None)]


async def test_publicity_gets_the_reasons_grouped_and_counted(world: World) -> None:
    await answer(world, RESIDENT, support="不太支持", reason="形式主义")
    await answer(world, NEIGHBOUR, support="不支持", reason="形式主义")
    publicity = GROUP_CHATS["publicity"]
    text = (await world.say("/survey_reasons", user=URBAN_STAFF, chat_id=publicity)).text
    assert "形式主义：2 人" in text


async def test_other_groups_do_not_see_the_reasons(world: World) -> None:
    urban = GROUP_CHATS["urban"]
    text = (await world.say("/survey_reasons", user=URBAN_STAFF, chat_id=urban)).text
    assert "无权限" in text


async def test_stats_weight_by_community_and_keep_other_answers_apart(world: World) -> None:
    await answer(world, RESIDENT, support="比较支持")
    await answer(world, NEIGHBOUR, support="支持", profile=("滨江社区", "18岁以下", "是"))
    text = await stats_text(world)
    assert "口径内" in text and "：1 份；口径外另计 1 份（年龄不在18–65岁 1）" in text
    assert "中山公园社区：1｜100%｜100%｜100% ⚠️样本不足" in text
    assert "支持率：100%（95%区间 21%–100%）" in text  # Wilson of 1 in 1
    chart = await world.api.wait_for(lambda: world.api.sent_to(ADMIN)[-1].photo_file_ids)
    assert chart


async def test_the_volunteer_indicator_is_reported_the_same_way(world: World) -> None:
    await answer(world, RESIDENT, volunteer="不了解")
    text = await stats_text(world)
    assert "志愿服务认同支持率：0%" in text


async def test_the_export_lists_every_answer_without_who_gave_it(world: World) -> None:
    await answer(world, RESIDENT, support="不太支持", reason="其他")
    prompt = next(m for m in world.api.sent_to(RESIDENT) if texts.SURVEY_REASON_MORE in m.text)
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_text(RESIDENT, "=HYPERLINK(1)", reply_to_message_id=prompt.message_id)
    await world.api.next_sent(RESIDENT, after=after)
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/survey_export")
    document = await world.api.next_sent(ADMIN, after=after)
    assert document.document_bytes is not None
    rows = list(csv.reader(io.StringIO(document.document_bytes.decode("utf-8-sig"))))
    assert rows[0] == list(texts.SURVEY_EXPORT_HEADERS.values())
    assert rows[1][2:] == [
        "中山公园社区", "18至65岁", "是", "不太支持", "知道", "支持", "其他", "'=HYPERLINK(1)",
    ]  # fmt: skip
    assert str(RESIDENT) not in document.document_bytes.decode("utf-8-sig")


async def test_an_answer_can_be_changed_within_the_round(world: World) -> None:
    await answer(world, RESIDENT, "不太支持")
    await answer(world, RESIDENT, "支持", profile=None)
    assert await stored(world, "SELECT support FROM survey_answers") == [("support",)]


async def test_a_forged_survey_answer_is_refused(world: World) -> None:
    question = await world.say("/survey", user=RESIDENT)
    answered = await world.press_data(RESIDENT, question, "v1:q:pc:0:nowhere")
    assert answered["text"] == texts.BUTTON_STALE
    assert await stored(world, "SELECT * FROM survey_profiles") == []


async def test_only_admins_see_the_survey_figures(world: World) -> None:
    assert "无权限" in (await world.say("/survey_stats", user=URBAN_STAFF)).text


async def test_without_areas_no_community_is_asked_and_stats_say_so(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, areas={"file": ""}) as world:
        await answer(world, RESIDENT, profile=("18至65岁", "是"))
        text = await stats_text(world)
    assert texts.SURVEY_NOT_WEIGHTED in text and "支持率：100%" in text


@pytest.mark.parametrize(("every_days", "rounds"), [(3, 2), (7, 1)])
async def test_a_new_round_starts_every_days_after_the_last(
    tmp_path: Path, classifier: object, every_days: int, rounds: int
) -> None:
    async with started_world(tmp_path, classifier, survey={"every_days": every_days}) as world:
        await answer(world, RESIDENT, "支持")
        world.clock.advance(4 * 86400)  # four days later the resident answers again
        await answer(world, RESIDENT, "比较支持", profile=None)
        async with world.db.session() as conn:
            [(count,)] = await conn.execute_fetchall("SELECT COUNT(*) FROM survey_rounds")
            answers = await conn.execute_fetchall(
                "SELECT support, community FROM survey_answers ORDER BY round_id"
            )
        assert count == rounds
        expected = ["support", "rather"] if rounds == 2 else ["rather"]
        assert [r[0] for r in answers] == expected
        assert {r[1] for r in answers} == {"zhongshan"}  # the profile carries over


async def test_the_figures_show_the_trend_over_the_rounds_with_a_chart(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, survey={"every_days": 3}) as world:
        await answer(world, RESIDENT, "不支持", reason=texts.SURVEY_REASON_SKIP)
        world.clock.advance(4 * 86400)
        await answer(world, RESIDENT, "支持", profile=None)
        after = len(world.api.sent_to(ADMIN))
        world.api.send_text(ADMIN, "/survey_stats")
        text = (await world.api.next_sent(ADMIN, after=after)).text
        assert texts.SURVEY_TREND_TITLE in text
        trend = text.split(texts.SURVEY_TREND_TITLE, 1)[1].splitlines()[1:3]
        assert "支持率 0%" in trend[0] and "支持率 100%" in trend[1]
        community_chart = await world.api.next_sent(ADMIN, after=after + 1)
        trend_chart = await world.api.next_sent(ADMIN, after=after + 2)
        assert community_chart.photo_file_ids and trend_chart.photo_file_ids
