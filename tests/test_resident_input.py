"""What residents send that is not a plain report: wrong kinds, too much, too often."""

from __future__ import annotations

import json

import pytest

from tests.conftest import started_world
from tests.world import CONFIRM, GROUP_CHATS, RESIDENT, World

UNSUPPORTED = "只能处理文字、照片和位置"


@pytest.mark.parametrize("kind", ["send_sticker", "send_voice", "send_video", "send_document"])
async def test_unsupported_messages_get_a_short_explanation(world: World, kind: str) -> None:
    after = len(world.api.sent_to(RESIDENT))
    getattr(world.api, kind)(RESIDENT)
    reply = await world.api.next_sent(RESIDENT, after=after)
    assert UNSUPPORTED in reply.text


async def test_an_unknown_command_lists_the_commands(world: World) -> None:
    reply = await world.say("/report_now")
    assert "/myreports" in reply.text


async def test_an_oversize_text_is_refused_and_nothing_is_stored(world: World) -> None:
    reply = await world.say("有人乱扔垃圾。" * 200)
    assert "超过 1000 字" in reply.text
    async with world.db.session() as conn:
        async with conn.execute("SELECT COUNT(*) FROM drafts") as cur:
            assert (await cur.fetchone())[0] == 0


async def test_a_photo_then_a_text_make_one_report(world: World) -> None:
    world.api.send_photo(RESIDENT)
    first = await world.api.next_sent(RESIDENT, after=0)
    assert "请选择" in first.text
    card = await world.say("这个井盖缺了一块，晚上容易踩空")
    assert "道路设施" in card.text and "照片：1 张" in card.text
    await world.press(RESIDENT, card, CONFIRM)
    alert = await world.alert("urban")
    assert "井盖缺了一块" in alert.text and "照片 1 张" in alert.text


async def test_an_album_becomes_one_draft_and_every_photo_reaches_the_group(
    world: World,
) -> None:
    album = [world.api.send_photo(RESIDENT, caption="墙上全是小广告", media_group_id="album-1")]
    album += [world.api.send_photo(RESIDENT, media_group_id="album-1") for _ in range(2)]
    card = await world.api.next_sent(RESIDENT, after=0)
    await world.wait_text(card, "照片：3 张")
    async with world.db.session() as conn:
        async with conn.execute("SELECT COUNT(*) FROM drafts") as cur:
            assert (await cur.fetchone())[0] == 1
    assert len(world.api.sent_to(RESIDENT)) == 1
    await world.press(RESIDENT, card, CONFIRM)
    await world.alert("urban")
    sent = [photo["photo"][-1]["file_id"] for photo in album]
    await world.api.wait_for(lambda: set(sent) <= photos_in(world, "urban"))


def photos_in(world: World, group: str) -> set[str]:
    """The file ids of every photo the bot has sent to a group's chat."""
    return {f for m in world.api.sent_to(GROUP_CHATS[group]) for f in m.photo_file_ids}


async def photo_reply(world: World) -> str:
    """Send a photo (no caption) and return the bot's answer."""
    reply = await world.driver.reply(RESIDENT, lambda: world.api.send_photo(RESIDENT))
    return reply.text or ""


async def test_photos_beyond_max_photos_are_refused(tmp_path, classifier) -> None:
    async with started_world(tmp_path, classifier, reports={"max_photos": 2}) as world:
        await world.card("路灯坏了，晚上一片漆黑")
        assert "共 1 张" in await photo_reply(world)
        assert "共 2 张" in await photo_reply(world)
        assert "最多 2 张照片" in await photo_reply(world)
        async with world.db.session() as conn:
            [(photos,)] = await conn.execute_fetchall("SELECT photos FROM drafts")
        assert len(json.loads(photos)) == 2


@pytest.mark.parametrize(("draft_minutes", "joins"), [(10, True), (5, False)])
async def test_a_photo_joins_the_draft_only_within_draft_minutes(
    tmp_path, classifier, draft_minutes: int, joins: bool
) -> None:
    settings = {"reports": {"draft_minutes": draft_minutes}}
    async with started_world(tmp_path, classifier, **settings) as world:
        await world.card("路灯坏了，晚上一片漆黑")
        world.clock.advance(6 * 60)  # six minutes later, a photo
        reply = await photo_reply(world)
        async with world.db.session() as conn:
            [(drafts,)] = await conn.execute_fetchall("SELECT COUNT(*) FROM drafts")
        if joins:
            assert "已添加照片（共 1 张）" in reply and drafts == 1
        else:
            assert "暂无文字" in reply and drafts == 2  # a new report, from the photo alone


async def test_confirming_without_any_description_asks_for_one(world: World) -> None:
    after = len(world.api.sent_to(RESIDENT))
    world.api.send_location(RESIDENT, 31.2, 121.4)
    card = await world.api.next_sent(RESIDENT, after=after)
    await world.press(RESIDENT, card, "乱扔垃圾")
    await world.wait_text(card, "城镇建设管理组")
    answer = await world.press(RESIDENT, card, CONFIRM)
    assert "文字说明或一张照片" in answer["text"]


async def test_the_location_button_offers_to_share_the_location(world: World) -> None:
    card = await world.card("路灯坏了")
    after = len(world.api.sent_to(RESIDENT))
    await world.press(RESIDENT, card, "位置")
    prompt = await world.api.next_sent(RESIDENT, after=after)
    request = next(r for r in world.api.requests if r.result == prompt.raw)
    assert request.params["reply_markup"]["keyboard"][0][0]["request_location"] is True


async def test_beyond_the_hourly_limit_a_polite_refusal_and_nothing_stored(
    tmp_path, classifier
) -> None:
    async with started_world(tmp_path, classifier, reports={"max_per_hour": 2}) as world:
        await world.file("有人闯红灯")
        await world.file("有人在电梯里抽烟")
        reply = await world.say("路边有人乱扔垃圾")
        assert "这一小时内已经反映了 2 条" in reply.text and not reply.buttons
        async with world.db.session() as conn:
            async with conn.execute("SELECT COUNT(*) FROM reports") as cur:
                assert (await cur.fetchone())[0] == 2
            async with conn.execute("SELECT COUNT(*) FROM drafts") as cur:
                assert (await cur.fetchone())[0] == 2


async def test_the_limit_also_holds_for_drafts_opened_before_it_was_reached(
    tmp_path, classifier
) -> None:
    async with started_world(tmp_path, classifier, reports={"max_per_hour": 1}) as world:
        early = await world.card("有人在电梯里抽烟")
        await world.file("有人闯红灯")
        answer = await world.press(RESIDENT, early, CONFIRM)
        assert "这一小时内已经反映了 1 条" in answer["text"]


async def test_a_crash_in_a_handler_gets_a_polite_reply_and_keeps_the_bot_running(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(world.runtime.reports.drafting, "start_draft", broken)
    reply = await world.say("有人在电梯里抽烟")
    assert "出了点问题" in reply.text
    monkeypatch.undo()
    card = await world.card("有人在电梯里抽烟")
    assert "室内吸烟" in card.text


async def test_an_edited_message_does_not_start_a_second_report(world: World) -> None:
    message = world.api.send_text(RESIDENT, "有人闯红灯")
    await world.api.next_sent(RESIDENT, after=0)
    world.api.inject(
        {"edited_message": {**message, "text": "有人闯红灯！！", "edit_date": message["date"] + 5}}
    )
    reply = await world.say("/help")
    assert "使用帮助" in reply.text
    assert len(world.api.sent_to(RESIDENT)) == 2
