"""Several processes on one PostgreSQL: one leader for the timed jobs, replaced when it
dies; a timed job run on two processes does its work once; a /bind reaches them all.

Run when DATABASE_URL names a server (`make test` starts one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from reports.leadership import Leadership
from reports.outbox import DIGEST, WEEKLY_REPORT
from runtime import Runtime
from simulator import BotApiStandIn
from storage.postgres import PgLeaderLock
from tests import pg
from tests.conftest import started_world
from tests.world import ADMIN, GROUP_CHATS, URBAN_STAFF, World, make_runtime, populate

pytestmark = pg.needs_server

QUICK = 0.05  # seconds between a follower's tries: the tests wait for events, not time


@asynccontextmanager
async def two_candidates() -> AsyncIterator[tuple[Leadership, Leadership]]:
    """Two processes' leadership services on one fresh database, started in turn."""
    async with pg.fresh_database() as url:
        first = Leadership(PgLeaderLock(url), QUICK)
        second = Leadership(PgLeaderLock(url), QUICK)
        try:
            await first.start()
            await second.start()
            yield first, second
        finally:
            await first.stop()
            await second.stop()


async def test_of_two_processes_on_one_database_exactly_one_leads() -> None:
    async with two_candidates() as (first, second):
        assert first.is_leader and not second.is_leader
        for _ in range(3):  # their checks come and go; the lead stays where it is
            await first.check()
            await second.check()
        assert first.is_leader and not second.is_leader


async def test_when_the_leader_dies_the_other_takes_over() -> None:
    async with two_candidates() as (first, second):
        await first.stop()  # its session ends, and the lock with it
        async with asyncio.timeout(5):
            await second.wait_until_leader()
        assert second.is_leader and not first.is_leader


async def test_a_leader_whose_session_is_cut_steps_down_and_one_process_leads_again() -> None:
    async with two_candidates() as (first, second):
        stepped_down = asyncio.Event()
        first.listeners.append(lambda leading: leading or stepped_down.set())
        lock = first.lock
        assert isinstance(lock, PgLeaderLock)
        await admin_fetch(lock.url, "SELECT pg_terminate_backend($1)", lock.raw.get_server_pid())
        async with asyncio.timeout(5):
            await stepped_down.wait()
            while not (first.is_leader or second.is_leader):  # noqa: ASYNC110 (no event for "either")
                await asyncio.sleep(QUICK)
        assert first.is_leader != second.is_leader


async def admin_fetch(url: str, sql: str, *args: object) -> object:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


@asynccontextmanager
async def second_process(world: World, classifier: object) -> AsyncIterator[tuple[Any, Runtime]]:
    """Another process on the world's database, with a stand-in of its own (two bots
    cannot long-poll one token) holding the same users and group chats."""
    async with BotApiStandIn() as api:
        populate(api)
        runtime = make_runtime(api, world.settings, classifier, world.clock)
        runtime.leadership.interval = QUICK
        assert runtime.refresh is not None
        runtime.refresh.interval = QUICK
        await runtime.start()
        try:
            yield api, runtime
        finally:
            await runtime.stop()


async def queued(runtime: Runtime, kind: str) -> int:
    async with runtime.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE kind = ?", (kind,))
    return int(rows[0][0])


async def test_the_digest_job_triggered_on_two_processes_queues_one_digest_per_group(
    tmp_path: Path, classifier: object
) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.jobs import send_digests

    async with started_world(tmp_path, classifier) as world:
        async with second_process(world, classifier) as (_, other):
            assert world.runtime.leadership.is_leader and not other.leadership.is_leader
            await asyncio.gather(
                send_digests(BotContext(world.runtime.app)), send_digests(BotContext(other.app))
            )
            assert await queued(other, DIGEST) == len(world.settings.groups)


async def test_a_days_digests_and_a_weeks_report_are_queued_once_even_by_two_leaders_at_once(
    tmp_path: Path, classifier: object
) -> None:
    # Leadership moving mid-job: the old leader's run and the new one's overlap.
    async with started_world(tmp_path, classifier) as world:
        async with second_process(world, classifier) as (_, other):
            offices = (world.runtime.reports.office, other.reports.office)
            await asyncio.gather(*(office.queue_digests(once=True) for office in offices))
            await asyncio.gather(*(office.queue_weekly_report(once=True) for office in offices))
            assert await queued(other, DIGEST) == len(world.settings.groups)
            assert await queued(other, WEEKLY_REPORT) == 1


async def test_when_the_leading_process_stops_the_others_jobs_do_the_work(
    tmp_path: Path, classifier: object
) -> None:
    from handlers.telegram.deps import BotContext
    from handlers.telegram.jobs import send_digests

    async with started_world(tmp_path, classifier) as world:
        async with second_process(world, classifier) as (_, other):
            await send_digests(BotContext(other.app))  # a follower's run: nothing
            assert await queued(other, DIGEST) == 0
            await world.runtime.stop()
            async with asyncio.timeout(5):
                await other.leadership.wait_until_leader()
            await send_digests(BotContext(other.app))
            assert await queued(other, DIGEST) == len(world.settings.groups)


async def test_a_bind_on_one_process_reaches_the_other_processes_courier(
    tmp_path: Path, classifier: object
) -> None:
    new_chat = -200_003
    async with started_world(tmp_path, classifier) as world:
        async with second_process(world, classifier) as (api, other):
            for stand_in in (world.api, api):
                stand_in.add_group(new_chat, "城管新群", [URBAN_STAFF])
            await world.runtime.courier.stop()  # only the other process delivers
            await world.say("/bind urban", user=ADMIN, chat_id=new_chat)
            async with asyncio.timeout(5):
                while other.reports.group_chats.group_chat("urban") != new_chat:  # noqa: ASYNC110
                    await asyncio.sleep(QUICK)
            await other.reports.office.queue_digests()
            digest = await api.next_sent(new_chat)
            assert "每日简报" in (digest.text or "")
            assert api.sent_to(GROUP_CHATS["urban"]) == []


@pg.needs_server
async def test_the_leaders_session_ends_on_the_server_if_it_falls_silent() -> None:
    from storage.postgres import LEADER_SILENCE, PgLeaderLock

    async with pg.fresh_database() as url:
        lock = PgLeaderLock(url)
        assert await lock.try_acquire()
        try:
            # A leader whose machine vanished says nothing more: the server ends its session.
            assert await lock.raw.fetchval("SHOW idle_session_timeout") == LEADER_SILENCE
        finally:
            await lock.release()
