"""A case's life in the groups: 退回 and 转派 with reasons, notes by reply, history."""

from __future__ import annotations

from tests.world import (
    GROUP_CHATS,
    ORDER_STAFF,
    OUTSIDER,
    RESIDENT,
    URBAN_STAFF,
    World,
    message_now,
)

LITTER = "小区东门垃圾桶满了好几天没人清运"


async def filed(world: World) -> tuple[str, object]:
    _, ticket = await world.file(LITTER)
    return ticket, await world.alert("urban")


async def test_rejecting_tells_the_resident_the_reason_and_closes_the_alert(
    world: World,
) -> None:
    ticket, alert = await filed(world)
    after = len(world.api.sent_to(RESIDENT))
    done = await world.act_with_note(URBAN_STAFF, alert, "退回", "这是私人小区内部事务，请联系物业")
    assert "已退回" in done.text
    notice = await world.api.next_sent(RESIDENT, after=after)
    assert ticket in notice.text and "退回" in notice.text and "请联系物业" in notice.text
    text = await world.wait_text(alert, "状态：已退回")
    assert "请联系物业" in text and message_now(world, alert).buttons == []


async def test_reassigning_hands_the_whole_case_to_the_chosen_group(world: World) -> None:
    ticket, alert = await filed(world)
    after = len(world.api.sent_to(RESIDENT))
    await world.act_with_note(URBAN_STAFF, alert, "转派", "占用消防通道，属交警", then="社会秩序组")
    moved = await world.alert("order")
    assert ticket in moved.text and "受理" in str(moved.buttons)
    assert "转派至社会秩序组" in moved.text and "属交警" in moved.text
    old = await world.wait_text(alert, "已转派至社会秩序组")
    assert "本群无需再处理" in old and message_now(world, alert).buttons == []
    notice = await world.api.next_sent(RESIDENT, after=after)
    assert "社会秩序组" in notice.text and "属交警" in notice.text


async def test_the_old_groups_buttons_stop_working_after_a_reassignment(world: World) -> None:
    _, alert = await filed(world)
    accept = alert.button_data("受理")
    await world.act_with_note(URBAN_STAFF, alert, "转派", "不归我们管", then="社会秩序组")
    await world.alert("order")
    answer = await world.press_data(URBAN_STAFF, alert, accept)
    assert "失效" in answer["text"]
    moved = await world.alert("order")
    answer = await world.press(ORDER_STAFF, moved, "受理")
    assert "已受理" in answer["text"]


async def test_the_group_choice_offers_every_other_group_and_a_way_back(world: World) -> None:
    _, alert = await filed(world)
    await world.press(URBAN_STAFF, alert, "转派")
    await world.api.wait_for(lambda: "农村工作组" in str(message_now(world, alert).buttons))
    labels = [b["text"] for b in message_now(world, alert).buttons]
    assert "城镇建设管理组" not in labels and len(labels) == 7  # six groups and 返回
    await world.press(URBAN_STAFF, alert, "返回")
    await world.api.wait_for(lambda: "受理" in str(message_now(world, alert).buttons))


async def test_a_note_longer_than_the_limit_is_refused_and_the_prompt_still_works(
    world: World,
) -> None:
    _, alert = await filed(world)
    chat = GROUP_CHATS["urban"]
    after = len(world.api.sent_to(chat))
    await world.press(URBAN_STAFF, alert, "办结")
    prompt = await world.api.next_sent(chat, after=after)
    refused = await world.say(
        "很" * 301, URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert "超过 300 字" in refused.text
    done = await world.say(
        "已清运", URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert "已办结" in done.text


async def test_only_group_members_may_answer_a_prompt(world: World) -> None:
    _, alert = await filed(world)
    chat = GROUP_CHATS["urban"]
    world.api.set_member_status(chat, OUTSIDER, "member")  # in the chat, but checked again
    after = len(world.api.sent_to(chat))
    await world.press(URBAN_STAFF, alert, "退回")
    prompt = await world.api.next_sent(chat, after=after)
    world.api.set_member_status(chat, OUTSIDER, "left")
    reply = await world.say(
        "随便退回", OUTSIDER, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert "无权限" in reply.text


async def test_a_prompt_completes_one_action_only(world: World) -> None:
    _, alert = await filed(world)
    chat = GROUP_CHATS["urban"]
    after = len(world.api.sent_to(chat))
    await world.press(URBAN_STAFF, alert, "办结")
    prompt = await world.api.next_sent(chat, after=after)
    await world.say("已清运", URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id)
    again = await world.say(
        "再办结一次", URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert "回复过了" in again.text or "不能重复办结" in again.text


async def test_a_prompt_still_works_after_a_restart(world: World) -> None:
    ticket, alert = await filed(world)
    chat = GROUP_CHATS["urban"]
    after = len(world.api.sent_to(chat))
    await world.press(URBAN_STAFF, alert, "办结")
    prompt = await world.api.next_sent(chat, after=after)
    await world.restart()
    done = await world.say(
        "已清运", URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert ticket in done.text and "已办结" in done.text


async def test_status_shows_the_history_by_group_name_with_reasons(world: World) -> None:
    ticket, alert = await filed(world)
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "状态：已受理")
    await world.act_with_note(URBAN_STAFF, alert, "转派", "属交警管辖", then="社会秩序组")
    moved = await world.alert("order")
    await world.act_with_note(ORDER_STAFF, moved, "办结", "已劝离车辆")
    await world.wait_text(moved, "状态：已办结")
    detail = await world.say(f"/status {ticket}")
    for fragment in (
        "城镇建设管理组受理",
        "转派至社会秩序组",
        "属交警管辖",
        "社会秩序组办结",
        "已劝离车辆",
    ):
        assert fragment in detail.text, detail.text
    for staff in ("张工", "赵警官"):
        assert staff not in detail.text


async def test_a_duplicate_is_merged_into_the_earlier_case_whose_followers_grow(
    world: World,
) -> None:
    from tests.world import NEIGHBOUR

    first, first_alert = await filed(world)
    _, second = await world.file("东门垃圾桶又满了，好几天没人管", NEIGHBOUR)
    second_alert = await world.alert("urban", after=1)
    after = len(world.api.sent_to(NEIGHBOUR))
    done = await world.act_with_note(URBAN_STAFF, second_alert, "重复", first)
    assert "已作为重复合并" in done.text
    notice = await world.api.next_sent(NEIGHBOUR, after=after)
    assert second in notice.text and first in notice.text
    await world.wait_text(second_alert, "状态：重复已合并")
    await world.wait_text(first_alert, "另有 1 位群众")
    after = len(world.api.sent_to(NEIGHBOUR))
    await world.press(URBAN_STAFF, first_alert, "受理")
    followed = await world.api.next_sent(NEIGHBOUR, after=after)
    assert first in followed.text and "已受理" in followed.text


async def test_merging_into_an_unknown_ticket_is_refused_and_can_be_retried(
    world: World,
) -> None:
    ticket, alert = await filed(world)
    chat = GROUP_CHATS["urban"]
    after = len(world.api.sent_to(chat))
    await world.press(URBAN_STAFF, alert, "重复")
    prompt = await world.api.next_sent(chat, after=after)
    refused = await world.say(
        "999999-001", URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert "没有找到" in refused.text
    itself = await world.say(
        ticket, URBAN_STAFF, chat_id=chat, reply_to_message_id=prompt.message_id
    )
    assert "没有找到" in itself.text
