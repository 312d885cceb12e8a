"""Relays between a working group and a resident: the group's question, the answer."""

from __future__ import annotations

from reports.cases import record
from reports.context import Part
from reports.errors import NoteTooLong, ReportNotFound
from reports.outbox import RELAY_ANSWER, RELAY_QUESTION, alert_target
from reports.records import Report
from storage import outbox


class Relays(Part):
    """Carry a group's question to the resident and the answer back, on the record."""

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
        now = self.now()
        async with self.db.transaction() as conn:
            await record(
                conn,
                report.id,
                action,
                report.status,
                now,
                report.group_key,
                actor=(actor_id, actor_name or "") if actor_id is not None else None,
                note=text,
            )
            payload = {"text": text, "group": report.group_key}
            if kind == RELAY_QUESTION:
                await outbox.enqueue_to_resident(
                    conn, kind, report.resident_id, now, report.id, payload
                )
            else:
                await self.to_group(
                    conn, kind, report.group_key, alert_target(report.id), now, report.id, payload
                )
        self.queued()
