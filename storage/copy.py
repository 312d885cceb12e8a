"""Move a SQLite database to an empty PostgreSQL database: `python bot.py migrate-to <url>`.

The source is only read, in one read transaction (a consistent snapshot), from a
connection opened read-only: it stays byte for byte what the bot left, the fallback if
the move is given up. The target is migrated by `PgDatabase.open`, then filled in one
transaction: a move that fails half-way leaves it as empty as it was, so it can simply
be run again. Rows stream table by table (parents before the tables whose foreign keys
name them) through binary COPY, a batch of rows in memory at a time, with the indexes
no constraint needs dropped until the rows are in (building one over all the rows is
faster than growing it row by row: 24,000 rows/s became 40,000); then every
identity column's sequence is set past the largest id copied, and each table's row
count is compared with the source's before the transaction commits.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.db import migration_files
from storage.postgres import PgDatabase, _safe_url

BATCH = 5_000
# SQLite's storage classes each PostgreSQL column type takes without losing anything
# (`typeof()` of the value): SQLite keeps whatever a statement gave it, whatever the
# column's declared type, so each value is checked before it is sent.
FITS = {
    "bigint": ("integer",),
    "integer": ("integer",),
    "double precision": ("real", "integer"),
    "text": ("text",),
    "bytea": ("blob",),
}
# What the source's columns are read as, for the target's type: SQLite's REAL column may
# hold an integer (1 for 1.0); PostgreSQL's DOUBLE PRECISION is given a float.
READ_AS = {"double precision": "CAST({} AS REAL)"}


class MoveRefused(Exception):
    """The move was not started: one line saying why and what to do."""


class MoveFailed(Exception):
    """The move failed part-way; the target's transaction was rolled back."""


@dataclass
class Moved:
    """What a move copied: rows per table, in the order copied, and how long it took."""

    source: Path
    target: str
    tables: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(rows for _, rows in self.tables)


Progress = Callable[[str, int, float], None]


def check_url(url: str) -> None:
    """Refuse a target that is not a PostgreSQL URL (before any connection is tried)."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise MoveRefused(
            f"{_safe_url(url)} is not a PostgreSQL URL: give postgresql://user@host:port/database"
        )


def open_source(path: Path) -> sqlite3.Connection:
    """The SQLite database, read-only; MoveRefused if there is none or it is behind."""
    if not path.is_file():
        raise MoveRefused(f"there is no SQLite database at {path}: check [storage] path")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        applied = _applied_migrations(conn)
    except sqlite3.Error as exc:
        raise MoveRefused(f"the SQLite database {path} cannot be read ({exc})") from exc
    missing = [number for number, _ in migration_files() if number not in applied]
    if missing:
        conn.close()
        latest = migration_files()[-1][0]
        raise MoveRefused(
            f"the SQLite database {path} lacks migration{'s' if len(missing) > 1 else ''}"
            f" {', '.join(f'{n:04d}' for n in missing)} of this version (latest {latest:04d}):"
            " start the bot once on it (python bot.py run), which migrates it, stop it,"
            " then move it"
        )
    return conn


def _applied_migrations(conn: sqlite3.Connection) -> set[int]:
    """The migrations a database has: recorded, or counted in user_version before that."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone():
        return {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return {number for number, _ in migration_files() if number <= version}


async def move(
    source: Path, url: str, progress: Progress | None = None, batch: int = BATCH
) -> Moved:
    """Copy every row of the SQLite database at `source` into the empty database at `url`.

    MoveRefused (nothing done) for a URL of another kind, a missing or behind source, a
    target that cannot be reached (DatabaseUnusable, raised as such) or holds rows;
    MoveFailed if a table cannot be copied (the target is left as it was).
    """
    check_url(url)
    began = time.perf_counter()
    conn = open_source(source)
    try:
        target = await PgDatabase(url).open()  # creates the schema: every migration
        try:
            moved = Moved(source, target.path)
            await _move(conn, target, moved, progress, batch)
        finally:
            await target.close()
    finally:
        conn.close()
    moved.seconds = time.perf_counter() - began
    return moved


async def _move(
    conn: sqlite3.Connection,
    target: PgDatabase,
    moved: Moved,
    progress: Progress | None,
    batch: int,
) -> None:
    import asyncpg

    raw = target.conn.raw
    tables = await _target_tables(raw)
    ours = set(tables)
    sources = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
        )
    }
    if sources != ours:
        odd = ", ".join(sorted(sources ^ ours))
        raise MoveRefused(f"the two schemas differ (tables {odd}): both must be at one version")
    for table in tables:
        if await raw.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
            raise MoveRefused(
                f"the target {moved.target} already holds data (table {table} has rows):"
                " move only into an empty database"
            )
    conn.execute("BEGIN")  # one snapshot of the source for every table and count
    try:
        columns = {table: await _target_columns(raw, table) for table in tables}
        for table in tables:
            _check_values(conn, table, columns[table])
        order = await _parents_first(raw, tables)
        async with raw.transaction():
            indexes = await _drop_indexes(raw)
            for table in order:
                began = time.perf_counter()
                try:
                    rows = await _copy_table(conn, raw, table, columns[table], batch)
                except (asyncpg.PostgresError, asyncpg.DataError) as exc:
                    raise MoveFailed(
                        f"copying table {table} failed ({type(exc).__name__}: {exc});"
                        " the target was left empty"
                    ) from exc
                moved.tables.append((table, rows))
                if progress is not None:
                    progress(table, rows, time.perf_counter() - began)
            for statement in indexes:
                await raw.execute(statement)
            await _advance_sequences(conn, raw)
            await _verify_counts(conn, raw, moved)
    finally:
        conn.execute("ROLLBACK")


async def _target_tables(raw: Any) -> list[str]:
    rows = await raw.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations'"
        " ORDER BY table_name"
    )
    return [row[0] for row in rows]


async def _target_columns(raw: Any, table: str) -> list[tuple[str, str]]:
    """(name, PostgreSQL type) of a table's columns, in their order."""
    rows = await raw.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    return [(row[0], row[1]) for row in rows]


def _check_values(conn: sqlite3.Connection, table: str, columns: list[tuple[str, str]]) -> None:
    """Refuse a value PostgreSQL's column cannot take as it is (text in a BIGINT column,
    a fraction in an integer one), naming the column, before anything is copied."""
    for name, kind in columns:
        if kind not in FITS:
            raise MoveRefused(f"{table}.{name} is of type {kind}, which this move cannot fill")
    tests = [
        f"SUM(typeof(\"{name}\") NOT IN ('null', {', '.join(repr(c) for c in FITS[kind])}))"
        for name, kind in columns
    ]
    counts = conn.execute(f'SELECT {", ".join(tests)} FROM "{table}"').fetchone()
    for (name, kind), odd in zip(columns, counts, strict=True):
        if odd:
            raise MoveRefused(
                f"{table}.{name} holds {odd} value(s) PostgreSQL's {kind.upper()} cannot take"
                f" as they are (SELECT typeof({name}) FROM {table}): correct them first"
            )


async def _parents_first(raw: Any, tables: list[str]) -> list[str]:
    """The tables ordered so that each comes after every table its foreign keys name."""
    rows = await raw.fetch(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for child, parent in rows:
        if child != parent:  # a table naming itself is copied in one COPY: checked at its end
            parents[child.strip('"')].add(parent.strip('"'))
    order: list[str] = []
    while len(order) < len(tables):
        ready = [t for t in tables if t not in order and parents[t] <= set(order)]
        if not ready:
            raise MoveRefused("the tables' foreign keys form a cycle: this move cannot order them")
        order.extend(ready)
    return order


async def _copy_table(
    conn: sqlite3.Connection, raw: Any, table: str, columns: list[tuple[str, str]], batch: int
) -> int:
    """Stream a table's rows into PostgreSQL's table of the same name; return how many."""
    names = [name for name, _ in columns]
    reads = [READ_AS.get(kind, "{}").format(f'"{name}"') for name, kind in columns]
    cursor = conn.execute(f'SELECT {", ".join(reads)} FROM "{table}"')
    count = 0

    async def records() -> AsyncIterator[tuple[Any, ...]]:
        nonlocal count
        while rows := cursor.fetchmany(batch):
            count += len(rows)
            for row in rows:
                yield row

    await raw.copy_records_to_table(table, records=records(), columns=names)
    return count


async def _drop_indexes(raw: Any) -> list[str]:
    """Drop the indexes no constraint needs, for the statements that make them again after
    the copy: PostgreSQL builds an index over all the rows faster than it grows one row by
    row. Inside the move's transaction, a failed move has them back."""
    rows = await raw.fetch(
        "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index x"
        " JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " WHERE t.relnamespace = current_schema()::regnamespace"
        " AND t.relname != 'schema_migrations'"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)"
    )
    for name, _ in rows:
        await raw.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


async def _advance_sequences(conn: sqlite3.Connection, raw: Any) -> None:
    """Set each identity column's sequence past the largest value copied (and past what
    SQLite's AUTOINCREMENT handed out, if a table used it): the next INSERT takes a new id."""
    handed_out: dict[str, int] = {}
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        handed_out = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    identities = await raw.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in identities:
        largest = await raw.fetchval(f'SELECT MAX("{column}") FROM "{table}"')
        largest = max(largest or 0, handed_out.get(table, 0))
        sequence = await raw.fetchval("SELECT pg_get_serial_sequence($1, $2)", f'"{table}"', column)
        # setval(…, false) for an empty table: its next id is 1, as on SQLite
        await raw.execute("SELECT setval($1, $2, $3)", sequence, max(largest, 1), largest > 0)


async def _verify_counts(conn: sqlite3.Connection, raw: Any, moved: Moved) -> None:
    """Compare every table's rows on both sides; MoveFailed (rolled back) if one differs."""
    for table, copied in moved.tables:
        source = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        target = await raw.fetchval(f'SELECT COUNT(*) FROM "{table}"')
        if not source == copied == target:
            raise MoveFailed(
                f"table {table}: {source} rows in the source, {target} in the target"
                " after copying: the target was left empty"
            )
