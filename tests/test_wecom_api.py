"""The bot's WeCom API client against the WeCom stand-in, through real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from handlers.wecom.client import IpNotTrusted, WeComApiError, WeComBusy, WeComClient
from simulator.server import solid_png
from simulator.wecom import WeComStandIn

HOUR = 3600.0
ZHANG, LI, WANG = "zhangsan", "lisi", "wangwu"
URBAN = 2  # 城管组
ROADS = 3  # 交通组, under 城管组
ROBOT = "robot-key-urban-0001"


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
async def wecom(clock: Clock) -> AsyncIterator[WeComStandIn]:
    async with WeComStandIn(clock=clock) as standin:
        standin.add_department(URBAN, "城管组")
        standin.add_department(ROADS, "交通组", parent=URBAN)
        standin.add_user(ZHANG, "张三", [URBAN])
        standin.add_user(LI, "李四", [URBAN])
        standin.add_user(WANG, "王五", [ROADS])
        standin.add_tag(7, "值班", [LI], parties=[ROADS])
        standin.add_robot(ROBOT)
        yield standin


@pytest.fixture
async def client(wecom: WeComStandIn, clock: Clock) -> AsyncIterator[WeComClient]:
    c = WeComClient(
        wecom.corp_id, wecom.secret, wecom.agent_id, wecom.base_url, clock=clock, backoff=0.0
    )
    try:
        yield c
    finally:
        await c.close()


def alert_card(task_id: str = "case-1024-v1", buttons: int = 5) -> dict[str, Any]:
    labels = ["受理", "办结", "转派", "退回", "重复", "催办", "备注"]
    return {
        "card_type": "button_interaction",
        "task_id": task_id,
        "main_title": {"title": "新案件 #1024", "desc": "市容环境"},
        "horizontal_content_list": [
            {"keyname": "地点", "value": "人民路12号"},
            {"keyname": "时限", "value": "24小时"},
        ],
        "button_list": [
            {"text": label, "style": 1 if i == 0 else 2, "key": f"v1:{i}:1024"}
            for i, label in enumerate(labels[:buttons])
        ],
    }


def texts(wecom: WeComStandIn, userid: str) -> list[str | None]:
    return [d.text for d in wecom.sent_to(userid)]


async def raw_get(wecom: WeComStandIn, path: str, **params: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(wecom.base_url + path, params=params) as response:
            assert response.status == 200
            return dict(await response.json())


# ---------------------------------------------------------------------- access token


async def test_the_token_is_fetched_once_and_reused(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    await client.send_text("案件已受理", touser=ZHANG)
    await client.send_text("请及时处理", touser=ZHANG)
    assert wecom.token_requests == 1
    assert texts(wecom, ZHANG) == ["案件已受理", "请及时处理"]


async def test_32_concurrent_sends_make_one_token_request(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    await asyncio.gather(*(client.send_text(f"第{i}条", touser=LI) for i in range(32)))
    assert wecom.token_requests == 1
    assert len(wecom.sent_to(LI)) == 32


async def test_an_expired_token_is_refreshed_and_the_send_retried(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    await client.send_text("第一条", touser=ZHANG)
    wecom.expire_tokens()
    await client.send_text("第二条", touser=ZHANG)
    assert [c.errcode for c in wecom.calls_to("message/send")] == [0, 42001, 0]
    assert wecom.token_requests == 2
    assert texts(wecom, ZHANG) == ["第一条", "第二条"]


async def test_a_token_past_7200_seconds_is_refreshed_before_wecom_refuses_it(
    wecom: WeComStandIn, client: WeComClient, clock: Clock
) -> None:
    await client.send_text("第一条", touser=ZHANG)
    clock.advance(2 * HOUR)
    await client.send_text("第二条", touser=ZHANG)
    assert [c.errcode for c in wecom.calls_to("message/send")] == [0, 0]
    assert wecom.token_requests == 2


async def test_asking_again_while_the_token_lives_returns_the_same_token(
    wecom: WeComStandIn, clock: Clock
) -> None:
    params = {"corpid": wecom.corp_id, "corpsecret": wecom.secret}
    first = await raw_get(wecom, "/cgi-bin/gettoken", **params)
    clock.advance(HOUR)
    second = await raw_get(wecom, "/cgi-bin/gettoken", **params)
    assert first["access_token"] == second["access_token"]
    assert (first["expires_in"], second["expires_in"]) == (7200, 3600)


async def test_a_token_refused_again_after_a_refresh_is_an_error_not_a_loop(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    wecom.fail_next("message/send", 40014, times=2)
    with pytest.raises(WeComApiError) as refused:
        await client.send_text("你好", touser=ZHANG)
    assert refused.value.errcode == 40014
    assert wecom.token_requests == 2


async def test_a_wrong_secret_is_a_permanent_40001(wecom: WeComStandIn) -> None:
    client = WeComClient(wecom.corp_id, "not-the-secret", wecom.agent_id, wecom.base_url)
    try:
        with pytest.raises(WeComApiError) as refused:
            await client.send_text("你好", touser=ZHANG)
    finally:
        await client.close()
    assert (refused.value.errcode, refused.value.permanent) == (40001, True)
    assert refused.value.errmsg.startswith("invalid credential, hint: [")


async def test_a_wrong_corp_id_is_refused_with_40013(wecom: WeComStandIn) -> None:
    answer = await raw_get(
        wecom, "/cgi-bin/gettoken", corpid="ww0000000000000000", corpsecret=wecom.secret
    )
    assert answer["errcode"] == 40013
    assert answer["errmsg"].startswith("invalid corpid")


# ---------------------------------------------------------------------- cards


async def test_a_card_reaches_every_member_of_a_department_with_one_response_code(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    sent = await client.send_card(alert_card(), toparty=URBAN)
    assert sent.response_code and sent.msgid
    # The department's sub-departments are reached too.
    for userid in (ZHANG, LI, WANG):
        [card] = wecom.sent_to(userid)
        assert card.task_id == "case-1024-v1"
        assert [text for text, _ in card.buttons] == ["受理", "办结", "转派", "退回", "重复"]


async def test_unknown_recipients_come_back_as_invalid_and_the_rest_get_the_card(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    sent = await client.send_card(
        alert_card(), touser=[ZHANG, "NoSuchUser"], toparty=[99], totag=[88]
    )
    assert (sent.invalid_users, sent.invalid_parties, sent.invalid_tags) == (
        ("nosuchuser",),
        ("99",),
        ("88",),
    )
    assert len(wecom.sent_to(ZHANG)) == 1


async def test_a_card_to_nobody_valid_is_refused_with_81013(client: WeComClient) -> None:
    with pytest.raises(WeComApiError) as refused:
        await client.send_card(alert_card(), touser="ghost")
    assert (refused.value.errcode, refused.value.permanent) == (81013, True)


async def test_a_card_sent_to_a_tag_reaches_its_members_and_departments(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    await client.send_card(alert_card(), totag=7)
    assert [bool(wecom.sent_to(u)) for u in (ZHANG, LI, WANG)] == [False, True, True]


async def test_the_send_code_greys_out_everyones_buttons_once(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    sent = await client.send_card(alert_card(), touser=[ZHANG, LI])
    assert sent.response_code is not None
    await client.update_card(sent.response_code, atall=True, replace_name="已由张三受理")
    for userid in (ZHANG, LI):
        [card] = wecom.sent_to(userid)
        assert (card.replace_name, card.pressable) == ("已由张三受理", False)
    with pytest.raises(WeComApiError) as refused:
        await client.update_card(sent.response_code, atall=True, replace_name="再来一次")
    assert (refused.value.errcode, refused.value.permanent) == (60140, True)


async def test_an_update_for_some_userids_leaves_the_others_cards_alone(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    sent = await client.send_card(alert_card(), touser=[ZHANG, LI])
    assert sent.response_code is not None
    await client.update_card(sent.response_code, userids=[ZHANG], replace_name="已处理")
    assert [wecom.sent_to(u)[0].pressable for u in (ZHANG, LI)] == [False, True]


async def test_a_card_can_be_replaced_by_a_new_card(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    sent = await client.send_card(alert_card(), touser=ZHANG)
    assert sent.response_code is not None
    accepted = alert_card()
    accepted["main_title"] = {"title": "案件 #1024 已受理", "desc": "处理人：张三"}
    accepted["button_list"] = [{"text": "办结", "style": 1, "key": "v1:1:1024"}]
    await client.update_card(sent.response_code, userids=[ZHANG], card=accepted)
    [card] = wecom.sent_to(ZHANG)
    assert card.text is not None and card.text.startswith("案件 #1024 已受理")
    assert card.buttons == [("办结", "v1:1:1024")]


async def test_a_response_code_older_than_72_hours_is_refused(
    client: WeComClient, clock: Clock
) -> None:
    sent = await client.send_card(alert_card(), touser=ZHANG)
    assert sent.response_code is not None
    clock.advance(72 * HOUR)
    with pytest.raises(WeComApiError) as refused:
        await client.update_card(sent.response_code, atall=True, replace_name="已受理")
    assert refused.value.errcode == 60140


async def test_a_task_id_cannot_be_used_twice(client: WeComClient) -> None:
    await client.send_card(alert_card("case-7"), touser=ZHANG)
    with pytest.raises(WeComApiError) as refused:
        await client.send_card(alert_card("case-7"), touser=ZHANG)
    assert (refused.value.errcode, refused.value.permanent) == (42014, True)


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"button_list": alert_card(buttons=7)["button_list"]}, 40058),
        ({"button_list": []}, 40058),
        ({"button_list": [{"text": "受理", "key": "k"}, {"text": "办结", "key": "k"}]}, 40058),
        ({"button_list": [{"text": "受理", "key": "k" * 1025}]}, 40058),
        ({"button_list": [{"text": "受理"}]}, 40058),
        ({"main_title": {"desc": "无标题"}}, 40058),
        ({"horizontal_content_list": [{"keyname": "行", "value": "x"}] * 7}, 40058),
        ({"task_id": "案件-1"}, 42014),
        ({"task_id": "t" * 129}, 42014),
        ({"task_id": None}, 42014),
    ],
)
async def test_a_card_breaking_wecoms_rules_is_refused(
    client: WeComClient, change: dict[str, Any], errcode: int
) -> None:
    card = {**alert_card(), **change}
    with pytest.raises(WeComApiError) as refused:
        await client.send_card(card, touser=ZHANG)
    assert (refused.value.errcode, refused.value.permanent) == (errcode, True)


# ---------------------------------------------------------------------- other messages


async def test_a_text_over_2048_bytes_is_cut_not_refused(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    await client.send_text("字" * 700, touser=ZHANG)
    assert texts(wecom, ZHANG) == ["字" * 682]


async def test_markdown_over_2048_bytes_is_refused(client: WeComClient) -> None:
    with pytest.raises(WeComApiError) as refused:
        await client.send_markdown("字" * 700, touser=ZHANG)
    assert (refused.value.errcode, refused.value.permanent) == (45002, True)


async def test_an_uploaded_image_is_sent_and_served(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    image = solid_png(32, 24, (200, 40, 40))
    media_id = await client.upload_image(image, "report.png")
    await client.send_image(media_id, touser=ZHANG)
    [message] = wecom.sent_to(ZHANG)
    assert (message.msgtype, message.payload) == ("image", {"media_id": media_id})
    token = await client.access_token()
    async with aiohttp.ClientSession() as session:
        url = f"{wecom.base_url}/cgi-bin/media/get"
        async with session.get(url, params={"access_token": token, "media_id": media_id}) as r:
            assert await r.read() == image


async def test_a_file_that_is_no_image_is_refused(client: WeComClient) -> None:
    with pytest.raises(WeComApiError) as refused:
        await client.upload_image(b"%PDF-1.7 not an image", "report.pdf")
    assert (refused.value.errcode, refused.value.permanent) == (40004, True)


async def test_an_image_older_than_three_days_cannot_be_sent(
    client: WeComClient, clock: Clock
) -> None:
    media_id = await client.upload_image(solid_png(), "report.png")
    clock.advance(3 * 24 * HOUR)
    with pytest.raises(WeComApiError) as refused:
        await client.send_image(media_id, touser=ZHANG)
    assert refused.value.errcode == 40007


# ---------------------------------------------------------------------- busy, limits, IP


async def test_a_busy_wecom_is_retried_and_the_send_goes_through(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    wecom.fail_next("message/send", -1, times=2)
    await client.send_text("你好", touser=ZHANG)
    assert [c.errcode for c in wecom.calls_to("message/send")] == [-1, -1, 0]


async def test_a_frequency_limit_is_wecom_busy_and_not_retried(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    wecom.limit_rate("message/send", per_minute=2)
    await client.send_text("1", touser=ZHANG)
    await client.send_text("2", touser=ZHANG)
    with pytest.raises(WeComBusy) as busy:
        await client.send_text("3", touser=ZHANG)
    assert (busy.value.errcode, busy.value.retry_after, busy.value.permanent) == (
        45009,
        60.0,
        False,
    )
    assert [c.errcode for c in wecom.calls_to("message/send")] == [0, 0, 45009]


async def test_an_untrusted_ip_is_ip_not_trusted_though_the_token_comes(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    wecom.block_ip(True)
    with pytest.raises(IpNotTrusted) as refused:
        await client.send_card(alert_card(), touser=ZHANG)
    assert (refused.value.errcode, refused.value.permanent) == (60020, True)
    assert "not allow to access from your ip" in refused.value.errmsg
    assert [c.errcode for c in wecom.calls_to("gettoken")] == [0]
    wecom.block_ip(False)  # an administrator trusts the IP
    await client.send_card(alert_card(), touser=ZHANG)
    assert len(wecom.sent_to(ZHANG)) == 1


async def test_an_unknown_path_is_a_permanent_error(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    with pytest.raises(WeComApiError) as refused:
        await client._call("GET", "/cgi-bin/no/such/api")
    assert (refused.value.errcode, refused.value.permanent) == (404, True)
    assert [c.errcode for c in wecom.calls_to("no/such/api")] == [404]


async def test_an_unreachable_wecom_is_busy_not_an_api_error() -> None:
    standin = WeComStandIn()
    await standin.start()
    base_url = standin.base_url
    await standin.stop()  # nothing listens there any more
    client = WeComClient(standin.corp_id, standin.secret, standin.agent_id, base_url, backoff=0.0)
    try:
        with pytest.raises(WeComBusy) as busy:
            await client.send_text("你好", touser=ZHANG)
    finally:
        await client.close()
    assert busy.value.retry_after > 0


# ---------------------------------------------------------------------- contacts


async def test_a_member_is_read_by_userid(client: WeComClient) -> None:
    member = await client.user(WANG)
    assert (member.userid, member.name, member.departments) == (WANG, "王五", (ROADS,))


async def test_an_unknown_userid_is_60111(client: WeComClient) -> None:
    with pytest.raises(WeComApiError) as refused:
        await client.user("ghost")
    assert (refused.value.errcode, refused.value.permanent) == (60111, True)


async def test_a_departments_members_with_or_without_its_sub_departments(
    client: WeComClient,
) -> None:
    direct = await client.department_users(URBAN)
    everyone = await client.department_users(URBAN, recursive=True)
    assert [m.userid for m in direct] == [ZHANG, LI]
    assert [m.userid for m in everyone] == [ZHANG, LI, WANG]


async def test_a_tags_users_include_its_departments_members(client: WeComClient) -> None:
    assert [m.userid for m in await client.tag_users(7)] == [LI, WANG]
    with pytest.raises(WeComApiError) as refused:
        await client.tag_users(404)
    assert refused.value.errcode == 40068


# ---------------------------------------------------------------------- group robots


async def test_a_robot_posts_markdown_in_its_group(
    wecom: WeComStandIn, client: WeComClient
) -> None:
    await client.robot_send(ROBOT, "**今日待办** 3 件")
    [message] = wecom.robot_sent(ROBOT)
    assert (message.msgtype, message.content) == ("markdown", "**今日待办** 3 件")
    assert wecom.token_requests == 0  # the robot's key is its credential


async def test_a_robot_posts_20_messages_a_minute_then_is_busy(
    wecom: WeComStandIn, client: WeComClient, clock: Clock
) -> None:
    for i in range(20):
        await client.robot_send(ROBOT, f"第{i + 1}条")
    with pytest.raises(WeComBusy) as busy:
        await client.robot_send(ROBOT, "第21条")
    assert busy.value.errcode == 45009
    clock.advance(60)
    await client.robot_send(ROBOT, "第21条")
    assert len(wecom.robot_sent(ROBOT)) == 21


async def test_an_unknown_robot_key_is_a_permanent_93000(client: WeComClient) -> None:
    with pytest.raises(WeComApiError) as refused:
        await client.robot_send("removed-robot", "你好")
    assert (refused.value.errcode, refused.value.permanent) == (93000, True)
