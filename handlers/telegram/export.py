"""/export for the district office: a CSV of cases that Excel opens, without residents."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime, timedelta
from typing import TextIO

from telegram import Update
from telegram.ext import Application, CommandHandler

from dialogue import texts
from dialogue.render import Renderer
from handlers.telegram.deps import BotContext, refused_unless_admin_in_private
from reports.office import Office
from storage.reports import EXPORT_COLUMNS

DEFAULT_DAYS = 30
# Dates outside these years are typos: near the calendar's ends they would overflow.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999
# OWASP's rule for CSV injection: Excel takes a cell beginning with one of these for a
# formula (=HYPERLINK(…) leaks data, @SUM(…) runs), so such text gets a quote in front.
DANGEROUS_FIRST = frozenset("=+-@\t\r")


async def export_cases(update: Update, context: BotContext) -> None:
    """Send admins a CSV of the cases filed between two dates (default: the last 30 days)."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin_in_private(update, context, texts.EXPORT_NOT_ADMIN):
        return
    try:
        since, until = export_range(context.args or [], d.render)
    except ValueError:
        await message.reply_text(texts.EXPORT_USAGE)
        return
    # A spooled file: small exports stay in memory, big ones go to disk, never all rows.
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b") as raw:
        text = TextWrapper(raw)
        count = await write_csv(d.office, d.render, since, until, text)
        text.flush()
        raw.seek(0)
        name = f"cases-{_day(since, d.render)}-{_day(until - 1, d.render)}.csv"
        # Telegram takes the upload whole; rows were never all in memory before this.
        await message.reply_document(
            raw.read(), filename=name, caption=texts.EXPORT_CAPTION.format(count=count)
        )


class TextWrapper:
    """Write str to a binary file as UTF-8 (csv needs a text file; Telegram reads bytes)."""

    def __init__(self, raw: tempfile.SpooledTemporaryFile[bytes]) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        return self.raw.write(text.encode("utf-8"))

    def flush(self) -> None:
        self.raw.flush()


async def write_csv(
    office: Office, render: Renderer, since: float, until: float, out: TextIO | TextWrapper
) -> int:
    """Write the CSV (with a BOM, so Excel reads it as UTF-8); return the number of cases."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(texts.EXPORT_HEADERS[c]) for c in EXPORT_COLUMNS])
    count = 0
    async for rows in office.export(since, until):
        for row in rows:
            writer.writerow([spreadsheet_safe(cell) for cell in _cells(row, render)])
        count += len(rows)
    return count


def spreadsheet_safe(cell: object) -> object:
    """A cell Excel shows as the text it is: text that begins like a formula gets a quote
    in front. Numbers stay numbers (a negative coordinate is no formula)."""
    if isinstance(cell, str) and cell[:1] in DANGEROUS_FIRST:
        return "'" + cell
    return cell


def _cells(row: object, render: Renderer) -> list[object]:
    cells: list[object] = []
    for column in EXPORT_COLUMNS:
        value = row[column]  # type: ignore[index]
        if value is None:
            cells.append("")
        elif column.endswith("_at"):
            cells.append(render.time_full(value))
        elif column == "category":
            cells.append(render.category(value))
        elif column == "group_key":
            cells.append(render.group(value))
        elif column == "status":
            cells.append(texts.STATUS_NAMES.get(value, value))
        elif column == "area":
            cells.append(render.area(value) or value)
        elif column == "rating":
            cells.append(texts.RATING_NAMES.get(value, value))
        else:
            cells.append(value)
    return cells


def export_range(args: list[str], render: Renderer) -> tuple[float, float]:
    """[from, to] as typed (YYYY-MM-DD, local dates, `to` included) → unix [since, until)."""
    today = datetime.now(render.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    if len(args) > 2:
        raise ValueError("too many dates")
    until = _parse_day(args[1], render) if len(args) == 2 else today
    since = _parse_day(args[0], render) if args else today - timedelta(days=DEFAULT_DAYS - 1)
    until += timedelta(days=1)
    if since >= until:
        raise ValueError("empty range")
    return since.timestamp(), until.timestamp()


def _parse_day(text: str, render: Renderer) -> datetime:
    day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=render.tz)
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValueError(f"{text} is not a day cases could be filed on")
    return day


def _day(ts: float, render: Renderer) -> str:
    return datetime.fromtimestamp(ts, render.tz).strftime("%Y%m%d")


def register(app: Application) -> None:
    """Add /export (before the resident's unknown-command catch-all)."""
    app.add_handler(CommandHandler("export", export_cases))
