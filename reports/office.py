"""The office's figures: each group's daily digest, the statistics, the export and the
weekly report."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime

from reports import stats
from reports.context import Part
from reports.deadlines import HOUR, next_due
from reports.outbox import DIGEST, WEEKLY_REPORT
from reports.states import OPEN_STATUSES
from reports.stats import Statistics
from storage import job_runs, nominations, reports, resident_messages
from storage import stats as stats_db


class Office(Part):
    """What the office (and each group) is told of the cases as a whole."""

    async def queue_digests(self, once: bool = False) -> int:
        """Queue each group's daily digest: new cases, due today, overdue; return how many.

        `once`: the timed job's, at most once a day whichever process runs it (an
        admin's /digest sends them again).
        """
        now = self.now()
        local = datetime.fromtimestamp(now, self.shared.tz)
        end_of_day = local.replace(hour=23, minute=59, second=59).timestamp()
        async with self.db.transaction() as conn:
            if once and not await job_runs.claim(conn, DIGEST, local.strftime("%Y-%m-%d"), now):
                return 0
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
                listed = {str(t) for t in payload["new"]}  # type: ignore[union-attr]
                listed |= {str(e[0]) for e in (*payload["due"], *payload["overdue"])}  # type: ignore[misc]
                payload["areas"] = {
                    r.ticket: r.area for r in (*cases, *new) if r.area and r.ticket in listed
                }
                target = f"digest:{key}"
                await self.to_group(conn, DIGEST, key, target, now, None, payload)
        self.queued()
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
        until = self.now() if until is None else until
        limits = []
        for key in self.settings.categories:
            limit = self.settings.limits(key)
            limits.append((key, limit.accept_hours * HOUR, limit.resolve_hours * HOUR))
        since = until - days * 86400
        async with self.db.session() as conn:
            figures = await stats.collect(
                conn,
                since,
                until,
                limits,
                self.settings.groups,
                [area.key for area in self.settings.areas],
            )
            spam_limit = self.settings.reports.spam_limit
            messages, spammers = await resident_messages.counts_by_intent(
                conn, since, until, spam_limit
            )
        return dataclasses.replace(figures, messages=messages, spammers=spammers)

    async def nominations_selected(self, days: float, until: float | None = None) -> int:
        """How many 身边好人 nominations were selected in the `days` before `until` (now)."""
        until = self.now() if until is None else until
        async with self.db.session() as conn:
            return await nominations.count_selected_between(conn, until - days * 86400, until)

    async def open_by_area(self) -> dict[str, int]:
        """How many open cases each configured area has now (the 通报 map's colours)."""
        async with self.db.session() as conn:
            found = await stats_db.open_by_area(conn, OPEN_STATUSES)
        return {area.key: found.get(area.key, 0) for area in self.settings.areas}

    async def queue_weekly_report(self, once: bool = False) -> bool:
        """Queue the weekly report (this week's figures against last week's, and the week's
        好人好事, read when it is sent) for its group; False if `once` and this week's
        was queued already (by any process)."""
        now = self.now()
        year, week, _ = datetime.fromtimestamp(now, self.shared.tz).isocalendar()
        async with self.db.transaction() as conn:
            if once and not await job_runs.claim(conn, WEEKLY_REPORT, f"{year}-W{week:02d}", now):
                return False
            # The target is the group's key: the channel sends the report to that group.
            to = self.settings.roles.weekly_report
            await self.to_group(conn, WEEKLY_REPORT, to, to, now, None, {"until": now})
        self.queued()
        return True
