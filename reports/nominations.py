"""身边好人: a resident recommends a good deed they saw; 宣传教育组 (roles.praise) selects
it for the week's list, or not; a resident's thanks for a resolved case reaches the
group that handled it.

A nomination is composed like a draft (text, photos, a place, whether the person may
be named) and expires like one: only one is open per resident, and one untouched for
`[reports] draft_minutes` no longer takes photos or locations. Each change that must
be announced queues its outbox items in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from reports.context import Part
from reports.drafting import check_location
from reports.errors import ReportError, TextTooLong, TooManyPhotos
from reports.outbox import (
    CASE_THANKS,
    NOMINATION_ALERT,
    NOMINATION_EDIT,
    NOMINATION_RESULT,
    alert_target,
    nomination_target,
)
from reports.records import Nomination, Report
from storage import nominations, outbox
from storage.db import Connection

# A resident who praises within this long of a case's 办结 is asked whether it is thanks.
THANKS_DAYS = 14
OPEN, SUBMITTED, SELECTED, DECLINED, CANCELLED = (
    "open",
    "submitted",
    "selected",
    "declined",
    "cancelled",
)


class NominationNotFound(ReportError):
    """No such nomination of this resident (a stale or forged button)."""


class NominationClosed(ReportError):
    """The nomination was submitted, cancelled or decided already."""

    def __init__(self, nomination: Nomination) -> None:
        super().__init__(f"nomination {nomination.id} is {nomination.status}")
        self.nomination = nomination


class NotThankable(ReportError):
    """The case named is not the resident's, or not resolved recently."""


class NominationService(Part):
    """Compose, submit, cancel and decide nominations; thank a case's group."""

    # -- The resident

    def check_text(self, text: str) -> None:
        if len(text) > self.settings.reports.max_text_chars:
            raise TextTooLong(self.settings.reports.max_text_chars)

    async def start(self, resident_id: int, text: str, photo: str | None = None) -> Nomination:
        """Open a nomination with what the resident said (cancelling an earlier open one);
        it happened on the day it was sent, unless they say otherwise."""
        text = text.strip()
        self.check_text(text)
        now = self.now()
        occurred = datetime.fromtimestamp(now, self.shared.tz).strftime("%Y-%m-%d")
        async with self.db.transaction() as conn:
            return await nominations.open_new(
                conn, resident_id, text, occurred, now, (photo,) if photo else ()
            )

    async def open_nomination(self, resident_id: int) -> Nomination | None:
        """The nomination that photos and locations sent now would join, if any."""
        since = self.now() - self.settings.reports.draft_minutes * 60
        async with self.db.session() as conn:
            return await nominations.latest_open(conn, resident_id, since)

    async def get(self, resident_id: int, nomination_id: int) -> Nomination:
        """The resident's own nomination, whatever its status."""
        async with self.db.session() as conn:
            found = await nominations.get(conn, nomination_id)
        if found is None or found.resident_id != resident_id:
            raise NominationNotFound()
        return found

    async def find(self, nomination_id: int) -> Nomination | None:
        """A nomination by id (for the group's side)."""
        async with self.db.session() as conn:
            return await nominations.get(conn, nomination_id)

    async def add_photo(
        self, resident_id: int, nomination_id: int, photo: str, album: str | None = None
    ) -> Nomination:
        nomination = await self._own_open(resident_id, nomination_id)
        if photo in nomination.photos:
            return nomination
        if len(nomination.photos) >= self.settings.reports.max_photos:
            raise TooManyPhotos(self.settings.reports.max_photos)
        fields: dict[str, object] = {"photos": (*nomination.photos, photo)}
        if album:
            fields["media_group_id"] = album
        return await self._update(nomination, **fields)

    async def set_location(
        self, resident_id: int, nomination_id: int, latitude: float, longitude: float
    ) -> Nomination:
        check_location(latitude, longitude)
        nomination = await self._own_open(resident_id, nomination_id)
        return await self._update(nomination, latitude=latitude, longitude=longitude)

    async def set_address(self, resident_id: int, nomination_id: int, address: str) -> Nomination:
        nomination = await self._own_open(resident_id, nomination_id)
        return await self._update(nomination, address=" ".join(address.split())[:200])

    async def set_text(self, resident_id: int, nomination_id: int, text: str) -> Nomination:
        self.check_text(text)
        nomination = await self._own_open(resident_id, nomination_id)
        return await self._update(nomination, text=text)

    async def touch(self, resident_id: int, nomination_id: int) -> Nomination:
        """Mark an open nomination as the resident's latest: what they send next joins it."""
        nomination = await self._own_open(resident_id, nomination_id)
        return await self._update(nomination)

    async def set_may_name(self, resident_id: int, nomination_id: int, may: bool) -> Nomination:
        nomination = await self._own_open(resident_id, nomination_id)
        return await self._update(nomination, may_name=int(may))

    async def submit(self, resident_id: int, nomination_id: int) -> Nomination:
        """Send the nomination to the praise group (roles.praise), in the same commit."""
        await self._own_open(resident_id, nomination_id)
        group = self.settings.roles.praise
        now = self.now()
        async with self.db.transaction() as conn:
            closed = await nominations.close(conn, nomination_id, SUBMITTED, now)
            if closed is None:
                raise NominationClosed(await self._reload(conn, nomination_id))
            target = nomination_target(closed.id)
            payload = {"nomination": closed.id}
            await self.to_group(conn, NOMINATION_ALERT, group, target, now, None, payload)
        self.queued()
        return closed

    async def cancel(self, resident_id: int, nomination_id: int) -> Nomination:
        """Drop an open nomination (also when it became a report or a thanks)."""
        await self._own_open(resident_id, nomination_id)
        async with self.db.transaction() as conn:
            closed = await nominations.close(conn, nomination_id, CANCELLED, self.now())
            if closed is None:
                raise NominationClosed(await self._reload(conn, nomination_id))
        return closed

    # -- Thanks for a resolved case

    async def thankable_case(self, resident_id: int) -> Report | None:
        """The resident's case resolved (办结) within the last THANKS_DAYS days, if any."""
        since = self.now() - THANKS_DAYS * 86400
        async with self.db.session() as conn:
            return await nominations.recently_resolved(conn, resident_id, since)

    async def thank(self, resident_id: int, nomination_id: int, report_id: int) -> Report:
        """Pass the nomination's words on to the group that resolved the case, as thanks;
        the nomination is then spent (cancelled)."""
        nomination = await self._own_open(resident_id, nomination_id)
        case = await self.thankable_case(resident_id)
        if case is None or case.id != report_id:
            raise NotThankable()
        now = self.now()
        async with self.db.transaction() as conn:
            closed = await nominations.close(conn, nomination.id, CANCELLED, now)
            if closed is None:
                raise NominationClosed(await self._reload(conn, nomination.id))
            payload = {"text": nomination.text, "ticket": case.ticket}
            await self.to_group(
                conn, CASE_THANKS, case.group_key, alert_target(case.id), now, case.id, payload
            )
        self.queued()
        return case

    # -- The praise group

    async def decide(
        self, nomination_id: int, select: bool, staff_id: int, name: str
    ) -> Nomination | None:
        """Select or decline a submitted nomination: the alert shows it, and a selected
        one's resident is told (a declined one's is not: see the README). None if it was
        decided already (or is not submitted)."""
        now = self.now()
        status = SELECTED if select else DECLINED
        group = self.settings.roles.praise
        async with self.db.transaction() as conn:
            decided = await nominations.decide(conn, nomination_id, status, staff_id, name, now)
            if decided is None:
                return None
            target = nomination_target(decided.id)
            payload = {"nomination": decided.id}
            await self.to_group(conn, NOMINATION_EDIT, group, target, now, None, payload)
            if select:
                await outbox.enqueue_to_resident(
                    conn, NOMINATION_RESULT, decided.resident_id, now, None, payload
                )
        self.queued()
        return decided

    async def selected(self, since: float, until: float) -> list[Nomination]:
        """The nominations selected in [since, until)."""
        async with self.db.session() as conn:
            return await nominations.selected_between(conn, since, until)

    async def count_selected(self, since: float, until: float) -> int:
        async with self.db.session() as conn:
            return await nominations.count_selected_between(conn, since, until)

    # -- Helpers

    async def _own_open(self, resident_id: int, nomination_id: int) -> Nomination:
        nomination = await self.get(resident_id, nomination_id)
        if nomination.status != OPEN:
            raise NominationClosed(nomination)
        return nomination

    async def _update(self, nomination: Nomination, **fields: object) -> Nomination:
        async with self.db.transaction() as conn:
            updated = await nominations.update_open(conn, nomination.id, self.now(), **fields)
            if updated is None:
                raise NominationClosed(await self._reload(conn, nomination.id))
        return updated

    @staticmethod
    async def _reload(conn: Connection, nomination_id: int) -> Nomination:
        found = await nominations.get(conn, nomination_id)
        assert found is not None
        return found
