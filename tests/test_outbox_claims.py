"""Several processes on one database: every outbox item goes out once, in order per target.

A process claims the items it sends, for a lease; another takes an item over only once
that lease has run out (its holder died). The multi-process tests need PostgreSQL
(`make test-pg`); the lease itself is checked on SQLite too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from reports.delivery import OutboxService
from reports.states import Action
from runtime import Runtime
from storage import outbox
from storage.db import fetch_all
from storage.postgres import PgDatabase
from tests import pg
from tests.conftest import started_world
from tests.world import GROUP_CHATS, RESIDENT, URBAN_STAFF, Clock, World, make_runtime

needs_server = pytest.mark.skipif(pg.ADMIN_URL is None, reason="DATABASE_URL is not set")
LITTER = "小区东门垃圾桶满了好几天没人清运"
LEASE = 120.0


@asynccontextmanager
async def second_process(world: World, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Another bot on the same database and stand-in, delivering only (one poller is
    enough); its courier is started by the test."""
    other = make_runtime(world.api, world.settings, world.runtime.classifier, clock or world.clock)
    await other.db.open()
    await other.reports.group_chats.load_bindings()
    await other.app.bot.initialize()
    try:
        yield other
    finally:
        await other.courier.stop()
        await other.app.bot.shutdown()
        await other.db.close()


async def queue_accepted_reports(world: World, count: int) -> list[str]:
    """File `count` reports and accept each: an alert, then its edit, per case; the tickets."""
    services = world.runtime.reports
    resident = await services.residents.resolve("telegram", RESIDENT)
    tickets = []
    for n in range(count):
        draft = await services.drafting.start_draft(resident, f"{LITTER}（第{n}处）")
        report = (await services.filing.confirm(resident, draft.id, separate=True)).report
        await services.cases.act(report.id, Action.ACCEPT, URBAN_STAFF, "张工")
        tickets.append(report.ticket)
    return tickets


def alerts_of(world: World, ticket: str) -> list[tuple[int, int]]:
    """(chat, message) of every alert the groups got for a ticket."""
    groups = set(GROUP_CHATS.values())
    return [
        (m.chat_id, m.message_id)
        for m in world.api.sent
        if m.chat_id in groups and ticket in (m.text or "")
    ]


def resident_heard(world: World, tickets: list[str]) -> list[tuple[str, str]]:
    """(ticket, what) of each message the resident got, in the order they arrived: the
    ticket given, or the case accepted."""
    heard = []
    for m in world.api.sent_to(RESIDENT):
        text = m.text or ""
        what = "accepted" if "已受理" in text else "ticket" if "已提交" in text else "other"
        heard += [(t, what) for t in tickets if t in text]
    return heard


@pytest.fixture
async def busy_world(tmp_path: Path, classifier: object) -> AsyncIterator[World]:
    """A bot whose resident may file many reports an hour."""
    async with started_world(tmp_path, classifier, reports={"max_per_hour": 1000}) as w:
        yield w


@needs_server
async def test_two_processes_send_every_alert_once_and_each_case_in_order(
    busy_world: World,
) -> None:
    world = busy_world
    await world.runtime.courier.stop()
    tickets = await queue_accepted_reports(world, 50)
    async with second_process(world) as other:
        other.courier.start()
        world.runtime.courier.start()

        def all_delivered() -> bool:
            alerts = [a for t in tickets for a in alerts_of(world, t)]
            return len(alerts) >= 50 and len(resident_heard(world, tickets)) >= 100

        await world.api.wait_for(all_delivered, timeout=60)
    assert all(len(alerts_of(world, t)) == 1 for t in tickets)
    # A resident's messages are one target: each ticket, then its case accepted, as filed.
    assert resident_heard(world, tickets) == [
        (t, w) for t in tickets for w in ("ticket", "accepted")
    ]

    async def all_sent() -> bool:
        async with world.db.session() as conn:
            statuses = await fetch_all(conn, "SELECT DISTINCT status FROM outbox")
        return [tuple(r) for r in statuses] == [("sent",)]

    await world.eventually(all_sent)


@needs_server
async def test_an_item_held_by_a_process_that_died_is_taken_over_after_its_lease(
    world: World,
) -> None:
    await world.runtime.courier.stop()
    [ticket] = await queue_accepted_reports(world, 1)
    dead_clock = Clock()
    async with second_process(world, dead_clock) as dead:
        # The other process claims the alert and dies before sending it.
        [alert] = [i for i in await dead.outbox.due(10, set()) if i.kind == "group_alert"]
        assert alert.id not in [i.id for i in await world.runtime.outbox.due(10, set())]
        world.runtime.courier.start()
        world.clock.advance(LEASE + 1)
        world.runtime.courier.wake()
        await world.api.wait_for(lambda: len(alerts_of(world, ticket)) == 1)
        async with world.db.session() as conn:
            # Too late: its claim was taken over; what it says is not recorded.
            assert not await outbox.mark_sent(conn, alert.id, dead_clock(), dead.outbox.owner)
    assert len(alerts_of(world, ticket)) == 1


async def test_an_item_claimed_by_another_is_not_taken_before_its_lease_ends(
    world: World,
) -> None:
    """On SQLite as on PostgreSQL: the claim holds for its lease, then lapses."""
    await world.runtime.courier.stop()
    await queue_accepted_reports(world, 1)
    mine = world.runtime.outbox
    theirs = OutboxService(
        world.db, 0.05, 0.2, clock=Clock(), notices_group="office", channel="telegram"
    )
    claimed = {i.id for i in await theirs.due(10, set())}
    assert claimed
    assert not claimed & {i.id for i in await mine.due(10, set())}
    world.clock.advance(LEASE - 1)
    assert not claimed & {i.id for i in await mine.due(10, set())}
    world.clock.advance(2)
    assert claimed <= {i.id for i in await mine.due(10, set())}


@needs_server
async def test_two_claims_at_once_never_return_the_same_row() -> None:
    async with pg.fresh_database() as url:
        first, second = PgDatabase(url), PgDatabase(url)
        await first.open()
        await second.open()
        try:
            async with first.transaction() as conn:
                for n in range(200):
                    await outbox.enqueue(
                        conn,
                        "office_notice",
                        f"target:{n % 150}",
                        0.0,
                        payload={"n": n},
                        channel="telegram",
                        recipient="group:office",
                    )
            claims: dict[str, list[int]] = {"first": [], "second": []}

            async def claim(db: PgDatabase, owner: str) -> None:
                # A new claimant each time (a process retakes its own claims).
                for attempt in itertools.count():
                    async with db.session() as conn:
                        items = await outbox.claim_due(
                            conn, "telegram", 1.0, 7, f"{owner}:{attempt}", LEASE
                        )
                    if not items:
                        return
                    claims[owner] += [i.id for i in items]

            await asyncio.gather(claim(first, "first"), claim(second, "second"))
        finally:
            await first.close()
            await second.close()
    taken = claims["first"] + claims["second"]
    assert len(taken) == len(set(taken)) == 150  # the first of each target, once
    assert claims["first"] and claims["second"]


@needs_server
async def test_a_commit_that_queues_messages_wakes_the_couriers_of_every_process() -> None:
    woken = asyncio.Event()
    async with pg.fresh_database() as url:
        elsewhere = await PgDatabase(url).open()  # another process's connection
        here = await PgDatabase(url).open()
        listener = here.outbox_listener(woken.set)
        await listener.check()
        try:
            async with elsewhere.transaction() as conn:
                await outbox.enqueue(
                    conn, "text", "group:urban", 0.0, channel="telegram", recipient="group:urban"
                )
            async with asyncio.timeout(10):
                await woken.wait()
        finally:
            await listener.close()
            await here.close()
            await elsewhere.close()
