"""People acting in the simulator, each step waiting for the bot's answer.

The tests, the demo's seeding and the benchmarks all walk through chats the
same way: send something as a user, wait for the bot's reply, press a button
by its label, wait until an edited message says something.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.server import JSON, BotApiStandIn, PressedMessage, SentMessage


class Driver:
    """Verbs for a scenario in the simulator (see the module docstring)."""

    def __init__(self, api: BotApiStandIn, timeout: float = 5.0) -> None:
        self.api = api
        self.timeout = timeout

    async def reply(self, chat_id: int, act: Callable[[], object]) -> SentMessage:
        """Do something in a chat and return the bot's next message there."""
        after = len(self.api.sent_to(chat_id))
        act()
        return await self.api.next_sent(chat_id, after=after, timeout=self.timeout)

    async def say(self, text: str, user: int, **kwargs: Any) -> SentMessage:
        """Send a text as a user and return the bot's first reply in that chat."""
        chat_id = kwargs.get("chat_id") or user
        return await self.reply(chat_id, lambda: self.api.send_text(user, text, **kwargs))

    def now(self, message: SentMessage) -> SentMessage:
        """A bot message as it is now, after any edits."""
        raw = self.api.message(message.chat_id, message.message_id)
        assert raw is not None, f"message {message.message_id} is gone from {message.chat_id}"
        return SentMessage.of(message.chat_id, raw, message.method)

    async def press(
        self, user: int, message: SentMessage, label: str, shown: PressedMessage = "accessible"
    ) -> JSON:
        """Press the button whose label contains `label`; return the callback answer.

        `shown`: how the query carries the message (see `BotApiStandIn.press`).
        """
        data = self.now(message).button_data(label)
        return await self.press_data(user, message, data, shown)

    async def press_data(
        self, user: int, message: SentMessage, data: str, shown: PressedMessage = "accessible"
    ) -> JSON:
        """Press a button with any callback data (also forged data); return the answer."""
        query_id = self.api.press(
            user, message.message_id, data, chat_id=message.chat_id, shown=shown
        )
        return await self.api.answer_to(query_id, timeout=self.timeout)

    async def wait_text(self, message: SentMessage, fragment: str) -> str:
        """Wait until a bot message (after edits) contains `fragment`; return its text."""

        def check() -> str | None:
            now = self.api.message(message.chat_id, message.message_id) or {}
            text = now.get("text") or now.get("caption") or ""
            return text if fragment in text else None

        return await self.api.wait_for(check, timeout=self.timeout)

    async def wait_button(self, message: SentMessage, label: str) -> None:
        """Wait until a bot message (after edits) offers a button containing `label`."""
        await self.api.wait_for(lambda: label in str(self.now(message).buttons), self.timeout)
