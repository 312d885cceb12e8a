"""The daily digest: each group hears what is new, due today and overdue; admins send it now."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import started_world
from tests.world import ADMIN, GROUP_CHATS, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"


def digest_to(world: World, group: str) -> str | None:
    for message in world.api.sent_to(GROUP_CHATS[group]):
        if "每日简报" in (message.text or ""):
            return message.text
    return None


async def test_an_admin_sends_every_group_its_digest_now(world: World) -> None:
    _, ticket = await world.file(LITTER)
    reply = await world.say("/digest", user=ADMIN)
    assert "已把今天的简报" in reply.text
    urban = await world.api.wait_for(lambda: digest_to(world, "urban"))
    assert "城镇建设管理组" in urban and ticket in urban and "新反映 1 件" in urban
    rural = await world.api.wait_for(lambda: digest_to(world, "rural"))
    assert "没有新反映" in rural


async def test_only_admins_may_send_digests(world: World) -> None:
    reply = await world.say("/digest", user=URBAN_STAFF)
    assert "无权限" in reply.text


async def test_the_digest_lists_what_is_overdue_and_how_late(
    tmp_path: Path, classifier: object
) -> None:
    late = {
        "reports": {"overdue_check_seconds": 0.1},
        "categories": {"litter": {"accept_hours": 0.0001}},
    }
    async with started_world(tmp_path, classifier, **late) as world:
        _, ticket = await world.file(LITTER)
        # Once the group has been reminded, the case is late for certain.
        await world.api.wait_for(
            lambda: any(
                "超过受理时限" in (m.text or "") for m in world.api.sent_to(GROUP_CHATS["urban"])
            )
        )
        await world.say("/digest", user=ADMIN)
        urban = await world.api.wait_for(lambda: digest_to(world, "urban"))
        assert "已逾期 1 件" in urban and f"{ticket}（待受理，逾期" in urban


async def test_the_digest_is_scheduled_at_the_configured_local_time(world: World) -> None:
    job = next(j for j in world.runtime.app.job_queue.jobs() if j.name == "digest")
    run = job.next_t.astimezone(job.next_t.tzinfo)
    assert (run.hour, run.minute) == (8, 30) and str(run.tzinfo) in ("Asia/Shanghai", "CST")


async def test_due_today_means_before_local_midnight(tmp_path: Path, classifier: object) -> None:
    # At 08:00: a litter case falls due at 23:00 today, a stall at 00:30 tomorrow.
    hours = {"litter": {"accept_hours": 15}, "street_vending": {"accept_hours": 16.5}}
    async with started_world(tmp_path, classifier, categories=hours) as world:
        world.clock.set(datetime(2025, 6, 10, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())
        _, today = await world.file(LITTER)
        _, tomorrow = await world.file("人行道上有人摆摊卖水果，挡住了路")
        await world.say("/digest", user=ADMIN)
        urban = await world.api.wait_for(lambda: digest_to(world, "urban"))
        [due] = [line for line in urban.splitlines() if "今日到期" in line]
        assert due == f"⏳ 今日到期 1 件：{today}（待受理）"
        assert tomorrow not in due and "已逾期" not in urban
        assert "06-10" in urban and "新反映 2 件" in urban
