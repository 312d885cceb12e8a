"""What every report service shares, held once: the database, the settings, the clock,
the outbox listener and the cache of group chat bindings.

The services each hold the same `Shared`, so setting the clock or the listener
on it reaches all of them at once (see `reports.services`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from reports.outbox import GROUPS_CHANNEL, LEADER_COPY, TELEGRAM, WECOM, leader_recipient
from settings import Settings
from storage import outbox
from storage.db import Connection, Database


def _nothing() -> None:
    pass


@dataclass(eq=False)
class Shared:
    db: Database
    settings: Settings
    clock: Callable[[], float] = time.time
    # Called after a commit that queued messages, so the sender need not poll.
    outbox_listener: Callable[[], None] = _nothing
    # group key -> chat id, from /bind; see GroupChats.
    bindings: dict[str, int] = field(default_factory=dict)
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.settings.timezone)


class Part:
    """Base of a report service: reads the shared state, never copies it."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    @property
    def db(self) -> Database:
        return self.shared.db

    @property
    def settings(self) -> Settings:
        return self.shared.settings

    def now(self) -> float:
        return self.shared.clock()

    def queued(self) -> None:
        """Tell the sender that a commit queued messages."""
        self.shared.outbox_listener()

    def group_channels(self, group_key: str) -> tuple[str, ...]:
        """The channels a working group is on (see `group_channels`)."""
        return group_channels(self.shared, group_key)

    async def to_group(
        self,
        conn: Connection,
        kind: str,
        group_key: str,
        target: str,
        now: float,
        report_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Queue a message to a working group, on each channel it is on."""
        await outbox.enqueue_to_group(
            conn, kind, group_key, target, now, report_id, payload, self.group_channels(group_key)
        )

    async def to_leaders(
        self,
        conn: Connection,
        area_key: str | None,
        now: float,
        report_id: int,
        payload: dict[str, Any],
    ) -> None:
        """Queue a read-only copy to each leader of the case's area, on each channel they
        have (in the transaction of what it copies: a copy is never lost)."""
        area = self.settings.areas.get(area_key)
        if area is None:
            return
        for index, leader in enumerate(area.leaders):
            recipient = leader_recipient(area.key, index)
            channels = [TELEGRAM] if leader.telegram else []
            # No [wecom]: no courier would ever take a WeCom copy.
            channels += [WECOM] if leader.wecom and self.settings.wecom else []
            for channel in channels:
                await outbox.enqueue(
                    conn, LEADER_COPY, recipient, now, report_id, payload,
                    channel=channel, recipient=recipient,
                )  # fmt: skip


def group_channels(shared: Shared, group_key: str) -> tuple[str, ...]:
    """WeCom if config names the group's WeCom recipients; Telegram if it has a chat
    (configured or bound), or has no WeCom either (its work waits for /bind). A group
    taken out of config stays Telegram's, whose courier tells the office."""
    group = shared.settings.groups.get(group_key)
    if group is None:
        return (GROUPS_CHANNEL,)
    channels = [WECOM] if group.on_wecom else []
    if group.chat_id or group_key in shared.bindings or not group.on_wecom:
        channels.append(GROUPS_CHANNEL)
    return tuple(channels)
