"""A case's alert as a WeCom template card: pure functions, no network.

A case the group can still act on is a ``button_interaction`` card whose buttons are the
alert's choices (each button's key is the choice's callback data); a case with nothing
left to do, or handed to another group, is a ``text_notice`` card without buttons. Both
keep within WeCom's limits: a ``task_id`` of letters, digits and ``_-@`` of at most 128
bytes, at most 6 rows and 6 buttons, and the lengths WeCom gives for each text (longer
texts are cut, ending in "…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dialogue import texts
from dialogue.choices import Keyboard
from dialogue.render import Renderer
from reports.records import Event, Nomination, Report

JSON = dict[str, Any]

BUTTON_CARD = "button_interaction"
NOTICE_CARD = "text_notice"
# WeCom's limits on a template card (characters unless said otherwise).
TASK_ID_BYTES = 128
SOURCE_CHARS = 13
TITLE_CHARS = 36
DESC_CHARS = 44
SUB_TITLE_CHARS = 160
MAX_ROWS = 6
KEYNAME_CHARS = 5
VALUE_CHARS = 26
MAX_BUTTONS = 6
BUTTON_TEXT_CHARS = 10
BUTTON_KEY_BYTES = 1024
# A row whose value is a link (WeCom's horizontal_content_list type 1).
LINK_ROW = 1
# Button styles: the first row's (受理, 办结) stand out, the rest are plain.
MAIN_STYLE = 1
OTHER_STYLE = 2
_TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


def task_id(report_id: int, item_id: int, attempt: int, stamp: float) -> str:
    """A card's task_id, unique within the app: the case, the outbox item and its attempt
    (a retry sends a new card: WeCom refuses a task_id it has seen), and the time in ms
    in base 36 (a new database numbers its cases and items from 1 again)."""
    value = f"r{report_id}-{item_id}-{attempt}-{_base36(int(stamp * 1000))}"
    assert valid_task_id(value)
    return value


def valid_task_id(value: str) -> bool:
    """Whether WeCom takes ``value`` as a task_id."""
    return bool(_TASK_ID.fullmatch(value)) and len(value.encode("utf-8")) <= TASK_ID_BYTES


@dataclass(frozen=True)
class CardView:
    """What an alert card shows: the case, its history, and the choices still open."""

    report: Report
    history: list[Event]
    choices: Keyboard | None
    #: Said instead of the submission time on a card without buttons (handed over ...).
    footer: str | None = None


def alert_card(render: Renderer, view: CardView, task: str, link: str) -> JSON:
    """The card of an alert: with its choices as buttons, or a notice if none is left.

    ``link`` is where a card without buttons leads when tapped (WeCom's text_notice
    card needs one): the case's map when it has a location, else ``link``.
    """
    report = view.report
    title = texts.WECOM_CARD_TITLE.format(
        ticket=report.ticket, category=render.category(report.category)
    )
    buttons = _buttons(view.choices)
    status = texts.STATUS_NAMES.get(report.status, report.status)
    if view.footer:
        desc = view.footer
    elif not buttons:
        desc = texts.WECOM_CARD_DONE.format(status=status)
    else:
        desc = texts.WECOM_CARD_SUBMITTED.format(time=render.time(report.created_at))
    card: JSON = {
        "card_type": BUTTON_CARD if buttons else NOTICE_CARD,
        "source": {"desc": clip(texts.WECOM_CARD_SOURCE, SOURCE_CHARS)},
        "main_title": {"title": clip(title, TITLE_CHARS), "desc": clip(desc, DESC_CHARS)},
        "sub_title_text": clip(report.text.strip() or texts.WECOM_CARD_NO_TEXT, SUB_TITLE_CHARS),
        "horizontal_content_list": _rows(render, report, view.history),
        "task_id": task,
    }
    if buttons:
        card["button_list"] = buttons
    else:
        card["card_action"] = {"type": 1, "url": map_link(render, report) or link}
    return card


def nomination_task_id(nomination_id: int, item_id: int, attempt: int, stamp: float) -> str:
    """A nomination card's task_id (as `task_id`, with "n" for the nomination)."""
    value = f"n{nomination_id}-{item_id}-{attempt}-{_base36(int(stamp * 1000))}"
    assert valid_task_id(value)
    return value


def nomination_card(
    render: Renderer, nomination: Nomination, choices: Keyboard | None, task: str, link: str
) -> JSON:
    """A nomination's card for the praise group: 选入 / 暂不选入 as buttons while it waits,
    a notice with the decision once made."""
    buttons = _buttons(choices)
    decision = render.nomination_decision(nomination)
    sent = nomination.submitted_at or nomination.created_at
    desc = decision or texts.WECOM_CARD_SUBMITTED.format(time=render.time(sent))
    rows = []
    if nomination.address:
        rows.append(_row(texts.WECOM_ROW_ADDRESS, nomination.address))
    if nomination.latitude is not None and nomination.longitude is not None:
        url = render.map_url(nomination.latitude, nomination.longitude)
        rows.append(
            {**_row(texts.WECOM_ROW_MAP, texts.WECOM_MAP_LINK), "type": LINK_ROW, "url": url}
        )
    rows.append(_row(texts.WECOM_ROW_OCCURRED, nomination.occurred))
    if nomination.photos:
        count = texts.WECOM_PHOTOS_COUNT.format(count=len(nomination.photos))
        rows.append(_row(texts.WECOM_ROW_PHOTOS, count))
    rows.append(_row(texts.WECOM_ROW_NAMED, texts.WECOM_NAMED[nomination.may_name]))
    card: JSON = {
        "card_type": BUTTON_CARD if buttons else NOTICE_CARD,
        "source": {"desc": clip(texts.WECOM_NOMINATION_SOURCE, SOURCE_CHARS)},
        "main_title": {
            "title": clip(texts.WECOM_NOMINATION_TITLE.format(id=nomination.id), TITLE_CHARS),
            "desc": clip(desc, DESC_CHARS),
        },
        "sub_title_text": clip(
            nomination.text.strip() or texts.WECOM_CARD_NO_TEXT, SUB_TITLE_CHARS
        ),
        "horizontal_content_list": rows[:MAX_ROWS],
        "task_id": task,
    }
    if buttons:
        card["button_list"] = buttons
    else:
        card["card_action"] = {"type": 1, "url": link}
    return card


def map_link(render: Renderer, report: Report) -> str | None:
    """The case's location on the map, if it has one."""
    if report.latitude is None or report.longitude is None:
        return None
    return render.map_url(report.latitude, report.longitude)


def _rows(render: Renderer, report: Report, history: list[Event]) -> list[JSON]:
    """The state first, then where, the photos, the latest step: at most WeCom's six."""
    rows = [_row(texts.WECOM_ROW_STATUS, texts.STATUS_NAMES.get(report.status, report.status))]
    area = render.area(report.area)
    if area:
        rows.append(_row(texts.WECOM_ROW_AREA, area))
    if report.address:
        rows.append(_row(texts.WECOM_ROW_ADDRESS, report.address))
    url = map_link(render, report)
    if url:
        rows.append(
            {**_row(texts.WECOM_ROW_MAP, texts.WECOM_MAP_LINK), "type": LINK_ROW, "url": url}
        )
    if report.photos:
        rows.append(
            _row(texts.WECOM_ROW_PHOTOS, texts.WECOM_PHOTOS_COUNT.format(count=len(report.photos)))
        )
    acted = _latest_step(render, history)
    if acted:
        rows.append(_row(texts.WECOM_ROW_ACTED, acted))
    followers = sum(1 for e in history if e.action == "follow")
    if followers:
        rows.append(_row(texts.WECOM_ROW_FOLLOWERS, texts.WECOM_FOLLOWERS.format(count=followers)))
    if report.rating:
        rating = texts.RATING_NAMES.get(report.rating, report.rating)
        rows.append(_row(texts.WECOM_ROW_RATING, rating))
    return rows[:MAX_ROWS]


def _latest_step(render: Renderer, history: list[Event]) -> str | None:
    """The newest step a member took: what, who, when (and their note, as far as it fits)."""
    for event in reversed(history):
        if not event.actor_name or event.action in ("ask", "answer"):
            continue
        action = texts.ACTION_NAMES.get(event.action, event.action)
        if event.to_group:
            action += texts.ALERT_REASSIGNED_TO.format(group=render.group(event.to_group))
        acted = texts.WECOM_ACTED.format(
            action=action, actor=event.actor_name, time=render.time(event.at)
        )
        if event.note:
            acted = texts.WECOM_ACTED_NOTE.format(acted=acted, note=" ".join(event.note.split()))
        return acted
    return None


def _row(keyname: str, value: str) -> JSON:
    return {"keyname": clip(keyname, KEYNAME_CHARS), "value": clip(value, VALUE_CHARS)}


def _buttons(choices: Keyboard | None) -> list[JSON]:
    """The choices as WeCom buttons, row by row; the first row's stand out."""
    buttons = []
    for index, row in enumerate(choices or ()):
        for choice in row:
            key = choice.data
            assert len(key.encode("utf-8")) <= BUTTON_KEY_BYTES
            style = MAIN_STYLE if index == 0 else OTHER_STYLE
            buttons.append(
                {"text": clip(choice.label, BUTTON_TEXT_CHARS), "style": style, "key": key}
            )
    if len(buttons) > MAX_BUTTONS:
        raise ValueError(f"{len(buttons)} choices: a WeCom card holds {MAX_BUTTONS} buttons")
    return buttons


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (cut ones end in "…")."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out
