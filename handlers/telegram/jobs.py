"""Scheduled work, run by PTB's JobQueue on every process, done by the leader only.

Every process schedules the same jobs; each body returns at once unless its process
leads (`reports.leadership`), so a process that takes over runs the next due job.
"""

from __future__ import annotations

import logging

from handlers.telegram.deps import BotContext

log = logging.getLogger(__name__)


def leads(context: BotContext) -> bool:
    """Whether this process leads the timed jobs."""
    return context.deps.leadership.is_leader


async def check_deadlines(context: BotContext) -> None:
    """Queue reminders and escalations for late cases; close resolved ones nobody rated."""
    if not leads(context):
        return
    d = context.deps
    queued = await d.cases.check_deadlines()
    closed = await d.ratings.close_unrated()
    if queued or closed:
        log.info("deadlines: %d notices queued, %d unrated cases closed", queued, closed)


async def send_digests(context: BotContext) -> None:
    """Queue every group's daily digest (once a day)."""
    if leads(context):
        await context.deps.office.queue_digests(once=True)


async def send_weekly_report(context: BotContext) -> None:
    """Queue the office's weekly report (once a week)."""
    if leads(context):
        await context.deps.office.queue_weekly_report(once=True)


async def forget_old_records(context: BotContext) -> None:
    """Delete closed drafts and delivered outbox rows older than the retention."""
    if not leads(context):
        return
    drafts, sent = await context.deps.retention.forget_old()
    if drafts or sent:
        log.info("retention: %d old drafts and %d delivered messages deleted", drafts, sent)
