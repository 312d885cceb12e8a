"""/export: a CSV Excel opens (UTF-8 with BOM), cases and their times, no residents."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.world import ADMIN, RESIDENT, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"


async def exported(world: World, command: str = "/export") -> list[list[str]]:
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, command)
    document = await world.api.next_sent(ADMIN, after=after)
    assert document.document is not None and document.document_bytes is not None
    data = document.document_bytes
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_an_admin_exports_the_cases_with_their_times_and_rating(world: World) -> None:
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "状态：已受理")
    rows = await exported(world)
    header, *cases = rows
    assert header[:5] == ["工单号", "类别", "工作组", "状态", "提交时间"]
    [case] = cases
    assert case[0] == ticket and case[1] == "乱扔垃圾" and case[2] == "城镇建设管理组"
    assert case[3] == "已受理" and case[5]  # accepted at
    flat = ",".join(",".join(r) for r in rows)
    for secret in ("王小明", "xiaoming", str(RESIDENT)):
        assert secret not in flat


def local(day: int, hour: int = 12) -> float:
    return datetime(2025, 3, day, hour, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


async def test_a_date_range_selects_the_cases_filed_in_it(world: World) -> None:
    world.clock.set(local(10, 23))  # 10 March, 23:00 local
    _, march_10 = await world.file(LITTER)
    world.clock.set(local(20, 0) + 60)  # 20 March, 00:01 local
    _, march_20 = await world.file("人行道上有人摆摊卖水果，挡住了路")

    async def tickets(command: str) -> list[str]:
        return [row[0] for row in (await exported(world, command))[1:]]

    assert await tickets("/export 2025-03-01 2025-03-15") == [march_10]
    assert await tickets("/export 2025-03-10 2025-03-19") == [march_10]
    assert await tickets("/export 2025-03-11 2025-03-20") == [march_20]  # `to` is included
    assert await tickets("/export 2025-03-01 2025-03-31") == [march_10, march_20]
    assert await tickets("/export 2020-01-01 2020-01-31") == []


async def test_only_admins_may_export(world: World) -> None:
    reply = await world.say("/export", user=URBAN_STAFF)
    assert "无权限" in reply.text


async def test_a_malformed_date_gets_the_usage(world: World) -> None:
    reply = await world.say("/export 11月1日", user=ADMIN)
    assert "/export 2026-11-01" in reply.text
