"""What a channel's own messages show, for the channel adapters: a draft's card, a
case's alert, a prompt for a note, a group's question relayed to a resident.

The domain names drafts, reports and prompts; a channel names its messages its
own way (Telegram: a chat id and a message id). An adapter records here which
message shows what, and finds the subject again when someone replies to that
message or presses a button under it.
"""

from __future__ import annotations

from reports.context import Part
from reports.records import Draft, MessageRef, Nomination, NotePrompt, Report
from storage import drafts, message_refs, nominations, prompts, reports

CARD = "card"
ALERT = "alert"
PROMPT = "prompt"
RELAY = "relay"
# A nomination's alert in the praise group (身边好人).
NOMINATION = "nomination"
# A channel without replies (WeChat) has no message to answer: what the resident's
# next text answers (a relayed question, a prompt) sits in their chat's one slot
# under this message id, replaced by the next question, cleared once answered.
AWAITED = "awaited"
# A survey's question for a free-text reason (不太支持 / 不支持): a text answering it
# is the resident's reason in the current round (subject id 0: the resident's own).
SURVEY_REASON = "survey_reason"


class MessageRefs(Part):
    """Remember which channel message shows which draft, case or prompt, and find it again."""

    async def remember(
        self,
        channel: str,
        chat: str | int,
        message_id: str | int,
        subject: str,
        subject_id: int,
        generation: float | None = None,
    ) -> None:
        """Record what a message shows (again: it becomes the subject's latest)."""
        async with self.db.session() as conn:
            await message_refs.remember(
                conn, channel, str(chat), str(message_id), subject, subject_id, self.now(),
                generation,
            )  # fmt: skip

    async def set_token(
        self, channel: str, chat: str | int, message_id: str | int, token: str | None
    ) -> None:
        """Keep the latest handle the channel gave to change a message (WeCom: a response
        code, usable once within 72 h; None once it is used)."""
        async with self.db.session() as conn:
            await message_refs.set_token(
                conn, channel, str(chat), str(message_id), token, self.now()
            )

    async def forget(self, channel: str, chat: str | int, message_id: str | int) -> None:
        async with self.db.session() as conn:
            await message_refs.forget(conn, channel, str(chat), str(message_id))

    async def awaited(self, channel: str, chat: str | int, within: float) -> MessageRef | None:
        """What a chat's next text answers, if it was asked less than `within` s ago."""
        async with self.db.session() as conn:
            ref = await message_refs.at_message(conn, channel, str(chat), AWAITED)
        return ref if ref is not None and self.now() - ref.at <= within else None

    async def remember_menu(self, channel: str, chat: str | int, choices: list[str]) -> None:
        """Number the choices just offered in a chat (1, 2, ...): a tap or a typed number
        picks one (a channel whose menus carry no data of their own)."""
        async with self.db.session() as conn:
            await message_refs.remember_menu(conn, channel, str(chat), choices, self.now())

    async def menu_choice(
        self, channel: str, chat: str | int, number: str, within: float
    ) -> str | None:
        """The data of choice `number` of the chat's latest menu, offered within `within` s."""
        if not number.isascii() or not number.isdigit() or len(number) > 3:
            return None
        async with self.db.session() as conn:
            found = await message_refs.menu(conn, channel, str(chat))
        if found is None or self.now() - found[1] > within:
            return None
        choices, _ = found
        index = int(number) - 1
        return choices[index] if 0 <= index < len(choices) else None

    async def latest(
        self, channel: str, subject: str, subject_id: int, generation: float | None = None
    ) -> MessageRef | None:
        async with self.db.session() as conn:
            return await message_refs.latest(conn, channel, subject, subject_id, generation)

    async def alert(self, channel: str, report: Report) -> MessageRef | None:
        """The alert posted for the case's current assignment, if it is out."""
        return await self.latest(channel, ALERT, report.id, report.assigned_at)

    async def _at(
        self, channel: str, chat: str | int, message_id: str | int, subject: str
    ) -> MessageRef | None:
        async with self.db.session() as conn:
            ref = await message_refs.at_message(conn, channel, str(chat), str(message_id))
        return ref if ref is not None and ref.subject == subject else None

    async def shows(
        self, channel: str, chat: str | int, message_id: str | int, subject: str
    ) -> bool:
        """Whether a message shows this kind of subject (e.g. SURVEY_REASON)."""
        return await self._at(channel, chat, message_id, subject) is not None

    async def draft_at(self, channel: str, chat: str | int, message_id: str | int) -> Draft | None:
        """The draft whose card a message is."""
        ref = await self._at(channel, chat, message_id, CARD)
        if ref is None:
            return None
        async with self.db.session() as conn:
            return await drafts.get(conn, ref.subject_id)

    async def report_at_alert(
        self, channel: str, chat: str | int, message_id: str | int
    ) -> Report | None:
        """The case whose current alert a message is (an alert of an earlier assignment,
        the old group's after a 转派, is no longer the case's)."""
        ref = await self._at(channel, chat, message_id, ALERT)
        if ref is None:
            return None
        async with self.db.session() as conn:
            report = await reports.get(conn, ref.subject_id)
        return report if report is not None and report.assigned_at == ref.generation else None

    async def prompt_at(
        self, channel: str, chat: str | int, message_id: str | int
    ) -> NotePrompt | None:
        """The prompt for a note that a message is."""
        ref = await self._at(channel, chat, message_id, PROMPT)
        if ref is None:
            return None
        async with self.db.session() as conn:
            return await prompts.get(conn, ref.subject_id)

    async def report_at_relay(
        self, channel: str, chat: str | int, message_id: str | int
    ) -> Report | None:
        """The case a relayed question (a message in the resident's chat) is about."""
        ref = await self._at(channel, chat, message_id, RELAY)
        if ref is None:
            return None
        async with self.db.session() as conn:
            return await reports.get(conn, ref.subject_id)

    async def nomination_at(
        self, channel: str, chat: str | int, message_id: str | int
    ) -> Nomination | None:
        """The nomination whose alert a message is (the latest one posted for it)."""
        ref = await self._at(channel, chat, message_id, NOMINATION)
        if ref is None:
            return None
        async with self.db.session() as conn:
            return await nominations.get(conn, ref.subject_id)
