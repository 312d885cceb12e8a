"""The bot's WeChat API client against the WeChat stand-in, through real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from handlers.wechat.client import OutsideWindow, WeChatApiError, WeChatBusy, WeChatClient
from simulator.server import solid_png
from simulator.wechat import WeChatStandIn

RESIDENT = "oRes1dent0000000000000000001"
TEMPLATE = "tpl_case_update"
HOUR = 3600.0


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wechat(clock: Clock) -> AsyncIterator[WeChatStandIn]:
    async with WeChatStandIn(clock=clock, templates={TEMPLATE: ["thing1", "time2"]}) as standin:
        standin.add_follower(RESIDENT)
        yield standin


@pytest.fixture
async def client(wechat: WeChatStandIn) -> AsyncIterator[WeChatClient]:
    c = WeChatClient(wechat.app_id, wechat.app_secret, wechat.base_url, backoff=0.0)
    try:
        yield c
    finally:
        await c.close()


def texts(wechat: WeChatStandIn, openid: str = RESIDENT) -> list[str | None]:
    return [d.text for d in wechat.sent_to(openid)]


async def raw_get(wechat: WeChatStandIn, path: str, **params: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(wechat.base_url + path, params=params) as response:
            assert response.status == 200
            return dict(await response.json())


# ---------------------------------------------------------------------- access token


async def test_the_token_is_fetched_once_and_reused(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    await client.send_text(RESIDENT, "您的上报已受理")
    await client.send_text(RESIDENT, "请稍候")
    assert wechat.token_requests == 1
    assert texts(wechat) == ["您的上报已受理", "请稍候"]


async def test_32_concurrent_sends_make_one_token_request(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    residents = [f"oResident{i:04d}" for i in range(32)]
    for openid in residents:
        wechat.open_window(openid)
    await asyncio.gather(*(client.send_text(openid, "收到") for openid in residents))
    assert wechat.token_requests == 1
    assert all(texts(wechat, openid) == ["收到"] for openid in residents)


async def test_a_token_superseded_elsewhere_is_refreshed_and_the_send_retried(
    wechat: WeChatStandIn, client: WeChatClient, clock: Clock
) -> None:
    wechat.open_window(RESIDENT)
    await client.send_text(RESIDENT, "第一条")
    # Another server fetched a token; WeChat keeps ours usable only 5 more minutes.
    await raw_get(
        wechat,
        "/cgi-bin/token",
        grant_type="client_credential",
        appid=wechat.app_id,
        secret=wechat.app_secret,
    )
    clock.advance(301)
    await client.send_text(RESIDENT, "第二条")
    sends = wechat.calls_to("message/custom/send")
    assert [c.errcode for c in sends] == [0, 40001, 0]
    assert texts(wechat) == ["第一条", "第二条"]


async def test_an_expired_token_is_refreshed_and_the_send_retried(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    await client.send_text(RESIDENT, "第一条")
    wechat.expire_tokens()
    await client.send_text(RESIDENT, "第二条")
    assert [c.errcode for c in wechat.calls_to("message/custom/send")] == [0, 42001, 0]
    assert wechat.token_requests == 2


async def test_a_token_refused_again_after_a_refresh_is_an_error_not_a_loop(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    wechat.fail_next("message/custom/send", 40001, times=2)
    with pytest.raises(WeChatApiError) as refused:
        await client.send_text(RESIDENT, "你好")
    assert refused.value.errcode == 40001
    assert wechat.token_requests == 2


async def test_a_wrong_secret_is_a_permanent_error(wechat: WeChatStandIn) -> None:
    client = WeChatClient(wechat.app_id, "not-the-secret", wechat.base_url, backoff=0.0)
    try:
        with pytest.raises(WeChatApiError) as refused:
            await client.send_text(RESIDENT, "你好")
    finally:
        await client.close()
    assert (refused.value.errcode, refused.value.permanent) == (40125, True)


async def test_a_wrong_appid_is_refused_with_40013(wechat: WeChatStandIn) -> None:
    answer = await raw_get(
        wechat,
        "/cgi-bin/token",
        grant_type="client_credential",
        appid="wx0000000000000000",
        secret=wechat.app_secret,
    )
    assert answer["errcode"] == 40013
    assert answer["errmsg"].startswith("invalid appid")


# ---------------------------------------------------------------------- the 48-hour rule


async def test_a_resident_silent_for_48_hours_is_outside_the_window(
    wechat: WeChatStandIn, client: WeChatClient, clock: Clock
) -> None:
    wechat.open_window(RESIDENT)
    await client.send_text(RESIDENT, "已受理")
    clock.advance(48 * HOUR + 1)
    with pytest.raises(OutsideWindow) as refused:
        await client.send_text(RESIDENT, "已办结")
    assert refused.value.errcode == 45015
    assert texts(wechat) == ["已受理"]


async def test_a_follower_who_never_wrote_is_outside_the_window(client: WeChatClient) -> None:
    with pytest.raises(OutsideWindow):
        await client.send_text(RESIDENT, "你好")


async def test_a_template_reaches_a_resident_outside_the_window(
    wechat: WeChatStandIn, client: WeChatClient, clock: Clock
) -> None:
    wechat.open_window(RESIDENT)
    clock.advance(72 * HOUR)
    msgid = await client.send_template(
        RESIDENT, TEMPLATE, {"thing1": "您上报的问题已办结", "time2": "2026-01-04 10:00"}
    )
    assert msgid > 0
    [message] = wechat.sent_to(RESIDENT)
    assert message.via == "template"
    assert message.payload["data"]["thing1"] == {"value": "您上报的问题已办结"}


async def test_a_resident_who_unfollowed_gets_neither_kind_of_message(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    wechat.remove_follower(RESIDENT)
    with pytest.raises(OutsideWindow):
        await client.send_text(RESIDENT, "你好")
    with pytest.raises(WeChatApiError) as refused:
        await client.send_template(RESIDENT, TEMPLATE, {"thing1": "已办结"})
    assert (refused.value.errcode, refused.value.permanent) == (43004, True)


async def test_an_unknown_template_is_refused(client: WeChatClient) -> None:
    with pytest.raises(WeChatApiError) as refused:
        await client.send_template(RESIDENT, "tpl_nobody_has", {"thing1": "x"})
    assert refused.value.errcode == 40037


async def test_a_template_field_over_its_limit_is_refused(client: WeChatClient) -> None:
    with pytest.raises(WeChatApiError) as refused:
        await client.send_template(RESIDENT, TEMPLATE, {"thing1": "长" * 21})
    assert refused.value.errcode == 47003


# ---------------------------------------------------------------------- busy and quota


async def test_a_busy_wechat_is_retried_and_the_send_goes_through(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    wechat.fail_next("message/custom/send", -1, times=2)
    await client.send_text(RESIDENT, "你好")
    assert [c.errcode for c in wechat.calls_to("message/custom/send")] == [-1, -1, 0]


async def test_a_wechat_busy_for_long_raises_wechat_busy_with_a_delay(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    wechat.fail_next("message/custom/send", -1, times=3)
    with pytest.raises(WeChatBusy) as busy:
        await client.send_text(RESIDENT, "你好")
    assert busy.value.retry_after > 0
    assert len(wechat.calls_to("message/custom/send")) == 3


async def test_messages_beyond_the_quota_of_one_interaction_raise_wechat_busy(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    for i in range(5):
        await client.send_text(RESIDENT, f"第{i + 1}条")
    with pytest.raises(WeChatBusy) as busy:
        await client.send_text(RESIDENT, "第6条")
    assert busy.value.errcode == 45047
    wechat.open_window(RESIDENT)  # the resident writes again
    await client.send_text(RESIDENT, "第6条")
    assert len(texts(wechat)) == 6


# ---------------------------------------------------------------------- message shapes


async def test_a_menu_message_carries_its_choices(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    await client.send_menu(RESIDENT, "您是否满意？", [("101", "满意"), ("102", "不满意")], "谢谢")
    [menu] = wechat.sent_to(RESIDENT)
    assert menu.msgtype == "msgmenu"
    assert menu.choices == [("101", "满意"), ("102", "不满意")]
    assert menu.payload["head_content"] == "您是否满意？"


async def test_a_text_over_2048_bytes_is_a_permanent_error(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    with pytest.raises(WeChatApiError) as refused:
        await client.send_text(RESIDENT, "字" * 683)
    assert (refused.value.errcode, refused.value.permanent) == (45002, True)


async def test_an_image_message_needs_a_live_media_id(
    wechat: WeChatStandIn, client: WeChatClient
) -> None:
    wechat.open_window(RESIDENT)
    media_id = await client.upload_image(solid_png(), "photo.png")
    await client.send_image(RESIDENT, media_id)
    with pytest.raises(WeChatApiError) as refused:
        await client.send_image(RESIDENT, "no-such-media")
    assert refused.value.errcode == 40007
    assert [d.payload for d in wechat.sent_to(RESIDENT)] == [{"media_id": media_id}]


# ---------------------------------------------------------------------- media


async def test_an_uploaded_image_downloads_as_the_same_bytes(client: WeChatClient) -> None:
    image = solid_png(32, 24, (200, 40, 40))
    media_id = await client.upload_image(image, "report.png")
    assert await client.download_media(media_id) == image


async def test_media_get_answers_like_wechat(wechat: WeChatStandIn, client: WeChatClient) -> None:
    media_id = await client.upload_image(solid_png(), "report.png")
    token = await client.access_token()
    async with aiohttp.ClientSession() as session:
        url = f"{wechat.base_url}/cgi-bin/media/get"
        params = {"access_token": token, "media_id": media_id}
        async with session.get(url, params=params) as response:
            assert response.headers["Content-Type"] == "image/png"
            disposition = response.headers["Content-disposition"]
    assert disposition == f'attachment; filename="{media_id}.png"'


async def test_an_unknown_media_id_is_a_permanent_error(client: WeChatClient) -> None:
    with pytest.raises(WeChatApiError) as refused:
        await client.download_media("no-such-media")
    assert (refused.value.errcode, refused.value.permanent) == (40007, True)


async def test_media_is_gone_after_three_days(client: WeChatClient, clock: Clock) -> None:
    media_id = await client.upload_image(solid_png(), "report.png")
    clock.advance(3 * 24 * HOUR)
    with pytest.raises(WeChatApiError) as refused:
        await client.download_media(media_id)
    assert refused.value.errcode == 40007


async def test_a_file_that_is_no_image_is_refused(client: WeChatClient) -> None:
    with pytest.raises(WeChatApiError) as refused:
        await client.upload_image(b"%PDF-1.7 not an image", "report.pdf")
    assert (refused.value.errcode, refused.value.permanent) == (40005, True)


async def test_an_image_over_10_mb_is_refused(client: WeChatClient) -> None:
    big = solid_png() + b"\0" * (10 * 1024 * 1024)
    with pytest.raises(WeChatApiError) as refused:
        await client.upload_image(big, "huge.png")
    assert refused.value.errcode == 40009


# ---------------------------------------------------------------------- menu


def click(name: str, key: str = "K") -> dict[str, Any]:
    return {"type": "click", "name": name, "key": key}


async def test_a_menu_in_chinese_is_created(wechat: WeChatStandIn, client: WeChatClient) -> None:
    buttons = [
        click("我要上报", "REPORT"),
        {"name": "我的", "sub_button": [click("进度查询", "MINE"), click("满意度", "RATE")]},
        {"type": "view", "name": "创城知识", "url": "https://example.org/quiz"},
    ]
    await client.create_menu(buttons)
    token = await client.access_token()
    answer = await raw_get(wechat, "/cgi-bin/menu/get", access_token=token)
    assert [b["name"] for b in answer["menu"]["button"]] == ["我要上报", "我的", "创城知识"]
    assert answer["menu"]["button"][0]["sub_button"] == []


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([click("一"), click("二"), click("三"), click("四")], 40016),
        ([{"name": "多", "sub_button": [click(str(i)) for i in range(6)]}], 40023),
        ([click("九个字的菜单名称太长")], 40018),
        ([{"name": "子", "sub_button": [click("子" * 21)]}], 40025),
        ([{"type": "click", "name": "无键"}], 40019),
        ([{"type": "view", "name": "链接", "url": "https://e.org/" + "x" * 1024}], 40020),
        ([{"type": "dance", "name": "跳舞"}], 40017),
        ([{"name": "子", "sub_button": [{"type": "dance", "name": "跳舞"}]}], 40024),
    ],
)
async def test_a_menu_breaking_wechats_rules_is_refused(
    client: WeChatClient, buttons: list[dict[str, Any]], errcode: int
) -> None:
    with pytest.raises(WeChatApiError) as refused:
        await client.create_menu(buttons)
    assert (refused.value.errcode, refused.value.permanent) == (errcode, True)


# ---------------------------------------------------------------------- the stand-in itself


async def test_an_unknown_path_is_refused_as_an_invalid_url(wechat: WeChatStandIn) -> None:
    answer = await raw_get(wechat, "/cgi-bin/no/such/api")
    assert answer["errcode"] == 40066


async def test_a_call_without_a_token_is_refused(wechat: WeChatStandIn) -> None:
    answer = await raw_get(wechat, "/cgi-bin/menu/get")
    assert answer["errcode"] == 41001
    assert answer["errmsg"].startswith("access_token missing rid: ")


async def test_an_unreachable_wechat_is_busy_not_an_api_error() -> None:
    standin = WeChatStandIn()
    await standin.start()
    base_url = standin.base_url
    await standin.stop()  # nothing listens there any more
    client = WeChatClient("wx5e1d2c3b4a596870", "secret", base_url, backoff=0.0)
    try:
        with pytest.raises(WeChatBusy) as busy:
            await client.send_text(RESIDENT, "你好")
    finally:
        await client.close()
    assert busy.value.retry_after > 0
