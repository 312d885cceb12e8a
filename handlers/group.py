"""The working groups' chats: act on alerts with buttons, bind a chat to a group."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from handlers import callbacks, texts
from handlers.deps import deps
from handlers.render import ACTIONS_BY_CODE
from reports.service import ReportNotFound
from reports.states import TransitionRefused
from settings import GROUP_KEYS

log = logging.getLogger(__name__)
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
MEMBER_STATUSES = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


class MembershipCache:
    """Who belongs to which group chat, asked of Telegram and remembered briefly."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_member(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        now = self.clock()
        cached = self._known.get(key)
        if cached and cached[1] > now:
            return cached[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            # Unknown to Telegram right now: refuse, but don't remember the refusal.
            log.warning("getChatMember(%s, %s) failed: %s", chat_id, user_id, exc)
            return False
        allowed = member.status in MEMBER_STATUSES or (
            member.status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False)
        )
        self._known[key] = (allowed, now + self.ttl)
        return allowed


async def press_report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept or resolve a report from its alert, if the presser belongs to its group."""
    d = deps(context)
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None and button.scope == "r"
    user = query.from_user
    try:
        report = await d.service.get_report(button.id)
    except ReportNotFound:
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    chat_id = d.service.group_chat(report.group_key)
    allowed = user.id in d.settings.admins or (
        chat_id is not None and await d.members.is_member(context.bot, chat_id, user.id)
    )
    if not allowed:
        await query.answer(texts.NO_PERMISSION, show_alert=True)
        return
    action = ACTIONS_BY_CODE[button.action]
    try:
        await d.service.act(report.id, action, user.id, user.full_name)
    except TransitionRefused as exc:
        message = texts.ACT_REFUSED.get((exc.status, exc.action), texts.BUTTON_STALE)
        await query.answer(message, show_alert=True)
        return
    await query.answer(texts.ACT_DONE[action])


async def answer_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button that is not (or no longer) ours, without doing anything."""
    await update.callback_query.answer(texts.BUTTON_STALE, show_alert=True)


async def bind_group_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Bind this group chat to a working group (admins only)."""
    d = deps(context)
    message = update.effective_message
    chat = update.effective_chat
    if chat.type not in ("group", "supergroup"):
        await message.reply_text(texts.BIND_ONLY_GROUPS)
        return
    if update.effective_user.id not in d.settings.admins:
        await message.reply_text(texts.BIND_NOT_ADMIN)
        return
    key = (context.args or [""])[0].strip().lower()
    if key not in GROUP_KEYS:
        listing = "\n".join(f"{k}　{d.settings.groups[k].name}" for k in GROUP_KEYS)
        await message.reply_text(texts.BIND_USAGE.format(groups=listing))
        return
    await d.service.bind_group(key, chat.id, update.effective_user.id)
    await message.reply_text(texts.BIND_DONE.format(group=d.settings.groups[key].name))


def register(app: Application) -> None:
    """Add the working groups' handlers; group chatter has no handler and is ignored."""
    app.add_handler(CommandHandler("bind", bind_group_chat))
    app.add_handler(
        CallbackQueryHandler(press_report_button, pattern=lambda d: _is_report_button(d))
    )


def register_fallbacks(app: Application) -> None:
    """Answer every button no other handler took; registered last."""
    app.add_handler(CallbackQueryHandler(answer_stale_button))


def _is_report_button(data: object) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    return button is not None and button.scope == "r"
