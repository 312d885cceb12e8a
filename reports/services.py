"""The reporting services, one per concern, built together over one shared state.

A channel adapter calls the concern it needs (`drafting`, `intake`, `filing`, `cases`,
`ratings`, `office`, `relays`, `residents`, `group_chats`, `retention`, and
`message_refs` for what the channel's own messages show, `media` for photos kept as bytes,
`questions` for residents' questions answered from `faq/`, `nominations` for the 身边好人
residents recommend); they
all hold the same `Shared`, so setting its clock or outbox listener reaches
every one of them at once. Every change that must be announced writes its outbox items in
the same transaction, so a crash can delay a message but never lose it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from reports.cases import Cases
from reports.classifier import Classifier
from reports.context import Shared
from reports.drafting import Drafting
from reports.faq import KnowledgeBase
from reports.filing import Filing
from reports.group_chats import GroupChats
from reports.intake import Intake
from reports.media import Media
from reports.message_refs import MessageRefs
from reports.nominations import NominationService
from reports.office import Office
from reports.questions import QuestionService
from reports.ratings import Ratings
from reports.relays import Relays
from reports.residents import Residents
from reports.retention import Retention
from reports.staff import Staff
from settings import Settings
from storage.db import Database


@dataclass(frozen=True)
class ReportServices:
    """The concern services of the reporting domain and the one state they share."""

    shared: Shared
    drafting: Drafting
    intake: Intake
    filing: Filing
    cases: Cases
    ratings: Ratings
    office: Office
    relays: Relays
    residents: Residents
    group_chats: GroupChats
    retention: Retention
    message_refs: MessageRefs
    media: Media
    staff: Staff
    questions: QuestionService
    nominations: NominationService

    @classmethod
    def build(
        cls,
        db: Database,
        settings: Settings,
        classifier: Classifier,
        clock: Callable[[], float] = time.time,
    ) -> ReportServices:
        """Every concern service over one new `Shared` state."""
        shared = Shared(db, settings, clock)
        return cls(
            shared=shared,
            drafting=Drafting(shared, classifier),
            intake=Intake(shared, classifier),
            filing=Filing(shared),
            cases=Cases(shared),
            ratings=Ratings(shared),
            office=Office(shared),
            relays=Relays(shared),
            residents=Residents(shared),
            group_chats=GroupChats(shared),
            retention=Retention(shared),
            message_refs=MessageRefs(shared),
            media=Media(shared),
            staff=Staff(shared),
            # The office's answers, indexed once, cut by the classifier's own tokenizer.
            questions=QuestionService(
                shared,
                KnowledgeBase(settings.faq.entries, classifier.tokens, settings.faq.min_score),
            ),
            nominations=NominationService(shared),
        )
