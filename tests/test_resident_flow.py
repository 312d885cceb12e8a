"""The resident's flow through the real PTB stack: report, confirm, follow."""

from __future__ import annotations

from tests.world import (
    CONFIRM,
    GROUP_CHATS,
    NEIGHBOUR,
    RESIDENT,
    URBAN_STAFF,
    World,
    message_now,
)


async def test_start_explains_purpose_reporting_and_privacy(world: World) -> None:
    reply = await world.say("/start")
    assert "反映" in reply.text
    assert "保存" in reply.text and "工作组" in reply.text


async def test_a_text_report_is_understood_and_offers_confirm_change_and_cancel(
    world: World,
) -> None:
    card = await world.card("小区东门垃圾桶满了好几天没人清运，臭得不行")
    assert "乱扔垃圾" in card.text and "城镇建设管理组" in card.text
    labels = [b["text"] for b in card.buttons]
    assert any(CONFIRM in label for label in labels)
    assert any("类别" in label for label in labels)
    assert any("取消" in label for label in labels)


async def test_confirming_stores_the_report_and_replies_with_a_ticket(world: World) -> None:
    _, ticket = await world.file("路口有人闯红灯，太危险了")
    async with world.db.session() as conn:
        async with conn.execute("SELECT ticket, category, status FROM reports") as cur:
            rows = [tuple(r) for r in await cur.fetchall()]
    assert rows == [(ticket, "traffic", "submitted")]


async def test_the_group_alert_is_actionable_and_hides_the_resident(world: World) -> None:
    _, ticket = await world.file("人行道上有人摆摊卖水果，挡住了路")
    alert = await world.alert("urban")
    assert ticket in alert.text and "占道经营" in alert.text and "摆摊卖水果" in alert.text
    labels = [b["text"] for b in alert.buttons]
    assert any("受理" in label for label in labels) and any("办结" in label for label in labels)
    for secret in ("王小明", "xiaoming", str(RESIDENT)):
        assert secret not in alert.text


async def test_a_photo_with_caption_reaches_the_group_with_the_photo(world: World) -> None:
    after = len(world.api.sent_to(RESIDENT))
    photo = world.api.send_photo(RESIDENT, caption="墙上贴满了小广告")
    card = await world.api.next_sent(RESIDENT, after=after)
    assert "小广告" in card.text
    await world.press(RESIDENT, card, CONFIRM)
    await world.alert("urban")
    sent = await world.alert("urban", after=1)
    assert photo["photo"][-1]["file_id"] in sent.photo_file_ids


async def test_more_photos_and_a_location_join_the_draft_before_confirming(world: World) -> None:
    card = await world.card("路灯坏了，晚上一片漆黑")
    photos = [world.api.send_photo(RESIDENT)["photo"][-1]["file_id"] for _ in range(2)]
    world.api.send_location(RESIDENT, 31.2304, 121.4737)
    latest = await world.api.next_sent(RESIDENT, after=3)
    assert "照片：2 张" in latest.text and "121.473700" in latest.text
    await world.press(RESIDENT, latest, CONFIRM)
    alert = await world.alert("urban")
    assert "照片 2 张" in alert.text and "31.230400" in alert.text
    album = await world.alert("urban", after=1)
    await world.api.wait_for(
        lambda: (
            set(photos)
            <= {f for m in world.api.sent_to(GROUP_CHATS["urban"]) for f in m.photo_file_ids}
        )
    )
    assert album.method == "sendMediaGroup"  # one album under the alert, not a photo each
    location = await world.api.wait_for(
        lambda: next((m for m in world.api.sent_to(GROUP_CHATS["urban"]) if m.location), None)
    )
    assert location.location["latitude"] == 31.2304
    assert card.message_id != latest.message_id


async def test_an_address_typed_in_reply_to_the_card_is_kept(world: World) -> None:
    card = await world.card("路口的井盖没了，车轮容易陷进去")
    latest = await world.say("人民路与解放街交叉口东北角", reply_to_message_id=card.message_id)
    assert "人民路与解放街交叉口东北角" in latest.text
    await world.press(RESIDENT, latest, CONFIRM)
    alert = await world.alert("urban")
    assert "人民路与解放街交叉口东北角" in alert.text


async def test_changing_the_category_routes_to_the_new_group(world: World) -> None:
    card = await world.card("小区东门垃圾桶满了好几天没人清运")
    await world.press(RESIDENT, card, "类别")
    await world.wait_text(card, "请选择")
    await world.press(RESIDENT, card, "治安隐患")
    await world.wait_text(card, "社会秩序组")
    await world.press(RESIDENT, card, CONFIRM)
    alert = await world.alert("order")
    assert "治安隐患" in alert.text


async def test_an_unrecognised_message_offers_the_category_choice_at_once(world: World) -> None:
    card = await world.card("这边出问题好几天了，希望有关部门处理")
    assert "请选择" in card.text
    labels = [b["text"] for b in card.buttons]
    assert "乱扔垃圾" in labels and "其他" in labels
    assert not any(CONFIRM in label for label in labels)


async def test_cancel_discards_the_draft_and_files_nothing(world: World) -> None:
    card = await world.card("有人在电梯里抽烟")
    await world.press(RESIDENT, card, "取消")
    await world.wait_text(card, "已取消")
    assert message_now(world, card).buttons == []
    async with world.db.session() as conn:
        async with conn.execute("SELECT COUNT(*) FROM reports") as cur:
            assert (await cur.fetchone())[0] == 0


async def test_pressing_confirm_twice_files_one_report(world: World) -> None:
    card = await world.card("有人在电梯里抽烟")
    data = card.button_data(CONFIRM)
    first = world.api.press(RESIDENT, card.message_id, data)
    second = world.api.press(RESIDENT, card.message_id, data)
    await world.api.answer_to(first)
    answer = await world.api.answer_to(second)
    assert "已经提交" in (answer.get("text") or "") or answer.get("text") is None
    await world.wait_text(card, "工单号")
    async with world.db.session() as conn:
        async with conn.execute("SELECT COUNT(*) FROM reports") as cur:
            assert (await cur.fetchone())[0] == 1
    await world.alert("social")
    assert len(world.api.sent_to(GROUP_CHATS["social"])) == 1


async def test_my_reports_lists_own_reports_with_status(world: World) -> None:
    _, ticket = await world.file("有人闯红灯")
    reply = await world.say("/myreports")
    assert ticket in reply.text and "待受理" in reply.text


async def test_status_shows_own_report_and_hides_anyone_elses(world: World) -> None:
    _, ticket = await world.file("有人闯红灯")
    mine = await world.say(f"/status {ticket}")
    assert ticket in mine.text and "交通" in mine.text
    theirs = await world.say(f"/status {ticket}", user=NEIGHBOUR)
    assert "没有找到" in theirs.text


async def test_the_resident_is_told_when_the_group_accepts_and_resolves(world: World) -> None:
    _, ticket = await world.file("小区东门垃圾桶满了好几天没人清运")
    alert = await world.alert("urban")
    after = len(world.api.sent_to(RESIDENT))
    await world.press(URBAN_STAFF, alert, "受理")
    accepted = await world.api.next_sent(RESIDENT, after=after)
    assert ticket in accepted.text and "已受理" in accepted.text
    await world.wait_text(alert, "张工")
    await world.act_with_note(URBAN_STAFF, alert, "办结", "垃圾已全部清运")
    resolved = await world.api.next_sent(RESIDENT, after=after + 1)
    assert ticket in resolved.text and "已办结" in resolved.text
    assert "垃圾已全部清运" in resolved.text
