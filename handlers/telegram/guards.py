"""Updates stopped before any handler sees them: edited messages, buttons not ours, and
buttons on a message Telegram no longer shows the bot.

Registered in groups -2 and -1, so they hold for every handler, including ones added later.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from dialogue import callbacks, texts
from handlers.telegram.deps import BotContext

log = logging.getLogger(__name__)
GUARDS = -1
# Before GUARDS: a button whose message is gone is answered so, whatever its data.
LOST_MESSAGE_GUARD = -2


async def answer_press(query: CallbackQuery, notice: str | None, alert: bool) -> None:
    """Answer a press whose work is done. Telegram takes an answer only for a while after
    the press; one handled later (taken over from a process that died) is refused as too
    old: its result still shows in the message, so it is only logged."""
    try:
        await query.answer(notice, show_alert=alert)
    except BadRequest as exc:
        if "too old" not in str(exc).lower():
            raise
        log.info("press %r handled too late to answer: %s", query.data, exc)


async def ignore_edited_message(update: Update, context: BotContext) -> None:
    """Drop an edited message: PTB's CommandHandler would run an edited /digest again."""
    raise ApplicationHandlerStop


async def refuse_foreign_button(update: Update, context: BotContext) -> None:
    """Answer a button whose data is not ours (or empty) as stale, and stop there.

    PTB gives a callback query without data to every handler, whatever its pattern.
    """
    query = update.callback_query
    if isinstance(query.data, str) and callbacks.parse(query.data) is not None:
        return  # ours: the handlers of group 0 decide
    await query.answer(texts.BUTTON_STALE, show_alert=True)
    raise ApplicationHandlerStop


async def answer_button_of_lost_message(update: Update, context: BotContext) -> None:
    """Answer a press on a message Telegram no longer shows (too old), and stop there.

    Such a query carries no message, or only its chat and id (date 0): the card,
    poll offer or alert the button was on can be neither read nor edited, so the
    press is answered with what to do instead, before a handler trips over it.
    """
    query = update.callback_query
    if query.message is not None and query.message.is_accessible:
        return
    log.info("button %r pressed on a message no longer shown; answered as too old", query.data)
    await query.answer(too_old_answer(query), show_alert=True)
    raise ApplicationHandlerStop


def too_old_answer(query: CallbackQuery) -> str:
    """What to do instead of pressing a button whose message is gone, by kind of button."""
    button = callbacks.parse(query.data) if isinstance(query.data, str) else None
    if button is None:
        return texts.BUTTON_TOO_OLD
    if button.scope == "d":
        return texts.BUTTON_TOO_OLD_DRAFT
    if button.scope == "q" and button.action in callbacks.SURVEY_ACTIONS:
        return texts.BUTTON_TOO_OLD_SURVEY
    if button.scope == "q":
        return {
            "go": texts.BUTTON_TOO_OLD_QUIZ,
            "sub": texts.BUTTON_TOO_OLD_SUBSCRIBE,
        }.get(button.action, texts.BUTTON_TOO_OLD)
    if button.action in callbacks.RESIDENT_REPORT_ACTIONS:
        return texts.BUTTON_TOO_OLD_RATING
    return texts.BUTTON_TOO_OLD


def register(app: Application) -> None:
    """Add the guards ahead of every other handler."""
    app.add_handler(CallbackQueryHandler(answer_button_of_lost_message), LOST_MESSAGE_GUARD)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, ignore_edited_message), GUARDS)
    app.add_handler(CallbackQueryHandler(refuse_foreign_button), GUARDS)
