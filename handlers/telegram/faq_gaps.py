"""/faq_gaps for the district office: what residents asked that the FAQ could not answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from dialogue import texts
from dialogue.questions import gaps_text
from handlers.telegram.deps import BotContext, refused_unless_admin_in_private
from reports.questions import DEFAULT_GAP_DAYS

MAX_DAYS = 366


async def show_unanswered_questions(update: Update, context: BotContext) -> None:
    """Send admins the last N days' (default 7) unanswered questions, most asked first."""
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.FAQ_GAPS_NOT_ADMIN):
        return
    args = context.args or []
    try:
        days = int(args[0]) if args else DEFAULT_GAP_DAYS
        if not 1 <= days <= MAX_DAYS or len(args) > 1:
            raise ValueError
    except ValueError:
        await message.reply_text(texts.FAQ_GAPS_USAGE)
        return
    report = await context.deps.questions.gaps(days)
    await message.reply_text(gaps_text(report))


def register(app: Application) -> None:
    """Add /faq_gaps (before the resident's unknown-command catch-all)."""
    app.add_handler(CommandHandler("faq_gaps", show_unanswered_questions))
