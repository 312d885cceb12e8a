"""The reporting services behind one name, for the channels of today.

Transitional: `ReportService` is a thin facade over the concern services
(`drafting`, `filing`, `cases`, `ratings`, `office`, `relays`, `group_chats`,
`retention`), which share one `Shared` state. In the next step the channels
call the concern services themselves and this module goes. Until then it also
re-exports the names the channels and tests import from here.

Every change that must be announced writes its outbox items in the same
transaction, so a crash can delay a message but never lose it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from reports.cases import Cases
from reports.classifier import Classifier
from reports.context import Shared
from reports.drafting import Drafting, check_location
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
from reports.filing import Filing, Submission
from reports.group_chats import GroupChats
from reports.office import Office
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
from reports.ratings import RATINGS, Ratings
from reports.records import Draft, Event, NotePrompt, Report
from reports.relays import Relays
from reports.retention import Retention
from reports.states import OPEN_STATUSES
from settings import Settings
from storage.db import Database

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


class ReportService:
    """The reporting use cases, independent of any chat channel (a transitional facade).

    Each public method is the concern service's own (bound, same signature);
    `clock`, `outbox_listener`, `db` and `settings` read and write the one
    `Shared` state every concern service holds.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        classifier: Classifier,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shared = Shared(db, settings, clock)
        self.drafting = Drafting(self.shared, classifier)
        self.filing = Filing(self.shared)
        self.cases = Cases(self.shared)
        self.ratings = Ratings(self.shared)
        self.office = Office(self.shared)
        self.relays = Relays(self.shared)
        self.group_chats = GroupChats(self.shared)
        self.retention = Retention(self.shared)

        # group chats
        self.load_bindings = self.group_chats.load_bindings
        self.group_chat = self.group_chats.group_chat
        self.bind_group = self.group_chats.bind_group
        self.move_group_chat = self.group_chats.move_group_chat
        # composing a draft
        self.classify = self.drafting.classify
        self.is_placed = self.drafting.is_placed
        self.check_text = self.drafting.check_text
        self.start_draft = self.drafting.start_draft
        self.open_draft = self.drafting.open_draft
        self.draft_by_card = self.drafting.draft_by_card
        self.set_card = self.drafting.set_card
        self.add_photo = self.drafting.add_photo
        self.describe = self.drafting.describe
        self.set_location = self.drafting.set_location
        self.set_address = self.drafting.set_address
        self.choose_category = self.drafting.choose_category
        self.cancel = self.drafting.cancel
        self.get_draft = self.drafting.get_draft
        # filing
        self.confirm = self.filing.confirm
        self.follow = self.filing.follow
        # the working group's side, deadlines, the resident's own reports
        self.get_report = self.cases.get_report
        self.report_at_alert = self.cases.report_at_alert
        self.history = self.cases.history
        self.act = self.cases.act
        self.open_prompt = self.cases.open_prompt
        self.prompt_at = self.cases.prompt_at
        self.check_deadlines = self.cases.check_deadlines
        self.resident_reports = self.cases.resident_reports
        self.resident_report = self.cases.resident_report
        # ratings
        self.rate = self.ratings.rate
        self.reopen = self.ratings.reopen
        self.close_unrated = self.ratings.close_unrated
        # the office's figures
        self.queue_digests = self.office.queue_digests
        self.export = self.office.export
        self.statistics = self.office.statistics
        self.queue_weekly_report = self.office.queue_weekly_report
        # relays
        self.report_at_relay = self.relays.report_at_relay
        self.ask_resident = self.relays.ask_resident
        self.answer_group = self.relays.answer_group
        # retention
        self.forget_old = self.retention.forget_old

    check_location = staticmethod(check_location)

    @property
    def db(self) -> Database:
        return self.shared.db

    @property
    def settings(self) -> Settings:
        return self.shared.settings

    @property
    def classifier(self) -> Classifier:
        return self.drafting.classifier

    @property
    def clock(self) -> Callable[[], float]:
        return self.shared.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.shared.clock = clock

    @property
    def outbox_listener(self) -> Callable[[], None]:
        return self.shared.outbox_listener

    @outbox_listener.setter
    def outbox_listener(self, listener: Callable[[], None]) -> None:
        self.shared.outbox_listener = listener
