"""A group asks the resident for more; the answer comes back under the alert; nobody is named."""

from __future__ import annotations

from tests.world import GROUP_CHATS, OUTSIDER, RESIDENT, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
URBAN = GROUP_CHATS["urban"]


async def test_a_reply_to_the_alert_reaches_the_resident_and_the_answer_comes_back(
    world: World,
) -> None:
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    after = len(world.api.sent_to(RESIDENT))
    ack = await world.say(
        "请问具体是几号楼门口？", URBAN_STAFF, chat_id=URBAN, reply_to_message_id=alert.message_id
    )
    assert "已转给群众" in ack.text
    question = await world.api.next_sent(RESIDENT, after=after)
    assert ticket in question.text and "城镇建设管理组" in question.text
    assert "几号楼" in question.text and "张工" not in question.text
    thanks = await world.say("3号楼东门", reply_to_message_id=question.message_id)
    assert "城镇建设管理组" in thanks.text
    answer = await world.api.wait_for(
        lambda: next((m for m in world.api.sent_to(URBAN) if "3号楼东门" in (m.text or "")), None)
    )
    assert ticket in answer.text and "王小明" not in answer.text and "xiaoming" not in answer.text
    request = next(r for r in world.api.requests if r.result == answer.raw)
    assert request.params["reply_parameters"]["message_id"] == alert.message_id


async def test_an_outsider_cannot_question_a_resident(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    world.api.set_member_status(URBAN, OUTSIDER, "left")
    reply = await world.say(
        "你家住哪？", OUTSIDER, chat_id=URBAN, reply_to_message_id=alert.message_id
    )
    assert "无权限" in reply.text
    assert all("你家住哪" not in (m.text or "") for m in world.api.sent_to(RESIDENT))


async def test_a_reply_to_any_other_message_in_the_group_is_ignored(world: World) -> None:
    await world.file(LITTER)
    await world.alert("urban")
    chatter = world.api.send_text(URBAN_STAFF, "今天谁值班？", chat_id=URBAN)
    world.api.send_text(
        URBAN_STAFF, "我来", chat_id=URBAN, reply_to_message_id=chatter["message_id"]
    )
    reply = await world.say("/bind urban", user=9001, chat_id=URBAN)
    assert [m.text for m in world.api.sent_to(URBAN)][-1] == reply.text
    assert len(world.api.sent_to(URBAN)) == 2  # the alert and the /bind answer


async def test_a_question_the_resident_can_no_longer_receive_is_reported_back_to_the_group(
    world: World,
) -> None:
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    world.api.fail_chat(RESIDENT, "forbidden")  # the resident blocked the bot
    await world.say(
        "请问具体是几号楼门口？", URBAN_STAFF, chat_id=URBAN, reply_to_message_id=alert.message_id
    )
    undelivered = await world.api.wait_for(
        lambda: next((m for m in world.api.sent_to(URBAN) if "未能送达" in (m.text or "")), None)
    )
    assert ticket in undelivered.text and "几号楼" in undelivered.text
    request = next(r for r in world.api.requests if r.result == undelivered.raw)
    assert request.params["reply_parameters"]["message_id"] == alert.message_id
