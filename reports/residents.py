"""Who a resident is: our own id for each (channel, external id), and back again.

Every table names a resident by our id; a channel adapter resolves the id its
channel gives (Telegram's user id, WeChat's openid) once, when an update
arrives, and hands the services ours.
"""

from __future__ import annotations

from collections import OrderedDict

from reports.context import Part, Shared
from storage import residents

# Residents resolved lately, kept in memory: nearly every update is from someone
# seen a moment ago, and a row never changes its id, so a cached one never goes stale.
CACHE_SIZE = 10_000


class Residents(Part):
    """Resolve a channel's resident to our id (creating it on first sight), and back."""

    def __init__(self, shared: Shared) -> None:
        super().__init__(shared)
        self._ids: OrderedDict[tuple[str, str], int] = OrderedDict()

    async def resolve(self, channel: str, external_id: str | int) -> int:
        """Our id for the resident `external_id` of `channel`."""
        key = (channel, str(external_id))
        cached = self._ids.get(key)
        if cached is not None:
            self._ids.move_to_end(key)
            return cached
        async with self.db.transaction() as conn:
            resident_id = await residents.resolve(conn, key[0], key[1], self.now())
        self._remember(key, resident_id)
        return resident_id

    async def find(self, channel: str, external_id: str | int) -> int | None:
        """Our id for a channel's resident if they ever wrote; None otherwise (nothing created)."""
        key = (channel, str(external_id))
        if key in self._ids:
            return self._ids[key]
        async with self.db.session() as conn:
            resident_id = await residents.lookup(conn, key[0], key[1])
        if resident_id is not None:
            self._remember(key, resident_id)
        return resident_id

    async def address(self, resident_id: int) -> tuple[str, str] | None:
        """The channel and that channel's own id of one of our residents (to send to them)."""
        async with self.db.session() as conn:
            return await residents.external(conn, resident_id)

    async def wrote(self, resident_id: int, at: float) -> None:
        """The resident wrote (a message or an event) at `at`: a channel with a window for
        answers (WeChat's 48 hours) counts from the latest."""
        async with self.db.session() as conn:
            await residents.touch(conn, resident_id, at)

    async def last_wrote(self, resident_id: int) -> float | None:
        async with self.db.session() as conn:
            return await residents.last_message_at(conn, resident_id)

    def _remember(self, key: tuple[str, str], resident_id: int) -> None:
        self._ids[key] = resident_id
        if len(self._ids) > CACHE_SIZE:
            self._ids.popitem(last=False)
