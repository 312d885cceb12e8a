"""Quiz and survey pushes: the daily job that starts them; the admins' /push_quiz, /push_status."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.ext import Application, CommandHandler

from dialogue import texts
from handlers.telegram import jobs
from handlers.telegram.deps import BotContext, refused_unless_admin, refused_unless_admin_in_private
from quizzes.push import QUIZ_PUSH, SURVEY_PUSH

log = logging.getLogger(__name__)


def today(context: BotContext) -> str:
    return datetime.now(context.deps.render.tz).strftime("%Y-%m-%d")


async def push_daily_quiz(context: BotContext) -> None:
    """Create today's quiz push (once a day), and a new survey round's, and send them."""
    if not jobs.leads(context):
        return
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
        template.format(total=progress.sent + progress.pending + progress.failed + progress.skipped)
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
    status = texts.PUSH_STATUS.format(
        day=progress.day, sent=progress.sent, pending=progress.pending, failed=progress.failed
    )
    if progress.skipped:
        status += texts.PUSH_SKIPPED.format(skipped=progress.skipped)
    await message.reply_text(status)


def register(app: Application) -> None:
    """Add /push_quiz and /push_status."""
    app.add_handler(CommandHandler("push_quiz", push_quiz_now))
    app.add_handler(CommandHandler("push_status", show_push_status))
