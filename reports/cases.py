"""Cases on the working group's side: look them up, act on them (受理, 办结, 转派, 退回,
重复) with the notes groups reply with, and watch their deadlines.

`record` and `alert_of` are the steps every change of a case shares, wherever
it comes from (filing, rating, relaying).
"""

from __future__ import annotations

from reports.context import Part
from reports.deadlines import HOUR, Level, notices
from reports.errors import NoteTooLong, PromptUsed, ReportNotFound, UnknownGroup, UnknownTicket
from reports.outbox import (
    DEADLINE_NOTICE,
    EDIT_ALERT,
    GROUP_ALERT,
    NOTIFY_RESIDENT,
    alert_target,
)
from reports.records import Event, NotePrompt, Report
from reports.states import OPEN_STATUSES, Action, next_status
from reports.tickets import parse_ticket
from storage import outbox, prompts, reports
from storage.db import Connection


async def record(
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


def alert_of(report: Report) -> dict[str, object]:
    """Which alert of a case an edit goes to: the one posted for its current assignment
    (a 转派 or a reopening starts a new one; the old group's alert is edited once more)."""
    return {"generation": report.assigned_at}


class Cases(Part):
    """What a working group does with a case, and the cases' deadlines."""

    async def get_report(self, report_id: int) -> Report:
        async with self.db.session() as conn:
            report = await reports.get(conn, report_id)
        if report is None:
            raise ReportNotFound()
        return report

    async def history(self, report_id: int) -> list[Event]:
        async with self.db.session() as conn:
            return await reports.events(conn, report_id)

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
            now = self.now()
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
            await record(
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
            if into is not None and await reports.follow(conn, into.id, report.resident_id, now):
                # Its resident now follows the earlier case, which counts one more (unless
                # they follow it already, or reported it themselves).
                await record(
                    conn, into.id, "follow", into.status, now, into.group_key, note=report.ticket
                )
                await self.to_group(
                    conn,
                    EDIT_ALERT,
                    into.group_key,
                    alert_target(into.id),
                    now,
                    into.id,
                    alert_of(into),
                )
            old_alert = {**alert_of(report), "to_group": to_group}
            await self.to_group(
                conn, EDIT_ALERT, report.group_key, alert_target(report.id), now, report.id,
                old_alert,
            )  # fmt: skip
            if action == Action.REASSIGN:
                # The new group gets the whole alert, as if the case were new to it.
                await self.to_group(
                    conn, GROUP_ALERT, updated.group_key, alert_target(report.id), now, report.id
                )
        self.queued()
        return updated

    async def _merge_target(self, conn: Connection, report: Report, typed: str) -> Report:
        """The earlier open case a duplicate is merged into, from the ticket staff typed."""
        ticket = parse_ticket(typed)
        into = await reports.by_ticket(conn, ticket) if ticket else None
        if into is None or into.id == report.id or into.status not in OPEN_STATUSES:
            raise UnknownTicket(typed)
        return into

    async def _notify_all(
        self, conn: Connection, report: Report, payload: dict[str, object], now: float
    ) -> None:
        """Tell the resident, and everyone following the case, of a step."""
        await outbox.enqueue_to_resident(
            conn, NOTIFY_RESIDENT, report.resident_id, now, report.id, payload
        )
        for follower in await reports.followers(conn, report.id):
            await outbox.enqueue_to_resident(
                conn, NOTIFY_RESIDENT, follower, now, report.id, {**payload, "follower": True}
            )

    async def open_prompt(
        self,
        report_id: int,
        action: Action,
        *,
        staff_id: int | None = None,
        resident_id: int | None = None,
        to_group: str | None = None,
    ) -> int:
        """Remember the bot's request for a note (of a member, or of a resident), which the
        answer completes; return its id."""
        async with self.db.session() as conn:
            return await prompts.insert(
                conn,
                report_id=report_id,
                action=action,
                to_group=to_group,
                staff_id=staff_id,
                resident_id=resident_id,
                now=self.now(),
            )

    async def get_prompt(self, prompt_id: int) -> NotePrompt | None:
        async with self.db.session() as conn:
            return await prompts.get(conn, prompt_id)

    async def check_deadlines(self) -> int:
        """Queue a reminder or an escalation for every case newly late; return how many."""
        now = self.now()
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
                    to = (
                        case.group_key
                        if notice.level == Level.REMIND
                        else self.settings.roles.escalation
                    )
                    payload = {
                        "kind": str(notice.kind),
                        "level": str(notice.level),
                        "late": notice.late,
                        "group": to,
                    }
                    await self.to_group(
                        conn, DEADLINE_NOTICE, to, alert_target(case.id), now, case.id, payload
                    )
                    if notice.level == Level.ESCALATE:
                        copy = {**payload, "copy": "escalation"}
                        await self.to_leaders(conn, case.area, now, case.id, copy)
                    queued += 1
        if queued:
            self.queued()
        return queued
