"""The working group's side: who may act, stale and forged buttons, the alert kept current."""

from __future__ import annotations

import logging

import pytest

from tests.world import (
    ADMIN,
    GROUP_CHATS,
    OUTSIDER,
    RESIDENT,
    URBAN_STAFF,
    World,
    message_now,
)

LITTER = "小区东门垃圾桶满了好几天没人清运"


async def reports_status(world: World) -> list[str]:
    async with world.db.session() as conn:
        async with conn.execute("SELECT status FROM reports ORDER BY id") as cur:
            return [r[0] for r in await cur.fetchall()]


async def test_an_outsider_gets_no_permission_and_nothing_changes(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    answer = await world.press(OUTSIDER, alert, "受理")
    assert "无权限" in answer["text"] and answer["show_alert"]
    assert await reports_status(world) == ["submitted"]
    assert message_now(world, alert).text == alert.text


async def test_a_member_of_another_group_cannot_act_on_this_groups_report(world: World) -> None:
    from tests.world import ORDER_STAFF

    await world.file(LITTER)
    alert = await world.alert("urban")
    answer = await world.press(ORDER_STAFF, alert, "办结")
    assert "无权限" in answer["text"]
    assert await reports_status(world) == ["submitted"]


async def test_an_admin_may_act_without_being_in_the_group(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    answer = await world.press(ADMIN, alert, "受理")
    assert "已受理" in answer["text"]
    assert await reports_status(world) == ["accepted"]


async def test_accepting_edits_the_alert_to_show_status_and_who_acted(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    text = await world.wait_text(alert, "状态：已受理")
    assert "张工" in text
    labels = [b["text"] for b in message_now(world, alert).buttons]
    assert not any("受理" in label and "办结" not in label for label in labels)
    assert any("办结" in label for label in labels)


async def test_a_resolved_report_cannot_be_resolved_again(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    data = alert.button_data("办结")
    await world.act_with_note(URBAN_STAFF, alert, "办结", "已清运")
    await world.wait_text(alert, "状态：已办结")
    assert message_now(world, alert).buttons == []
    answer = await world.press_data(URBAN_STAFF, alert, data)
    assert "不能重复办结" in answer["text"]
    assert await reports_status(world) == ["resolved"]
    notices = [m for m in world.api.sent_to(RESIDENT) if "已办结" in (m.text or "")]
    assert len(notices) == 1


async def test_membership_is_checked_with_telegram_and_cached_briefly(world: World) -> None:
    await world.file(LITTER)
    await world.file("路边的垃圾没人收")
    first = await world.alert("urban")
    second = await world.alert("urban", after=1)
    await world.press(URBAN_STAFF, first, "受理")
    await world.press(URBAN_STAFF, second, "受理")
    assert world.api.calls["getChatMember"] == 1


async def test_a_forged_button_gets_a_polite_answer_and_changes_nothing(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    for data in ["v1:r:acc:999", "v9:r:acc:1", "hello", "v1:r:res:1:x", "v1:d:ok:424242"]:
        answer = await world.press_data(URBAN_STAFF, alert, data)
        assert answer["text"], data
    assert await reports_status(world) == ["submitted"]


async def test_a_resident_cannot_confirm_someone_elses_draft(world: World) -> None:
    from tests.world import NEIGHBOUR

    card = await world.card("有人在电梯里抽烟")
    query = world.api.press(NEIGHBOUR, card.message_id, card.button_data("确认"), RESIDENT)
    answer = await world.api.answer_to(query)
    assert "失效" in answer["text"]
    assert await reports_status(world) == []


async def test_ordinary_chatter_in_a_group_chat_is_ignored(world: World) -> None:
    group = GROUP_CHATS["urban"]
    world.api.send_text(URBAN_STAFF, "大家今天辛苦了，垃圾桶的事我去看看", chat_id=group)
    world.api.send_text(URBAN_STAFF, "/start", chat_id=group)
    world.api.send_photo(URBAN_STAFF, chat_id=group)
    # Updates of one chat are handled in order: once /bind is answered, the rest was seen.
    reply = await world.say("/bind urban", user=ADMIN, chat_id=group)
    assert world.api.sent_to(group) == [reply]


async def test_an_admin_binds_a_group_chat_and_alerts_go_there(world: World) -> None:
    new_chat = -200_001
    world.api.add_group(new_chat, "城管新群", [URBAN_STAFF])
    reply = await world.say("/bind urban", user=ADMIN, chat_id=new_chat)
    assert "城镇建设管理组" in reply.text
    _, ticket = await world.file(LITTER)
    alert = await world.api.next_sent(new_chat, after=1)
    assert ticket in alert.text
    assert world.api.sent_to(GROUP_CHATS["urban"]) == []


async def test_only_admins_may_bind_and_a_wrong_key_lists_the_groups(world: World) -> None:
    chat = GROUP_CHATS["urban"]
    refused = await world.say("/bind order", user=URBAN_STAFF, chat_id=chat)
    assert "无权限" in refused.text
    usage = await world.say("/bind urbn", user=ADMIN, chat_id=chat)
    assert "urban" in usage.text and "社会秩序组" in usage.text


async def test_binding_a_chat_releases_alerts_that_waited_for_one(tmp_path, classifier) -> None:
    from tests.conftest import started_world

    slow = {"retry_base_seconds": 30.0, "retry_max_seconds": 60.0}
    async with started_world(tmp_path, classifier, outbox=slow) as world:
        world.api.fail_chat(GROUP_CHATS["urban"], "chat_not_found")
        _, ticket = await world.file(LITTER)
        # The alert waits once the courier has recorded its failed attempt (seeing the
        # failed request is not enough: a /bind before that record would find no wait).
        await world.eventually(lambda: alert_attempts(world))
        new_chat = -200_002
        world.api.add_group(new_chat, "城管新群", [URBAN_STAFF])
        await world.say("/bind urban", user=ADMIN, chat_id=new_chat)
        alert = await world.api.next_sent(new_chat, after=1)
        assert ticket in alert.text


async def test_a_membership_check_is_remembered_for_member_cache_seconds_only(
    world: World,
) -> None:
    for _ in range(3):
        await world.file(LITTER)
    alerts = [await world.alert("urban", after=n) for n in range(3)]
    await world.press(URBAN_STAFF, alerts[0], "受理")
    assert world.api.calls["getChatMember"] == 1
    world.clock.advance(30)  # member_cache_seconds = 60: still remembered
    await world.press(URBAN_STAFF, alerts[1], "受理")
    assert world.api.calls["getChatMember"] == 1
    world.clock.advance(31)  # over a minute: forgotten, Telegram is asked again
    await world.press(URBAN_STAFF, alerts[2], "受理")
    assert world.api.calls["getChatMember"] == 2


async def test_an_unbound_groups_alert_waits_and_the_log_names_the_group(
    tmp_path, classifier, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import started_world

    caplog.set_level(logging.WARNING)
    unbound = {"groups": {"urban": {"chat_id": 0}}}
    async with started_world(tmp_path, classifier, **unbound) as world:
        _, ticket = await world.file(LITTER)

        def waiting() -> list[str]:
            return [
                r.getMessage()
                for r in caplog.records
                if r.name.startswith("handlers") and "urban" in r.getMessage()
            ]

        [line, *_] = await world.api.wait_for(waiting)
        assert "no chat" in line
        assert await alert_rows(world) == [("group_alert", "pending")]
        assert not any(
            ticket in (m.text or "") for c in GROUP_CHATS.values() for m in world.api.sent_to(c)
        )
        reply = await world.say("/bind urban", user=ADMIN, chat_id=GROUP_CHATS["urban"])
        assert "城镇建设管理组" in reply.text
        alert = await world.api.next_sent(GROUP_CHATS["urban"], after=1)
        assert ticket in alert.text


async def alert_attempts(world: World) -> int:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT attempts FROM outbox WHERE kind = 'group_alert'")
    return sum(r[0] for r in rows)


async def alert_rows(world: World) -> list[tuple[str, str]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall(
            "SELECT kind, status FROM outbox WHERE kind = 'group_alert'"
        )
    return [tuple(r) for r in rows]
