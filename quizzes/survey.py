"""The support-rate survey: rounds, answers, each resident's profile, and the figures the
district reports (computed in quizzes.survey_stats)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from quizzes.survey_stats import (
    AGES,
    OUTSIDE,
    UNDISCLOSED,
    Answer,
    Community,
    SurveyFigures,
    survey_figures,
)
from reports.areas import Areas
from storage import job_runs, survey
from storage.db import Database

SUPPORT = ("support", "rather", "rather_not", "against", "unaware")
TARGET = 0.9
# Why a resident does not quite support the campaign (asked after 不太支持 or 不支持).
REASONS = ("daily_life", "publicity", "formalism", "unsolved", "other")
NOT_SUPPORTING = frozenset({"rather_not", "against"})
# A free-text reason is kept to this many characters.
REASON_CHARS = 300
# The profile's items, in the order they are asked.
PROFILE_ITEMS = ("community", "age", "lived")


@dataclass(frozen=True)
class Profile:
    """Who answers: the resident's 社区 or 村, age band, and six months here or more."""

    community: str | None = None
    age: str | None = None
    lived: bool | None = None

    def missing(self, asks_community: bool) -> str | None:
        """The first item not given yet, in the order asked; None when complete."""
        if asks_community and self.community is None:
            return "community"
        if self.age is None:
            return "age"
        if self.lived is None:
            return "lived"
        return None


# How many rounds /survey_stats shows as a trend.
TREND_ROUNDS = 6


@dataclass(frozen=True)
class RoundReport:
    """A round's figures for the office."""

    round_id: int
    started_at: float
    figures: SurveyFigures


class SurveyService:
    def __init__(
        self,
        db: Database,
        every_days: float,
        clock: Callable[[], float] = time.time,
        areas: Areas | None = None,
    ) -> None:
        self.db = db
        self.every_days = every_days
        self.clock = clock
        # The 社区 and 村 asked and weighted by; none: no community question, no weighting.
        self.communities = tuple(
            Community(a.key, a.name, a.population or 0) for a in (areas or Areas()).communities
        )

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
            # One new round after each: another process opening it too finds it taken.
            after = str(latest[0] if latest is not None else 0)
            if not await job_runs.claim(conn, "survey-round", after, now):
                newest = await survey.latest_round(conn)
                assert newest is not None
                return newest[0], False
            created = await survey.insert_round(conn, now)
        return created, True

    async def answer(self, resident_id: int, measure: str, value: str | bool) -> None:
        """Record (or change) one of the resident's answers in the current round:
        support or volunteer (one of SUPPORT), aware (True / False), reason (one of
        REASONS) or reason_text (cut to REASON_CHARS)."""
        stored: str | int
        if measure in ("support", "volunteer") and value in SUPPORT:
            stored = str(value)
        elif measure == "aware" and isinstance(value, bool):
            stored = int(value)
        elif measure == "reason" and value in REASONS:
            stored = str(value)
        elif measure == "reason_text" and isinstance(value, str) and value.strip():
            stored = value.strip()[:REASON_CHARS]
        else:
            raise ValueError(f"{measure}={value!r}")
        round_id = await self.current_round()
        async with self.db.session() as conn:
            await survey.save_answer(conn, round_id, resident_id, measure, stored, self.clock())

    def is_community(self, key: str) -> bool:
        """A configured 社区 or 村, or 不在本区 / 不方便说."""
        return key in (OUTSIDE, UNDISCLOSED) or any(c.key == key for c in self.communities)

    async def profile(self, resident_id: int) -> Profile:
        async with self.db.session() as conn:
            community, age, lived = await survey.profile(conn, resident_id)
        return Profile(community, age, None if lived is None else bool(lived))

    async def set_profile(self, resident_id: int, item: str, value: str | bool) -> None:
        """Set one item of the resident's profile; their answer in the current round
        (if any) takes it too."""
        stored: str | int
        if item == "community" and isinstance(value, str) and self.is_community(value):
            stored = value
        elif item == "age" and value in AGES:
            stored = str(value)
        elif item == "lived" and isinstance(value, bool):
            stored = int(value)
        else:
            raise ValueError(f"{item}={value!r}")
        round_id = await self.current_round()
        async with self.db.transaction() as conn:
            await survey.save_profile(conn, resident_id, item, stored, self.clock())
            await survey.stamp_profile(conn, round_id, resident_id)

    async def report(self) -> RoundReport | None:
        """The latest round's figures; None before the first round."""
        latest = await self.reports(1)
        return latest[-1] if latest else None

    async def reports(self, rounds: int = TREND_ROUNDS) -> list[RoundReport]:
        """The figures of each of the latest rounds, oldest first (the trend)."""
        found = []
        async with self.db.session() as conn:
            for round_id, started_at in await survey.recent_rounds(conn, rounds):
                rows = await survey.answers(conn, round_id)
                answers = [
                    Answer(c, age, _flag(lived), s, _flag(a), v) for c, age, lived, s, a, v in rows
                ]
                figures = survey_figures(answers, self.communities)
                found.append(RoundReport(round_id, started_at, figures))
        return found

    async def reasons(self, texts: int) -> tuple[list[tuple[str, int]], list[tuple[float, str]]]:
        """The latest round's reasons for not supporting, counted (most given first),
        and its most recent `texts` free-text reasons."""
        async with self.db.session() as conn:
            latest = await survey.latest_round(conn)
            if latest is None:
                return [], []
            return (
                await survey.reasons(conn, latest[0]),
                await survey.reason_texts(conn, latest[0], texts),
            )

    async def export(self) -> list[tuple[object, ...]]:
        """Every answer of every round, without who gave it (storage.survey.EXPORT_COLUMNS)."""
        async with self.db.session() as conn:
            return await survey.export_rows(conn)


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)
