"""The support-rate survey: rounds, answers and the rates the district reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage import survey
from storage.db import Database

SUPPORT = ("support", "rather", "rather_not", "against", "unaware")
TARGET = 0.9


@dataclass(frozen=True)
class RoundFigures:
    round_id: int
    started_at: float
    respondents: int
    supporting: int  # 支持 + 比较支持
    aware: int
    answered_aware: int

    @property
    def support_rate(self) -> float | None:
        return self.supporting / self.respondents if self.respondents else None

    @property
    def awareness_rate(self) -> float | None:
        return self.aware / self.answered_aware if self.answered_aware else None


class SurveyService:
    def __init__(
        self, db: Database, every_days: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.every_days = every_days
        self.clock = clock

    async def current_round(self) -> int:
        """The round now open; a new one starts every `every_days`."""
        round_id, _ = await self.open_round()
        return round_id

    async def open_round(self) -> tuple[int, bool]:
        """The round now open, and whether it started just now."""
        now = self.clock()
        async with self.db.transaction() as conn:
            latest = await survey.latest_round(conn)
            if latest is not None and now - latest[1] < self.every_days * 86400:
                return latest[0], False
            created = await survey.insert_round(conn, now)
        return created, True

    async def answer(
        self, resident_id: int, support: str | None = None, aware: bool | None = None
    ) -> None:
        """Record (or change) the resident's answer in the current round."""
        if support is not None and support not in SUPPORT:
            raise ValueError(support)
        round_id = await self.current_round()
        async with self.db.session() as conn:
            await survey.save_answer(conn, round_id, resident_id, support, aware, self.clock())

    async def figures(self, rounds: int = 6) -> list[RoundFigures]:
        """Each of the latest rounds' figures, oldest first (for the trend)."""
        async with self.db.session() as conn:
            rows = await survey.figures(conn, rounds)
        return [RoundFigures(*r) for r in reversed(rows)]
