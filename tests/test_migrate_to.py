"""`python bot.py migrate-to <url>`: a SQLite database moved to an empty PostgreSQL one,
read back the same by the bot's own storage calls; refusals in one line.

The tests that need a server run when there is one (`make test` starts one).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import tomli_w

from demo import relocated_config
from reports.context import Shared
from reports.office import Office
from storage import media, outbox, quizzes, reports, residents, survey
from storage.copy import MoveFailed, MoveRefused, move
from storage.db import Database, fetch_all, fetch_value
from storage.postgres import PgDatabase
from tests import pg
from tests.test_config import run_cli
from tests.world import ROOT, settings_for_tests

needs_server = pg.needs_server
NOW = time.time()
PHOTO = bytes(range(256)) * 40  # every byte value, NULs included


async def a_database_in_use(path: Path) -> None:
    """Cases (one with a photo), outbox rows, a quiz and a survey, through the storage calls."""
    db = await Database(path).open()
    try:
        async with db.transaction() as conn:
            alice = await residents.resolve(conn, "telegram", "1001", NOW - 7200)
            bob = await residents.resolve(conn, "wechat", "o-bob", NOW - 7000)
            photo = await media.keep(conn, "wechat", "m-1", "image/jpeg", PHOTO, NOW - 3600)
            first = await reports.insert(
                conn, ticket="261201-001", resident_id=alice, text="小区门口垃圾成堆",
                category="litter", group_key="urban", confidence=0.92,
                photos=(f"media:{photo}",), latitude=31.23, longitude=121.47,
                address="幸福路 12 号", status="submitted", now=NOW - 3600,
            )  # fmt: skip
            await reports.insert(
                conn, ticket="261201-002", resident_id=bob, text="路边乱停车",
                category="traffic", group_key="order", confidence=1,
                photos=(), latitude=None, longitude=None, address=None,
                status="submitted", now=NOW - 1800,
            )  # fmt: skip
            await reports.set_status(
                conn, first.id, expected="submitted", status="accepted", now=NOW - 600
            )
            await reports.add_event(
                conn, first.id, action="accept", status="accepted", actor_id=7,
                actor_name="城管 张三", note=None, now=NOW - 600, group_key="urban",
            )  # fmt: skip
            await reports.follow(conn, first.id, bob, NOW - 500)
            await outbox.enqueue(
                conn, "notify", "resident", NOW, first.id, {"text": "已受理"},
                channel="telegram", recipient="1001",
            )  # fmt: skip
            round_ = await quizzes.insert_round(
                conn, resident_id=alice, topic="garbage", questions=["g-1", "g-2"], now=NOW - 300
            )
            await quizzes.add_answer(
                conn, resident_id=alice, question_id="g-1", topic="garbage",
                correct=True, points=10, now=NOW - 290,
            )  # fmt: skip
            await quizzes.save_player(conn, alice, "王小明")
            await quizzes.finish_round(conn, round_.id, NOW - 280)
            survey_round = await survey.insert_round(conn, NOW - 200)
            await survey.save_answer(conn, survey_round, alice, "support", "support", NOW - 190)
            await survey.save_answer(conn, survey_round, bob, "aware", 1, NOW - 180)
    finally:
        await db.close()


async def what_the_bot_reads(db: Database | PgDatabase, tmp_path: Path) -> dict[str, object]:
    """What the bot's own calls answer about the data above: statuses, /stats, the photo…"""
    settings = settings_for_tests(tmp_path / "unused.db")
    office = Office(Shared(db, settings))  # type: ignore[arg-type]
    stats = await office.statistics(30, until=NOW + 1)
    async with db.session() as conn:
        first = await reports.by_ticket(conn, "261201-001")
        assert first is not None
        return {
            "stats": stats,
            "case": first,
            "other": await reports.by_ticket(conn, "261201-002"),
            "events": await reports.events(conn, first.id),
            "followers": await reports.followers(conn, first.id),
            "photo": await media.get(conn, 1),
            "outbox": await outbox.claim_due(conn, "telegram", NOW + 1, 10, "me", 60),
            "standings": await quizzes.standings(conn, 0),
            "survey": await survey.answers(conn, 1),
            "resident": await residents.lookup(conn, "wechat", "o-bob"),
        }


# ---------------------------------------------------------------- without a server


async def test_a_url_of_another_kind_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(MoveRefused, match="is not a PostgreSQL URL"):
        await move(tmp_path / "civic.db", "mysql://bot:secret@db/civic")


def test_the_cli_refuses_a_url_of_another_kind_in_one_line(tmp_path: Path) -> None:
    result = run_cli("migrate-to", "sqlite:///tmp/x.db", "--config", str(a_config(tmp_path)))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "is not a PostgreSQL URL" in result.stderr


async def test_a_source_behind_the_latest_migration_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "civic.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=3")  # what an older bot would have left: behind
    conn.close()
    before = path.read_bytes()
    with pytest.raises(MoveRefused, match="start the bot once on it"):
        await move(path, "postgresql://bot@127.0.0.1:1/civic")
    assert path.read_bytes() == before


async def test_the_cli_says_when_the_server_cannot_be_reached(tmp_path: Path) -> None:
    config = a_config(tmp_path)
    await (await Database(tmp_path / "civic.db").open()).close()
    result = run_cli("migrate-to", "postgresql://bot@127.0.0.1:1/civic", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "cannot be reached" in result.stderr


def a_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    raw = relocated_config(ROOT / "config.toml", tmp_path / "civic.db")
    config.write_bytes(tomli_w.dumps(raw).encode())
    return config


# ---------------------------------------------------------------- with a server


@needs_server
async def test_a_moved_database_reads_back_the_same_through_the_bots_calls(
    tmp_path: Path,
) -> None:
    path = tmp_path / "civic.db"
    await a_database_in_use(path)
    async with pg.fresh_database(migrated=False) as url:
        moved = await move(path, url, batch=2)  # batches smaller than the tables
        assert dict(moved.tables)["reports"] == 2
        sqlite_db, pg_db = await Database(path).open(), await PgDatabase(url).open()
        try:
            on_sqlite = await what_the_bot_reads(sqlite_db, tmp_path)
            on_postgres = await what_the_bot_reads(pg_db, tmp_path)
        finally:
            await sqlite_db.close()
            await pg_db.close()
    assert on_postgres == on_sqlite
    assert on_postgres["photo"] == ("image/jpeg", PHOTO)
    assert on_postgres["case"].status == "accepted"  # type: ignore[attr-defined]


@needs_server
async def test_the_indexes_dropped_for_the_copy_are_all_made_again(tmp_path: Path) -> None:
    path = tmp_path / "civic.db"
    await a_database_in_use(path)
    async with pg.fresh_database() as fresh, pg.fresh_database(migrated=False) as url:
        await move(path, url)
        assert await index_definitions(url) == await index_definitions(fresh)


async def index_definitions(url: str) -> list[str]:
    db = await PgDatabase(url).open()
    try:
        async with db.session() as conn:
            rows = await fetch_all(
                conn,
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " ORDER BY indexname",
            )
    finally:
        await db.close()
    return [row[0] for row in rows]


@needs_server
async def test_a_report_filed_after_the_move_gets_the_next_id(tmp_path: Path) -> None:
    path = tmp_path / "civic.db"
    await a_database_in_use(path)
    async with pg.fresh_database(migrated=False) as url:
        await move(path, url)
        db = await PgDatabase(url).open()
        try:
            async with db.transaction() as conn:
                report = await reports.insert(
                    conn, ticket="261202-001", resident_id=1, text="井盖缺失",
                    category="litter", group_key="urban", confidence=1.0, photos=(),
                    latitude=None, longitude=None, address=None, status="submitted", now=NOW,
                )  # fmt: skip
                resident = await residents.resolve(conn, "telegram", "2002", NOW)
                survey_round = await survey.insert_round(conn, NOW)
        finally:
            await db.close()
    assert (report.id, resident, survey_round) == (3, 3, 2)


@needs_server
async def test_a_target_holding_data_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "civic.db"
    await a_database_in_use(path)
    async with pg.fresh_database() as url:
        db = await PgDatabase(url).open()
        async with db.transaction() as conn:
            await residents.resolve(conn, "telegram", "42", NOW)
        try:
            with pytest.raises(MoveRefused, match="already holds data"):
                await move(path, url)
            async with db.session() as conn:
                assert await fetch_value(conn, "SELECT COUNT(*) FROM residents") == 1
                assert await fetch_value(conn, "SELECT COUNT(*) FROM reports") == 0
        finally:
            await db.close()


@needs_server
async def test_a_move_that_fails_half_way_leaves_the_target_empty(tmp_path: Path) -> None:
    path = tmp_path / "civic.db"
    await a_database_in_use(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=OFF")  # a follower of a case that is not there
    conn.execute("INSERT INTO followers VALUES (99, 1, 0)")
    conn.commit()
    conn.close()
    async with pg.fresh_database() as url:
        with pytest.raises(MoveFailed, match="followers"):
            await move(path, url)
        db = await PgDatabase(url).open()
        try:
            async with db.session() as pg_conn:
                assert await fetch_value(pg_conn, "SELECT COUNT(*) FROM reports") == 0
        finally:
            await db.close()


@needs_server
async def test_a_value_postgres_cannot_take_is_refused_naming_its_column(tmp_path: Path) -> None:
    path = tmp_path / "civic.db"
    await a_database_in_use(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE reports SET resident_id = 'alice' WHERE id = 1")
    conn.commit()
    conn.close()
    async with pg.fresh_database() as url:
        with pytest.raises(MoveRefused, match=r"reports\.resident_id holds 1 value"):
            await move(path, url)


@needs_server
async def test_the_cli_moves_the_configured_database_and_prints_each_table(
    tmp_path: Path,
) -> None:
    config = a_config(tmp_path)
    await a_database_in_use(tmp_path / "civic.db")
    async with pg.fresh_database(migrated=False) as url:
        result = run_cli("migrate-to", url, "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert "reports: 2 rows" in result.stdout
        assert "media: 1 row" in result.stdout
        last = result.stdout.strip().splitlines()[-1]
        assert "rows in" in last and "row counts verified" in last
        again = run_cli("migrate-to", url, "--config", str(config))
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0
    assert "already holds data" in again.stderr
