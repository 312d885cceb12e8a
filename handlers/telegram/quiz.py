"""Quizzes in the resident's chat: native Telegram quiz polls, one round at a time."""

from __future__ import annotations

import logging

from telegram import Poll, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    JobQueue,
    PollAnswerHandler,
    filters,
)

from dialogue import callbacks, texts
from handlers.telegram.deps import BotApplication, BotContext, refused_unless_admin_in_private
from handlers.telegram.identity import chat_of, resident_of
from handlers.telegram.pacer import send_retrying
from handlers.telegram.resident import show, show_pressed
from quizzes.records import Round
from quizzes.scoring import POINTS_PER_CORRECT
from quizzes.service import UnknownTopic

log = logging.getLogger(__name__)
# A question expires a little after its poll closes, so a last-second answer counts.
EXPIRY_GRACE = 2.0


async def start_quiz(update: Update, context: BotContext) -> None:
    """Start a round of questions, on every topic or the one named."""
    d = context.deps
    quiz = d.quizzes
    message = update.effective_message
    topic = _topic(" ".join(context.args or []), context)
    if topic == "?":
        await message.reply_text(texts.QUIZ_TOPICS.format(topics=_topic_list(context)))
        return
    resident = await resident_of(update.effective_user, context)
    await quiz.remember_player(resident, update.effective_user.full_name)
    try:
        round_ = await quiz.start_round(resident, topic)
    except UnknownTopic:
        await message.reply_text(texts.QUIZ_TOPICS.format(topics=_topic_list(context)))
        return
    await message.reply_text(texts.QUIZ_START.format(count=len(round_.questions)))
    await send_next(context, round_)


async def send_next(context: BotContext, round_: Round) -> None:
    """Send the round's next question as a quiz poll, or its results when it is over."""
    d = context.deps
    asked = d.quizzes.ask(round_)
    if asked is None:
        await send_results(context, round_)
        return
    period = d.settings.quiz_open_period
    message = await context.bot.send_poll(
        await chat_of(round_.resident_id, context),
        asked.question.question,
        asked.options,  # shuffled: the stored order scores the answer by the bank's indexes
        is_anonymous=False,  # answers of anonymous polls never reach the bot
        type=Poll.QUIZ,
        allows_multiple_answers=len(asked.correct) > 1,
        correct_option_ids=asked.correct,
        explanation=asked.question.explanation,
        open_period=period,
    )
    await d.quizzes.sent(round_, asked, message.poll.id, period + EXPIRY_GRACE)
    _expire_later(context.job_queue, message.poll.id, period + EXPIRY_GRACE)


def _expire_later(job_queue: JobQueue, poll_id: str, seconds: float) -> None:
    job_queue.run_once(expire_question, when=seconds, data=poll_id, name="quiz-expiry")


async def resume_open_questions(app: BotApplication) -> int:
    """Time out again every question a round left open when the bot stopped; return how many.

    The timers lived in memory only; one whose time is up runs at once, so the
    round goes on without the resident sending /quiz again.
    """
    d = app.bot_data.deps
    default = d.settings.quiz_open_period + EXPIRY_GRACE  # polls sent before deadlines were kept
    deadlines = await d.quizzes.open_deadlines(default)
    for poll_id, seconds in deadlines:
        _expire_later(app.job_queue, poll_id, seconds)
    return len(deadlines)


async def receive_quiz_answer(update: Update, context: BotContext) -> None:
    """Score an answer and send the next question (or the results)."""
    answer = update.poll_answer
    if answer.user is None:
        return
    resident = await resident_of(answer.user, context)
    answered = await context.deps.quizzes.answer(answer.poll_id, resident, list(answer.option_ids))
    if answered is None:
        return  # not our poll, or answered already
    current = await context.deps.quizzes.current(answered.round.id)
    if answered.finished:
        await send_results(context, current)
    elif current.position < len(current.questions):
        await send_next(context, current)


async def expire_question(context: BotContext) -> None:
    """A question's time ran out unanswered: move the round on."""
    quiz = context.deps.quizzes
    round_ = await quiz.expire(str(context.job.data))
    if round_ is None:
        return
    current = await quiz.current(round_.id)
    if current.status == "finished":
        await send_results(context, current)
    elif current.position < len(current.questions):
        await send_next(context, current)


async def send_results(context: BotContext, round_: Round) -> None:
    """The score of a finished round and what was missed, with the explanations."""
    results = await context.deps.quizzes.results(round_)
    right = results.right
    lines = [
        texts.QUIZ_DONE.format(right=right, total=results.asked, points=right * POINTS_PER_CORRECT)
    ]
    for question in results.missed:
        answer = "、".join(question.options[i] for i in question.correct)
        lines.append(
            texts.QUIZ_MISSED.format(
                question=question.question, answer=answer, explanation=question.explanation
            )
        )
    # The round is over in the database: results lost to a Telegram hiccup would never come.
    text = "\n\n".join(lines)
    chat = await chat_of(round_.resident_id, context)
    await send_retrying(lambda: context.bot.send_message(chat, text))


async def show_rank(update: Update, context: BotContext) -> None:
    """The week's and all-time top 10 (names masked), the resident's own rank and streak."""
    d = context.deps
    resident = await resident_of(update.effective_user, context)
    replies = await d.quiz_dialogue.ranking(resident, d.render.tz)
    await show(update.effective_message, replies, context)


async def subscribe(update: Update, context: BotContext) -> None:
    """Opt in to the daily quiz push."""
    d = context.deps
    resident = await resident_of(update.effective_user, context)
    await d.quizzes.subscribe(resident, True)
    await update.effective_message.reply_text(texts.SUBSCRIBED)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """Opt out of the daily quiz push."""
    d = context.deps
    resident = await resident_of(update.effective_user, context)
    await d.quizzes.subscribe(resident, False)
    await update.effective_message.reply_text(texts.UNSUBSCRIBED)


async def press_quiz_button(update: Update, context: BotContext) -> None:
    """The 订阅 button /start offers, or the push's 开始答题."""
    d = context.deps
    query = update.callback_query
    button = callbacks.parse(query.data)
    resident = await resident_of(query.from_user, context)
    if button is not None and button.action == "go":
        await query.answer()
        await query.edit_message_reply_markup(None)
        round_ = await d.quizzes.start_round(resident, None)
        await d.quizzes.remember_player(resident, query.from_user.full_name)
        await send_next(context, round_)
        return
    if button is None:
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    await show_pressed(query, await d.quiz_dialogue.press(resident, button), context)


async def show_quiz_stats(update: Update, context: BotContext) -> None:
    """Participants, answers and accuracy per topic, weakest first (admins)."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.STATS_NOT_ADMIN):
        return
    people, topics = await d.quizzes.topic_figures()
    lines = [texts.QUIZ_STATS_TITLE.format(people=people, answers=sum(n for _, n, _ in topics))]
    for key, answers, accuracy in topics:
        name = d.quizzes.bank.topics[key].name if key in d.quizzes.bank.topics else key
        lines.append(texts.QUIZ_STATS_LINE.format(topic=name, answers=answers, accuracy=accuracy))
    if topics:
        lines.append(texts.QUIZ_STATS_HINT)
    await message.reply_text("\n".join(lines))


def _topic(text: str, context: BotContext) -> str | None:
    """A topic key from what the resident typed (key or Chinese name); '?' if unknown."""
    text = text.strip()
    if not text:
        return None
    for key, topic in context.deps.quizzes.bank.topics.items():
        if text in (key, topic.name):
            return key
    return "?"


def _topic_list(context: BotContext) -> str:
    topics = context.deps.quizzes.bank.topics.values()
    return "、".join(t.name for t in topics)


def _is_quiz_button(data: object) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    return button is not None and button.scope == "q" and button.action in ("sub", "go")


def register(app: Application) -> None:
    """Add /quiz and the poll answers (before the unknown-command catch-all)."""
    app.add_handler(CommandHandler("quiz", start_quiz, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("rank", show_rank, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("quiz_stats", show_quiz_stats))
    app.add_handler(CommandHandler("subscribe", subscribe, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("unsubscribe", unsubscribe, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(press_quiz_button, pattern=_is_quiz_button))
    app.add_handler(PollAnswerHandler(receive_quiz_answer))
