"""What WeCom pushed to the app's callback, as plain data: no wechatpy type leaves this module.

The fields are read from the decrypted XML itself: wechatpy's enterprise parser
knows no template_card_event, and a plain reading refuses a DTD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from handlers.callback import MalformedMessage, xml_fields

# What the handlers act on: a press on a template card's button, a member's text,
# any other event; any other message (image, voice, location...) is "other".
KINDS = ("card_press", "text", "event", "other")
CARD_EVENT = "template_card_event"


@dataclass(frozen=True)
class WeComInbound:
    """One message or event from a member of the corp, as WeCom described it."""

    userid: str  # the member (FromUserName): their userid in the corp's directory
    kind: str  # one of KINDS
    key: str  # the same for WeCom's retries of this push, distinct otherwise
    created_at: datetime  # CreateTime, in UTC
    agent_id: int | None = None  # AgentID: the app pushed to (None if it did not say)
    text: str = ""  # text: its content
    task_id: str = ""  # card_press: the card's task_id, as it was sent
    button_key: str = ""  # card_press: the pressed button's key (EventKey); event: EventKey
    response_code: str = ""  # card_press: spent once (72 h) to update the card through the API
    card_type: str = ""  # card_press: "button_interaction" for ours
    event: str = ""  # card_press and event: the event's name, lowercased


def wecom_inbound_from_xml(xml: str) -> WeComInbound:
    """Read one decrypted push; raise MalformedMessage if it is not a message or event."""
    fields = xml_fields(xml)
    msg_type = fields.get("MsgType", "").lower()
    userid = fields.get("FromUserName", "")
    if not msg_type or not userid:
        raise MalformedMessage("no MsgType or FromUserName")
    try:
        created = int(fields.get("CreateTime", ""))
    except ValueError:
        raise MalformedMessage(f"CreateTime {fields.get('CreateTime')!r} is not a time") from None
    base = {
        "userid": userid,
        "created_at": datetime.fromtimestamp(created, tz=UTC),
        "agent_id": _agent_id(fields.get("AgentID", "")),
    }
    if msg_type == "event":
        event = fields.get("Event", "").lower()
        task_id, event_key = fields.get("TaskId", ""), fields.get("EventKey", "")
        # Events have no MsgId: WeCom's advice is FromUserName + CreateTime, and the card
        # and button tell two presses of one second apart.
        key = f"event:{userid}:{created}:{event}:{task_id}:{event_key}"
        if event == CARD_EVENT:
            return WeComInbound(
                kind="card_press",
                key=key,
                event=event,
                task_id=task_id,
                button_key=event_key,
                response_code=fields.get("ResponseCode", ""),
                card_type=fields.get("CardType", ""),
                **base,
            )
        return WeComInbound(kind="event", key=key, event=event, button_key=event_key, **base)
    key = f"msg:{fields['MsgId']}" if fields.get("MsgId") else f"msg:{userid}:{created}"
    if msg_type == "text":
        return WeComInbound(kind="text", key=key, text=fields.get("Content", ""), **base)
    return WeComInbound(kind="other", key=key, **base)


def _agent_id(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
