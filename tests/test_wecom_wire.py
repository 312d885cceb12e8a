"""The WeCom crypto against WeCom's own numbers, not only against itself.

The vectors are the ones WeCom publishes with its callback encryption library
(WXBizMsgCrypt, 加解密库 / 加解密方案说明, the Sample's URL check and message
decryption): token "QDG6eK", EncodingAESKey
"jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", CorpID "wx5823bf96d3bd56c7";
the URL check at timestamp 1409659589, nonce 263014780 (its echostr decrypts to
"1616140317555161061"); the push at timestamp 1409659813, nonce 1372623149, a
text "hello" from member "mycreate" to app 218.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.wecom_wire import Member, config, opened_reply, serving

OFFICIAL_TOKEN = "QDG6eK"
OFFICIAL_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OFFICIAL_CORP_ID = "wx5823bf96d3bd56c7"
OFFICIAL_URL_CHECK = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": (
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    ),
}
OFFICIAL_QUERY = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
}
OFFICIAL_PUSH = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
    "<Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWf"
    "rf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4a"
    "SknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ"
    "3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUa"
    "x5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z"
    "1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt>"
    "<AgentID><![CDATA[218]]></AgentID></xml>"
)


def official_config(**overrides: object):
    values = {
        "token": OFFICIAL_TOKEN,
        "encoding_aes_key": OFFICIAL_AES_KEY,
        "corp_id": OFFICIAL_CORP_ID,
        "agent_id": 218,
    }
    return config(**{**values, **overrides})


async def test_the_official_url_check_is_answered_with_its_plaintext() -> None:
    member = Member()
    async with serving(official_config(), member.on_inbound, member.deliver_late) as wc:
        assert await wc.get(OFFICIAL_URL_CHECK) == (200, "1616140317555161061")


async def test_the_official_push_decrypts_through_the_callback_to_its_text() -> None:
    member = Member(reply="你好")
    async with serving(official_config(), member.on_inbound, member.deliver_late) as wc:
        status, body = await wc.post(OFFICIAL_PUSH, OFFICIAL_QUERY)
    assert status == 200
    [inbound] = member.inbounds
    assert (inbound.userid, inbound.kind, inbound.text, inbound.agent_id) == (
        "mycreate",
        "text",
        "hello",
        218,
    )
    assert inbound.key == "msg:4561255354251345929"
    assert inbound.created_at == datetime.fromtimestamp(1409659813, tz=UTC)
    reply = opened_reply(body, OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    assert [reply.findtext(f) for f in ("ToUserName", "FromUserName", "Content")] == [
        "mycreate",
        OFFICIAL_CORP_ID,
        "你好",
    ]


async def test_the_official_push_with_one_signature_digit_changed_is_refused() -> None:
    member = Member()
    query = {**OFFICIAL_QUERY, "msg_signature": "5" + OFFICIAL_QUERY["msg_signature"][1:]}
    async with serving(official_config(), member.on_inbound, member.deliver_late) as wc:
        status, _ = await wc.post(OFFICIAL_PUSH, query)
    assert status == 403
    assert member.inbounds == []


async def test_the_official_push_and_url_check_are_refused_by_another_corp() -> None:
    member = Member()
    cfg = official_config(corp_id="ww0000000000000000")  # same token and key, another corp
    async with serving(cfg, member.on_inbound, member.deliver_late) as wc:
        assert (await wc.post(OFFICIAL_PUSH, OFFICIAL_QUERY))[0] == 403
        assert (await wc.get(OFFICIAL_URL_CHECK))[0] == 403
    assert member.inbounds == []
