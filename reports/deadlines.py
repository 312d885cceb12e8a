"""Deadlines: when a case is late, and what that calls for (pure rules, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reports.states import Status

HOUR = 3600.0


class Kind(StrEnum):
    ACCEPT = "accept"
    RESOLVE = "resolve"


class Level(StrEnum):
    REMIND = "remind"  # to the group itself
    ESCALATE = "escalate"  # to the supervision group


@dataclass(frozen=True)
class Limits:
    accept_hours: float
    resolve_hours: float
    escalate_after_hours: float


@dataclass(frozen=True)
class Notice:
    kind: Kind
    level: Level
    late: float  # seconds past the deadline


_AWAITING = {
    Kind.ACCEPT: frozenset({Status.SUBMITTED, Status.REOPENED}),
    Kind.RESOLVE: frozenset({Status.SUBMITTED, Status.REOPENED, Status.ACCEPTED}),
}


def due(assigned_at: float, limits: Limits, kind: Kind) -> float:
    hours = limits.accept_hours if kind == Kind.ACCEPT else limits.resolve_hours
    return assigned_at + hours * HOUR


def notices(status: str, assigned_at: float, limits: Limits, now: float) -> list[Notice]:
    """Every notice a case has earned by now: a reminder once late, and an escalation
    once late by more than `escalate_after_hours`. Which were sent is not this
    function's business; the caller records them and sends each once."""
    found = []
    for kind in Kind:
        if Status(status) not in _AWAITING[kind]:
            continue
        late = now - due(assigned_at, limits, kind)
        if late <= 0:
            continue
        found.append(Notice(kind, Level.REMIND, late))
        if late > limits.escalate_after_hours * HOUR:
            found.append(Notice(kind, Level.ESCALATE, late))
    return found


@dataclass(frozen=True)
class Due:
    kind: Kind
    at: float


def next_due(status: str, assigned_at: float, limits: Limits) -> Due | None:
    """The deadline a case is working towards now, if any."""
    for kind in Kind:
        if Status(status) in _AWAITING[kind]:
            return Due(kind, due(assigned_at, limits, kind))
    return None
