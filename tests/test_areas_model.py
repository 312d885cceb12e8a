"""The areas file: loading it, and every problem named by feature and property."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from reports.areas import COMMUNITY, ROAD, VILLAGE, load_areas
from settings import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "areas" / "demo.geojson"


def square(w: float, s: float, e: float, n: float) -> list[list[list[float]]]:
    return [[[w, s], [e, s], [e, n], [w, n], [w, s]]]


def feature(key: str, kind: str = COMMUNITY, **props: Any) -> dict[str, Any]:
    geometry = props.pop("geometry", None) or {
        "type": "Polygon",
        "coordinates": square(121.0, 31.0, 121.01, 31.01),
    }
    return {
        "type": "Feature",
        "properties": {"key": key, "name": props.pop("name", key + "社区"), "kind": kind, **props},
        "geometry": geometry,
    }


def write(tmp_path: Path, *features: dict[str, Any]) -> Path:
    path = tmp_path / "areas.geojson"
    doc = {"type": "FeatureCollection", "features": list(features)}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def problems_of(path: Path) -> str:
    with pytest.raises(ConfigError) as exc:
        load_areas(path)
    return "\n".join(exc.value.problems)


def test_the_demo_district_has_communities_villages_and_road_sections() -> None:
    areas = load_areas(DEMO)
    kinds = [a.kind for a in areas]
    assert kinds.count(COMMUNITY) == 8 and kinds.count(VILLAGE) == 4 and kinds.count(ROAD) == 3
    assert [a.kind for a in areas.communities] == [COMMUNITY] * 8 + [VILLAGE] * 4
    assert all(a.population and a.population >= 1000 for a in areas.communities)
    assert all(a.width_m and not a.population for a in areas.roads)
    assert areas.get("renminlu").leaders[0].name == "王副区长"
    assert areas.get("nowhere") is None


def test_the_places_the_tests_and_the_demo_use_fall_inside_an_area() -> None:
    areas = load_areas(DEMO)
    assert areas.at(31.2304, 121.4737).name == "人民广场社区"
    assert areas.at(31.2307, 121.4737).name == "人民广场社区"
    assert areas.at(31.25, 121.4737).name == "张庄村"
    for lat, lon in [(31.2338, 121.479), (31.2271, 121.4682), (31.2352, 121.4701)]:
        assert areas.at(lat, lon) is not None


def test_the_committed_config_loads_the_demo_areas() -> None:
    assert len(load_settings(ROOT / "config.toml").areas) == 15


def committed_config(**areas: Any) -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    raw["areas"] = areas
    return raw


def test_no_areas_file_means_no_areas() -> None:
    settings = parse_settings(committed_config(), base_dir=ROOT)
    assert not settings.areas and settings.areas.communities == ()
    assert settings.areas.at(31.2304, 121.4737) is None


def test_a_missing_property_is_named_with_its_feature(tmp_path: Path) -> None:
    bad = feature("renmin", kind="小区")
    problems = problems_of(write(tmp_path, bad))
    assert 'feature 0 ("renmin"): property "kind": must be one of 社区, 村, 路段' in problems


def test_a_road_section_needs_its_width(tmp_path: Path) -> None:
    line = {"type": "LineString", "coordinates": [[121.0, 31.0], [121.01, 31.0]]}
    problems = problems_of(write(tmp_path, feature("renminlu", kind=ROAD, geometry=line)))
    assert 'feature 0 ("renminlu"): property "width_m"' in problems


def test_a_population_must_be_a_whole_number(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, feature("a", population="many")))
    assert 'feature 0 ("a"): property "population"' in problems


def test_a_bad_areas_file_fails_the_config_naming_the_feature(tmp_path: Path) -> None:
    areas = write(tmp_path, feature("a", kind="小区"))
    with pytest.raises(ConfigError) as exc:
        parse_settings(committed_config(file=str(areas)), base_dir=ROOT)
    assert any(p.startswith("areas.file:") and 'feature 0 ("a")' in p for p in exc.value.problems)
