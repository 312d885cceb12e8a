"""Quizzes and the survey in the conversation, written once: the survey (support, then
why not after 不太支持 / 不支持, awareness, the volunteer indicator, and once per resident
their community, age band and six months here), the daily push's subscription, and quiz
rounds asked as texts with choices (for a channel without quiz polls; Telegram sends its
native quiz polls instead).

A text quiz's question is recorded like a poll (its id `text:<round>:<position>`),
so its answers score the same points, ranks and streaks as Telegram's polls.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialogue import callbacks, texts
from dialogue.choices import Choice, keyboard
from dialogue.render import (
    age_markup,
    aware_markup,
    community_markup,
    community_pages,
    edit_profile_markup,
    lived_markup,
    reason_markup,
    survey_markup,
    volunteer_markup,
)
from dialogue.resident import Pressed, Reply
from quizzes.scoring import POINTS_PER_CORRECT, mask
from quizzes.service import QuizService
from quizzes.survey import NOT_SUPPORTING, PROFILE_ITEMS, SUPPORT, SurveyService

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
        if button.action in callbacks.SURVEY_ACTIONS:
            return await self._survey(resident, button)
        if button.action == "sub":
            await self.quizzes.subscribe(resident, True)
            return Pressed(self.subscribed, alert=True, spent=True)
        if button.action == "qa":
            return await self._answer(resident, button)
        return Pressed(texts.BUTTON_STALE, alert=True)

    async def reason_text(self, resident: int, text: str) -> list[Reply]:
        """The resident's own words on why they do not quite support the campaign."""
        if not text.strip():
            return []
        await self.surveys.answer(resident, "reason_text", text)
        return [Reply(texts.SURVEY_REASON_NOTED)]

    # -- The survey, step by step

    async def _survey(self, resident: int, button: callbacks.Button) -> Pressed:
        action, arg = button.action, button.arg or ""
        s = self.surveys
        if action == "sv" and arg in SUPPORT:
            await s.answer(resident, "support", arg)
            if arg in NOT_SUPPORTING:
                return self._step(Reply(texts.SURVEY_REASON_QUESTION, reason_markup()))
            return self._step(Reply(texts.SURVEY_AWARE_QUESTION, aware_markup()))
        if action == "wy":
            aware = Reply(texts.SURVEY_AWARE_QUESTION, aware_markup())
            if arg == "skip":
                return self._step(aware)
            await s.answer(resident, "reason", arg)
            return self._step(Reply(texts.SURVEY_REASON_MORE, asks_survey_reason=True), aware)
        if action == "sv":
            await s.answer(resident, "aware", arg == "yes")
            return self._step(Reply(texts.SURVEY_VOLUNTEER_QUESTION, volunteer_markup()))
        if action == "vo":
            await s.answer(resident, "volunteer", arg)
            missing = (await s.profile(resident)).missing(bool(s.communities))
            if missing is None:
                return self._step(Reply(texts.SURVEY_DONE, edit_profile_markup()))
            return self._step(Reply(texts.SURVEY_PROFILE_INTRO), self._ask(missing))
        if action == "me":
            return self._step(self._ask(PROFILE_ITEMS[0 if s.communities else 1]))
        if action == "cp":
            page = int(arg)
            if page > community_pages(len(s.communities)):
                return Pressed(texts.BUTTON_STALE, alert=True)
            return Pressed(replies=[self._community_question(page, replaces=True)])
        if action == "pc":
            if not s.is_community(arg):  # an area since removed from the file
                return Pressed(texts.BUTTON_STALE, alert=True)
            await s.set_profile(resident, "community", arg)
            return self._step(self._ask("age"))
        if action == "ag":
            await s.set_profile(resident, "age", arg)
            return self._step(self._ask("lived"))
        await s.set_profile(resident, "lived", arg == "yes")  # lv
        done = texts.SURVEY_PROFILE_SAVED + "\n" + texts.SURVEY_DONE
        return self._step(Reply(done, edit_profile_markup()))

    @staticmethod
    def _step(*replies: Reply) -> Pressed:
        """The next question: the pressed one's choices are spent; the thanks only a toast."""
        return Pressed(texts.SURVEY_THANKS, replies=list(replies), spent=True, passing=True)

    def _ask(self, item: str) -> Reply:
        if item == "community":
            return self._community_question(1)
        if item == "age":
            return Reply(texts.SURVEY_AGE_QUESTION, age_markup())
        return Reply(texts.SURVEY_LIVED_QUESTION, lived_markup())

    def _community_question(self, page: int, replaces: bool = False) -> Reply:
        communities = [(c.key, c.name) for c in self.surveys.communities]
        pages = community_pages(len(communities))
        text = (
            texts.SURVEY_COMMUNITY_PAGE.format(page=page, pages=pages)
            if pages > 1
            else texts.SURVEY_COMMUNITY_QUESTION
        )
        return Reply(text, community_markup(communities, page), replaces=replaces)

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
