"""The support-rate survey in the chat, and its figures for the office: /survey_stats
(weighted rates with intervals, per community, and a chart), /survey_reasons (for
宣传教育组) and /survey_export (a CSV of every answer, without who gave it)."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from dialogue import callbacks, texts
from dialogue.render import Renderer
from dialogue.survey_figures import headline, survey_reasons_text, survey_stats_text
from handlers.telegram.charts import FontMissing, cjk_font, trend_chart
from handlers.telegram.deps import BotContext, refused_unless_admin_in_private
from handlers.telegram.export import spreadsheet_safe
from handlers.telegram.identity import resident_of
from handlers.telegram.resident import show, show_pressed
from quizzes.survey import TARGET, RoundReport
from quizzes.survey_stats import MEASURES, OUTSIDE, UNDISCLOSED, CommunityFigures
from storage.survey import EXPORT_COLUMNS

log = logging.getLogger(__name__)

# The latest free-text reasons /survey_reasons lists.
REASON_TEXTS = 10


async def ask_survey(update: Update, context: BotContext) -> None:
    """Ask whether the resident supports the campaign (one answer a round, changeable)."""
    await show(update.effective_message, context.deps.quiz_dialogue.survey(), context)


async def answer_survey(update: Update, context: BotContext) -> None:
    """Record a survey answer or profile item, and ask the next question."""
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None  # guaranteed by the handler's pattern
    resident = await resident_of(query.from_user, context)
    await show_pressed(query, await context.deps.quiz_dialogue.press(resident, button), context)


async def show_survey_stats(update: Update, context: BotContext) -> None:
    """The latest round: weighted rates with 95% intervals, per community, and a chart."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.STATS_NOT_ADMIN):
        return
    rounds = await d.surveys.reports()
    if not rounds:
        await message.reply_text(texts.SURVEY_NONE)
        return
    report, earlier = rounds[-1], rounds[:-1]
    await message.reply_text(survey_stats_text(report, d.render.tz, earlier=earlier))
    charts = []
    if report.figures.communities:
        charts.append(partial(community_chart, report.figures.communities))
    if earlier:
        charts.append(partial(round_trend_chart, rounds, d.render.tz))
    for draw in charts:
        try:
            chart = await asyncio.to_thread(draw, d.settings.stats_font_file)
        except FontMissing as exc:
            log.error("%s", exc)
            await message.reply_text(texts.STATS_NO_FONT)
            return
        await message.reply_photo(chart)


def round_trend_chart(rounds: list[RoundReport], tz: ZoneInfo, font_file: str | None) -> bytes:
    """The headline figures round by round against the 90% target."""
    labels = [datetime.fromtimestamp(r.started_at, tz).strftime("%m-%d") for r in rounds]
    series = {texts.SURVEY_MEASURES[m]: [headline(r, m) for r in rounds] for m in MEASURES}
    return trend_chart(texts.SURVEY_CHART_TREND, labels, series, TARGET, font_file)


async def show_survey_reasons(update: Update, context: BotContext) -> None:
    """The reasons for not supporting, counted, and the latest texts: for the admins in
    private, and in the chat of the group playing [roles] survey_reasons (宣传教育组)."""
    d = context.deps
    message = update.effective_message
    group = d.settings.roles.survey_reasons
    in_group_chat = bool(group) and update.effective_chat.id == d.group_chats.group_chat(group)
    if not in_group_chat and await refused_unless_admin_in_private(
        update,
        context,
        texts.SURVEY_REASONS_NOT_ALLOWED.format(group=d.render.group(group) if group else ""),
    ):
        return
    report = await d.surveys.report()
    if report is None:
        await message.reply_text(texts.SURVEY_NONE)
        return
    counts, free_texts = await d.surveys.reasons(REASON_TEXTS)
    await message.reply_text(
        survey_reasons_text(report.started_at, counts, free_texts, d.render.tz)
    )


async def export_survey(update: Update, context: BotContext) -> None:
    """Send admins a CSV of every survey answer (no resident identity)."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.EXPORT_NOT_ADMIN):
        return
    rows = await d.surveys.export()
    names = {c.key: c.name for c in d.surveys.communities}
    data = survey_csv(rows, names, d.render)
    day = datetime.fromtimestamp(d.surveys.clock(), d.render.tz).strftime("%Y%m%d")
    await message.reply_document(
        data,
        filename=f"survey-{day}.csv",
        caption=texts.SURVEY_EXPORT_CAPTION.format(count=len(rows)),
    )


def survey_csv(rows: list[tuple[object, ...]], names: dict[str, str], render: Renderer) -> bytes:
    """The answers as a CSV Excel opens (BOM, UTF-8), every cell formula-safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([texts.SURVEY_EXPORT_HEADERS[c] for c in EXPORT_COLUMNS])
    for row in rows:
        cells = [
            _cell(column, value, names, render)
            for column, value in zip(EXPORT_COLUMNS, row, strict=True)
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue().encode("utf-8")


def _cell(column: str, value: object, names: dict[str, str], render: Renderer) -> object:
    if value is None:
        return ""
    if column == "at":
        return render.time_full(float(value))  # type: ignore[arg-type]
    if column == "community":
        special = {
            OUTSIDE: texts.SURVEY_COMMUNITY_OUTSIDE,
            UNDISCLOSED: texts.SURVEY_COMMUNITY_UNDISCLOSED,
        }
        return special.get(str(value)) or names.get(str(value), str(value))
    if column == "age":
        return texts.SURVEY_AGES.get(str(value), str(value))
    if column == "aware":
        return texts.SURVEY_AWARE_YES if value else texts.SURVEY_AWARE_NO
    if column == "lived":
        return texts.SURVEY_YES_NO[bool(value)]
    if column in ("support", "volunteer"):
        return texts.SURVEY_CHOICES.get(str(value), str(value))
    if column == "reason":
        return texts.SURVEY_REASONS.get(str(value), str(value))
    return value


def community_chart(communities: list[CommunityFigures], font_file: str | None = None) -> bytes:
    """Each community's support rate with its 95% interval as error bars, the 90% target
    dashed; communities with too few answers in grey."""
    font = cjk_font(font_file)
    figure, axes = plt.subplots(figsize=(10, 5), dpi=110)
    try:
        for i, c in enumerate(communities):
            rate = c.rates["support"]
            if rate.rate is None or rate.interval is None:
                continue
            low, high = rate.interval
            axes.bar(i, 100 * rate.rate, color="lightgrey" if c.too_few else "tab:blue")
            axes.errorbar(
                i,
                100 * rate.rate,
                yerr=[[100 * (rate.rate - low)], [100 * (high - rate.rate)]],
                color="black",
                capsize=4,
            )
        axes.set_xticks(range(len(communities)))
        axes.set_xticklabels(
            [c.community.name for c in communities], fontproperties=font, rotation=30
        )
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.axhline(100 * TARGET, color="grey", linestyle="--", linewidth=0.8)
        axes.set_title(texts.SURVEY_CHART_COMMUNITIES, fontproperties=font)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _is_survey(data: object) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    # parse has checked the argument is one the survey offers: any other is forged
    return button is not None and button.scope == "q" and button.action in callbacks.SURVEY_ACTIONS


def register(app: Application) -> None:
    """Add /survey, its buttons, /survey_stats, /survey_reasons and /survey_export."""
    app.add_handler(CommandHandler("survey", ask_survey, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("survey_stats", show_survey_stats))
    app.add_handler(CommandHandler("survey_reasons", show_survey_reasons))
    app.add_handler(CommandHandler("survey_export", export_survey))
    app.add_handler(CallbackQueryHandler(answer_survey, pattern=_is_survey))
