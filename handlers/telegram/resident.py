"""The resident's private chat: compose, confirm and follow reports."""

from __future__ import annotations

import contextlib
import logging

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from dialogue import callbacks, texts
from dialogue.resident import Pressed, Reply
from handlers.telegram.deps import BotContext
from handlers.telegram.guards import answer_press
from handlers.telegram.identity import resident_of
from handlers.telegram.keyboards import inline
from reports.errors import ReportError
from reports.message_refs import CARD, PROMPT, SURVEY_REASON
from reports.outbox import TELEGRAM
from reports.throttle import Verdict

log = logging.getLogger(__name__)
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ForceReply | None
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
# chat_data key: the album whose photos over the limit were already refused.
REFUSED_ALBUM = "refused_album"


async def hold_back_flood(update: Update, context: BotContext) -> None:
    """Stop a resident's messages beyond the flood limit; say so once per flood.

    Only messages in private chats are counted: a button press always gets its
    answer (Telegram shows a spinner until it does, and a press is one cheap
    update, checked by the service), group chats are staff at work, and the
    office's admins are never held back.
    """
    d = context.deps
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or user.id in d.settings.admins:
        return
    decision = d.throttle.check(user.id, message.date.timestamp(), message.media_group_id)
    if decision.verdict is Verdict.ADMIT:
        return
    if decision.verdict is Verdict.WARN:
        await message.reply_text(texts.TOO_FAST.format(seconds=decision.wait))
    raise ApplicationHandlerStop


async def show_welcome(update: Update, context: BotContext) -> None:
    """Explain what the bot is for, how to report, and what is stored; offer the daily quiz."""
    welcome, offer = context.deps.dialogue.welcome()
    message = update.effective_message
    await message.reply_text(welcome.text, reply_markup=ReplyKeyboardRemove())
    await show(message, [offer], context)


async def show_help(update: Update, context: BotContext) -> None:
    """Explain the commands and what the bot accepts."""
    await update.effective_message.reply_text(texts.HELP)


async def receive_text(update: Update, context: BotContext) -> None:
    """Start a report from a text; or answer what the text replies to (a prompt, a group's
    question, the survey's reason, a draft's card: its address)."""
    d = context.deps
    message = update.effective_message
    resident = await resident_of(update.effective_user, context)
    text = message.text or ""
    if text == texts.LOCATION_SKIP_BUTTON:
        await message.reply_text(texts.LOCATION_SKIPPED, reply_markup=ReplyKeyboardRemove())
        return
    replied = message.reply_to_message
    if replied is not None and replied.from_user and replied.from_user.is_bot:
        refs, chat, replied_id = d.message_refs, message.chat_id, replied.message_id
        prompt = await refs.prompt_at(TELEGRAM, chat, replied_id)
        if prompt is not None:
            await show(message, await d.dialogue.comment(resident, prompt, text), context)
            return
        asked = await refs.report_at_relay(TELEGRAM, chat, replied_id)
        if asked is not None:
            await show(message, await d.dialogue.answer(resident, asked, text), context)
            return
        if await refs.shows(TELEGRAM, chat, replied_id, SURVEY_REASON):
            await show(message, await d.quiz_dialogue.reason_text(resident, text), context)
            return
        draft = await refs.draft_at(TELEGRAM, chat, replied_id)
        if draft is not None and draft.resident_id == resident and draft.status == "open":
            await show(message, await d.dialogue.address(resident, draft, text), context)
            return
    await show(message, await d.dialogue.text(resident, text), context)


async def receive_photo(update: Update, context: BotContext) -> None:
    """Add a photo to the open report, or start a report from it."""
    d = context.deps
    message = update.effective_message
    resident = await resident_of(update.effective_user, context)
    album = message.media_group_id
    if album and context.chat_data.get(REFUSED_ALBUM) == album:
        return  # the album is over the limit and was refused once: the rest goes quietly
    file_id = message.photo[-1].file_id
    replies = await d.dialogue.photo(resident, file_id, message.caption or "", album)
    if album and any(r.card is None and r.nomination is None for r in replies):
        # Refused (too many photos): the album's other photos go quietly.
        context.chat_data[REFUSED_ALBUM] = album
    await show(message, replies, context)


async def receive_location(update: Update, context: BotContext) -> None:
    """Add a shared location to the open report, or start a report from it."""
    message = update.effective_message
    resident = await resident_of(update.effective_user, context)
    location = message.location
    replies = await context.deps.dialogue.location(resident, location.latitude, location.longitude)
    await show(message, replies, context)


async def show(message: Message, replies: list[Reply], context: BotContext) -> None:
    """Reply with each of the dialogue's replies, remembering cards and prompts."""
    d = context.deps
    for reply in replies:
        if reply.quiet:
            assert reply.card is not None
            await refresh_card(context, reply)
            continue
        markup: ReplyMarkup = inline(reply.choices)
        if reply.asks_location:
            markup = _location_keyboard()
        elif reply.asks_comment is not None or reply.asks_survey_reason:
            markup = ForceReply()
        sent = await message.reply_text(reply.text, reply_markup=markup)
        if reply.card is not None:
            await d.message_refs.remember(TELEGRAM, sent.chat_id, sent.message_id, CARD, reply.card)
        if reply.asks_comment is not None:
            await d.message_refs.remember(
                TELEGRAM, sent.chat_id, sent.message_id, PROMPT, reply.asks_comment
            )
        if reply.asks_survey_reason:
            await d.message_refs.remember(TELEGRAM, sent.chat_id, sent.message_id, SURVEY_REASON, 0)


async def refresh_card(context: BotContext, reply: Reply) -> None:
    """Edit the draft's latest card in place (best effort: the draft itself is saved)."""
    assert reply.card is not None
    card = await context.deps.message_refs.latest(TELEGRAM, CARD, reply.card)
    if card is None:
        return
    try:
        await context.bot.edit_message_text(
            reply.text,
            chat_id=int(card.chat),
            message_id=int(card.message_id),
            reply_markup=inline(reply.choices),
        )
    except Exception as exc:  # a stale card is cosmetic; the draft is already stored
        log.info("could not refresh card of draft %s: %s", reply.card, exc)


async def press_resident_button(update: Update, context: BotContext) -> None:
    """Handle a draft card's choices (确认, 更换类别, 添加位置, 取消 ...) and the ratings."""
    d = context.deps
    query = update.callback_query
    resident = await resident_of(query.from_user, context)
    button = callbacks.parse(query.data)
    message = query.message
    if button is not None and button.action in ("ok", "new") and message is not None:
        # The ticket will show in the card pressed: it becomes the draft's latest card
        # (a draft of the resident's own only: a forged id must not steer a receipt).
        with contextlib.suppress(ReportError):
            await d.drafting.get_draft(resident, button.id)
            chat, message_id = message.chat.id, message.message_id
            await d.message_refs.remember(TELEGRAM, chat, message_id, CARD, button.id)
    await show_pressed(query, await d.dialogue.press(resident, query.data or ""), context)


async def show_pressed(query: CallbackQuery, pressed: Pressed, context: BotContext) -> None:
    """Answer a press (a toast, or an alert to be read), then show its replies: in place of
    the message pressed where they replace it, else as new messages under it."""
    await answer_press(query, pressed.notice, pressed.alert)
    if pressed.spent:
        await query.edit_message_reply_markup(None)
    for reply in pressed.replies:
        if reply.replaces:
            await query.edit_message_text(reply.text, reply_markup=inline(reply.choices))
        elif isinstance(query.message, Message):
            await show(query.message, [reply], context)


def _location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(texts.LOCATION_SEND_BUTTON, request_location=True)],
            [KeyboardButton(texts.LOCATION_SKIP_BUTTON)],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def list_my_reports(update: Update, context: BotContext) -> None:
    """List the resident's latest reports and their status."""
    resident = await resident_of(update.effective_user, context)
    replies = await context.deps.dialogue.my_reports(resident)
    await show(update.effective_message, replies, context)


async def show_report_status(update: Update, context: BotContext) -> None:
    """Show one of the resident's own reports with its history."""
    resident = await resident_of(update.effective_user, context)
    replies = await context.deps.dialogue.status(resident, "".join(context.args or []))
    await show(update.effective_message, replies, context)


async def explain_unsupported(update: Update, context: BotContext) -> None:
    """Tell the resident which kinds of message the bot understands."""
    await update.effective_message.reply_text(texts.UNSUPPORTED)


async def explain_unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not have."""
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


def register(app: Application) -> None:
    """Add the resident's handlers: the flood check first (group -1), the catch-alls last."""
    app.add_handler(MessageHandler(PRIVATE, hold_back_flood), group=-1)
    app.add_handler(CommandHandler("start", show_welcome, filters=PRIVATE))
    app.add_handler(CommandHandler("help", show_help, filters=PRIVATE))
    app.add_handler(CommandHandler("myreports", list_my_reports, filters=PRIVATE))
    app.add_handler(CommandHandler("status", show_report_status, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(press_resident_button, pattern=_is_residents))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, receive_text))
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, receive_photo))
    app.add_handler(MessageHandler(PRIVATE & filters.LOCATION, receive_location))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, explain_unknown_command))
    app.add_handler(MessageHandler(PRIVATE, explain_unsupported))


def _is_residents(data: object) -> bool:
    """A draft's or a nomination's choice, a rating, or a choice under an answer to a text
    that was no report (the groups' and the quiz's buttons are handled apart)."""
    button = callbacks.parse(data) if isinstance(data, str) else None
    if button is None:
        return False
    if button.scope == "n":
        return button.action not in callbacks.NOMINATION_GROUP_ACTIONS
    return button.scope in ("d", "m") or (button.scope == "r" and button.action == "rt")
