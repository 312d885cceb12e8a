"""The web chat's view of residents on WeChat: JSON endpoints over a ``WeChatStandIn``.

Mounted on the Telegram stand-in's web chat server (``BotApiStandIn.web_mounts``) under
/ui/wechat/, so the same guard checks Host, Origin and JSON bodies::

    view = WeChatWebView(wechat, account_name="文明城区随手拍")
    api.web_mounts.append(view.mount)  # before api.start()

The page lists the residents, opens one's conversation with the account, and acts as them:
each action is what WeChat's servers post to the bot (``WeChatStandIn.post_*``). A refusal
comes back as the web chat's refusals do, ``{"ok": false, "error_code", "description"}``,
in English; the page says it in Chinese.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.wechat import (
    CallbackError,
    Delivered,
    Posted,
    WeChatStandIn,
    _sniff_image,
)

JSON = dict[str, Any]
PREFIX = "/ui/wechat"
MAX_NAME_CHARS = 32
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # what WeChat keeps as an image
MAX_TEXT_CHARS = 2000  # beyond what the page needs; a resident's text has no published limit
KEY_BUTTONS = frozenset({"click"})
# What a template keyword is called on the card, by its type ("thing1" is a 事项 …).
TEMPLATE_LABELS = {
    "first": "",
    "remark": "",
    "thing": "事项",
    "time": "时间",
    "date": "日期",
    "character_string": "编号",
    "phrase": "状态",
    "number": "数量",
    "amount": "金额",
    "name": "姓名",
    "phone_number": "电话",
    "car_number": "车牌",
    "const": "说明",
    "keyword": "内容",
}

# Refusals (English, as the stand-in says them; the page translates).
NOT_JSON = "Bad Request: can't parse JSON object"
UNKNOWN_RESIDENT = "Not Found: unknown resident"
NOT_FOLLOWING = "Forbidden: the resident does not follow the account"
EMPTY_TEXT = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
EMPTY_NAME = "Bad Request: name required"
EMPTY_SPEECH = "Bad Request: speech is empty"
BAD_LOCATION = "Bad Request: wrong latitude or longitude"
NOT_BASE64 = "Bad Request: photo is not base64"
EMPTY_PHOTO = "Bad Request: file must be non-empty"
NOT_AN_IMAGE = "Bad Request: invalid file type"
PHOTO_TOO_BIG = "Bad Request: invalid image size"
NO_MENU = "Bad Request: menu no exist"
NO_BUTTON = "Bad Request: no such menu button"
NO_MENU_ITEM = "Bad Request: no such menu item"
UNAVAILABLE = "Bad Gateway: the account's server did not answer"


class Refusal(Exception):
    """An action the view refuses, with the HTTP status and the description it answers."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _refusal(status: int, description: str, **extra: Any) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


def new_openid() -> str:
    """An openid shaped like WeChat's (28 characters, starting with "o")."""
    return "o" + secrets.token_urlsafe(21)[:27]


def menu_buttons(menu: JSON | None) -> list[JSON]:
    """Every button of a custom menu, sub-buttons included, top-level first."""
    if not menu:
        return []
    found: list[JSON] = []
    for button in menu.get("button", []):
        found.append(button)
        found.extend(button.get("sub_button") or [])
    return found


def template_card(payload: JSON, titles: dict[str, str]) -> JSON:
    """A template message as WeChat shows it: a title, a lead, labelled rows, a remark."""
    data = payload.get("data") or {}
    rows = []
    for key, entry in data.items():
        if key in ("first", "remark"):
            continue
        kind = key.rstrip("0123456789")
        rows.append({"key": key, "label": TEMPLATE_LABELS.get(kind, key), "value": entry["value"]})
    template_id = str(payload.get("template_id") or "")
    return {
        "kind": "template",
        "title": titles.get(template_id, ""),
        "first": (data.get("first") or {}).get("value", ""),
        "rows": rows,
        "remark": (data.get("remark") or {}).get("value", ""),
        "url": payload.get("url") or "",
    }


class WeChatWebView:
    """The WeChat residents of the web chat (module docstring)."""

    def __init__(
        self,
        standin: WeChatStandIn,
        account_name: str = "文明城区随手拍",
        template_titles: dict[str, str] | None = None,
    ) -> None:
        self.standin = standin
        self.account_name = account_name
        #: What each template is called on its card (WeChat shows the template's title).
        self.template_titles: dict[str, str] = dict(template_titles or {})
        #: Display names by openid (WeChat no longer tells an account its followers' names).
        self.names: dict[str, str] = {}
        self._failed: dict[int, str] = {}  # index in standin.posted -> what went wrong

    # ------------------------------------------------------------------ Python side

    def mount(self, app: web.Application) -> None:
        """Add the view's routes to the web chat's app (behind its guard)."""
        app.router.add_get(f"{PREFIX}/residents", self._list_residents)
        app.router.add_post(f"{PREFIX}/residents", self._add_resident)
        app.router.add_get(f"{PREFIX}/state", self._state)
        app.router.add_post(f"{PREFIX}/text", self._text)
        app.router.add_post(f"{PREFIX}/photo", self._photo)
        app.router.add_post(f"{PREFIX}/location", self._location)
        app.router.add_post(f"{PREFIX}/voice", self._voice)
        app.router.add_post(f"{PREFIX}/choose", self._choose)
        app.router.add_post(f"{PREFIX}/click", self._click)
        app.router.add_get(PREFIX + "/media/{media_id}", self._media)

    def name(self, openid: str, display_name: str) -> None:
        """Show ``openid`` as ``display_name`` in the list of WeChat residents."""
        self.names[openid] = display_name

    async def follow(self, display_name: str) -> str:
        """A new resident follows the account (the bot hears the subscribe); their openid."""
        openid = new_openid()
        self.names[openid] = display_name
        await self.standin.post_event(openid, "subscribe")
        return openid

    def residents(self) -> list[JSON]:
        """The residents to show: those named here, then other followers, in order."""
        openids = list(self.names)
        openids += [o for o in self.standin.followers() if o not in self.names]
        openids += [p.openid for p in self.standin.posted if p.openid not in openids]
        return [
            {
                "openid": o,
                "name": self.names.get(o) or "微信用户" + o[-4:],
                "following": self.standin.is_follower(o),
            }
            for o in dict.fromkeys(openids)
        ]

    def conversation(self, openid: str) -> list[JSON]:
        """The messages of one resident's conversation, in order, as the page shows them."""
        posted_at = {id(p): i for i, p in enumerate(self.standin.posted)}
        delivered_at = {id(d): i for i, d in enumerate(self.standin.delivered)}
        out = []
        for item in self.standin.conversation(openid):
            if isinstance(item, Posted):
                index = posted_at[id(item)]
                entry = self._posted_entry(item)
                entry["id"] = f"p{index}"
                if index in self._failed:
                    entry["failed"] = self._failed[index]
            else:
                entry = self._delivered_entry(item)
                entry["id"] = f"d{delivered_at[id(item)]}"
            out.append(entry)
        return out

    # ------------------------------------------------------------------ rendering

    def _media_url(self, media_id: str) -> str:
        return f"{PREFIX}/media/{media_id}"

    def _posted_entry(self, post: Posted) -> JSON:
        f = post.fields
        entry: JSON = {"side": "resident", "time": int(post.time), "kind": post.msgtype}
        if post.msgtype == "text":
            entry["text"] = f.get("Content", "")
            if "bizmsgmenuid" in f:
                entry["bizmsgmenuid"] = f["bizmsgmenuid"]
        elif post.msgtype == "image":
            entry["media"] = self._media_url(str(f.get("MediaId", "")))
        elif post.msgtype == "location":
            entry.update(
                latitude=float(f["Location_X"]),
                longitude=float(f["Location_Y"]),
                label=f.get("Label", ""),
            )
        elif post.msgtype == "voice":
            entry["recognition"] = f.get("Recognition")
        elif post.msgtype == "event":
            key = str(f.get("EventKey", ""))
            entry.update(event=f.get("Event", ""), key=key)
            names = [
                b.get("name", "")
                for b in menu_buttons(self.standin.menu)
                if key and key in (b.get("key"), b.get("url"))
            ]
            entry["label"] = names[0] if names else key
        return entry

    def _delivered_entry(self, item: Delivered) -> JSON:
        p = item.payload
        entry: JSON = {"side": "account", "time": int(item.time), "via": item.via}
        if item.msgtype == "template":
            entry.update(template_card(p, self.template_titles))
        elif item.msgtype == "text":
            entry.update(kind="text", text=item.text)
        elif item.msgtype == "msgmenu":
            entry.update(
                kind="msgmenu",
                head=p.get("head_content", ""),
                items=[{"id": i, "content": c} for i, c in item.choices],
                tail=p.get("tail_content", ""),
            )
        elif item.msgtype == "image":
            media_id = p.get("media_id") or (p.get("Image") or {}).get("MediaId", "")
            entry.update(kind="image", media=self._media_url(str(media_id)))
        elif item.msgtype == "news":
            articles = p.get("articles") or [{}]
            entry.update(
                kind="news",
                title=articles[0].get("title", ""),
                description=articles[0].get("description", ""),
                url=articles[0].get("url", ""),
            )
        else:
            entry["kind"] = item.msgtype
        return entry

    def _version(self) -> str:
        """Changes whenever anything the page shows does."""
        s = self.standin
        seen = (
            len(s.posted),
            len(s.delivered),
            len(self._failed),
            sorted(self.names.items()),
            s.followers(),
            s.menu,
        )
        return hashlib.sha1(_dumps(seen).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ endpoints

    async def _list_residents(self, request: web.Request) -> web.StreamResponse:
        body = {
            "account": {"name": self.account_name, "id": self.standin.account_id},
            "residents": self.residents(),
        }
        return web.json_response(body, dumps=_dumps)

    async def _state(self, request: web.Request) -> web.StreamResponse:
        version = self._version()
        if request.query.get("since") == version:
            return web.json_response({"version": version, "unchanged": True})
        residents = self.residents()
        body: JSON = {
            "version": version,
            "account": {"name": self.account_name, "id": self.standin.account_id},
            "residents": residents,
            # Messages per resident, so the page can mark the others' new ones.
            "counts": {r["openid"]: len(self.standin.conversation(r["openid"])) for r in residents},
            "menu": self.standin.menu,
        }
        openid = request.query.get("openid")
        if openid:
            if not self._known(openid):
                return _refusal(404, UNKNOWN_RESIDENT)
            body["messages"] = self.conversation(openid)
        return web.json_response(body, dumps=_dumps)

    async def _add_resident(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            name = str(body.get("name") or "").strip()
            if not name:
                raise Refusal(400, EMPTY_NAME)
            openid = new_openid()
            self.names[openid] = name[:MAX_NAME_CHARS]
            # The follow is WeChat's own: it stands even if the bot does not answer.
            await self._post(openid, self.standin.post_event(openid, "subscribe"))
            return {"openid": openid, "name": self.names[openid]}

        return await self._act(request, act, needs_resident=False)

    async def _text(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            text = str(body.get("text") or "")
            if not text.strip():
                raise Refusal(400, EMPTY_TEXT)
            if len(text) > MAX_TEXT_CHARS:
                raise Refusal(400, TEXT_TOO_LONG)
            return await self._post(body["openid"], self.standin.post_text(body["openid"], text))

        return await self._act(request, act)

    async def _photo(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            try:
                data = base64.b64decode(str(body.get("data") or ""), validate=True)
            except (binascii.Error, ValueError):
                raise Refusal(400, NOT_BASE64) from None
            if not data:
                raise Refusal(400, EMPTY_PHOTO)
            if _sniff_image(data) is None:
                raise Refusal(400, NOT_AN_IMAGE)
            if len(data) > MAX_PHOTO_BYTES:
                raise Refusal(400, PHOTO_TOO_BIG)
            return await self._post(body["openid"], self.standin.post_image(body["openid"], data))

        return await self._act(request, act)

    async def _location(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            try:
                latitude, longitude = float(body["latitude"]), float(body["longitude"])
            except (KeyError, ValueError, TypeError):
                raise Refusal(400, BAD_LOCATION) from None
            if not (
                math.isfinite(latitude)
                and math.isfinite(longitude)
                and -90 <= latitude <= 90
                and -180 <= longitude <= 180
            ):
                raise Refusal(400, BAD_LOCATION)
            label = str(body.get("label") or "")
            post = self.standin.post_location(body["openid"], latitude, longitude, label)
            return await self._post(body["openid"], post)

        return await self._act(request, act)

    async def _voice(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            speech = str(body.get("recognition") or "").strip()
            if not speech:
                raise Refusal(400, EMPTY_SPEECH)
            return await self._post(body["openid"], self.standin.post_voice(body["openid"], speech))

        return await self._act(request, act)

    async def _choose(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            openid = body["openid"]
            message, item_id = str(body.get("message") or ""), str(body.get("item") or "")
            menu = self._delivered(message)
            if menu is None or menu.openid != openid or menu.msgtype != "msgmenu":
                raise Refusal(400, NO_MENU_ITEM)
            content = dict(menu.choices).get(item_id)
            if content is None:
                raise Refusal(400, NO_MENU_ITEM)
            return await self._post(openid, self.standin.post_menu_reply(openid, item_id, content))

        return await self._act(request, act)

    async def _click(self, request: web.Request) -> web.StreamResponse:
        async def act(body: JSON) -> Any:
            if self.standin.menu is None:
                raise Refusal(400, NO_MENU)
            key = str(body.get("key") or "")
            buttons = [
                b
                for b in menu_buttons(self.standin.menu)
                if b.get("type") in KEY_BUTTONS and b.get("key") == key
            ]
            if not key or not buttons:
                raise Refusal(400, NO_BUTTON)
            return await self._post(
                body["openid"], self.standin.post_event(body["openid"], "CLICK", key)
            )

        return await self._act(request, act)

    async def _media(self, request: web.Request) -> web.StreamResponse:
        media = self.standin.media(request.match_info["media_id"])
        if media is None:
            return _refusal(404, "Not Found: unknown media")
        return web.Response(body=media.data, content_type=media.content_type)

    # ------------------------------------------------------------------ helpers

    def _known(self, openid: str) -> bool:
        return any(r["openid"] == openid for r in self.residents())

    def _delivered(self, message_id: str) -> Delivered | None:
        if not message_id.startswith("d") or not message_id[1:].isdigit():
            return None
        index = int(message_id[1:])
        delivered = self.standin.delivered
        return delivered[index] if index < len(delivered) else None

    async def _act(
        self,
        request: web.Request,
        act: Callable[[JSON], Awaitable[Any]],
        needs_resident: bool = True,
    ) -> web.StreamResponse:
        """Run one of the resident's actions; a refusal is answered, never raised."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _refusal(400, NOT_JSON)
        if needs_resident:
            openid = body.get("openid")
            if not isinstance(openid, str) or not self._known(openid):
                return _refusal(404, UNKNOWN_RESIDENT)
            if not self.standin.is_follower(openid):
                return _refusal(403, NOT_FOLLOWING)
        try:
            result = await act(body)
        except Refusal as refusal:
            return _refusal(refusal.status, refusal.description)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _post(self, openid: str, posting: Awaitable[JSON | None]) -> JSON | None:
        """Await one post to the bot; the bot's passive reply, if any (502 if it failed)."""
        before = len(self.standin.posted)
        try:
            return await posting
        except (CallbackError, RuntimeError) as exc:
            # WeChat shows the message sent, then says the account cannot serve.
            posted = self.standin.posted
            mine = [i for i in range(before, len(posted)) if posted[i].openid == openid]
            if mine:
                self._failed[mine[0]] = str(exc)
            raise Refusal(502, f"{UNAVAILABLE}: {exc}") from None
