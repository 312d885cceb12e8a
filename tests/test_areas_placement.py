"""Where a report happened: a point in a polygon or on a road section, an address by the
names it mentions; the checks an areas file must pass; the area a filed case keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports.areas import (
    COMMUNITY,
    ROAD,
    VILLAGE,
    Area,
    Areas,
    Geometry,
    in_polygon,
    line_distance_m,
    load_areas,
    parse_areas,
)
from tests.config_copy import link_data_folders
from tests.places import HERE, report_at
from tests.test_areas_model import feature, square
from tests.world import CONFIRM, RESIDENT, World

ROOT = Path(__file__).resolve().parent.parent
DEMO = load_areas(ROOT / "areas" / "demo.geojson")
# A square of 0.01° with a hole of 0.002° in its middle.
OUTER = ((0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01), (0.0, 0.0))
HOLE = ((0.004, 0.004), (0.006, 0.004), (0.006, 0.006), (0.004, 0.006), (0.004, 0.004))


def polygon_area(key: str, *polygons: Any, kind: str = COMMUNITY) -> Area:
    return Area(key, key, kind, Geometry(polygons=tuple(polygons)))


def test_a_point_inside_a_polygon_is_in_it_and_one_outside_is_not() -> None:
    assert in_polygon((OUTER,), 0.002, 0.002)
    assert not in_polygon((OUTER,), 0.012, 0.002)


def test_a_point_in_a_hole_is_not_in_the_polygon() -> None:
    assert not in_polygon((OUTER, HOLE), 0.005, 0.005)
    assert in_polygon((OUTER, HOLE), 0.003, 0.005)


def test_a_point_in_any_part_of_a_multipolygon_is_in_the_area() -> None:
    far = tuple((x + 1, y) for x, y in OUTER)
    area = polygon_area("a", (OUTER,), (far,))
    assert area.contains(0.005, 1.005) and area.contains(0.005, 0.005)
    assert not area.contains(0.005, 0.5)


def test_a_point_within_half_the_width_of_a_road_section_is_on_it() -> None:
    line = ((121.0, 31.0), (121.01, 31.0))
    road = Area("r", "人民路", ROAD, Geometry(line=line), width_m=40)
    # 0.00015° of latitude is about 16.7 m: on a 40 m road; 0.0003° (33 m) is off it.
    assert road.contains(31.00015, 121.005) and not road.contains(31.0003, 121.005)
    assert line_distance_m(line, 31.0, 121.02) == pytest.approx(953, rel=0.01)  # past its end


def test_a_point_on_a_road_section_in_a_community_belongs_to_the_road_section() -> None:
    on_road = DEMO.at(31.2321, 121.4700)  # 人民路, the border of 人民广场 and 学府
    assert on_road is not None and on_road.key == "renminlu"
    community = DEMO.community_at(31.2321, 121.4700)
    assert community is not None and community.kind == COMMUNITY


def test_a_point_outside_every_area_has_none() -> None:
    assert DEMO.at(31.19, 121.43) is None


def test_an_address_is_placed_by_the_longest_name_it_mentions() -> None:
    assert DEMO.named_in("幸福路菜市场门口").key == "xingfuli"  # not 幸福路, the road
    assert DEMO.named_in("幸福路 88 号").key == "xingfulu"
    assert DEMO.named_in("人民广场社区东门").key == "renmin"
    assert DEMO.named_in("张庄村口").kind == VILLAGE
    assert DEMO.named_in("火星基地") is None


def test_coordinates_win_over_the_words_of_the_address() -> None:
    assert DEMO.place(31.25, 121.4737, "人民广场").key == "zhangzhuang"
    assert DEMO.place(None, None, None, "人民广场东侧垃圾桶满了").key == "renmin"
    assert DEMO.place(31.19, 121.43, "人民广场") is None


def test_no_areas_place_nothing() -> None:
    assert Areas().place(31.2304, 121.4737, "人民广场") is None


# --- the checks of an areas file --------------------------------------------------------


def problems(*features: dict[str, Any]) -> str:
    _, found = parse_areas({"type": "FeatureCollection", "features": list(features)}, "f")
    return "\n".join(found)


def test_an_open_ring_is_refused_naming_the_feature() -> None:
    ring = square(121.0, 31.0, 121.01, 31.01)[0][:-1]
    found = problems(feature("a", geometry={"type": "Polygon", "coordinates": [ring]}))
    assert 'feature 0 ("a") geometry ring 0: ring is not closed' in found


def test_latitude_before_longitude_is_refused_with_a_hint() -> None:
    swapped = [[[lat, lon] for lon, lat in square(121.0, 31.0, 121.01, 31.01)[0]]]
    found = problems(feature("a", geometry={"type": "Polygon", "coordinates": swapped}))
    assert "latitude 121.0 is out of range -90..90 (longitude comes first" in found


def test_a_longitude_out_of_range_is_refused() -> None:
    far = square(181.0, 31.0, 181.01, 31.01)
    found = problems(feature("a", geometry={"type": "Polygon", "coordinates": far}))
    assert 'feature 0 ("a") geometry ring 0: position 0: longitude 181.0 is out of range' in found


def test_two_areas_with_one_key_are_refused() -> None:
    found = problems(feature("a"), feature("a", name="别的社区"))
    assert 'feature 1 ("a"): property "key": "a" is also the key of feature 0 ("a")' in found


def test_two_communities_overlapping_are_refused() -> None:
    shifted = {"type": "Polygon", "coordinates": square(121.005, 31.005, 121.02, 31.02)}
    found = problems(feature("a"), feature("b", geometry=shifted))
    assert 'feature 1 ("b"): overlaps feature 0 ("a"), another 社区' in found


def test_the_same_polygon_twice_is_an_overlap() -> None:
    assert "overlaps" in problems(feature("a"), feature("b"))


def test_communities_sharing_a_border_and_a_village_over_a_community_are_accepted() -> None:
    beside = {"type": "Polygon", "coordinates": square(121.01, 31.0, 121.02, 31.01)}
    assert problems(feature("a"), feature("b", geometry=beside), feature("c", kind=VILLAGE)) == ""


def test_a_community_filling_another_ones_hole_is_accepted() -> None:
    with_hole = {
        "type": "Polygon",
        "coordinates": [
            square(121.0, 31.0, 121.01, 31.01)[0],
            square(121.004, 31.004, 121.006, 31.006)[0],
        ],
    }
    inside = {"type": "Polygon", "coordinates": square(121.004, 31.004, 121.006, 31.006)}
    assert problems(feature("a", geometry=with_hole), feature("b", geometry=inside)) == ""


def test_check_config_names_the_broken_feature(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "areas.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties":'
        ' {"key": "a", "name": "甲社区", "kind": "社区"}, "geometry": {"type": "Polygon",'
        ' "coordinates": [[[31.0, 121.0], [31.0, 121.01], [31.01, 121.01], [31.0, 121.0]]]}}]}',
        encoding="utf-8",
    )
    config = (
        (ROOT / "config.toml")
        .read_text("utf-8")
        .replace('file = "areas/demo.geojson"', f'file = "{bad}"')
    )
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    link_data_folders(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bot.py"),
            "check-config",
            "--config",
            str(tmp_path / "config.toml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert 'feature 0 ("a") geometry ring 0: position 0: latitude 121.0' in result.stderr


# --- the area a case keeps ---------------------------------------------------------------


async def area_of_case(world: World) -> str | None:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT area FROM reports ORDER BY id DESC LIMIT 1")
    return next(iter(rows))[0]


async def test_a_report_sent_with_a_location_keeps_the_community_it_happened_in(
    world: World,
) -> None:
    card = await report_at(world, RESIDENT, HERE)
    await world.press(RESIDENT, card, CONFIRM)
    await world.wait_text(card, "工单号")
    assert await area_of_case(world) == "renmin"


async def test_a_report_naming_a_place_without_coordinates_keeps_that_area(world: World) -> None:
    await world.file("张庄村口的垃圾桶满了好几天没人清运")
    assert await area_of_case(world) == "zhangzhuang"


async def test_a_report_with_no_place_has_no_area(world: World) -> None:
    await world.file("小区东门垃圾桶满了好几天没人清运")
    assert await area_of_case(world) is None
