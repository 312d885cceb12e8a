"""The database: WAL mode, numbered migrations applied once, transactions all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import MIGRATIONS, Database, fetch_value


async def test_a_new_database_is_migrated_to_the_latest_version_in_wal_mode(
    tmp_path: Path,
) -> None:
    db = await Database(tmp_path / "sub" / "civic.db").open()
    try:
        latest = max(int(f.name[:4]) for f in MIGRATIONS.glob("*.sql"))
        async with db.session() as conn:
            assert await fetch_value(conn, "PRAGMA user_version") == latest
            assert await fetch_value(conn, "PRAGMA journal_mode") == "wal"
    finally:
        await db.close()


async def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "civic.db"
    db = await Database(path).open()
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO group_bindings VALUES ('urban', -1, 1, 0)")
    await db.close()
    db = await Database(path).open()
    try:
        async with db.session() as conn:
            assert await fetch_value(conn, "SELECT COUNT(*) FROM group_bindings") == 1
    finally:
        await db.close()


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    db = await Database(tmp_path / "civic.db").open()
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO group_bindings VALUES ('urban', -1, 1, 0)")
                raise RuntimeError("crash mid-work")
        async with db.session() as conn:
            assert await fetch_value(conn, "SELECT COUNT(*) FROM group_bindings") == 0
    finally:
        await db.close()
