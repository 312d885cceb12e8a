"""Forgetting what is no longer needed: old drafts and delivered outbox items."""

from __future__ import annotations

from reports.context import Part
from storage import drafts, faq, message_refs, nominations, outbox, resident_messages


class Retention(Part):
    async def forget_old(self) -> tuple[int, int]:
        """Delete drafts untouched and outbox items delivered before the retention; how many.

        A draft untouched that long is over whatever its status (its card's
        buttons then find no draft and say so); the outbox's pending and
        failed items stay whatever their age. Reports are never deleted.
        Residents' texts that opened no report (questions, chit-chat, spam) go
        too, unless they became a report at the resident's word, and so do the
        questions the knowledge base could not answer (`/faq_gaps` looks back a week).
        """
        before = self.now() - self.settings.retention_days * 86400
        async with self.db.transaction() as conn:
            old_drafts = await drafts.delete_untouched_since(conn, before)
            await message_refs.forget_deleted_drafts(conn)
            await nominations.delete_untouched_since(conn, before)
            delivered = await outbox.delete_sent_before(conn, before)
            await resident_messages.delete_before(conn, before)
            await faq.forget_gaps_before(conn, before)
        return old_drafts, delivered
