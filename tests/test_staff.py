"""Staff are our own ids over (channel, external id), as residents are: the history of a
case names them so, whichever channel they act from; a database from before carries over."""

from __future__ import annotations

import time
from pathlib import Path

from storage.db import Database, fetch_all
from tests.test_residents import database_at
from tests.world import GROUP_CHATS, RESIDENT, URBAN_STAFF, World, message_now


def one_case_acted_on_at_0023(path: Path) -> None:
    """A case a Telegram member accepted, a prompt asked of them, one of the resident, and
    a group chat an admin bound: every actor named by their Telegram id."""
    conn = database_at(path, 23)
    now = time.time() - 600
    conn.execute(
        "INSERT INTO residents (channel, external_id, created_at) VALUES ('telegram', ?, ?)",
        (str(RESIDENT), now),
    )
    conn.execute(
        "INSERT INTO reports (ticket, resident_id, text, category, group_key, status,"
        " created_at, updated_at, assigned_at)"
        " VALUES ('261201-001', 1, '垃圾', 'litter', 'urban', 'resolved', ?, ?, ?)",
        (now, now, now),
    )
    conn.execute(
        "INSERT INTO report_events (report_id, action, status, actor_id, actor_name, at)"
        " VALUES (1, 'accept', 'accepted', ?, '城管张工', ?)",
        (URBAN_STAFF, now),
    )
    conn.execute(
        "INSERT INTO note_prompts (report_id, action, actor_id, created_at)"
        " VALUES (1, 'resolve', ?, ?), (1, 'reopen', 1, ?)",
        (URBAN_STAFF, now, now),
    )
    conn.execute(
        "INSERT INTO group_bindings (group_key, chat_id, bound_by, bound_at) VALUES (?, ?, ?, ?)",
        ("urban", GROUP_CHATS["urban"], 9001, now),
    )
    conn.close()


async def test_a_database_from_before_staff_names_them_by_our_ids(tmp_path: Path) -> None:
    one_case_acted_on_at_0023(tmp_path / "civic.db")
    db = await Database(tmp_path / "civic.db").open()
    try:
        async with db.session() as conn:
            staff = await fetch_all(conn, "SELECT id, channel, external_id, name FROM staff")
            events = await fetch_all(conn, "SELECT actor_id FROM report_events")
            prompts = await fetch_all(
                conn, "SELECT action, staff_id, resident_id FROM note_prompts ORDER BY id"
            )
            bound = await fetch_all(conn, "SELECT bound_by FROM group_bindings")
    finally:
        await db.close()
    ids = {row["external_id"]: row["id"] for row in staff}
    assert {(r["channel"], r["external_id"], r["name"]) for r in staff} == {
        ("telegram", str(URBAN_STAFF), "城管张工"),
        ("telegram", "9001", ""),
    }
    assert [r[0] for r in events] == [ids[str(URBAN_STAFF)]]
    assert [tuple(r) for r in prompts] == [
        ("resolve", ids[str(URBAN_STAFF)], None),
        ("reopen", None, 1),
    ]
    assert [r[0] for r in bound] == [ids["9001"]]


async def test_a_members_action_is_recorded_under_our_id_for_them(world: World) -> None:
    await world.file("小区门口垃圾成堆没人清理")
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(message_now(world, alert), "已受理")
    staff = world.runtime.reports.staff
    ours = await staff.resolve("telegram", URBAN_STAFF)
    assert await staff.address(ours) == ("telegram", str(URBAN_STAFF))
    async with world.db.session() as conn:
        rows = await fetch_all(conn, "SELECT actor_id FROM report_events WHERE action = 'accept'")
    assert [r[0] for r in rows] == [ours]


async def test_one_member_on_two_channels_is_two_ids(world: World) -> None:
    staff = world.runtime.reports.staff
    on_telegram = await staff.resolve("telegram", "2001", "城管张工")
    on_wecom = await staff.resolve("wecom", "2001", "张工")
    assert on_telegram != on_wecom
    assert await staff.address(on_wecom) == ("wecom", "2001")
