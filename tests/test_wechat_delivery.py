"""The WeChat courier: what the outbox holds for WeChat residents reaches them, through
real HTTP to the WeChat stand-in, with the 48-hour rule and the per-interaction quota."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from dialogue.render import Renderer
from handlers.wechat.client import WeChatClient
from handlers.wechat.delivery import WeChatCourier
from reports.delivery import OutboxService
from reports.errors import DuplicateFound
from reports.records import Report
from reports.services import ReportServices
from reports.states import Action
from simulator.wechat import Delivered, WeChatStandIn
from storage.db import Database, fetch_all
from tests.world import settings_for_tests

T = TypeVar("T")
TEMPLATE = "tpl_case_update_0001"
KEYWORDS = ["character_string1", "phrase2", "time3", "thing4"]
REPORTER = "oReporter000000000000000001"
NEIGHBOUR = "oNeighbour00000000000000002"
STAFF = 2001
HOUR = 3600.0
LITTER = "小区门口垃圾成堆没人清理"
LAMP = "路灯坏了好几天了"
SPOT = (31.2304, 121.4737)


class Clock:
    """One time for the stand-in and the services, standing still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Post:
    """The services and the WeChat courier over one database, and WeChat's stand-in."""

    clock: Clock
    wechat: WeChatStandIn
    reports: ReportServices
    db: Database

    async def resident(self, openid: str, window: bool = True) -> int:
        """A follower of the account (who wrote lately, with `window`); our id."""
        self.wechat.add_follower(openid)
        if window:
            self.wechat.open_window(openid)
        return await self.reports.residents.resolve("wechat", openid)

    async def file(self, resident: int, text: str = LITTER, spot: bool = False) -> Report:
        draft = await self.reports.drafting.start_draft(resident, text)
        if spot:
            await self.reports.drafting.set_location(resident, draft.id, *SPOT)
        return (await self.reports.filing.confirm(resident, draft.id)).report

    async def act(
        self, report: Report, action: Action, note: str | None = None, to: str | None = None
    ) -> None:
        await self.reports.cases.act(report.id, action, STAFF, "张工", note, to)

    async def outbox(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The outbox's rows (of one kind), oldest first, payloads decoded."""
        async with self.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT kind, channel, status, attempts, payload, last_error FROM outbox"
                " WHERE ? IS NULL OR kind = ? ORDER BY id",
                (kind, kind),
            )
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    async def settled(self, kind: str, count: int = 1) -> list[dict[str, Any]]:
        """The rows of a kind once `count` of them are no longer pending."""

        async def done() -> list[dict[str, Any]] | None:
            rows = await self.outbox(kind)
            finished = [r for r in rows if r["status"] != "pending"]
            return rows if len(finished) >= count else None

        return await eventually(done)


async def eventually(check: Callable[[], Awaitable[T | None]], wait: float = 5.0) -> T:
    """Poll an async condition (a database query) until it is truthy."""
    async with asyncio.timeout(wait):
        while not (value := await check()):  # noqa: ASYNC110 (a database has no event)
            await asyncio.sleep(0.02)
    return value


@asynccontextmanager
async def wechat_post(
    tmp_path: Path, classifier: Any, templates: dict[str, str] | None = None
) -> AsyncIterator[Post]:
    clock = Clock()
    known = {TEMPLATE: KEYWORDS}
    async with WeChatStandIn(clock=clock, templates=known) as wechat:
        settings = settings_for_tests(tmp_path / "civic.db")
        db = await Database(tmp_path / "civic.db").open()
        reports = ReportServices.build(db, settings, classifier, clock)
        outbox = OutboxService(
            db, 0.05, 0.2, clock=clock, notices_group=settings.roles.notices, channel="wechat"
        )
        client = WeChatClient(wechat.app_id, wechat.app_secret, wechat.base_url, backoff=0.0)
        courier = WeChatCourier(
            client,
            outbox,
            reports,
            Renderer(settings),
            templates={"case_update": TEMPLATE} if templates is None else templates,
            idle_poll=0.05,
        )
        reports.shared.outbox_listener = courier.wake
        courier.start()
        try:
            yield Post(clock, wechat, reports, db)
        finally:
            await courier.stop()
            await client.close()
            await db.close()


@pytest.fixture
async def post(tmp_path: Path, classifier: Any) -> AsyncIterator[Post]:
    async with wechat_post(tmp_path, classifier) as p:
        yield p


def is_template(message: Delivered) -> bool:
    return message.via == "template" and message.payload["template_id"] == TEMPLATE


def values(message: Delivered) -> dict[str, str]:
    return {key: entry["value"] for key, entry in message.payload["data"].items()}


async def test_the_ticket_and_every_step_come_as_customer_service_messages(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    receipt = await post.wechat.next_sent(REPORTER, after=0)
    await post.act(report, Action.ACCEPT)
    accepted = await post.wechat.next_sent(REPORTER, after=1)
    await post.act(report, Action.REASSIGN, "属于社会秩序组职责", to="order")
    reassigned = await post.wechat.next_sent(REPORTER, after=2)
    assert [m.via for m in (receipt, accepted, reassigned)] == ["custom"] * 3
    assert [m.msgtype for m in (receipt, accepted, reassigned)] == ["text"] * 3
    assert report.ticket in (receipt.text or "") and "已提交" in (receipt.text or "")
    assert "已受理" in (accepted.text or "")
    assert "社会秩序组" in (reassigned.text or "") and "属于社会秩序组职责" in (
        reassigned.text or ""
    )
    rows = await post.settled("notify_resident", 2)
    assert [r["status"] for r in rows] == ["sent", "sent"]


async def test_after_resolution_the_rating_comes_as_a_numbered_menu_it_remembers(
    post: Post,
) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.act(report, Action.RESOLVE, "已清理完毕")
    menu = await post.wechat.next_sent(REPORTER, after=1)
    assert (menu.via, menu.msgtype) == ("custom", "msgmenu")
    assert "已办结" in menu.payload["head_content"] and "已清理完毕" in menu.payload["head_content"]
    assert [item_id for item_id, _ in menu.choices] == ["1", "2", "3"]
    assert menu.choice_id("基本满意") == "2"
    assert "1 满意" in menu.payload["tail_content"] and "3 不满意" in menu.payload["tail_content"]
    await post.settled("notify_resident")
    refs = post.reports.message_refs
    picks = [await refs.menu_choice("wechat", REPORTER, n, within=HOUR) for n in "123"]
    rating = [c.data for c in Renderer(post.reports.shared.settings).rating_buttons(report)[0]]
    assert picks == rating


async def test_a_step_too_long_for_a_menu_goes_as_a_text_and_the_menu_after_it(
    post: Post,
) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    note = "已清理完毕，" + "并安排保洁员每天巡查两次" * 24  # near the 300 allowed
    await post.act(report, Action.RESOLVE, note)
    step = await post.wechat.next_sent(REPORTER, after=1)
    menu = await post.wechat.next_sent(REPORTER, after=2)
    assert (step.msgtype, menu.msgtype) == ("text", "msgmenu")
    assert note in (step.text or "")
    assert report.ticket in menu.payload["head_content"] and len(menu.choices) == 3
    [row] = await post.settled("notify_resident")
    assert (row["status"], row["attempts"]) == ("sent", 0)


async def test_a_follower_hears_the_step_without_the_rating_menu(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    neighbour = await post.resident(NEIGHBOUR)
    report = await post.file(reporter, spot=True)
    draft = await post.reports.drafting.start_draft(neighbour, LITTER)
    await post.reports.drafting.set_location(neighbour, draft.id, *SPOT)
    with pytest.raises(DuplicateFound):
        await post.reports.filing.confirm(neighbour, draft.id)
    await post.reports.filing.follow(neighbour, draft.id, report.id)
    await post.act(report, Action.RESOLVE, "已清理完毕")
    heard = await post.wechat.next_sent(NEIGHBOUR, after=0)
    assert (heard.via, heard.msgtype) == ("custom", "text")
    assert report.ticket in (heard.text or "") and "已办结" in (heard.text or "")
    await post.settled("notify_resident", 2)
    assert await post.reports.message_refs.menu_choice("wechat", NEIGHBOUR, "1", HOUR) is None


async def test_beyond_48_hours_a_step_goes_as_the_case_update_template(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.wechat.next_sent(REPORTER, after=0)
    post.clock.advance(49 * HOUR)
    await post.act(report, Action.ACCEPT)
    update = await post.wechat.next_sent(REPORTER, after=1)
    assert is_template(update)
    data = values(update)
    assert data["character_string1"] == report.ticket
    assert data["phrase2"] == "已受理"
    assert data["thing4"] == "城镇建设管理组正在处理"
    assert data["time3"].startswith("2026-")
    [row] = await post.settled("notify_resident")
    assert row["status"] == "sent"


async def test_over_the_quota_of_an_interaction_the_rest_go_as_templates(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    first, second, _ = [await post.file(reporter, text) for text in (LITTER, LAMP, LITTER)]
    for report in (first, second):
        await post.act(report, Action.ACCEPT)
    await post.act(first, Action.REJECT, "不属于我们管辖范围")
    await post.act(second, Action.RESOLVE, "路灯已修好，恢复照明")
    received = await post.wechat.wait_for(
        lambda: post.wechat.sent_to(REPORTER) if len(post.wechat.sent_to(REPORTER)) >= 7 else None
    )
    # WeChat allows 5 customer-service messages after a resident's message.
    assert [m.via for m in received] == ["custom"] * 5 + ["template"] * 2
    rejected, resolved = values(received[5]), values(received[6])
    assert (rejected["phrase2"], rejected["thing4"]) == ("已退回", "不属于我们管辖范围")
    assert resolved["phrase2"] == "已办结" and resolved["thing4"] == "回复1满意 2基本满意 3不满意"
    # The rating offered by number in the template: a typed number picks it.
    await post.settled("notify_resident", 4)
    picked = await post.reports.message_refs.menu_choice("wechat", REPORTER, "1", HOUR)
    assert picked is not None and str(second.id) in picked


async def test_without_a_template_an_update_outside_the_window_fails_once_logged(
    tmp_path: Path, classifier: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with wechat_post(tmp_path, classifier, templates={}) as post:
        reporter = await post.resident(REPORTER)
        report = await post.file(reporter)
        await post.wechat.next_sent(REPORTER, after=0)
        post.clock.advance(49 * HOUR)
        with caplog.at_level(logging.INFO, "handlers.wechat.delivery"):
            await post.act(report, Action.ACCEPT)
            await post.act(report, Action.RESOLVE, "已清理完毕")
            rows = await post.settled("notify_resident", 2)
    assert [(r["status"], r["attempts"]) for r in rows] == [("failed", 0), ("failed", 0)]
    told = [r for r in caplog.records if "[wechat.templates] case_update" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.ERROR
    assert len(post.wechat.sent_to(REPORTER)) == 1


async def test_a_template_the_account_lacks_fails_the_update_and_names_the_setting(
    tmp_path: Path, classifier: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with wechat_post(tmp_path, classifier, templates={"case_update": "tpl_gone"}) as post:
        reporter = await post.resident(REPORTER)
        report = await post.file(reporter)
        await post.wechat.next_sent(REPORTER, after=0)
        post.clock.advance(49 * HOUR)
        with caplog.at_level(logging.ERROR, "handlers.wechat.delivery"):
            await post.act(report, Action.ACCEPT)
            [row] = await post.settled("notify_resident")
    assert row["status"] == "failed" and "40037" in row["last_error"]
    assert any("[wechat.templates] case_update" in r.getMessage() for r in caplog.records)


async def test_a_busy_wechat_is_tried_again_later_and_the_message_delivered(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.wechat.next_sent(REPORTER, after=0)
    # The client retries a busy WeChat twice itself; the third refusal reaches the courier.
    post.wechat.fail_next("message/custom/send", -1, times=3)
    await post.act(report, Action.ACCEPT)

    async def deferred() -> dict[str, Any] | None:
        [row] = await post.outbox("notify_resident")
        return row if row["attempts"] == 1 else None

    row = await eventually(deferred)
    assert row["status"] == "pending" and "-1" in row["last_error"]
    post.clock.advance(5)  # WeChat's -1 says: again in a few seconds
    accepted = await post.wechat.next_sent(REPORTER, after=1)
    assert accepted.via == "custom" and "已受理" in (accepted.text or "")
    [row] = await post.settled("notify_resident")
    assert row["status"] == "sent"


async def test_a_resident_who_unfollowed_is_given_up(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.wechat.next_sent(REPORTER, after=0)
    post.wechat.remove_follower(REPORTER)
    await post.act(report, Action.ACCEPT)
    [row] = await post.settled("notify_resident")
    assert row["status"] == "failed" and "43004" in row["last_error"]
    assert len(post.wechat.sent_to(REPORTER)) == 1


async def test_a_relayed_question_waits_for_the_residents_next_text(post: Post) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.reports.relays.ask_resident(report, "具体是几号楼门口？", STAFF, "张工")
    asked = await post.wechat.next_sent(REPORTER, after=1)
    assert asked.via == "custom" and "具体是几号楼门口？" in (asked.text or "")
    assert (asked.text or "").splitlines()[-1].startswith("（请直接回复")
    await post.settled("relay_question")
    awaited = await post.reports.message_refs.awaited("wechat", REPORTER, within=HOUR)
    assert awaited is not None and (awaited.subject, awaited.subject_id) == ("relay", report.id)


async def test_a_question_outside_the_window_goes_as_a_template_and_still_waits(
    post: Post,
) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.wechat.next_sent(REPORTER, after=0)
    post.clock.advance(49 * HOUR)
    await post.reports.relays.ask_resident(report, "具体是几号楼门口？", STAFF, "张工")
    asked = await post.wechat.next_sent(REPORTER, after=1)
    assert is_template(asked)
    assert values(asked)["thing4"] == "工作组有问题问您，请进入公众号回复"
    await post.settled("relay_question")
    awaited = await post.reports.message_refs.awaited("wechat", REPORTER, within=HOUR)
    assert awaited is not None and awaited.subject_id == report.id


async def test_a_question_that_cannot_reach_the_resident_is_told_to_the_group(
    post: Post,
) -> None:
    reporter = await post.resident(REPORTER)
    report = await post.file(reporter)
    await post.wechat.next_sent(REPORTER, after=0)
    post.wechat.remove_follower(REPORTER)
    await post.reports.relays.ask_resident(report, "具体是几号楼门口？", STAFF, "张工")
    [question] = await post.settled("relay_question")
    assert question["status"] == "failed"
    [told] = await post.outbox("relay_answer")
    assert told["channel"] == "telegram" and told["status"] == "pending"
    assert told["payload"] == {
        "text": "具体是几号楼门口？",
        "group": "urban",
        "undelivered": True,
    }


async def test_a_resident_not_on_wechat_is_given_up_with_a_clear_error(post: Post) -> None:
    telegram_resident = await post.reports.residents.resolve("telegram", 1001)
    await post.file(telegram_resident)
    courier_outbox = OutboxService(
        post.db, 0.05, 0.2, clock=post.clock, notices_group="office", channel="telegram"
    )
    [item] = [i for i in await courier_outbox.due(10, set()) if i.kind == "ticket_receipt"]
    courier = WeChatCourier(
        WeChatClient(post.wechat.app_id, post.wechat.app_secret, post.wechat.base_url),
        courier_outbox,
        post.reports,
        Renderer(post.reports.shared.settings),
        templates={"case_update": TEMPLATE},
    )
    await courier.deliver(item)
    await courier.client.close()
    [row] = await post.outbox("ticket_receipt")
    assert row["status"] == "failed" and "not on WeChat" in row["last_error"]
