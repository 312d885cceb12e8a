"""The quiz domain's records: rounds and the polls they went out as, the leaderboard's
standings, and the recipients and progress of a day's push.

Plain frozen dataclasses, so the services, the channels and `storage/` (which
builds them from rows) share one shape; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Round:
    id: int
    resident_id: int
    topic: str | None
    questions: tuple[str, ...]
    position: int
    status: str


@dataclass(frozen=True)
class Poll:
    poll_id: str
    round_id: int
    question_id: str
    position: int
    sent_at: float
    answered_at: float | None
    correct: int | None
    expires_at: float | None
    # The bank's index of each option in the order shown; None: shown in the bank's order.
    shown_order: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Standing:
    rank: int
    resident_id: int
    name: str
    points: int
    as_is: bool = False  # shown unmasked (a generated or chosen nickname)


@dataclass(frozen=True)
class Recipient:
    run_id: int
    resident_id: int
    external_id: str  # the resident on the push's channel (a Telegram user id, an openid)
    attempts: int
    kind: str  # what is pushed: "quiz" or "survey"


@dataclass(frozen=True)
class Progress:
    run_id: int
    day: str
    sent: int
    pending: int
    failed: int
    skipped: int = 0  # outside their channel's window (WeChat: 48 h since they last wrote)
