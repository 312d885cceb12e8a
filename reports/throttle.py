"""How many messages one resident may send in a while, and what happens beyond.

A resident who sends more than `limit` messages within `seconds` is told once
that they are going too fast; what they send after that is not processed
until the oldest counted message leaves the window. Times are the messages'
own (when they were sent, not when the bot got round to them), so a backlog
that waited behind a slow reply is judged as it was sent.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ADMIT = "admit"
    WARN = "warn"  # the first message over the limit: say so, once
    DROP = "drop"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    wait: int = 0  # whole seconds until a message would be admitted again


class Throttle:
    """A sliding window of admitted messages per resident."""

    # Residents idle this many windows are forgotten, so memory follows activity.
    FORGET_AFTER_WINDOWS = 2

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._admitted: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._album: dict[int, str] = {}
        self._swept_at = 0.0

    def check(self, resident: int, at: float, album: str | None = None) -> Decision:
        """Judge a message a resident sent at `at`; an album's later photos count once."""
        self._sweep(at)
        if album is not None and self._album.get(resident) == album:
            return Decision(Verdict.ADMIT)
        times = self._admitted.setdefault(resident, deque())
        while times and at - times[0] >= self.seconds:
            times.popleft()
        if len(times) < self.limit:
            times.append(at)
            self._warned.discard(resident)
            if album is not None:
                self._album[resident] = album
            return Decision(Verdict.ADMIT)
        wait = max(1, int(times[0] + self.seconds - at + 0.999))
        if resident in self._warned:
            return Decision(Verdict.DROP, wait)
        self._warned.add(resident)
        return Decision(Verdict.WARN, wait)

    def _sweep(self, now: float) -> None:
        horizon = self.seconds * self.FORGET_AFTER_WINDOWS
        if now - self._swept_at < horizon:
            return
        self._swept_at = now
        for resident in [r for r, t in self._admitted.items() if not t or now - t[-1] > horizon]:
            del self._admitted[resident]
            self._warned.discard(resident)
            self._album.pop(resident, None)
