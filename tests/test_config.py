"""Configuration: the committed file is valid, and every mistake is named by its key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from settings import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parent.parent


def committed() -> dict[str, Any]:
    return tomllib.loads((ROOT / "config.toml").read_text("utf-8"))


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, base_dir=ROOT)
    return caught.value.problems


def test_committed_config_is_valid_with_seven_groups_and_default_categories() -> None:
    settings = load_settings(ROOT / "config.toml")
    assert settings.group_keys == (
        "office", "supervision", "publicity", "urban", "order", "social", "rural"
    )  # fmt: skip
    assert settings.groups["urban"].name == "城镇建设管理组"
    expected = {
        "litter": "urban",
        "traffic": "order",
        "smoking": "social",
        "street_vending": "urban",
        "illegal_construction": "urban",
        "ads_graffiti": "urban",
        "road_facilities": "urban",
        "public_manners": "publicity",
        "public_security": "order",
        "public_services": "social",
        "rural": "rural",
        "publicity": "publicity",
        "staff_conduct": "supervision",
        "other": "office",
    }
    assert {k: c.group for k, c in settings.categories.items()} == expected
    assert settings.storage_path == ROOT / "data" / "civic.db"


def test_a_category_pointing_at_a_missing_group_names_the_key() -> None:
    raw = committed()
    raw["categories"]["litter"]["group"] = "urbn"
    assert problems_of(raw) == [
        'categories.litter.group: "urbn" is not a group; groups are '
        "office, supervision, publicity, urban, order, social, rural"
    ]


def test_every_problem_is_reported_at_once() -> None:
    raw = committed()
    raw["reports"]["max_per_hour"] = "ten"
    del raw["groups"]["rural"]
    raw["admins"] = ["alice"]
    problems = problems_of(raw)
    assert any(p.startswith("reports.max_per_hour: must be a whole number") for p in problems)
    assert any(p.startswith('categories.rural.group: "rural" is not a group') for p in problems)
    assert any(p.startswith("admins: must be a list") for p in problems)


def test_a_misspelt_key_is_not_silently_ignored() -> None:
    raw = committed()
    raw["reports"]["max_per_hours"] = 5
    assert problems_of(raw)[0].startswith("reports.max_per_hours: unknown key")


def test_a_positive_group_chat_id_is_refused() -> None:
    raw = committed()
    raw["groups"]["urban"]["chat_id"] = 12345
    assert problems_of(raw) == [
        "groups.urban.chat_id: 12345 is a user id; group chat ids are negative"
    ]


def test_a_bad_keyword_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "kw.txt").write_text("乱扔垃圾 3\n垃圾 heavy\n", encoding="utf-8")
    raw = committed()
    raw["categories"]["litter"]["keywords_file"] = str(tmp_path / "kw.txt")
    problem = problems_of(raw)[0]
    assert problem.startswith("categories.litter.keywords: ")
    assert 'kw.txt:2: weight "heavy" is not a number' in problem


def test_a_missing_keyword_file_is_named() -> None:
    raw = committed()
    raw["categories"]["smoking"]["keywords_file"] = "keywords/nope.txt"
    assert problems_of(raw)[0].startswith("categories.smoking.keywords_file: cannot read")


def test_broken_toml_is_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[groups\nname = 1\n", encoding="utf-8")
    result = run_cli("check-config", "--config", str(bad))
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_prints_each_problem_with_its_key_and_fails(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text("utf-8").replace('group = "urban"', 'group = "urbn"', 1)
    bad = tmp_path / "config.toml"
    bad.write_text(text, encoding="utf-8")
    (tmp_path / "keywords").symlink_to(ROOT / "keywords")
    (tmp_path / "quizzes").symlink_to(ROOT / "quizzes")
    (tmp_path / "areas").symlink_to(ROOT / "areas")
    result = run_cli("check-config", "--config", str(bad))
    assert result.returncode == 1
    assert (
        'error: categories.litter.group: "urbn" is not a group; groups are office,' in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_check_config_accepts_the_committed_file() -> None:
    result = run_cli("check-config")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_run_refuses_a_missing_token_in_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env={"BOT_TOKEN": ""})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "BOT_TOKEN is not set" in result.stderr


def test_run_refuses_an_invalid_config_with_the_same_explanation(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text(
        (ROOT / "config.toml").read_text("utf-8").replace("max_per_hour = 10", "max_per_hour = 0"),
        encoding="utf-8",
    )
    (tmp_path / "keywords").symlink_to(ROOT / "keywords")
    (tmp_path / "quizzes").symlink_to(ROOT / "quizzes")
    (tmp_path / "areas").symlink_to(ROOT / "areas")
    result = run_cli("run", "--config", str(bad), env={"BOT_TOKEN": "1:x"})
    assert result.returncode == 1
    assert result.stderr.strip() == "error: reports.max_per_hour: 0 is out of range 1..1000"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=60,
    )


def test_a_broken_question_file_stops_the_bot_with_file_question_and_field(
    tmp_path: Path,
) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "t.toml").write_text(
        '[topic]\nkey = "t"\nname = "测试"\n\n[[questions]]\nid = "t-1"\ndifficulty = 9\n'
        'question = "问？"\noptions = ["甲", "乙"]\ncorrect = [0]\nexplanation = "因为"\n'
        'source = "某法"\n',
        encoding="utf-8",
    )
    text = (ROOT / "config.toml").read_text("utf-8")
    text = text.replace('bank_dir = "quizzes/bank"', f'bank_dir = "{bank}"')
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    (tmp_path / "areas").symlink_to(ROOT / "areas")
    (tmp_path / "keywords").symlink_to(ROOT / "keywords")
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 1
    assert 't.toml: question "t-1": difficulty' in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_port_comes_from_the_demo_table() -> None:
    raw = committed()
    raw["demo"]["port"] = 8181
    assert parse_settings(raw, base_dir=ROOT).demo_port == 8181
    raw["demo"]["port"] = 70000
    assert problems_of(raw)[0].startswith("demo.port:")


def test_groups_are_those_configured_in_the_order_written() -> None:
    raw = committed()
    raw["groups"]["sanitation"] = {"name": "环卫组"}
    raw["categories"]["litter"]["group"] = "sanitation"
    settings = parse_settings(raw, base_dir=ROOT)
    assert settings.group_keys == (
        "office", "supervision", "publicity", "urban", "order", "social", "rural", "sanitation"
    )  # fmt: skip
    assert settings.categories["litter"].group == "sanitation"


def test_the_committed_roles_are_todays_groups() -> None:
    roles = load_settings(ROOT / "config.toml").roles
    assert (roles.escalation, roles.weekly_report, roles.notices) == (
        "supervision",
        "office",
        "office",
    )


def test_a_role_naming_a_missing_group_names_the_key() -> None:
    raw = committed()
    raw["roles"] = {"escalation": "supervison"}
    assert problems_of(raw) == [
        'roles.escalation: "supervison" is not a group; groups are '
        "office, supervision, publicity, urban, order, social, rural"
    ]


def test_a_missing_role_whose_default_group_is_gone_names_the_key() -> None:
    raw = committed()
    raw.pop("roles", None)
    del raw["groups"]["supervision"]
    raw["categories"]["staff_conduct"]["group"] = "office"
    assert problems_of(raw) == [
        'roles.escalation: missing, and its default group "supervision" is not configured; '
        "groups are office, publicity, urban, order, social, rural"
    ]


def test_an_unknown_role_is_named() -> None:
    raw = committed()
    raw["roles"] = {"escalate": "office"}
    assert problems_of(raw)[0].startswith("roles.escalate: unknown key; expected one of")


def test_a_bad_group_key_is_named() -> None:
    raw = committed()
    raw["groups"]["Sanitation-Team"] = {"name": "环卫组"}
    assert problems_of(raw) == [
        "groups.Sanitation-Team: group keys are a lowercase letter, then up to 31 lowercase "
        "letters, digits or _"
    ]


def test_at_least_one_group_is_required() -> None:
    raw = committed()
    raw["groups"] = {}
    assert "groups: at least one group must be configured" in problems_of(raw)


def test_check_config_names_a_bad_role(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text("utf-8")
    text = text.replace('escalation = "supervision"', 'escalation = "supervison"')
    bad = tmp_path / "config.toml"
    bad.write_text(text, encoding="utf-8")
    (tmp_path / "keywords").symlink_to(ROOT / "keywords")
    (tmp_path / "quizzes").symlink_to(ROOT / "quizzes")
    (tmp_path / "areas").symlink_to(ROOT / "areas")
    result = run_cli("check-config", "--config", str(bad))
    assert result.returncode == 1
    assert 'error: roles.escalation: "supervison" is not a group; groups are office,' in (
        result.stderr
    )
