"""Print the share of mutants killed per module after `mutmut run` (make mutate).

A mutant that times out counts as killed: the tests noticed (it looped). A survivor
is listed by name; `mutmut show <name>` prints its diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# mutmut's exit codes: 1 and 3 the tests failed, timeouts under several codes.
KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0}


def main() -> int:
    metas = sorted(Path("mutants").rglob("*.py.meta"))
    if not metas:
        print("no results: run `make mutate` first", file=sys.stderr)
        return 1
    total = caught = 0
    survivors = []
    for meta in metas:
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        module = meta.relative_to("mutants").as_posix().removesuffix(".meta")
        killed = sum(1 for c in codes.values() if c in KILLED | TIMEOUT)
        survivors += [name for name, c in codes.items() if c in SURVIVED]
        unchecked = sum(1 for c in codes.values() if c not in KILLED | TIMEOUT | SURVIVED)
        note = f"  ({unchecked} not checked)" if unchecked else ""
        print(f"{module:28} {killed:4}/{len(codes):<4} {100 * killed / len(codes):5.1f}%{note}")
        total += len(codes)
        caught += killed
    print(f"{'overall':28} {caught:4}/{total:<4} {100 * caught / total:5.1f}%")
    for name in survivors:
        print("survived:", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
