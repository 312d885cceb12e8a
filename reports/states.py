"""Case states and the rules for moving between them (pure, no I/O)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    REOPENED = "reopened"
    CLOSED = "closed"
    DUPLICATE = "duplicate"


# A case a group still has to act on: deadlines run, duplicates and followers join it.
OPEN_STATUSES = (Status.SUBMITTED, Status.REOPENED, Status.ACCEPTED)


class Action(StrEnum):
    ACCEPT = "accept"
    RESOLVE = "resolve"
    REASSIGN = "reassign"
    REJECT = "reject"
    MERGE = "merge"  # a duplicate of an earlier case: its resident follows that one
    # The resident's (or time's) word on a resolved case.
    REOPEN = "reopen"
    CLOSE = "close"


GROUP_ACTIONS = (Action.ACCEPT, Action.RESOLVE, Action.REASSIGN, Action.REJECT, Action.MERGE)


class TransitionRefused(Exception):
    """The action does not apply to a case in its current state."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action} a {status} case")
        self.status = status
        self.action = action


# The working group's actions. A reassigned case starts again at the new group
# as submitted; a case reopened by its resident is worked like a new one.
_OPEN = (Status.SUBMITTED, Status.REOPENED, Status.ACCEPTED)
_NEXT: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    (Status.REOPENED, Action.ACCEPT): Status.ACCEPTED,
    # A group may finish a quick job without pressing 受理 first.
    **{(s, Action.RESOLVE): Status.RESOLVED for s in _OPEN},
    **{(s, Action.REASSIGN): Status.SUBMITTED for s in _OPEN},
    **{(s, Action.REJECT): Status.REJECTED for s in _OPEN},
    **{(s, Action.MERGE): Status.DUPLICATE for s in _OPEN},
    (Status.RESOLVED, Action.REOPEN): Status.REOPENED,
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
}
# Actions whose note the resident reads, so the group is asked for one.
NOTED_ACTIONS = frozenset({Action.RESOLVE, Action.REJECT, Action.REASSIGN, Action.MERGE})


def next_status(status: Status | str, action: Action | str) -> Status:
    """The state a case moves to, or TransitionRefused."""
    status, action = Status(status), Action(action)
    try:
        return _NEXT[(status, action)]
    except KeyError:
        raise TransitionRefused(status, action) from None


def allowed_actions(status: Status | str) -> list[Action]:
    """The actions a group may still take on a case, in button order."""
    return [a for a in GROUP_ACTIONS if (Status(status), a) in _NEXT]
