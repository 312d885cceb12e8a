"""The reporting domain's records: a resident's draft, the case it is filed as, the
steps of a case's history, and a working group's pending request for a note.

Plain frozen dataclasses, so the services, the channels and `storage/` (which
builds them from rows) share one shape; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Draft:
    """What a resident is composing before pressing 确认."""

    id: int
    resident_id: int
    text: str
    category: str
    confidence: float
    keywords: tuple[str, ...]
    photos: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    address: str | None
    media_group_id: str | None
    status: str
    report_id: int | None
    created_at: float
    updated_at: float
    offered_report_id: int | None = None  # the open case the bot offered to follow
    area: str | None = None  # the key of the area it is placed in (reports/areas.py)


@dataclass(frozen=True)
class Report:
    """A filed report: the case a working group acts on."""

    id: int
    ticket: str
    resident_id: int
    text: str
    category: str
    group_key: str
    confidence: float
    photos: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    address: str | None
    status: str
    note: str | None
    created_at: float
    updated_at: float
    assigned_at: float
    rating: str | None = None
    rated_at: float | None = None
    reopened: int = 0
    accepted_at: float | None = None
    resolved_at: float | None = None
    area: str | None = None  # the key of the area it happened in (reports/areas.py)


@dataclass(frozen=True)
class Event:
    """One step of a case's history: what, by whom (staff only), why, where."""

    id: int
    report_id: int
    action: str
    status: str
    actor_id: int | None
    actor_name: str | None
    note: str | None
    at: float
    group_key: str | None = None
    to_group: str | None = None


@dataclass(frozen=True)
class NotePrompt:
    """The bot's request for a note (办结, 退回 or 转派; 不满意's comment), which the
    answer to it completes."""

    id: int
    report_id: int
    action: str
    to_group: str | None
    status: str
    created_at: float
    staff_id: int | None = None  # asked of a member (办结, 退回, 转派, 重复)
    resident_id: int | None = None  # asked of a resident (不满意's comment)


@dataclass(frozen=True)
class MessageRef:
    """A channel's own message and what in the domain it shows (a draft's card, a case's
    alert, a prompt, a relayed question): kept by the channel's adapter, so that a
    reply to the message, or a button under it, finds its subject."""

    channel: str
    chat: str
    message_id: str
    subject: str
    subject_id: int
    generation: float | None
    at: float
    token: str | None = None  # the channel's handle to change the message (WeCom's code)
    token_at: float | None = None


@dataclass(frozen=True)
class Nomination:
    """A good deed a resident recommends (身边好人), for 宣传教育组 to select or not."""

    id: int
    resident_id: int
    text: str
    address: str | None
    latitude: float | None
    longitude: float | None
    photos: tuple[str, ...]
    media_group_id: str | None
    occurred: str
    may_name: int | None  # None unknown, 0 no, 1 yes
    status: str  # open | submitted | selected | declined | cancelled
    created_at: float
    updated_at: float
    submitted_at: float | None = None
    decided_at: float | None = None
    decided_by: int | None = None
    decided_by_name: str | None = None
