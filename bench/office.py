"""/stats and /export over a large database (cases spread over three years).

    python bench/office.py [--cases 1000000]

Builds a database of synthetic cases through the real migrations, then times
the office's statistics (SQL aggregation over the period's index range) for
30 and 365 days, and writes the CSV /export would send for every case,
printing how long that took and the peak memory Python allocated while doing
it (tracemalloc): rows are streamed in chunks, so the peak does not grow with
the number of cases.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dialogue.render import Renderer  # noqa: E402
from handlers.telegram.export import write_csv  # noqa: E402
from reports.context import Shared  # noqa: E402
from reports.office import Office  # noqa: E402
from settings import load_settings  # noqa: E402
from storage.db import Database  # noqa: E402


class CountingSink:
    """A file that only counts what is written to it."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)

    def flush(self) -> None:
        pass


def fill(
    path: Path, cases: int, categories: list[tuple[str, str]], areas: list[str | None]
) -> None:
    """Insert synthetic cases spread over the last three years."""
    now = time.time()
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    rows = []
    for i in range(cases):
        category, group = categories[i % len(categories)]
        created = now - rng.random() * 3 * 365 * 86400
        status = rng.choice(["submitted", "accepted", "resolved", "closed"])
        accepted = created + rng.random() * 86400 if status != "submitted" else None
        resolved = accepted + rng.random() * 3 * 86400 if status in ("resolved", "closed") else None
        rating = rng.choice([None, "satisfied", "basically", "unsatisfied"]) if resolved else None
        rows.append(
            (f"B{i:07d}", 10_000 + i % 5000, "测试反映内容" * 3, category,
             group, 0.9, "[]", 31.2 + rng.random() / 10, 121.4 + rng.random() / 10, None,
             status, created, created, created, accepted, resolved, rating,
             rng.choice(areas))
        )  # fmt: skip
        if len(rows) == 50_000:
            _insert(conn, rows)
            rows.clear()
    _insert(conn, rows)
    conn.commit()
    conn.close()


def _insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO reports (ticket, resident_id, text, category, group_key,"
        " confidence, photos, latitude, longitude, address, status, created_at, updated_at,"
        " assigned_at, accepted_at, resolved_at, rating, area)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = load_settings(ROOT / "config.toml")
    categories = [(k, c.group) for k, c in settings.categories.items()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = await Database(path).open()  # the real schema, through the migrations
        await db.close()
        began = time.perf_counter()
        # Most cases in one of the areas, some outside them all.
        areas: list[str | None] = [a.key for a in settings.areas] + [None]
        fill(path, args.cases, categories, areas)
        print(f"database                 {args.cases:,} cases built in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        db = await Database(path).open()
        office = Office(Shared(db, settings))
        for days in (30, 365):
            began = time.perf_counter()
            figures = await office.statistics(days)
            took = time.perf_counter() - began
            print(f"/stats {days:>3} days            {took * 1000:.0f} ms "
                  f"({figures.total.cases:,} cases in the period)")  # fmt: skip
        render, until = Renderer(settings), time.time() + 1
        sink = CountingSink()
        began = time.perf_counter()
        count = await write_csv(office, render, 0, until, sink)
        elapsed = time.perf_counter() - began
        # A second pass under tracemalloc (which slows every allocation) for the peak.
        tracemalloc.start()
        await write_csv(office, render, 0, until, CountingSink())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await db.close()
    print(f"export                   {count:,} cases, {sink.chars / 1e6:.0f} M characters")
    print(f"export time              {elapsed:.1f} s ({count / elapsed:,.0f} cases/s)")
    print(f"peak memory while export {peak / 1e6:.1f} MB (Python allocations, tracemalloc)")


if __name__ == "__main__":
    asyncio.run(main())
