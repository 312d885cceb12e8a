"""Residents' questions through the running bot: the dialogue's answer, the gaps kept for
the office, and /faq_gaps in an admin's private chat."""

from __future__ import annotations

from pathlib import Path

from dialogue.questions import gaps_text
from reports.outbox import TELEGRAM
from reports.questions import GapGroup, GapReport, group_gaps
from tests.conftest import started_world
from tests.world import ADMIN, GROUP_CHATS, NEIGHBOUR, RESIDENT, URBAN_STAFF, World

UNRELATED = "明天会下雨吗？"


async def resident_id(world: World, user: int = RESIDENT) -> int:
    return await world.runtime.reports.residents.resolve(TELEGRAM, user)


async def ask(world: World, text: str, user: int = RESIDENT) -> str:
    replies = await world.runtime.deps.dialogue.question(await resident_id(world, user), text)
    return "\n".join(reply.text for reply in replies)


async def test_a_question_gets_the_office_answer(world: World) -> None:
    reply = await ask(world, "你们几点下班")
    assert "工作日" in reply and "0XXX-12345678" in reply


async def test_an_unrelated_question_is_answered_honestly_and_kept(world: World) -> None:
    reply = await ask(world, UNRELATED)
    assert "这个问题我暂时回答不了" in reply and "12345" in reply
    report = await world.runtime.reports.questions.gaps(7)
    assert [(g.text, g.count) for g in report.groups] == [(UNRELATED, 1)]


async def test_an_answer_carries_its_link(tmp_path: Path, classifier: object) -> None:
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "vol.toml").write_text(
        '[[entry]]\nid = "volunteer"\nquestions = ["怎么报名志愿者"]\n'
        'answer = "到社区报名"\nlink = "https://example.org/volunteer"\n',
        encoding="utf-8",
    )
    async with started_world(tmp_path, classifier, faq={"dir": str(folder)}) as world:
        reply = await ask(world, "志愿者在哪报名")
    assert reply == "到社区报名\n🔗 详情：https://example.org/volunteer"


async def test_faq_gaps_lists_the_most_asked_first_with_counts(world: World) -> None:
    await ask(world, "公园几点关门")
    for user, text in (
        (RESIDENT, UNRELATED),
        (NEIGHBOUR, "明天会下雨吗"),
        (RESIDENT, "明天会下雨么?"),
    ):
        await ask(world, text, user)
    answered = await ask(world, "垃圾怎么分类")
    assert "可回收物" in answered
    reply = await world.say("/faq_gaps", user=ADMIN)
    lines = reply.text.splitlines()
    assert lines[0].startswith("❓ 最近 7 天答不了的问题：4 次（已自动回答 1 次）")
    assert lines[1].startswith("3 次｜明天会下雨么?")
    assert lines[2].startswith("1 次｜公园几点关门")


async def test_faq_gaps_takes_a_number_of_days(world: World) -> None:
    await ask(world, UNRELATED)
    world.clock.advance(10 * 86400)
    week = await world.say("/faq_gaps", user=ADMIN)
    assert "没有答不了的问题" in week.text
    fortnight = await world.say("/faq_gaps 14", user=ADMIN)
    assert "1 次｜明天会下雨吗？" in fortnight.text


async def test_only_admins_see_the_unanswered_questions(world: World) -> None:
    reply = await world.say("/faq_gaps", user=URBAN_STAFF)
    assert "无权限" in reply.text


async def test_faq_gaps_is_not_sent_into_a_group_chat(world: World) -> None:
    reply = await world.say("/faq_gaps", user=ADMIN, chat_id=GROUP_CHATS["office"])
    assert "请在与机器人的私聊中使用此命令" in reply.text


async def test_a_bad_period_gets_the_usage(world: World) -> None:
    reply = await world.say("/faq_gaps 一周", user=ADMIN)
    assert "/faq_gaps 30" in reply.text


# --- pure rules


def test_near_identical_wordings_count_as_one_question() -> None:
    rows = [("请问明天会下雨吗？", 3.0, None), ("明天会下雨么", 2.0, None), ("几点下班", 1.0, "x")]
    groups = group_gaps(rows)
    assert [(g.text, g.count) for g in groups] == [("请问明天会下雨吗？", 2), ("几点下班", 1)]


def test_a_long_list_is_cut_to_one_message_and_says_how_many_are_left() -> None:
    groups = [GapGroup(f"第{i}个问题" + "很长的问题" * 30, 1, 0.0, None) for i in range(200)]
    text = gaps_text(GapReport(7, groups, 200, 0))
    assert len(text) <= 4096
    shown = sum(1 for line in text.splitlines() if line.startswith("1 次｜"))
    assert f"另有 {200 - shown} 个问题未列出" in text
