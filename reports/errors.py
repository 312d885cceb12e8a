"""Why the reporting services refuse a request; a channel turns each kind into a friendly reply."""

from __future__ import annotations

from reports.records import Draft, Report


class ReportError(Exception):
    """A request the service refuses; handlers turn each kind into a friendly reply."""


class DraftNotFound(ReportError):
    """No such draft for this resident (stale or forged button)."""


class DraftClosed(ReportError):
    """The draft was cancelled, or it is too late to change it."""

    def __init__(self, draft: Draft) -> None:
        super().__init__(f"draft {draft.id} is {draft.status}")
        self.draft = draft


class FloodLimited(ReportError):
    """The resident has filed the maximum number of reports this hour."""


class NeedsDescription(ReportError):
    """A draft with neither text nor photo cannot be filed."""


class TextTooLong(ReportError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"text longer than {limit} characters")
        self.limit = limit


class TooManyPhotos(ReportError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} photos")
        self.limit = limit


class UnknownCategory(ReportError):
    """A category key that is not configured (forged button)."""


class ReportNotFound(ReportError):
    """No such report."""


class NoteTooLong(ReportError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"note longer than {limit} characters")
        self.limit = limit


class PromptUsed(ReportError):
    """The note prompt was answered already (two replies, or a reply and a retry)."""


class UnknownGroup(ReportError):
    """Not a group a case can be reassigned to."""


class GroupGone(ReportError):
    """Work queued for a working group that is no longer in the config: it has no chat."""

    def __init__(self, group_key: str) -> None:
        super().__init__(f"group {group_key} is no longer in the config")
        self.group_key = group_key


class DuplicateFound(ReportError):
    """An open case of the same problem is nearby: follow it, or file anyway."""

    def __init__(self, report: Report, distance: float) -> None:
        super().__init__(f"report {report.ticket} is {distance:.0f} m away")
        self.report = report
        self.distance = distance


class NotOffered(ReportError):
    """A 关注 for a case the bot did not offer this draft (a forged or stale button)."""


class BadLocation(ReportError):
    """Coordinates outside -90..90 / -180..180 (or not numbers at all)."""


class UnknownTicket(ReportError):
    """Not the ticket of another open case (to merge a duplicate into)."""


class AlreadyRated(ReportError):
    """The resident rated this case before."""


class CommentNeeded(ReportError):
    """不满意 in time reopens the case, and the group needs to know what is wrong."""
