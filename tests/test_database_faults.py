"""Database faults: a damaged or read-only file stops the bot at once with one line;
a full disk leaves every button answered and every resident told the truth."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import tomli_w

from demo import relocated_config, standin_config
from simulator import BotApiStandIn, SentMessage
from storage.db import Database
from tests.world import (
    GROUP_CHATS,
    RESIDENT,
    ROOT,
    URBAN_STAFF,
    World,
    message_now,
)

LITTER = "小区东门垃圾桶满了好几天没人清运"
URBAN = GROUP_CHATS["urban"]
# Long enough that only a hang reaches it; the bot needs a few seconds to start.
EXIT_WAIT = 60.0


# ---------------------------------------------------------------- start-up


async def test_a_corrupt_database_file_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "civic.db"
    db.write_bytes(os.urandom(20_000))
    async with BotApiStandIn() as api:
        code, errors = await run_bot(write_config(tmp_path, db, api))
    assert code == 1
    assert_one_line_naming(errors, db, "backup")


async def test_a_truncated_database_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "civic.db"
    await make_database(db)
    content = db.read_bytes()
    db.write_bytes(content[:100] + b"\xff" * 400 + content[500:4096])
    async with BotApiStandIn() as api:
        code, errors = await run_bot(write_config(tmp_path, db, api))
    assert code == 1
    assert_one_line_naming(errors, db, "backup")


async def test_a_read_only_database_file_refuses_to_start(tmp_path: Path) -> None:
    db = tmp_path / "civic.db"
    await make_database(db)
    db.chmod(0o444)
    async with BotApiStandIn() as api:
        code, errors = await run_bot(write_config(tmp_path, db, api), unprivileged())
    assert code == 1
    assert_one_line_naming(errors, db, "write")


async def test_a_database_in_a_read_only_folder_refuses_to_start(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    db = folder / "civic.db"
    await make_database(db)
    with read_only(folder):
        async with BotApiStandIn() as api:
            code, errors = await run_bot(write_config(tmp_path, db, api), unprivileged())
    assert code == 1
    assert_one_line_naming(errors, db, "write")


async def test_the_demo_refuses_a_database_folder_it_cannot_write(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    config = tmp_path / "config.toml"
    config.write_bytes(
        tomli_w.dumps(relocated_config(ROOT / "config.toml", folder / "civic.db")).encode()
    )
    with read_only(folder):
        code, errors = await finish(
            spawn(["demo", "--port", "0", "--config", str(config)], unprivileged())
        )
    assert code == 1
    assert_one_line_naming(errors, folder / "demo.db", "write")


async def test_sigterm_while_starting_stops_the_bot(tmp_path: Path) -> None:
    connected = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()  # until the bot hangs up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        raw = relocated_config(ROOT / "config.toml", tmp_path / "civic.db")
        raw["telegram"] = {"base_url": f"http://127.0.0.1:{port}/bot", "poll_timeout": 1}
        config = tmp_path / "config.toml"
        config.write_bytes(tomli_w.dumps(raw).encode())
        bot = spawn(["run", "--config", str(config)], env={"BOT_TOKEN": "1:test"})
        try:
            await asyncio.wait_for(connected.wait(), EXIT_WAIT)
        finally:
            bot.send_signal(signal.SIGTERM)
        code, errors = await finish(bot)
    assert code == 0, errors
    assert "Traceback" not in errors


# ---------------------------------------------------------------- a full disk at run time


async def test_a_report_that_could_not_be_stored_is_said_to_be_unsent(world: World) -> None:
    card = await world.card(LITTER)
    await settled(world)
    before = len(world.api.sent_to(RESIDENT))
    with full_disk():
        answer = await world.press(RESIDENT, card, "确认")
        notice = await world.api.next_sent(RESIDENT, after=before)
    assert answer["text"] and "稍后" in answer["text"]
    assert "没有提交成功" in notice.text and "不会丢失" not in notice.text
    assert await report_count(world) == 0
    await world.press(RESIDENT, card, "确认")
    assert "工单号" in await world.wait_text(card, "工单号")
    assert await report_count(world) == 1


async def test_a_message_that_could_not_be_stored_is_said_to_be_unsaved(world: World) -> None:
    with full_disk():
        notice = await world.say(LITTER)
    assert "没有保存" in notice.text and not notice.buttons
    card = await world.card(LITTER)
    assert "请核对" in card.text


async def test_a_group_button_is_answered_while_the_disk_is_full(world: World) -> None:
    await world.file(LITTER)
    alert = await world.alert("urban")
    await settled(world)
    with full_disk():
        answer = await world.press(URBAN_STAFF, alert, "受理")
    assert answer["text"] and "稍后" in answer["text"]
    assert "待受理" in message_now(world, alert).text
    await world.press(URBAN_STAFF, alert, "受理")
    await world.driver.wait_button(alert, "办结")


async def test_a_rating_button_is_answered_while_the_disk_is_full(world: World) -> None:
    rating = await resolved_case(world)
    with full_disk():
        answer = await world.press(RESIDENT, rating, "😊")
    assert answer["text"] and "稍后" in answer["text"]
    thanks = await world.press(RESIDENT, rating, "😊")
    assert "感谢" in (thanks["text"] or "")


async def test_a_send_it_cannot_record_is_held_not_repeated(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.courier")
    world.api.fail_chat(URBAN, "server_error")
    await world.file(LITTER)
    await world.api.wait_for(lambda: attempts_to(world, URBAN) >= 1)
    with full_disk():
        tried = attempts_to(world, URBAN)
        # Two rounds of the courier asking the database again: a loop would have sent by now.
        await world.api.wait_for(lambda: waits_for_the_database(caplog) >= 2, timeout=10)
        assert attempts_to(world, URBAN) <= tried + 1
    world.api.clear_failures(URBAN)
    alert = await world.alert("urban")
    assert LITTER in alert.text


# ---------------------------------------------------------------- helpers


def attempts_to(world: World, chat_id: int) -> int:
    return sum(1 for r in world.api.requests if r.params.get("chat_id") == chat_id)


def waits_for_the_database(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if "wait for the database" in r.getMessage())


@contextmanager
def full_disk() -> Iterator[None]:
    """Every write to a file by this process fails, as on a full disk, until the block ends.

    The kernel refuses writes past RLIMIT_FSIZE (Python ignores the SIGXFSZ
    that comes with it), so SQLite meets a failing write() exactly where a full
    disk would fail it; reads, sockets and pipes are untouched.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


async def settled(world: World) -> None:
    """Wait until the bot has stored all it was doing: the card's id, every queued send."""

    async def quiet() -> bool:
        async with world.db.session() as conn:
            rows = await conn.execute_fetchall(
                "SELECT (SELECT count(*) FROM drafts d WHERE status = 'open' AND NOT EXISTS"
                " (SELECT 1 FROM message_refs m WHERE m.subject = 'card'"
                " AND m.subject_id = d.id))"
                " + (SELECT count(*) FROM outbox WHERE status = 'pending')"
            )
        return next(iter(rows))[0] == 0

    await world.eventually(quiet)


async def report_count(world: World) -> int:
    async with world.db.session() as conn:
        rows = await conn.execute_fetchall("SELECT count(*) FROM reports")
    return int(next(iter(rows))[0])


async def resolved_case(world: World) -> SentMessage:
    """A case the urban group resolved; returns the resident's rating notice, all stored."""
    _, ticket = await world.file(LITTER)
    alert = await world.alert("urban")
    await world.press(URBAN_STAFF, alert, "受理")
    await world.driver.wait_button(alert, "办结")
    await world.act_with_note(URBAN_STAFF, alert, "办结", "已清运")
    rating = await world.driver.about(RESIDENT, ticket, "满意")
    await settled(world)
    return rating


async def make_database(path: Path) -> None:
    """A database as the bot leaves it: every migration applied."""
    db = await Database(path).open()
    await db.close()
    with sqlite3.connect(path) as conn:  # fold the WAL back in: the file alone is the database
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def write_config(tmp_path: Path, db: Path, api: BotApiStandIn) -> Path:
    raw = standin_config(ROOT / "config.toml", api, db, GROUP_CHATS)
    path = tmp_path / "config.toml"
    path.write_bytes(tomli_w.dumps(raw).encode())
    return path


async def run_bot(config: Path, prefix: list[str] | None = None) -> tuple[int, str]:
    """`bot.py run` with a token; its exit code and stderr once it exits."""
    api_token = {"BOT_TOKEN": "100000:test-token"}
    return await finish(spawn(["run", "--config", str(config)], prefix, env=api_token))


def spawn(
    args: list[str], prefix: list[str] | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*(prefix or []), sys.executable, str(ROOT / "bot.py"), *args],
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def finish(bot: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Wait for the bot to exit by itself; a hang fails the test (and the bot is killed)."""
    try:
        # The stand-in shares this event loop: wait without blocking it.
        _, errors = await asyncio.to_thread(bot.communicate, timeout=EXIT_WAIT)
    except subprocess.TimeoutExpired:
        bot.kill()
        _, errors = bot.communicate()
        pytest.fail(f"the bot hung instead of exiting:\n{errors.decode()[-2000:]}")
    return bot.returncode, errors.decode()


def assert_one_line_naming(errors: str, db: Path, advice: str) -> None:
    assert "Traceback" not in errors, errors
    problems = [line for line in errors.splitlines() if line.startswith("error:")]
    assert len(problems) == 1, errors
    assert str(db) in problems[0] and advice in problems[0], problems[0]


def unprivileged() -> list[str]:
    """A prefix that runs the bot bound by file modes.

    root writes a 0444 file regardless (CAP_DAC_OVERRIDE); without that
    capability in its bounding set, even root gets EACCES like anyone else.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot stop root's writes")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)
