"""Messages are addressed to (channel, recipient), and what a channel remembers of its own
messages lives in rows it owns: a database from before carries over, and a resident on
another channel files into the same groups while their notices wait for that channel."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from reports.delivery import OutboxService
from storage import outbox
from storage.db import Database, fetch_all
from tests.conftest import started_world
from tests.test_residents import database_at
from tests.test_wecom_config import SECRETS as WECOM_SECRETS
from tests.world import GROUP_CHATS, NEIGHBOUR, RESIDENT, URBAN_STAFF, World

URBAN = GROUP_CHATS["urban"]
TICKET = "261201-001"
# Message ids in the Telegram chats of the database below.
CARD, ALERT_MESSAGE, PROMPT_MESSAGE, RELAY_MESSAGE, OLD_ALERT = 11, 21, 22, 12, 5


def one_case_at_0018(path: Path) -> None:
    """A resident's draft and filed case, its alert, a prompt and a relayed question, and
    messages still waiting, as a bot that named Telegram's chats and messages left them."""
    conn = database_at(path, 18)
    now = time.time() - 600
    for user in (RESIDENT, NEIGHBOUR):
        conn.execute(
            "INSERT INTO residents (channel, external_id, created_at) VALUES ('telegram', ?, ?)",
            (str(user), now),
        )
    conn.execute(
        "INSERT INTO drafts (resident_id, chat_id, text, category, card_message_id, status,"
        " created_at, updated_at) VALUES (1, ?, '路灯坏了', 'road_facilities', ?, 'open', ?, ?)",
        (RESIDENT, CARD, now, now),
    )
    conn.execute(
        "INSERT INTO reports (ticket, resident_id, chat_id, text, category, group_key, status,"
        " alert_chat_id, alert_message_id, created_at, updated_at, assigned_at)"
        " VALUES (?, 1, ?, '小区门口垃圾成堆', 'litter', 'urban', 'accepted', ?, ?, ?, ?, ?)",
        (TICKET, RESIDENT, URBAN, ALERT_MESSAGE, now, now, now),
    )
    conn.execute("INSERT INTO followers VALUES (1, 2, ?, ?)", (NEIGHBOUR, now))
    conn.execute(
        "INSERT INTO note_prompts (report_id, action, chat_id, message_id, actor_id, created_at)"
        " VALUES (1, 'resolve', ?, ?, ?, ?)",
        (URBAN, PROMPT_MESSAGE, URBAN_STAFF, now),
    )
    conn.execute(
        "INSERT INTO relays (report_id, chat_id, message_id, at) VALUES (1, ?, ?, ?)",
        (RESIDENT, RELAY_MESSAGE, now),
    )
    waiting = [
        ("notify_resident", f"chat:{RESIDENT}", {"action": "accept", "group": "urban"}),
        (
            "notify_resident",
            f"chat:{NEIGHBOUR}",
            {"action": "accept", "group": "urban", "chat_id": NEIGHBOUR},
        ),
        ("edit_alert", "report:1", {"chat_id": URBAN, "message_id": OLD_ALERT}),
    ]
    for kind, target, payload in waiting:
        conn.execute(
            "INSERT INTO outbox (kind, target, report_id, payload, status, next_attempt_at,"
            " created_at) VALUES (?, ?, 1, ?, 'pending', ?, ?)",
            (kind, target, json.dumps(payload), now, now),
        )
    conn.close()


async def test_a_database_from_before_addresses_keeps_every_message_it_knew(
    tmp_path: Path,
) -> None:
    one_case_at_0018(tmp_path / "civic.db")
    db = await Database(tmp_path / "civic.db").open()
    try:
        async with db.session() as conn:
            refs = await fetch_all(
                conn,
                "SELECT chat, message_id, subject, subject_id FROM message_refs"
                " ORDER BY subject, message_id",
            )
            waiting = await fetch_all(
                conn, "SELECT kind, target, channel, recipient, payload FROM outbox ORDER BY id"
            )
    finally:
        await db.close()
    assert [tuple(r) for r in refs] == [
        (str(URBAN), str(ALERT_MESSAGE), "alert", 1),
        (str(URBAN), str(OLD_ALERT), "alert", 1),
        (str(RESIDENT), str(CARD), "card", 1),
        (str(URBAN), str(PROMPT_MESSAGE), "prompt", 1),
        (str(RESIDENT), str(RELAY_MESSAGE), "relay", 1),
    ]
    assert [tuple(r)[:4] for r in waiting] == [
        ("notify_resident", "resident:1", "telegram", "resident:1"),
        ("notify_resident", "resident:2", "telegram", "resident:2"),
        ("edit_alert", "report:1", "telegram", "group:urban"),
    ]
    assert json.loads(waiting[1]["payload"]) == {"action": "accept", "group": "urban"}
    assert json.loads(waiting[2]["payload"]).keys() == {"generation"}


async def test_replies_and_buttons_on_messages_from_before_still_find_their_case(
    tmp_path: Path, classifier: object
) -> None:
    one_case_at_0018(tmp_path / "civic.db")
    async with started_world(tmp_path, classifier) as world:
        refs = world.runtime.reports.message_refs
        draft = await refs.draft_at("telegram", RESIDENT, CARD)
        report = await refs.report_at_alert("telegram", URBAN, ALERT_MESSAGE)
        prompt = await refs.prompt_at("telegram", URBAN, PROMPT_MESSAGE)
        asked = await refs.report_at_relay("telegram", RESIDENT, RELAY_MESSAGE)
        assert draft is not None and draft.text == "路灯坏了"
        assert report is not None and report.ticket == TICKET
        assert prompt is not None and (prompt.report_id, prompt.action) == (1, "resolve")
        assert asked is not None and asked.ticket == TICKET
        # The alert of an earlier assignment is no longer the case's alert.
        assert await refs.report_at_alert("telegram", URBAN, OLD_ALERT) is None


async def test_messages_that_waited_before_addresses_reach_the_same_people(
    tmp_path: Path, classifier: object
) -> None:
    one_case_at_0018(tmp_path / "civic.db")
    async with started_world(tmp_path, classifier) as world:
        mine = await world.api.next_sent(RESIDENT, after=0)
        theirs = await world.api.next_sent(NEIGHBOUR, after=0)
        assert TICKET in mine.text and TICKET in theirs.text
        # The follower hears the step; only the reporter is asked to rate (not yet here).
        assert not theirs.buttons


async def wechat_resident_files(world: World, text: str) -> tuple[int, str]:
    """A resident who writes from WeChat reports through the services; (our id, ticket)."""
    reports = world.runtime.reports
    resident = await reports.residents.resolve("wechat", "oWeChatOpenId0001")
    draft = await reports.drafting.start_draft(resident, text)
    submission = await reports.filing.confirm(resident, draft.id)
    return resident, submission.report.ticket


async def test_a_resident_on_another_channel_reaches_the_telegram_group(world: World) -> None:
    _, ticket = await wechat_resident_files(world, "小区门口垃圾成堆没人清理")
    alert = await world.alert("urban")
    assert ticket in alert.text and alert.buttons


async def test_their_notices_wait_for_their_own_channel_not_telegrams(world: World) -> None:
    resident, _ = await wechat_resident_files(world, "小区门口垃圾成堆没人清理")
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "已受理")

    async def theirs() -> list[sqlite3.Row]:
        async with world.db.session() as conn:
            return await fetch_all(
                conn,
                "SELECT kind, channel, status FROM outbox WHERE recipient = ? ORDER BY id",
                (f"resident:{resident}",),
            )

    rows = await world.eventually(lambda: _at_least(theirs, 2))
    assert [tuple(r) for r in rows] == [
        ("ticket_receipt", "wechat", "pending"),
        ("notify_resident", "wechat", "pending"),
    ]
    courier = world.runtime.courier.outbox
    assert all(item.channel == "telegram" for item in await courier.due(100, set()))
    assert await courier.next_due_in() is None  # nothing of Telegram's waits: no busy loop


async def _at_least(rows: object, count: int) -> list[sqlite3.Row] | None:
    found = await rows()  # type: ignore[operator]
    return found if len(found) >= count else None


async def test_no_domain_table_names_a_channels_chat_or_message(world: World) -> None:
    async with world.db.session() as conn:
        tables = [
            r[0]
            for r in await fetch_all(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        columns = {
            (table, r["name"])
            for table in tables
            if table not in ("message_refs", "message_menus", "group_bindings")
            for r in await fetch_all(conn, f"PRAGMA table_info({table})")
        }
    assert {c for c in columns if "chat" in c[1] or "message_id" in c[1]} == set()


async def test_a_case_waiting_on_one_channel_does_not_hold_up_another(world: World) -> None:
    async with world.db.session() as conn:
        for channel in ("wecom", "telegram"):  # the WeCom one first, and never sent
            await outbox.enqueue(
                conn,
                "digest",
                "digest:urban",
                0.0,
                None,
                {"group": "urban", "date": "12-01", "new": [], "due": [], "overdue": []},
                channel=channel,
                recipient="group:urban",
            )
    due = await world.runtime.outbox.due(10, set())
    assert [(i.channel, i.target) for i in due if i.target == "digest:urban"] in (
        [("telegram", "digest:urban")],
        [],  # sent already: it went, which is the point
    )
    sent = await world.eventually(lambda: _digest_sent(world))
    assert sent


async def _digest_sent(world: World) -> bool:
    async with world.db.session() as conn:
        rows = await fetch_all(
            conn, "SELECT status FROM outbox WHERE target = 'digest:urban' AND channel = 'telegram'"
        )
    return [r[0] for r in rows] == ["sent"]


async def test_a_group_on_wecom_too_is_told_of_a_case_on_each_channel(
    tmp_path: Path, classifier: object
) -> None:
    overrides = {
        "wecom": {"corp_id": "ww5823bf96d3bd56c7", "agent_id": 1000002, "port": 0},
        "groups": {
            "urban": {"wecom_users": ["zhanggong"]},
            "order": {"wecom_party": 3, "chat_id": 0},
        },
    }
    async with started_world(tmp_path, classifier, WECOM_SECRETS, **overrides) as world:
        await world.file("小区门口垃圾成堆没人清理")  # 城镇建设管理组: WeCom and its Telegram chat
        # 社会秩序组 is on WeCom only (no Telegram chat): the resident still gets the ticket.
        await world.file("路口好多人闯红灯，太危险了", user=NEIGHBOUR)
        async with world.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT recipient, channel FROM outbox WHERE kind = 'group_alert' ORDER BY id",
            )
    assert [tuple(r) for r in rows] == [
        ("group:urban", "wecom"),
        ("group:urban", "telegram"),
        ("group:order", "wecom"),
    ]


async def test_what_a_channel_needs_of_an_administrator_reaches_the_office_elsewhere(
    world: World,
) -> None:
    wecom = OutboxService(
        world.db,
        1,
        1,
        notices_group="office",
        channel="wecom",
        group_channels=lambda _: ("wecom", "telegram"),
    )
    assert await wecom.tell_office("请把本服务器的 IP 加入企业可信IP")
    world.runtime.courier.wake()
    notice = await world.alert("office")
    assert notice.text == "请把本服务器的 IP 加入企业可信IP"
