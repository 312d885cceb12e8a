"""The crypto against WeChat's own numbers, not only against itself.

The vector is the one WeChat publishes with its message encryption sample code
(WXBizMsgCrypt, "消息加解密" / 技术方案 of the Official Account docs, the
Python Sample.py's decryption test): token "spamtest", EncodingAESKey
"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", AppID "wx2c2769f8efd9abc2",
timestamp 1409735669, nonce 1320562132, msg_signature
5d197aaffba7e9b25a30732f161a50dee96bd5fa. Its push is a compatible-mode one:
the plaintext fields beside the ciphertext.
"""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.wechat.inbound import inbound_from_xml
from tests.wechat_wire import Resident, config, opened_reply, serving

OFFICIAL_TOKEN = "spamtest"
OFFICIAL_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OFFICIAL_APP_ID = "wx2c2769f8efd9abc2"
OFFICIAL_TIMESTAMP = "1409735669"
OFFICIAL_NONCE = "1320562132"
OFFICIAL_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
OFFICIAL_PUSH = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>"
    "<CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId>"
    "<Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+"
    "LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS"
    "7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xM"
    "ezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h"
    "0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQ"
    "LCzpu9GhglF2PE=]]></Encrypt></xml>"
)
OFFICIAL_QUERY = {
    "timestamp": OFFICIAL_TIMESTAMP,
    "nonce": OFFICIAL_NONCE,
    "encrypt_type": "aes",
    "msg_signature": OFFICIAL_MSG_SIGNATURE,
}


def official_config(**overrides: object):
    values = {
        "token": OFFICIAL_TOKEN,
        "app_id": OFFICIAL_APP_ID,
        "encoding_aes_key": OFFICIAL_AES_KEY,
    }
    return config(**{**values, **overrides})


async def test_the_official_sample_push_decrypts_through_the_callback_to_its_text() -> None:
    resident = Resident(reply="你好")
    async with serving(official_config(), resident.on_inbound, resident.deliver_late) as wx:
        status, body = await wx.post(OFFICIAL_PUSH, OFFICIAL_QUERY)
    assert status == 200
    [inbound] = resident.inbounds
    assert (inbound.openid, inbound.kind, inbound.text) == (
        "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "text",
        "abcdteT",
    )
    assert inbound.key == "msg:6054768590064713728"
    assert inbound.account == "gh_10f6c3c3ac5a"
    assert inbound.created_at == datetime.fromtimestamp(1409735668, tz=UTC)
    reply = opened_reply(body, OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_APP_ID)
    assert (reply["ToUserName"], reply["FromUserName"], reply["Content"]) == (
        "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "gh_10f6c3c3ac5a",
        "你好",
    )


async def test_the_official_push_with_one_signature_digit_changed_is_refused() -> None:
    resident = Resident()
    query = {**OFFICIAL_QUERY, "msg_signature": "6" + OFFICIAL_MSG_SIGNATURE[1:]}
    async with serving(official_config(), resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(OFFICIAL_PUSH, query)
    assert status == 403
    assert resident.inbounds == []


async def test_the_official_push_is_refused_by_another_account() -> None:
    resident = Resident()
    cfg = official_config(app_id="wx0000000000000000")  # same token and key, another AppID
    async with serving(cfg, resident.on_inbound, resident.deliver_late) as wx:
        status, _ = await wx.post(OFFICIAL_PUSH, OFFICIAL_QUERY)
    assert status == 403
    assert resident.inbounds == []


def test_the_official_plaintext_copy_reads_as_the_same_message() -> None:
    inbound = inbound_from_xml(OFFICIAL_PUSH)
    assert (inbound.openid, inbound.text, inbound.key) == (
        "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "abcdteT",
        "msg:6054768590064713728",
    )
