"""The support-rate survey: rounds, answers and the rates the district reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database, execute, fetch_all, fetch_one

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
            row = await fetch_one(
                conn, "SELECT id, started_at FROM survey_rounds ORDER BY id DESC LIMIT 1"
            )
            if row is not None and now - row[1] < self.every_days * 86400:
                return int(row[0]), False
            created = await fetch_one(
                conn, "INSERT INTO survey_rounds (started_at) VALUES (?) RETURNING id", (now,)
            )
        assert created is not None
        return int(created[0]), True

    async def answer(
        self, resident_id: int, support: str | None = None, aware: bool | None = None
    ) -> None:
        """Record (or change) the resident's answer in the current round."""
        if support is not None and support not in SUPPORT:
            raise ValueError(support)
        round_id = await self.current_round()
        knows = None if aware is None else int(aware)
        async with self.db.session() as conn:
            await execute(
                conn,
                "INSERT INTO survey_answers (round_id, resident_id, support, aware, at)"
                " VALUES (?,?,?,?,?) ON CONFLICT (round_id, resident_id) DO UPDATE SET"
                " support = COALESCE(excluded.support, support),"
                " aware = COALESCE(excluded.aware, aware), at = excluded.at",
                (
                    round_id,
                    resident_id,
                    support,
                    knows,
                    self.clock(),
                ),
            )

    async def figures(self, rounds: int = 6) -> list[RoundFigures]:
        """Each of the latest rounds' figures, oldest first (for the trend)."""
        async with self.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT r.id, r.started_at, COUNT(a.support),"
                " TOTAL(a.support IN ('support', 'rather')), TOTAL(a.aware = 1), COUNT(a.aware)"
                " FROM survey_rounds r LEFT JOIN survey_answers a ON a.round_id = r.id"
                " GROUP BY r.id ORDER BY r.id DESC LIMIT ?",
                (rounds,),
            )
        return [
            RoundFigures(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]))
            for r in reversed(rows)
        ]
