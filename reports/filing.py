"""Filing a draft as a report, exactly once, unless an open case of the same problem is
close by; then the resident may follow that case instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reports.cases import alert_of, record
from reports.context import Part
from reports.deadlines import HOUR
from reports.drafting import own_open_draft
from reports.errors import (
    DraftClosed,
    DraftNotFound,
    DuplicateFound,
    FloodLimited,
    NeedsDescription,
    NotOffered,
    ReportNotFound,
)
from reports.geo import box, distance_m
from reports.outbox import EDIT_ALERT, GROUP_ALERT, TICKET_RECEIPT, alert_target
from reports.records import Draft, Report
from reports.states import OPEN_STATUSES, Status
from reports.tickets import make_ticket, ticket_prefix
from storage import drafts, outbox, reports
from storage.db import Connection


@dataclass(frozen=True)
class Submission:
    report: Report
    new: bool  # False when 确认 was pressed again for an already filed report


class Filing(Part):
    """File a resident's draft as a case, or let them follow the case it duplicates."""

    async def confirm(
        self,
        resident_id: int,
        draft_id: int,
        separate: bool = False,
    ) -> Submission:
        """File the draft as a report and queue its group alert and its ticket, exactly once.

        The ticket goes to the resident through the outbox, in the same transaction
        as the report, so a crash or an outage right after 确认 only delays it; the
        channel shows it where the draft was last shown (the card pressed).
        Unless `separate`, an open case of the same category close by raises
        DuplicateFound first, so the resident can follow it instead.
        """
        try:
            return await self._file(resident_id, draft_id, separate)
        except DuplicateFound as found:
            # Remembered after the refused filing rolled back: `follow` accepts this case only.
            async with self.db.session() as conn:
                await drafts.offer(conn, draft_id, found.report.id)
            raise

    async def _file(self, resident_id: int, draft_id: int, separate: bool) -> Submission:
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
            now = self.now()
            if not separate:
                await self._refuse_duplicate(conn, draft, now)
            local = datetime.fromtimestamp(now, self.shared.tz)
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
                area=draft.area,
            )
            await record(conn, report.id, "submit", Status.SUBMITTED, now, group_key)
            await drafts.close(conn, draft.id, "submitted", now, report.id)
            await self.to_group(
                conn, GROUP_ALERT, group_key, alert_target(report.id), now, report.id
            )
            await self.to_leaders(conn, report.area, now, report.id, {"copy": "alert"})
            await outbox.enqueue_to_resident(
                conn, TICKET_RECEIPT, resident_id, now, report.id, {"draft_id": draft.id}
            )
        self.queued()
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
            if case.area and draft.area and case.area != draft.area:
                continue  # across a border: another community's (or road's) own case
            if away <= rules.duplicate_radius_m and case.resident_id != draft.resident_id:
                raise DuplicateFound(case, away)

    async def follow(self, resident_id: int, draft_id: int, report_id: int) -> Report:
        """Follow the open case the bot offered this draft instead of filing it again.

        Any other case (a forged button: ids are sequential) raises NotOffered, and so
        does the resident's own case; nothing changes then.
        """
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            if draft.offered_report_id is None or draft.offered_report_id != report_id:
                raise NotOffered()
            report = await reports.get(conn, report_id)
            if report is None or report.status not in OPEN_STATUSES:
                raise ReportNotFound()
            if report.resident_id == resident_id:
                raise NotOffered()
            now = self.now()
            added = await reports.follow(conn, report.id, resident_id, now)
            await drafts.close(conn, draft.id, "followed", now, report.id)
            if added:  # a resident following again is still one person
                await record(conn, report.id, "follow", report.status, now, report.group_key)
                await self.to_group(
                    conn,
                    EDIT_ALERT,
                    report.group_key,
                    alert_target(report.id),
                    now,
                    report.id,
                    alert_of(report),
                )
        if added:
            self.queued()
        return report
