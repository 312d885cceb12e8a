"""What a test world needs to put a working group on WeCom's stand-in."""

from __future__ import annotations

from typing import Any

from simulator.wecom import WeComStandIn


def on_wecom(
    wc: WeComStandIn, group: str, department: int
) -> tuple[dict[str, str], dict[str, Any]]:
    """The environment (the app's secrets) and the config overrides that put `group` on
    WeCom as `department`, beside its Telegram chat (every test group has one)."""
    environ, overrides = wecom_app(wc)
    return environ, {**overrides, "groups": {group: {"wecom_party": department}}}


def wecom_app(wc: WeComStandIn) -> tuple[dict[str, str], dict[str, Any]]:
    """The environment (the app's secrets) and the config overrides of WeCom's app alone."""
    environ = {
        "WECOM_SECRET": wc.secret,
        "WECOM_TOKEN": wc.token,
        "WECOM_ENCODING_AES_KEY": wc.encoding_aes_key,
    }
    overrides = {
        "wecom": {
            "corp_id": wc.corp_id,
            "agent_id": wc.agent_id,
            "api_base_url": wc.base_url,
            "port": 0,
        },
    }
    return environ, overrides
