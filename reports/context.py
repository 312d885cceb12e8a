"""What every report service shares, held once: the database, the settings, the clock,
the outbox listener and the cache of group chat bindings.

The services each hold the same `Shared`, so setting the clock or the listener
on it reaches all of them at once (see `reports.services`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from settings import Settings
from storage.db import Database


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
