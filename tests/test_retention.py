"""Old closed drafts and delivered outbox rows are deleted; nothing waiting ever is."""

from __future__ import annotations

import time
from pathlib import Path

from dialogue import texts
from storage import drafts, outbox
from storage.db import fetch_all
from tests.conftest import started_world
from tests.world import RESIDENT, World

LITTER = "小区门口有人乱扔垃圾，垃圾堆了好几天"
DAY = 86400.0


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    async with world.db.session() as conn:
        return [tuple(r) for r in await fetch_all(conn, sql)]


async def queue_waiting_items(world: World) -> None:
    """One item still pending (due far ahead) and one that failed for good."""
    now = time.time()
    async with world.db.transaction() as conn:
        await outbox.enqueue_to_group(
            conn, "digest", "urban", "group:waiting", now, None, {"group": "urban"}
        )
        [(pending,)] = [tuple(r) for r in await fetch_all(conn, "SELECT MAX(id) FROM outbox")]
        await outbox.retry_later(conn, pending, now + 1000 * DAY, "waiting")
        await outbox.enqueue_to_group(
            conn, "digest", "urban", "group:failed", now, None, {"group": "urban"}
        )
        [(failed,)] = [tuple(r) for r in await fetch_all(conn, "SELECT MAX(id) FROM outbox")]
        await outbox.mark_failed(conn, failed, "gave up")


async def test_closed_drafts_and_sent_rows_go_after_the_retention_and_waiting_rows_stay(
    world: World,
) -> None:
    await world.file(LITTER)
    await world.alert("urban")
    cancelled = await world.card(f"{LITTER}，另一处")
    await world.press(RESIDENT, cancelled, "取消")
    await queue_waiting_items(world)
    await world.eventually(lambda: rows(world, "SELECT id FROM outbox WHERE status = 'sent'"))
    runtime = world.runtime
    began = time.time()

    runtime.reports.shared.clock = lambda: began + 29 * DAY
    await runtime.reports.retention.forget_old()
    assert len(await rows(world, "SELECT id FROM drafts")) == 2
    assert await rows(world, "SELECT id FROM outbox WHERE status = 'sent'")

    runtime.reports.shared.clock = lambda: began + 31 * DAY
    await runtime.reports.retention.forget_old()
    assert await rows(world, "SELECT id FROM drafts") == []
    left = await rows(world, "SELECT target, status FROM outbox ORDER BY id")
    assert left == [("group:waiting", "pending"), ("group:failed", "failed")]
    assert len(await rows(world, "SELECT id FROM reports")) == 1


async def test_a_button_on_a_deleted_draft_gets_a_polite_stale_answer(world: World) -> None:
    card = await world.card(LITTER)
    await world.press(RESIDENT, card, "取消")
    began = time.time()
    world.runtime.reports.shared.clock = lambda: began + 31 * DAY
    await world.runtime.reports.retention.forget_old()
    answer = await world.press_data(RESIDENT, card, card.button_data("确认"))
    assert answer["text"] == texts.DRAFT_GONE


async def test_old_rows_are_deleted_when_the_bot_starts(tmp_path: Path, classifier: object) -> None:
    async with started_world(tmp_path, classifier) as world:
        old = time.time() - 40 * DAY
        async with world.db.transaction() as conn:
            draft = await drafts.insert(
                conn,
                resident_id=RESIDENT,
                text=LITTER,
                category="litter",
                confidence=1.0,
                keywords=(),
                photos=(),
                media_group_id=None,
                now=old,
                unless_reports_since=(old, 10),
            )
            assert draft is not None
            await drafts.close(conn, draft.id, "cancelled", old, None)
            await outbox.enqueue_to_group(
                conn, "digest", "urban", "group:old", old, None, {"group": "urban"}
            )
            [(item,)] = [tuple(r) for r in await fetch_all(conn, "SELECT MAX(id) FROM outbox")]
            await outbox.mark_sent(conn, item, old)
        await world.restart()

        async def gone() -> bool:
            return not await rows(world, "SELECT id FROM drafts") and not await rows(
                world, "SELECT id FROM outbox"
            )

        await world.eventually(gone)


async def test_texts_that_opened_no_report_and_unanswered_questions_go_after_the_retention(
    world: World,
) -> None:
    await world.say("你好")
    await world.say("请问你们单位食堂的菜谱在哪里能看到")
    assert len(await rows(world, "SELECT id FROM resident_messages")) == 2
    assert len(await rows(world, "SELECT id FROM faq_gaps")) == 1
    began = time.time()
    world.runtime.reports.shared.clock = lambda: began + 31 * DAY
    await world.runtime.reports.retention.forget_old()
    assert await rows(world, "SELECT id FROM resident_messages") == []
    assert await rows(world, "SELECT id FROM faq_gaps") == []
