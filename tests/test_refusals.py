"""Telegram refuses some messages for good: they fail, the office hears of it once, and
nothing queued behind them waits forever. Alerts and digests are made to fit."""

from __future__ import annotations

from reports.outbox import DIGEST
from simulator.formatting import utf16_len
from simulator.server import SentMessage
from storage import outbox
from tests.world import (
    ADMIN,
    GROUP_CHATS,
    ORDER_STAFF,
    RESIDENT,
    URBAN_STAFF,
    World,
)

LITTER = "小区东门垃圾桶满了好几天没人清运"
URBAN = GROUP_CHATS["urban"]
OFFICE = GROUP_CHATS["office"]
TELEGRAM_LIMIT = 4096


async def outbox_rows(world: World) -> list[tuple[str, str]]:
    async with world.db.session() as conn:
        async with conn.execute("SELECT kind, status FROM outbox ORDER BY id") as cur:
            return [(r[0], r[1]) for r in await cur.fetchall()]


def office_notices(world: World, fragment: str) -> list[SentMessage]:
    return [
        m
        for m in world.api.sent_to(OFFICE)
        if "无法送达" in (m.text or "") and fragment in (m.text or "")
    ]


async def new_alert(world: World, group: str, ticket: str, after: int) -> SentMessage:
    """The first alert with buttons about `ticket` in a group's chat after `after` messages."""

    def check() -> SentMessage | None:
        for sent in world.api.sent_to(GROUP_CHATS[group])[after:]:
            if ticket in (sent.text or "") and sent.buttons:
                return sent
        return None

    return await world.api.wait_for(check)


async def test_a_case_moved_back_and_forth_with_long_notes_still_gets_its_alert(
    world: World,
) -> None:
    _, ticket = await world.file("，".join([LITTER] * 58))
    alert = await world.alert("urban")
    moves = [(URBAN_STAFF, "社会秩序组", "order"), (ORDER_STAFF, "城镇建设", "urban")]
    for step in range(12):
        staff, there_label, there = moves[step % 2]
        note = f"第{step + 1}次转派：" + "不属于本组职责范围，请对方核实现场情况后处理。" * 20
        after = len(world.api.sent_to(GROUP_CHATS[there]))
        await world.act_with_note(staff, alert, "转派", note[:300], then=there_label)
        alert = await new_alert(world, there, ticket, after)
    assert utf16_len(alert.text) <= TELEGRAM_LIMIT
    assert "第12次转派" in alert.text and "更早" in alert.text
    assert LITTER in alert.text


async def test_a_digest_of_200_overdue_cases_arrives_and_the_next_day_is_not_blocked(
    world: World,
) -> None:
    overdue = [[f"261128-{i:03d}", "resolve", 3600.0 * (i + 1)] for i in range(200)]
    for date in ("11-28", "11-29"):
        payload = {"group": "urban", "date": date, "new": [], "due": [], "overdue": overdue}
        async with world.db.transaction() as conn:
            await outbox.enqueue_to_group(conn, DIGEST, "urban", "digest:urban", 0.0, None, payload)
    world.runtime.courier.wake()
    for date in ("11-28", "11-29"):
        digest = await world.api.wait_for(
            lambda date=date: next(
                (
                    m
                    for m in world.api.sent_to(URBAN)
                    if f"每日简报　城镇建设管理组　{date}" in m.text
                ),
                None,
            )
        )
        assert "已逾期 200 件" in digest.text and utf16_len(digest.text) <= TELEGRAM_LIMIT
        assert "261128-199" in digest.text  # the latest case comes first


async def test_a_location_telegram_refuses_fails_the_row_and_the_office_hears_once(
    world: World,
) -> None:
    world.api.fail_chat(URBAN, "server_error")  # the alert waits while we spoil its location
    _, ticket = await world.driver.file(LITTER, RESIDENT, place=(31.2304, 121.4737))
    async with world.db.transaction() as conn:
        # A case stored before coordinates were checked on input: Telegram refuses them.
        await conn.execute("UPDATE reports SET latitude = 95.0 WHERE ticket = ?", (ticket,))
    world.api.clear_failures(URBAN)
    alert = await world.alert("urban")
    [notice] = await world.api.wait_for(lambda: office_notices(world, ticket))
    assert "城镇建设管理组" in notice.text and "coordinates" in notice.text
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "状态：已受理")  # the case's next message was not held up
    assert len(office_notices(world, ticket)) == 1
    assert ("group_alert", "failed") in await outbox_rows(world)


async def test_a_group_that_removed_the_bot_does_not_hold_up_its_next_digest(
    world: World,
) -> None:
    world.api.fail_chat(URBAN, "forbidden", times=1)
    await world.say("/digest", user=ADMIN)
    [notice] = await world.api.wait_for(lambda: office_notices(world, "每日简报"))
    assert "城镇建设管理组" in notice.text and "kicked" in notice.text
    await world.say("/digest", user=ADMIN)
    await world.api.wait_for(lambda: any("每日简报" in m.text for m in world.api.sent_to(URBAN)))


async def test_a_resident_who_blocked_the_bot_is_given_up_without_telling_the_office(
    world: World,
) -> None:
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    world.api.fail_chat(RESIDENT, "forbidden")
    await world.press(URBAN_STAFF, alert, "受理")
    rows = await world.eventually(
        lambda: _having(outbox_rows(world), ("notify_resident", "failed"))
    )
    assert not [kind for kind, _ in rows if kind == "refusal_notice"]
    assert office_notices(world, ticket) == []


async def test_resident_text_is_quoted_so_it_cannot_pass_for_a_status_line(
    world: World,
) -> None:
    await world.file(f"{LITTER}\n状态：已办结")
    alert = await world.alert("urban")
    lines = alert.text.splitlines()
    assert "状态：待受理" in lines and "状态：已办结" not in lines
    assert any(line.endswith("状态：已办结") and line != "状态：已办结" for line in lines)


async def test_a_digest_to_a_chat_not_found_waits_for_it_without_bothering_the_office(
    world: World,
) -> None:
    world.api.fail_chat(URBAN, "chat_not_found", times=3)  # /bind or a fixed chat_id mends it
    await world.say("/digest", user=ADMIN)
    await world.api.wait_for(lambda: any("每日简报" in m.text for m in world.api.sent_to(URBAN)))
    assert office_notices(world, "城镇建设管理组") == []


async def _having(rows_of: object, row: tuple[str, str]) -> list[tuple[str, str]] | None:
    rows = await rows_of  # type: ignore[misc]
    return rows if row in rows else None
