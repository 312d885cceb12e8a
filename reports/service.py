"""Report services: compose a draft, submit it, and let working groups act on it.

Every change that must be announced writes its outbox items in the same
transaction, so a crash can delay a message but never lose it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from reports import stats
from reports.classifier import Classification, Classifier
from reports.deadlines import HOUR, Level, next_due, notices
from reports.errors import (
    AlreadyRated,
    BadLocation,
    CommentNeeded,
    DraftClosed,
    DraftNotFound,
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
    UnknownCategory,
    UnknownGroup,
    UnknownTicket,
)
from reports.geo import box, distance_m
from reports.outbox import (
    DEADLINE_NOTICE,
    DIGEST,
    EDIT_ALERT,
    GROUP_ALERT,
    NOTIFY_RESIDENT,
    REFUSAL_NOTICE,
    RELAY_ANSWER,
    RELAY_QUESTION,
    TICKET_RECEIPT,
    WEEKLY_REPORT,
    alert_target,
    chat_target,
)
from reports.records import Draft, Event, NotePrompt, Report
from reports.states import Action, Status, next_status
from reports.stats import Statistics
from reports.tickets import make_ticket, parse_ticket, ticket_prefix
from settings import FALLBACK_CATEGORY, Settings
from storage import bindings, drafts, outbox, prompts, reports
from storage.db import Connection, Database

SUPERVISION = "supervision"

# Names the channels and tests import from here today.
__all__ = [
    "DEADLINE_NOTICE",
    "DIGEST",
    "EDIT_ALERT",
    "GROUP_ALERT",
    "NOTIFY_RESIDENT",
    "OPEN_STATUSES",
    "RATINGS",
    "REFUSAL_NOTICE",
    "RELAY_ANSWER",
    "RELAY_QUESTION",
    "SUPERVISION",
    "TICKET_RECEIPT",
    "WEEKLY_REPORT",
    "AlreadyRated",
    "BadLocation",
    "CommentNeeded",
    "Draft",
    "DraftClosed",
    "DraftNotFound",
    "DuplicateFound",
    "Event",
    "FloodLimited",
    "NeedsDescription",
    "NotOffered",
    "NotePrompt",
    "NoteTooLong",
    "PromptUsed",
    "Report",
    "ReportError",
    "ReportNotFound",
    "ReportService",
    "Submission",
    "TextTooLong",
    "TooManyPhotos",
    "UnknownCategory",
    "UnknownGroup",
    "UnknownTicket",
    "alert_target",
    "chat_target",
]


RATINGS = ("satisfied", "basically", "unsatisfied")


@dataclass(frozen=True)
class Submission:
    report: Report
    new: bool  # False when 确认 was pressed again for an already filed report


OPEN_STATUSES = (Status.SUBMITTED, Status.REOPENED, Status.ACCEPTED)


class ReportService:
    """The reporting use cases, independent of any chat channel."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        classifier: Classifier,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.settings = settings
        self.classifier = classifier
        self.clock = clock
        self._tz = ZoneInfo(settings.timezone)
        self._bindings: dict[str, int] = {}
        # Called after a commit that queued messages, so the sender need not poll.
        self.outbox_listener: Callable[[], None] = lambda: None

    # --- group chats -------------------------------------------------------

    async def load_bindings(self) -> None:
        async with self.db.session() as conn:
            self._bindings = await bindings.all_bindings(conn)

    def group_chat(self, group_key: str) -> int | None:
        """The chat a group's alerts go to: a /bind binding, else config's chat_id."""
        chat_id = self._bindings.get(group_key) or self.settings.groups[group_key].chat_id
        return chat_id or None

    async def bind_group(self, group_key: str, chat_id: int, bound_by: int) -> None:
        now = self.clock()
        async with self.db.transaction() as conn:
            await bindings.bind(conn, group_key, chat_id, bound_by, now)
            # Alerts that waited for a chat (backing off) can go now, not at their next retry.
            await outbox.retry_group_now(conn, group_key, now)
        await self.load_bindings()
        self.outbox_listener()

    # --- classification ----------------------------------------------------

    def classify(self, text: str) -> Classification:
        return self.classifier.classify(text)

    def is_placed(self, draft: Draft) -> bool:
        """Whether the bot is sure enough of the category to propose it."""
        return (
            draft.category != FALLBACK_CATEGORY
            and draft.confidence >= self.settings.reports.min_confidence
        )

    # --- composing a draft -------------------------------------------------

    def check_text(self, text: str) -> None:
        if len(text) > self.settings.reports.max_text_chars:
            raise TextTooLong(self.settings.reports.max_text_chars)

    async def start_draft(
        self,
        resident_id: int,
        chat_id: int,
        text: str,
        photo: str | None = None,
        media_group_id: str | None = None,
    ) -> Draft:
        """Open a new draft from a message, classified; refuse beyond the hourly limit."""
        text = text.strip()
        self.check_text(text)
        result = self.classify(text) if text else Classification(FALLBACK_CATEGORY, 0.0, (), {})
        now = self.clock()
        async with self.db.session() as conn:
            draft = await drafts.insert(
                conn,
                resident_id=resident_id,
                chat_id=chat_id,
                text=text,
                category=result.category,
                confidence=result.confidence,
                keywords=result.keywords,
                photos=(photo,) if photo else (),
                media_group_id=media_group_id,
                now=now,
                unless_reports_since=(now - 3600, self.settings.reports.max_per_hour),
            )
        if draft is None:
            raise FloodLimited()
        return draft

    async def open_draft(self, resident_id: int) -> Draft | None:
        """The draft that photos and locations sent now would join, if any."""
        since = self.clock() - self.settings.reports.draft_minutes * 60
        async with self.db.session() as conn:
            return await drafts.latest_open(conn, resident_id, since)

    async def draft_by_card(self, chat_id: int, message_id: int) -> Draft | None:
        async with self.db.session() as conn:
            return await drafts.by_card(conn, chat_id, message_id)

    async def set_card(self, draft_id: int, message_id: int) -> None:
        async with self.db.session() as conn:
            await drafts.update(conn, draft_id, self.clock(), card_message_id=message_id)

    async def add_photo(self, resident_id: int, draft_id: int, file_id: str, caption: str) -> Draft:
        """Attach a photo (and its caption) to an open draft."""
        caption = caption.strip()
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            if file_id in draft.photos:
                return draft
            if len(draft.photos) >= self.settings.reports.max_photos:
                raise TooManyPhotos(self.settings.reports.max_photos)
            fields: dict[str, object] = {"photos": (*draft.photos, file_id)}
            if caption:
                text = f"{draft.text}\n{caption}".strip()
                self.check_text(text)
                fields["text"] = text
                if not self.is_placed(draft):
                    result = self.classify(text)
                    fields |= {
                        "category": result.category,
                        "confidence": result.confidence,
                        "keywords": result.keywords,
                    }
            return await drafts.update(conn, draft.id, self.clock(), **fields)

    async def describe(self, resident_id: int, draft_id: int, text: str) -> Draft:
        """Give a draft that began as a photo or a location its description."""
        text = text.strip()
        self.check_text(text)
        result = self.classify(text)
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            fields: dict[str, object] = {"text": text}
            if not self.is_placed(draft):
                fields |= {
                    "category": result.category,
                    "confidence": result.confidence,
                    "keywords": result.keywords,
                }
            return await drafts.update(conn, draft.id, self.clock(), **fields)

    @staticmethod
    def check_location(latitude: float, longitude: float) -> None:
        """Refuse a point off the globe (NaN included): it would be stored, mapped, compared."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise BadLocation(f"({latitude}, {longitude}) is not on the globe")

    async def set_location(
        self, resident_id: int, draft_id: int, latitude: float, longitude: float
    ) -> Draft:
        self.check_location(latitude, longitude)
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            return await drafts.update(
                conn, draft.id, self.clock(), latitude=latitude, longitude=longitude
            )

    async def set_address(self, resident_id: int, draft_id: int, address: str) -> Draft:
        address = " ".join(address.split())[:200]
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            return await drafts.update(conn, draft.id, self.clock(), address=address)

    async def choose_category(self, resident_id: int, draft_id: int, category: str) -> Draft:
        if category not in self.settings.categories:
            raise UnknownCategory(category)
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            # The resident's own choice is certain.
            return await drafts.update(
                conn, draft.id, self.clock(), category=category, confidence=1.0
            )

    async def cancel(self, resident_id: int, draft_id: int) -> Draft:
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            closed = await drafts.close(conn, draft.id, "cancelled", self.clock(), None)
            assert closed is not None
            return closed

    async def get_draft(self, resident_id: int, draft_id: int) -> Draft:
        async with self.db.session() as conn:
            draft = await drafts.get(conn, draft_id)
        if draft is None or draft.resident_id != resident_id:
            raise DraftNotFound()
        return draft

    async def _own_open(self, conn: Connection, resident_id: int, draft_id: int) -> Draft:
        draft = await drafts.get(conn, draft_id)
        if draft is None or draft.resident_id != resident_id:
            raise DraftNotFound()
        if draft.status != "open":
            raise DraftClosed(draft)
        return draft

    # --- submitting --------------------------------------------------------

    async def confirm(
        self,
        resident_id: int,
        draft_id: int,
        separate: bool = False,
        card_message_id: int | None = None,
    ) -> Submission:
        """File the draft as a report and queue its group alert and its ticket, exactly once.

        The ticket goes to the resident through the outbox, in the same transaction
        as the report, so a crash or an outage right after 确认 only delays it; it
        is shown in `card_message_id` (the card pressed; else the draft's latest).
        Unless `separate`, an open case of the same category close by raises
        DuplicateFound first, so the resident can follow it instead.
        """
        try:
            return await self._file(resident_id, draft_id, separate, card_message_id)
        except DuplicateFound as found:
            # Remembered after the refused filing rolled back: `follow` accepts this case only.
            async with self.db.session() as conn:
                await drafts.offer(conn, draft_id, found.report.id)
            raise

    async def _file(
        self, resident_id: int, draft_id: int, separate: bool, card_message_id: int | None
    ) -> Submission:
        async with self.db.transaction() as conn:
            draft = await drafts.get(conn, draft_id)
            if draft is None or draft.resident_id != resident_id:
                raise DraftNotFound()
            if draft.status == "submitted" and draft.report_id is not None:
                report = await reports.get(conn, draft.report_id)
                assert report is not None
                return Submission(report, new=False)
            if draft.status != "open":
                raise DraftClosed(draft)
            if not draft.text and not draft.photos:
                raise NeedsDescription()
            now = self.clock()
            if not separate:
                await self._refuse_duplicate(conn, draft, now)
            local = datetime.fromtimestamp(now, self._tz)
            filed, today = await reports.counts_for_filing(
                conn, resident_id, now - 3600, ticket_prefix(local)
            )
            if filed >= self.settings.reports.max_per_hour:
                raise FloodLimited()
            sequence = today + 1
            group_key = self.settings.categories[draft.category].group
            report = await reports.insert(
                conn,
                ticket=make_ticket(local, sequence),
                resident_id=resident_id,
                chat_id=draft.chat_id,
                text=draft.text,
                category=draft.category,
                group_key=group_key,
                confidence=draft.confidence,
                photos=draft.photos,
                latitude=draft.latitude,
                longitude=draft.longitude,
                address=draft.address,
                status=Status.SUBMITTED,
                now=now,
            )
            await self._record(conn, report.id, "submit", Status.SUBMITTED, now, group_key)
            await drafts.close(conn, draft.id, "submitted", now, report.id)
            await outbox.enqueue(conn, GROUP_ALERT, alert_target(report.id), now, report.id)
            card = {"message_id": card_message_id or draft.card_message_id}
            await outbox.enqueue(
                conn, TICKET_RECEIPT, chat_target(draft.chat_id), now, report.id, card
            )
        self.outbox_listener()
        return Submission(report, new=True)

    async def _refuse_duplicate(self, conn: Connection, draft: Draft, now: float) -> None:
        rules = self.settings.reports
        if draft.latitude is None or draft.longitude is None or not rules.duplicate_radius_m:
            return
        south, north, west, east = box(draft.latitude, draft.longitude, rules.duplicate_radius_m)
        candidates = await reports.nearby(
            conn,
            category=draft.category,
            statuses=OPEN_STATUSES,
            since=now - rules.duplicate_hours * HOUR,
            lat_range=(south, north),
            lon_range=(west, east),
        )
        for case in candidates:
            assert case.latitude is not None and case.longitude is not None
            away = distance_m(draft.latitude, draft.longitude, case.latitude, case.longitude)
            if away <= rules.duplicate_radius_m and case.resident_id != draft.resident_id:
                raise DuplicateFound(case, away)

    async def follow(self, resident_id: int, draft_id: int, report_id: int) -> Report:
        """Follow the open case the bot offered this draft instead of filing it again.

        Any other case (a forged button: ids are sequential) raises NotOffered, and so
        does the resident's own case; nothing changes then.
        """
        async with self.db.transaction() as conn:
            draft = await self._own_open(conn, resident_id, draft_id)
            if draft.offered_report_id is None or draft.offered_report_id != report_id:
                raise NotOffered()
            report = await reports.get(conn, report_id)
            if report is None or report.status not in OPEN_STATUSES:
                raise ReportNotFound()
            if report.resident_id == resident_id:
                raise NotOffered()
            now = self.clock()
            added = await reports.follow(conn, report.id, resident_id, draft.chat_id, now)
            await drafts.close(conn, draft.id, "followed", now, report.id)
            if added:  # a resident following again is still one person
                await self._record(conn, report.id, "follow", report.status, now, report.group_key)
                await outbox.enqueue(
                    conn,
                    EDIT_ALERT,
                    alert_target(report.id),
                    now,
                    report.id,
                    self._alert_of(report),
                )
        if added:
            self.outbox_listener()
        return report

    async def _notify_all(
        self, conn: Connection, report: Report, payload: dict[str, object], now: float
    ) -> None:
        """Tell the resident, and everyone following the case, of a step."""
        await outbox.enqueue(
            conn, NOTIFY_RESIDENT, chat_target(report.chat_id), now, report.id, payload
        )
        for chat_id in await reports.follower_chats(conn, report.id):
            await outbox.enqueue(
                conn,
                NOTIFY_RESIDENT,
                chat_target(chat_id),
                now,
                report.id,
                {**payload, "chat_id": chat_id},
            )

    # --- the working group's side --------------------------------------------

    async def get_report(self, report_id: int) -> Report:
        async with self.db.session() as conn:
            report = await reports.get(conn, report_id)
        if report is None:
            raise ReportNotFound()
        return report

    async def act(
        self,
        report_id: int,
        action: Action,
        actor_id: int,
        actor_name: str,
        note: str | None = None,
        to_group: str | None = None,
        prompt_id: int | None = None,
    ) -> Report:
        """Apply a group's action, record who did it and why, and queue the announcements.

        `prompt_id` is the note prompt this action answers: it is used up in the
        same transaction, so one prompt completes one action.
        """
        if note is not None and len(note) > self.settings.reports.max_note_chars:
            raise NoteTooLong(self.settings.reports.max_note_chars)
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            if report is None:
                raise ReportNotFound()
            status = next_status(report.status, action)
            if prompt_id is not None and not await prompts.use(conn, prompt_id):
                raise PromptUsed()
            now = self.clock()
            into: Report | None = None
            if action == Action.MERGE:
                into = await self._merge_target(conn, report, note or "")
                note = into.ticket
            if action == Action.REASSIGN:
                if to_group not in self.settings.groups or to_group == report.group_key:
                    raise UnknownGroup(to_group or "")
                updated = await reports.reassign(
                    conn, report.id, expected=report.status, group_key=to_group,
                    status=status, now=now,
                )  # fmt: skip
            else:
                updated = await reports.set_status(
                    conn, report.id, expected=report.status, status=status, now=now, note=note
                )
            assert updated is not None  # the write lock keeps the status as read
            await self._record(
                conn,
                report.id,
                action,
                status,
                now,
                report.group_key,
                actor=(actor_id, actor_name),
                note=note,
                to_group=to_group,
            )
            payload = {
                "status": str(status),
                "action": str(action),
                "group": updated.group_key,
                "note": note,
            }
            await self._notify_all(conn, updated, payload, now)
            if into is not None and await reports.follow(
                conn, into.id, report.resident_id, report.chat_id, now
            ):
                # Its resident now follows the earlier case, which counts one more (unless
                # they follow it already, or reported it themselves).
                await self._record(
                    conn, into.id, "follow", into.status, now, into.group_key, note=report.ticket
                )
                await outbox.enqueue(
                    conn, EDIT_ALERT, alert_target(into.id), now, into.id, self._alert_of(into)
                )
            old_alert = {**self._alert_of(report), "to_group": to_group}
            await outbox.enqueue(
                conn, EDIT_ALERT, alert_target(report.id), now, report.id, old_alert
            )
            if action == Action.REASSIGN:
                # The new group gets the whole alert, as if the case were new to it.
                await outbox.enqueue(conn, GROUP_ALERT, alert_target(report.id), now, report.id)
        self.outbox_listener()
        return updated

    async def _merge_target(self, conn: Connection, report: Report, typed: str) -> Report:
        """The earlier open case a duplicate is merged into, from the ticket staff typed."""
        ticket = parse_ticket(typed)
        into = await reports.by_ticket(conn, ticket) if ticket else None
        if into is None or into.id == report.id or into.status not in OPEN_STATUSES:
            raise UnknownTicket(typed)
        return into

    async def open_prompt(
        self,
        report_id: int,
        action: Action,
        chat_id: int,
        message_id: int,
        actor_id: int,
        to_group: str | None = None,
    ) -> None:
        """Remember the bot's request for a note, which a reply will answer."""
        async with self.db.session() as conn:
            await prompts.insert(
                conn,
                report_id=report_id,
                action=action,
                to_group=to_group,
                chat_id=chat_id,
                message_id=message_id,
                actor_id=actor_id,
                now=self.clock(),
            )

    async def prompt_at(self, chat_id: int, message_id: int) -> NotePrompt | None:
        """The note prompt behind a message the group replied to, if it is one."""
        async with self.db.session() as conn:
            return await prompts.by_message(conn, chat_id, message_id)

    async def check_deadlines(self) -> int:
        """Queue a reminder or an escalation for every case newly late; return how many."""
        now = self.clock()
        shortest = min(
            min(self.settings.limits(k).accept_hours, self.settings.limits(k).resolve_hours)
            for k in self.settings.categories
        )
        queued = 0
        async with self.db.transaction() as conn:
            cases = await reports.open_cases(conn, OPEN_STATUSES, now - shortest * HOUR)
            for case in cases:
                limits = self.settings.limits(case.category)
                for notice in notices(case.status, case.assigned_at, limits, now):
                    if not await reports.record_notice(
                        conn,
                        case.id,
                        assigned_at=case.assigned_at,
                        kind=notice.kind,
                        level=notice.level,
                        late=notice.late,
                        now=now,
                    ):
                        continue
                    to = case.group_key if notice.level == Level.REMIND else SUPERVISION
                    payload = {
                        "kind": str(notice.kind),
                        "level": str(notice.level),
                        "late": notice.late,
                        "group": to,
                    }
                    await outbox.enqueue(
                        conn, DEADLINE_NOTICE, alert_target(case.id), now, case.id, payload
                    )
                    queued += 1
        if queued:
            self.outbox_listener()
        return queued

    async def rate(self, report_id: int, resident_id: int, rating: str) -> Report:
        """Record the resident's rating; a resolved case then closes.

        不满意 within `reopen_days` of 办结 raises CommentNeeded instead: the case
        reopens once the resident says what is wrong (see `reopen`).
        """
        if rating not in RATINGS:
            raise ReportNotFound()
        async with self.db.transaction() as conn:
            report = await self._own_report(conn, report_id, resident_id)
            if report.rating is not None:
                raise AlreadyRated()
            now = self.clock()
            if report.status not in (Status.RESOLVED, Status.CLOSED):
                raise ReportNotFound()
            if rating == "unsatisfied" and self._may_reopen(report, now):
                raise CommentNeeded()
            rated = await reports.rate(
                conn,
                report.id,
                rating=rating,
                status=Status.CLOSED,
                expected=report.status,
                now=now,
            )
            assert rated is not None
            await self._record(
                conn, report.id, "rate", Status.CLOSED, now, report.group_key, note=rating
            )
            await outbox.enqueue(
                conn, EDIT_ALERT, alert_target(report.id), now, report.id, self._alert_of(report)
            )
        self.outbox_listener()
        return rated

    def _may_reopen(self, report: Report, now: float) -> bool:
        limit = self.settings.reports.reopen_days * 86400
        return report.status == Status.RESOLVED and now - report.updated_at <= limit

    async def reopen(
        self, report_id: int, resident_id: int, comment: str, prompt_id: int | None = None
    ) -> Report:
        """不满意 with the resident's comment: back to the same group, flagged, as new."""
        if len(comment) > self.settings.reports.max_note_chars:
            raise NoteTooLong(self.settings.reports.max_note_chars)
        async with self.db.transaction() as conn:
            report = await self._own_report(conn, report_id, resident_id)
            if prompt_id is not None and not await prompts.use(conn, prompt_id):
                raise PromptUsed()
            if report.rating is not None:
                raise AlreadyRated()
            now = self.clock()
            next_status(report.status, Action.REOPEN)
            reopened = await reports.reopen(conn, report.id, now=now)
            assert reopened is not None
            await self._record(
                conn, report.id, Action.REOPEN, Status.REOPENED, now, report.group_key, note=comment
            )
            old = {**self._alert_of(report), "reopened": True}
            await outbox.enqueue(conn, EDIT_ALERT, alert_target(report.id), now, report.id, old)
            await outbox.enqueue(conn, GROUP_ALERT, alert_target(report.id), now, report.id)
        self.outbox_listener()
        return reopened

    async def close_unrated(self) -> int:
        """Close resolved cases nobody rated within `close_after_days`; return how many."""
        now = self.clock()
        before = now - self.settings.reports.close_after_days * 86400
        async with self.db.transaction() as conn:
            cases = await reports.resolved_before(conn, before)
            for case in cases:
                await reports.set_status(
                    conn, case.id, expected=Status.RESOLVED, status=Status.CLOSED, now=now
                )
                await self._record(conn, case.id, Action.CLOSE, Status.CLOSED, now, case.group_key)
                await outbox.enqueue(
                    conn, EDIT_ALERT, alert_target(case.id), now, case.id, self._alert_of(case)
                )
        if cases:
            self.outbox_listener()
        return len(cases)

    @staticmethod
    async def _record(
        conn: Connection,
        report_id: int,
        action: str,
        status: str,
        now: float,
        group_key: str,
        actor: tuple[int, str] | None = None,
        note: str | None = None,
        to_group: str | None = None,
    ) -> None:
        """Write one step of a case's history: what, by whom (staff only), why, where."""
        await reports.add_event(
            conn,
            report_id,
            action=action,
            status=status,
            actor_id=actor[0] if actor else None,
            actor_name=actor[1] if actor else None,
            note=note,
            now=now,
            group_key=group_key,
            to_group=to_group,
        )

    async def _own_report(self, conn: Connection, report_id: int, resident_id: int) -> Report:
        report = await reports.get(conn, report_id)
        if report is None or report.resident_id != resident_id:
            raise ReportNotFound()
        return report

    @staticmethod
    def _alert_of(report: Report) -> dict[str, object]:
        """Where the group's alert of a case is now (edits go to that message)."""
        return {"chat_id": report.alert_chat_id, "message_id": report.alert_message_id}

    async def queue_digests(self) -> int:
        """Queue each group's daily digest: new cases, due today, overdue; return how many."""
        now = self.clock()
        local = datetime.fromtimestamp(now, self._tz)
        end_of_day = local.replace(hour=23, minute=59, second=59).timestamp()
        async with self.db.transaction() as conn:
            cases = await reports.open_cases(conn, OPEN_STATUSES, now)
            new = await reports.created_since(conn, now - 86400)
            for key in self.settings.groups:
                payload: dict[str, object] = {
                    "group": key,
                    "date": local.strftime("%m-%d"),
                    "new": [r.ticket for r in new if r.group_key == key],
                    "due": [],
                    "overdue": [],
                }
                for case in (c for c in cases if c.group_key == key):
                    upcoming = next_due(
                        case.status, case.assigned_at, self.settings.limits(case.category)
                    )
                    if upcoming is None:
                        continue
                    entry = [case.ticket, str(upcoming.kind), now - upcoming.at]
                    if upcoming.at < now:
                        payload["overdue"].append(entry)  # type: ignore[union-attr]
                    elif upcoming.at <= end_of_day:
                        payload["due"].append(entry)  # type: ignore[union-attr]
                await outbox.enqueue(conn, DIGEST, f"digest:{key}", now, None, payload)
        self.outbox_listener()
        return len(self.settings.groups)

    async def export(
        self, since: float, until: float, chunk: int = 2000
    ) -> AsyncIterator[list[sqlite3.Row]]:
        """Cases filed in [since, until), chunk by chunk: memory stays flat however many
        there are, and the bot keeps working between chunks."""
        after = 0
        while True:
            async with self.db.session() as conn:
                rows = await reports.export_chunk(conn, since, until, after, chunk)
            if not rows:
                return
            after = rows[-1]["id"]
            yield rows

    async def statistics(self, days: float, until: float | None = None) -> Statistics:
        """Every figure of the office's report over the `days` before `until` (default now)."""
        until = self.clock() if until is None else until
        limits = []
        for key in self.settings.categories:
            limit = self.settings.limits(key)
            limits.append((key, limit.accept_hours * HOUR, limit.resolve_hours * HOUR))
        async with self.db.session() as conn:
            return await stats.collect(
                conn, until - days * 86400, until, limits, self.settings.groups
            )

    async def queue_weekly_report(self) -> None:
        """Queue the office's weekly report (this week's figures against last week's)."""
        now = self.clock()
        async with self.db.session() as conn:
            await outbox.enqueue(conn, WEEKLY_REPORT, "office", now, None, {"until": now})
        self.outbox_listener()

    async def report_at_alert(self, chat_id: int, message_id: int) -> Report | None:
        async with self.db.session() as conn:
            return await reports.by_alert(conn, chat_id, message_id)

    async def report_at_relay(self, chat_id: int, message_id: int) -> Report | None:
        async with self.db.session() as conn:
            return await reports.by_relay(conn, chat_id, message_id)

    async def ask_resident(
        self, report: Report, question: str, actor_id: int, actor_name: str
    ) -> None:
        """Relay a group's question to the resident (who sees the group's name only)."""
        await self._relay(report, RELAY_QUESTION, "ask", question, actor_id, actor_name)

    async def answer_group(self, report: Report, resident_id: int, answer: str) -> None:
        """Relay the resident's answer to the group, under the case's alert."""
        if report.resident_id != resident_id:
            raise ReportNotFound()
        await self._relay(report, RELAY_ANSWER, "answer", answer, None, None)

    async def _relay(
        self,
        report: Report,
        kind: str,
        action: str,
        text: str,
        actor_id: int | None,
        actor_name: str | None,
    ) -> None:
        text = text.strip()
        if len(text) > self.settings.reports.max_note_chars:
            raise NoteTooLong(self.settings.reports.max_note_chars)
        now = self.clock()
        target = chat_target(report.chat_id) if kind == RELAY_QUESTION else alert_target(report.id)
        async with self.db.transaction() as conn:
            await self._record(
                conn,
                report.id,
                action,
                report.status,
                now,
                report.group_key,
                actor=(actor_id, actor_name or "") if actor_id is not None else None,
                note=text,
            )
            await outbox.enqueue(
                conn, kind, target, now, report.id, {"text": text, "group": report.group_key}
            )
        self.outbox_listener()

    async def history(self, report_id: int) -> list[Event]:
        async with self.db.session() as conn:
            return await reports.events(conn, report_id)

    # --- the resident's own reports ----------------------------------------

    async def resident_reports(self, resident_id: int, limit: int = 10) -> tuple[list[Report], int]:
        """The resident's latest reports and how many there are in all."""
        async with self.db.session() as conn:
            items = await reports.of_resident(conn, resident_id, limit)
            total = await reports.count_of_resident(conn, resident_id)
        return items, total

    async def resident_report(self, resident_id: int, ticket: str) -> Report | None:
        """One of the resident's own reports; anyone else's is simply not found."""
        async with self.db.session() as conn:
            report = await reports.by_ticket(conn, ticket)
        if report is None or report.resident_id != resident_id:
            return None
        return report

    # --- retention ---------------------------------------------------------

    async def forget_old(self) -> tuple[int, int]:
        """Delete drafts untouched and outbox items delivered before the retention; how many.

        A draft untouched that long is over whatever its status (its card's
        buttons then find no draft and say so); the outbox's pending and
        failed items stay whatever their age. Reports are never deleted.
        """
        before = self.clock() - self.settings.retention_days * 86400
        async with self.db.transaction() as conn:
            old_drafts = await drafts.delete_untouched_since(conn, before)
            delivered = await outbox.delete_sent_before(conn, before)
        return old_drafts, delivered
