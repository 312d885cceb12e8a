"""`python bot.py wechat-menu` installs [wechat] menu on the Official Account, and says
in one line when WeChat refuses it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from simulator.wechat import WeChatStandIn
from tests.config_copy import link_data_folders

ROOT = Path(__file__).resolve().parent.parent
MENU = """
[[wechat.menu]]
name = "怎么反映"
key = "how_to_report"

[[wechat.menu]]
name = "文明参与"
sub_button = [
  { name = "每日答题", key = "daily_quiz" },
  { name = "支持率调查", key = "survey" },
]
"""


async def wechat_menu(tmp_path: Path, wx: WeChatStandIn, secret: str) -> tuple[int, str]:
    """Run the verb against the stand-in; its exit code and what it printed."""
    text = (ROOT / "config.toml").read_text("utf-8")
    text += f'\n[wechat]\napp_id = "{wx.app_id}"\napi_base_url = "{wx.base_url}"\n' + MENU
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    link_data_folders(tmp_path)
    env = {
        **os.environ,
        "WECHAT_TOKEN": wx.token,
        "WECHAT_APP_SECRET": secret,
        "WECHAT_ENCODING_AES_KEY": wx.encoding_aes_key,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "wechat-menu",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, (out + err).decode()


async def test_the_verb_installs_the_configured_menu(tmp_path: Path) -> None:
    async with WeChatStandIn() as wx:
        code, printed = await wechat_menu(tmp_path, wx, wx.app_secret)
        assert code == 0, printed
        assert [b["name"] for b in wx.menu["button"]] == ["怎么反映", "文明参与"]
        assert [s["key"] for s in wx.menu["button"][1]["sub_button"]] == ["daily_quiz", "survey"]
        assert "menu installed" in printed


async def test_a_refusal_is_one_line_naming_wechats_answer(tmp_path: Path) -> None:
    async with WeChatStandIn() as wx:
        code, printed = await wechat_menu(tmp_path, wx, "not-the-secret")
        assert code == 1
        assert "error: WeChat refused the menu:" in printed and "40125" in printed
        assert "Traceback" not in printed and wx.menu is None
