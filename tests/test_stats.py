"""/stats and the weekly report: the office's figures, with a chart whose Chinese renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.telegram.charts import FontMissing, cjk_font
from tests.conftest import started_world
from tests.world import ADMIN, GROUP_CHATS, RESIDENT, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"


async def one_resolved_and_rated_one_waiting(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.wait_text(alert, "状态：已受理")
    after = len(world.api.sent_to(RESIDENT))
    await world.act_with_note(URBAN_STAFF, alert, "办结", "已清运")
    notice = await world.api.next_sent(RESIDENT, after=after)
    await world.press(RESIDENT, notice, "😊")
    await world.wait_text(alert, "群众评价")
    await world.file("路口有人闯红灯")


async def test_stats_gives_each_rate_for_the_district_groups_and_categories(
    world: World,
) -> None:
    await one_resolved_and_rated_one_waiting(world)
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/stats 7")
    text = (await world.api.next_sent(ADMIN, after=after)).text
    assert "最近 7 天" in text
    assert "全区：2 件｜按时受理 50%｜办结 50%｜按时办结 50%｜满意 100%（1 人评价）" in text
    assert "城镇建设管理组：1 件｜按时受理 100%｜办结 100%" in text
    assert "社会秩序组：1 件｜按时受理 0%｜办结 0%" in text
    assert "乱扔垃圾：1 件" in text and "受理中位" in text
    chart = await world.api.next_sent(ADMIN, after=after + 1)
    assert chart.photo_file_ids


async def test_each_category_has_its_own_median_times(world: World) -> None:
    await one_resolved_and_rated_one_waiting(world)
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/stats 7")
    lines = (await world.api.next_sent(ADMIN, after=after)).text.splitlines()
    litter = next(line for line in lines if line.startswith("乱扔垃圾："))
    traffic = next(line for line in lines if line.startswith("交通不文明："))
    assert "受理中位 1分钟｜办结中位 1分钟" in litter
    assert "受理中位 —｜办结中位 —" in traffic


async def test_only_admins_see_statistics(world: World) -> None:
    reply = await world.say("/stats", user=URBAN_STAFF)
    assert "无权限" in reply.text


async def test_a_bad_period_gets_the_usage(world: World) -> None:
    reply = await world.say("/stats 一周", user=ADMIN)
    assert "/stats 7" in reply.text


def test_the_chart_font_has_chinese_glyphs() -> None:
    from matplotlib.ft2font import FT2Font

    font = FT2Font(cjk_font().get_file())
    assert all(font.get_char_index(ord(ch)) for ch in "城镇建设管理组满意率")


def test_a_missing_font_fails_with_what_to_install() -> None:
    with pytest.raises(FontMissing, match="does not exist"):
        cjk_font("/nowhere/font.ttf")


async def test_without_a_font_the_figures_still_go_out_and_say_why(
    tmp_path: Path, classifier: object
) -> None:
    async with started_world(tmp_path, classifier, stats={"font_file": "/nowhere/x.ttf"}) as world:
        await world.file(LITTER)
        after = len(world.api.sent_to(ADMIN))
        world.api.send_text(ADMIN, "/stats")
        assert "全区" in (await world.api.next_sent(ADMIN, after=after)).text
        assert "缺少中文字体" in (await world.api.next_sent(ADMIN, after=after + 1)).text


async def test_the_weekly_report_reaches_the_office_with_the_trend(world: World) -> None:
    await world.file(LITTER)
    await world.runtime.reports.office.queue_weekly_report()
    office = GROUP_CHATS["office"]
    text = (await world.api.next_sent(office, after=0)).text
    assert "周报" in text and "全区：1 件" in text and "与上周相比：反映 +1 件" in text
    chart = await world.api.next_sent(office, after=1)
    assert chart.photo_file_ids
    job = next(j for j in world.runtime.app.job_queue.jobs() if j.name == "weekly")
    assert job.next_t.weekday() == 0  # Monday, as configured


async def test_the_weekly_report_is_scheduled_on_weekly_day_at_weekly_time(
    tmp_path: Path, classifier: object
) -> None:
    from zoneinfo import ZoneInfo

    from handlers.telegram.jobs import send_weekly_report

    wednesday_evening = {"stats": {"weekly_day": 3, "weekly_time": "18:45"}}
    async with started_world(tmp_path, classifier, **wednesday_evening) as world:
        job = next(j for j in world.runtime.app.job_queue.jobs() if j.name == "weekly")
        assert job.callback is send_weekly_report
        run = job.next_t.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (run.isoweekday(), run.hour, run.minute) == (3, 18, 45)
