"""What a resident's text is for, and what is kept of the texts that open no report.

A text is a report unless the intent classifier finds it is a question, praise,
chit-chat or spam. Those are kept (`resident_messages`) with the intent they
were taken for: an unsure one can still become a report when the resident says
so, spam is counted per account, and an account that keeps sending it within
the window (`[reports] spam_limit` within `spam_window_hours`) is throttled.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

from reports.classifier import Classification, Classifier
from reports.context import Part, Shared
from reports.intents import SPAM, Intent, IntentClassifier, build_intent_classifier
from reports.model import read_examples
from reports.records import Draft
from storage import resident_messages

# One intent classifier per category classifier: training it costs most of a second.
_BUILT: weakref.WeakKeyDictionary[Classifier, IntentClassifier] = weakref.WeakKeyDictionary()


def intents_for(classifier: Classifier, examples_dir: Path | None) -> IntentClassifier:
    """The intent classifier over `classifier`, built once per process and classifier."""
    built = _BUILT.get(classifier)
    if built is None:
        examples = read_examples(examples_dir) if examples_dir else []
        built = _BUILT[classifier] = build_intent_classifier(classifier, examples)
    return built


@dataclass(frozen=True)
class Understood:
    """A text's problem category (if it is a report) and its intent."""

    classification: Classification
    intent: Intent


@dataclass(frozen=True)
class Kept:
    """A kept message and where its account stands with spam."""

    id: int
    # Spam from this account within the window, this one included (0 unless spam).
    spam_in_window: int = 0
    # This account has sent spam_limit or more within the window.
    throttled: bool = False


class Intake(Part):
    def __init__(self, shared: Shared, classifier: Classifier) -> None:
        super().__init__(shared)
        self.classifier = classifier
        self.intents = intents_for(classifier, shared.settings.examples_dir)

    def understand(self, text: str) -> Understood:
        """What a text is about and what it is for."""
        classification = self.classifier.classify(text)
        return Understood(classification, self.intents.classify(text, classification))

    async def keep(self, resident_id: int, text: str, intent: Intent) -> Kept:
        """Keep a text that opens no report; count the account's spam if it is spam."""
        now = self.now()
        window = self.settings.reports.spam_window_hours * 3600
        async with self.db.transaction() as conn:
            message_id = await resident_messages.keep(
                conn, resident_id, text, intent.kind, intent.confidence, intent.unsure, now
            )
            if intent.kind != SPAM or intent.unsure:
                return Kept(message_id)  # only sure spam counts against an account
            spam = await resident_messages.count_since(conn, resident_id, SPAM, now - window)
        return Kept(message_id, spam, spam >= self.settings.reports.spam_limit)

    async def is_throttled(self, resident_id: int) -> bool:
        """Whether the account sent spam_limit or more spam within the window."""
        since = self.now() - self.settings.reports.spam_window_hours * 3600
        async with self.db.session() as conn:
            spam = await resident_messages.count_since(conn, resident_id, SPAM, since)
        return spam >= self.settings.reports.spam_limit

    async def kept_text(self, resident_id: int, message_id: int) -> tuple[str, int | None]:
        """A resident's own kept text and the draft it already became, if any."""
        async with self.db.session() as conn:
            return await resident_messages.text_of(conn, resident_id, message_id)

    async def became(self, message_id: int, draft: Draft) -> None:
        """Remember the report draft a kept text became at the resident's word."""
        async with self.db.transaction() as conn:
            await resident_messages.set_draft(conn, message_id, draft.id)

    async def counts(self, since: float, until: float) -> tuple[dict[str, int], int]:
        """{intent: messages kept} in a period, and how many accounts were throttled for spam."""
        async with self.db.session() as conn:
            return await resident_messages.counts_by_intent(
                conn, since, until, self.settings.reports.spam_limit
            )
