"""Quiz scoring, streaks and masked names (pure rules, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from random import Random

POINTS_PER_CORRECT = 10


def is_correct(chosen: Iterable[int], correct: Iterable[int]) -> bool:
    """Right only when the options chosen are exactly the correct ones (order aside)."""
    return sorted(chosen) == sorted(correct)


def shuffled_order(count: int, rng: Random) -> tuple[int, ...]:
    """A random order to show `count` options in: the bank's index of each, as shown."""
    order = list(range(count))
    rng.shuffle(order)
    return tuple(order)


def to_bank(shown: Iterable[int], order: Sequence[int] | None) -> list[int]:
    """The bank's indexes of the options chosen by their shown positions (None: the bank's
    order); a position that was never shown maps to -1, which no correct set holds."""
    if order is None:
        return list(shown)
    return [order[i] if 0 <= i < len(order) else -1 for i in shown]


def points(correct: bool) -> int:
    """What one answer earns."""
    return POINTS_PER_CORRECT if correct else 0


def streak(times: list[float], now: float, day_start: Callable[[float], float]) -> int:
    """Consecutive local days with an answer, counting back from today (or yesterday)."""
    days = {day_start(t) for t in times}
    today = day_start(now)
    day = today if today in days else day_start(today - 1)
    count = 0
    while day in days:
        count += 1
        day = day_start(day - 1)
    return count


def mask(name: str) -> str:
    """王小明 → 王**: enough to recognise oneself, not to find anyone."""
    name = name.strip() or "匿名"
    return name[0] + "*" * max(1, len(name) - 1)
