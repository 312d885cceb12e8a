"""What WeChat pushed to the callback, as plain data: no wechatpy type leaves this module.

WeChat's XML is read by wechatpy's parser; the few fields it does not model
(`bizmsgmenuid`, the choice of a 客服消息 menu tapped, which arrives as a text
message) are read from the XML itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from wechatpy import parse_message
from wechatpy.events import BaseEvent
from wechatpy.messages import BaseMessage

from handlers.callback import MalformedMessage, xml_fields

# What the handlers act on; any other message type is "other" (its type kept).
KINDS = ("text", "image", "location", "voice", "event", "other")


@dataclass(frozen=True)
class Inbound:
    """One message or event from a resident, as WeChat described it."""

    openid: str  # the resident (FromUserName), stable for this Official Account
    kind: str  # one of KINDS
    key: str  # the same for WeChat's retries of this push, distinct otherwise
    created_at: datetime  # CreateTime, in UTC
    account: str = ""  # ToUserName: the Official Account's original id (gh_...)
    text: str = ""  # a text's content; a voice's Recognition ("" if not recognised)
    media_id: str = ""  # image and voice (and video...): fetch it from WeChat's media API
    pic_url: str = ""  # image
    latitude: float | None = None  # location (Location_X), LOCATION event
    longitude: float | None = None  # location (Location_Y), LOCATION event
    label: str = ""  # location: the place's name as WeChat's map gave it
    event: str = ""  # "subscribe", "unsubscribe", "click", "view", "scan", "location"...
    event_key: str = ""  # click: the menu key; subscribe/scan: the QR scene; view: the URL
    menu_choice: str = ""  # text: the bizmsgmenuid of a 客服消息 menu option tapped
    original_type: str = ""  # other: "video", "shortvideo", "link", "file"...


def inbound_from_xml(xml: str) -> Inbound:
    """Read one pushed message or event; raise MalformedMessage if it is not one."""
    fields = xml_fields(xml)
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        raise MalformedMessage("no MsgType or FromUserName")
    try:
        created = int(fields.get("CreateTime", ""))
    except ValueError:
        raise MalformedMessage(f"CreateTime {fields.get('CreateTime')!r} is not a time") from None
    try:
        message = parse_message(xml)
    except Exception as exc:  # wechatpy converts fields as it reads them
        raise MalformedMessage(f"wechatpy cannot read it: {exc!r}") from None
    openid = fields["FromUserName"]
    base = {
        "openid": openid,
        "created_at": datetime.fromtimestamp(created, tz=UTC),
        "account": fields.get("ToUserName", ""),
    }
    if isinstance(message, BaseEvent) or fields["MsgType"].lower() == "event":
        event, event_key = _event_name_and_key(message, fields)
        extra = {}
        if event == "location":  # the position reported when a resident opens the chat
            extra = {
                "latitude": _number(fields.get("Latitude")),
                "longitude": _number(fields.get("Longitude")),
            }
        return Inbound(
            kind="event",
            key=f"event:{openid}:{created}:{event}",
            event=event,
            event_key=event_key,
            **base,
            **extra,
        )
    key = f"msg:{fields['MsgId']}" if fields.get("MsgId") else f"msg:{openid}:{created}"
    kind = message.type if message.type in KINDS else "other"
    if kind == "text":
        return Inbound(
            kind="text",
            key=key,
            text=message.content or "",
            menu_choice=fields.get("bizmsgmenuid", ""),
            **base,
        )
    if kind == "image":
        return Inbound(
            kind="image",
            key=key,
            media_id=message.media_id or "",
            pic_url=message.image or "",
            **base,
        )
    if kind == "voice":
        return Inbound(
            kind="voice",
            key=key,
            media_id=message.media_id or "",
            text=(message.recognition or "").strip(),
            **base,
        )
    if kind == "location":
        return Inbound(
            kind="location",
            key=key,
            latitude=_number(message.location_x),
            longitude=_number(message.location_y),
            label=message.label or "",
            **base,
        )
    return Inbound(
        kind="other",
        key=key,
        media_id=fields.get("MediaId", ""),
        original_type=fields["MsgType"].lower(),
        **base,
    )


def _event_name_and_key(message: BaseMessage, fields: dict[str, str]) -> tuple[str, str]:
    """The event as WeChat names it, lowercased; a scan-to-follow is a subscribe."""
    event = fields.get("Event", "").lower()
    if event in ("subscribe", "scan"):
        # wechatpy strips "qrscene_" from a scan-to-follow's scene; the same for both.
        scene = getattr(message, "scene_id", None) or getattr(message, "key", None) or ""
        return event, str(scene)
    if event == "click":
        return event, getattr(message, "key", None) or fields.get("EventKey", "")
    return event, fields.get("EventKey", "")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
