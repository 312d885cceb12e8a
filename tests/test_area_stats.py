"""/stats per area: each area's figures and the 通报 ranking (small areas unranked), and
the map of the district coloured by open cases, with /stats and in the weekly report."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from matplotlib import image

from dialogue import texts
from handlers.telegram.area_map import DPI, SIZE_INCHES, area_map
from simulator.server import SentMessage
from tests.conftest import started_world
from tests.places import HERE
from tests.test_area_leaders import ELSEWHERE, filed_at
from tests.test_wecom_delivery import WANG, Post, post  # noqa: F401 (the fixture)
from tests.world import ADMIN, GROUP_CHATS, World, settings_for_tests

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def ranked(tmp_path: Path, classifier: object) -> AsyncIterator[World]:
    """Areas ranked from 2 cases: 人民广场社区 has 2, 中山公园社区 1."""
    async with started_world(tmp_path, classifier, areas={"min_cases": 2}) as world:
        await filed_at(world, HERE)
        await filed_at(world, HERE)
        await filed_at(world, ELSEWHERE)
        yield world


async def stats_replies(world: World, count: int) -> list[SentMessage]:
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/stats 7")
    return [await world.api.next_sent(ADMIN, after=after + n) for n in range(count)]


def decoded(png: bytes) -> object:
    return image.imread(io.BytesIO(png), format="png")


async def test_stats_ranks_the_areas_and_leaves_a_small_area_unranked(ranked: World) -> None:
    [text, *_] = await stats_replies(ranked, 1)
    lines = text.text.splitlines()
    assert "— 按区域（2 件及以上参与排名）—" in lines
    [first] = [line for line in lines if "人民广场社区：" in line]
    assert first.startswith("1. 人民广场社区：2 件｜按时受理 0%｜办结 0%")
    [small] = [line for line in lines if "中山公园社区：" in line]
    assert small.startswith("（不排名）中山公园社区：1 件")
    assert any(line.startswith("无反映：") and "滨江社区" in line for line in lines)
    assert len(text.text) <= 4096


async def test_stats_sends_the_area_map_after_the_chart(ranked: World) -> None:
    _, chart, area_map = await stats_replies(ranked, 3)
    assert chart.photo_file_ids and area_map.photo_file_ids
    assert area_map.photo_file_ids != chart.photo_file_ids


def test_the_map_is_a_png_of_the_set_size_with_something_drawn(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path / "db")
    png = area_map(
        settings.areas,
        {"renmin": 3, "renminlu": 1},
        texts.AREA_MAP_TITLE.format(date="2026-12-02"),
        texts.AREA_MAP_LEGEND,
        texts.AREA_MAP_LABEL,
    )
    assert png.startswith(PNG)
    pixels = decoded(png)
    width, height = (round(side * DPI) for side in SIZE_INCHES)
    assert pixels.shape[:2] == (height, width)  # type: ignore[attr-defined]
    colours = {tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}  # type: ignore[attr-defined]
    assert len(colours) > 20  # polygons, a colour scale, labels: not a blank canvas


async def test_the_weekly_report_has_the_area_ranking_and_the_map(ranked: World) -> None:
    office = GROUP_CHATS["office"]
    await ranked.runtime.reports.office.queue_weekly_report()
    text = await ranked.api.next_sent(office, after=0)
    assert "周报" in text.text and "1. 人民广场社区：2 件" in text.text
    chart = await ranked.api.next_sent(office, after=1)
    area_map = await ranked.api.next_sent(office, after=2)
    assert chart.photo_file_ids and area_map.photo_file_ids


async def test_the_weekly_report_on_wecom_has_the_ranking_and_the_map_image(
    post: Post,  # noqa: F811
) -> None:
    await post.file("人民广场东侧垃圾桶满了")  # placed in 人民广场社区 by the name
    post.later(1)  # this clock stands still: the case is filed before the report's end
    await post.reports.office.queue_weekly_report()
    report = await post.wecom.next_sent(WANG, after=0)
    assert "（不排名）人民广场社区：1 件" in (report.text or "")
    picture = await post.wecom.next_sent(WANG, after=1)
    assert picture.msgtype == "image"
    media = post.wecom.media(str(picture.payload["media_id"]))
    assert media is not None and media.data.startswith(PNG)
    [row] = await post.settled("weekly_report")
    assert row["status"] == "sent"
