"""The resident's word on a resolved case: a rating that closes it, or 不满意 with a
comment that reopens it; and closing the cases nobody rated."""

from __future__ import annotations

from reports.cases import alert_of, record
from reports.context import Part
from reports.errors import AlreadyRated, CommentNeeded, NoteTooLong, PromptUsed, ReportNotFound
from reports.outbox import EDIT_ALERT, GROUP_ALERT, alert_target
from reports.records import Report
from reports.states import Action, Status, next_status
from storage import prompts, reports
from storage.db import Connection

RATINGS = ("satisfied", "basically", "unsatisfied")


async def own_report(conn: Connection, report_id: int, resident_id: int) -> Report:
    """The resident's own case; anyone else's is ReportNotFound."""
    report = await reports.get(conn, report_id)
    if report is None or report.resident_id != resident_id:
        raise ReportNotFound()
    return report


class Ratings(Part):
    """Rate a resolved case, reopen it when the resident is not satisfied, close the rest."""

    async def rate(self, report_id: int, resident_id: int, rating: str) -> Report:
        """Record the resident's rating; a resolved case then closes.

        不满意 within `reopen_days` of 办结 raises CommentNeeded instead: the case
        reopens once the resident says what is wrong (see `reopen`).
        """
        if rating not in RATINGS:
            raise ReportNotFound()
        async with self.db.transaction() as conn:
            report = await own_report(conn, report_id, resident_id)
            if report.rating is not None:
                raise AlreadyRated()
            now = self.now()
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
            await record(conn, report.id, "rate", Status.CLOSED, now, report.group_key, note=rating)
            await self.to_group(
                conn, EDIT_ALERT, report.group_key, alert_target(report.id), now, report.id,
                alert_of(report),
            )  # fmt: skip
        self.queued()
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
            report = await own_report(conn, report_id, resident_id)
            if prompt_id is not None and not await prompts.use(conn, prompt_id):
                raise PromptUsed()
            if report.rating is not None:
                raise AlreadyRated()
            now = self.now()
            next_status(report.status, Action.REOPEN)
            reopened = await reports.reopen(conn, report.id, now=now)
            assert reopened is not None
            await record(
                conn, report.id, Action.REOPEN, Status.REOPENED, now, report.group_key, note=comment
            )
            old = {**alert_of(report), "reopened": True}
            group, target = report.group_key, alert_target(report.id)
            await self.to_group(conn, EDIT_ALERT, group, target, now, report.id, old)
            await self.to_group(conn, GROUP_ALERT, group, target, now, report.id)
        self.queued()
        return reopened

    async def close_unrated(self) -> int:
        """Close resolved cases nobody rated within `close_after_days`; return how many."""
        now = self.now()
        before = now - self.settings.reports.close_after_days * 86400
        async with self.db.transaction() as conn:
            cases = await reports.resolved_before(conn, before)
            for case in cases:
                await reports.set_status(
                    conn, case.id, expected=Status.RESOLVED, status=Status.CLOSED, now=now
                )
                await record(conn, case.id, Action.CLOSE, Status.CLOSED, now, case.group_key)
                await self.to_group(
                conn, EDIT_ALERT, case.group_key, alert_target(case.id), now, case.id,
                    alert_of(case),
                )  # fmt: skip
        if cases:
            self.queued()
        return len(cases)
