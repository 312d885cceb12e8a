"""The working groups' chats: act on alerts with buttons, bind a chat to a group."""

from __future__ import annotations

import logging

from telegram import ForceReply, MaybeInaccessibleMessage, ReplyParameters, Update, User
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from dialogue import callbacks, texts
from dialogue.group import Member, NotePromptReply
from handlers.telegram.deps import BotContext, refused_unless_admin
from handlers.telegram.guards import answer_press
from handlers.telegram.identity import staff_of
from handlers.telegram.keyboards import inline
from reports.message_refs import PROMPT
from reports.outbox import TELEGRAM

log = logging.getLogger(__name__)
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE


async def press_report_button(update: Update, context: BotContext) -> None:
    """Act on a report from its alert: 受理 at once; 办结, 退回 and 转派 ask for a note."""
    d = context.deps
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None and button.scope == "r"
    message = query.message
    report = None
    if message is not None:
        report = await d.message_refs.report_at_alert(TELEGRAM, message.chat.id, message.message_id)
    if message is None or report is None or report.id != button.id:
        # An alert of a case since reassigned, or a forged button: not the case's alert.
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    user = query.from_user
    if not await may_act(context, report.group_key, user.id):
        await query.answer(texts.NO_PERMISSION, show_alert=True)
        return
    pressed = await d.group_dialogue.press(await member_of(user, context), report, query.data)
    await answer_press(query, pressed.notice, pressed.alert)
    for reply in pressed.replies:
        if isinstance(reply, NotePromptReply):
            await ask_for_note(context, message, reply)
    if pressed.choices_now is not None:
        await query.edit_message_reply_markup(inline(pressed.choices_now))


async def press_nomination_button(update: Update, context: BotContext) -> None:
    """Select a resident's 身边好人 nomination for the week's list, or not (the praise group)."""
    d = context.deps
    query = update.callback_query
    button = callbacks.parse(query.data)
    assert button is not None and button.scope == "n"
    message = query.message
    nomination = None
    if message is not None:
        nomination = await d.message_refs.nomination_at(
            TELEGRAM, message.chat.id, message.message_id
        )
    if nomination is None or nomination.id != button.id:
        # Not this nomination's alert: a forged button, or one under another message.
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    user = query.from_user
    if not await may_act(context, d.settings.roles.praise, user.id):
        await query.answer(texts.NOMINATION_NO_PERMISSION, show_alert=True)
        return
    member = await member_of(user, context)
    pressed = await d.group_dialogue.press_nomination(member, nomination, query.data)
    await answer_press(query, pressed.notice, pressed.alert)


async def ask_for_note(
    context: BotContext, alert: MaybeInaccessibleMessage, prompt: NotePromptReply
) -> None:
    """Post the prompt a group member answers by reply, under the alert, and remember it."""
    sent = await context.bot.send_message(
        alert.chat.id,
        prompt.text,
        reply_markup=ForceReply(input_field_placeholder=prompt.placeholder),
        reply_parameters=ReplyParameters(alert.message_id),
    )
    await context.deps.message_refs.remember(
        TELEGRAM, alert.chat.id, sent.message_id, PROMPT, prompt.asks_note
    )


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
    member = await member_of(user, context)
    for reply in await d.group_dialogue.note(member, prompt, message.text):
        await message.reply_text(reply.text)


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
    member = await member_of(user, context)
    for reply in await d.group_dialogue.ask(member, report, message.text):
        await message.reply_text(reply.text)


async def member_of(user: User, context: BotContext) -> Member:
    """The member acting, as the group dialogue knows them."""
    return Member(await staff_of(user, context), user.full_name)


async def may_act(context: BotContext, group_key: str, user_id: int) -> bool:
    """Admins, and members of the group's chat, may act on its cases."""
    d = context.deps
    if user_id in d.settings.admins:
        return True
    chat_id = d.group_chats.group_chat(group_key)
    return chat_id is not None and await d.members.is_member(context.bot, chat_id, user_id)


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
    app.add_handler(
        CallbackQueryHandler(press_nomination_button, pattern=lambda d: _is_nomination_choice(d))
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


def _is_nomination_choice(data: object) -> bool:
    """选入 / 暂不选入 under a nomination's alert (the resident's own choices are apart)."""
    button = callbacks.parse(data) if isinstance(data, str) else None
    return (
        button is not None
        and button.scope == "n"
        and button.action in callbacks.NOMINATION_GROUP_ACTIONS
    )
