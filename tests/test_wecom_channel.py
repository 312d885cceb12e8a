"""Working groups on WeCom: a member's press on an alert card acts on the case through the
one group dialogue, with WeCom's signed, encrypted callbacks; a note, a group for 转派
and a question for the resident are the member's next text in the app chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialogue import texts
from handlers.wecom.app import WeComChannel
from reports.records import Report
from reports.states import Action
from simulator.wecom import Delivered, WeComStandIn
from tests.conftest import started_world
from tests.wecom_setup import on_wecom
from tests.world import World

MEMBER = "zhanggong"  # of 城镇建设管理组's department on WeCom
OUTSIDER = "lisi"  # in the department when the card went out, moved out since
URBAN_DEPARTMENT = 5
LITTER = "小区门口垃圾成堆没人清理"


@dataclass
class WeComWorld:
    tg: World
    wc: WeComStandIn
    channel: WeComChannel


@pytest.fixture
async def world(tmp_path: Path, classifier: object) -> AsyncIterator[WeComWorld]:
    async with WeComStandIn() as wc:
        wc.add_user(MEMBER, "张工", [URBAN_DEPARTMENT])
        wc.add_user(OUTSIDER, "李四", [URBAN_DEPARTMENT])
        environ, overrides = on_wecom(wc, "urban", URBAN_DEPARTMENT)
        async with started_world(tmp_path, classifier, environ, **overrides) as tg:
            channel = tg.runtime.wecom
            assert channel is not None
            wc.callback_url = channel.callback_url
            yield WeComWorld(tg, wc, channel)


async def case_with_card(world: WeComWorld, userid: str = MEMBER) -> tuple[Report, Delivered]:
    """A case filed on Telegram, and its alert card as the courier sent it to `userid`."""
    _, ticket = await world.tg.file(LITTER)
    reports = world.tg.runtime.reports
    report = await reports.cases.resident_report(await world.tg.resident_id(), ticket)
    assert report is not None
    card = await world.wc.wait_for(
        lambda: next(
            (m for m in world.wc.sent_to(userid) if m.task_id and ticket in (m.text or "")), None
        )
    )
    return report, card


async def status_of(world: WeComWorld, report: Report) -> str:
    return (await world.tg.runtime.reports.cases.get_report(report.id)).status


async def test_accept_on_the_card_accepts_the_case(world: WeComWorld) -> None:
    report, card = await case_with_card(world)
    await world.wc.member(MEMBER).press(card, "受理")
    assert await world.tg.eventually(lambda: _is(world, report, "accepted"))
    [*_, accepted] = await world.tg.runtime.reports.cases.history(report.id)
    assert accepted.actor_name == "张工"


async def test_resolve_asks_for_a_note_and_the_next_text_is_it(world: WeComWorld) -> None:
    report, card = await case_with_card(world)
    member = world.wc.member(MEMBER)
    await member.press(card, "受理")
    await world.tg.eventually(lambda: _is(world, report, "accepted"))
    await member.press(card, "办结")
    asked = await world.wc.wait_for(
        lambda: next((m for m in world.wc.sent_to(MEMBER) if "办结说明" in (m.text or "")), None)
    )
    assert report.ticket in (asked.text or "")
    reply = await member.say("已清理完毕，恢复整洁")
    assert reply is not None and report.ticket in str(reply.get("Content", ""))
    resolved = await world.tg.runtime.reports.cases.get_report(report.id)
    assert (resolved.status, resolved.note) == ("resolved", "已清理完毕，恢复整洁")


async def test_someone_outside_the_group_is_told_and_nothing_changes(world: WeComWorld) -> None:
    report, card = await case_with_card(world, OUTSIDER)
    world.wc.add_user(OUTSIDER, "李四", [1])  # moved to another department
    await world.wc.member(OUTSIDER).press(card, "受理")
    told = await world.wc.wait_for(
        lambda: next(
            (m for m in world.wc.sent_to(OUTSIDER) if texts.WECOM_NO_PERMISSION in (m.text or "")),
            None,
        )
    )
    assert told and await status_of(world, report) == "submitted"


async def test_a_card_of_an_earlier_assignment_is_stale(world: WeComWorld) -> None:
    report, card = await case_with_card(world)
    reports = world.tg.runtime.reports
    staff = await reports.staff.resolve("wecom", MEMBER, "张工")
    await reports.cases.act(
        report.id, Action.REASSIGN, staff, "张工", note="不归我们", to_group="order"
    )
    await world.wc.member(MEMBER).press(card, "受理")
    stale = await world.wc.wait_for(
        lambda: next(
            (m for m in world.wc.sent_to(MEMBER) if texts.BUTTON_STALE in (m.text or "")), None
        )
    )
    assert stale and await status_of(world, report) != "accepted"


async def test_asking_the_resident_relays_the_members_next_text(world: WeComWorld) -> None:
    report, card = await case_with_card(world)
    member = world.wc.member(MEMBER)
    await member.press(card, texts.BUTTON_ASK)
    await world.wc.wait_for(
        lambda: next((m for m in world.wc.sent_to(MEMBER) if "想问群众" in (m.text or "")), None)
    )
    await member.say("具体在几号楼门口？")
    question = await world.tg.api.wait_for(
        lambda: next((m for m in world.tg.api.sent_to(1001) if "几号楼" in (m.text or "")), None)
    )
    assert report.ticket in question.text
    await world.tg.say("3号楼东门", reply_to_message_id=question.message_id)
    answer = await world.wc.wait_for(
        lambda: next((m for m in world.wc.sent_to(MEMBER) if "3号楼东门" in (m.text or "")), None)
    )
    assert report.ticket in (answer.text or "")


async def test_handing_over_offers_the_groups_by_number(world: WeComWorld) -> None:
    report, card = await case_with_card(world)
    member = world.wc.member(MEMBER)
    await member.press(card, "转派")
    offer = await world.wc.wait_for(
        lambda: next(
            (m for m in world.wc.sent_to(MEMBER) if texts.WECOM_CHOOSE in (m.text or "")), None
        )
    )
    lines = (offer.text or "").splitlines()
    number = next(line.split()[0] for line in lines if "社会秩序组" in line)
    await member.say(number)
    await world.wc.wait_for(
        lambda: next(
            (
                m
                for m in world.wc.sent_to(MEMBER)
                if "转派" in (m.text or "") and "理由" in (m.text or "")
            ),
            None,
        )
    )
    await member.say("属于交通秩序问题")
    moved = await world.tg.runtime.reports.cases.get_report(report.id)
    assert moved.group_key == "order"


async def _is(world: WeComWorld, report: Report, status: str) -> bool:
    return await status_of(world, report) == status
