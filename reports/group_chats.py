"""Which chat each working group's alerts go to: a /bind binding, else config's chat_id."""

from __future__ import annotations

from reports.context import Part
from reports.errors import GroupGone
from reports.outbox import GROUPS_CHANNEL
from storage import bindings, message_refs, outbox


class GroupChats(Part):
    """Bind a group to its chat, and say where its alerts go (cached in `Shared.bindings`)."""

    async def load_bindings(self) -> None:
        async with self.db.session() as conn:
            self.shared.bindings = await bindings.all_bindings(conn)

    def group_chat(self, group_key: str) -> int | None:
        """The chat a group's alerts go to: a /bind binding, else config's chat_id.

        Raises GroupGone for a group no longer in the config (work queued before it
        was taken out): a binding left in the database does not bring it back.
        """
        group = self.settings.groups.get(group_key)
        if group is None:
            raise GroupGone(group_key)
        chat_id = self.shared.bindings.get(group_key) or group.chat_id
        return chat_id or None

    async def move_group_chat(self, group_key: str, old_chat: int | None, new_chat: int) -> None:
        """The group's chat became a supergroup with a new id: bind the group to it (as /bind
        would, kept across restarts), and point its cases' alerts there."""
        now = self.now()
        async with self.db.transaction() as conn:
            await bindings.bind(conn, group_key, new_chat, None, now)
            if old_chat is not None:
                await message_refs.move_chat(conn, GROUPS_CHANNEL, str(old_chat), str(new_chat))
            await outbox.retry_group_now(conn, group_key, now)
        await self.load_bindings()
        self.queued()

    async def bind_group(self, group_key: str, chat_id: int, bound_by: int) -> None:
        now = self.now()
        async with self.db.transaction() as conn:
            await bindings.bind(conn, group_key, chat_id, bound_by, now)
            # Alerts that waited for a chat (backing off) can go now, not at their next retry.
            await outbox.retry_group_now(conn, group_key, now)
        await self.load_bindings()
        self.queued()
