"""Why the store cannot be used: the faults of the store itself, told in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# SQLite's primary result codes that mean the store itself cannot do its job
# (a full disk, a read-only or damaged file, another process holding it), as
# opposed to a mistake in a statement.
FAULT_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_NOTADB,
    }
)
DAMAGED_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def _primary_code(exc: sqlite3.Error) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


class DatabaseUnusable(Exception):
    """The database cannot be opened for writing: one line naming the file, why, what to do."""

    def __init__(self, path: Path | str, exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__
        folder = Path(path).resolve().parent if isinstance(path, Path) else path
        if str(path).startswith(("postgresql://", "postgres://")):
            advice = (
                "the server cannot be reached or refuses us. Check that PostgreSQL runs and"
                " that the URL's host, port, user, password and database are right"
            )
        elif isinstance(exc, sqlite3.Error) and _primary_code(exc) in DAMAGED_CODES:
            advice = (
                "it is damaged or not an SQLite database. Restore it from a backup,"
                " or move it aside to start with an empty database"
            )
        elif isinstance(exc, sqlite3.Error) and _primary_code(exc) in (
            sqlite3.SQLITE_FULL,
            sqlite3.SQLITE_IOERR,
        ):
            advice = "it cannot be written. Free space on its disk and check the disk for errors"
        elif isinstance(exc, sqlite3.Error) and _primary_code(exc) == sqlite3.SQLITE_BUSY:
            advice = "another process holds it. Stop the other copy of the bot"
        else:
            advice = (
                "it cannot be written. Let the user running the bot write the file"
                f" and its folder {folder} (the folder holds its -wal and -shm files)"
            )
        super().__init__(f"the database {path} cannot be used ({reason}): {advice}")
