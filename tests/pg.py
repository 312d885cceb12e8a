"""A fresh PostgreSQL database per test, when DATABASE_URL names a server to use.

The schema is migrated once per test run into a template database; each test
then gets `CREATE DATABASE … TEMPLATE` (a file copy, tens of milliseconds) and
drops it afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

ADMIN_URL = os.environ.get("DATABASE_URL") or None
TEMPLATE = f"civic_template_{os.getpid()}"
_numbers = itertools.count(1)
_template_made = False


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
