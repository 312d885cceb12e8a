"""The database handle: one connection, WAL mode, explicit transactions, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

Connection = aiosqlite.Connection
MIGRATIONS = Path(__file__).parent / "migrations"


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
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """Read outside any other task's open transaction."""
        async with self._lock:
            yield self.conn

    async def migrate(self) -> int:
        """Apply numbered migrations newer than the schema version; return the version."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
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
