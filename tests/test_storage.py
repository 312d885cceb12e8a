"""The database: WAL mode, numbered migrations applied once, transactions all-or-nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from storage.db import MIGRATIONS, Database, fetch_all, fetch_value


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


# ---------------------------------------------------------------- the migrations table


def migration_numbers() -> list[int]:
    return sorted(int(f.name[:4]) for f in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def database_built_the_old_way(path: Path, version: int) -> None:
    """A database an older bot left: migrations up to `version`, counted in user_version only."""
    conn = sqlite3.connect(path, isolation_level=None)
    for file in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if int(file.name[:4]) <= version:
            conn.executescript(file.read_text("utf-8"))
    conn.execute(f"PRAGMA user_version={version}")
    conn.execute("INSERT INTO group_bindings VALUES ('urban', -1, 1, 0)")
    conn.close()


async def recorded(db: Database) -> list[tuple[int, str]]:
    async with db.session() as conn:
        rows = await fetch_all(conn, "SELECT number, name FROM schema_migrations ORDER BY number")
    return [(row[0], row[1]) for row in rows]


async def test_a_new_database_records_every_migration_once_by_number_and_name(
    tmp_path: Path,
) -> None:
    db = await Database(tmp_path / "civic.db").open()
    try:
        names = sorted(f.name for f in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))
        assert await recorded(db) == [(int(name[:4]), name) for name in names]
    finally:
        await db.close()


async def test_a_database_counted_in_user_version_is_carried_over_without_rerunning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "civic.db"
    database_built_the_old_way(path, 30)
    db = await Database(path).open()  # re-running 0001 would fail: its tables exist
    try:
        assert [number for number, _ in await recorded(db)] == migration_numbers()
        async with db.session() as conn:
            assert await fetch_value(conn, "SELECT COUNT(*) FROM group_bindings") == 1
            assert await fetch_value(conn, "PRAGMA user_version") == migration_numbers()[-1]
            # what 0031 onwards added is there: they ran, once
            assert await fetch_value(conn, "SELECT COUNT(*) FROM job_runs") == 0
    finally:
        await db.close()


async def test_a_migration_numbered_below_the_latest_but_never_applied_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number left free by one branch and filled by another still runs once merged."""
    path = tmp_path / "civic.db"
    await (await Database(path).open()).close()
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "0014_late.sql").write_text("CREATE TABLE late (x INTEGER);", encoding="utf-8")
    monkeypatch.setattr("storage.db.MIGRATIONS", folder)
    for _ in range(2):
        db = await Database(path).open()
        try:
            assert (14, "0014_late.sql") in await recorded(db)
            async with db.session() as conn:
                assert await fetch_value(conn, "SELECT COUNT(*) FROM late") == 0
        finally:
            await db.close()
