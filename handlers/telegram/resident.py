"""The resident's private chat: compose, confirm and follow reports."""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    ForceReply,
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
from dialogue.render import quiz_offer_markup
from handlers.telegram.deps import BotContext
from handlers.telegram.identity import resident_of
from handlers.telegram.keyboards import inline
from reports.drafting import check_location
from reports.errors import (
    AlreadyRated,
    BadLocation,
    CommentNeeded,
    DraftClosed,
    DuplicateFound,
    FloodLimited,
    NeedsDescription,
    NoteTooLong,
    NotOffered,
    PromptUsed,
    ReportError,
    ReportNotFound,
    TextTooLong,
    TooManyPhotos,
)
from reports.message_refs import CARD, PROMPT
from reports.records import Draft, NotePrompt
from reports.residents import TELEGRAM
from reports.states import Action
from reports.throttle import Verdict
from reports.tickets import parse_ticket
from settings import FALLBACK_CATEGORY, Settings

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
RATING_CODES = {"s": "satisfied", "b": "basically", "u": "unsatisfied"}
# Short texts with no sign of a report ("你好", "谢谢") get a hint, not a draft.
CHITCHAT_MAX_CHARS = 6
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
    message = update.effective_message
    await message.reply_text(texts.WELCOME, reply_markup=ReplyKeyboardRemove())
    await message.reply_text(texts.QUIZ_OFFER, reply_markup=inline(quiz_offer_markup()))


async def show_help(update: Update, context: BotContext) -> None:
    """Explain the commands and what the bot accepts."""
    await update.effective_message.reply_text(texts.HELP)


async def receive_text(update: Update, context: BotContext) -> None:
    """Start a report from a text, or add an address or a description to an open one."""
    d = context.deps
    message = update.effective_message
    resident = await resident_of(update.effective_user, context)
    text = message.text or ""
    if text == texts.LOCATION_SKIP_BUTTON:
        await message.reply_text(texts.LOCATION_SKIPPED, reply_markup=ReplyKeyboardRemove())
        return
    try:
        replied = message.reply_to_message
        if replied is not None and replied.from_user and replied.from_user.is_bot:
            refs = d.message_refs
            prompt = await refs.prompt_at(TELEGRAM, message.chat_id, replied.message_id)
            if prompt is not None:
                await reopen_with_comment(message, prompt, context)
                return
            asked = await refs.report_at_relay(TELEGRAM, message.chat_id, replied.message_id)
            if asked is not None:
                await d.relays.answer_group(asked, resident, text)
                await message.reply_text(
                    texts.RELAY_ANSWERED.format(group=d.render.group(asked.group_key))
                )
                return
            draft = await refs.draft_at(TELEGRAM, message.chat_id, replied.message_id)
            if draft is not None and draft.resident_id == resident and draft.status == "open":
                draft = await d.drafting.set_address(resident, draft.id, text)
                notice = texts.DRAFT_ADDRESS_ADDED.format(address=draft.address)
                await send_card(message, draft, context, notice)
                return
        d.drafting.check_text(text)
        open_draft = await d.drafting.open_draft(resident)
        if open_draft is not None and not open_draft.text:
            # A photo or a location came first; this text describes it.
            draft = await d.drafting.describe(resident, open_draft.id, text)
            await send_card(message, draft, context)
            return
        result = d.drafting.classify(text)
        if result.category == FALLBACK_CATEGORY and len(text.strip()) <= CHITCHAT_MAX_CHARS:
            await message.reply_text(texts.CHITCHAT)
            return
        draft = await d.drafting.start_draft(resident, text)
    except ReportError as exc:
        await message.reply_text(refusal(exc, d.settings))
        return
    await send_card(message, draft, context)


async def receive_photo(update: Update, context: BotContext) -> None:
    """Add a photo to the open report, or start a report from it."""
    d = context.deps
    message = update.effective_message
    resident = await resident_of(update.effective_user, context)
    file_id = message.photo[-1].file_id
    caption = message.caption or ""
    album = message.media_group_id
    if album and context.chat_data.get(REFUSED_ALBUM) == album:
        return  # the album is over the limit and was refused once: the rest goes quietly
    try:
        draft = await d.drafting.open_draft(resident)
        if draft is not None and (not caption or (album and album == draft.media_group_id)):
            draft = await d.drafting.add_photo(resident, draft.id, file_id, caption)
            if album and album == draft.media_group_id:
                await refresh_card(context, draft)  # the rest of an album: no reply each
            else:
                notice = texts.DRAFT_PHOTO_ADDED.format(count=len(draft.photos))
                await send_card(message, draft, context, notice)
            return
        draft = await d.drafting.start_draft(resident, caption, file_id, album)
    except ReportError as exc:
        if album and isinstance(exc, TooManyPhotos):
            context.chat_data[REFUSED_ALBUM] = album
        await message.reply_text(refusal(exc, d.settings))
        return
    await send_card(message, draft, context)


async def receive_location(update: Update, context: BotContext) -> None:
    """Add a shared location to the open report, or start a report from it."""
    d = context.deps
    message = update.effective_message
    resident = await resident_of(update.effective_user, context)
    location = message.location
    try:
        check_location(location.latitude, location.longitude)
        draft = await d.drafting.open_draft(resident)
        if draft is None:
            draft = await d.drafting.start_draft(resident, "")
        draft = await d.drafting.set_location(
            resident, draft.id, location.latitude, location.longitude
        )
    except ReportError as exc:
        await message.reply_text(refusal(exc, d.settings))
        return
    await send_card(message, draft, context, texts.DRAFT_LOCATION_ADDED)


def refusal(exc: ReportError, settings: Settings) -> str:
    """What to tell a resident whose request the service refused."""
    if isinstance(exc, TextTooLong | TooManyPhotos | NoteTooLong):
        template = texts.TOO_MANY_PHOTOS if isinstance(exc, TooManyPhotos) else texts.TOO_LONG
        return template.format(limit=exc.limit)
    if isinstance(exc, FloodLimited):
        return texts.FLOOD.format(limit=settings.reports.max_per_hour)
    if isinstance(exc, BadLocation):
        return texts.LOCATION_IMPOSSIBLE
    if isinstance(exc, NeedsDescription):
        return texts.NEEDS_DESCRIPTION
    if isinstance(exc, DraftClosed):
        return texts.DRAFT_CLOSED
    return texts.DRAFT_GONE


async def rate_report(update: Update, context: BotContext) -> None:
    """Record 满意 or 基本满意; for 不满意 ask what is wrong, to reopen the case."""
    d = context.deps
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None and button.action == "rt"
    rating = RATING_CODES.get(button.arg or "")
    resident = await resident_of(query.from_user, context)
    try:
        if rating is None:
            raise ReportNotFound()
        await d.ratings.rate(button.id, resident, rating)
    except CommentNeeded:
        report = await d.cases.get_report(button.id)
        await query.answer()
        prompt = await query.message.reply_text(
            texts.REOPEN_ASK.format(
                limit=d.settings.reports.max_note_chars,
                ticket=report.ticket,
                group=d.render.group(report.group_key),
            ),
            reply_markup=ForceReply(),
        )
        prompt_id = await d.cases.open_prompt(report.id, Action.REOPEN, resident)
        await d.message_refs.remember(
            TELEGRAM, query.message.chat.id, prompt.message_id, PROMPT, prompt_id
        )
        return
    except AlreadyRated:
        await query.answer(texts.RATE_ALREADY, show_alert=True)
        return
    except ReportError:
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    await query.answer(texts.RATE_THANKS.format(rating=texts.RATING_NAMES[rating]))
    await query.edit_message_reply_markup(None)


async def reopen_with_comment(message: Message, prompt: NotePrompt, context: BotContext) -> None:
    """The resident's 不满意 comment: the case goes back to its group."""
    d = context.deps
    try:
        resident = await resident_of(message.from_user, context)
        report = await d.ratings.reopen(prompt.report_id, resident, message.text.strip(), prompt.id)
    except NoteTooLong as exc:
        await message.reply_text(texts.REOPEN_TOO_LONG.format(limit=exc.limit))
        return
    except (AlreadyRated, PromptUsed):
        await message.reply_text(texts.RATE_ALREADY)
        return
    await message.reply_text(
        texts.REOPEN_DONE.format(ticket=report.ticket, group=d.render.group(report.group_key))
    )


async def send_card(message: Message, draft: Draft, context: BotContext, notice: str = "") -> None:
    """Reply with the draft's card and remember it, so buttons and replies find the draft."""
    d = context.deps
    text, markup = d.render.draft_card(draft, d.drafting.is_placed(draft))
    card = await message.reply_text(
        f"{notice}\n{text}" if notice else text, reply_markup=inline(markup)
    )
    await d.message_refs.remember(TELEGRAM, card.chat_id, card.message_id, CARD, draft.id)


async def refresh_card(context: BotContext, draft: Draft) -> None:
    """Edit the draft's card in place (best effort: the draft itself is saved)."""
    d = context.deps
    card = await d.message_refs.latest(TELEGRAM, CARD, draft.id)
    if card is None:
        return
    text, markup = d.render.draft_card(draft, d.drafting.is_placed(draft))
    try:
        await context.bot.edit_message_text(
            text,
            chat_id=int(card.chat),
            message_id=int(card.message_id),
            reply_markup=inline(markup),
        )
    except Exception as exc:  # a stale card is cosmetic; the draft is already stored
        log.info("could not refresh card of draft %s: %s", draft.id, exc)


async def press_draft_button(update: Update, context: BotContext) -> None:
    """Handle 确认, 更换类别, 添加位置 and 取消 on a draft card."""
    d = context.deps
    query = update.callback_query
    button = callbacks.parse(query.data)
    resident = await resident_of(query.from_user, context)
    assert button is not None and button.scope == "d"  # guaranteed by the handler pattern
    try:
        if button.action in ("ok", "new"):
            try:
                separate = button.action == "new"
                if query.message is not None:
                    # The ticket will show in the card pressed: it becomes the draft's latest.
                    await d.drafting.get_draft(resident, button.id)  # the resident's own only
                    message = query.message
                    await d.message_refs.remember(
                        TELEGRAM, message.chat.id, message.message_id, CARD, button.id
                    )
                submission = await d.filing.confirm(resident, button.id, separate)
            except DuplicateFound as found:
                draft = await d.drafting.get_draft(resident, button.id)
                await query.answer()
                text, markup = d.render.duplicate_choice(draft, found.report, found.distance)
                await query.edit_message_text(text, reply_markup=inline(markup))
                return
            ticket = submission.report.ticket
            if not submission.new:
                await query.answer(
                    texts.DRAFT_ALREADY_SUBMITTED.format(ticket=ticket), show_alert=True
                )
                return
            # The card turns into the receipt when the courier delivers it (queued with
            # the report), so neither a crash nor an outage now can lose the ticket.
            await query.answer(texts.DRAFT_SUBMITTED_TOAST.format(ticket=ticket))
        elif button.action == "fol":
            try:
                report = await d.filing.follow(resident, button.id, _case_id(button.arg))
            except (NotOffered, ReportNotFound):
                await query.answer(texts.BUTTON_STALE, show_alert=True)
                return
            await query.answer()
            await query.edit_message_text(
                texts.FOLLOWING.format(ticket=report.ticket, group=d.render.group(report.group_key))
            )
        elif button.action == "cat":
            draft = await d.drafting.get_draft(resident, button.id)
            _require_open(draft)
            await query.answer()
            await query.edit_message_text(
                d.render.choose_text(draft), reply_markup=inline(d.render.category_choice(draft))
            )
        elif button.action == "set":
            draft = await d.drafting.choose_category(resident, button.id, button.arg or "")
            await query.answer()
            text, markup = d.render.draft_card(draft, placed=True)
            await query.edit_message_text(text, reply_markup=inline(markup))
        elif button.action == "back":
            draft = await d.drafting.get_draft(resident, button.id)
            _require_open(draft)
            await query.answer()
            text, markup = d.render.draft_card(draft, d.drafting.is_placed(draft))
            await query.edit_message_text(text, reply_markup=inline(markup))
        elif button.action == "loc":
            draft = await d.drafting.get_draft(resident, button.id)
            _require_open(draft)
            await query.answer()
            await query.message.reply_text(
                texts.LOCATION_REQUEST, reply_markup=_location_keyboard()
            )
        elif button.action == "no":
            await d.drafting.cancel(resident, button.id)
            await query.answer()
            await query.edit_message_text(texts.DRAFT_CANCELLED)
    except DraftClosed as exc:
        await _answer_closed(query, exc.draft, context)
    except ReportError as exc:
        await query.answer(refusal(exc, d.settings), show_alert=True)


def _case_id(arg: str | None) -> int:
    """The case a 关注 button names; anything but a plausible id names none (0)."""
    if arg is None or not arg.isascii() or not arg.isdigit() or len(arg) > 12:
        return 0
    return int(arg)


def _require_open(draft: Draft) -> None:
    if draft.status != "open":
        raise DraftClosed(draft)


async def _answer_closed(query: CallbackQuery, draft: Draft, context: BotContext) -> None:
    if draft.status in ("submitted", "followed") and draft.report_id is not None:
        report = await context.deps.cases.get_report(draft.report_id)
        # An alert, not a toast: the resident may be asking because the receipt never came.
        await query.answer(
            texts.DRAFT_ALREADY_SUBMITTED.format(ticket=report.ticket), show_alert=True
        )
    else:
        await query.answer(texts.DRAFT_CLOSED, show_alert=True)


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
    d = context.deps
    resident = await resident_of(update.effective_user, context)
    reports, total = await d.cases.resident_reports(resident)
    await update.effective_message.reply_text(d.render.report_list(reports, total))


async def show_report_status(update: Update, context: BotContext) -> None:
    """Show one of the resident's own reports with its history."""
    d = context.deps
    message = update.effective_message
    ticket = parse_ticket("".join(context.args or []))
    if ticket is None:
        await message.reply_text(texts.STATUS_USAGE)
        return
    resident = await resident_of(update.effective_user, context)
    report = await d.cases.resident_report(resident, ticket)
    if report is None:
        await message.reply_text(texts.STATUS_NOT_FOUND.format(ticket=ticket))
        return
    history = await d.cases.history(report.id)
    await message.reply_text(d.render.report_detail(report, history))


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
    app.add_handler(CallbackQueryHandler(press_draft_button, pattern=lambda d: _is_scope(d, "d")))
    app.add_handler(CallbackQueryHandler(rate_report, pattern=_is_rating))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, receive_text))
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, receive_photo))
    app.add_handler(MessageHandler(PRIVATE & filters.LOCATION, receive_location))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, explain_unknown_command))
    app.add_handler(MessageHandler(PRIVATE, explain_unsupported))


def _is_rating(data: object) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    return button is not None and button.scope == "r" and button.action == "rt"


def _is_scope(data: object, scope: str) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    return button is not None and button.scope == scope
