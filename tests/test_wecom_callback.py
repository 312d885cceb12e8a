"""The WeCom app's callback through real HTTP: the encrypted URL check, card presses and texts,
refusals, the 5-second budget, WeCom's retries and failures."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from handlers.wecom.callback import ButtonUpdate
from handlers.wecom.inbound import WeComInbound
from tests.wecom_wire import (
    AGENT_ID,
    CORP_ID,
    TOKEN,
    USERID,
    Member,
    card_press_xml,
    config,
    encrypted,
    opened_reply,
    push_xml,
    serving,
    signature,
    text_xml,
    url_check,
)

# --- URL verification: WeCom's echostr is encrypted


async def test_url_verification_answers_the_decrypted_echostr() -> None:
    member = Member()
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, body = await wc.get(url_check("1616140317555161061"))
    assert (status, body) == (200, "1616140317555161061")


@pytest.mark.parametrize(
    "query",
    [
        url_check("1616140317555161061", token="nottheone"),
        url_check("1616140317555161061", corp_id="ww9999999999999999"),
    ],
    ids=["signed with another token", "sealed for another corp"],
)
async def test_url_verification_not_signed_and_sealed_for_us_is_refused(query: dict) -> None:
    member = Member()
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, body = await wc.get(query)
    assert status == 403
    assert "1616140317555161061" not in body


async def test_url_verification_whose_plus_signs_arrived_unencoded_still_passes() -> None:
    member = Member()
    query = url_check("echo-with-plus", nonce="7")
    for nonce in range(8, 200):  # until the ciphertext has a "+" in it
        if "+" in query["echostr"]:
            break
        query = url_check("echo-with-plus", nonce=str(nonce))
    raw = urlencode(query).replace("%2B", "+")  # a proxy that decoded it once
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, body = await wc.get(raw)
    assert (status, body) == (200, "echo-with-plus")


# --- what arrives


async def received(xml: str, reply: object = None) -> tuple[WeComInbound, tuple[int, str]]:
    """What the handler got for one push of `xml`, and what WeCom was answered."""
    member = Member(reply=reply)  # type: ignore[arg-type]
    query, body = encrypted(xml)
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        answer = await wc.post(body, query)
    [inbound] = member.inbounds
    return inbound, answer


async def test_a_card_press_arrives_with_its_card_button_and_response_code() -> None:
    inbound, answer = await received(card_press_xml(task_id="case-42-v1", button="accept"))
    assert answer == (200, "")
    assert (inbound.kind, inbound.userid, inbound.event) == (
        "card_press",
        USERID,
        "template_card_event",
    )
    assert (inbound.task_id, inbound.button_key, inbound.response_code, inbound.card_type) == (
        "case-42-v1",
        "accept",
        "rc-case-42-v1",
        "button_interaction",
    )
    assert inbound.agent_id == AGENT_ID
    assert inbound.created_at == datetime.fromtimestamp(1700000000, tz=UTC)
    assert inbound.key == f"event:{USERID}:1700000000:template_card_event:case-42-v1:accept"


async def test_two_buttons_pressed_in_one_second_are_two_pushes() -> None:
    member = Member()
    pushes = [encrypted(card_press_xml(button=key)) for key in ("accept", "refer")]
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        for query, body in pushes:
            await wc.post(body, query)
    assert [i.button_key for i in member.inbounds] == ["accept", "refer"]


async def test_a_text_arrives_as_text_and_its_passive_reply_is_encrypted_for_the_member() -> None:
    inbound, (status, answer) = await received(text_xml("已到现场，正在清理", "7001"), "已记下")
    assert (inbound.kind, inbound.text, inbound.key, inbound.userid) == (
        "text",
        "已到现场，正在清理",
        "msg:7001",
        USERID,
    )
    assert status == 200
    reply = opened_reply(answer)
    assert [reply.findtext(f) for f in ("ToUserName", "FromUserName", "MsgType", "Content")] == [
        USERID,
        CORP_ID,
        "text",
        "已记下",
    ]


async def test_a_reply_with_markup_characters_survives_the_xml() -> None:
    _, (_, answer) = await received(text_xml("好", "7002"), "A&B <c> ]]> 完")
    assert opened_reply(answer).findtext("Content") == "A&B <c> ]]> 完"


async def test_an_image_arrives_as_other_and_entering_the_app_as_an_event() -> None:
    image, _ = await received(push_xml("image", PicUrl="http://p.example/1.jpg", MsgId="9"))
    assert (image.kind, image.key) == ("other", "msg:9")
    entered, _ = await received(push_xml("event", Event="enter_agent", EventKey=""))
    assert (entered.kind, entered.event) == ("event", "enter_agent")


# --- what a card press can be answered with


async def test_a_card_press_answered_with_a_button_label_updates_the_button_passively() -> None:
    _, (status, answer) = await received(card_press_xml(), ButtonUpdate("已受理"))
    assert status == 200
    reply = opened_reply(answer)
    assert [reply.findtext(f) for f in ("ToUserName", "FromUserName", "MsgType")] == [
        USERID,
        CORP_ID,
        "update_button",
    ]
    assert reply.findtext("Button/ReplaceName") == "已受理"


async def test_a_text_reply_to_a_card_press_goes_out_through_the_api() -> None:
    member = Member(reply="已受理，请尽快处理")
    query, body = encrypted(card_press_xml())
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        assert await wc.post(body, query) == (200, "")
        await wc.callback.close()
    assert member.late == [(USERID, "已受理，请尽快处理")]


async def test_a_button_label_for_a_text_is_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    member = Member(reply=ButtonUpdate("已受理"))
    query, body = encrypted(text_xml("你好", "7003"))
    with caplog.at_level(logging.WARNING, logger="handlers.wecom.callback"):
        async with serving(config(), member.on_inbound, member.deliver_late) as wc:
            assert await wc.post(body, query) == (200, "")
            await wc.callback.close()
    assert member.late == []
    assert any("msg:7003" in r.getMessage() for r in caplog.records)


# --- refusals: the handler is never called


async def test_a_push_with_a_bad_signature_is_refused_unhandled() -> None:
    member = Member()
    query, body = encrypted(text_xml("你好"))
    query["msg_signature"] = signature("other", "1700000000", "42", "x")
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, _ = await wc.post(body, query)
    assert status == 403
    assert member.inbounds == []


async def test_a_push_sealed_for_another_corp_is_refused_unhandled() -> None:
    member = Member()
    query, body = encrypted(text_xml("你好"), corp_id="ww9999999999999999")
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, _ = await wc.post(body, query)
    assert status == 403
    assert member.inbounds == []


async def test_a_push_that_does_not_decrypt_is_refused_unhandled() -> None:
    member = Member()
    garbage = "bm90IGEgY2lwaGVydGV4dCBhdCBhbGwsIGp1c3QgdGV4dA=="
    body = f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>"
    query = {
        "msg_signature": signature(TOKEN, "1700000000", "42", garbage),
        "timestamp": "1700000000",
        "nonce": "42",
    }
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, _ = await wc.post(body, query)
    assert status == 403
    assert member.inbounds == []


async def test_an_unencrypted_push_is_refused_unhandled() -> None:
    member = Member()
    query = {"msg_signature": signature(TOKEN, "1700000000", "42", ""), "timestamp": "1700000000"}
    query["nonce"] = "42"
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, _ = await wc.post(text_xml("明文"), query)
    assert status == 403
    assert member.inbounds == []


async def test_a_push_for_another_app_of_the_corp_is_acknowledged_unhandled() -> None:
    member = Member()
    query, body = encrypted(text_xml("你好", AgentID="1000099"))
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        assert await wc.post(body, query) == (200, "")
    assert member.inbounds == []


async def test_a_sealed_push_that_is_not_a_message_is_a_bad_request() -> None:
    member = Member()
    query, body = encrypted("<xml><Content>no type, no sender</Content></xml>")
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        status, _ = await wc.post(body, query)
    assert status == 400
    assert member.inbounds == []


# --- the 5-second budget and WeCom's retries (the machinery WeChat's callback shares)


class SlowMember(Member):
    """Answers only when released."""

    def __init__(self, reply: str = "处理好了") -> None:
        super().__init__(reply=reply)
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.delivered = asyncio.Event()

    async def on_inbound(self, inbound: WeComInbound) -> str | None:
        self.inbounds.append(inbound)
        self.started.set()
        await self.release.wait()
        return "处理好了"

    async def deliver_late(self, inbound: WeComInbound, reply: object) -> None:
        await super().deliver_late(inbound, reply)  # type: ignore[arg-type]
        self.delivered.set()


async def test_a_handler_over_the_budget_is_acknowledged_and_its_reply_goes_out_late() -> None:
    member = SlowMember()
    query, body = encrypted(text_xml("慢", "7010"))
    async with serving(config(budget_seconds=0.01), member.on_inbound, member.deliver_late) as wc:
        assert await wc.post(body, query) == (200, "")
        member.release.set()
        await asyncio.wait_for(member.delivered.wait(), 10)
    assert member.late == [(USERID, "处理好了")]


async def test_retries_during_a_slow_handling_run_the_handler_once() -> None:
    member = SlowMember()
    query, body = encrypted(card_press_xml())
    async with serving(config(budget_seconds=0.01), member.on_inbound, member.deliver_late) as wc:
        assert await wc.post(body, query) == (200, "")
        await asyncio.wait_for(member.started.wait(), 10)
        assert await wc.post(body, query) == (200, "")
        assert await wc.post(body, query) == (200, "")
        member.release.set()
        await asyncio.wait_for(member.delivered.wait(), 10)
    assert len(member.inbounds) == 1
    assert member.late == [(USERID, "处理好了")]


async def test_a_retry_after_the_reply_was_given_gets_the_same_reply_unhandled() -> None:
    member = Member(reply="收到")
    query, body = encrypted(text_xml("你好", "7011"))
    async with serving(config(), member.on_inbound, member.deliver_late) as wc:
        first = await wc.post(body, query)
        again = await wc.post(body, query)
    assert opened_reply(first[1]).findtext("Content") == "收到"
    assert opened_reply(again[1]).findtext("Content") == "收到"
    assert len(member.inbounds) == 1


async def test_a_failing_handler_is_acknowledged_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(inbound: WeComInbound) -> str | None:
        raise RuntimeError("database is locked")

    member = Member()
    query, body = encrypted(text_xml("你好", "7012"))
    with caplog.at_level(logging.ERROR, logger="handlers.wecom.callback"):
        async with serving(config(), failing, member.deliver_late) as wc:
            assert await wc.post(body, query) == (200, "")
    assert any("msg:7012" in r.getMessage() and r.exc_info for r in caplog.records)
    assert member.late == []
