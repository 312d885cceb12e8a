"""The courier: sends what the outbox holds to Telegram, retrying until it is accepted.

Runs as one background task beside polling. It sleeps until woken by a commit
that queued something, or until the next retry is due.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, ForceReply, InputMediaPhoto, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from dialogue import texts
from dialogue.choices import Keyboard
from dialogue.figures import stats_text, trend_text
from dialogue.render import Renderer
from handlers.courier import OutboxCourier
from handlers.telegram.figures import chart_png, map_png
from handlers.telegram.keyboards import inline
from handlers.telegram.worker import Worker
from reports.delivery import OutboxService
from reports.errors import GroupGone
from reports.media import is_kept
from reports.message_refs import ALERT, CARD, NOMINATION
from reports.outbox import (
    CASE_THANKS,
    DEADLINE_NOTICE,
    DIGEST,
    EDIT_ALERT,
    GROUP_ALERT,
    LEADER_COPY,
    NOMINATION_ALERT,
    NOMINATION_EDIT,
    NOMINATION_RESULT,
    NOTIFY_RESIDENT,
    OFFICE_NOTICE,
    REFUSAL_NOTICE,
    RELAY_ANSWER,
    RELAY_QUESTION,
    TELEGRAM,
    TICKET_RECEIPT,
    WEEKLY_REPORT,
    OutboxItem,
    leader_of,
)
from reports.records import MessageRef, Nomination, Report
from reports.services import ReportServices

log = logging.getLogger(__name__)


class GroupNotBound(Exception):
    """A group has no chat yet; its alerts wait until one is configured or bound."""


class Courier(Worker, OutboxCourier):  # Telegram's worker: its 429s are its own
    """Delivers outbox items; one item per target at a time, several targets at once."""

    name = "outbox-courier"

    def __init__(
        self,
        bot: Bot,
        outbox: OutboxService,
        reports: ReportServices,
        render: Renderer,
        concurrency: int = 4,
        idle_poll: float = 5.0,
        send_timeout: float = 30.0,
    ) -> None:
        super().__init__(outbox, concurrency, idle_poll)
        self.bot = bot
        self.cases = reports.cases
        self.group_chats = reports.group_chats
        self.office = reports.office
        self.refs = reports.message_refs
        self.residents = reports.residents
        self.media = reports.media
        self.nominations = reports.nominations
        self.roles = reports.shared.settings.roles
        self.render = render
        self.send_timeout = send_timeout

    async def deliver(self, item: OutboxItem) -> None:
        """Send one item, recording success, a retry time, or a permanent failure."""
        try:
            if item.kind == GROUP_ALERT:
                await self._send_alert(item)  # records its own progress
                return
            elif item.kind == EDIT_ALERT:
                await self._edit_alert(item)
            elif item.kind == NOTIFY_RESIDENT:
                await self._notify_resident(item)
            elif item.kind == TICKET_RECEIPT:
                await self._send_receipt(item)
            elif item.kind == DEADLINE_NOTICE:
                await self._deadline_notice(item)
            elif item.kind == RELAY_QUESTION:
                await self._relay_question(item)  # records its own delivery
                return
            elif item.kind == RELAY_ANSWER:
                await self._relay_answer(item)
            elif item.kind == WEEKLY_REPORT:
                await self._weekly_report(item)
                return
            elif item.kind == LEADER_COPY:
                await self._leader_copy(item)  # records its own outcome
                return
            elif item.kind == DIGEST:
                chat_id = self._group_chat(item.payload["group"])
                text = self.render.digest(item.payload)
                await self.bot.send_message(chat_id, text, read_timeout=self._timeout(item))
            elif item.kind == OFFICE_NOTICE:
                chat_id = self._group_chat(item.target)  # roles.notices
                text = str(item.payload.get("text", ""))
                await self.bot.send_message(chat_id, text, read_timeout=self._timeout(item))
            elif item.kind == REFUSAL_NOTICE:
                chat_id = self._group_chat(item.target)  # roles.notices
                text = self.render.refusal_notice(item.payload)
                await self.bot.send_message(chat_id, text, read_timeout=self._timeout(item))
            elif item.kind == NOMINATION_ALERT:
                await self._nomination_alert(item)  # records its own progress
                return
            elif item.kind == NOMINATION_EDIT:
                await self._nomination_edit(item)
            elif item.kind == NOMINATION_RESULT:
                nomination = await self._nomination(item)
                text = self.render.nomination_selected(nomination)
                chat = await self._resident_chat(item)
                await self.bot.send_message(chat, text, read_timeout=self._timeout(item))
            elif item.kind == CASE_THANKS:
                await self._case_thanks(item)
            else:
                await self.outbox.give_up(item, f"unknown kind {item.kind}")
                return
            await self.outbox.sent(item)
        except RetryAfter as exc:
            await self.outbox.retry(item, str(exc), after=_seconds(exc.retry_after) + 0.05)
        except ChatMigrated as exc:
            await self._migrated(item, exc)
        except GroupGone as exc:
            await self._orphaned(item, exc)
        except Forbidden as exc:
            await self._refused(item, exc)
        except BadRequest as exc:  # before NetworkError: PTB derives it from that
            reason = exc.message.lower()
            if "chat not found" in reason and not _private(item) and not _to_leader(item):
                # A group whose chat_id is wrong or whose chat lost the bot: /bind mends it.
                group = await self._group_of(item)
                log.warning("group %s has no reachable chat: fix chat_id or /bind %s", group, group)
                await self._retry(item, exc)
            elif item.kind == EDIT_ALERT and "message to edit not found" in reason:
                # Someone deleted the alert: its later states have nowhere to go.
                await self.outbox.give_up(item, str(exc))
            else:
                await self._refused(item, exc)
        except NetworkError as exc:
            # A timeout (Telegram may have posted the message all the same), a dropped
            # connection or a 5xx: back off, and go at once when sends succeed again.
            await self._retry(item, exc, transient=True)
        except OSError as exc:
            await self._retry(item, exc, transient=True)
        except (TelegramError, GroupNotBound) as exc:
            await self._retry(item, exc)
        except Exception as exc:
            log.exception("delivering outbox item %s failed", item.id)
            await self._retry(item, exc)

    def _timeout(self, item: OutboxItem) -> float:
        """How long to wait for Telegram's answer: longer after each failed attempt.

        A send that timed out may have been posted all the same, and a retry that
        times out again posts again: waiting twice as long the second time (and
        four times after that) keeps a slow Telegram to one duplicate at most.
        """
        return self.send_timeout * 2 ** min(item.attempts, 2)

    async def _refused(self, item: OutboxItem, exc: TelegramError) -> None:
        """Telegram refused the item for good: fail it, so the next in line can go, and
        tell the office which message it was and why (once; a resident's own chat
        excepted: one who blocked the bot or left Telegram is nobody's task)."""
        error = f"{type(exc).__name__}: {exc.message}"
        if _to_leader(item):
            # Most often a leader who never started the bot ("can't initiate conversation").
            log.warning("leader copy %s to %s refused: %s", item.id, item.recipient, error)
            await self.outbox.refuse_leader_copy(item, error, exc.message)
            return
        if _private(item):
            log.info("outbox item %s to %s refused: %s; given up", item.id, item.target, error)
            if item.kind == RELAY_QUESTION and item.report_id is not None:
                # The group waits for an answer that cannot come: tell it, under the alert.
                undelivered = {**item.payload, "undelivered": True}
                await self.outbox.give_up_and_tell_group(item, error, RELAY_ANSWER, undelivered)
            else:
                await self.outbox.give_up(item, error)
            return
        log.error(
            "outbox item %s (%s to %s) refused for good: %s; the office is told",
            item.id,
            item.kind,
            item.target,
            error,
        )
        await self.outbox.fail_and_tell(item, error, await self._group_of(item), exc.message)

    async def _migrated(self, item: OutboxItem, exc: ChatMigrated) -> None:
        """The group's chat became a supergroup: bind the group to it and send again at once."""
        group = await self._group_of(item)
        old_chat = self.group_chats.group_chat(group)
        if old_chat == exc.new_chat_id:
            # Bound there already, yet this send went to another old chat: no loop at once.
            await self._retry(item, exc)
            return
        await self.group_chats.move_group_chat(group, old_chat, exc.new_chat_id)
        log.warning(
            "group %s: its chat %s was upgraded to the supergroup %s; bound to it, sending there",
            group,
            old_chat,
            exc.new_chat_id,
        )
        await self.outbox.retry(item, str(exc), after=0.0)

    async def _orphaned(self, item: OutboxItem, exc: GroupGone) -> None:
        """Work for a group taken out of the config has nowhere to go: fail it, tell the office."""
        log.error(
            "outbox item %s (%s) is for group %s, which is no longer in the config;"
            " failed, the office is told",
            item.id,
            item.kind,
            exc.group_key,
        )
        error = f"{type(exc).__name__}: {exc}"
        await self.outbox.fail_and_tell(item, error, exc.group_key, str(exc), gone=True)

    async def _group_of(self, item: OutboxItem) -> str:
        """The working group whose chat an item was headed for."""
        if item.kind == WEEKLY_REPORT:
            return item.target
        if item.kind in (NOMINATION_ALERT, NOMINATION_EDIT):
            return self.roles.praise
        if "group" in item.payload and item.kind in (DIGEST, DEADLINE_NOTICE):
            return str(item.payload["group"])
        if item.report_id is not None:
            return (await self.cases.get_report(item.report_id)).group_key
        return item.target

    def _group_chat(self, group_key: str) -> int:
        chat_id = self.group_chats.group_chat(group_key)
        if chat_id is None:
            raise GroupNotBound(f"group {group_key} has no chat: set chat_id or /bind")
        return chat_id

    async def _send_alert(self, item: OutboxItem) -> None:
        """Alert text with buttons first, then its photos and location as replies.

        Each part delivered is recorded before the next is tried, so a retry
        never repeats a part the group already has.
        """
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        has_location = report.latitude is not None and report.longitude is not None
        step = item.step
        alert = await self.refs.alert(TELEGRAM, report)
        if step == 0 and alert is not None:
            # A second alert queued for the same group (a 转派 while the first
            # still waited): the first one went out showing the current state.
            await self.outbox.sent(item)
            return
        if step == 0:
            chat_id = self._group_chat(report.group_key)
            # A case nobody has touched yet has no one to name in its alert.
            fresh = report.updated_at == report.created_at
            history = [] if fresh else await self.cases.history(report.id)
            text, markup = self.render.alert(report, history)
            message = await self.bot.send_message(
                chat_id, text, reply_markup=inline(markup), read_timeout=self._timeout(item)
            )
            done = not report.photos and not has_location
            await self.outbox.alert_posted(item, report, chat_id, message.message_id, done)
            if done:
                return
            alert = await self.refs.alert(TELEGRAM, report)
            step = 1
        assert alert is not None
        chat = int(alert.chat)
        reply = _under(alert)
        photos = report.photos if step == 1 else ()
        await self._attachments(item, chat, reply, photos, report.latitude, report.longitude)
        await self.outbox.sent(item)

    async def _edit_alert(self, item: OutboxItem) -> None:
        """Show the report's current status and who acted, in the alert the group acted on."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        generation = item.payload.get("generation", report.assigned_at)
        alert = await self.refs.latest(TELEGRAM, ALERT, report.id, generation)
        if alert is None:
            return  # the alert is not out yet; when it goes, it shows the current state
        history = await self.cases.history(report.id)
        to_group = item.payload.get("to_group")
        if to_group:
            text, markup = self.render.handed_over(report, history, to_group), None
        elif item.payload.get("reopened"):
            text, markup = self.render.reopened_away(report, history), None
        else:
            text, markup = self.render.alert(report, history)
        await self._edit(item, alert, text, markup)

    async def _edit(
        self, item: OutboxItem, shown: MessageRef, text: str, markup: Keyboard | None
    ) -> None:
        """Edit a message the group was shown; unchanged is fine (a retry after a timeout)."""
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=int(shown.chat),
                message_id=int(shown.message_id),
                reply_markup=inline(markup),
                read_timeout=self._timeout(item),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    async def _deadline_notice(self, item: OutboxItem) -> None:
        """Remind a late group under its alert, or tell 督导组."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        payload = item.payload
        chat_id = self._group_chat(payload["group"])
        text = self.render.deadline_notice(
            report, payload["kind"], payload["level"], payload["late"]
        )
        reply = None
        alert = await self.refs.alert(TELEGRAM, report)
        if alert is not None and alert.chat == str(chat_id):
            reply = _under(alert)
        await self.bot.send_message(
            chat_id, text, reply_parameters=reply, read_timeout=self._timeout(item)
        )

    async def _weekly_report(self, item: OutboxItem) -> None:
        """This week's figures, chart and the areas' map, against last week's, to its group
        (three parts, each recorded before the next)."""
        chat_id = self._group_chat(item.target)  # roles.weekly_report
        until = float(item.payload["until"])
        week = await self.office.statistics(7, until)
        if item.step == 0:
            before = await self.office.statistics(7, until - 7 * 86400)
            selected = await self.nominations.selected(until - 7 * 86400, until)
            text = "\n".join(
                [
                    texts.WEEKLY_TITLE,
                    stats_text(week, 7, self.render),
                    trend_text(week, before),
                    self.render.weekly_nominations(selected),
                ]
            )
            await self.bot.send_message(chat_id, text, read_timeout=self._timeout(item))
            await self.outbox.advance(item, 1)
        if item.step <= 1:
            chart = await chart_png(self.render, week, 7)
            if chart:
                await self.bot.send_photo(chat_id, chart, read_timeout=self._timeout(item))
            await self.outbox.advance(item, 2)
        if self.render.settings.areas:
            area_map = await map_png(self.render, await self.office.open_by_area(), until)
            if area_map:
                await self.bot.send_photo(chat_id, area_map, read_timeout=self._timeout(item))
        await self.outbox.sent(item)

    async def _leader_copy(self, item: OutboxItem) -> None:
        """A read-only copy of an alert or an escalation, in the leader's private chat."""
        assert item.report_id is not None
        leader = self.render.leader(item.recipient)
        if leader is None or leader.telegram is None:
            # Taken out of the areas file (or off Telegram) since: nobody to copy.
            await self.outbox.give_up(item, f"no Telegram leader {item.recipient} any more")
            return
        report = await self.cases.get_report(item.report_id)
        fresh = report.updated_at == report.created_at
        history = [] if fresh else await self.cases.history(report.id)
        text = self.render.leader_copy(report, history, item.payload)
        await self.bot.send_message(leader.telegram, text, read_timeout=self._timeout(item))
        await self.outbox.sent(item)

    async def _nomination(self, item: OutboxItem) -> Nomination:
        nomination = await self.nominations.find(int(item.payload["nomination"]))
        if nomination is None:
            raise LookupError(f"outbox item {item.id}: no nomination {item.payload}")
        return nomination

    async def _nomination_alert(self, item: OutboxItem) -> None:
        """A resident's nomination to the praise group: its text with 选入 / 暂不选入, then its
        photos and location as replies (each part recorded before the next is tried)."""
        nomination = await self._nomination(item)
        has_location = nomination.latitude is not None and nomination.longitude is not None
        if item.step == 0:
            chat_id = self._group_chat(self.roles.praise)
            text, markup = self.render.nomination_alert(nomination)
            message = await self.bot.send_message(
                chat_id, text, reply_markup=inline(markup), read_timeout=self._timeout(item)
            )
            done = not nomination.photos and not has_location
            await self.outbox.posted(
                item, NOMINATION, nomination.id, chat_id, message.message_id, done
            )
            if done:
                return
        alert = await self.refs.latest(TELEGRAM, NOMINATION, nomination.id)
        assert alert is not None
        chat = int(alert.chat)
        reply = _under(alert)
        photos = nomination.photos if item.step <= 1 else ()
        await self._attachments(
            item, chat, reply, photos, nomination.latitude, nomination.longitude
        )
        await self.outbox.sent(item)

    async def _attachments(
        self,
        item: OutboxItem,
        chat: int,
        reply: ReplyParameters,
        photos: Sequence[str],
        latitude: float | None,
        longitude: float | None,
    ) -> None:
        """An alert's photos (step 1, recorded before the location is tried) and its
        location, as replies to it; photos already sent on an earlier attempt are not
        passed again."""
        if photos:
            sent = [await self._photo(p) for p in photos[:10]]
            if len(sent) == 1:
                await self.bot.send_photo(
                    chat, sent[0], reply_parameters=reply, read_timeout=self._timeout(item)
                )
            else:
                await self.bot.send_media_group(
                    chat,
                    [InputMediaPhoto(p) for p in sent],
                    reply_parameters=reply,
                    read_timeout=self._timeout(item),
                )
            await self.outbox.advance(item, 2)
        if latitude is not None and longitude is not None:
            await self.bot.send_location(
                chat,
                latitude=latitude,
                longitude=longitude,
                reply_parameters=reply,
                read_timeout=self._timeout(item),
            )

    async def _nomination_edit(self, item: OutboxItem) -> None:
        """Show the group's decision in the nomination's alert, without its choices."""
        nomination = await self._nomination(item)
        alert = await self.refs.latest(TELEGRAM, NOMINATION, nomination.id)
        if alert is None:
            return  # the alert is not out yet; when it goes, it shows the decision
        text, markup = self.render.nomination_alert(nomination)
        await self._edit(item, alert, text, markup)

    async def _under_alert(self, report: Report) -> tuple[int, ReplyParameters | None]:
        """Where a message about a case goes in its group's chat: under its alert, or in
        the chat if the alert is not out."""
        alert = await self.refs.alert(TELEGRAM, report)
        if alert is None:
            return self._group_chat(report.group_key), None
        return int(alert.chat), _under(alert)

    async def _case_thanks(self, item: OutboxItem) -> None:
        """A resident's thanks for a case, under its alert in its group's chat."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        chat_id, reply = await self._under_alert(report)
        text = self.render.case_thanks(item.payload)
        await self.bot.send_message(
            chat_id, text, reply_parameters=reply, read_timeout=self._timeout(item)
        )

    async def _relay_question(self, item: OutboxItem) -> None:
        """A group's question, in the resident's chat, under the group's name only."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        text = self.render.relay(texts.RELAY_QUESTION, report, item.payload)
        chat = await self._resident_chat(item)
        message = await self.bot.send_message(
            chat, text, reply_markup=ForceReply(), read_timeout=self._timeout(item)
        )
        await self.outbox.relayed(item, chat, message.message_id)

    async def _relay_answer(self, item: OutboxItem) -> None:
        """The resident's answer (or word that a question could not reach them), under the
        case's alert in its group's chat."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        chat_id, reply = await self._under_alert(report)
        template = (
            texts.RELAY_UNDELIVERED if item.payload.get("undelivered") else texts.RELAY_ANSWER
        )
        text = self.render.relay(template, report, item.payload, quote=True)
        await self.bot.send_message(
            chat_id, text, reply_parameters=reply, read_timeout=self._timeout(item)
        )

    async def _send_receipt(self, item: OutboxItem) -> None:
        """The ticket, in the card the resident confirmed; a new message only if it is gone.

        The card is where the resident's eyes are after 确认, and an edit can be
        repeated harmlessly: a retry after a crash finds the card "not modified"
        instead of sending a second receipt.
        """
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        text = self.render.submitted(report)
        chat = await self._resident_chat(item)
        draft_id = item.payload.get("draft_id")
        card = None if draft_id is None else await self.refs.latest(TELEGRAM, CARD, draft_id)
        if card is not None:
            try:
                await self.bot.edit_message_text(
                    text, chat_id=int(card.chat), message_id=int(card.message_id)
                )
                return
            except BadRequest as exc:
                reason = exc.message.lower()
                if "not modified" in reason:
                    return  # an earlier attempt edited it, and then its outcome was lost
                if "not found" not in reason and "can't be edited" not in reason:
                    raise
                log.info("card of report %s cannot show the ticket: %s", report.id, exc)
        await self.bot.send_message(chat, text)

    async def _notify_resident(self, item: OutboxItem) -> None:
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        payload = item.payload
        text = self.render.notification(
            report.ticket, payload["action"], payload["group"], payload.get("note")
        )
        # After 办结 the resident rates the result, unless the case moved on since;
        # followers ("me too") hear every step but the rating is the reporter's.
        follower = payload.get("follower")
        rate = payload["action"] == "resolve" and report.rating is None and not follower
        markup = self.render.rating_buttons(report) if rate else None
        await self.bot.send_message(
            await self._resident_chat(item),
            text,
            reply_markup=inline(markup),
            read_timeout=self._timeout(item),
        )

    async def _photo(self, photo: str) -> str | bytes:
        """Telegram's own file id as it is; a photo from another channel as its bytes."""
        if not is_kept(photo):
            return photo
        data = await self.media.load(photo)
        if data is None:
            raise LookupError(f"photo {photo} is not kept")
        return data

    async def _resident_chat(self, item: OutboxItem) -> int:
        """The Telegram chat of the resident an item is for (their user id)."""
        assert item.resident_id is not None
        address = await self.residents.address(item.resident_id)
        if address is None or address[0] != TELEGRAM:
            raise LookupError(f"outbox item {item.id}: resident {item.resident_id} not on Telegram")
        return int(address[1])


def _private(item: OutboxItem) -> bool:
    """Whether an item goes to a resident's own chat (not to a working group's)."""
    return item.resident_id is not None


def _to_leader(item: OutboxItem) -> bool:
    """Whether an item is an area leader's copy (their own chat, not a group's)."""
    return leader_of(item.recipient) is not None


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _under(ref: MessageRef) -> ReplyParameters:
    """A reply under a message the bot sent (sent anyway if that message is gone)."""
    return ReplyParameters(int(ref.message_id), allow_sending_without_reply=True)
