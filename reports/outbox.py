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
OFFICE_NOTICE = "office_notice"  # to roles.notices: a channel needs an administrator
# 身边好人: a submitted nomination to roles.praise, its decision shown there, the
# resident told it was selected; a resident's thanks for a case, to the case's group.
NOMINATION_ALERT = "nomination_alert"
NOMINATION_EDIT = "nomination_edit"
NOMINATION_RESULT = "nomination_result"
CASE_THANKS = "case_thanks"
LEADER_COPY = "leader_copy"  # to an area's leader: a read-only copy of an alert or escalation
# A weekly report or refusal notice has its group's key as target (roles.*).

# The channels, by the names rows and refs give them.
TELEGRAM = "telegram"
WECHAT = "wechat"  # the Official Account: residents
WECOM = "wecom"  # the WeCom app: working groups
# The channel a working group's chat is on unless config puts it on WeCom as well or instead.
GROUPS_CHANNEL = TELEGRAM


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
    # Who it is for, on which channel: "resident:<our id>", "group:<key>" or
    # "leader:<area key>:<index in the area's leaders>".
    channel: str = GROUPS_CHANNEL
    recipient: str = ""

    @property
    def resident_id(self) -> int | None:
        """The resident the item is for, if it is for a resident (not a group)."""
        kind, _, value = self.recipient.partition(":")
        return int(value) if kind == "resident" else None


def alert_target(report_id: int) -> str:
    """A report's alert and its later edits go out in order; other reports' alerts need not
    wait for them (a group chat that is down holds up only its own reports)."""
    return f"report:{report_id}"


def nomination_target(nomination_id: int) -> str:
    """A nomination's alert and its later edit go out in order."""
    return f"nomination:{nomination_id}"


def resident_recipient(resident_id: int) -> str:
    """A resident as a recipient, and as the order key of their messages."""
    return f"resident:{resident_id}"


def group_recipient(group_key: str) -> str:
    return f"group:{group_key}"


def leader_recipient(area_key: str, index: int) -> str:
    """An area's leader (by their place in the area's `leaders`), as a recipient and as
    the order key of the copies they get."""
    return f"leader:{area_key}:{index}"


def leader_of(recipient: str) -> tuple[str, int] | None:
    """(area key, index) of a leader recipient; None for anyone else."""
    kind, _, rest = recipient.partition(":")
    area, _, index = rest.rpartition(":")
    if kind != "leader" or not area or not index.isdigit():
        return None
    return area, int(index)
