"""/stats for the district office: figures per group and category, and a chart."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from dialogue import texts
from dialogue.figures import stats_text
from handlers.telegram.deps import BotContext, refused_unless_admin_in_private
from handlers.telegram.figures import chart_png, map_png

DEFAULT_DAYS = 30
MAX_DAYS = 3660


async def show_statistics(update: Update, context: BotContext) -> None:
    """Send admins the figures of the last N days (default 30), a chart and the areas' map."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.STATS_NOT_ADMIN):
        return
    args = context.args or []
    try:
        days = int(args[0]) if args else DEFAULT_DAYS
        if not 1 <= days <= MAX_DAYS or len(args) > 1:
            raise ValueError
    except ValueError:
        await message.reply_text(texts.STATS_USAGE)
        return
    figures = await d.office.statistics(days)
    selected = await d.office.nominations_selected(days)
    text = "\n".join(
        [stats_text(figures, days, d.render), texts.STATS_NOMINATIONS.format(count=selected)]
    )
    await message.reply_text(text)
    chart = await chart_png(d.render, figures, days)
    if chart is None:
        await message.reply_text(texts.STATS_NO_FONT)
        return  # the map would need the same font
    elif chart:
        await message.reply_photo(chart)
    if d.render.settings.areas:
        area_map = await map_png(d.render, await d.office.open_by_area(), figures.until)
        if area_map:
            await message.reply_photo(area_map)


def register(app: Application) -> None:
    """Add /stats (before the resident's unknown-command catch-all)."""
    app.add_handler(CommandHandler("stats", show_statistics))
