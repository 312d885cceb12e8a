"""Residents are our own ids: a database from before them carries over, and the
resolver gives one id per (channel, external id)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from reports.residents import Residents
from storage.db import MIGRATIONS, Database, fetch_all
from tests.conftest import started_world
from tests.world import NEIGHBOUR, RESIDENT, World

# Every table that names a resident, and who each of its rows in `at_0017` names.
NAMED = {
    "drafts": [RESIDENT, NEIGHBOUR],
    "reports": [RESIDENT, NEIGHBOUR],
    "followers": [NEIGHBOUR],
    "quiz_rounds": [RESIDENT, NEIGHBOUR],
    "quiz_answers": [RESIDENT, NEIGHBOUR],
    "quiz_players": [RESIDENT, NEIGHBOUR],
    "quiz_subscribers": [RESIDENT, NEIGHBOUR],
    "push_recipients": [RESIDENT, NEIGHBOUR],
    "survey_answers": [RESIDENT, NEIGHBOUR],
}
TICKETS = {RESIDENT: "261201-001", NEIGHBOUR: "261201-002"}


def database_at(path: Path, version: int) -> sqlite3.Connection:
    """A database migrated up to `version` only, as an older bot left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    for file in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if int(file.name[:4]) <= version:
            conn.executescript(file.read_text("utf-8"))
    conn.execute(f"PRAGMA user_version={version}")
    return conn


def two_residents_at_0017(path: Path) -> None:
    """Rows in every table that names a resident, for two residents named by Telegram id."""
    conn = database_at(path, 17)
    now = time.time() - 3600
    for n, user in enumerate((RESIDENT, NEIGHBOUR)):
        at = now + n
        conn.execute(
            "INSERT INTO drafts (resident_id, chat_id, category, status, created_at, updated_at)"
            " VALUES (?, ?, 'litter', 'submitted', ?, ?)",
            (user, user, at, at),
        )
        conn.execute(
            "INSERT INTO reports (ticket, resident_id, chat_id, text, category, group_key,"
            " status, created_at, updated_at, assigned_at)"
            " VALUES (?, ?, ?, '小区门口垃圾成堆', 'litter', 'urban', 'submitted', ?, ?, ?)",
            (TICKETS[user], user, user, at, at, at),
        )
        conn.execute(
            "INSERT INTO quiz_rounds (resident_id, chat_id, questions, started_at)"
            " VALUES (?, ?, '[]', ?)",
            (user, user, at),
        )
        conn.execute(
            "INSERT INTO quiz_answers (resident_id, question_id, topic, correct, points, at)"
            " VALUES (?, 'q', 'garbage', 1, 10, ?)",
            (user, at),
        )
        conn.execute("INSERT INTO quiz_players VALUES (?, '王小明')", (user,))
        conn.execute("INSERT INTO quiz_subscribers VALUES (?, ?, 1, ?)", (user, user, at))
    conn.execute("INSERT INTO followers VALUES (1, ?, ?, ?)", (NEIGHBOUR, NEIGHBOUR, now))
    conn.execute("INSERT INTO push_runs (id, kind, day, created_at) VALUES (1, 'quiz', 'd', 0)")
    conn.execute("INSERT INTO survey_rounds (id, started_at) VALUES (1, 0)")
    for user in (RESIDENT, NEIGHBOUR):
        conn.execute(
            "INSERT INTO push_recipients (run_id, resident_id, chat_id, status, next_at)"
            " VALUES (1, ?, ?, 'sent', 0)",
            (user, user),
        )
        conn.execute(
            "INSERT INTO survey_answers (round_id, resident_id, support, at)"
            " VALUES (1, ?, 'support', 0)",
            (user,),
        )
    conn.close()


async def who_is_named(world: World, table: str) -> list[int]:
    """The Telegram user of each row of `table`, through the residents table."""
    async with world.db.session() as conn:
        rows = await fetch_all(
            conn,
            f"SELECT CAST(r.external_id AS INTEGER) FROM {table} t"
            " LEFT JOIN residents r ON r.id = t.resident_id AND r.channel = 'telegram'"
            " ORDER BY t.rowid",
        )
    return [row[0] for row in rows]


async def test_a_database_from_before_residents_names_them_by_our_ids(
    tmp_path: Path, classifier: object
) -> None:
    two_residents_at_0017(tmp_path / "civic.db")
    async with started_world(tmp_path, classifier) as world:
        ours = {await world.resident_id(RESIDENT), await world.resident_id(NEIGHBOUR)}
        assert ours.isdisjoint({RESIDENT, NEIGHBOUR})
        for table, named in NAMED.items():
            assert await who_is_named(world, table) == named, table


async def test_after_the_migration_each_resident_sees_their_own_reports(
    tmp_path: Path, classifier: object
) -> None:
    two_residents_at_0017(tmp_path / "civic.db")
    async with started_world(tmp_path, classifier) as world:
        for user, other in ((RESIDENT, NEIGHBOUR), (NEIGHBOUR, RESIDENT)):
            mine = (await world.say("/myreports", user=user)).text
            assert TICKETS[user] in mine and TICKETS[other] not in mine
            theirs = (await world.say(f"/status {TICKETS[other]}", user=user)).text
            assert TICKETS[other] in theirs and "小区门口" not in theirs


async def test_the_migration_swaps_ids_that_are_each_others_old_ones(tmp_path: Path) -> None:
    """Telegram user 2 wrote first and becomes our 1, user 1 our 2: keys never collide."""
    conn = database_at(tmp_path / "civic.db", 17)
    conn.execute("INSERT INTO quiz_subscribers VALUES (2, 2, 1, 100)")
    conn.execute("INSERT INTO quiz_subscribers VALUES (1, 1, 0, 200)")
    conn.close()
    db = await Database(tmp_path / "civic.db").open()
    try:
        async with db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT r.id, r.external_id, s.active FROM quiz_subscribers s"
                " JOIN residents r ON r.id = s.resident_id ORDER BY r.id",
            )
    finally:
        await db.close()
    assert [tuple(row) for row in rows] == [(1, "2", 1), (2, "1", 0)]


async def test_a_resident_gets_one_id_per_channel_and_external_id(world: World) -> None:
    residents = world.runtime.reports.residents
    first = await residents.resolve("telegram", RESIDENT)
    assert await residents.resolve("telegram", str(RESIDENT)) == first
    other = await residents.resolve("wechat", str(RESIDENT))
    assert other != first
    assert await residents.address(first) == ("telegram", str(RESIDENT))
    assert await residents.address(other) == ("wechat", str(RESIDENT))
    fresh = Residents(world.runtime.reports.shared)  # another process: nothing cached
    assert await fresh.resolve("telegram", RESIDENT) == first
