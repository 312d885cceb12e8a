"""The daily push: every subscriber once, blocked ones unsubscribed, progress for admins."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import started_world
from tests.world import ADMIN, NEIGHBOUR, OUTSIDER, RESIDENT, URBAN_STAFF, World

PUSHED = "今天的文明知识小测验"


def pushes_to(world: World, user: int) -> list:
    return [m for m in world.api.sent_to(user) if PUSHED in (m.text or "")]


async def subscribe(world: World, *users: int) -> None:
    for user in users:
        await world.say("/subscribe", user=user)


async def test_a_push_reaches_every_subscriber_once_and_blocked_ones_are_dropped(
    world: World,
) -> None:
    await subscribe(world, RESIDENT, NEIGHBOUR, OUTSIDER)
    world.api.fail_chat(OUTSIDER, "forbidden")
    reply = await world.say("/push_quiz", user=ADMIN)
    assert "共 3 位订阅者" in reply.text
    await world.api.wait_for(lambda: pushes_to(world, RESIDENT) and pushes_to(world, NEIGHBOUR))
    status = await world.eventually(lambda: _status_when(world, "已发送 2，待发送 0，失败 1"))
    assert status
    again = await world.say("/push_quiz", user=ADMIN)
    assert "不会重复发送" in again.text
    assert len(pushes_to(world, RESIDENT)) == 1
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall(
            "SELECT resident_id, active FROM quiz_subscribers ORDER BY resident_id"
        )
    assert dict(tuple(r) for r in rows)[await world.resident_id(OUTSIDER)] == 0


async def _status_when(world: World, fragment: str) -> str | None:
    text = (await world.say("/push_status", user=ADMIN)).text
    return text if fragment in text else None


async def test_the_pushed_button_starts_todays_round(world: World) -> None:
    await subscribe(world, RESIDENT)
    await world.say("/push_quiz", user=ADMIN)
    [push] = await world.api.wait_for(lambda: pushes_to(world, RESIDENT))
    assert "开始" in push.buttons[0]["text"]
    await world.press(RESIDENT, push, "开始")
    await world.api.wait_for(lambda: any(m.poll for m in world.api.sent_to(RESIDENT)))


def push_requests(world: World) -> list:
    """Every attempt to send a push (accepted or refused), in the order the stand-in saw."""
    return [
        r
        for r in world.api.requests
        if r.method == "sendMessage" and PUSHED in str(r.params.get("text"))
    ]


async def test_the_push_is_paced_at_push_rate(tmp_path: Path, classifier: object) -> None:
    rate = 5.0  # one message every 0.2 s: far above what an unpaced loop takes
    async with started_world(tmp_path, classifier, quizzes={"push_rate": rate}) as world:
        residents = [5001 + i for i in range(6)]
        for user in residents:
            world.api.add_user(user, f"居民{user}")
            await world.say("/subscribe", user=user)
        await world.say("/push_quiz", user=ADMIN)
        await world.api.wait_for(lambda: all(pushes_to(world, u) for u in residents), timeout=10)
        times = [r.time for r in push_requests(world)]
        assert len(times) == len(residents)
        mean_gap = (times[-1] - times[0]) / (len(times) - 1)
        assert mean_gap >= 0.8 / rate, f"{mean_gap:.3f}s between pushes at push_rate {rate}"


async def test_after_a_429_no_push_goes_out_until_retry_after_has_passed(
    world: World,
) -> None:
    # Every chat refuses once: whichever goes first, the next attempt must wait.
    await subscribe(world, RESIDENT, NEIGHBOUR)
    for user in (RESIDENT, NEIGHBOUR):
        world.api.fail_chat(user, "flood", times=1, retry_after=1)
    await world.say("/push_quiz", user=ADMIN)
    await world.api.wait_for(
        lambda: pushes_to(world, RESIDENT) and pushes_to(world, NEIGHBOUR), timeout=10
    )
    attempts = push_requests(world)
    refusals = [r for r in attempts if r.status == 429]
    assert len(refusals) == 2
    for refused in refusals:
        too_soon = [r for r in attempts if refused.time < r.time < refused.time + 0.95]
        assert too_soon == [], f"sent {too_soon[0].time - refused.time:.2f}s after a 429"
    assert len(pushes_to(world, RESIDENT)) == 1 and len(pushes_to(world, NEIGHBOUR)) == 1


async def test_only_admins_push(world: World) -> None:
    assert "无权限" in (await world.say("/push_quiz", user=URBAN_STAFF)).text
    assert "无权限" in (await world.say("/push_status", user=URBAN_STAFF)).text


async def test_a_restart_resumes_the_push_where_it_stopped(world: World) -> None:
    await subscribe(world, RESIDENT, NEIGHBOUR)
    world.api.fail_chat(NEIGHBOUR, "server_error")
    await world.say("/push_quiz", user=ADMIN)
    await world.api.wait_for(lambda: pushes_to(world, RESIDENT))
    await world.runtime.stop()
    world.api.clear_failures()
    await world.restart()
    await world.api.wait_for(lambda: pushes_to(world, NEIGHBOUR), timeout=10)
    assert len(pushes_to(world, RESIDENT)) == 1 and len(pushes_to(world, NEIGHBOUR)) == 1


async def test_a_stop_while_a_push_is_answered_lets_it_be_recorded_not_sent_again(
    world: World,
) -> None:
    await subscribe(world, RESIDENT, NEIGHBOUR)
    world.api.fail_chat(RESIDENT, "slow", times=1, delay=0.5)  # delivered, answered late
    world.api.fail_chat(NEIGHBOUR, "server_error")
    await world.say("/push_quiz", user=ADMIN)
    await world.api.wait_for(lambda: pushes_to(world, RESIDENT))
    await world.runtime.stop()  # while the resident's send waits for its answer
    world.api.clear_failures()
    await world.restart()
    assert await world.eventually(lambda: _status_when(world, "已发送 2，待发送 0"))
    assert len(pushes_to(world, RESIDENT)) == 1 and len(pushes_to(world, NEIGHBOUR)) == 1


async def test_a_new_survey_round_is_pushed_to_subscribers_with_the_daily_quiz(
    world: World,
) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.push import push_daily_quiz

    await subscribe(world, RESIDENT)
    context = BotContext(world.runtime.app)
    await push_daily_quiz(context)
    survey = await world.api.wait_for(
        lambda: next(
            (m for m in world.api.sent_to(RESIDENT) if "支持我区创建" in (m.text or "")), None
        )
    )
    await world.api.wait_for(lambda: pushes_to(world, RESIDENT))
    answer = await world.press(RESIDENT, survey, "比较支持")
    assert "感谢" in answer["text"]
    await push_daily_quiz(context)  # the same day, the same round: nothing again
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT kind FROM push_runs ORDER BY id")
    assert [r[0] for r in rows] == ["quiz", "survey"]


async def test_the_daily_push_is_scheduled_at_daily_time(
    tmp_path: Path, classifier: object
) -> None:
    from handlers.telegram.push import push_daily_quiz

    async with started_world(tmp_path, classifier, quizzes={"daily_time": "07:15"}) as world:
        job = next(j for j in world.runtime.app.job_queue.jobs() if j.name == "quiz-push")
        assert job.callback is push_daily_quiz
        run = job.next_t.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (run.hour, run.minute) == (7, 15)
