"""The working groups' chats: act on alerts with buttons, bind a chat to a group."""

from __future__ import annotations

import logging

from telegram import ForceReply, MaybeInaccessibleMessage, ReplyParameters, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from dialogue import callbacks, texts
from dialogue.render import ACTIONS_BY_CODE
from handlers.telegram.deps import BotContext, refused_unless_admin
from handlers.telegram.identity import staff_of
from handlers.telegram.keyboards import inline
from reports.errors import NoteTooLong, PromptUsed, ReportNotFound, UnknownTicket
from reports.message_refs import PROMPT
from reports.records import Report
from reports.residents import TELEGRAM
from reports.states import Action, TransitionRefused, next_status

log = logging.getLogger(__name__)
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE


async def press_report_button(update: Update, context: BotContext) -> None:
    """Act on a report from its alert: 受理 at once; 办结, 退回 and 转派 ask for a note."""
    d = context.deps
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None and button.scope == "r"
    user = query.from_user
    try:
        report = await d.cases.get_report(button.id)
    except ReportNotFound:
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    message = query.message
    alert = None
    if message is not None:
        alert = await d.message_refs.report_at_alert(TELEGRAM, message.chat.id, message.message_id)
    if message is None or alert is None or alert.id != report.id:
        # An alert of a case since reassigned, or a forged button: not the case's alert.
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    if not await may_act(context, report.group_key, user.id):
        await query.answer(texts.NO_PERMISSION, show_alert=True)
        return
    try:
        if button.action == "acc":
            staff = await staff_of(user, context)
            await d.cases.act(report.id, Action.ACCEPT, staff, user.full_name)
            await query.answer(texts.ACT_DONE["accept"])
        elif button.action == "mv":
            next_status(report.status, Action.REASSIGN)
            await query.answer()
            await query.edit_message_reply_markup(inline(d.render.group_choice(report)))
        elif button.action == "back":
            await query.answer()
            await query.edit_message_reply_markup(inline(d.render.alert_buttons(report)))
        else:
            action = ACTIONS_BY_CODE["mv" if button.action == "to" else button.action]
            to_group = button.arg if button.action == "to" else None
            if to_group is not None and (
                to_group not in d.settings.groups or to_group == report.group_key
            ):
                await query.answer(texts.BUTTON_STALE, show_alert=True)
                return
            next_status(report.status, action)
            staff = await staff_of(user, context)
            await ask_for_note(context, report, message, action, staff, to_group)
            await query.answer(texts.ACT_ASK_NOTE)
            if to_group is not None:
                await query.edit_message_reply_markup(inline(d.render.alert_buttons(report)))
    except TransitionRefused as exc:
        await query.answer(refused(exc), show_alert=True)


async def ask_for_note(
    context: BotContext,
    report: Report,
    alert: MaybeInaccessibleMessage,
    action: Action,
    actor_id: int,
    to_group: str | None,
) -> None:
    """Post the prompt a group member answers by reply, under the alert, and remember it."""
    d = context.deps
    text = texts.PROMPT[action].format(
        ticket=report.ticket,
        limit=d.settings.reports.max_note_chars,
        group=d.render.group(to_group or ""),
    )
    prompt = await context.bot.send_message(
        alert.chat.id,
        text,
        reply_markup=ForceReply(input_field_placeholder=texts.ACTION_NAMES[action]),
        reply_parameters=ReplyParameters(alert.message_id),
    )
    prompt_id = await d.cases.open_prompt(report.id, action, staff_id=actor_id, to_group=to_group)
    await d.message_refs.remember(TELEGRAM, alert.chat.id, prompt.message_id, PROMPT, prompt_id)


async def receive_note_reply(update: Update, context: BotContext) -> None:
    """Complete 办结, 退回 or 转派 with the note a member wrote in reply to the prompt."""
    d = context.deps
    message = update.effective_message
    replied = message.reply_to_message
    prompt = await d.message_refs.prompt_at(TELEGRAM, message.chat_id, replied.message_id)
    if prompt is None:
        await relay_question(update, context)
        return
    if prompt.status != "open":
        await message.reply_text(texts.NOTE_USED)
        return
    user = update.effective_user
    report = await d.cases.get_report(prompt.report_id)
    if not await may_act(context, report.group_key, user.id):
        await message.reply_text(texts.NO_PERMISSION)
        return
    action = Action(prompt.action)
    try:
        report = await d.cases.act(
            report.id,
            action,
            await staff_of(user, context),
            user.full_name,
            note=message.text.strip(),
            to_group=prompt.to_group,
            prompt_id=prompt.id,
        )
    except NoteTooLong as exc:
        await message.reply_text(texts.NOTE_TOO_LONG.format(limit=exc.limit))
        return
    except UnknownTicket:
        await message.reply_text(texts.MERGE_UNKNOWN)
        return
    except PromptUsed:
        await message.reply_text(texts.NOTE_USED)
        return
    except TransitionRefused as exc:
        await message.reply_text(refused(exc))
        return
    await message.reply_text(
        texts.NOTE_DONE[action].format(ticket=report.ticket, group=d.render.group(report.group_key))
    )


async def relay_question(update: Update, context: BotContext) -> None:
    """A member's reply to a case's alert is a question for the resident; relay it."""
    d = context.deps
    message = update.effective_message
    replied = message.reply_to_message
    report = await d.message_refs.report_at_alert(TELEGRAM, message.chat_id, replied.message_id)
    if report is None:
        return  # a reply to something else: ordinary chatter
    user = update.effective_user
    if not await may_act(context, report.group_key, user.id):
        await message.reply_text(texts.NO_PERMISSION)
        return
    try:
        staff = await staff_of(user, context)
        await d.relays.ask_resident(report, message.text, staff, user.full_name)
    except NoteTooLong as exc:
        await message.reply_text(texts.NOTE_TOO_LONG.format(limit=exc.limit))
        return
    await message.reply_text(texts.RELAY_SENT)


async def may_act(context: BotContext, group_key: str, user_id: int) -> bool:
    """Admins, and members of the group's chat, may act on its cases."""
    d = context.deps
    if user_id in d.settings.admins:
        return True
    chat_id = d.group_chats.group_chat(group_key)
    return chat_id is not None and await d.members.is_member(context.bot, chat_id, user_id)


def refused(exc: TransitionRefused) -> str:
    """Why an action does not apply to the case as it is now."""
    known = texts.ACT_REFUSED.get((exc.status, exc.action))
    return known or texts.ACT_REFUSED_CLOSED.format(
        status=texts.STATUS_NAMES[exc.status], action=texts.ACTION_NAMES[exc.action]
    )


async def answer_stale_button(update: Update, context: BotContext) -> None:
    """Answer a button that is not (or no longer) ours, without doing anything."""
    await update.callback_query.answer(texts.BUTTON_STALE, show_alert=True)


async def bind_group_chat(update: Update, context: BotContext) -> None:
    """Bind this group chat to a working group (admins only)."""
    d = context.deps
    message = update.effective_message
    chat = update.effective_chat
    if chat.type not in ("group", "supergroup"):
        await message.reply_text(texts.BIND_ONLY_GROUPS)
        return
    if await refused_unless_admin(update, context, texts.BIND_NOT_ADMIN):
        return
    key = (context.args or [""])[0].strip().lower()
    if key not in d.settings.groups:
        listing = "\n".join(f"{k}　{g.name}" for k, g in d.settings.groups.items())
        await message.reply_text(texts.BIND_USAGE.format(groups=listing))
        return
    await d.group_chats.bind_group(key, chat.id, await staff_of(update.effective_user, context))
    await message.reply_text(texts.BIND_DONE.format(group=d.settings.groups[key].name))


async def send_digests_now(update: Update, context: BotContext) -> None:
    """Send every group its digest now (admins only)."""
    d = context.deps
    message = update.effective_message
    if await refused_unless_admin(update, context, texts.DIGEST_NOT_ADMIN):
        return
    await d.office.queue_digests()
    await message.reply_text(texts.DIGEST_SENT)


def register(app: Application) -> None:
    """Add the working groups' handlers; group chatter has no handler and is ignored."""
    app.add_handler(CommandHandler("bind", bind_group_chat))
    app.add_handler(CommandHandler("digest", send_digests_now))
    app.add_handler(
        MessageHandler(GROUPS & filters.TEXT & filters.REPLY & ~filters.COMMAND, receive_note_reply)
    )
    app.add_handler(
        CallbackQueryHandler(press_report_button, pattern=lambda d: _is_report_button(d))
    )


def register_fallbacks(app: Application) -> None:
    """Answer every button no other handler took; registered last."""
    app.add_handler(CallbackQueryHandler(answer_stale_button))


def _is_report_button(data: object) -> bool:
    button = callbacks.parse(data) if isinstance(data, str) else None
    return (
        button is not None
        and button.scope == "r"
        and button.action not in callbacks.RESIDENT_REPORT_ACTIONS
    )
