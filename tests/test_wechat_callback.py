"""The WeChat callback through real HTTP: verification, the three modes, message types,
the 5-second budget, WeChat's retries and failures."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from handlers.wechat.inbound import Inbound
from tests.wechat_wire import (
    ACCOUNT,
    OPENID,
    TOKEN,
    Resident,
    config,
    encrypted,
    message_xml,
    opened_reply,
    reply_fields,
    serving,
    signature,
    signed_query,
)

# --- URL verification ---


async def test_url_verification_answers_the_echostr() -> None:
    resident = Resident()
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, body = await wx.get({**signed_query(), "echostr": "7623514598"})
    assert (status, body) == (200, "7623514598")


async def test_url_verification_with_a_bad_signature_is_refused() -> None:
    resident = Resident()
    query = {**signed_query(token="nottheone"), "echostr": "7623514598"}
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, body = await wx.get(query)
    assert status == 403
    assert "7623514598" not in body


# --- the three modes ---


async def test_a_safe_mode_push_is_answered_with_an_encrypted_reply() -> None:
    resident = Resident(reply="已收到您的反映")
    query, body = encrypted(message_xml("text", Content="路口有垃圾", MsgId="1001"))
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, answer = await wx.post(body, query)
    assert status == 200
    assert resident.inbounds[0].text == "路口有垃圾"
    reply = opened_reply(answer)
    assert (reply["MsgType"], reply["Content"]) == ("text", "已收到您的反映")
    assert (reply["ToUserName"], reply["FromUserName"]) == (OPENID, ACCOUNT)


async def test_a_compatible_mode_push_believes_the_ciphertext_not_the_plaintext_beside_it() -> None:
    resident = Resident()
    query, sealed = encrypted(message_xml("text", Content="真的内容", MsgId="1002"))
    forged = message_xml("text", Content="改过的内容", MsgId="1002")
    body = forged.replace("</xml>", sealed[sealed.index("<Encrypt>") :])
    async with serving(config(plaintext=True), resident.on_inbound, resident.deliver_late) as wx:
        status, answer = await wx.post(body, query)
    assert status == 200
    assert [i.text for i in resident.inbounds] == ["真的内容"]
    assert opened_reply(answer)["Content"] == "收到"


async def test_a_plaintext_push_is_answered_in_plaintext_when_plaintext_is_on() -> None:
    resident = Resident(reply="好的")
    cfg = config(encoding_aes_key=None, plaintext=True)
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, answer = await wx.post(
            message_xml("text", Content="你好", MsgId="1"), signed_query()
        )
    assert status == 200
    assert reply_fields(answer)["Content"] == "好的"


async def test_a_plaintext_push_is_refused_when_a_key_is_set_and_plaintext_is_off() -> None:
    resident = Resident()
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(message_xml("text", Content="你好", MsgId="1"), signed_query())
    assert status == 403
    assert resident.inbounds == []


async def test_an_encrypted_push_is_refused_without_a_key() -> None:
    resident = Resident()
    query, body = encrypted(message_xml("text", Content="你好", MsgId="1"))
    cfg = config(encoding_aes_key=None, plaintext=True)
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, query)
    assert status == 403
    assert resident.inbounds == []


# --- refusals ---


async def test_a_plaintext_push_with_a_bad_signature_is_refused_unhandled() -> None:
    resident = Resident()
    cfg = config(encoding_aes_key=None, plaintext=True)
    query = {**signed_query(), "signature": signature("other", "1700000000", "42")}
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(message_xml("text", Content="你好", MsgId="1"), query)
    assert status == 403
    assert resident.inbounds == []


async def test_an_encrypted_push_sealed_with_another_token_is_refused_unhandled() -> None:
    resident = Resident()
    query, body = encrypted(message_xml("text", Content="你好", MsgId="1"), token="another")
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, query)
    assert status == 403
    assert resident.inbounds == []


async def test_an_encrypted_push_that_does_not_decrypt_is_refused_unhandled() -> None:
    resident = Resident()
    garbage = "bm90IGEgY2lwaGVydGV4dCBhdCBhbGwsIGp1c3QgdGV4dA=="
    body = f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>"
    query = {
        **signed_query(),
        "encrypt_type": "aes",
        "msg_signature": signature(TOKEN, "1700000000", "42", garbage),
    }
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, query)
    assert status == 403
    assert resident.inbounds == []


async def test_an_encrypted_push_for_another_app_is_refused_unhandled() -> None:
    resident = Resident()
    query, body = encrypted(
        message_xml("text", Content="你好", MsgId="1"), app_id="wxffffffffffffffff"
    )
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, query)
    assert status == 403
    assert resident.inbounds == []


@pytest.mark.parametrize(
    "body",
    [
        "<xml><FromUserName>broken",
        "<message><MsgType>text</MsgType></message>",
        "<xml><Content>no type, no sender</Content></xml>",
        '<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><MsgType>text</MsgType></xml>',
    ],
)
async def test_a_signed_push_that_is_not_a_message_is_a_bad_request(body: str) -> None:
    resident = Resident()
    cfg = config(encoding_aes_key=None, plaintext=True)
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, signed_query())
    assert status == 400
    assert resident.inbounds == []


async def test_a_body_over_the_limit_is_refused() -> None:
    resident = Resident()
    cfg = config(encoding_aes_key=None, plaintext=True, max_body_bytes=4096)
    body = message_xml("text", Content="长" * 2000, MsgId="1")
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, signed_query())
    assert status == 413
    assert resident.inbounds == []


async def test_a_body_that_is_not_xml_is_refused() -> None:
    resident = Resident()
    cfg = config(encoding_aes_key=None, plaintext=True)
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post('{"MsgType": "text"}', signed_query(), "application/json")
    assert status == 415
    assert resident.inbounds == []


# --- every message type ---


async def received(xml: str, reply: str | None = None) -> Inbound:
    """What the handler got for one safe-mode push of `xml`."""
    resident = Resident(reply=reply)
    query, body = encrypted(xml)
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(body, query)
    assert status == 200
    [inbound] = resident.inbounds
    return inbound


async def test_a_text_message_arrives_as_text() -> None:
    inbound = await received(message_xml("text", Content="有人乱扔垃圾", MsgId="2001"))
    assert (inbound.kind, inbound.text, inbound.key, inbound.openid) == (
        "text",
        "有人乱扔垃圾",
        "msg:2001",
        OPENID,
    )
    assert inbound.created_at == datetime.fromtimestamp(1700000000, tz=UTC)
    assert inbound.menu_choice == ""


async def test_an_image_arrives_with_its_media_id_and_url() -> None:
    xml = message_xml("image", PicUrl="http://mmbiz.example/p.jpg", MediaId="media-1", MsgId="3")
    inbound = await received(xml)
    assert (inbound.kind, inbound.media_id, inbound.pic_url) == (
        "image",
        "media-1",
        "http://mmbiz.example/p.jpg",
    )


async def test_a_location_arrives_with_latitude_longitude_and_label() -> None:
    xml = message_xml(
        "location",
        Location_X="30.657420",
        Location_Y="104.065840",
        Scale="15",
        Label="四川省成都市青羊区人民南路",
        MsgId="4",
    )
    inbound = await received(xml)
    assert (inbound.kind, inbound.latitude, inbound.longitude, inbound.label) == (
        "location",
        30.65742,
        104.06584,
        "四川省成都市青羊区人民南路",
    )


async def test_a_recognised_voice_arrives_with_its_words() -> None:
    xml = message_xml("voice", MediaId="v-1", Format="amr", Recognition="路灯坏了。", MsgId="5")
    inbound = await received(xml)
    assert (inbound.kind, inbound.media_id, inbound.text) == ("voice", "v-1", "路灯坏了。")


async def test_an_unrecognised_voice_arrives_without_words() -> None:
    inbound = await received(message_xml("voice", MediaId="v-2", Format="amr", MsgId="6"))
    assert (inbound.kind, inbound.media_id, inbound.text) == ("voice", "v-2", "")


async def test_a_follow_arrives_as_a_subscribe_event() -> None:
    inbound = await received(message_xml("event", Event="subscribe"))
    assert (inbound.kind, inbound.event, inbound.event_key) == ("event", "subscribe", "")
    assert inbound.key == f"event:{OPENID}:1700000000:subscribe"


async def test_a_follow_by_qr_code_is_a_subscribe_with_its_scene() -> None:
    inbound = await received(message_xml("event", Event="subscribe", EventKey="qrscene_street9"))
    assert (inbound.event, inbound.event_key) == ("subscribe", "street9")


async def test_an_unfollow_arrives_as_an_unsubscribe_event() -> None:
    inbound = await received(message_xml("event", Event="unsubscribe"))
    assert (inbound.kind, inbound.event) == ("event", "unsubscribe")


async def test_a_menu_click_arrives_with_its_key() -> None:
    inbound = await received(message_xml("event", Event="CLICK", EventKey="my_reports"))
    assert (inbound.kind, inbound.event, inbound.event_key) == ("event", "click", "my_reports")


async def test_a_tap_on_a_message_menu_arrives_as_text_with_the_choice() -> None:
    xml = message_xml("text", Content="满意", MsgId="7", bizmsgmenuid="101")
    inbound = await received(xml)
    assert (inbound.kind, inbound.text, inbound.menu_choice) == ("text", "满意", "101")


async def test_a_video_arrives_as_other_with_its_type() -> None:
    xml = message_xml("video", MediaId="vid-1", ThumbMediaId="t-1", MsgId="8")
    inbound = await received(xml)
    assert (inbound.kind, inbound.original_type, inbound.media_id) == ("other", "video", "vid-1")


async def test_an_event_without_reply_is_answered_success() -> None:
    resident = Resident(reply=None)
    query, body = encrypted(message_xml("event", Event="unsubscribe"))
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        status, answer = await wx.post(body, query)
    assert (status, answer) == (200, "success")


# --- the budget, retries, failures ---


class SlowResident(Resident):
    """A handler that holds until the test releases it, counting its calls."""

    def __init__(self, reply: str | None = "处理好了") -> None:
        super().__init__(reply=reply)
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.delivered = asyncio.Event()

    async def on_inbound(self, inbound: Inbound) -> str | None:
        self.inbounds.append(inbound)
        self.started.set()
        await self.release.wait()
        return self.reply

    async def deliver_late(self, openid: str, text: str) -> None:
        await super().deliver_late(openid, text)
        self.delivered.set()


async def test_a_slow_handler_is_answered_success_and_its_reply_goes_out_late() -> None:
    resident = SlowResident()
    query, body = encrypted(message_xml("text", Content="慢", MsgId="9"))
    cfg = config(budget_seconds=0.01)
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, answer = await wx.post(body, query)
        assert (status, answer) == (200, "success")
        resident.release.set()
        await asyncio.wait_for(resident.delivered.wait(), 10)
    assert resident.late == [(OPENID, "处理好了")]


async def test_retries_during_a_slow_handling_run_the_handler_once() -> None:
    resident = SlowResident()
    query, body = encrypted(message_xml("text", Content="慢", MsgId="10"))
    cfg = config(budget_seconds=0.01)
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        assert await wx.post(body, query) == (200, "success")
        await asyncio.wait_for(resident.started.wait(), 10)
        assert await wx.post(body, query) == (200, "success")
        assert await wx.post(body, query) == (200, "success")
        resident.release.set()
        await asyncio.wait_for(resident.delivered.wait(), 10)
    assert len(resident.inbounds) == 1
    assert resident.late == [(OPENID, "处理好了")]


class EventOnLog(logging.Handler):
    """Sets an event when a log line containing `words` is written."""

    def __init__(self, words: str, event: asyncio.Event) -> None:
        super().__init__()
        self.words, self.event = words, event

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


async def test_a_retry_waiting_when_the_handling_ends_gets_the_reply_and_nothing_goes_late() -> (
    None
):
    resident = SlowResident()
    query, body = encrypted(message_xml("text", Content="慢", MsgId="11"))
    retried = asyncio.Event()
    logger = logging.getLogger("handlers.wechat.callback")
    hook = EventOnLog("pushed again", retried)
    logger.addHandler(hook)
    logger.setLevel(logging.INFO)
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        first = asyncio.create_task(wx.post(body, query))
        await asyncio.wait_for(resident.started.wait(), 10)
        retry = asyncio.create_task(wx.post(body, query))
        await asyncio.wait_for(
            retried.wait(), 10
        )  # logged as it joins the handling, before any await
        resident.release.set()
        answers = [await first, await retry]
        await wx.callback.close()
    logger.removeHandler(hook)
    logger.setLevel(logging.NOTSET)
    assert len(resident.inbounds) == 1
    assert [opened_reply(text)["Content"] for _, text in answers] == ["处理好了"] * 2
    assert resident.late == []


async def test_a_retry_after_the_reply_was_given_gets_the_same_reply_unhandled() -> None:
    resident = Resident(reply="收到")
    query, body = encrypted(message_xml("text", Content="你好", MsgId="12"))
    async with serving(config(), resident.on_inbound, resident.deliver_late) as wx:
        first = await wx.post(body, query)
        again = await wx.post(body, query)
    assert opened_reply(first[1])["Content"] == opened_reply(again[1])["Content"] == "收到"
    assert len(resident.inbounds) == 1


async def test_a_retry_after_the_reply_went_out_late_is_answered_success() -> None:
    resident = SlowResident()
    query, body = encrypted(message_xml("text", Content="慢", MsgId="13"))
    async with serving(
        config(budget_seconds=0.01), resident.on_inbound, resident.deliver_late
    ) as wx:
        await wx.post(body, query)
        resident.release.set()
        await asyncio.wait_for(resident.delivered.wait(), 10)
        assert await wx.post(body, query) == (200, "success")
    assert len(resident.inbounds) == 1
    assert len(resident.late) == 1


async def test_a_failing_handler_is_answered_success_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(inbound: Inbound) -> str | None:
        raise RuntimeError("database is locked")

    resident = Resident()
    query, body = encrypted(message_xml("text", Content="你好", MsgId="14"))
    with caplog.at_level(logging.ERROR, logger="handlers.wechat.callback"):
        async with serving(config(), failing, resident.deliver_late) as wx:
            assert await wx.post(body, query) == (200, "success")
    assert any("msg:14" in r.getMessage() and r.exc_info for r in caplog.records)
    assert resident.late == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_push_is_forgotten_after_a_few_minutes() -> None:
    resident = Resident()
    clock = Clock()
    query, body = encrypted(message_xml("text", Content="你好", MsgId="15"))
    cfg = config(remember_seconds=300)
    async with serving(cfg, resident.on_inbound, resident.deliver_late, clock=clock) as wx:
        await wx.post(body, query)
        clock.now += 299
        await wx.post(body, query)
        assert len(resident.inbounds) == 1
        clock.now += 2
        await wx.post(body, query)
    assert len(resident.inbounds) == 2


async def test_no_more_pushes_are_remembered_than_the_cap() -> None:
    resident = Resident()
    pushes = [encrypted(message_xml("text", Content="你好", MsgId=str(n))) for n in (21, 22, 23)]
    async with serving(config(remember_max=2), resident.on_inbound, resident.deliver_late) as wx:
        for query, body in pushes:
            await wx.post(body, query)
        assert len(wx.callback._seen) == 2
        await wx.post(pushes[0][1], pushes[0][0])  # the oldest was forgotten: handled again
    assert [i.key for i in resident.inbounds] == ["msg:21", "msg:22", "msg:23", "msg:21"]
