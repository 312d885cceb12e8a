"""Places for reports close to and far from each other, and a draft made at one."""

from __future__ import annotations

from simulator.server import SentMessage
from tests.world import World

LITTER = "小区东门垃圾桶满了好几天没人清运"
HERE = (31.230400, 121.473700)
NEXT_DOOR = (31.230700, 121.473700)  # about 33 m north
ACROSS_TOWN = (31.250000, 121.473700)  # about 2 km


async def report_at(
    world: World, user: int, where: tuple[float, float], text: str = LITTER
) -> SentMessage:
    """A draft with a location; return its latest card."""
    await world.card(text, user)
    after = len(world.api.sent_to(user))
    world.api.send_location(user, *where)
    return await world.api.next_sent(user, after=after)
