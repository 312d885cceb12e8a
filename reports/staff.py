"""Who acts for a working group: our own id for each (channel, external id) of a member.

The history, prompts and bindings name staff by our id; a channel adapter resolves
the id its channel gives (Telegram's user id, WeCom's userid) when a member acts.
Who may act for a group is the channel's to check (membership of the group's chat,
or of its WeCom department, tag or list); the domain records who did.
"""

from __future__ import annotations

from collections import OrderedDict

from reports.context import Part, Shared
from storage import staff

CACHE_SIZE = 2_000


class Staff(Part):
    def __init__(self, shared: Shared) -> None:
        super().__init__(shared)
        self._ids: OrderedDict[tuple[str, str, str], int] = OrderedDict()

    async def resolve(self, channel: str, external_id: str | int, name: str = "") -> int:
        """Our id for the member `external_id` of `channel` (created on first sight)."""
        key = (channel, str(external_id), name)
        cached = self._ids.get(key)
        if cached is not None:
            self._ids.move_to_end(key)
            return cached
        async with self.db.session() as conn:
            staff_id = await staff.resolve(conn, key[0], key[1], name, self.now())
        self._ids[key] = staff_id
        if len(self._ids) > CACHE_SIZE:
            self._ids.popitem(last=False)
        return staff_id

    async def address(self, staff_id: int) -> tuple[str, str] | None:
        async with self.db.session() as conn:
            return await staff.external(conn, staff_id)
