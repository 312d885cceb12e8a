"""Deadlines: a late case is reminded in its group, then escalated to 督导组, once each.

The bot's clock is moved forward by hours instead of waiting, and the check is
run by the test itself: `check_deadlines()` returns how many notices it queued,
so "nothing more" is a count, not a pause.
"""

from __future__ import annotations

from pathlib import Path

from dialogue import texts
from tests.conftest import started_world
from tests.world import GROUP_CHATS, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
HOUR = 3600.0
# litter: 24 h to accept, 72 h to resolve; 督导组 is told 24 h after a deadline.
ACCEPT, RESOLVE, ESCALATE = 24 * HOUR, 72 * HOUR, 24 * HOUR


def texts_to(world: World, group: str, fragment: str) -> list[str]:
    return [m.text for m in world.api.sent_to(GROUP_CHATS[group]) if fragment in (m.text or "")]


async def check(world: World) -> int:
    """One deadline check, as the repeating job runs it; how many notices it queued."""
    return await world.runtime.reports.cases.check_deadlines()


async def deadline_rows(world: World) -> list[tuple[str, str]]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall(
            "SELECT status, payload FROM outbox WHERE kind = 'deadline_notice' ORDER BY id"
        )
    return [tuple(r) for r in rows]


async def test_a_case_not_accepted_in_time_is_reminded_then_escalated_once(
    world: World,
) -> None:
    _, ticket = await world.file(LITTER)
    world.clock.advance(ACCEPT - 60)
    assert await check(world) == 0  # a minute early: nothing
    world.clock.advance(120)
    assert await check(world) == 1  # late: the group is reminded, 督导组 not yet
    await world.api.wait_for(lambda: texts_to(world, "urban", "超过受理时限"))
    world.clock.advance(ESCALATE)
    assert await check(world) == 1
    [escalation] = await world.api.wait_for(lambda: texts_to(world, "supervision", "超过受理时限"))
    assert ticket in escalation and "城镇建设管理组" in escalation and LITTER in escalation
    assert [await check(world) for _ in range(3)] == [0, 0, 0]
    await world.restart()
    assert await check(world) == 0
    # Every notice queued has gone out, so the chats now show all there will be.
    assert len(await world.eventually(lambda: _when_all_sent(world))) == 2
    assert len(texts_to(world, "urban", "超过受理时限")) == 1
    assert len(texts_to(world, "supervision", "超过受理时限")) == 1


async def _when_all_sent(world: World) -> list[tuple[str, str]] | None:
    rows = await deadline_rows(world)
    return rows if rows and all(status == "sent" for status, _ in rows) else None


async def test_the_reminder_sits_under_the_alert(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    world.clock.advance(ACCEPT + 60)
    assert await check(world) == 1
    await world.api.wait_for(lambda: texts_to(world, "urban", "超过受理时限"))
    reminder = next(r for r in world.api.requests if "超过受理时限" in str(r.params))
    assert reminder.params["reply_parameters"]["message_id"] == alert.message_id


async def test_an_accepted_case_is_not_reminded_to_accept(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "状态：已受理")
    # Past the accept deadline and its escalation, before the resolve deadline.
    world.clock.advance(ACCEPT + ESCALATE + HOUR)
    assert await check(world) == 0
    assert await deadline_rows(world) == []
    # The same check does see the resolve deadline once it passes.
    world.clock.advance(RESOLVE)
    assert await check(world) >= 1
    kinds = {row[1] for row in await deadline_rows(world)}
    assert all('"resolve"' in payload for payload in kinds)


async def test_a_late_resolution_is_escalated_with_how_late(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "状态：已受理")
    world.clock.advance(RESOLVE + ESCALATE + 3 * HOUR + 60)
    assert await check(world) == 2  # the reminder and the escalation at once
    [escalation] = await world.api.wait_for(lambda: texts_to(world, "supervision", "超过办结时限"))
    assert "仍未办结" in escalation
    assert "超过办结时限 " + texts.LATE_DAYS.format(days=1, hours=3) in escalation


async def test_the_repeating_check_runs_on_its_own_every_overdue_check_seconds(
    tmp_path: Path, classifier: object
) -> None:
    often = {"reports": {"overdue_check_seconds": 0.1}}
    async with started_world(tmp_path, classifier, **often) as world:
        job = next(j for j in world.runtime.app.job_queue.jobs() if j.name == "deadlines")
        assert job.job.trigger.interval.total_seconds() == 0.1
        _, ticket = await world.file(LITTER)
        world.clock.advance(ACCEPT + 60)
        [reminder] = await world.api.wait_for(lambda: texts_to(world, "urban", "超过受理时限"))
        assert ticket in reminder
