"""The web chat answers its own page only: same Host, same Origin, JSON bodies, clean refusals.

A page on another site must not post into the chat (CSRF), nor reach it by
pointing its own host name at 127.0.0.1 (DNS rebinding); a broken upload is
the client's fault (400), never the server's (500).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulator import BotApiStandIn, solid_png

USER = 1001
EVIL = "http://evil.example"


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    s = BotApiStandIn()
    s.add_user(USER, "张三")
    async with s:
        yield s


def own_origin(standin: BotApiStandIn) -> str:
    return f"http://127.0.0.1:{standin.port}"


async def request(
    standin: BotApiStandIn, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{standin.port}{path}"
    async with aiohttp.ClientSession() as http, http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


def refusal(status: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description}


TEXT = {"user_id": USER, "text": "有人闯红灯"}


async def test_a_post_from_the_chats_own_page_is_accepted(standin: BotApiStandIn) -> None:
    headers = {"Origin": own_origin(standin), "Sec-Fetch-Site": "same-origin"}
    status, _ = await request(standin, "POST", "/ui/send", json=TEXT, headers=headers)
    assert status == 200
    assert len(standin.pending_updates()) == 1


async def test_the_chat_answers_on_localhost_too(standin: BotApiStandIn) -> None:
    own = f"localhost:{standin.port}"
    headers = {"Host": own, "Origin": f"http://{own}"}
    status, _ = await request(standin, "POST", "/ui/send", json=TEXT, headers=headers)
    assert status == 200


async def test_a_cross_origin_post_is_refused(standin: BotApiStandIn) -> None:
    status, body = await request(standin, "POST", "/ui/send", json=TEXT, headers={"Origin": EVIL})
    assert (status, body) == (403, refusal(403, "Forbidden: cross-origin request"))
    assert standin.pending_updates() == []


async def test_a_post_from_an_opaque_origin_is_refused(standin: BotApiStandIn) -> None:
    # Sandboxed frames and file:// pages send "Origin: null".
    status, _ = await request(standin, "POST", "/ui/send", json=TEXT, headers={"Origin": "null"})
    assert status == 403
    assert standin.pending_updates() == []


async def test_a_cross_site_post_without_origin_is_refused(standin: BotApiStandIn) -> None:
    headers = {"Sec-Fetch-Site": "cross-site", "Referer": f"{EVIL}/page"}
    status, _ = await request(standin, "POST", "/ui/send", json=TEXT, headers=headers)
    assert status == 403
    assert standin.pending_updates() == []


async def test_a_cross_origin_photo_upload_is_refused(standin: BotApiStandIn) -> None:
    status, _ = await request(
        standin, "POST", "/ui/photo", data=photo_form(), headers={"Origin": EVIL}
    )
    assert status == 403
    assert standin.pending_updates() == []


@pytest.mark.parametrize("path", ["/", "/ui/world", f"/ui/state?chat_id={USER}"])
async def test_a_rebound_host_name_cannot_read_the_chat(standin: BotApiStandIn, path: str) -> None:
    headers = {"Host": f"evil.example:{standin.port}"}
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{standin.port}{path}"
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 403


async def test_a_rebound_host_name_cannot_post(standin: BotApiStandIn) -> None:
    # After rebinding, the attacker's page is "same-origin" with its own name.
    evil = f"evil.example:{standin.port}"
    headers = {"Host": evil, "Origin": f"http://{evil}"}
    status, body = await request(standin, "POST", "/ui/send", json=TEXT, headers=headers)
    assert (status, body) == (403, refusal(403, "Forbidden: wrong Host header"))
    assert standin.pending_updates() == []


async def test_a_rebound_host_name_cannot_use_the_bot_api(standin: BotApiStandIn) -> None:
    headers = {"Host": f"evil.example:{standin.port}"}
    path = f"/bot{standin.token}/getUpdates"
    status, body = await request(standin, "POST", path, json={}, headers=headers)
    assert (status, body) == (403, refusal(403, "Forbidden: wrong Host header"))


async def test_a_page_on_another_site_cannot_take_the_bots_updates(
    standin: BotApiStandIn,
) -> None:
    # An <img src=".../getUpdates?offset=..."> would drop the residents' messages.
    standin.send_text(USER, "有人闯红灯")
    path = f"/bot{standin.token}/getUpdates?offset=999"
    status, _ = await request(standin, "GET", path, headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert len(standin.pending_updates()) == 1


async def test_the_bot_api_needs_no_origin(standin: BotApiStandIn) -> None:
    status, body = await request(standin, "POST", f"/bot{standin.token}/getMe", json={})
    assert status == 200 and body["ok"] is True


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
async def test_a_post_that_is_not_json_is_refused(
    standin: BotApiStandIn, content_type: str
) -> None:
    # A cross-site <form> can send these three without asking the server first.
    form = aiohttp.FormData({"user_id": str(USER), "text": "有人闯红灯"})
    if content_type == "multipart/form-data":
        form.add_field("photo", b"x", filename="x.png")
        data: Any = form
        headers = {}
    else:
        data = '{"user_id": 1001, "text": "有人闯红灯"}'
        headers = {"Content-Type": content_type}
    status, body = await request(standin, "POST", "/ui/send", data=data, headers=headers)
    assert (status, body) == (
        415,
        refusal(415, "Unsupported Media Type: send application/json"),
    )
    assert standin.pending_updates() == []


def photo_form() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("user_id", str(USER))
    form.add_field("photo", solid_png(8, 8), filename="photo.png", content_type="image/png")
    return form


async def test_a_photo_upload_from_the_chats_own_page_is_accepted(
    standin: BotApiStandIn,
) -> None:
    headers = {"Origin": own_origin(standin)}
    status, body = await request(standin, "POST", "/ui/photo", data=photo_form(), headers=headers)
    assert status == 200 and body["photo"]


async def test_a_photo_upload_that_is_not_multipart_is_refused(standin: BotApiStandIn) -> None:
    status, body = await request(standin, "POST", "/ui/photo", json={"user_id": USER})
    assert (status, body) == (
        415,
        refusal(415, "Unsupported Media Type: send multipart/form-data"),
    )


MALFORMED = {
    "no starting boundary": (b"garbage", "multipart/form-data; boundary=XYZ"),
    "cut-off part": (
        b'--XYZ\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n1\r\n--XYZ\r\nbroken',
        "multipart/form-data; boundary=XYZ",
    ),
    "part without a name": (b"--XYZ\r\n\r\n1\r\n--XYZ--\r\n", "multipart/form-data; boundary=XYZ"),
    "no boundary": (b"x", "multipart/form-data"),
    "unknown transfer encoding": (
        b'--XYZ\r\nContent-Disposition: form-data; name="user_id"\r\n'
        b"Content-Transfer-Encoding: rot13\r\n\r\n1\r\n--XYZ--\r\n",
        "multipart/form-data; boundary=XYZ",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_multipart_body_is_a_bad_request(
    standin: BotApiStandIn, case: str
) -> None:
    body, content_type = MALFORMED[case]
    status, answer = await request(
        standin, "POST", "/ui/photo", data=body, headers={"Content-Type": content_type}
    )
    assert (status, answer) == (400, refusal(400, "Bad Request: malformed multipart body"))
    assert standin.pending_updates() == []
