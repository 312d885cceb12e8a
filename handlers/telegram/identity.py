"""Who is writing: our resident id for the Telegram user behind an update, and back."""

from __future__ import annotations

from telegram import User

from handlers.telegram.deps import BotContext
from reports.outbox import TELEGRAM


async def resident_of(user: User, context: BotContext) -> int:
    """Our id for a resident writing from Telegram (created on first sight).

    Every resident-facing handler passes this id to the services, never the
    Telegram user id; staff and admins are still known by their Telegram ids.
    """
    return await context.deps.residents.resolve(TELEGRAM, user.id)


async def chat_of(resident_id: int, context: BotContext) -> int:
    """The Telegram chat of one of our residents who writes from Telegram (their private
    chat's id is their user id)."""
    address = await context.deps.residents.address(resident_id)
    if address is None or address[0] != TELEGRAM:
        raise LookupError(f"resident {resident_id} is not on Telegram")
    return int(address[1])


async def staff_of(user: User, context: BotContext) -> int:
    """Our id for a working group's member acting from Telegram (their name kept up to date)."""
    return await context.deps.staff.resolve(TELEGRAM, user.id, user.full_name)
