"""[wecom] and the groups' WeCom recipients: absent means no WeCom; every mistake is named by
its key; secrets come from the environment only."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from settings import ConfigError, parse_settings
from tests.config_copy import link_data_folders
from tests.test_config import ROOT, committed, run_cli

AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SECRETS = {
    "WECOM_SECRET": "app-s3cret",
    "WECOM_TOKEN": "QDG6eK",
    "WECOM_ENCODING_AES_KEY": AES_KEY,
}


def with_wecom(**table: Any) -> dict[str, Any]:
    raw = committed()
    raw["wecom"] = {"corp_id": "ww5823bf96d3bd56c7", "agent_id": 1000002, **table}
    return raw


def with_group(raw: dict[str, Any], group: str = "urban", **fields: Any) -> dict[str, Any]:
    raw["groups"][group].update(fields)
    return raw


def problems_of(raw: dict[str, Any], env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, base_dir=ROOT, environ=env)
    return caught.value.problems


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in SECRETS.items() if k != name}


# --- [wecom]


def test_without_a_wecom_table_there_is_no_wecom_and_no_group_is_on_it() -> None:
    settings = parse_settings(committed(), base_dir=ROOT, environ={})
    assert settings.wecom is None
    assert not any(group.on_wecom for group in settings.groups.values())


def test_a_wecom_table_with_its_secrets_gives_the_app_with_defaults() -> None:
    wecom = parse_settings(with_wecom(), base_dir=ROOT, environ=SECRETS).wecom
    assert wecom is not None
    assert (wecom.corp_id, wecom.agent_id) == ("ww5823bf96d3bd56c7", 1000002)
    assert (wecom.secret, wecom.token, wecom.encoding_aes_key) == ("app-s3cret", "QDG6eK", AES_KEY)
    assert (wecom.api_base_url, wecom.host, wecom.port, wecom.path) == (
        "https://qyapi.weixin.qq.com",
        "127.0.0.1",
        8083,
        "/wecom",
    )
    assert (wecom.reply_budget_seconds, wecom.note_minutes, wecom.admins) == (4.0, 10, ())
    assert not {"app-s3cret", "QDG6eK", AES_KEY} & set(repr(wecom).split("'"))


def test_the_callback_server_the_budget_the_note_window_and_the_admins_are_read() -> None:
    raw = with_wecom(
        api_base_url="http://127.0.0.1:8084",
        host="0.0.0.0",
        port=0,
        path="/wecom/callback",
        reply_budget_seconds=3.5,
        note_minutes=30,
        admins=["zhangsan", "lisi"],
    )
    wecom = parse_settings(raw, base_dir=ROOT, environ=SECRETS).wecom
    assert wecom is not None
    assert (wecom.api_base_url, wecom.host, wecom.port, wecom.path) == (
        "http://127.0.0.1:8084",
        "0.0.0.0",
        0,
        "/wecom/callback",
    )
    assert (wecom.reply_budget_seconds, wecom.note_minutes) == (3.5, 30)
    assert wecom.admins == ("zhangsan", "lisi")


@pytest.mark.parametrize(
    ("missing", "problem"),
    [
        ("WECOM_SECRET", "wecom.secret: missing: set WECOM_SECRET (the app's Secret)"),
        ("WECOM_TOKEN", "wecom.token: missing: set WECOM_TOKEN (接收消息 Token)"),
        (
            "WECOM_ENCODING_AES_KEY",
            "wecom.encoding_aes_key: missing: set WECOM_ENCODING_AES_KEY (接收消息 EncodingAESKey)",
        ),
    ],
)
def test_each_missing_secret_is_named(missing: str, problem: str) -> None:
    [found] = problems_of(with_wecom(), without(missing))
    assert found.startswith(problem)


def test_an_aes_key_of_the_wrong_length_is_named() -> None:
    env = {**SECRETS, "WECOM_ENCODING_AES_KEY": AES_KEY[:-1]}
    assert problems_of(with_wecom(), env) == [
        "wecom.encoding_aes_key: WECOM_ENCODING_AES_KEY must be 43 characters of base64 "
        "without padding (the EncodingAESKey of 接收消息); it has 42"
    ]


def test_a_token_wecom_would_not_accept_is_named() -> None:
    env = {**SECRETS, "WECOM_TOKEN": "no spaces allowed"}
    [problem] = problems_of(with_wecom(), env)
    assert problem.startswith("wecom.token: WECOM_TOKEN must be 3 to 32 letters or digits")


def test_a_secret_written_in_the_file_is_refused() -> None:
    assert problems_of(with_wecom(secret="app-s3cret"), SECRETS) == [
        "wecom.secret: secrets are not written here: set WECOM_SECRET in the environment"
    ]


@pytest.mark.parametrize(
    ("agent_id", "problem"),
    [
        ("1000002", "wecom.agent_id: must be a whole number, not '1000002'"),
        (0, "wecom.agent_id: 0 is out of range 1..2147483647"),
        (True, "wecom.agent_id: must be a whole number, not True"),
    ],
)
def test_a_bad_agent_id_is_named(agent_id: object, problem: str) -> None:
    assert problems_of(with_wecom(agent_id=agent_id), SECRETS) == [problem]


def test_a_missing_corp_id_and_agent_id_are_named() -> None:
    raw = committed()
    raw["wecom"] = {}
    assert problems_of(raw, SECRETS) == ["wecom.corp_id: missing", "wecom.agent_id: missing"]


def test_a_corp_id_that_is_not_one_and_a_misspelt_key_are_named() -> None:
    problems = problems_of(with_wecom(corp_id="ww 5823", agnet_id=5), SECRETS)
    assert problems[0].startswith("wecom.agnet_id: unknown key")
    assert problems[1].startswith('wecom.corp_id: "ww 5823" is not a corp id')


def test_admins_must_be_userids() -> None:
    assert problems_of(with_wecom(admins=[12345]), SECRETS) == [
        'wecom.admins: must be a list of WeCom userids, e.g. ["zhangsan"]'
    ]


def test_a_path_without_its_slash_and_a_budget_over_wecoms_5_s_are_named() -> None:
    assert problems_of(with_wecom(path="wecom", reply_budget_seconds=5), SECRETS) == [
        'wecom.path: "wecom" must start with /',
        "wecom.reply_budget_seconds: 5 is out of range 0.001..4.5",
    ]


def test_the_port_of_the_wechat_callback_is_refused() -> None:
    raw = with_wecom(port=8081)
    raw["wechat"] = {"app_id": "wx2c2769f8efd9abc2"}
    env = {
        **SECRETS,
        "WECHAT_TOKEN": "civictoken",
        "WECHAT_APP_SECRET": "s3cret",
        "WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    }
    assert problems_of(raw, env) == [
        "wecom.port: 8081 is [wechat] port too; the two callbacks need a port each"
    ]


def test_the_callback_port_in_the_environment_wins_over_the_files() -> None:
    wecom = parse_settings(
        with_wecom(port=8083), base_dir=ROOT, environ={**SECRETS, "WECOM_PORT": "8183"}
    ).wecom
    assert wecom is not None and wecom.port == 8183


# --- the groups' WeCom recipients


def test_a_group_with_a_party_a_tag_or_users_is_on_wecom() -> None:
    raw = with_group(with_wecom(), "urban", wecom_party=12, wecom_tag=3)
    raw = with_group(raw, "order", wecom_users=["wangwu", "zhaoliu"])
    groups = parse_settings(raw, base_dir=ROOT, environ=SECRETS).groups
    assert (groups["urban"].wecom_party, groups["urban"].wecom_tag) == (12, 3)
    assert groups["order"].wecom_users == ("wangwu", "zhaoliu")
    assert groups["urban"].on_wecom and groups["order"].on_wecom
    assert not groups["office"].on_wecom


def test_a_group_naming_wecom_recipients_without_a_wecom_table_is_named() -> None:
    raw = with_group(committed(), "urban", wecom_party=12)
    assert problems_of(raw, {}) == [
        "groups.urban: names WeCom recipients but there is no [wecom] table (the app)"
    ]


def test_an_empty_users_list_is_named() -> None:
    raw = with_group(with_wecom(), "urban", wecom_users=[])
    assert problems_of(raw, SECRETS) == [
        "groups.urban.wecom_users: an empty list; name at least one userid or leave it out"
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"wecom_party": "12"}, "groups.urban.wecom_party: must be a whole number, not '12'"),
        ({"wecom_tag": 0}, "groups.urban.wecom_tag: 0 is out of range 1..2147483647"),
        (
            {"wecom_users": "wangwu"},
            'groups.urban.wecom_users: must be a list of WeCom userids, e.g. ["zhangsan"]',
        ),
        ({"wecom_robot_key": ""}, "groups.urban.wecom_robot_key: must be a non-empty string"),
    ],
)
def test_a_bad_wecom_recipient_is_named(fields: dict[str, Any], problem: str) -> None:
    assert problems_of(with_group(with_wecom(), "urban", **fields), SECRETS) == [problem]


def test_a_robot_key_is_read_from_the_group_and_the_environment_overrides_it() -> None:
    raw = with_group(with_wecom(), "urban", wecom_party=12, wecom_robot_key="key-in-file")
    raw = with_group(raw, "order", wecom_tag=3)
    env = {**SECRETS, "WECOM_ROBOT_ORDER": "key-from-env"}
    groups = parse_settings(raw, base_dir=ROOT, environ=env).groups
    assert groups["urban"].wecom_robot_key == "key-in-file"
    assert groups["order"].wecom_robot_key == "key-from-env"
    assert "key-in-file" not in repr(groups["urban"])
    env = {**env, "WECOM_ROBOT_URBAN": "key-from-env-too"}
    groups = parse_settings(raw, base_dir=ROOT, environ=env).groups
    assert groups["urban"].wecom_robot_key == "key-from-env-too"


# --- the committed example and check-config


def uncommented_wecom_example() -> dict[str, Any]:
    text = (ROOT / "config.toml").read_text("utf-8")
    example = text[text.index("# [wecom]") :].split("\n\n")[0]  # up to the next blank line
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and not line.startswith("# #") else line
        for line in example.splitlines()
        if line.startswith("# ") or not line.strip()
    )
    return tomllib.loads(uncommented)


def test_the_commented_example_in_the_committed_file_is_valid_once_uncommented() -> None:
    raw = with_group(committed(), "urban", wecom_party=2)
    raw["wecom"] = uncommented_wecom_example()["wecom"]
    settings = parse_settings(raw, base_dir=ROOT, environ=SECRETS)
    assert settings.wecom is not None and settings.wecom.agent_id == 1000002
    assert settings.groups["urban"].on_wecom


def config_with(tmp_path: Path, extra: str) -> Path:
    text = (ROOT / "config.toml").read_text("utf-8") + extra
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    link_data_folders(tmp_path)
    return path


WECOM_TABLE = '\n[wecom]\ncorp_id = "ww5823bf96d3bd56c7"\nagent_id = 1000002\n'


def test_check_config_names_the_missing_wecom_secret(tmp_path: Path) -> None:
    path = config_with(tmp_path, WECOM_TABLE)
    result = run_cli("check-config", "--config", str(path), env={**SECRETS, "WECOM_SECRET": ""})
    assert result.returncode == 1
    assert "error: wecom.secret: missing: set WECOM_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_tells_the_wecom_app_and_the_groups_on_it(tmp_path: Path) -> None:
    path = config_with(tmp_path, WECOM_TABLE + 'admins = ["zhangsan"]\n')
    text = path.read_text("utf-8").replace(
        'name = "城镇建设管理组"', 'name = "城镇建设管理组"\nwecom_party = 12'
    )
    path.write_text(text, encoding="utf-8")
    result = run_cli("check-config", "--config", str(path), env=SECRETS)
    assert result.returncode == 0, result.stderr
    assert (
        "WeCom ww5823bf96d3bd56c7 agent 1000002: callback on 127.0.0.1:8083/wecom, "
        "1 group on WeCom (urban), 0 with a group robot, 1 admin"
    ) in result.stdout
