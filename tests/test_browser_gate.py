"""Under CI=true the browser test fails, never skips, when Playwright is missing.

A CI run that skips the browser test looks green while proving nothing about the
web chat. These tests run tests/test_browser.py, tests/test_browser_wechat.py and
tests/test_browser_wecom.py (which use its fixture) in a child pytest with Playwright
hidden behind a stand-in package that refuses to import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_browser_test_without_playwright(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess:
    hidden = tmp_path / "hidden"
    (hidden / "playwright").mkdir(parents=True)
    (hidden / "playwright" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'playwright'\", name='playwright')\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONPATH")}
    env["PYTHONPATH"] = str(hidden)
    if ci:
        env["CI"] = "true"
    command = [sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider"]
    return subprocess.run(
        [
            *command,
            "tests/test_browser.py",
            "tests/test_browser_wechat.py",
            "tests/test_browser_wecom.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_under_ci_the_browser_test_fails_without_playwright(tmp_path: Path) -> None:
    run = run_browser_test_without_playwright(tmp_path, ci=True)
    assert run.returncode == 1, run.stdout[-2000:]  # a red run: each test errors at setup
    assert "skipped" not in run.stdout, run.stdout[-2000:]
    assert "CI=true but Playwright is not installed" in run.stdout, run.stdout[-2000:]


def test_outside_ci_the_browser_test_skips_without_playwright(tmp_path: Path) -> None:
    run = run_browser_test_without_playwright(tmp_path, ci=False)
    assert run.returncode == 0, run.stdout[-2000:]  # each test skips; none is left out
    assert "skipped" in run.stdout and "error" not in run.stdout, run.stdout[-2000:]
