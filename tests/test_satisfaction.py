"""After 办结 the resident rates the result; 不满意 reopens the case; silence closes it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import started_world
from tests.world import RESIDENT, URBAN_STAFF, World, message_now

LITTER = "小区东门垃圾桶满了好几天没人清运"


async def resolved(world: World) -> tuple[str, object, object]:
    """File, resolve with a note; return the ticket, the alert and the rating message."""
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    after = len(world.api.sent_to(RESIDENT))
    await world.act_with_note(URBAN_STAFF, alert, "办结", "已清运")
    notice = await world.api.next_sent(RESIDENT, after=after)
    return ticket, alert, notice


async def status_of(world: World) -> tuple[str, str | None]:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT status, rating FROM reports")
    return tuple(next(iter(rows)))


async def test_the_resolution_notice_offers_three_ratings(world: World) -> None:
    _, _, notice = await resolved(world)
    labels = [b["text"] for b in notice.buttons]
    assert any("满意" == label.split()[-1] for label in labels)
    assert any("基本满意" in label for label in labels) and any(
        "不满意" in label for label in labels
    )


async def test_satisfied_closes_the_case_and_the_group_sees_the_rating(world: World) -> None:
    _, alert, notice = await resolved(world)
    answer = await world.press(RESIDENT, notice, "基本满意")
    assert "感谢" in answer["text"]
    assert await status_of(world) == ("closed", "basically")
    await world.wait_text(alert, "群众评价：基本满意")
    await world.api.wait_for(lambda: message_now(world, notice).buttons == [])


async def test_rating_twice_is_refused_politely(world: World) -> None:
    _, _, notice = await resolved(world)
    data = notice.button_data("😊")
    await world.press_data(RESIDENT, notice, data)
    again = await world.press_data(RESIDENT, notice, data)
    assert "已经评价" in again["text"]


async def test_unsatisfied_asks_why_and_reopens_the_case_to_the_same_group(world: World) -> None:
    ticket, alert, notice = await resolved(world)
    after = len(world.api.sent_to(RESIDENT))
    await world.press(RESIDENT, notice, "不满意")
    ask = await world.api.next_sent(RESIDENT, after=after)
    assert "哪里还有问题" in ask.text
    done = await world.say("垃圾桶还是满的，根本没人来", reply_to_message_id=ask.message_id)
    assert "重新交给城镇建设管理组" in done.text
    # The rating stays open for the next 办结; the dissatisfaction is in the history.
    assert await status_of(world) == ("reopened", None)
    fresh = await world.alert("urban", after=3)
    assert ticket in fresh.text and "根本没人来" in fresh.text and "⚠️" in fresh.text
    assert "受理" in str(fresh.buttons)
    await world.wait_text(alert, "已重新交办")
    assert message_now(world, alert).buttons == []


async def test_only_the_resident_who_reported_can_rate(world: World) -> None:
    from tests.world import NEIGHBOUR

    _, _, notice = await resolved(world)
    query = world.api.press(NEIGHBOUR, notice.message_id, notice.button_data("😊"), RESIDENT)
    answer = await world.api.answer_to(query)
    assert "失效" in answer["text"]
    assert await status_of(world) == ("resolved", None)


async def test_a_resolved_case_nobody_rates_closes_itself(
    tmp_path: Path, classifier: object
) -> None:
    quick = {"reports": {"close_after_days": 0.00001, "overdue_check_seconds": 0.1}}
    async with started_world(tmp_path, classifier, **quick) as world:
        _, alert, _ = await resolved(world)
        await world.wait_text(alert, "状态：已结案")
        assert await status_of(world) == ("closed", None)


async def test_unsatisfied_after_the_reopen_window_is_only_recorded(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, reports={"reopen_days": 0.0}) as world:
        _, _, notice = await resolved(world)
        answer = await world.press(RESIDENT, notice, "不满意")
        assert "感谢" in answer["text"]
        assert await status_of(world) == ("closed", "unsatisfied")
