"""Quiz scoring, streaks and masked names (pure rules, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

POINTS_PER_CORRECT = 10


def is_correct(chosen: Iterable[int], correct: Iterable[int]) -> bool:
    """Right only when the options chosen are exactly the correct ones (order aside)."""
    return sorted(chosen) == sorted(correct)


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
