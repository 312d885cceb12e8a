"""Updates stopped before any handler sees them: edited messages and buttons not ours.

Registered in group -1, so they hold for every handler, including ones added later.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from handlers.telegram import callbacks, texts
from handlers.telegram.deps import BotContext

GUARDS = -1


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


def register(app: Application) -> None:
    """Add the guards ahead of every other handler."""
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, ignore_edited_message), GUARDS)
    app.add_handler(CallbackQueryHandler(refuse_foreign_button), GUARDS)
