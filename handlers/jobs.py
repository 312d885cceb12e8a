"""Scheduled work, run by PTB's JobQueue."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from handlers.deps import deps

log = logging.getLogger(__name__)


async def check_deadlines(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Queue reminders and escalations for cases that became late."""
    queued = await deps(context).service.check_deadlines()
    if queued:
        log.info("deadlines: %d reminders or escalations queued", queued)
