"""Quiz rounds: choose questions, record answers, score them (no Telegram here)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from quizzes.bank import Question, QuestionBank
from quizzes.records import Round, Standing
from quizzes.scoring import is_correct, points, shuffled_order, streak, to_bank
from storage import quizzes
from storage.db import Connection, Database

FRESH_DAYS = 30  # a resident does not meet the same question again within this, if avoidable


class QuizError(Exception):
    """A quiz request that cannot be served."""


class UnknownTopic(QuizError):
    pass


@dataclass(frozen=True)
class Board:
    top: list[Standing]
    mine: Standing | None
    streak: int  # days in a row, up to today, with at least one answer


@dataclass(frozen=True)
class Asked:
    """A question as it is sent: its options in a fresh random order."""

    question: Question
    order: tuple[int, ...]  # the bank's index of each option, in the order shown

    @property
    def options(self) -> list[str]:
        return [self.question.options[i] for i in self.order]

    @property
    def correct(self) -> list[int]:
        """The shown positions of the correct options."""
        return sorted(self.order.index(i) for i in self.question.correct)


@dataclass(frozen=True)
class Answered:
    round: Round
    question: Question | None  # None: removed from the bank since it was asked (not scored)
    correct: bool
    finished: bool  # every question of the round has been answered, has expired or is gone


@dataclass(frozen=True)
class Results:
    right: int
    asked: int
    missed: list[Question]  # those still in the bank, for their explanations


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

    async def subscribe(self, resident_id: int, active: bool) -> bool:
        """Opt in to (or out of) the daily push; return whether that changed anything."""
        async with self.db.session() as conn:
            was = await quizzes.subscription(conn, resident_id)
            await quizzes.subscribe(conn, resident_id, active, self.clock())
        return was is None or was != active

    async def topic_figures(self) -> tuple[int, list[tuple[str, int, float]]]:
        """Participants, and per topic the answers and the share right, weakest first."""
        async with self.db.session() as conn:
            people = await quizzes.participants(conn)
            topics = await quizzes.topic_figures(conn)
        return people, topics

    async def player_name(self, resident_id: int) -> str | None:
        """The name the resident is shown under on the leaderboard, if they have one."""
        async with self.db.session() as conn:
            return await quizzes.player_name(conn, resident_id)

    async def remember_player(self, resident_id: int, name: str, as_is: bool = False) -> None:
        """The name the leaderboard shows: masked (a real name), or `as_is` (a nickname)."""
        async with self.db.session() as conn:
            await quizzes.save_player(conn, resident_id, name, as_is)

    async def leaderboard(
        self, resident_id: int, since: float | None, day_start: Callable[[float], float]
    ) -> Board:
        """The top 10 by points since `since` (None: all time), and the resident's own place."""
        start = 0.0 if since is None else since
        async with self.db.session() as conn:
            board = await quizzes.standings(conn, start)
            times = await quizzes.answer_times(conn, resident_id)
        mine = next((s for s in board if s.resident_id == resident_id), None)
        return Board(board[:10], mine, streak(times, self.clock(), day_start))

    async def start_round(
        self, resident_id: int, topic: str | None, single_answer: bool = False
    ) -> Round:
        """A new round; questions answered in the last 30 days only if nothing else is left.

        `single_answer`: only questions with one right option (a channel without
        multiple-choice polls asks for one tap or one number).
        """
        if topic is not None and topic not in self.bank.topics:
            raise UnknownTopic(topic)
        pool = list(self.bank.by_topic(topic) if topic else self.bank.questions)
        if single_answer:
            pool = [q for q in pool if len(q.correct) == 1]
        now = self.clock()
        async with self.db.transaction() as conn:
            await quizzes.finish_open_rounds(conn, resident_id, now)
            recent = await quizzes.answered_since(conn, resident_id, now - FRESH_DAYS * 86400)
            fresh = [q for q in pool if q.id not in recent]
            stale = [q for q in pool if q.id in recent]
            self.rng.shuffle(fresh)
            self.rng.shuffle(stale)
            chosen = [q.id for q in (fresh + stale)[: self.round_size]]
            result = await quizzes.insert_round(
                conn,
                resident_id=resident_id,
                topic=topic,
                questions=chosen,
                now=now,
            )
        return result

    async def current(self, round_id: int) -> Round:
        async with self.db.session() as conn:
            result = await quizzes.get_round(conn, round_id)
        assert result is not None
        return result

    def ask(self, round_: Round) -> Asked | None:
        """The round's next question with its options shuffled, or None when the round is
        over. A question removed from the bank since the round began is skipped."""
        index = self._next_index(round_)
        if index is None:
            return None
        question = self.bank.by_id(round_.questions[index])
        return Asked(question, shuffled_order(len(question.options), self.rng))

    def _next_index(self, round_: Round) -> int | None:
        for index in range(round_.position, len(round_.questions)):
            if self.bank.get(round_.questions[index]) is not None:
                return index
        return None

    async def sent(self, round_: Round, asked: Asked, poll_id: str, expires_in: float) -> Round:
        """Record the poll a question went out as (with the order of its options), timing
        out `expires_in` seconds from now; the round moves on past it."""
        now = self.clock()
        position = round_.questions.index(asked.question.id, round_.position)
        async with self.db.transaction() as conn:
            await quizzes.add_poll(
                conn,
                poll_id=poll_id,
                round_id=round_.id,
                question_id=asked.question.id,
                position=position,
                now=now,
                expires_at=now + expires_in,
                shown_order=asked.order,
            )
            result = await quizzes.advance_round(conn, round_.id, position + 1)
        assert result is not None
        return result

    async def answer(
        self, poll_id: str, resident_id: int, option_ids: list[int]
    ) -> Answered | None:
        """Score an answer to one of our quiz polls, given by the options' shown positions;
        None if it is not one (or answered)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            found = await quizzes.poll_and_player(conn, poll_id)
            if found is None:
                return None
            poll, player = found
            if player != resident_id or poll.answered_at:
                return None
            question = self.bank.get(poll.question_id)
            correct = question is not None and is_correct(
                to_bank(option_ids, poll.shown_order), question.correct
            )
            await quizzes.close_poll(conn, poll_id, now, correct)
            if question is not None:  # a question removed from the bank scores nothing
                await quizzes.add_answer(
                    conn,
                    resident_id=resident_id,
                    question_id=question.id,
                    topic=question.topic,
                    correct=correct,
                    points=points(correct),
                    now=now,
                )
            round_ = await quizzes.get_round(conn, poll.round_id)
            assert round_ is not None
            finished = await self._finish_if_done(conn, round_, now)
        return Answered(round_, question, correct, finished)

    async def expire(self, poll_id: str) -> Round | None:
        """A poll's time ran out unanswered: the round moves on (returned), if it was ours."""
        now = self.clock()
        async with self.db.transaction() as conn:
            poll = await quizzes.get_poll(conn, poll_id)
            if poll is None or poll.answered_at:
                return None
            await quizzes.close_poll(conn, poll_id, now, correct=False)
            round_ = await quizzes.get_round(conn, poll.round_id)
            assert round_ is not None
            await self._finish_if_done(conn, round_, now)
        return round_

    async def open_deadlines(self, default_seconds: float) -> list[tuple[str, float]]:
        """(poll id, seconds until it times out, 0 if overdue) for every open question."""
        now = self.clock()
        async with self.db.session() as conn:
            deadlines = await quizzes.open_deadlines(conn, default_seconds)
        return [(poll_id, max(0.0, at - now)) for poll_id, at in deadlines]

    async def _finish_if_done(self, conn: Connection, round_: Round, now: float) -> bool:
        """Inside the caller's transaction: finish the round once no question is left open
        and none is left to send."""
        done = self._next_index(round_) is None and await quizzes.open_polls(conn, round_.id) == 0
        if done:
            await quizzes.finish_round(conn, round_.id, now)
        return done

    async def results(self, round_: Round) -> Results:
        """How many were right of how many asked, and the questions missed (those still in
        the bank, for their explanations)."""
        async with self.db.session() as conn:
            rows = await quizzes.poll_results(conn, round_.id)
        right = sum(1 for _, correct in rows if correct)
        missed = [self.bank.get(question_id) for question_id, correct in rows if not correct]
        return Results(right, len(rows), [q for q in missed if q is not None])
