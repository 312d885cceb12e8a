"""[wechat]: absent means Telegram only; every mistake is named by its key, secrets come
from the environment only."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from settings import ConfigError, MenuButton, parse_settings
from tests.test_config import ROOT, committed, run_cli

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SECRETS = {
    "WECHAT_TOKEN": "civictoken",
    "WECHAT_APP_SECRET": "s3cret",
    "WECHAT_ENCODING_AES_KEY": AES_KEY,
}


def with_wechat(**table: Any) -> dict[str, Any]:
    raw = committed()
    raw["wechat"] = {"app_id": "wx2c2769f8efd9abc2", **table}
    return raw


def problems_of(raw: dict[str, Any], env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, base_dir=ROOT, environ=env)
    return caught.value.problems


def test_without_a_wechat_table_there_is_no_wechat_channel() -> None:
    assert parse_settings(committed(), base_dir=ROOT, environ={}).wechat is None


def test_a_wechat_table_with_its_secrets_gives_the_channel_with_defaults() -> None:
    wechat = parse_settings(with_wechat(), base_dir=ROOT, environ=SECRETS).wechat
    assert wechat is not None
    assert (wechat.app_id, wechat.token, wechat.app_secret, wechat.encoding_aes_key) == (
        "wx2c2769f8efd9abc2",
        "civictoken",
        "s3cret",
        AES_KEY,
    )
    assert (wechat.api_base_url, wechat.host, wechat.port, wechat.path) == (
        "https://api.weixin.qq.com",
        "127.0.0.1",
        8081,
        "/wechat",
    )
    assert (wechat.plaintext, wechat.reply_budget_seconds) == (False, 4.0)
    assert "s3cret" not in repr(wechat) and AES_KEY not in repr(wechat)


def test_a_missing_token_is_named() -> None:
    env = {k: v for k, v in SECRETS.items() if k != "WECHAT_TOKEN"}
    assert problems_of(with_wechat(), env) == [
        "wechat.token: missing: set WECHAT_TOKEN (服务器配置 Token) in the environment"
    ]


def test_a_missing_app_secret_is_named() -> None:
    env = {k: v for k, v in SECRETS.items() if k != "WECHAT_APP_SECRET"}
    assert problems_of(with_wechat(), env) == [
        "wechat.app_secret: missing: set WECHAT_APP_SECRET in the environment"
    ]


def test_an_aes_key_of_the_wrong_length_is_named() -> None:
    env = {**SECRETS, "WECHAT_ENCODING_AES_KEY": AES_KEY[:-1]}
    assert problems_of(with_wechat(), env) == [
        "wechat.encoding_aes_key: WECHAT_ENCODING_AES_KEY must be 43 characters of base64 "
        "without padding (the EncodingAESKey of 服务器配置); it has 42"
    ]


def test_an_aes_key_that_is_not_base64_is_named() -> None:
    env = {**SECRETS, "WECHAT_ENCODING_AES_KEY": "!" * 43}
    assert problems_of(with_wechat(), env)[0].startswith("wechat.encoding_aes_key: ")


def test_no_aes_key_needs_plaintext_set() -> None:
    env = {k: v for k, v in SECRETS.items() if k != "WECHAT_ENCODING_AES_KEY"}
    [problem] = problems_of(with_wechat(), env)
    assert problem.startswith("wechat.plaintext: no WECHAT_ENCODING_AES_KEY is set")
    wechat = parse_settings(with_wechat(plaintext=True), base_dir=ROOT, environ=env).wechat
    assert wechat is not None and wechat.encoding_aes_key is None and wechat.plaintext


def test_a_secret_written_in_the_file_is_refused() -> None:
    assert problems_of(with_wechat(token="civictoken"), SECRETS) == [
        "wechat.token: secrets are not written here: set WECHAT_TOKEN in the environment"
    ]


def test_a_bad_app_id_and_a_misspelt_key_are_named() -> None:
    raw = with_wechat(prot=8082)
    raw["wechat"]["app_id"] = "2c2769f8efd9abc2"
    problems = problems_of(raw, SECRETS)
    assert problems[0].startswith("wechat.prot: unknown key")
    assert problems[1].startswith('wechat.app_id: "2c2769f8efd9abc2" is not an AppID')


def test_a_template_the_bot_does_not_send_is_named() -> None:
    raw = with_wechat(templates={"case_update": "tpl-1", "case_updat": "tpl-2"})
    assert problems_of(raw, SECRETS) == [
        "wechat.templates.case_updat: unknown template; the bot sends case_update"
    ]


def district_menu() -> list[dict[str, Any]]:
    return [
        {"name": "怎么反映", "key": "how_to_report"},
        {"name": "我的反映", "key": "my_reports"},
        {
            "name": "文明参与",
            "sub_button": [
                {"name": "每日答题", "key": "daily_quiz"},
                {"name": "支持率调查", "key": "survey"},
            ],
        },
    ]


def test_the_district_menu_is_read_as_buttons() -> None:
    wechat = parse_settings(
        with_wechat(menu=district_menu()), base_dir=ROOT, environ=SECRETS
    ).wechat
    assert wechat is not None
    assert wechat.menu[0] == MenuButton("怎么反映", key="how_to_report")
    assert wechat.menu[2].sub_buttons == (
        MenuButton("每日答题", key="daily_quiz"),
        MenuButton("支持率调查", key="survey"),
    )


def test_a_fourth_top_button_is_named() -> None:
    menu = [*district_menu(), {"name": "联系我们", "key": "contact"}]
    assert problems_of(with_wechat(menu=menu), SECRETS) == [
        "wechat.menu: 4 buttons; WeChat allows at most 3"
    ]


def test_a_sixth_sub_button_is_named() -> None:
    menu = district_menu()
    menu[2]["sub_button"] = [{"name": f"第{n}项", "key": f"k{n}"} for n in range(6)]
    assert problems_of(with_wechat(menu=menu), SECRETS) == [
        "wechat.menu[3].sub_button: 6 buttons; WeChat allows at most 5"
    ]


def test_a_top_button_name_over_16_bytes_is_named() -> None:
    menu = district_menu()
    menu[0]["name"] = "怎么反映问题"  # 6 characters, 18 bytes
    assert problems_of(with_wechat(menu=menu), SECRETS) == [
        'wechat.menu[1].name: "怎么反映问题" is 18 bytes; WeChat allows 16 (3 a Chinese character)'
    ]


def test_a_button_without_key_or_sub_buttons_and_a_repeated_key_are_named() -> None:
    menu = district_menu()
    del menu[0]["key"]
    menu[2]["sub_button"][1]["key"] = "daily_quiz"
    assert problems_of(with_wechat(menu=menu), SECRETS) == [
        "wechat.menu[1].key: missing",
        'wechat.menu[3].sub_button[2].key: "daily_quiz" is already another button\'s key',
    ]


def test_the_commented_example_in_the_committed_file_is_valid_once_uncommented() -> None:
    text = (ROOT / "config.toml").read_text("utf-8")
    example = text[text.index("# [wechat]") :]
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and not line.startswith("# #") else line
        for line in example.splitlines()
        if line.startswith("# ") or not line.strip()
    )
    raw = committed()
    raw["wechat"] = tomllib.loads(uncommented)["wechat"]
    wechat = parse_settings(raw, base_dir=ROOT, environ=SECRETS).wechat
    assert wechat is not None
    names = [b.name for b in wechat.menu] + [s.name for b in wechat.menu for s in b.sub_buttons]
    assert {"怎么反映", "我的反映", "每日答题", "支持率调查"} <= set(names)


def test_check_config_names_a_missing_wechat_token(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text("utf-8")
    text += '\n[wechat]\napp_id = "wx2c2769f8efd9abc2"\n'
    bad = tmp_path / "config.toml"
    bad.write_text(text, encoding="utf-8")
    (tmp_path / "keywords").symlink_to(ROOT / "keywords")
    (tmp_path / "quizzes").symlink_to(ROOT / "quizzes")
    (tmp_path / "areas").symlink_to(ROOT / "areas")
    env = {**SECRETS, "WECHAT_TOKEN": ""}
    result = run_cli("check-config", "--config", str(bad), env=env)
    assert result.returncode == 1
    assert "error: wechat.token: missing: set WECHAT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_tells_the_wechat_mode(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text("utf-8")
    text += '\n[wechat]\napp_id = "wx2c2769f8efd9abc2"\n'
    good = tmp_path / "config.toml"
    good.write_text(text, encoding="utf-8")
    (tmp_path / "keywords").symlink_to(ROOT / "keywords")
    (tmp_path / "quizzes").symlink_to(ROOT / "quizzes")
    (tmp_path / "areas").symlink_to(ROOT / "areas")
    result = run_cli("check-config", "--config", str(good), env=SECRETS)
    assert result.returncode == 0, result.stderr
    assert "WeChat wx2c2769f8efd9abc2: safe mode (encrypted)" in result.stdout
