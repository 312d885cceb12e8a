"""`python bot.py where`: the area of a point or an address, as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def where(*place: str) -> tuple[int, Any]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "where", *place],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return result.returncode, json.loads(result.stdout) if result.returncode == 0 else None


def test_where_places_a_point_and_an_address() -> None:
    code, point = where("31.2304", "121.4737")
    assert code == 0 and point["area"]["key"] == "renmin" and point["area"]["kind"] == "社区"
    code, road = where("31.2321", "121.4700")
    assert road["area"]["key"] == "renminlu" and road["community"] == "xuefu"
    code, typed = where("张庄村", "村口")
    assert typed["area"]["name"] == "张庄村" and typed["latitude"] is None
    code, nowhere = where("31.19", "121.43")
    assert code == 0 and nowhere["area"] is None
    assert where("91", "121")[0] == 1
