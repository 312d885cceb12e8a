"""The inbox: updates recorded before they are acknowledged, handled once, in order per
sender across processes, and taken over from a process that died.

Runs on SQLite, and on PostgreSQL too when there is a server (then "two processes" are
two Inbox services on one server, as two bots would be).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest

from handlers.telegram.guards import answer_press
from reports.delivery import OutboxService
from reports.inbox import Inbox
from storage import inbox, outbox
from storage.db import Database, database_for, fetch_value
from storage.inbox import Received
from tests import pg
from tests.test_webhook import SECRET, forge, webhook_world
from tests.wechat_world import OPENID, wechat_world
from tests.world import RESIDENT, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
SENDER = "tg:1001"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pg.needs_server)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """One database two processes share, on each engine (PostgreSQL's needs a server)."""
    if request.param == "sqlite":
        database = await database_for(None, tmp_path / "inbox.db").open()
        database.shared = True  # as if another process used it: nobody is forgotten
        yield database
        await database.close()
        return
    async with pg.fresh_database() as url:
        database = await database_for(url, "").open()
        yield database
        await database.close()


async def process(db: Database, name: str, clock: Clock) -> Inbox:
    """An inbox service as one process has it, alive (its heartbeat written)."""
    service = Inbox(db, name, takeover_seconds=30, clock=clock)
    await service.open()
    return service


def update_from(user: int, text: str, update_id: int) -> dict[str, Any]:
    """A Telegram update: `user` wrote `text` in their private chat."""
    person = {"id": user, "is_bot": False, "first_name": "王小明"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "王小明"},
            "from": person,
            "text": text,
        },
    }


async def record_for_dead_process(world: World, update: dict[str, Any]) -> None:
    """Record an update as a process that then died would have, never handling it."""
    async with world.db.session() as conn:
        await inbox.record(
            conn,
            "telegram",
            str(update["update_id"]),
            f"tg:{RESIDENT}",
            json.dumps(update, ensure_ascii=False),
            "dead-host:1:0",
            time.time(),
        )


async def test_a_senders_update_waits_for_an_earlier_one_another_process_holds(
    db: Database,
) -> None:
    clock = Clock()
    a, b = await process(db, "a", clock), await process(db, "b", clock)
    first = await a.record("telegram", "1", SENDER, "{}")
    second = await b.record("telegram", "2", SENDER, "{}")
    assert first is not None and second is not None
    looked = asyncio.Event()
    order: list[str] = []
    real_first_waiting = inbox.first_waiting

    async def counted(conn: Any, sender: str) -> int | None:
        found = await real_first_waiting(conn, sender)
        if found == first:
            looked.set()  # b has seen that the earlier update is not handled yet
        return found

    async def handle_second() -> None:
        async with b.turn(second, SENDER):
            order.append("second")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inbox, "first_waiting", counted)
        async with a.turn(first, SENDER):
            waiting = asyncio.create_task(handle_second())
            async with asyncio.timeout(10):
                await looked.wait()
            order.append("first")
        await waiting
    assert order == ["first", "second"]


async def test_other_senders_do_not_wait(db: Database) -> None:
    clock = Clock()
    a, b = await process(db, "a", clock), await process(db, "b", clock)
    held = await a.record("telegram", "1", SENDER, "{}")
    other = await b.record("telegram", "2", "tg:2002", "{}")
    assert held is not None and other is not None
    async with a.turn(held, SENDER):
        async with b.turn(other, "tg:2002"):
            pass  # not blocked by the first sender's update in hand


async def test_an_update_delivered_again_is_recognised_by_any_process(db: Database) -> None:
    clock = Clock()
    a, b = await process(db, "a", clock), await process(db, "b", clock)
    assert await a.record("telegram", "77", SENDER, "{}") is not None
    assert await b.record("telegram", "77", SENDER, "{}") is None
    assert await b.record("wechat", "77", SENDER, "{}") is not None  # another channel's 77


async def test_a_dead_processs_updates_are_taken_over_in_order_after_its_heartbeat(
    db: Database,
) -> None:
    clock = Clock()
    dead, alive = await process(db, "dead", clock), await process(db, "alive", clock)
    for n in (1, 2, 3):
        await dead.record("telegram", str(n), SENDER, f'{{"n": {n}}}')
    resumed: list[Received] = []

    async def resume(received: Received) -> None:
        resumed.append(received)

    alive.resume_with("telegram", resume)
    assert await alive.take_over() == 0  # the other is alive: its updates are its own
    clock.now += 31  # "dead" beats no more; "alive" does
    await alive.beat()
    assert [json.loads(r.payload)["n"] for r in resumed] == [1, 2, 3]
    assert await alive.take_over() == 0  # taken once


async def test_a_process_that_stops_leaves_its_updates_to_the_others_at_once(
    db: Database,
) -> None:
    clock = Clock()
    leaving, staying = await process(db, "leaving", clock), await process(db, "staying", clock)
    await leaving.record("telegram", "1", SENDER, "{}")
    resumed: list[Received] = []

    async def resume(received: Received) -> None:
        resumed.append(received)

    staying.resume_with("telegram", resume)
    await leaving.stop()
    assert await staying.take_over() == 1


async def test_an_outbox_claim_of_a_dead_process_is_taken_over_before_its_lease_ends(
    db: Database,
) -> None:
    clock = Clock()
    await process(db, "dead", clock)
    await process(db, "alive", clock)
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn, "text", "group:urban", clock.now, channel="telegram", recipient="group:urban"
        )

    def courier_of(name: str) -> OutboxService:
        return OutboxService(
            db, 1, 60, clock, notices_group="office", channel="telegram", owner=name, lease=120
        )

    (item,) = await courier_of("dead").due(10, set())
    assert await courier_of("alive").due(10, set()) == []  # held, and its holder alive
    clock.now += 31  # the holder's heartbeat ran out long before its lease would
    assert [i.id for i in await courier_of("alive").due(10, set())] == [item.id]


async def test_a_handled_update_is_forgotten_after_two_days(db: Database) -> None:
    clock = Clock()
    a = await process(db, "a", clock)
    row = await a.record("telegram", "1", SENDER, "{}")
    assert row is not None
    async with a.turn(row, SENDER):
        pass
    clock.now += 2 * 86400 + 3600
    await a.beat()
    async with db.session() as conn:
        assert await fetch_value(conn, "SELECT COUNT(*) FROM inbox") == 0


# -- Through the bot


async def test_an_update_a_killed_process_took_in_is_handled_after_the_restart(
    world: World,
) -> None:
    await record_for_dead_process(world, update_from(RESIDENT, LITTER, 900_001))
    before = len(world.api.sent_to(RESIDENT))
    await world.restart()
    card = await world.api.next_sent(RESIDENT, after=before)
    assert "垃圾" in (card.text or "") and card.buttons


async def test_an_update_taken_over_goes_before_the_senders_later_ones(world: World) -> None:
    await record_for_dead_process(world, update_from(RESIDENT, LITTER, 900_002))
    before = len(world.api.sent_to(RESIDENT))
    world.api.send_text(RESIDENT, "你好")  # later: waits behind the dead process's update
    await world.runtime.inbox.take_over()
    first = await world.api.next_sent(RESIDENT, after=before)
    assert "垃圾" in (first.text or "") and first.buttons


async def test_a_webhook_update_posted_twice_is_handled_once(
    tmp_path: Path, classifier: object
) -> None:
    async with webhook_world(tmp_path, classifier) as world:
        url = world.settings.telegram.webhook_url
        assert url is not None
        before = len(world.api.sent_to(RESIDENT))
        update = update_from(RESIDENT, LITTER, 900_003)
        assert await forge(url, update, SECRET) == 200
        assert await forge(url, update, SECRET) == 200  # Telegram's retry, after a lost 200
        assert await forge(url, update_from(RESIDENT, "你好", 900_004), SECRET) == 200
        first = await world.api.next_sent(RESIDENT, after=before)
        second = await world.api.next_sent(RESIDENT, after=before + 1)
        assert first.buttons and "垃圾" in (first.text or "")
        assert "垃圾" not in (second.text or "")  # the greeting's answer, not a second card


# -- WeChat's pushes


def wechat_text(openid: str, text: str, msg_id: int) -> str:
    """A text push as WeChat sends it (decrypted), as the inbox keeps it."""
    return (
        f"<xml><ToUserName>gh_standin</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
        f"<Content>{text}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


async def record_push(world: World, openid: str, xml: str, msg_id: int, holder: str) -> None:
    async with world.db.session() as conn:
        await inbox.record(
            conn, "wechat", f"msg:{msg_id}", f"wechat:{openid}", xml, holder, time.time()
        )


async def test_a_push_a_dead_process_took_is_answered_by_a_customer_service_message(
    tmp_path: Path, classifier: object
) -> None:
    async with wechat_world(tmp_path, classifier) as world:
        await world.resident().say("你好")
        before = len(world.resident().received)
        await record_push(world.tg, OPENID, wechat_text(OPENID, LITTER, 901), 901, "dead:1:0")
        await world.tg.runtime.inbox.take_over()
        card = await world.next_to(OPENID, after=before)
        assert "垃圾" in (card.text or "")


async def test_a_push_retried_to_another_process_is_acknowledged_not_handled_again(
    tmp_path: Path, classifier: object
) -> None:
    async with wechat_world(tmp_path, classifier) as world:
        async with world.tg.db.session() as conn:  # another process, alive, took it first
            await inbox.beat(conn, "other:2:0", time.time(), time.time() + 60)
        await record_push(world.tg, OPENID, wechat_text(OPENID, LITTER, 902), 902, "other:2:0")
        world.wx._msg_ids = itertools.count(902)  # WeChat retries push 902 here
        assert await world.resident().say(LITTER) is None  # "success": nothing to say
        async with world.tg.db.session() as conn:  # the other process handles it
            row = await fetch_value(conn, "SELECT id FROM inbox WHERE key = 'msg:902'")
            await inbox.finish(conn, row, time.time())
        await world.resident().say("你好")
        greeting = await world.next_to(OPENID, after=0)
        assert "垃圾" not in (greeting.text or "")  # the first thing said here: no card


async def test_polled_updates_are_recorded_before_they_are_handled(world: World) -> None:
    for n in range(3):
        world.api.send_text(RESIDENT, f"{LITTER} {n}")
    await world.api.next_sent(RESIDENT, after=2)

    async def handled() -> int:
        async with world.db.session() as conn:
            return (
                await fetch_value(
                    conn,
                    "SELECT COUNT(*) FROM inbox WHERE done_at IS NOT NULL AND sender = ?",
                    (f"tg:{RESIDENT}",),
                )
                == 3
            )

    await world.eventually(handled)


async def test_each_beat_tells_how_many_processes_are_alive(db: Database) -> None:
    clock = Clock()
    a = await process(db, "a", clock)
    await process(db, "b", clock)
    counts: list[int] = []
    a.on_processes.append(counts.append)
    await a.beat()
    clock.now += 31  # b died; a beats on
    await a.beat()
    assert counts == [2, 1]


def test_the_runtime_shares_telegrams_limits_among_the_live_processes(world: World) -> None:
    assert world.runtime.telegram.pacer.share in world.runtime.inbox.on_processes


class AnsweredQuery:
    """A callback query Telegram no longer takes an answer for (or refuses otherwise)."""

    data = "v1:d:ok:1"

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal

    async def answer(self, *args: object, **kwargs: object) -> bool:
        raise BadRequest(self.refusal)


async def test_a_press_handled_again_after_a_takeover_goes_on_though_its_answer_is_refused() -> (
    None
):
    too_old = "Query is too old and response timeout expired or query id is invalid"
    await answer_press(AnsweredQuery(too_old), "已提交", False)  # type: ignore[arg-type]
    with pytest.raises(BadRequest):
        await answer_press(AnsweredQuery("Message is too long"), "已提交", False)  # type: ignore[arg-type]


async def test_an_update_waiting_for_its_turn_waits_out_a_database_outage(db: Database) -> None:
    import asyncpg  # noqa: F401  (what makes a ConnectionError the store's fault)

    clock = Clock()
    a = await process(db, "a", clock)
    row = await a.record("telegram", "1", SENDER, "{}")
    assert row is not None
    looks = 0
    real_first_waiting = inbox.first_waiting

    async def away_once(conn: Any, sender: str) -> int | None:
        nonlocal looks
        looks += 1
        if looks == 1:
            raise ConnectionError("the server went away")
        return await real_first_waiting(conn, sender)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inbox, "first_waiting", away_once)
        async with a.turn(row, SENDER):
            pass  # handled once the database is back, not dropped
    assert looks == 2
