"""The database handle: one connection, WAL mode, explicit transactions, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from sqlite3 import Row
from typing import Any

import aiosqlite

Connection = aiosqlite.Connection
MIGRATIONS = Path(__file__).parent / "migrations"


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


class Database:
    """One aiosqlite connection shared by the process; writes serialised by a lock.

    aiosqlite runs every statement on one thread, but two tasks could still
    interleave statements of their transactions; the lock keeps each
    transaction whole.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> Database:
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(str(self.path), isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self.migrate()
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one IMMEDIATE transaction: all of it or none of it."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[aiosqlite.Connection]:
        """Use the connection outside any other task's transaction: reads, or one statement."""
        async with self._lock:
            yield self.conn

    async def migrate(self) -> int:
        """Apply numbered migrations newer than the schema version; return the version."""
        version = int(await fetch_value(self.conn, "PRAGMA user_version") or 0)
        for file in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
            number = int(file.name[:4])
            if number <= version:
                continue
            script = file.read_text(encoding="utf-8")
            # executescript commits on its own; the version is set inside the same script
            await self.conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;"
            )
            version = number
        return version
