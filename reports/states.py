"""Case states and the rules for moving between them (pure, no I/O)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"


class Action(StrEnum):
    ACCEPT = "accept"
    RESOLVE = "resolve"


class TransitionRefused(Exception):
    """The action does not apply to a case in its current state."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action} a {status} case")
        self.status = status
        self.action = action


_NEXT: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    # A group may finish a quick job without pressing 受理 first.
    (Status.SUBMITTED, Action.RESOLVE): Status.RESOLVED,
    (Status.ACCEPTED, Action.RESOLVE): Status.RESOLVED,
}


def next_status(status: Status | str, action: Action | str) -> Status:
    """The state a case moves to, or TransitionRefused."""
    status, action = Status(status), Action(action)
    try:
        return _NEXT[(status, action)]
    except KeyError:
        raise TransitionRefused(status, action) from None


def allowed_actions(status: Status | str) -> list[Action]:
    """The actions a group may still take on a case, in button order."""
    return [a for (s, a) in _NEXT if s == Status(status)]
