"""The timed jobs on one process (SQLite): it leads, its jobs run, and a job run twice
for one period does its work once."""

from __future__ import annotations

from reports.outbox import DIGEST, WEEKLY_REPORT
from tests.world import World


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
