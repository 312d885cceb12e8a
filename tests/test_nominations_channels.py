"""身边好人 on the other channels: a nomination's card to 宣传教育组 on WeCom and its press;
a resident on WeChat recommends a good deed and hears that it was selected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialogue import texts
from simulator.server import solid_png
from simulator.wecom import Delivered, WeComStandIn
from tests.conftest import started_world
from tests.test_nominations import (
    GOOD_DEED,
    PUBLICITY,
    PUBLICITY_STAFF,
    nominations,
    submitted,
)
from tests.wechat_world import OPENID, WeChatWorld, wechat_world
from tests.wecom_setup import on_wecom
from tests.world import World

PRAISER = "liuxuan"  # of 宣传教育组's department on WeCom
OUTSIDER = "lisi"  # in the department when the card went out, moved out since
PUBLICITY_DEPARTMENT = 7


@pytest.fixture
async def wecom(tmp_path: Path, classifier: object) -> AsyncIterator[tuple[World, WeComStandIn]]:
    """宣传教育组 on WeCom (its department named in config), beside its Telegram chat."""
    async with WeComStandIn() as wc:
        wc.add_user(PRAISER, "刘宣传", [PUBLICITY_DEPARTMENT])
        wc.add_user(OUTSIDER, "李四", [PUBLICITY_DEPARTMENT])
        environ, overrides = on_wecom(wc, "publicity", PUBLICITY_DEPARTMENT)
        async with started_world(tmp_path, classifier, environ, **overrides) as tg:
            assert tg.runtime.wecom is not None
            wc.callback_url = tg.runtime.wecom.callback_url
            yield tg, wc


async def nomination_card_on_wecom(tg: World, wc: WeComStandIn, userid: str) -> Delivered:
    await submitted(tg)
    return await wc.wait_for(
        lambda: next(
            (m for m in wc.sent_to(userid) if m.task_id and "群众推荐好人好事" in (m.text or "")),
            None,
        )
    )


async def test_a_wecom_group_gets_the_nomination_card_and_selects_it(
    wecom: tuple[World, WeComStandIn],
) -> None:
    tg, wc = wecom
    card = await nomination_card_on_wecom(tg, wc, PRAISER)
    assert "让座" in (card.text or "") and "公开姓名：未说明" in (card.text or "")
    await wc.member(PRAISER).press(card, "选入好人好事")
    assert await tg.eventually(lambda: _statuses(tg, ["selected"])), (
        "the press selected the nomination"
    )
    shown = await wc.wait_for(
        lambda: "已选入好人好事 — 选定人" in (wc.card(PRAISER, card.task_id).text or "")
    )
    assert shown and "刘宣传" in (wc.card(PRAISER, card.task_id).text or "")


async def test_someone_outside_the_praise_group_cannot_press_on_wecom(
    wecom: tuple[World, WeComStandIn],
) -> None:
    tg, wc = wecom
    card = await nomination_card_on_wecom(tg, wc, OUTSIDER)
    wc.add_user(OUTSIDER, "李四", [1])  # moved to another department
    await wc.member(OUTSIDER).press(card, "选入好人好事")
    told = await wc.wait_for(
        lambda: next(
            (m for m in wc.sent_to(OUTSIDER) if texts.NOMINATION_NO_PERMISSION in (m.text or "")),
            None,
        )
    )
    assert told and await _statuses(tg, ["submitted"])


async def _statuses(tg: World, expected: list[str]) -> bool:
    return [n[0] for n in await nominations(tg)] == expected


@pytest.fixture
async def wechat(tmp_path: Path, classifier: object) -> AsyncIterator[WeChatWorld]:
    async with wechat_world(tmp_path, classifier) as w:
        w.tg.api.add_user(PUBLICITY_STAFF, "刘宣传")
        w.tg.api.set_member_status(PUBLICITY, PUBLICITY_STAFF, "member")
        yield w


async def test_a_wechat_resident_nominates_and_hears_it_was_selected(
    wechat: WeChatWorld,
) -> None:
    wx, tg = wechat.wx, wechat.tg
    resident = wechat.resident()
    await resident.say(GOOD_DEED)
    card = await wechat.next_to(after=0)
    assert card.msgtype == "msgmenu" and "感谢您推荐身边好人好事" in (card.text or "")
    before = len(wx.sent_to(OPENID))
    await resident.photo(solid_png())
    with_photo = await wechat.next_to(after=before)
    assert "照片：1 张" in (with_photo.text or "")
    before = len(wx.sent_to(OPENID))
    alerts = len(tg.api.sent_to(PUBLICITY))
    await resident.choose(with_photo, texts.BUTTON_NOMINATION_SUBMIT)
    receipt = await wechat.next_to(after=before)
    assert "已转给宣传教育组" in (receipt.text or "")
    alert = await tg.api.next_sent(PUBLICITY, after=alerts)
    assert "让座" in (alert.text or "")
    before = len(wx.sent_to(OPENID))
    await tg.press(PUBLICITY_STAFF, alert, "选入好人好事")
    told = await wechat.next_to(after=before)
    assert "已入选本周好人好事榜" in (told.text or "")
