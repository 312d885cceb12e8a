"""The timed jobs on one process (SQLite): it leads, its jobs run, a job run twice for
one period does its work once, and a process taking over the lead runs what fell due
just before."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reports.outbox import DIGEST, WEEKLY_REPORT
from tests.conftest import started_world
from tests.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def queued(world: World, kind: str) -> int:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE kind = ?", (kind,))
    return int(rows[0][0])


async def test_the_one_process_on_sqlite_leads_and_its_jobs_run(world: World) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.jobs import send_digests

    assert world.runtime.leadership.is_leader
    await send_digests(BotContext(world.runtime.app))
    assert await queued(world, DIGEST) == len(world.settings.groups)


async def test_the_digest_job_run_twice_in_a_day_queues_one_digest_per_group(
    world: World,
) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.jobs import send_digests

    context = BotContext(world.runtime.app)
    await send_digests(context)
    await send_digests(context)
    assert await queued(world, DIGEST) == len(world.settings.groups)
    world.clock.advance(86400)  # the next day's is another
    await send_digests(context)
    assert await queued(world, DIGEST) == 2 * len(world.settings.groups)


async def test_the_weekly_job_run_twice_in_a_week_queues_one_report(world: World) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.jobs import send_weekly_report

    context = BotContext(world.runtime.app)
    await send_weekly_report(context)
    await send_weekly_report(context)
    assert await queued(world, WEEKLY_REPORT) == 1
    world.clock.advance(7 * 86400)
    await send_weekly_report(context)
    assert await queued(world, WEEKLY_REPORT) == 2


async def test_an_admins_digest_command_still_sends_again(world: World) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.jobs import send_digests

    await send_digests(BotContext(world.runtime.app))
    await world.runtime.reports.office.queue_digests()  # what /digest does
    assert await queued(world, DIGEST) == 2 * len(world.settings.groups)


async def test_a_process_taking_over_the_lead_sends_the_digest_that_fell_due_meanwhile(
    tmp_path: Path, classifier: object
) -> None:
    due = datetime.now(SHANGHAI) - timedelta(minutes=2)
    reports = {"digest_time": due.strftime("%H:%M")}
    async with started_world(tmp_path, classifier, reports=reports) as world:
        leadership = world.runtime.leadership
        leadership._set(False)  # another process led when the digest fell due, and died
        leadership._set(True)  # this one takes over
        groups = len(world.settings.groups)
        await world.eventually(lambda: has_queued(world, DIGEST, groups))


async def test_a_job_due_long_before_the_takeover_is_left_to_its_next_time(world: World) -> None:
    from handlers.telegram.app import catch_up

    settings = world.settings
    for hh_mm in (settings.reports.digest_time, settings.quiz_daily_time, settings.weekly_time):
        hour, minute = map(int, hh_mm.split(":"))
        due = datetime.now(SHANGHAI).replace(hour=hour, minute=minute, second=0, microsecond=0)
        assert catch_up(world.runtime.app, settings, due + timedelta(hours=2)) == []


async def has_queued(world: World, kind: str, count: int) -> bool:
    return await queued(world, kind) == count
