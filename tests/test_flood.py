"""One chat's flood starves nobody; replies are paced and retried; albums refused once."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut

from dialogue import texts
from handlers.telegram.pacer import Pacer, own_retries
from reports.throttle import Decision, Throttle, Verdict
from storage.db import fetch_all
from tests.conftest import started_world
from tests.world import GROUP_CHATS, NEIGHBOUR, RESIDENT, World

LITTER = "小区门口有人乱扔垃圾，垃圾堆了好几天"
TELEGRAMS_PACE = {"telegram": {"send_rate": 25, "chat_rate": 1, "group_per_minute": 20}}


def sent_texts(world: World, chat_id: int) -> list[str]:
    return [m.text or m.caption or "" for m in world.api.sent_to(chat_id)]


async def test_a_resident_is_answered_while_anothers_flood_still_waits(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier) as world:
        for n in range(200):
            world.api.send_text(RESIDENT, f"{LITTER} {n}")
        world.api.send_text(NEIGHBOUR, LITTER)
        answer = await world.api.next_sent(NEIGHBOUR, after=0, timeout=30)
        before = world.api.sent[: world.api.sent.index(answer)]
        flooders_before = [m for m in before if m.chat_id == RESIDENT]
        # Most of the flood (200 updates) is still queued behind its own chat, not in front.
        assert len(flooders_before) < 10
        last = await world.api.wait_for(
            lambda: next((m for m in world.api.sent_to(RESIDENT) if "太快" in m.text), None),
            timeout=30,
        )
        assert world.api.sent.index(answer) < world.api.sent.index(last)


async def test_a_flooding_resident_is_told_once_and_the_rest_is_not_processed(
    tmp_path: Path, classifier: object
) -> None:
    flood = {"reports": {"flood_messages": 3, "flood_seconds": 60}}
    async with started_world(tmp_path, classifier, **flood) as world:
        now = time.time()
        world.api.clock = lambda: now
        for n in range(8):
            world.api.send_text(RESIDENT, f"{LITTER} {n}")
        world.api.clock = lambda: now + 61  # the window has passed for what comes next
        world.api.send_text(RESIDENT, "/help")
        await world.api.wait_for(lambda: texts.HELP in sent_texts(world, RESIDENT), timeout=10)
        replies = world.api.sent_to(RESIDENT)
        assert [bool(m.buttons) for m in replies[:3]] == [True] * 3
        assert [m.text for m in replies[3:]] == [texts.TOO_FAST.format(seconds=60), texts.HELP]
        async with world.db.session() as conn:
            assert len(await fetch_all(conn, "SELECT id FROM drafts")) == 3


async def test_a_throttled_resident_can_still_press_buttons(
    tmp_path: Path, classifier: object
) -> None:
    flood = {"reports": {"flood_messages": 1, "flood_seconds": 60}}
    async with started_world(tmp_path, classifier, **flood) as world:
        card = await world.card(LITTER)
        told = await world.say(f"{LITTER} 又一次")
        assert "太快" in told.text
        answer = await world.press(RESIDENT, card, "取消")
        assert answer is not None
        await world.wait_text(card, texts.DRAFT_CANCELLED)


async def test_a_direct_reply_met_with_429_is_sent_after_retry_after(world: World) -> None:
    world.api.fail_chat(RESIDENT, "flood", times=1, retry_after=1)
    card = await world.card(LITTER)
    assert "确认" in str(card.buttons)


async def test_replies_in_one_chat_are_paced_below_its_limit(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, **TELEGRAMS_PACE) as world:
        world.api.rate_limit(30, per_chat=1)
        world.api.send_text(RESIDENT, "/start")
        await world.api.next_sent(RESIDENT, after=1)  # the welcome, then the quiz offer
        assert world.api.flood_count == 0


async def test_the_courier_reschedules_its_own_429_and_counts_the_attempt(world: World) -> None:
    world.api.fail_chat(GROUP_CHATS["urban"], "flood", times=1, retry_after=1)
    await world.file(LITTER)
    await world.alert("urban")

    async def alert_rows() -> list[tuple[object, ...]]:
        async with world.db.session() as conn:
            rows = await fetch_all(
                conn, "SELECT status, attempts FROM outbox WHERE kind = 'group_alert'"
            )
        return [tuple(r) for r in rows]

    async def marked_sent() -> bool:
        return all(status == "sent" for status, _ in await alert_rows())

    # The courier marks the row sent just after Telegram took the alert.
    await world.eventually(marked_sent)
    assert await alert_rows() == [("sent", 1)]


async def test_an_album_over_the_photo_limit_is_refused_once(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, reports={"max_photos": 3}) as world:
        world.api.send_photo(RESIDENT, caption="墙上全是小广告", media_group_id="album-1")
        for _ in range(5):
            world.api.send_photo(RESIDENT, media_group_id="album-1")
        world.api.send_text(RESIDENT, "/help")  # queued behind the album in the same chat
        await world.api.wait_for(lambda: texts.HELP in sent_texts(world, RESIDENT), timeout=10)
        refusals = [t for t in sent_texts(world, RESIDENT) if "最多 3 张" in t]
        assert len(refusals) == 1
        card = world.api.sent_to(RESIDENT)[0]
        await world.wait_text(card, "照片：3 张")


def test_the_throttle_admits_the_limit_warns_once_then_drops_until_the_window_passes() -> None:
    throttle = Throttle(limit=2, seconds=60)
    verdicts = [throttle.check(RESIDENT, at).verdict for at in (0, 1, 2, 3, 59)]
    assert verdicts == [Verdict.ADMIT, Verdict.ADMIT, Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert throttle.check(RESIDENT, 60).verdict is Verdict.ADMIT  # the first left the window
    # A new flood is told again, with the time until the message at 1 s leaves the window.
    assert throttle.check(RESIDENT, 60) == Decision(Verdict.WARN, wait=1)
    assert throttle.check(NEIGHBOUR, 60).verdict is Verdict.ADMIT


def test_an_album_counts_once_against_the_throttle() -> None:
    throttle = Throttle(limit=2, seconds=60)
    photos = [throttle.check(RESIDENT, 0, album="a").verdict for _ in range(10)]
    assert photos == [Verdict.ADMIT] * 10
    assert throttle.check(RESIDENT, 1).verdict is Verdict.ADMIT
    assert throttle.check(RESIDENT, 2, album="b").verdict is Verdict.WARN


class FakeApi:
    """A callback for the pacer: answers 429 `floods` times, then succeeds; logs each call."""

    def __init__(self, floods: int = 0) -> None:
        self.floods = floods
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        if self.calls <= self.floods:
            raise RetryAfter(timedelta(seconds=0.01))
        return True


async def send(pacer: Pacer, api: FakeApi, chat_id: int) -> object:
    data = {"chat_id": chat_id}
    return await pacer.process_request(api, (), {}, "sendMessage", data, None)


async def test_the_pacer_retries_a_direct_reply_but_not_a_workers_send() -> None:
    pacer = Pacer(chat_rate=1000, retries=3)
    api = FakeApi(floods=2)
    assert await send(pacer, api, RESIDENT) is True and api.calls == 3
    worker = FakeApi(floods=1)
    with own_retries(), pytest.raises(RetryAfter):
        await send(pacer, worker, RESIDENT)
    assert worker.calls == 1


async def test_a_worker_is_told_to_come_back_rather_than_wait_for_a_full_group() -> None:
    pacer = Pacer(group_per_minute=1)
    api = FakeApi()
    group = GROUP_CHATS["urban"]
    with own_retries():
        await send(pacer, api, group)
        with pytest.raises(RetryAfter) as told:
            await send(pacer, api, group)
    assert api.calls == 1 and told.value.retry_after == timedelta(seconds=60)


async def test_sends_telegram_never_took_use_no_place_in_a_groups_minute() -> None:
    pacer = Pacer(group_per_minute=1)
    group = GROUP_CHATS["urban"]

    async def bad_gateway() -> bool:
        raise NetworkError("Bad Gateway")

    with own_retries():
        for _ in range(3):  # an outage: every attempt fails with a 5xx
            with pytest.raises(NetworkError):
                await pacer.process_request(
                    bad_gateway, (), {}, "sendMessage", {"chat_id": group}, None
                )
        api = FakeApi()
        await send(pacer, api, group)  # the first send after it goes at once
    assert api.calls == 1


async def test_a_send_that_timed_out_counts_as_posted() -> None:
    pacer = Pacer(group_per_minute=1)
    group = GROUP_CHATS["urban"]

    async def slow() -> bool:
        raise TimedOut()

    with own_retries():
        with pytest.raises(TimedOut):
            await pacer.process_request(slow, (), {}, "sendMessage", {"chat_id": group}, None)
        with pytest.raises(RetryAfter):
            await send(pacer, FakeApi(), group)


async def test_with_three_processes_each_keeps_to_a_third_of_a_groups_minute() -> None:
    pacer = Pacer(group_per_minute=20)
    pacer.share(3)  # Telegram counts the bot's messages, whichever process sends them
    api = FakeApi()
    group = GROUP_CHATS["urban"]
    with own_retries():
        for _ in range(6):
            await send(pacer, api, group)
        with pytest.raises(RetryAfter):
            await send(pacer, api, group)  # the seventh would take another's share
    assert api.calls == 6


def test_with_three_processes_each_sends_a_third_of_the_overall_rate() -> None:
    pacer = Pacer(send_rate=30)
    pacer.share(3)
    assert (pacer._overall.limit, pacer._overall.period) == (10, 1.0)
    pacer.share(1)  # the others stopped: the whole rate again
    assert (pacer._overall.limit, pacer._overall.period) == (30, 1.0)
