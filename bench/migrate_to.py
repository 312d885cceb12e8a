"""`python bot.py migrate-to`: rows per second moving a SQLite database to PostgreSQL.

    DATABASE_URL=postgresql://… python bench/migrate_to.py [--cases 100000]

Builds a SQLite database of synthetic cases through the real migrations (bench/office.py's
data: cases spread over three years, one event and one outbox row per case), creates
an empty database on the server DATABASE_URL names, moves the one into the other
(storage/copy.py, as the CLI does) and prints each table's rows and the rows/s of the
whole move, including its checks, sequences and row counts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.office import fill  # noqa: E402
from settings import load_settings  # noqa: E402
from storage.copy import move  # noqa: E402
from storage.db import Database  # noqa: E402


def add_events_and_outbox(path: Path) -> None:
    """One event and one sent outbox row per case: the tables that grow with the cases."""
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO report_events (report_id, action, status, note, at, group_key)"
        " SELECT id, 'submit', 'submitted', NULL, created_at, group_key FROM reports"
    )
    conn.execute(
        "INSERT INTO outbox (kind, target, report_id, payload, next_attempt_at, created_at,"
        " status, channel, recipient) SELECT 'alert', 'group:' || group_key, id,"
        " '{\"generation\": 1}', created_at, created_at, 'sent', 'telegram', group_key"
        " FROM reports"
    )
    conn.commit()
    conn.close()


def print_table(table: str, rows: int, seconds: float) -> None:
    if rows:  # the tables the synthetic data leaves empty say nothing
        print(f"  {table:<14}{rows:>10,} rows {seconds:6.1f} s")


async def admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--memory", action="store_true", help="also the peak Python memory")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: bash scripts/postgres start /tmp/pg prints one")
    settings = load_settings(ROOT / "config.toml")
    categories = [(k, c.group) for k, c in settings.categories.items()]
    areas: list[str | None] = [a.key for a in settings.areas] + [None]
    name = f"bench_migrate_{os.getpid()}"
    target = urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/" + name))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        await (await Database(path).open()).close()
        began = time.perf_counter()
        fill(path, args.cases, categories, areas)
        add_events_and_outbox(path)
        print(f"database      {args.cases:,} cases built in {time.perf_counter() - began:.1f} s")
        await admin(url, f"CREATE DATABASE {name}")
        try:
            if args.memory:
                tracemalloc.start()
            moved = await move(path, target, print_table)
            peak = tracemalloc.get_traced_memory()[1] if args.memory else 0
        finally:
            await admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(
        f"move          {moved.rows:,} rows in {moved.seconds:.1f} s"
        f" ({moved.rows / moved.seconds:,.0f} rows/s)"
    )
    if args.memory:
        print(f"peak memory   {peak / 1e6:.1f} MB (Python allocations, tracemalloc)")


if __name__ == "__main__":
    asyncio.run(main())
