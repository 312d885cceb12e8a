"""The web chat's view of working-group members on WeCom: JSON endpoints over a ``WeComStandIn``.

Mounted on the Telegram stand-in's web chat server (``BotApiStandIn.web_mounts``) under
/ui/wecom/, so the same guard checks Host, Origin and JSON bodies::

    view = WeComWebView(wecom, app_name="文明创建工单")
    api.web_mounts.append(view.mount)  # before api.start()

The page lists the corp's members, opens one's chat with the app (texts, and cards as they
look now: greyed buttons after an update, a notice card once nothing is left to do), and
acts as them: a press on a card's button or a text in the app chat is what WeCom's servers
post to the bot (``WeComStandIn.post_card_press`` / ``post_text``). A refusal comes back as
the web chat's refusals do, ``{"ok": false, "error_code", "description"}``, in English; the
page says it in Chinese.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.wecom import CallbackError, Delivered, Posted, StaffError, WeComStandIn

JSON = dict[str, Any]
PREFIX = "/ui/wecom"
MAX_TEXT_CHARS = 2000  # beyond what the page needs; WeCom cuts a member's text much later

# Refusals (English, as the stand-in says them; the page translates).
NOT_JSON = "Bad Request: can't parse JSON object"
UNKNOWN_MEMBER = "Not Found: unknown member"
EMPTY_TEXT = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
NO_CARD = "Bad Request: no such card"
NO_BUTTON = "Bad Request: the button can no longer be pressed"
UNAVAILABLE = "Bad Gateway: the app's server did not answer"


class Refusal(Exception):
    """An action the view refuses, with the HTTP status and the description it answers."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


def _refusal(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status, dumps=_dumps)


def card_entry(item: Delivered) -> JSON:
    """A template card as WeCom shows it now: title, rows, and its buttons (greyed or not)."""
    card = item.card or {}
    main = card.get("main_title") or {}
    rows = [
        {
            "label": str(row.get("keyname", "")),
            "value": str(row.get("value", "")),
            "url": str(row.get("url", "")) if int(row.get("type", 0) or 0) == 1 else "",
        }
        for row in card.get("horizontal_content_list", [])
    ]
    greyed = item.replace_name is not None
    buttons = [
        {
            "text": str(b.get("text", "")),
            "key": str(b.get("key", "")),
            "style": int(b.get("style", 1) or 1),
        }
        for b in card.get("button_list", [])
    ]
    action = card.get("card_action") or {}
    return {
        "kind": "card",
        "card_type": str(card.get("card_type", "")),
        "source": str((card.get("source") or {}).get("desc", "")),
        "title": str(main.get("title", "")),
        "desc": str(main.get("desc", "")),
        "subtitle": str(card.get("sub_title_text", "")),
        "rows": rows,
        "buttons": buttons,
        # Once an update greys the buttons out, WeCom shows one greyed label instead.
        "replaced": item.replace_name if greyed else None,
        "url": str(action.get("url", "")) if int(action.get("type", 0) or 0) == 1 else "",
    }


class WeComWebView:
    """The WeCom members of the web chat (module docstring)."""

    def __init__(self, standin: WeComStandIn, app_name: str = "文明创建工单") -> None:
        self.standin = standin
        self.app_name = app_name
        self._failed: dict[int, str] = {}  # index in standin.posted -> what went wrong

    # ------------------------------------------------------------------ Python side

    def mount(self, app: web.Application) -> None:
        """Add the view's routes to the web chat's app (behind its guard)."""
        app.router.add_get(f"{PREFIX}/members", self._list_members)
        app.router.add_get(f"{PREFIX}/state", self._state)
        app.router.add_post(f"{PREFIX}/press", self._press)
        app.router.add_post(f"{PREFIX}/text", self._text)

    def members(self) -> list[JSON]:
        """The corp's members: userid, name, and the name of their (first) department."""
        return [
            {
                "userid": m.userid,
                "name": m.name,
                "department": self.standin.department_name(m.departments[0])
                if m.departments
                else "",
            }
            for m in self.standin.members()
        ]

    def conversation(self, userid: str) -> list[JSON]:
        """One member's chat with the app, in order: what reached them, and their texts.

        Presses are not messages in WeCom's chat: a card shows them by its new state.
        """
        delivered_at = {id(d): i for i, d in enumerate(self.standin.delivered)}
        posted = [
            (i, p)
            for i, p in enumerate(self.standin.posted)
            if p.userid == userid and p.msgtype == "text"
        ]
        out: list[JSON] = []
        for item in self.standin.sent_to(userid):
            index = delivered_at[id(item)]
            while posted and posted[0][1].after <= index:
                out.append(self._posted_entry(*posted.pop(0)))
            entry = self._delivered_entry(item)
            entry["id"] = f"d{index}"
            out.append(entry)
        out.extend(self._posted_entry(i, p) for i, p in posted)
        return out

    # ------------------------------------------------------------------ rendering

    def _posted_entry(self, index: int, post: Posted) -> JSON:
        entry: JSON = {
            "id": f"p{index}",
            "side": "member",
            "time": int(post.time),
            "kind": "text",
            "text": str(post.fields.get("Content", "")),
        }
        if index in self._failed:
            entry["failed"] = self._failed[index]
        return entry

    def _delivered_entry(self, item: Delivered) -> JSON:
        entry: JSON = {"side": "app", "time": int(item.time), "via": item.via}
        if item.msgtype == "template_card" and item.card is not None:
            entry.update(card_entry(item))
        elif item.msgtype in ("text", "markdown"):
            entry.update(kind=item.msgtype, text=item.text or "")
        else:
            entry["kind"] = item.msgtype
        return entry

    def _version(self) -> str:
        """Changes whenever anything the page shows does (card updates included)."""
        s = self.standin
        seen = (
            len(s.posted),
            len(s.delivered),
            sum(len(d.updates) for d in s.delivered),
            len(self._failed),
            self.members(),
        )
        return hashlib.sha1(_dumps(seen).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ endpoints

    async def _list_members(self, request: web.Request) -> web.StreamResponse:
        body = {"app": {"name": self.app_name}, "members": self.members()}
        return web.json_response(body, dumps=_dumps)

    async def _state(self, request: web.Request) -> web.StreamResponse:
        version = self._version()
        if request.query.get("since") == version:
            return web.json_response({"version": version, "unchanged": True})
        members = self.members()
        body: JSON = {
            "version": version,
            "app": {"name": self.app_name},
            "members": members,
            # Messages per member, so the page can mark the others' new ones.
            "counts": {m["userid"]: len(self.conversation(m["userid"])) for m in members},
        }
        userid = request.query.get("userid")
        if userid:
            if not self._known(userid):
                return _refusal(404, UNKNOWN_MEMBER)
            body["messages"] = self.conversation(userid)
        return web.json_response(body, dumps=_dumps)

    async def _press(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            userid = body["userid"]
            card = self._delivered(str(body.get("message") or ""))
            if card is None or card.userid != userid or card.task_id is None:
                raise Refusal(400, NO_CARD)
            key = str(body.get("key") or "")
            if not key or key not in {k for _, k in card.buttons}:
                raise Refusal(400, NO_BUTTON)
            try:
                posting = self.standin.post_card_press(userid, card.task_id, key)
                return await self._post(userid, posting)
            except StaffError:
                raise Refusal(400, NO_BUTTON) from None

        return await self._act(request, act)

    async def _text(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            text = str(body.get("text") or "")
            if not text.strip():
                raise Refusal(400, EMPTY_TEXT)
            if len(text) > MAX_TEXT_CHARS:
                raise Refusal(400, TEXT_TOO_LONG)
            userid = body["userid"]
            return await self._post(userid, self.standin.post_text(userid, text))

        return await self._act(request, act)

    # ------------------------------------------------------------------ helpers

    def _known(self, userid: str) -> bool:
        return any(m.userid == userid for m in self.standin.members())

    def _delivered(self, message_id: str) -> Delivered | None:
        if not message_id.startswith("d") or not message_id[1:].isdigit():
            return None
        index = int(message_id[1:])
        delivered = self.standin.delivered
        return delivered[index] if index < len(delivered) else None

    async def _act(
        self, request: web.Request, act: Callable[[JSON], Awaitable[Any]]
    ) -> web.StreamResponse:
        """Run one of the member's actions; a refusal is answered, never raised."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _refusal(400, NOT_JSON)
        userid = body.get("userid")
        if not isinstance(userid, str) or not self._known(userid):
            return _refusal(404, UNKNOWN_MEMBER)
        try:
            result = await act(body)
        except Refusal as refusal:
            return _refusal(refusal.status, refusal.description)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _post(self, userid: str, posting: Awaitable[JSON | None]) -> JSON | None:
        """Await one post to the bot; the bot's passive reply, if any (502 if it failed)."""
        before = len(self.standin.posted)
        try:
            return await posting
        except (CallbackError, RuntimeError) as exc:
            posted = self.standin.posted
            mine = [i for i in range(before, len(posted)) if posted[i].userid == userid]
            if mine:
                self._failed[mine[0]] = str(exc)
            raise Refusal(502, f"{UNAVAILABLE}: {exc}") from None
