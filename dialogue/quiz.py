"""Quizzes and the survey in the conversation, written once: the survey's two questions,
the daily push's subscription, and quiz rounds asked as texts with choices (for a
channel without quiz polls; Telegram sends its native quiz polls instead).

A text quiz's question is recorded like a poll (its id `text:<round>:<position>`),
so its answers score the same points, ranks and streaks as Telegram's polls.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialogue import callbacks, texts
from dialogue.choices import Choice, keyboard
from dialogue.render import aware_markup, survey_markup
from dialogue.resident import Pressed, Reply
from quizzes.scoring import POINTS_PER_CORRECT, mask
from quizzes.service import QuizService
from quizzes.survey import SUPPORT, SurveyService

# How long a text quiz's question stays open: the resident answers when they look.
TEXT_QUESTION_SECONDS = 24 * 3600


def text_poll_id(round_id: int, position: int) -> str:
    return f"text:{round_id}:{position}"


class QuizDialogue:
    """Survey answers, the push subscription, and text quiz rounds."""

    def __init__(
        self,
        quizzes: QuizService,
        surveys: SurveyService,
        subscribed: str = texts.SUBSCRIBED,
        no_points: str = texts.RANK_NONE,
    ) -> None:
        self.quizzes = quizzes
        self.surveys = surveys
        # The channel's wording where its ways differ (a menu, not /quiz).
        self.subscribed = subscribed
        self.no_points = no_points

    async def ranking(self, resident: int, tz: ZoneInfo) -> list[Reply]:
        """The week's and all-time top 10 (real names masked), the resident's rank and streak."""

        def day_start(ts: float) -> float:
            moment = datetime.fromtimestamp(ts, tz)
            return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

        now = datetime.fromtimestamp(self.quizzes.clock(), tz)
        monday = day_start((now - timedelta(days=now.weekday())).timestamp())
        lines = []
        for title, since in ((texts.RANK_WEEK, monday), (texts.RANK_ALL, None)):
            board = await self.quizzes.leaderboard(resident, since, day_start)
            lines.append(title)
            if not board.top:
                lines.append(texts.RANK_EMPTY)
            for s in board.top:
                name = s.name if s.as_is else mask(s.name)
                lines.append(texts.RANK_LINE.format(rank=s.rank, name=name, points=s.points))
            if board.mine is not None:
                lines.append(texts.RANK_MINE.format(rank=board.mine.rank, points=board.mine.points))
            else:
                lines.append(self.no_points)
        lines.append(texts.RANK_STREAK.format(days=board.streak))
        return [Reply("\n".join(lines))]

    def survey(self) -> list[Reply]:
        return [Reply(texts.SURVEY_QUESTION, survey_markup())]

    async def press(self, resident: int, button: callbacks.Button) -> Pressed:
        """A survey answer, 订阅, or a text quiz's answer (its 开始答题 is `start`)."""
        if button.action == "sv" and button.arg in SUPPORT:
            await self.surveys.answer(resident, support=button.arg)
            reply = Reply(texts.SURVEY_AWARE_QUESTION, aware_markup())
            return Pressed(texts.SURVEY_THANKS, replies=[reply])
        if button.action == "sv" and button.arg in ("yes", "no"):
            await self.surveys.answer(resident, aware=button.arg == "yes")
            return Pressed(texts.SURVEY_THANKS, spent=True)
        if button.action == "sub":
            await self.quizzes.subscribe(resident, True)
            return Pressed(self.subscribed, alert=True, spent=True)
        if button.action == "qa":
            return await self._answer(resident, button)
        return Pressed(texts.BUTTON_STALE, alert=True)

    async def start(self, resident: int) -> list[Reply]:
        """A new round of single-answer questions; its first question."""
        round_ = await self.quizzes.start_round(resident, None, single_answer=True)
        intro = Reply(texts.QUIZ_START.format(count=len(round_.questions)))
        return [intro, *await self._next(round_.id)]

    async def _next(self, round_id: int) -> list[Reply]:
        """The round's next question, or its score when it is over."""
        round_ = await self.quizzes.current(round_id)
        asked = self.quizzes.ask(round_)
        if asked is None:
            results = await self.quizzes.results(round_)
            points = results.right * POINTS_PER_CORRECT
            done = texts.QUIZ_DONE.format(right=results.right, total=results.asked, points=points)
            return [Reply(done)]
        # The choices are numbered in the shuffled order; the answer names the shown
        # position, which the poll's stored order maps back to the bank's index.
        position = round_.questions.index(asked.question.id, round_.position)
        poll_id = text_poll_id(round_.id, position)
        await self.quizzes.sent(round_, asked, poll_id, TEXT_QUESTION_SECONDS)
        text = texts.QUIZ_TEXT_QUESTION.format(
            number=position + 1, total=len(round_.questions), question=asked.question.question
        )
        choices = keyboard(
            [Choice(option, callbacks.quiz_answer(round_.id, position, shown))]
            for shown, option in enumerate(asked.options)
        )
        return [Reply(text, choices)]

    async def _answer(self, resident: int, button: callbacks.Button) -> Pressed:
        found = callbacks.quiz_answer_of(button)
        if found is None:
            return Pressed(texts.BUTTON_STALE, alert=True)
        position, option = found
        answered = await self.quizzes.answer(text_poll_id(button.id, position), resident, [option])
        if answered is None:  # not this resident's, answered already, or timed out
            return Pressed(texts.QUIZ_TEXT_STALE, alert=True)
        question = answered.question
        if question is None:  # removed from the bank since it was asked
            return Pressed(
                texts.QUIZ_TEXT_WITHDRAWN, spent=True, replies=await self._next(button.id)
            )
        if answered.correct:
            verdict = texts.QUIZ_TEXT_RIGHT.format(explanation=question.explanation)
        else:
            answer = "、".join(question.options[i] for i in question.correct)
            verdict = texts.QUIZ_TEXT_WRONG.format(answer=answer, explanation=question.explanation)
        return Pressed(verdict, spent=True, replies=await self._next(button.id))
