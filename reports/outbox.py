"""The outbox's vocabulary: what an item is, the kinds of message the domain queues,
and the targets that keep one case's (or one chat's) messages in order.

`storage/outbox.py` keeps the items; the channels render each kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUP_ALERT = "group_alert"
EDIT_ALERT = "edit_alert"
NOTIFY_RESIDENT = "notify_resident"
DEADLINE_NOTICE = "deadline_notice"
RELAY_QUESTION = "relay_question"
RELAY_ANSWER = "relay_answer"
DIGEST = "digest"
WEEKLY_REPORT = "weekly_report"
TICKET_RECEIPT = "ticket_receipt"
REFUSAL_NOTICE = "refusal_notice"  # to roles.notices: a message refused for good
# A weekly report or refusal notice has its group's key as target (roles.*).


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    target: str
    report_id: int | None
    payload: dict[str, Any]
    status: str
    step: int
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    sent_at: float | None
    transient: int = 0  # 1: waiting after a timeout, a dropped connection or a 5xx


def alert_target(report_id: int) -> str:
    """A report's alert and its later edits go out in order; other reports' alerts need not
    wait for them (a group chat that is down holds up only its own reports)."""
    return f"report:{report_id}"


def chat_target(chat_id: int) -> str:
    return f"chat:{chat_id}"
