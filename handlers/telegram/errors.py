"""What people hear when a handler fails: a button is always answered, and nothing untrue is said.

Registered as the Application's error handler. A storage fault (a full disk,
a read-only or damaged database) rolls the failed step back, so the resident
is told it was not saved and to try again; the bot itself keeps running and
works again once the store does.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update

from dialogue import callbacks, texts
from handlers.telegram.deps import BotContext
from storage.db import is_storage_fault

log = logging.getLogger("civic")
# Draft buttons that file the draft as a report.
FILING_ACTIONS = frozenset({"ok", "new"})


async def report_error(update: object, context: BotContext) -> None:
    """Log a handler's failure, answer its button, and tell the resident what was kept."""
    error = context.error
    stored = not is_storage_fault(error)
    if stored:
        log.error("update failed: %s", error, exc_info=error)
    else:
        log.error("update failed: the database could not be used: %s", error)
    if not isinstance(update, Update):
        return
    query = update.callback_query
    if query is not None:
        # Unanswered, the user's button would spin until Telegram gives up; if the
        # handler answered before it failed, this second answer is refused: fine.
        with contextlib.suppress(Exception):
            await query.answer(texts.BUTTON_FAILED if stored else texts.BUSY, show_alert=True)
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        with contextlib.suppress(Exception):
            await context.bot.send_message(chat.id, resident_notice(update, stored))


def resident_notice(update: Update, stored: bool) -> str:
    """The truth for a resident: a report pressed 确认 on and not stored is said to be unsent."""
    if stored:
        return texts.ERROR
    query = update.callback_query
    button = callbacks.parse(query.data) if query is not None else None
    if button is not None and button.scope == "d" and button.action in FILING_ACTIONS:
        return texts.REPORT_NOT_SAVED
    return texts.NOT_SAVED
