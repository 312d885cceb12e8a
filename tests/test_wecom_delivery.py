"""The WeCom courier: a working group on WeCom gets its cases as cards, through real HTTP to
the WeCom stand-in, the cards kept up to date with WeCom's one-use response codes."""

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

from dialogue import callbacks
from dialogue.choices import flat
from dialogue.render import Renderer
from handlers.wecom.client import WeComClient
from handlers.wecom.delivery import WeComCourier
from reports.context import group_channels
from reports.delivery import OutboxService
from reports.message_refs import ALERT
from reports.records import MessageRef, Report
from reports.services import ReportServices
from reports.states import Action
from simulator.wecom import Delivered, WeComStandIn
from storage.db import Database, fetch_all
from tests.test_wecom_config import SECRETS
from tests.world import settings_for_tests

T = TypeVar("T")
ZHANG = "zhanggong"  # 城镇建设管理组, on WeCom
LI = "ligong"
WANG = "wangzhuren"  # 办公室, on WeCom: told of refusals
ROBOT = "urban-robot-key-0001"
REPORTER = "oReporter000000000000000001"
STAFF = 2001
LITTER = "小区门口垃圾成堆没人清理"
SPOT = (31.2304, 121.4737)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


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
    """The services and the WeCom courier over one database, and WeCom's stand-in."""

    clock: Clock
    wecom: WeComStandIn
    reports: ReportServices
    courier: WeComCourier
    client: WeComClient
    db: Database

    async def file(
        self, text: str = LITTER, spot: bool = False, photos: tuple[str, ...] = ()
    ) -> Report:
        resident = await self.reports.residents.resolve("wechat", REPORTER)
        draft = await self.reports.drafting.start_draft(resident, text)
        if spot:
            await self.reports.drafting.set_location(resident, draft.id, *SPOT)
        for photo in photos:
            await self.reports.drafting.add_photo(resident, draft.id, photo, "")
        return (await self.reports.filing.confirm(resident, draft.id)).report

    async def act(self, report: Report, action: Action, note: str | None = None) -> None:
        await self.reports.cases.act(report.id, action, STAFF, "张工", note, None)

    async def alert(self, report: Report) -> MessageRef:
        ref = await self.reports.message_refs.latest("wecom", ALERT, report.id)
        assert ref is not None
        return ref

    async def rows(self, kind: str) -> list[dict[str, Any]]:
        """WeCom's outbox rows of one kind, oldest first."""
        async with self.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT status, attempts, step, payload, last_error FROM outbox"
                " WHERE kind = ? AND channel = 'wecom' ORDER BY id",
                (kind,),
            )
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    async def settled(self, kind: str, count: int = 1) -> list[dict[str, Any]]:
        """The rows of a kind once `count` of them are no longer pending."""

        async def done() -> list[dict[str, Any]] | None:
            rows = await self.rows(kind)
            return rows if sum(r["status"] != "pending" for r in rows) >= count else None

        return await eventually(done)

    async def tried(self, kind: str) -> dict[str, Any]:
        """The first row of a kind once it failed an attempt (and waits to try again)."""

        async def failed() -> dict[str, Any] | None:
            rows = await self.rows(kind)
            return rows[0] if rows and rows[0]["attempts"] else None

        return await eventually(failed)

    def later(self, seconds: float) -> None:
        """Move time on and let the courier look again."""
        self.clock.advance(seconds)
        self.courier.wake()


async def eventually(check: Callable[[], Awaitable[T | None]], wait: float = 5.0) -> T:
    """Poll an async condition (a database query) until it is truthy."""
    async with asyncio.timeout(wait):
        while not (value := await check()):  # noqa: ASYNC110 (a database has no event)
            await asyncio.sleep(0.02)
    return value


@asynccontextmanager
async def wecom_post(tmp_path: Path, classifier: Any) -> AsyncIterator[Post]:
    clock = Clock()
    async with WeComStandIn(clock=clock) as wecom:
        for userid, name in ((ZHANG, "张工"), (LI, "李工"), (WANG, "王主任")):
            wecom.add_user(userid, name)
        wecom.add_robot(ROBOT)
        settings = settings_for_tests(
            tmp_path / "civic.db",
            SECRETS,
            wecom={"corp_id": wecom.corp_id, "agent_id": wecom.agent_id},
            groups={
                "urban": {"wecom_users": [ZHANG, LI], "wecom_robot_key": ROBOT},
                "office": {"wecom_users": [WANG]},
            },
        )
        db = await Database(tmp_path / "civic.db").open()
        reports = ReportServices.build(db, settings, classifier, clock)
        outbox = OutboxService(
            db,
            0.05,
            0.2,
            clock=clock,
            notices_group=settings.roles.notices,
            channel="wecom",
            group_channels=lambda key: group_channels(reports.shared, key),
        )
        client = WeComClient(
            wecom.corp_id, wecom.secret, wecom.agent_id, wecom.base_url, clock=clock, backoff=0.0
        )
        courier = WeComCourier(
            client, outbox, reports, Renderer(settings), settings, idle_poll=0.05
        )
        reports.shared.outbox_listener = courier.wake
        courier.start()
        try:
            yield Post(clock, wecom, reports, courier, client, db)
        finally:
            await courier.stop()
            await client.close()
            await db.close()


@pytest.fixture
async def post(tmp_path: Path, classifier: Any) -> AsyncIterator[Post]:
    async with wecom_post(tmp_path, classifier) as p:
        yield p


def labels(card: Delivered) -> list[str]:
    return [text.split()[-1] for text, _ in card.buttons]


async def test_the_alert_card_reaches_each_member_with_the_cases_buttons(post: Post) -> None:
    report = await post.file()
    card = await post.wecom.next_sent(ZHANG, after=0)
    assert [d.task_id for d in post.wecom.sent_to(LI)] == [card.task_id]
    assert card.card is not None and card.card["card_type"] == "button_interaction"
    assert report.ticket in (card.text or "") and "状态：待受理" in (card.text or "")
    assert labels(card) == ["受理", "办结", "转派", "退回", "重复", "询问群众"]
    _, choices = Renderer(post.reports.shared.settings).alert(report, [])
    ask = callbacks.report_button("ask", report.id)  # a member cannot reply to a card to ask
    assert [key for _, key in card.buttons] == [*(c.data for c in flat(choices)), ask]
    [row] = await post.settled("group_alert")
    assert row["status"] == "sent"
    alert = await post.alert(report)
    assert (alert.chat, alert.message_id) == ("card", card.task_id)
    assert alert.token  # the send's response code, to update the card with


async def test_after_an_action_the_card_shows_the_new_state_updated_once(post: Post) -> None:
    report = await post.file()
    card = await post.wecom.next_sent(ZHANG, after=0)
    await post.settled("group_alert")
    await post.act(report, Action.ACCEPT)
    await post.settled("edit_alert")
    for userid in (ZHANG, LI):
        [seen] = post.wecom.sent_to(userid)  # the same card, no new message
        assert [u.via for u in seen.updates] == ["api"]
        assert "状态：已受理" in (seen.text or "") and "受理 张工" in (seen.text or "")
        assert labels(seen) == ["办结", "转派", "退回", "重复", "询问群众"]
    assert len(post.wecom.calls_to("message/update_template_card")) == 1
    assert (await post.alert(report)).token is None  # spent
    assert card.task_id == (await post.alert(report)).message_id


async def test_with_the_code_spent_a_new_card_shows_the_state_and_becomes_the_alert(
    post: Post,
) -> None:
    report = await post.file()
    first = await post.wecom.next_sent(ZHANG, after=0)
    await post.settled("group_alert")
    # Someone else used the card's code (WeCom took it): the update is refused with 60140.
    code = (await post.alert(report)).token
    assert code is not None
    await post.client.update_card(code, atall=True, replace_name="处理中")
    await post.act(report, Action.RESOLVE, "已清理完毕")
    second = await post.wecom.next_sent(ZHANG, after=1)
    assert second.task_id != first.task_id
    assert second.card is not None and second.card["card_type"] == "text_notice"
    assert "状态：已办结" in (second.text or "") and not second.buttons
    [row] = await post.settled("edit_alert")
    assert row["status"] == "sent"
    assert [c.errcode for c in post.wecom.calls_to("message/update_template_card")] == [0, 60140]
    assert (await post.alert(report)).message_id == second.task_id


async def test_photos_kept_as_bytes_are_sent_and_the_location_as_a_map_link(post: Post) -> None:
    kept = await post.reports.media.keep("wechat", "MEDIA-1", "image/png", PNG)
    report = await post.file(spot=True, photos=(kept, "AgACAgTelegramFileId"))
    await post.wecom.next_sent(ZHANG, after=0)
    photo = await post.wecom.next_sent(ZHANG, after=1)
    elsewhere = await post.wecom.next_sent(ZHANG, after=2)
    location = await post.wecom.next_sent(ZHANG, after=3)
    assert photo.msgtype == "image"
    assert post.wecom.media(photo.payload["media_id"]).data == PNG  # type: ignore[union-attr]
    assert "1 张照片来自 Telegram" in (elsewhere.text or "")
    url = Renderer(post.reports.shared.settings).map_url(*SPOT)
    assert report.ticket in (location.text or "") and url in (location.text or "")
    [row] = await post.settled("group_alert")
    assert (row["status"], row["attempts"]) == ("sent", 0)


async def test_the_digest_goes_to_the_groups_robot(post: Post) -> None:
    await post.file()
    await post.settled("group_alert")
    await post.reports.office.queue_digests()
    rows = await post.settled("digest", 2)  # 城镇建设管理组 and 办公室 are on WeCom
    assert [r["status"] for r in rows] == ["sent", "sent"]
    [posted] = post.wecom.robot_sent(ROBOT)
    assert "城镇建设管理组" in posted.content and posted.msgtype == "markdown"
    # 办公室 has no robot: its members get it from the app.
    [digest] = post.wecom.sent_to(WANG)
    assert "办公室" in (digest.text or "")


async def test_over_a_frequency_limit_the_card_is_retried_later(post: Post) -> None:
    post.wecom.fail_next("message/send", 45009)
    await post.file()
    row = await post.tried("group_alert")
    assert row["status"] == "pending" and "45009" in row["last_error"]
    assert post.wecom.sent_to(ZHANG) == []
    post.later(61)
    card = await post.wecom.next_sent(ZHANG, after=0)
    assert card.pressable
    [row] = await post.settled("group_alert")
    assert (row["status"], row["attempts"]) == ("sent", 1)


async def test_an_untrusted_ip_keeps_the_rows_and_is_logged_once(
    post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    post.wecom.block_ip()
    with caplog.at_level(logging.INFO, logger="handlers.wecom.delivery"):
        await post.file()
        await post.tried("group_alert")
        await post.file("路灯坏了好几天了")

        async def both_tried() -> bool:
            rows = await post.rows("group_alert")
            return len(rows) == 2 and all(r["attempts"] for r in rows)

        await eventually(both_tried)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "可信IP" in errors[0].getMessage()
    # 办公室 hears of it once, on its other channel (its Telegram chat).
    async with post.db.session() as conn:
        told = await fetch_all(
            conn, "SELECT channel, payload FROM outbox WHERE kind = 'office_notice'"
        )
    assert [r["channel"] for r in told] == ["telegram"] and "可信IP" in told[0]["payload"]
    assert all(r["status"] == "pending" for r in await post.rows("group_alert"))
    post.wecom.block_ip(False)
    post.later(301)
    rows = await post.settled("group_alert", 2)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert len(post.wecom.sent_to(ZHANG)) == 2


async def test_a_permanent_refusal_tells_the_office(post: Post) -> None:
    post.wecom.fail_next("message/send", 40058)
    report = await post.file()
    [row] = await post.settled("group_alert")
    assert row["status"] == "failed"
    notice = await post.wecom.next_sent(WANG, after=0)
    assert report.ticket in (notice.text or "") and "城镇建设管理组" in (notice.text or "")
    [told] = await post.settled("refusal_notice")
    assert told["status"] == "sent"


async def test_a_handed_over_card_says_where_the_case_went_without_buttons(post: Post) -> None:
    report = await post.file()
    await post.wecom.next_sent(ZHANG, after=0)
    await post.settled("group_alert")
    await post.reports.cases.act(report.id, Action.REASSIGN, STAFF, "张工", "属于秩序组", "order")
    await post.settled("edit_alert")
    [card] = post.wecom.sent_to(ZHANG)
    assert card.card is not None and card.card["card_type"] == "text_notice"
    assert not card.buttons and "已转派至社会秩序组" in (card.text or "")
    # 社会秩序组 is not on WeCom: its alert goes to its Telegram chat only.
    assert len(await post.rows("group_alert")) == 1


async def test_a_code_older_than_72_hours_is_not_tried_a_new_card_goes(post: Post) -> None:
    report = await post.file()
    first = await post.wecom.next_sent(ZHANG, after=0)
    await post.settled("group_alert")
    post.later(73 * 3600)
    await post.act(report, Action.ACCEPT)
    second = await post.wecom.next_sent(ZHANG, after=1)
    assert second.task_id != first.task_id and labels(second)[0] == "办结"
    assert post.wecom.calls_to("message/update_template_card") == []
    await post.settled("edit_alert")
    alert = await post.alert(report)
    assert alert.message_id == second.task_id and alert.token


async def test_a_late_case_is_a_reminder_to_the_groups_members(post: Post) -> None:
    report = await post.file()
    await post.wecom.next_sent(ZHANG, after=0)
    post.later(25 * 3600)  # past the 24 hours to press 受理
    assert await post.reports.cases.check_deadlines() >= 1
    reminder = await post.wecom.next_sent(ZHANG, after=1)
    assert reminder.msgtype == "text" and report.ticket in (reminder.text or "")
    await post.settled("deadline_notice")


async def test_the_weekly_report_is_a_text_to_the_office(post: Post) -> None:
    await post.reports.office.queue_weekly_report()
    report = await post.wecom.next_sent(WANG, after=0)
    assert report.msgtype == "text" and "周报" in (report.text or "")
    [row] = await post.settled("weekly_report")
    assert row["status"] == "sent"
