"""Scheduled work, run by PTB's JobQueue."""

from __future__ import annotations

import logging

from handlers.telegram.deps import BotContext

log = logging.getLogger(__name__)


async def check_deadlines(context: BotContext) -> None:
    """Queue reminders and escalations for late cases; close resolved ones nobody rated."""
    d = context.deps
    queued = await d.cases.check_deadlines()
    closed = await d.ratings.close_unrated()
    if queued or closed:
        log.info("deadlines: %d notices queued, %d unrated cases closed", queued, closed)


async def send_digests(context: BotContext) -> None:
    """Queue every group's daily digest."""
    await context.deps.office.queue_digests()


async def send_weekly_report(context: BotContext) -> None:
    """Queue the office's weekly report."""
    await context.deps.office.queue_weekly_report()


async def forget_old_records(context: BotContext) -> None:
    """Delete closed drafts and delivered outbox rows older than the retention."""
    drafts, sent = await context.deps.retention.forget_old()
    if drafts or sent:
        log.info("retention: %d old drafts and %d delivered messages deleted", drafts, sent)
