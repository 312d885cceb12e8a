"""Quiz rounds: choose questions, record answers, score them (no Telegram here)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from quizzes.bank import Question, QuestionBank
from storage.db import Connection, Database, execute, fetch_all, fetch_one

POINTS_PER_CORRECT = 10
FRESH_DAYS = 30  # a resident does not meet the same question again within this, if avoidable


class QuizError(Exception):
    """A quiz request that cannot be served."""


class UnknownTopic(QuizError):
    pass


@dataclass(frozen=True)
class Round:
    id: int
    resident_id: int
    chat_id: int
    topic: str | None
    questions: tuple[str, ...]
    position: int
    status: str


@dataclass(frozen=True)
class Standing:
    rank: int
    resident_id: int
    name: str
    points: int


@dataclass(frozen=True)
class Board:
    top: list[Standing]
    mine: Standing | None
    streak: int  # days in a row, up to today, with at least one answer


@dataclass(frozen=True)
class Answered:
    round: Round
    question: Question
    correct: bool
    finished: bool  # every question of the round has been answered or has expired


def _round(row: object) -> Round | None:
    if row is None:
        return None
    data = dict(row)  # type: ignore[call-overload]
    return Round(
        data["id"],
        data["resident_id"],
        data["chat_id"],
        data["topic"],
        tuple(json.loads(data["questions"])),
        data["position"],
        data["status"],
    )


class QuizService:
    """Quiz rounds over the question bank, persisted so a restart loses nothing."""

    def __init__(
        self,
        db: Database,
        bank: QuestionBank,
        round_size: int = 5,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.bank = bank
        self.round_size = round_size
        self.clock = clock
        self.rng = rng or random.Random()

    async def subscribe(self, resident_id: int, chat_id: int, active: bool) -> bool:
        """Opt in to (or out of) the daily push; return whether that changed anything."""
        async with self.db.session() as conn:
            row = await fetch_one(
                conn,
                "SELECT active FROM quiz_subscribers WHERE resident_id = ?",
                (resident_id,),
            )
            await execute(
                conn,
                "INSERT INTO quiz_subscribers (resident_id, chat_id, active, changed_at)"
                " VALUES (?,?,?,?) ON CONFLICT (resident_id) DO UPDATE SET"
                " chat_id = excluded.chat_id, active = excluded.active,"
                " changed_at = excluded.changed_at",
                (resident_id, chat_id, int(active), self.clock()),
            )
        return row is None or bool(row[0]) != active

    async def topic_figures(self) -> tuple[int, list[tuple[str, int, float]]]:
        """Participants, and per topic the answers and the share right, weakest first."""
        async with self.db.session() as conn:
            people = await fetch_one(conn, "SELECT COUNT(DISTINCT resident_id) FROM quiz_answers")
            rows = await fetch_all(
                conn,
                "SELECT topic, COUNT(*), AVG(correct) FROM quiz_answers"
                " GROUP BY topic ORDER BY AVG(correct), topic",
            )
        return int(people[0]) if people else 0, [(r[0], int(r[1]), float(r[2])) for r in rows]

    async def remember_player(self, resident_id: int, name: str) -> None:
        async with self.db.session() as conn:
            await execute(
                conn,
                "INSERT INTO quiz_players (resident_id, name) VALUES (?, ?)"
                " ON CONFLICT (resident_id) DO UPDATE SET name = excluded.name",
                (resident_id, name),
            )

    async def leaderboard(
        self, resident_id: int, since: float | None, day_start: Callable[[float], float]
    ) -> Board:
        """The top 10 by points since `since` (None: all time), and the resident's own place."""
        start = 0.0 if since is None else since
        async with self.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT a.resident_id, COALESCE(p.name, '') AS name, SUM(a.points) AS points,"
                " RANK() OVER (ORDER BY SUM(a.points) DESC) AS rank"
                " FROM quiz_answers a LEFT JOIN quiz_players p USING (resident_id)"
                " WHERE a.at >= ? GROUP BY a.resident_id HAVING SUM(a.points) > 0"
                " ORDER BY points DESC, a.resident_id",
                (start,),
            )
            days = await fetch_all(
                conn,
                "SELECT at FROM quiz_answers WHERE resident_id = ? ORDER BY at DESC LIMIT 1000",
                (resident_id,),
            )
        board = [Standing(r["rank"], r["resident_id"], r["name"], r["points"]) for r in rows]
        mine = next((s for s in board if s.resident_id == resident_id), None)
        return Board(board[:10], mine, streak([d[0] for d in days], self.clock(), day_start))

    async def start_round(self, resident_id: int, chat_id: int, topic: str | None) -> Round:
        """A new round; questions answered in the last 30 days only if nothing else is left."""
        if topic is not None and topic not in self.bank.topics:
            raise UnknownTopic(topic)
        pool = list(self.bank.by_topic(topic) if topic else self.bank.questions)
        now = self.clock()
        async with self.db.transaction() as conn:
            await execute(
                conn,
                "UPDATE quiz_rounds SET status = 'finished', finished_at = ?"
                " WHERE resident_id = ? AND status = 'open'",
                (now, resident_id),
            )
            rows = await fetch_all(
                conn,
                "SELECT DISTINCT question_id FROM quiz_answers WHERE resident_id = ? AND at >= ?",
                (resident_id, now - FRESH_DAYS * 86400),
            )
            recent = {r[0] for r in rows}
            fresh = [q for q in pool if q.id not in recent]
            stale = [q for q in pool if q.id in recent]
            self.rng.shuffle(fresh)
            self.rng.shuffle(stale)
            chosen = [q.id for q in (fresh + stale)[: self.round_size]]
            row = await fetch_one(
                conn,
                "INSERT INTO quiz_rounds (resident_id, chat_id, topic, questions, started_at)"
                " VALUES (?,?,?,?,?) RETURNING *",
                (resident_id, chat_id, topic, json.dumps(chosen), now),
            )
        result = _round(row)
        assert result is not None
        return result

    async def current(self, round_id: int) -> Round:
        async with self.db.session() as conn:
            row = await fetch_one(conn, "SELECT * FROM quiz_rounds WHERE id = ?", (round_id,))
        result = _round(row)
        assert result is not None
        return result

    def question(self, round_: Round) -> Question | None:
        """The next question to send, or None when the round is over."""
        if round_.position >= len(round_.questions):
            return None
        return self.bank.by_id(round_.questions[round_.position])

    async def sent(self, round_: Round, question: Question, poll_id: str) -> Round:
        """Record the poll a question went out as; the round moves on."""
        async with self.db.transaction() as conn:
            await execute(
                conn,
                "INSERT INTO quiz_polls (poll_id, round_id, question_id, position, sent_at)"
                " VALUES (?,?,?,?,?)",
                (poll_id, round_.id, question.id, round_.position, self.clock()),
            )
            row = await fetch_one(
                conn,
                "UPDATE quiz_rounds SET position = position + 1 WHERE id = ? RETURNING *",
                (round_.id,),
            )
        result = _round(row)
        assert result is not None
        return result

    async def answer(
        self, poll_id: str, resident_id: int, option_ids: list[int]
    ) -> Answered | None:
        """Score an answer to one of our quiz polls; None if it is not one (or answered)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            poll = await fetch_one(
                conn,
                "SELECT p.*, r.resident_id FROM quiz_polls p JOIN quiz_rounds r"
                " ON r.id = p.round_id WHERE p.poll_id = ?",
                (poll_id,),
            )
            if poll is None or poll["resident_id"] != resident_id or poll["answered_at"]:
                return None
            question = self.bank.by_id(poll["question_id"])
            correct = sorted(option_ids) == sorted(question.correct)
            await execute(
                conn,
                "UPDATE quiz_polls SET answered_at = ?, correct = ? WHERE poll_id = ?",
                (now, int(correct), poll_id),
            )
            await execute(
                conn,
                "INSERT INTO quiz_answers (resident_id, question_id, topic, correct, points, at)"
                " VALUES (?,?,?,?,?,?)",
                (
                    resident_id,
                    question.id,
                    question.topic,
                    int(correct),
                    POINTS_PER_CORRECT if correct else 0,
                    now,
                ),
            )
            round_ = _round(
                await fetch_one(conn, "SELECT * FROM quiz_rounds WHERE id = ?", (poll["round_id"],))
            )
            assert round_ is not None
            finished = await self._finish_if_done(conn, round_, now)
        return Answered(round_, question, correct, finished)

    async def expire(self, poll_id: str) -> Round | None:
        """A poll's time ran out unanswered: the round moves on (returned), if it was ours."""
        now = self.clock()
        async with self.db.transaction() as conn:
            poll = await fetch_one(conn, "SELECT * FROM quiz_polls WHERE poll_id = ?", (poll_id,))
            if poll is None or poll["answered_at"]:
                return None
            await execute(
                conn,
                "UPDATE quiz_polls SET answered_at = ?, correct = 0 WHERE poll_id = ?",
                (now, poll_id),
            )
            round_ = _round(
                await fetch_one(conn, "SELECT * FROM quiz_rounds WHERE id = ?", (poll["round_id"],))
            )
            assert round_ is not None
            await self._finish_if_done(conn, round_, now)
        return round_

    async def _finish_if_done(self, conn: Connection, round_: Round, now: float) -> bool:
        rows = await fetch_all(
            conn,
            "SELECT COUNT(*) FROM quiz_polls WHERE round_id = ? AND answered_at IS NOT NULL",
            (round_.id,),
        )
        done = rows[0][0] >= len(round_.questions)
        if done:
            await execute(
                conn,
                "UPDATE quiz_rounds SET status = 'finished', finished_at = ? WHERE id = ?",
                (now, round_.id),
            )
        return done

    async def results(self, round_: Round) -> tuple[int, list[Question]]:
        """How many were right, and the questions missed (for their explanations)."""
        async with self.db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT question_id, correct FROM quiz_polls WHERE round_id = ? ORDER BY position",
                (round_.id,),
            )
        right = sum(1 for r in rows if r["correct"])
        missed = [self.bank.by_id(r["question_id"]) for r in rows if not r["correct"]]
        return right, missed


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
