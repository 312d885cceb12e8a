"""Quiz rounds in the chat: native quiz polls, answers scored, results with explanations."""

from __future__ import annotations

import re
import time
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
        # The missed question is explained; the one answered right is not repeated.
        assert poll["explanation"] != second.poll["explanation"]
        assert second.poll["explanation"] in results.text
        assert poll["explanation"] not in results.text and poll["question"] not in results.text


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


async def play_one_round(world: World, user: int, right: bool) -> None:
    """/quiz with two questions, both answered right or both wrong."""
    world.api.send_text(user, "/quiz")
    for n in range(2):
        poll = await world.api.wait_for(
            lambda n=n: (
                [m for m in world.api.sent_to(user) if m.poll][n]
                if len([m for m in world.api.sent_to(user) if m.poll]) > n
                else None
            )
        )
        right_ids = poll.poll["correct_option_ids"]
        choice = right_ids if right else [next(i for i in range(9) if i not in right_ids)]
        world.api.answer_poll(user, poll.poll["id"], choice)
    await world.api.wait_for(
        lambda: any("本轮答对" in (m.text or "") for m in world.api.sent_to(user))
    )


async def test_rank_shows_the_top_masked_and_ones_own_place_and_streak(
    tmp_path: Path, classifier: object
) -> None:
    from tests.world import NEIGHBOUR

    async with started_world(tmp_path, classifier, **TWO) as world:
        await play_one_round(world, NEIGHBOUR, right=True)
        await play_one_round(world, RESIDENT, right=False)
        reply = await world.say("/rank")
        assert "1. 李**　20 分" in reply.text  # 李阿姨, masked
        assert "王小明" not in reply.text and "王**" not in reply.text  # no points, not listed
        assert "您还没有得分" in reply.text
        assert "连续答题 1 天" in reply.text


def test_names_are_masked_after_the_first_character() -> None:
    from quizzes.scoring import mask

    assert mask("王小明") == "王**" and mask("李") == "李*" and mask(" ") == "匿*"


def test_a_streak_counts_consecutive_days_up_to_today_or_yesterday() -> None:
    from quizzes.scoring import streak

    day = 86400.0

    def start(t: float) -> float:
        return t - t % day

    now = 10 * day + 100
    assert streak([now, now - day, now - 2 * day], now, start) == 3
    assert streak([now - day, now - 2 * day], now, start) == 2  # today not played yet
    assert streak([now - 3 * day], now, start) == 0


async def test_an_unanswered_question_expires_and_the_round_goes_on(
    tmp_path: Path, classifier: object
) -> None:
    quick = {"quizzes": {"round_size": 2, "open_period": 5}}  # Telegram's shortest period
    async with started_world(tmp_path, classifier, **quick) as world:
        await world.say("/quiz")
        await poll_no(world, 0)
        due_in = await world.run_timer_now("quiz-expiry")  # not 7 s of waiting
        assert 5 < due_in <= 7  # the open period and a grace for a last-second answer
        second = await poll_no(world, 1)
        world.api.answer_poll(RESIDENT, second["id"], second["correct_option_ids"])
        [text] = await world.api.wait_for(lambda: results(world))
        assert "答对 1/2 题" in text


async def subscribed(world: World) -> list[tuple[int, int]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT resident_id, active FROM quiz_subscribers")
    return [tuple(r) for r in rows]


async def test_start_offers_the_daily_quiz_and_the_button_subscribes(world: World) -> None:
    await world.say("/start")
    offer = await world.api.next_sent(RESIDENT, after=1)
    assert "订阅" in offer.text and "/unsubscribe" in offer.text
    answer = await world.press(RESIDENT, offer, "订阅")
    assert "已订阅" in answer["text"]
    assert await subscribed(world) == [(await world.resident_id(RESIDENT), 1)]


async def test_subscribe_and_unsubscribe_commands(world: World) -> None:
    assert "已订阅" in (await world.say("/subscribe")).text
    assert "已退订" in (await world.say("/unsubscribe")).text
    assert await subscribed(world) == [(await world.resident_id(RESIDENT), 0)]


async def scored(
    world: World, resident_id: int, name: str, points: int, days_ago: float = 0.0
) -> None:
    """A player with `points` from one answer `days_ago` days ago."""
    from storage import quizzes

    async with world.db.session() as conn:
        await quizzes.save_player(conn, resident_id, name)
        await quizzes.add_answer(
            conn,
            resident_id=resident_id,
            question_id="q",
            topic="garbage",
            correct=True,
            points=points,
            now=time.time() - days_ago * 86400,
        )


def ranked_lines(section: str) -> list[str]:
    return [line for line in section.splitlines() if re.match(r"\d+\. ", line)]


async def test_rank_shows_ten_players_and_this_week_apart_from_all_time(world: World) -> None:
    surnames = "赵钱孙李周吴郑冯陈褚卫蒋"
    for i, surname in enumerate(surnames):  # twelve players this week: 10 … 120 points
        await scored(world, 6000 + i, surname + "某", 10 * (i + 1))
    await scored(world, 7000, "欧阳老将", 1000, days_ago=30)  # points from last month only
    text = (await world.say("/rank")).text
    week, all_time = text.split("🏅 总排行")
    assert len(ranked_lines(week)) == 10 and len(ranked_lines(all_time)) == 10
    assert ranked_lines(week)[0] == "1. 蒋*　120 分" and ranked_lines(week)[-1] == "10. 孙*　30 分"
    assert "欧*" not in week and "钱*" not in week
    assert ranked_lines(all_time)[0] == "1. 欧***　1000 分"
    assert ranked_lines(all_time)[1] == "2. 蒋*　120 分" and "孙*" not in all_time


async def test_quiz_stats_show_accuracy_per_topic_weakest_first(world: World) -> None:
    from storage import quizzes
    from tests.world import ADMIN

    bank = world.runtime.deps.quizzes.bank
    middling, strong, weak = list(bank.topics)[:3]
    answers = {middling: [1, 0, 0], strong: [1, 1], weak: [0, 0, 0, 0]}
    async with world.db.session() as conn:
        for topic, results in answers.items():
            for n, right in enumerate(results):
                await quizzes.add_answer(
                    conn,
                    resident_id=RESIDENT + n,
                    question_id=f"{topic}-q",
                    topic=topic,
                    correct=bool(right),
                    points=10 * right,
                    now=time.time(),
                )
    reply = await world.say("/quiz_stats", user=ADMIN)
    lines = reply.text.splitlines()
    assert "4 人参与，共答 9 题" in lines[0]
    names = [bank.topics[key].name for key in (weak, middling, strong)]
    assert [line.split("：")[0] for line in lines[1:4]] == names
    assert "正确率 0%" in lines[1] and "正确率 33%" in lines[2] and "正确率 100%" in lines[3]
    assert "宣传教育组" in reply.text
