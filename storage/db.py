"""The database handle: one connection, WAL mode, explicit transactions, migrations.

SQLite here; PostgreSQL behind the same calls in `storage/postgres.py`, chosen by
`database_for` when the settings name a `postgresql://` URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from sqlite3 import Row
from typing import Any

import aiosqlite

from storage.errors import FAULT_CODES, DatabaseUnusable, _primary_code

Connection = aiosqlite.Connection
MIGRATIONS = Path(__file__).parent / "migrations"


def is_storage_fault(exc: BaseException | None) -> bool:
    """Whether an error is the store failing (full, read-only, damaged, busy), not a bug."""
    if isinstance(exc, sqlite3.Error):
        return _primary_code(exc) in FAULT_CODES
    if exc is not None and "asyncpg" in sys.modules:
        from storage.postgres import is_pg_fault

        return is_pg_fault(exc)
    return False


# Each call below is one trip to aiosqlite's thread. A trip costs more than the
# query itself here (about 75 µs), and a cursor used as a context manager takes
# three; so every statement goes through these, and writes that need the row
# back use RETURNING.


async def fetch_one(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> Row | None:
    rows = await conn.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def fetch_all(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> list[Row]:
    return list(await conn.execute_fetchall(sql, params))


async def fetch_value(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> Any:
    row = await fetch_one(conn, sql, params)
    return row[0] if row is not None else None


async def execute(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> None:
    await conn.execute(sql, params)


async def execute_count(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> int:
    """Run one statement; return how many rows it changed."""
    cursor = await conn.execute(sql, params)
    return int(cursor.rowcount)


def skip_locked(conn: Connection) -> str:
    """The locking clause that lets processes claim rows side by side: `FOR UPDATE SKIP
    LOCKED` on PostgreSQL; nothing on SQLite, whose one writer claims alone anyway."""
    return " FOR UPDATE SKIP LOCKED" if getattr(conn, "dialect", "sqlite") == "postgresql" else ""


async def serialise(conn: Connection, key: int) -> None:
    """Wait for and hold, until the transaction ends, the lock `key` across processes:
    `pg_advisory_xact_lock` on PostgreSQL; nothing on SQLite, whose one writer is alone."""
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        await conn.execute("SELECT pg_advisory_xact_lock(?)", (key,))


def database_for(url: str | None, path: Path | str) -> Database:
    """The database the settings name: PostgreSQL at `url` if one is set, else SQLite at `path`."""
    if url:
        from storage.postgres import PgDatabase

        return PgDatabase(url)  # type: ignore[return-value]  # the same calls, duck-typed
    return Database(path)


class Database:
    """One aiosqlite connection shared by the process; writes serialised by a lock.

    aiosqlite runs every statement on one thread, but two tasks could still
    interleave statements of their transactions; the lock keeps each
    transaction whole.
    """

    # Whether other processes may use the database at the same time: never a SQLite
    # file here (one process), so whatever a process before this one claimed is free.
    shared = False

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> Database:
        """Connect, migrate, and prove the file can be written; DatabaseUnusable if not.

        On any failure the connection is closed again: its aiosqlite thread is
        not a daemon, and left running it would keep the process from exiting.
        """
        try:
            if isinstance(self.path, Path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = await _connect(str(self.path))
            self._conn.row_factory = sqlite3.Row
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await self._conn.execute("PRAGMA busy_timeout=5000")
            version = await self.migrate()
            await self._prove_writable(version)
        except (sqlite3.Error, OSError) as exc:
            await self._close_quietly()
            raise DatabaseUnusable(self.path, exc) from exc
        except BaseException:
            await self._close_quietly()
            raise
        return self

    async def _prove_writable(self, version: int) -> None:
        """Write the schema version back: a read-only file fails here, not at a resident's report.

        An up-to-date database is only read while opening, and SQLite opens a
        file it may not write read-only without a word.
        """
        await self.conn.executescript(f"BEGIN IMMEDIATE; PRAGMA user_version={version}; COMMIT;")

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):
            await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    # One process on a SQLite file: it leads the timed jobs, and nothing else writes.
    shared_by_processes = False

    def leader_lock(self) -> SoloLeaderLock:
        """The lock that makes a process the leader of the timed jobs (see `PgLeaderLock`)."""
        return SoloLeaderLock()

    def outbox_listener(self, wake: Callable[[], None]) -> NoListener:
        """Other processes' outbox items (see `PgListener`): none on SQLite, one process."""
        return NoListener()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one IMMEDIATE transaction: all of it or none of it."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self._roll_back()
                raise
            try:
                await self.conn.execute("COMMIT")
            except BaseException:
                # A full disk fails the COMMIT itself; SQLite may leave the
                # transaction open, and every later BEGIN would fail with it.
                await self._roll_back()
                raise

    async def _roll_back(self) -> None:
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[aiosqlite.Connection]:
        """Use the connection outside any other task's transaction: reads, or one statement."""
        async with self._lock:
            yield self.conn

    async def migrate(self) -> int:
        """Apply the numbered migrations not yet recorded in `schema_migrations`; return the
        latest number applied.

        The same table as on PostgreSQL, so both engines answer "which migrations ran"
        alike, and a number left free by one branch and filled by another still runs.
        A database from before the table counted its migrations in `user_version`: the
        numbers up to it are recorded as applied (not run again) when the table is made.
        `user_version` is still set to the latest, for whatever reads it.
        """
        if not await fetch_value(
            self.conn, "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
        ):
            await self._record_migrations_so_far()
        done = {
            row[0] for row in await fetch_all(self.conn, "SELECT number FROM schema_migrations")
        }
        for number, file in migration_files():
            if number in done:
                continue
            script = file.read_text(encoding="utf-8")
            # executescript commits on its own: the record is made inside the same script
            await self.conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n;{_record_sql(number, file.name)}"
                f"PRAGMA user_version={max(done | {number})};\nCOMMIT;"
            )
            done.add(number)
        return max(done, default=0)

    async def _record_migrations_so_far(self) -> None:
        """Make `schema_migrations`, recording as applied every number up to `user_version`."""
        version = int(await fetch_value(self.conn, "PRAGMA user_version") or 0)
        records = "".join(
            _record_sql(number, file.name)
            for number, file in migration_files()
            if number <= version
        )
        await self.conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA_MIGRATIONS};\n{records}COMMIT;")


# The table of applied migrations, as `storage/postgres.py` makes it there.
SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL, applied_at REAL NOT NULL)"
)


def migration_files() -> list[tuple[int, Path]]:
    """(number, file) of every numbered migration, in order."""
    files = sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(int(file.name[:4]), file) for file in files]


def _record_sql(number: int, name: str) -> str:
    """The statement recording a migration as applied (for a script: no parameters there)."""
    quoted = name.replace("'", "''")
    return (
        "INSERT INTO schema_migrations (number, name, applied_at)"
        f" VALUES ({int(number)}, '{quoted}', {time.time()!r});\n"
    )


class NoListener:
    """SQLite's outbox listener: no other process queues anything."""

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None


class SoloLeaderLock:
    """SQLite's leader lock: the one process on the file always holds it."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


async def _connect(path: str) -> aiosqlite.Connection:
    """An aiosqlite connection; after a failed connect, wait for its worker thread to end.

    aiosqlite stops the worker of a connection that failed to open without
    waiting for it; the worker then answers an event loop that may have closed
    meanwhile, and the process exits with a traceback instead of our one line.
    """
    connection = aiosqlite.connect(path, isolation_level=None)
    try:
        return await connection
    except BaseException:
        worker = getattr(connection, "_thread", None)  # aiosqlite 0.22 keeps it here
        if worker is not None and worker.is_alive():
            await asyncio.to_thread(worker.join, 5)
        raise
