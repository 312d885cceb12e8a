"""The support-rate survey in the chat, and its figures for the office."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from dialogue import callbacks, texts
from handlers.telegram.charts import FontMissing, trend_chart
from handlers.telegram.deps import BotContext, refused_unless_admin_in_private
from handlers.telegram.identity import resident_of
from handlers.telegram.resident import show, show_pressed
from quizzes.survey import SUPPORT, TARGET

log = logging.getLogger(__name__)


async def ask_survey(update: Update, context: BotContext) -> None:
    """Ask whether the resident supports the campaign (one answer a round, changeable)."""
    await show(update.effective_message, context.deps.quiz_dialogue.survey(), context)


async def answer_survey(update: Update, context: BotContext) -> None:
    """Record a support answer (then ask about awareness), or an awareness answer."""
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None  # guaranteed by the handler's pattern
    resident = await resident_of(query.from_user, context)
    await show_pressed(query, await context.deps.quiz_dialogue.press(resident, button), context)


async def show_survey_stats(update: Update, context: BotContext) -> None:
    """Per round: respondents, support and awareness rates against 90%, and the trend."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.STATS_NOT_ADMIN):
        return
    rounds = await d.surveys.figures()
    if not rounds:
        await message.reply_text(texts.SURVEY_NONE)
        return
    lines = [texts.SURVEY_STATS_TITLE]
    labels = []
    for r in rounds:
        label = datetime.fromtimestamp(r.started_at, d.render.tz).strftime("%m-%d")
        labels.append(label)
        lines.append(
            texts.SURVEY_STATS_LINE.format(
                day=label,
                respondents=r.respondents,
                support=_pct(r.support_rate),
                aware=_pct(r.awareness_rate),
                mark="✅" if (r.support_rate or 0) >= TARGET else "⚠️",
            )
        )
    await message.reply_text("\n".join(lines))
    series = {
        texts.SURVEY_SUPPORT_RATE: [r.support_rate for r in rounds],
        texts.SURVEY_AWARENESS_RATE: [r.awareness_rate for r in rounds],
    }
    try:
        chart = await asyncio.to_thread(
            trend_chart,
            texts.SURVEY_CHART_TITLE,
            labels,
            series,
            TARGET,
            d.settings.stats_font_file,
        )
    except FontMissing as exc:
        log.error("%s", exc)
        await message.reply_text(texts.STATS_NO_FONT)
        return
    await message.reply_photo(chart)


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _is_survey(data: object) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    return (
        button is not None
        and button.scope == "q"
        and button.action == "sv"
        and button.arg in (*SUPPORT, "yes", "no")  # any other answer is forged
    )


def register(app: Application) -> None:
    """Add /survey, its buttons, and /survey_stats."""
    app.add_handler(CommandHandler("survey", ask_survey, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("survey_stats", show_survey_stats))
    app.add_handler(CallbackQueryHandler(answer_survey, pattern=_is_survey))
