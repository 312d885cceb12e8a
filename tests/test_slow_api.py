"""A slow or failing Bot API: few duplicates, and no dawdling once it is back."""

from __future__ import annotations

from pathlib import Path

from reports.delivery import OutboxService
from reports.outbox import GROUP_ALERT, OutboxItem
from storage import outbox
from storage.db import Database
from tests.conftest import started_world
from tests.world import GROUP_CHATS, Clock, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
URBAN = GROUP_CHATS["urban"]


async def alert_rows(world: World) -> list[tuple[str, int]]:
    async with world.db.session() as conn:
        sql = "SELECT status, attempts FROM outbox WHERE kind = 'group_alert' ORDER BY id"
        async with conn.execute(sql) as cur:
            return [(r[0], r[1]) for r in await cur.fetchall()]


def posts_of(world: World, ticket: str) -> int:
    return sum(1 for m in world.api.sent_to(URBAN) if ticket in (m.text or "") and m.buttons)


async def test_an_api_that_answers_after_the_timeout_posts_an_alert_at_most_twice(
    tmp_path: Path, classifier: object
) -> None:
    quick = {"outbox": {"send_timeout_seconds": 1.0}}
    async with started_world(tmp_path, classifier, **quick) as world:
        # Telegram posts each message but answers later than the bot waits for.
        world.api.fail_chat(URBAN, "slow", delay=1.5)
        _, ticket = await world.file(LITTER)
        [(_, attempts)] = await world.eventually(lambda: _all_sent(alert_rows(world)), wait=20)
        assert attempts >= 1  # the first send did time out
        assert 1 <= posts_of(world, ticket) <= 2


async def test_after_an_outage_pending_alerts_go_out_without_waiting_out_their_backoff(
    tmp_path: Path, classifier: object
) -> None:
    # After one failure an alert would wait 24-30 s: far beyond what this test waits.
    slow_retries = {"outbox": {"retry_base_seconds": 30, "retry_max_seconds": 600}}
    async with started_world(tmp_path, classifier, **slow_retries) as world:
        world.api.fail_chat(URBAN, "server_error")
        _, first = await world.file(LITTER)
        _, second = await world.file("小区西门垃圾桶也满了，没人清运")
        await world.eventually(lambda: _all_tried(alert_rows(world), 2))
        world.api.clear_failures(URBAN)
        _, third = await world.file("菜市场门口垃圾没人清运，臭气熏天")
        for ticket in (third, first, second):
            await world.api.wait_for(lambda t=ticket: posts_of(world, t), timeout=10)


async def _all_sent(rows_of: object) -> list[tuple[str, int]] | None:
    rows = await rows_of  # type: ignore[misc]
    return rows if rows and all(status == "sent" for status, _ in rows) else None


async def _all_tried(rows_of: object, count: int) -> bool:
    rows = await rows_of  # type: ignore[misc]
    return len(rows) == count and all(attempts >= 1 for _, attempts in rows)


async def test_a_429_met_after_an_outage_still_lets_the_item_go_when_sends_succeed(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "outbox.db")
    await db.open()
    try:
        clock = Clock()
        service = OutboxService(
            db,
            retry_base=60,
            retry_max=600,
            clock=clock,
            probe=5,
            notices_group="office",
            channel="telegram",
        )
        async with db.session() as conn:
            for target in ("report:1", "report:2", "report:3"):
                await outbox.enqueue_to_group(conn, GROUP_ALERT, "urban", target, clock())
        probe, waiting, other = await service.due(3, set())
        await service.retry(probe, "Bad Gateway", transient=True)
        await service.retry(waiting, "Bad Gateway", transient=True)
        [waiting] = [i for i in await due_at(service, clock, 3600) if i.id == waiting.id]
        await service.retry(waiting, "Too Many Requests", after=300)  # on the way back
        clock.advance(10)
        await service.sent(other)  # Telegram takes messages again
        assert waiting.id in [i.id for i in await service.due(3, set())]
    finally:
        await db.close()


async def due_at(service: OutboxService, clock: Clock, later: float) -> list[OutboxItem]:
    """What would be due `later` seconds from now (the clock is put back after)."""
    clock.advance(later)
    try:
        return await service.due(10, set())
    finally:
        clock.advance(-later)
