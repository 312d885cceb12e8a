"""The WeChat bench runs through with tiny numbers and prints its figures (not checked)."""

from __future__ import annotations

import pytest

from bench import wechat as bench

FIGURES = (
    "wechat flows",
    "telegram flows",
    "callback answers",
    "report text",
    "menu tap",
    "status query",
    "answered",
    "unanswered",
)


async def test_the_wechat_bench_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    await bench.main(["--flows", "2", "--residents", "2", "--crowd", "2", "--rounds", "1"])
    lines = capsys.readouterr().out.splitlines()
    printed = {figure for figure in FIGURES for line in lines if line.strip().startswith(figure)}
    assert printed == set(FIGURES)
    assert any("flows/s" in line for line in lines)
    assert any("passive replies" in line and "success" in line for line in lines)
