"""Residents' questions: answered from the office's knowledge base, or kept for the office.

`ask` answers a question from `reports.faq.KnowledgeBase`; a question it cannot
answer well is stored (who, what, the nearest entry) so that the office sees,
with /faq_gaps, what residents ask that `faq/` does not cover yet. Answered
questions are only counted, per entry and day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reports.context import Part, Shared
from reports.faq import FaqMatch, KnowledgeBase
from reports.normalize import normalize
from storage import faq

DEFAULT_GAP_DAYS = 7
# The newest unanswered questions read for one listing: plenty for a week.
GAPS_READ_MAX = 2000
# Two wordings sharing this share of their character pairs are one question.
NEAR_IDENTICAL = 0.7
# Particles and filler that do not change what is asked.
_FILLER = frozenset("吗呢啊呀吧哦啦嘛么哈额嗯请问")


@dataclass(frozen=True)
class Answer:
    """What a question got: the match (None: no good answer) and the nearest entry anyway."""

    match: FaqMatch | None
    best_entry: str | None
    best_score: float

    @property
    def answered(self) -> bool:
        return self.match is not None


@dataclass(frozen=True)
class GapGroup:
    """One question residents asked, however many times and in near-identical words."""

    text: str  # its most recent wording
    count: int
    last_at: float
    best_entry: str | None  # the nearest entry, which fell short


@dataclass(frozen=True)
class GapReport:
    days: int
    groups: list[GapGroup]  # most asked first
    unanswered: int
    answered: int


class QuestionService(Part):
    """Answers questions from one KnowledgeBase; logs what it cannot answer."""

    def __init__(self, shared: Shared, knowledge: KnowledgeBase) -> None:
        super().__init__(shared)
        self.knowledge = knowledge

    async def ask(self, resident_id: int, text: str) -> Answer:
        """The answer to a resident's question; an unanswered one is kept for the office."""
        entry, score = self.knowledge.best(text)
        match = self.knowledge.accept(entry, score)
        now = self.now()
        async with self.db.transaction() as conn:
            if match is not None:
                await faq.count_answer(conn, match.entry_id, self._day(now))
            else:
                await faq.record_gap(
                    conn,
                    resident_id,
                    text.strip(),
                    now,
                    round(score, 3),
                    entry.id if entry else None,
                )
        return Answer(match, entry.id if entry else None, round(score, 3))

    async def gaps(self, days: int = DEFAULT_GAP_DAYS) -> GapReport:
        """The last `days` days' unanswered questions, grouped, most asked first."""
        now = self.now()
        since = now - days * 86400
        async with self.db.session() as conn:
            rows = await faq.gaps_since(conn, since, GAPS_READ_MAX)
            answered = await faq.answered_since(conn, self._day(since))
        groups = group_gaps([(text, at, entry) for text, at, _, entry in rows])
        return GapReport(days, groups, len(rows), answered)

    def _day(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.shared.tz).strftime("%Y-%m-%d")


def gap_key(text: str) -> str:
    """What a question says, without case, punctuation, spaces and particles."""
    return "".join(c for c in normalize(text) if c.isalnum() and c not in _FILLER)


@dataclass
class _Group:
    text: str
    last_at: float
    best_entry: str | None
    pairs: frozenset[str]
    count: int = 0


def group_gaps(rows: list[tuple[str, float, str | None]]) -> list[GapGroup]:
    """Group (text, asked_at, best_entry) rows, newest first, by identical or
    near-identical wording; most asked first, then most recent."""
    groups: list[_Group] = []
    by_key: dict[str, int] = {}
    by_pair: dict[str, set[int]] = {}  # a character pair -> the groups whose wording has it
    for text, at, entry in rows:
        key = gap_key(text) or text
        pairs = _pairs(key)
        index = by_key.get(key)
        if index is None:
            index = _near(groups, by_pair, pairs)
        if index is None:
            index = len(groups)
            groups.append(_Group(text, at, entry, pairs))
            for pair in pairs:
                by_pair.setdefault(pair, set()).add(index)
        by_key[key] = index
        groups[index].count += 1
    result = [GapGroup(g.text, g.count, g.last_at, g.best_entry) for g in groups]
    result.sort(key=lambda g: (-g.count, -g.last_at))
    return result


def _near(groups: list[_Group], by_pair: dict[str, set[int]], pairs: frozenset[str]) -> int | None:
    """The first group worded nearly the same (sharing most character pairs), if any."""
    candidates: set[int] = set()
    for pair in pairs:
        candidates |= by_pair.get(pair, set())
    for index in sorted(candidates):
        other = groups[index].pairs
        if len(pairs & other) / len(pairs | other) >= NEAR_IDENTICAL:
            return index
    return None


def _pairs(key: str) -> frozenset[str]:
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))
