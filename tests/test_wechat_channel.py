"""Residents on the WeChat Official Account: they report into the same case store and
to the same working groups (on Telegram), through WeChat's signed and encrypted
callbacks and its customer-service messages, with numbered menus for choices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialogue import texts
from quizzes.push import QUIZ_PUSH
from quizzes.records import Progress
from simulator.server import solid_png
from simulator.wechat import Delivered
from tests.test_database_faults import full_disk
from tests.wechat_world import NEIGHBOUR_OPENID, OPENID, WeChatWorld, wechat_world
from tests.world import ADMIN, GROUP_CHATS, URBAN_STAFF, message_now

LITTER = "小区门口垃圾成堆没人清理，苍蝇很多"
# A real image: WeChat's media API and Telegram's both look at the bytes.
PHOTO = solid_png()


@pytest.fixture
async def world(tmp_path: Path, classifier: object) -> AsyncIterator[WeChatWorld]:
    async with wechat_world(tmp_path, classifier) as w:
        yield w


async def card_of(world: WeChatWorld, text: str, openid: str = OPENID) -> Delivered:
    """Say a report's text; the draft card that comes back as a numbered menu."""
    before = len(world.wx.sent_to(openid))
    await world.resident(openid).say(text)
    card = await world.next_to(openid, after=before)
    assert card.msgtype == "msgmenu", card
    return card


async def filed(world: WeChatWorld, text: str = LITTER, openid: str = OPENID) -> str:
    """Report and tap 确认提交; the ticket the receipt tells the resident."""
    card = await card_of(world, text, openid)
    return await confirmed(world, card, openid)


async def confirmed(world: WeChatWorld, card: Delivered, openid: str = OPENID) -> str:
    """Tap 确认提交 on a card; the ticket of the receipt that follows (the only message)."""
    before = len(world.wx.sent_to(openid))
    await world.resident(openid).choose(card, texts.BUTTON_CONFIRM)
    receipt = await world.next_to(openid, after=before)
    assert "已提交！" in (receipt.text or ""), receipt
    return (receipt.text or "").split("工单号：", 1)[1].split()[0]


async def test_following_the_account_gets_the_welcome_and_the_quiz_offer(
    world: WeChatWorld,
) -> None:
    await world.resident().subscribe()
    welcome = await world.next_to(after=0)
    offer = await world.next_to(after=1)
    assert welcome.text == texts.WECHAT_WELCOME
    assert offer.msgtype == "msgmenu" and texts.BUTTON_SUBSCRIBE in (offer.text or "")


async def test_a_text_comes_back_as_a_card_with_numbered_choices(world: WeChatWorld) -> None:
    card = await card_of(world, LITTER)
    assert "垃圾" in (card.text or "") and "也可直接回复数字：1 确认提交" in (card.text or "")
    assert [item_id for item_id, _ in card.choices][:2] == ["1", "2"]


async def test_tapping_confirm_files_the_report_and_the_group_gets_its_alert(
    world: WeChatWorld,
) -> None:
    ticket = await filed(world)
    alert = await world.tg.alert("urban")
    assert ticket in alert.text and "垃圾" in alert.text and alert.buttons


async def test_typing_the_number_of_a_choice_is_the_same_as_tapping_it(
    world: WeChatWorld,
) -> None:
    card = await card_of(world, LITTER)
    before = len(world.wx.sent_to(OPENID))
    await world.resident().say(card.choice_id(texts.BUTTON_CONFIRM))
    assert "已提交！" in ((await world.next_to(after=before)).text or "")
    assert "垃圾" in (await world.tg.alert("urban")).text


async def test_a_tap_on_a_menu_from_long_ago_is_refused_politely(world: WeChatWorld) -> None:
    card = await card_of(world, LITTER)
    world.tg.clock.advance(2 * 86400)
    reply = await world.resident().choose(card, texts.BUTTON_CONFIRM)
    assert reply is not None and reply["Content"] == texts.WECHAT_MENU_STALE


async def test_a_voice_message_is_taken_as_what_wechat_heard(world: WeChatWorld) -> None:
    await world.resident().voice(LITTER)
    card = await world.next_to(after=0)
    assert card.msgtype == "msgmenu" and "垃圾" in (card.text or "")


async def test_a_voice_wechat_could_not_make_out_asks_again(world: WeChatWorld) -> None:
    reply = await world.resident().voice(None)
    assert reply is not None and reply["Content"] == texts.WECHAT_VOICE_UNHEARD


async def test_a_photo_is_kept_and_reaches_the_group_with_the_alert(world: WeChatWorld) -> None:
    await world.resident().photo(PHOTO)
    first = await world.next_to(after=0)
    assert first.msgtype == "msgmenu"  # a card: the photo started a report
    await card_of(world, LITTER)  # its description
    card = world.wx.sent_to(OPENID)[-1]
    await world.resident().choose(card, texts.BUTTON_CONFIRM)
    alert = await world.tg.alert("urban")
    photo = await world.tg.api.next_sent(alert.chat_id, after=1)
    assert photo.photo_file_ids and world.tg.api.file_bytes(photo.photo_file_ids[-1]) == PHOTO


async def test_a_shared_location_places_the_report_and_names_the_spot(
    world: WeChatWorld,
) -> None:
    await card_of(world, LITTER)
    before = len(world.wx.sent_to(OPENID))
    await world.resident().location(31.2304, 121.4737, "人民广场东侧")
    card = await world.next_to(after=before)
    assert "人民广场东侧" in (card.text or "")
    await world.resident().choose(card, texts.BUTTON_CONFIRM)
    alert = await world.tg.alert("urban")
    assert "人民广场东侧" in alert.text


async def test_a_resident_looks_up_their_own_report_by_ticket(world: WeChatWorld) -> None:
    ticket = await filed(world)
    reply = await world.resident().say(f"{texts.WECHAT_STATUS_WORD} {ticket}")
    assert reply is not None and ticket in str(reply["Content"])
    theirs = await world.resident(NEIGHBOUR_OPENID).say(f"{texts.WECHAT_STATUS_WORD} {ticket}")
    assert theirs is not None and "垃圾" not in str(theirs["Content"])


async def test_the_menus_my_reports_lists_them(world: WeChatWorld) -> None:
    ticket = await filed(world)
    reply = await world.resident().click("my_reports")
    assert reply is not None and ticket in str(reply["Content"])


async def test_the_account_installs_its_menu_from_config(
    tmp_path: Path, classifier: object
) -> None:
    menu = [
        {"name": "怎么反映", "key": "how_to_report"},
        {"name": "我的反映", "key": "my_reports"},
    ]
    async with wechat_world(tmp_path, classifier, menu=menu) as world:
        assert [b["name"] for b in world.wx.menu["button"]] == ["怎么反映", "我的反映"]


async def test_a_group_step_reaches_the_wechat_resident(world: WeChatWorld) -> None:
    ticket = await filed(world)
    alert = await world.tg.alert("urban")
    await world.tg.press(URBAN_STAFF, alert, "受理")
    await world.tg.wait_text(message_now(world.tg, alert), "已受理")
    step = await world.wx.wait_for(
        lambda: next((m for m in world.wx.sent_to(OPENID) if "受理" in (m.text or "")), None)
    )
    assert ticket in (step.text or "")


async def resolved(world: WeChatWorld, note: str = "已清理完毕") -> tuple[str, Delivered]:
    """File a report, have the group accept and resolve it; the ticket and the rating menu."""
    ticket = await filed(world)
    alert = await world.tg.alert("urban")
    await world.tg.press(URBAN_STAFF, alert, "受理")
    await world.tg.wait_text(message_now(world.tg, alert), "已受理")
    await world.tg.act_with_note(URBAN_STAFF, message_now(world.tg, alert), "办结", note)
    rating = await world.wx.wait_for(
        lambda: next(
            (
                m
                for m in world.wx.sent_to(OPENID)
                if m.msgtype == "msgmenu" and texts.RATING_NAMES["satisfied"] in (m.text or "")
            ),
            None,
        )
    )
    return ticket, rating


async def test_the_resident_rates_the_result_from_the_menu(world: WeChatWorld) -> None:
    ticket, rating = await resolved(world)
    reply = await world.resident().choose(rating, texts.RATING_NAMES["satisfied"])
    assert reply is not None and texts.RATING_NAMES["satisfied"] in str(reply["Content"])
    report = await world.tg.runtime.reports.cases.resident_report(
        await world.tg.runtime.reports.residents.resolve("wechat", OPENID), ticket
    )
    assert report is not None and report.rating == "satisfied"


async def test_unsatisfied_asks_why_and_the_next_text_reopens_the_case(
    world: WeChatWorld,
) -> None:
    ticket, rating = await resolved(world)
    before = len(world.wx.sent_to(OPENID))
    await world.resident().choose(rating, texts.RATING_NAMES["unsatisfied"])
    ask = await world.next_to(after=before)
    assert ticket in (ask.text or "")
    reply = await world.resident().say("垃圾还在，只清了一半")
    assert reply is not None and ticket in str(reply["Content"])
    again = await world.tg.alert("urban", after=len(world.tg.api.sent_to(GROUP_CHATS["urban"])) - 1)
    assert ticket in again.text


async def test_a_groups_question_is_answered_by_the_residents_next_text(
    world: WeChatWorld,
) -> None:
    ticket = await filed(world)
    alert = await world.tg.alert("urban")
    await world.tg.say(
        "具体在几号楼门口？",
        user=URBAN_STAFF,
        chat_id=alert.chat_id,
        reply_to_message_id=alert.message_id,
    )
    question = await world.wx.wait_for(
        lambda: next((m for m in world.wx.sent_to(OPENID) if "几号楼" in (m.text or "")), None)
    )
    assert ticket in (question.text or "")
    refs = world.tg.runtime.reports.message_refs
    await world.tg.eventually(lambda: refs.awaited("wechat", OPENID, 3600))  # recorded as asked
    await world.resident().say("3号楼东门")
    answer = await world.tg.api.wait_for(
        lambda: next(
            (m for m in world.tg.api.sent_to(alert.chat_id) if "3号楼东门" in (m.text or "")), None
        )
    )
    assert ticket in answer.text


async def test_the_daily_quiz_is_asked_as_numbered_choices_and_scored(
    world: WeChatWorld,
) -> None:
    await world.resident().click("daily_quiz")
    first = await world.wx.wait_for(
        lambda: next((m for m in world.wx.sent_to(OPENID) if "第 1/" in (m.text or "")), None)
    )
    before = len(world.wx.sent_to(OPENID))
    await world.resident().choose(first, first.choices[0][1].split(". ", 1)[1])
    verdict = await world.next_to(after=before)
    assert verdict.text and verdict.text[0] in "✅❌"
    second = await world.next_to(after=before + 1)
    assert "第 2/" in (second.text or "")
    resident = await world.tg.runtime.reports.residents.resolve("wechat", OPENID)
    name = await world.tg.runtime.quizzes.player_name(resident)
    assert name is not None and name.startswith("微信用户·")


async def survey_step(world: WeChatWorld, fragment: str, after: int) -> Delivered:
    """The first message since `after` that contains `fragment` (the survey's next question)."""
    return await world.wx.wait_for(
        lambda: next(
            (m for m in world.wx.sent_to(OPENID)[after:] if fragment in (m.text or "")), None
        )
    )


async def test_the_survey_asks_support_awareness_volunteering_then_who_answers(
    world: WeChatWorld,
) -> None:
    await world.resident().click("survey")
    step = await survey_step(world, texts.SURVEY_QUESTION, 0)
    for label, then in (
        (texts.SURVEY_CHOICES["support"], texts.SURVEY_AWARE_QUESTION),
        (texts.SURVEY_AWARE_YES, texts.SURVEY_VOLUNTEER_QUESTION),
        (texts.SURVEY_CHOICES["rather"], "（第 1/2 页）"),
        (texts.SURVEY_COMMUNITY_MORE, "（第 2/2 页）"),
        ("桃园村", texts.SURVEY_AGE_QUESTION),
        ("18至65岁", texts.SURVEY_LIVED_QUESTION),
        ("是", texts.SURVEY_DONE),
    ):
        after = len(world.wx.sent_to(OPENID))
        await world.resident().choose(step, label)
        step = await survey_step(world, then, after)
    assert len(step.choices) == 1  # 修改我的信息
    report = await world.tg.runtime.surveys.report()
    assert report is not None and report.figures.in_population == 1
    [taoyuan] = [c for c in report.figures.communities if c.community.key == "taoyuan"]
    assert taoyuan.rates["volunteer"].rate == 1.0


async def test_a_community_page_fits_one_wechat_menu(world: WeChatWorld) -> None:
    await world.resident().click("survey")
    step = await survey_step(world, texts.SURVEY_QUESTION, 0)
    for label, then in (
        (texts.SURVEY_CHOICES["support"], texts.SURVEY_AWARE_QUESTION),
        (texts.SURVEY_AWARE_YES, texts.SURVEY_VOLUNTEER_QUESTION),
    ):
        after = len(world.wx.sent_to(OPENID))
        await world.resident().choose(step, label)
        step = await survey_step(world, then, after)
    after = len(world.wx.sent_to(OPENID))
    await world.resident().choose(step, texts.SURVEY_CHOICES["support"])
    page = await survey_step(world, "（第 1/2 页）", after)
    assert len(page.choices) == 10 and len(world.wx.sent_to(OPENID)[after:]) == 2


async def test_a_text_after_not_supporting_is_the_reason(world: WeChatWorld) -> None:
    await world.resident().click("survey")
    question = await survey_step(world, texts.SURVEY_QUESTION, 0)
    after = len(world.wx.sent_to(OPENID))
    await world.resident().choose(question, texts.SURVEY_CHOICES["against"])
    why = await survey_step(world, texts.SURVEY_REASON_QUESTION, after)
    await world.resident().choose(why, texts.SURVEY_REASONS["unsolved"])
    reply = await world.resident().say("路灯坏了三个月，反映了没人修")
    assert reply is not None and reply["Content"] == texts.SURVEY_REASON_NOTED
    counts, said = await world.tg.runtime.surveys.reasons(10)
    assert counts == [("unsolved", 1)] and [t for _, t in said] == ["路灯坏了三个月，反映了没人修"]


async def test_unfollowing_stops_the_daily_push(world: WeChatWorld) -> None:
    reply = await world.resident().say(texts.WECHAT_SUBSCRIBE_WORD)
    assert reply is not None and reply["Content"] == texts.WECHAT_SUBSCRIBED
    await world.resident().unsubscribe()
    resident = await world.tg.runtime.reports.residents.resolve("wechat", OPENID)
    async with world.tg.db.session() as conn:
        rows = await conn.execute_fetchall(
            "SELECT active FROM quiz_subscribers WHERE resident_id = ?", (resident,)
        )
    assert [r[0] for r in rows] == [0]


async def test_the_daily_push_reaches_only_wechat_residents_inside_the_48_hours(
    world: WeChatWorld,
) -> None:
    await world.resident().say(texts.WECHAT_SUBSCRIBE_WORD)
    world.tg.clock.advance(49 * 3600)
    await world.resident(NEIGHBOUR_OPENID).say(texts.WECHAT_SUBSCRIBE_WORD)
    before = len(world.wx.sent_to(OPENID))
    await world.tg.say("/push_quiz", user=ADMIN)

    async def done() -> Progress | None:
        progress = await world.tg.runtime.pushes.progress(QUIZ_PUSH)
        return progress if progress is not None and progress.pending == 0 else None

    progress = await world.tg.eventually(done)
    assert (progress.sent, progress.skipped) == (1, 1)
    push = await world.next_to(NEIGHBOUR_OPENID, after=1)
    assert push.msgtype == "msgmenu" and texts.PUSH_TEXT in (push.text or "")
    assert len(world.wx.sent_to(OPENID)) == before
    status = await world.tg.say("/push_status", user=ADMIN)
    assert texts.PUSH_SKIPPED.format(skipped=1) in status.text


async def test_the_ranking_shows_a_wechat_resident_by_tag_or_chosen_nickname(
    world: WeChatWorld,
) -> None:
    await world.resident().click("daily_quiz")
    first = await world.wx.wait_for(
        lambda: next((m for m in world.wx.sent_to(OPENID) if "第 1/" in (m.text or "")), None)
    )
    question = world.tg.runtime.quizzes.bank.by_id(
        (await world.tg.runtime.quizzes.current(1)).questions[0]
    )
    right = question.options[question.correct[0]]
    await world.resident().choose(first, right)
    board = await world.resident().say("排行")
    assert board is not None and "微信用户·" in str(board["Content"])
    await world.resident().say("昵称 文明小卫士")
    board = await world.resident().say("排行")
    assert board is not None and "文明小卫士" in str(board["Content"])


async def test_a_wechat_resident_follows_the_same_problem_reported_nearby(
    world: WeChatWorld,
) -> None:
    place = (31.2304, 121.4737)
    ticket = await filed_at(world, OPENID, place)
    await card_of(world, LITTER, NEIGHBOUR_OPENID)
    placed = len(world.wx.sent_to(NEIGHBOUR_OPENID))
    await world.resident(NEIGHBOUR_OPENID).location(*place, "人民广场")
    card = await world.next_to(NEIGHBOUR_OPENID, after=placed)
    before = len(world.wx.sent_to(NEIGHBOUR_OPENID))
    await world.resident(NEIGHBOUR_OPENID).choose(card, texts.BUTTON_CONFIRM)
    offer = await world.next_to(NEIGHBOUR_OPENID, after=before)
    assert ticket in (offer.text or "")
    reply = await world.resident(NEIGHBOUR_OPENID).choose(offer, texts.BUTTON_FOLLOW)
    assert reply is not None and ticket in str(reply["Content"])


async def filed_at(world: WeChatWorld, openid: str, place: tuple[float, float]) -> str:
    """File a report with a location; its ticket."""
    await card_of(world, LITTER, openid)
    before = len(world.wx.sent_to(openid))
    await world.resident(openid).location(*place, "人民广场")
    card = await world.next_to(openid, after=before)
    return await confirmed(world, card, openid)


async def test_a_report_the_database_would_not_take_is_said_to_be_unsent(
    world: WeChatWorld,
) -> None:
    await world.resident().say("你好")  # known already: nothing to write but the draft
    with full_disk():
        reply = await world.resident().say(LITTER)
    assert reply is not None and reply["Content"] == texts.NOT_SAVED
    card = await card_of(world, LITTER)  # the disk has room again: it goes through
    assert "垃圾" in (card.text or "")


async def test_the_ticket_receipt_tells_how_to_look_it_up_on_wechat(world: WeChatWorld) -> None:
    ticket = await filed(world)
    receipt = await world.wx.wait_for(
        lambda: next((m for m in world.wx.sent_to(OPENID) if "已提交！" in (m.text or "")), None)
    )
    assert f"查询 {ticket}" in (receipt.text or "") and "/status" not in (receipt.text or "")


async def test_a_question_left_unanswered_for_hours_no_longer_takes_the_next_text(
    world: WeChatWorld,
) -> None:
    await filed(world)
    alert = await world.tg.alert("urban")
    await world.tg.say(
        "具体在几号楼门口？",
        user=URBAN_STAFF,
        chat_id=alert.chat_id,
        reply_to_message_id=alert.message_id,
    )
    refs = world.tg.runtime.reports.message_refs
    await world.tg.eventually(lambda: refs.awaited("wechat", OPENID, 3600))  # asked now
    world.tg.clock.advance(3 * 3600)
    card = await card_of(world, "人民广场路口好多人闯红灯")
    assert "闯红灯" in (card.text or "")


async def test_confirming_says_the_ticket_once(world: WeChatWorld) -> None:
    ticket = await filed(world)
    await world.tg.alert("urban")
    told = [m for m in world.wx.sent_to(OPENID) if ticket in (m.text or "")]
    assert len(told) == 1 and "/status" not in (told[0].text or "")


async def test_after_add_location_a_typed_address_places_the_report(world: WeChatWorld) -> None:
    card = await card_of(world, LITTER)
    before = len(world.wx.sent_to(OPENID))
    await world.resident().choose(card, "添加位置")
    await world.next_to(after=before)  # how to send a location, or type the address
    placed = len(world.wx.sent_to(OPENID))
    await world.resident().say("幸福路88号东门")
    card = await world.next_to(after=placed)
    assert "幸福路88号东门" in (card.text or "") and card.msgtype == "msgmenu"
    await confirmed(world, card)
    assert "幸福路88号东门" in (await world.tg.alert("urban")).text


async def test_a_greeting_gets_the_menu_as_numbered_choices_and_no_draft(
    world: WeChatWorld,
) -> None:
    await world.resident().say("你好")
    menu = await world.next_to(after=0)
    assert menu.msgtype == "msgmenu" and texts.WECHAT_CHITCHAT in (menu.text or "")
    before = len(world.wx.sent_to(OPENID))
    await world.resident().choose(menu, texts.BUTTON_HOW_TO_REPORT)
    assert (await world.next_to(after=before)).text == texts.WECHAT_HELP


async def test_a_question_is_answered_from_the_offices_answers(world: WeChatWorld) -> None:
    await world.resident().say("创建办几点上班")
    answer = await world.next_to(after=0)
    assert "9:00" in (answer.text or "")
    async with world.tg.db.session() as conn:
        [(drafts,)] = await conn.execute_fetchall("SELECT COUNT(*) FROM drafts")
    assert drafts == 0
