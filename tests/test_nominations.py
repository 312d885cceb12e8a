"""身边好人: a resident recommends a good deed; 宣传教育组 selects it for the week's list.

Until the integrator routes praise from `ResidentDialogue.text` (reports/intents.py tells
praise from a report), these scenarios route a text with words of praise to `praise()`
(the fixture below); everything else goes through the real stack.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from dialogue import texts
from simulator.server import SentMessage
from tests.world import (
    ADMIN,
    GROUP_CHATS,
    OUTSIDER,
    RESIDENT,
    URBAN_STAFF,
    World,
    message_now,
)

GOOD_DEED = "今天在公交车上看到一个小伙子主动给老人让座，好暖心"
PUBLICITY_STAFF = 2003
PUBLICITY = GROUP_CHATS["publicity"]


@pytest.fixture
async def world(world: World) -> AsyncIterator[World]:
    """The usual world, with a member in 宣传教育组's chat."""
    world.api.add_user(PUBLICITY_STAFF, "刘宣传")
    world.api.set_member_status(PUBLICITY, PUBLICITY_STAFF, "member")
    yield world


async def nomination_card(world: World, text: str = GOOD_DEED) -> SentMessage:
    card = await world.say(text)
    assert card.buttons and "感谢您推荐身边好人好事" in (card.text or ""), card.text
    return card


async def submitted(world: World, text: str = GOOD_DEED) -> tuple[SentMessage, SentMessage]:
    """Nominate and submit; the resident's card (now the receipt) and the group's alert."""
    card = await nomination_card(world, text)
    before = len(world.api.sent_to(PUBLICITY))
    await world.press(RESIDENT, card, "提交推荐")
    await world.wait_text(card, "已转给宣传教育组")
    alert = await world.api.next_sent(PUBLICITY, after=before)
    return card, alert


async def nominations(world: World) -> list[tuple[str, str, int | None]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall(
            "SELECT status, text, may_name FROM nominations ORDER BY id"
        )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_praise_opens_a_nomination_card_with_what_was_understood(world: World) -> None:
    card = await nomination_card(world)
    text = card.text or ""
    assert "事迹：" in text and "让座" in text
    assert "时间：" in text and "是否可以公开姓名：未说明" in text
    labels = [b["text"] for b in card.buttons]
    for label in ("提交推荐", "添加位置", "可以公开姓名", "这是要反映问题", "取消"):
        assert any(label in shown for shown in labels), labels
    assert await nominations(world) == [("open", GOOD_DEED, None)]


async def test_a_photo_and_a_location_join_the_open_nomination(world: World) -> None:
    await nomination_card(world)
    after_photo = await world.driver.reply(RESIDENT, lambda: world.api.send_photo(RESIDENT))
    assert "照片：1 张" in (after_photo.text or "")
    placed = await world.driver.reply(
        RESIDENT, lambda: world.api.send_location(RESIDENT, 31.23, 121.47)
    )
    assert "已添加位置" in (placed.text or "") and "地点：" in (placed.text or "")
    async with world.db.session() as conn:
        drafts = await conn.execute_fetchall("SELECT COUNT(*) FROM drafts")
    assert next(iter(drafts))[0] == 0  # nothing became a report's draft


async def test_may_name_toggles_on_the_card(world: World) -> None:
    card = await nomination_card(world)
    await world.press(RESIDENT, card, "可以公开姓名")
    text = await world.wait_text(card, "是否可以公开姓名：可以公开")
    assert text
    await world.press(RESIDENT, card, "不公开姓名")
    await world.wait_text(card, "是否可以公开姓名：不公开")
    assert [n[2] for n in await nominations(world)] == [0]


async def test_submitting_sends_the_nomination_to_the_publicity_group(world: World) -> None:
    card, alert = await submitted(world)
    assert "群众推荐身边好人好事" in (alert.text or "") and "让座" in (alert.text or "")
    labels = [b["text"] for b in alert.buttons]
    assert labels == [texts.BUTTON_NOMINATION_SELECT, texts.BUTTON_NOMINATION_DECLINE]
    assert message_now(world, card).buttons == []
    assert [n[0] for n in await nominations(world)] == ["submitted"]


async def test_a_member_selects_it_and_the_resident_is_told(world: World) -> None:
    _, alert = await submitted(world)
    before = len(world.api.sent_to(RESIDENT))
    answer = await world.press(PUBLICITY_STAFF, alert, "选入好人好事")
    assert "已选入" in answer["text"]
    text = await world.wait_text(alert, "已选入好人好事 — 选定人 刘宣传")
    assert "让座" in text and message_now(world, alert).buttons == []
    told = await world.api.next_sent(RESIDENT, after=before)
    assert "已入选本周好人好事榜" in (told.text or "")


async def test_declining_is_shown_in_the_alert_and_the_resident_is_not_told(
    world: World,
) -> None:
    _, alert = await submitted(world)
    await world.press(PUBLICITY_STAFF, alert, "暂不选入")
    await world.wait_text(alert, "暂不选入 — 刘宣传")
    assert [n[0] for n in await nominations(world)] == ["declined"]
    async with world.db.session() as conn:
        told = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'nomination_result'"
        )
    assert next(iter(told))[0] == 0


async def test_someone_outside_the_publicity_group_may_not_select(world: World) -> None:
    _, alert = await submitted(world)
    answer = await world.press(OUTSIDER, alert, "选入好人好事")
    assert answer["show_alert"] and "只有宣传教育组成员" in answer["text"]
    answer = await world.press(URBAN_STAFF, alert, "选入好人好事")
    assert "只有宣传教育组成员" in answer["text"]
    assert [n[0] for n in await nominations(world)] == ["submitted"]


async def test_an_admin_may_select(world: World) -> None:
    _, alert = await submitted(world)
    answer = await world.press(ADMIN, alert, "选入好人好事")
    assert "已选入" in answer["text"]
    assert [n[0] for n in await nominations(world)] == ["selected"]


async def test_forged_and_stale_nomination_buttons_are_refused(world: World) -> None:
    _, alert = await submitted(world)
    data = alert.button_data("选入好人好事")
    forged = await world.press_data(PUBLICITY_STAFF, alert, data.replace(":sel:1", ":sel:99"))
    assert forged["text"] == texts.BUTTON_STALE
    garbled = await world.press_data(PUBLICITY_STAFF, alert, data + "0x")
    assert garbled["text"] == texts.BUTTON_STALE
    # The group's choice pressed from the resident's own chat is not under the alert.
    card = world.api.sent_to(RESIDENT)[-1]
    from_resident = await world.press_data(RESIDENT, card, data)
    assert from_resident["text"] == texts.BUTTON_STALE
    await world.press(PUBLICITY_STAFF, alert, "选入好人好事")
    again = await world.press_data(PUBLICITY_STAFF, alert, alert.button_data("暂不选入"))
    assert again["text"] == texts.NOMINATION_DECIDED_ALREADY
    assert [n[0] for n in await nominations(world)] == ["selected"]


async def test_a_submitted_nominations_card_takes_no_more_changes(world: World) -> None:
    card = await nomination_card(world)
    stale = card.button_data("可以公开姓名")
    await world.press(RESIDENT, card, "提交推荐")
    await world.wait_text(card, "已转给宣传教育组")
    answer = await world.press_data(RESIDENT, card, stale)
    assert answer["text"] == texts.NOMINATION_CLOSED
    assert [n[2] for n in await nominations(world)] == [None]


async def test_this_is_a_report_turns_it_into_a_draft_with_the_same_words(world: World) -> None:
    # Taken for praise, though the resident meant the bins the cleaner never empties.
    text = "东门那个保洁阿姨，真是太负责了，点个赞"
    card = await nomination_card(world, text)
    await world.driver.reply(RESIDENT, lambda: world.api.send_photo(RESIDENT))
    card = world.api.sent_to(RESIDENT)[-1]
    await world.press(RESIDENT, card, "这是要反映问题")
    shown = await world.wait_text(card, "已转为问题反映")
    assert "保洁阿姨" in shown and "1 张" in shown
    async with world.db.session() as conn:
        drafts = await conn.execute_fetchall("SELECT text, photos, status FROM drafts")
    [(draft_text, photos, status)] = [tuple(r) for r in drafts]
    assert (draft_text, status, len(json.loads(photos))) == (text, "open", 1)
    assert [n[0] for n in await nominations(world)] == ["cancelled"]


async def test_thanks_for_a_resolved_case_reaches_the_group_that_handled_it(
    world: World,
) -> None:
    _, ticket = await world.file("小区东门垃圾桶满了好几天没人清运")
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.act_with_note(URBAN_STAFF, alert, "办结", "已清运")
    await world.wait_text(alert, "状态：已办结")
    asked = await world.say("垃圾清得真快，谢谢你们！")
    assert f"是感谢 {ticket} 的办理吗" in (asked.text or "")
    before = len(world.api.sent_to(GROUP_CHATS["urban"]))
    await world.press(RESIDENT, asked, "是，转达感谢")
    await world.wait_text(asked, "已把您的感谢转达给城镇建设管理组")
    thanks = await world.api.next_sent(GROUP_CHATS["urban"], after=before)
    assert thanks.text == f"❤️ 群众致谢 {ticket}：垃圾清得真快，谢谢你们！"
    assert [n[0] for n in await nominations(world)] == ["cancelled"]


async def test_not_thanks_after_all_goes_on_as_a_nomination(world: World) -> None:
    await world.file("小区东门垃圾桶满了好几天没人清运")
    alert = await world.alert("urban")
    await world.act_with_note(URBAN_STAFF, alert, "办结", "已清运")
    await world.wait_text(alert, "状态：已办结")
    asked = await world.say(GOOD_DEED)
    await world.press(RESIDENT, asked, "不是，推荐好人好事")
    await world.wait_text(asked, "感谢您推荐身边好人好事")
    assert [n[0] for n in await nominations(world)] == ["open"]


async def test_the_weekly_report_lists_the_weeks_selected_deeds(world: World) -> None:
    _, alert = await submitted(world)
    await world.press(PUBLICITY_STAFF, alert, "选入好人好事")
    await world.wait_text(alert, "已选入好人好事")
    office = GROUP_CHATS[world.settings.roles.weekly_report]
    before = len(world.api.sent_to(office))
    await world.runtime.reports.office.queue_weekly_report()
    report = await world.api.next_sent(office, after=before)
    text = report.text or ""
    assert "本周好人好事（1 件）" in text and "让座" in text
    assert "地点未提供" in text and "（不公开姓名）" in text


async def test_the_weekly_report_says_when_none_was_selected(world: World) -> None:
    office = GROUP_CHATS[world.settings.roles.weekly_report]
    await world.runtime.reports.office.queue_weekly_report()
    report = await world.api.next_sent(office)
    assert texts.WEEKLY_NOMINATIONS_NONE in (report.text or "")


async def test_an_untouched_nomination_no_longer_takes_photos(world: World) -> None:
    await nomination_card(world)
    world.clock.advance(world.settings.reports.draft_minutes * 60 + 1)
    reply = await world.driver.reply(RESIDENT, lambda: world.api.send_photo(RESIDENT))
    assert "感谢您推荐" not in (reply.text or "")  # a report's draft began with it
    assert [n[0] for n in await nominations(world)] == ["open"]


def test_the_praise_role_must_name_a_configured_group() -> None:
    from tests.test_config import committed, problems_of

    raw = committed()
    raw["roles"]["praise"] = "publicty"
    assert problems_of(raw) == [
        'roles.praise: "publicty" is not a group; groups are '
        "office, supervision, publicity, urban, order, social, rural"
    ]


def test_nomination_buttons_are_accepted_only_in_the_form_we_write() -> None:
    from dialogue import callbacks

    written = callbacks.nomination_button("thx", 7, "42")
    assert callbacks.parse(written) == callbacks.Button("n", "thx", 7, "42")
    for forged in ("v1:n:thx:7:042", "v1:n:thx:7", "v1:n:ok:7:1", "v1:n:sel:07", "v1:n:zz:7"):
        assert callbacks.parse(forged) is None, forged
