"""A fresh PostgreSQL database per test, when DATABASE_URL names a server to use.

With a server, the test modules listed in `tests/postgres.txt` run twice in the one
session: on SQLite, and as a copy on PostgreSQL (the `postgres` marker, an `[postgres]`
id); a test marked `needs_server` runs on PostgreSQL only. Without one, those are
skipped and the rest runs on SQLite. See conftest.py.

The schema is migrated once per test run into a template database; each test
then gets `CREATE DATABASE … TEMPLATE` (a file copy, tens of milliseconds) and
drops it afterwards.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

# The server comes as DATABASE_URL, but the bots the tests start as processes (the demo,
# a kill -9) would take that for their own database: it is handed on to the pytest-xdist
# workers under a name of the tests' own, and taken out of the environment.
SERVER_VARIABLE = "TESTS_POSTGRES_SERVER"
ADMIN_URL = os.environ.pop("DATABASE_URL", None) or os.environ.get(SERVER_VARIABLE) or None
if ADMIN_URL is not None:
    os.environ[SERVER_VARIABLE] = ADMIN_URL
# The modules whose tests also run on PostgreSQL, one path a line (read by the Makefile too).
LISTED = Path(__file__).with_name("postgres.txt")
# A test that means PostgreSQL (two processes on one server, its SQL dialect): it runs
# only there, once, and is skipped without a server.
needs_server = pytest.mark.postgres
TEMPLATE = f"civic_template_{os.getpid()}"
_numbers = itertools.count(1)
_template_made = False
_on_postgres = False


@functools.cache
def listed_modules() -> frozenset[str]:
    """The paths (from the repository's root) in tests/postgres.txt."""
    lines = (line.split("#", 1)[0].strip() for line in LISTED.read_text().splitlines())
    return frozenset(line for line in lines if line)


def run_on_postgres(yes: bool) -> None:
    """Whether the test now starting puts its bot on PostgreSQL (set by conftest)."""
    global _on_postgres
    _on_postgres = yes


def on_postgres() -> bool:
    return _on_postgres and ADMIN_URL is not None


def url_of(database: str) -> str:
    """DATABASE_URL with another database name."""
    assert ADMIN_URL is not None
    parts = urllib.parse.urlsplit(ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _ensure_template() -> None:
    global _template_made
    if _template_made:
        return
    from storage.postgres import PgDatabase

    await _admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    await _admin(f"CREATE DATABASE {TEMPLATE}")
    db = await PgDatabase(url_of(TEMPLATE)).open()
    await db.close()
    _template_made = True


@asynccontextmanager
async def fresh_database(migrated: bool = True) -> AsyncIterator[str]:
    """The URL of a new empty database (migrated, or not at all), dropped when the block ends."""
    name = f"civic_test_{os.getpid()}_{next(_numbers)}"
    if migrated:
        await _ensure_template()
        await _admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    else:
        await _admin(f"CREATE DATABASE {name}")
    try:
        yield url_of(name)
    finally:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def drop_template() -> None:
    """At the end of the run: the template goes too."""
    if _template_made:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {TEMPLATE}"))
