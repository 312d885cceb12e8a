"""The pusher: delivers a push run paced under Telegram's limits, resuming after restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, CommandHandler

from handlers.telegram import callbacks, texts
from handlers.telegram.deps import BotContext, refused_unless_admin, refused_unless_admin_in_private
from handlers.telegram.survey import survey_markup
from handlers.telegram.worker import Worker
from quizzes.push import PushService, Recipient
from reports.delivery import backoff_seconds

log = logging.getLogger(__name__)
QUIZ_PUSH = "quiz"
SURVEY_PUSH = "survey"


class Pusher(Worker):
    """Sends due recipients one at a time, at most `rate` a second overall."""

    name = "pusher"

    def __init__(self, bot: Bot, pushes: PushService, rate: float) -> None:
        super().__init__()
        self.bot = bot
        self.pushes = pushes
        self.interval = 1.0 / rate

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                self._wake.clear()
                batch = await self.pushes.due(50)
                if not batch:
                    wait = await self.pushes.next_due_in()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=min(wait or 5.0, 5.0))
                    continue
                for recipient in batch:
                    began = loop.time()
                    pause = await self.deliver(recipient)
                    # Pace: one message per interval; a 429 stops everyone for retry_after.
                    await asyncio.sleep(max(pause, self.interval - (loop.time() - began)))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pusher loop failed; retrying shortly")
                await asyncio.sleep(1)

    async def deliver(self, r: Recipient) -> float:
        """Send one recipient today's quiz; return how long everyone must now wait."""
        text, markup = push_message(r.kind)
        try:
            await self.bot.send_message(r.chat_id, text, reply_markup=markup)
        except RetryAfter as exc:
            after = _seconds(exc.retry_after)
            await self.pushes.retry(r, after, str(exc))
            return after
        except Forbidden as exc:
            await self.pushes.blocked(r, str(exc))
        except (TelegramError, OSError) as exc:
            await self.pushes.retry(r, backoff_seconds(r.attempts, 2.0, 300.0), str(exc))
        else:
            await self.pushes.sent(r)
        return 0.0


def push_message(kind: str) -> tuple[str, InlineKeyboardMarkup]:
    """Today's quiz with its 开始 button, or the survey with its answers."""
    if kind == SURVEY_PUSH:
        return texts.SURVEY_QUESTION, survey_markup()
    start = InlineKeyboardButton(texts.PUSH_START, callback_data=callbacks.quiz_button("go"))
    return texts.PUSH_TEXT, InlineKeyboardMarkup([[start]])


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]


def today(context: BotContext) -> str:
    return datetime.now(context.deps.render.tz).strftime("%Y-%m-%d")


async def push_daily_quiz(context: BotContext) -> None:
    """Create today's quiz push (once a day), and a new survey round's, and send them."""
    d = context.deps
    await d.pushes.create_run(QUIZ_PUSH, today(context))
    _, new_round = await d.surveys.open_round()
    if new_round:
        await d.pushes.create_run(SURVEY_PUSH, today(context))
    d.pusher.wake()


async def push_quiz_now(update: Update, context: BotContext) -> None:
    """Send today's quiz push now (admins); a second call reports the same run."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin(update, context, texts.PUSH_NOT_ADMIN):
        return
    progress, created = await d.pushes.create_run(QUIZ_PUSH, today(context))
    d.pusher.wake()
    template = texts.PUSH_STARTED if created else texts.PUSH_ALREADY
    await message.reply_text(
        template.format(total=progress.sent + progress.pending + progress.failed)
    )


async def show_push_status(update: Update, context: BotContext) -> None:
    """How the latest push is going: sent, pending, failed (admins)."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.PUSH_NOT_ADMIN):
        return
    progress = await d.pushes.progress(QUIZ_PUSH)
    if progress is None:
        await message.reply_text(texts.PUSH_NONE)
        return
    await message.reply_text(
        texts.PUSH_STATUS.format(
            day=progress.day, sent=progress.sent, pending=progress.pending, failed=progress.failed
        )
    )


def register(app: Application) -> None:
    """Add /push_quiz and /push_status."""
    app.add_handler(CommandHandler("push_quiz", push_quiz_now))
    app.add_handler(CommandHandler("push_status", show_push_status))
