"""The conversation's choices as Telegram's inline keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dialogue.choices import Keyboard


def inline(choices: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Each row of choices as a row of inline buttons; None when there is no choice."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.data) for c in row] for row in choices]
    )
