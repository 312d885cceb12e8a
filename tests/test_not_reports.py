"""A text that is no report opens no draft: chit-chat gets the menu, spam one notice and
then silence, and when the bot is unsure the resident can still report it with one tap."""

from __future__ import annotations

from typing import Any

from dialogue import callbacks, texts
from reports.intents import CHITCHAT, QUESTION, REPORT, SPAM, Intent
from tests.world import ADMIN, NEIGHBOUR, RESIDENT, World

AD = "低息贷款秒到账，无抵押，加微信 dk88886 详询"
LITTER = "小区门口垃圾成堆没人清理，苍蝇很多"


class TakenAs:
    """The intent classifier, except that chosen texts are taken for a chosen intent."""

    def __init__(self, real: Any, taken: dict[str, Intent]) -> None:
        self.real = real
        self.taken = taken

    def classify(self, text: str, classification: Any = None) -> Intent:
        return self.taken.get(text) or self.real.classify(text, classification)


def take_as(world: World, text: str, kind: str, unsure: bool) -> None:
    """From now on the bot takes `text` for `kind` (sure or not): the dialogue's rules are
    under test here, not the classifier's judgement (tests/test_intents.py has that)."""
    intake = world.runtime.reports.intake
    real = getattr(intake.intents, "real", intake.intents)
    taken = dict(getattr(intake.intents, "taken", {}))
    taken[text] = Intent(kind, 0.6 if unsure else 0.99, unsure)
    intake.intents = TakenAs(real, taken)


async def drafts(world: World) -> int:
    async with world.db.session() as conn:
        async with conn.execute("SELECT COUNT(*) FROM drafts") as cur:
            return int((await cur.fetchone())[0])


async def replies_to(world: World, text: str, count: int, user: int = RESIDENT) -> list[Any]:
    """Say a text; the bot's next `count` messages in the chat."""
    after = len(world.api.sent_to(user))
    world.api.send_text(user, text)
    return [await world.api.next_sent(user, after=after + n) for n in range(count)]


async def test_a_greeting_gets_a_friendly_answer_and_the_menu_without_a_draft(
    world: World,
) -> None:
    reply = await world.say("你好")
    assert reply.text == texts.CHITCHAT
    labels = [b["text"] for b in reply.buttons]
    assert labels == [texts.BUTTON_HOW_TO_REPORT, texts.BUTTON_MY_REPORTS, texts.BUTTON_DAILY_QUIZ]
    assert await drafts(world) == 0


async def test_a_plain_thank_you_gets_a_youre_welcome_not_a_nomination(world: World) -> None:
    reply = await world.say("谢谢你们")
    assert reply.text == texts.YOU_ARE_WELCOME
    assert texts.BUTTON_HOW_TO_REPORT in str(reply.buttons)


async def test_the_menus_how_to_report_explains_it(world: World) -> None:
    menu = await world.say("你好")
    after = len(world.api.sent_to(RESIDENT))
    await world.press(RESIDENT, menu, texts.BUTTON_HOW_TO_REPORT)
    assert (await world.api.next_sent(RESIDENT, after=after)).text == texts.HELP


async def test_the_menus_my_reports_lists_the_residents_reports(world: World) -> None:
    _, ticket = await world.file(LITTER)
    menu = await world.say("你好")
    after = len(world.api.sent_to(RESIDENT))
    await world.press(RESIDENT, menu, texts.BUTTON_MY_REPORTS)
    assert ticket in (await world.api.next_sent(RESIDENT, after=after)).text


async def test_an_advert_gets_one_notice_and_is_kept(world: World) -> None:
    take_as(world, AD, SPAM, unsure=False)
    reply = await world.say(AD)
    assert reply.text == texts.SPAM_NOTICE and not reply.buttons
    assert await drafts(world) == 0
    async with world.db.session() as conn:
        async with conn.execute("SELECT text, intent FROM resident_messages") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(AD, SPAM)]


async def test_a_second_advert_is_answered_with_silence(world: World) -> None:
    take_as(world, AD, SPAM, unsure=False)
    await world.say(AD)
    # The bot answers in order within a chat: the next answer is the greeting's.
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_text(RESIDENT, AD)
    world.api.send_text(RESIDENT, "你好")
    assert (await world.api.next_sent(RESIDENT, after=after)).text == texts.CHITCHAT


async def advertise_until_throttled(world: World, user: int = RESIDENT) -> list[str]:
    """Send as many adverts as the limit allows; the two answers they get."""
    take_as(world, AD, SPAM, unsure=False)
    after = len(world.api.sent_to(user))
    for _ in range(world.settings.reports.spam_limit):
        world.api.send_text(user, AD)
    return [(await world.api.next_sent(user, after=after + n)).text for n in range(2)]


async def test_an_account_that_keeps_sending_adverts_is_told_once_and_then_throttled(
    world: World,
) -> None:
    answers = await advertise_until_throttled(world)
    assert answers == [texts.SPAM_NOTICE, texts.SPAM_THROTTLED.format(hours="24")]
    # Throttled: small talk goes unanswered, a report is still taken.
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_text(RESIDENT, "你好")
    world.api.send_text(RESIDENT, LITTER)
    card = await world.api.next_sent(RESIDENT, after=after)
    assert card.buttons and "垃圾" in card.text


async def test_the_throttle_lifts_when_the_window_has_passed(world: World) -> None:
    await advertise_until_throttled(world)
    world.clock.advance(world.settings.reports.spam_window_hours * 3600 + 1)
    assert (await world.say("你好")).text == texts.CHITCHAT


async def test_one_accounts_adverts_do_not_throttle_another(world: World) -> None:
    await advertise_until_throttled(world)
    assert (await world.say(AD, NEIGHBOUR)).text == texts.SPAM_NOTICE


async def test_unsure_small_talk_is_answered_and_asked_about(world: World) -> None:
    take_as(world, "在吗在吗", CHITCHAT, unsure=True)
    answer, ask = await replies_to(world, "在吗在吗", 2)
    assert answer.text == texts.CHITCHAT
    assert ask.text == texts.ASK_REPORT and ask.buttons[0]["text"] == texts.BUTTON_REPORT_IT


async def test_reporting_it_after_all_opens_a_draft_with_the_same_text(world: World) -> None:
    text = "路口那个井盖咋回事"
    take_as(world, text, CHITCHAT, unsure=True)
    _, ask = await replies_to(world, text, 2)
    await world.press(RESIDENT, ask, texts.BUTTON_REPORT_IT)
    card = await world.wait_text(ask, texts.BUTTON_CONFIRM)
    assert text in card
    async with world.db.session() as conn:
        async with conn.execute("SELECT text FROM drafts") as cur:
            assert [r[0] for r in await cur.fetchall()] == [text]


async def test_reporting_the_same_text_twice_opens_one_draft(world: World) -> None:
    text = "路口那个井盖咋回事"
    take_as(world, text, CHITCHAT, unsure=True)
    _, ask = await replies_to(world, text, 2)
    data = world.driver.now(ask).button_data(texts.BUTTON_REPORT_IT)
    await world.press_data(RESIDENT, ask, data)
    answer = await world.press_data(RESIDENT, ask, data)
    assert answer["text"] == texts.KEPT_ALREADY_DRAFTED
    assert await drafts(world) == 1


async def test_another_residents_kept_text_cannot_be_reported_by_a_forged_button(
    world: World,
) -> None:
    text = "路口那个井盖咋回事"
    take_as(world, text, CHITCHAT, unsure=True)
    _, ask = await replies_to(world, text, 2)
    mine = await world.say("你好", NEIGHBOUR)
    data = world.driver.now(ask).button_data(texts.BUTTON_REPORT_IT)
    answer = await world.press_data(NEIGHBOUR, mine, data)
    assert answer["text"] == texts.BUTTON_STALE
    assert await drafts(world) == 0


async def test_an_unsure_report_is_asked_about_before_a_draft_opens(world: World) -> None:
    text = "广场舞几点结束啊"
    take_as(world, text, REPORT, unsure=True)
    ask = await world.say(text)
    assert ask.text == texts.ASK_REPORT_FIRST
    assert await drafts(world) == 0
    await world.press(RESIDENT, ask, texts.BUTTON_REPORT_IT)
    assert text in await world.wait_text(ask, texts.BUTTON_CONFIRM)


async def test_an_unsure_advert_is_noticed_asked_about_and_not_held_against_the_account(
    world: World,
) -> None:
    take_as(world, AD, SPAM, unsure=True)
    for _ in range(world.settings.reports.spam_limit):
        notice, ask = await replies_to(world, AD, 2)
        assert (notice.text, ask.text) == (texts.SPAM_NOTICE, texts.ASK_REPORT)
    assert (await world.say("你好")).text == texts.CHITCHAT


async def test_a_question_the_base_cannot_answer_offers_to_report_it(world: World) -> None:
    text = "这个井盖到底什么时候修"
    take_as(world, text, QUESTION, unsure=False)
    answer, ask = await replies_to(world, text, 2)
    assert answer.text == texts.FAQ_UNANSWERED
    assert ask.text == texts.ASK_REPORT


async def test_an_answered_question_gets_the_answer_alone(world: World) -> None:
    text = "创建办几点上班"
    take_as(world, text, QUESTION, unsure=False)
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_text(RESIDENT, text)
    world.api.send_text(RESIDENT, LITTER)
    answer = await world.api.next_sent(RESIDENT, after=after)
    assert "9:00" in answer.text and not answer.buttons
    card = await world.api.next_sent(RESIDENT, after=after + 1)
    assert texts.BUTTON_CONFIRM in str(card.buttons)


async def test_a_sure_answer_is_not_asked_about(world: World) -> None:
    take_as(world, "在吗在吗", CHITCHAT, unsure=False)
    # Followed by a report: the next message after the answer is the report's card.
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_text(RESIDENT, "在吗在吗")
    world.api.send_text(RESIDENT, LITTER)
    assert (await world.api.next_sent(RESIDENT, after=after)).text == texts.CHITCHAT
    assert texts.BUTTON_CONFIRM in str(
        (await world.api.next_sent(RESIDENT, after=after + 1)).buttons
    )


async def test_stats_count_the_texts_that_were_no_report_and_the_throttled_accounts(
    world: World,
) -> None:
    await world.say("你好")
    await advertise_until_throttled(world)
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/stats 7")
    text = (await world.api.next_sent(ADMIN, after=after)).text
    assert "咨询 0　表扬推荐 0　闲聊 1　广告 3　先问是否反映 0（1 个账号因广告被限流）" in text


def test_a_message_button_round_trips_and_forged_ones_parse_to_nothing() -> None:
    data = callbacks.message_button("rep", 42)
    assert callbacks.parse(data) == callbacks.Button("m", "rep", 42)
    assert callbacks.parse(callbacks.message_button("how")) == callbacks.Button("m", "how", 0)
    for forged in ("v1:m:rep:0", "v1:m:how:7", "v1:m:del:3", "v1:m:rep:42:x"):
        assert callbacks.parse(forged) is None, forged
