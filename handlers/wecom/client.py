"""The bot's client of WeCom's API for one self-built app (token, messages, cards, contacts).

It knows WeCom's protocol and nothing of the domain: the caller (the outbox courier)
decides what to send and what to do when WeCom refuses. The machinery it shares with
the other Tencent client is ``handlers.tencent_api``'s: the access token is cached and
refreshed by one caller at a time; an answer saying the token is stale or missing
(40014, 41001, 42001) makes it fetch a new one and try the call once more. Errors come
out typed:

- ``WeComBusy`` (-1 system busy, 45009 over a frequency limit, 45033 too many at once,
  or WeCom unreachable): try again later, ``retry_after`` says when; -1 is retried here
  a couple of times first, a frequency limit is not (retrying only prolongs it);
- ``IpNotTrusted`` (60020): the server's IP is not among the app's trusted IPs; every
  call will fail until an administrator adds it;
- ``WeComApiError`` otherwise, ``permanent`` when the same call can never succeed
  (a spent or expired response code, 60140, is one).

A card's send returns one ``response_code`` for the whole message (WeCom does not give
one per recipient); it and each press's code update the card once, within 72 hours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp

from handlers.tencent_api import (
    JSON,
    SYSTEM_BUSY,
    TencentApiClient,
    TencentApiError,
    TencentBusy,
    dumps,
)

Recipients = str | int | Sequence[str | int] | None

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
TOKEN_ERRORS = frozenset({40014, 41001, 42001})
IP_NOT_TRUSTED = 60020
# Transient refusals, and how long the caller should wait before trying again (seconds).
BUSY_CODES: dict[int, float] = {
    SYSTEM_BUSY: 5.0,
    45009: 60.0,  # over a frequency limit (a robot's is per minute; WeCom lifts it after)
    45033: 5.0,  # too many concurrent calls
}
# Refusals that the same call will meet every time.
PERMANENT_CODES = frozenset(
    {
        40001,  # invalid secret
        40003,  # invalid userid
        40004,  # invalid media type
        40005,  # invalid type parameter
        40006,  # invalid file size
        40007,  # invalid media_id (unknown or older than 3 days)
        40008,  # invalid msgtype
        40009,  # image too large
        40013,  # invalid corpid
        40056,  # invalid agentid
        40058,  # invalid parameter (a card breaking a rule)
        40068,  # invalid tag id
        41002,  # corpid missing
        41004,  # secret missing
        41006,  # media_id missing
        42014,  # invalid (or reused) task_id
        44004,  # empty content
        45002,  # content too long
        48002,  # api not allowed for this app
        60020,  # untrusted IP: permanent until an administrator trusts it
        60111,  # userid not found
        60123,  # invalid department id
        60140,  # invalid response_code: spent, or older than 72 h
        81013,  # no valid recipient at all
        93000,  # invalid robot webhook key
        301002,  # the token's app is not the agentid's
    }
)


class WeComApiError(TencentApiError):
    """WeCom refused a call with ``errcode``; ``permanent`` if it always will."""

    service = "WeCom"
    permanent_codes = PERMANENT_CODES


class WeComBusy(TencentBusy, WeComApiError):
    """A transient refusal (or WeCom unreachable): try again after ``retry_after`` seconds."""


class IpNotTrusted(WeComApiError):
    """60020: this server's IP is not trusted by the app; an administrator must add it."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg, permanent=True)


@dataclass(frozen=True)
class SentMessage:
    """WeCom's answer to a send: who was not reached, and the card's response code."""

    msgid: str
    #: Only for a callback-able card (button_interaction …): updates it once, within 72 h.
    response_code: str | None = None
    invalid_users: tuple[str, ...] = ()
    invalid_parties: tuple[str, ...] = ()
    invalid_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    """A member of the corp as the contacts API shows them."""

    userid: str
    name: str
    departments: tuple[int, ...] = ()


def _joined(recipients: Recipients) -> str | None:
    """WeCom's "a|b" form of one or more recipients."""
    if recipients is None:
        return None
    if isinstance(recipients, str | int):
        return str(recipients)
    return "|".join(str(r) for r in recipients) or None


def _parts(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(p for p in str(value or "").split("|") if p)


def _member(entry: JSON) -> Member:
    departments = entry.get("department") or ()
    return Member(
        str(entry.get("userid", "")), str(entry.get("name", "")), tuple(map(int, departments))
    )


class WeComClient(TencentApiClient):
    """WeCom's API for one self-built app (corp id, its secret and agent id), over aiohttp."""

    api_error = WeComApiError
    busy_error = WeComBusy
    token_errors = TOKEN_ERRORS
    busy_codes = BUSY_CODES
    special_errors: ClassVar[dict[int, type[WeComApiError]]] = {IP_NOT_TRUSTED: IpNotTrusted}

    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        busy_retries: int = 2,
        backoff: float = 0.5,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, session, clock, busy_retries, backoff, timeout)
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = int(agent_id)

    def _token_request(self) -> tuple[str, dict[str, str]]:
        return "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret}

    def _retries_now(self, busy: TencentBusy) -> bool:
        # A frequency limit lasts its period: retrying now only prolongs it.
        return busy.errcode == SYSTEM_BUSY

    # ------------------------------------------------------------------ messages

    async def _send(
        self,
        msgtype: str,
        content: JSON,
        touser: Recipients,
        toparty: Recipients,
        totag: Recipients,
    ) -> SentMessage:
        address = {
            key: value
            for key, value in (
                ("touser", _joined(touser)),
                ("toparty", _joined(toparty)),
                ("totag", _joined(totag)),
            )
            if value
        }
        if not address:
            raise ValueError("a message needs touser, toparty or totag")
        body: JSON = {**address, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content}
        answer = await self._call("POST", "/cgi-bin/message/send", body=body)
        code = answer.get("response_code")
        return SentMessage(
            msgid=str(answer.get("msgid", "")),
            response_code=str(code) if code else None,
            invalid_users=_parts(answer.get("invaliduser")),
            invalid_parties=_parts(answer.get("invalidparty")),
            invalid_tags=_parts(answer.get("invalidtag")),
        )

    async def send_card(
        self,
        card: JSON,
        *,
        touser: Recipients = None,
        toparty: Recipients = None,
        totag: Recipients = None,
    ) -> SentMessage:
        """Send a template card; a button card's answer carries its ``response_code``."""
        return await self._send("template_card", card, touser, toparty, totag)

    async def update_card(
        self,
        response_code: str,
        *,
        userids: Sequence[str] = (),
        atall: bool = False,
        partyids: Sequence[int] = (),
        tagids: Sequence[int] = (),
        card: JSON | None = None,
        replace_name: str | None = None,
    ) -> tuple[str, ...]:
        """Update a sent card once: grey its buttons out showing ``replace_name``, or
        replace it with ``card``; for ``userids`` (or everyone who got it, ``atall``).

        Returns the userids WeCom called invalid.
        """
        if (card is None) == (replace_name is None):
            raise ValueError("give exactly one of card and replace_name")
        body: JSON = {"agentid": self.agent_id, "response_code": response_code}
        if atall:
            body["atall"] = 1
        else:
            body.update(userids=list(userids), partyids=list(partyids), tagids=list(tagids))
        if card is not None:
            body["template_card"] = card
        else:
            body["button"] = {"replace_name": replace_name}
        answer = await self._call("POST", "/cgi-bin/message/update_template_card", body=body)
        return _parts(answer.get("invaliduser"))

    async def send_text(
        self,
        text: str,
        *,
        touser: Recipients = None,
        toparty: Recipients = None,
        totag: Recipients = None,
    ) -> SentMessage:
        """Send a text message (WeCom cuts it at 2048 bytes)."""
        return await self._send("text", {"content": text}, touser, toparty, totag)

    async def send_markdown(
        self,
        markdown: str,
        *,
        touser: Recipients = None,
        toparty: Recipients = None,
        totag: Recipients = None,
    ) -> SentMessage:
        """Send a markdown message (at most 2048 bytes)."""
        return await self._send("markdown", {"content": markdown}, touser, toparty, totag)

    async def send_image(
        self,
        media_id: str,
        *,
        touser: Recipients = None,
        toparty: Recipients = None,
        totag: Recipients = None,
    ) -> SentMessage:
        """Send an uploaded image."""
        return await self._send("image", {"media_id": media_id}, touser, toparty, totag)

    # ------------------------------------------------------------------ contacts

    async def user(self, userid: str) -> Member:
        """One member, by userid."""
        answer = await self._call("GET", "/cgi-bin/user/get", {"userid": userid})
        return _member(answer)

    async def department_users(self, department_id: int, recursive: bool = False) -> list[Member]:
        """The members of a department (and of its sub-departments with ``recursive``)."""
        params = {"department_id": str(department_id)}
        if recursive:
            params["fetch_child"] = "1"
        answer = await self._call("GET", "/cgi-bin/user/simplelist", params)
        return [_member(entry) for entry in answer.get("userlist", [])]

    async def tag_users(self, tag_id: int) -> list[Member]:
        """Everyone a message to the tag reaches: its members and its departments' members."""
        answer = await self._call("GET", "/cgi-bin/tag/get", {"tagid": str(tag_id)})
        members = {m.userid: m for m in map(_member, answer.get("userlist", []))}
        for party in answer.get("partylist", []):
            for member in await self.department_users(int(party), recursive=True):
                members.setdefault(member.userid, member)
        return list(members.values())

    # ------------------------------------------------------------------ group robots

    async def robot_send(self, key: str, markdown: str) -> None:
        """Post markdown in a group chat through its robot (20 messages a minute)."""
        await self._robot("markdown", markdown, key)

    async def robot_send_text(self, key: str, text: str) -> None:
        """Post a plain text in a group chat through its robot."""
        await self._robot("text", text, key)

    async def _robot(self, msgtype: str, content: str, key: str) -> None:
        body = dumps({"msgtype": msgtype, msgtype: {"content": content}})
        await self._retrying(
            lambda: self._request("POST", "/cgi-bin/webhook/send", {"key": key}, body)
        )
