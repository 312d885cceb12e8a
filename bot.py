"""Entry point: the command-line verbs; the runtime (runtime.py) does the wiring.

python bot.py run           [--config F]   long polling (BOT_TOKEN from the environment)
python bot.py demo          [--config F]   the bot and a local web chat, no token needed
                            [--port N] [--empty]   (--empty: without the sample cases)
python bot.py classify      [--config F]   one JSON line per stdin line
python bot.py check-config  [--config F]   list every problem of a config file
python bot.py wechat-menu   [--config F]   install [wechat] menu on the Official Account
python bot.py check-bank    [--config F]   list the quiz bank's content problems, per file
python bot.py where <lat> <lon> | <address>  the area a place is in, as JSON
python bot.py migrate-to <url> [--config F]   move the SQLite database to an empty PostgreSQL one
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from settings import ConfigError, Settings, load_settings

log = logging.getLogger("civic")


async def _serve(start: Callable[[], Awaitable[Any]], stop: Callable[[], Awaitable[Any]]) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly.

    A signal during start-up cancels the start; a start that fails is stopped
    too (whatever it got going, the database's thread above all, would keep
    the process alive), and its error is raised. The signal handlers are
    removed on the way out: the loop's own would otherwise outlive it and
    swallow every later SIGTERM.
    """
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, done.set)
            handled.append(sig)
    try:
        starting = asyncio.ensure_future(start())
        signalled = asyncio.ensure_future(done.wait())
        try:
            await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
            elif starting.exception() is None:
                await signalled
            else:
                starting.result()  # the start's error, after stop() below
        finally:
            signalled.cancel()
            await stop()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def _run(main: Awaitable[None]) -> None:
    """Run on uvloop: measured here, it halves the event loop's share of each update."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def cmd_run(settings: Settings) -> int:
    token = os.environ.get("BOT_TOKEN", "").strip()
    if not token:
        print(
            "error: BOT_TOKEN is not set: export BOT_TOKEN=<token from @BotFather>"
            " (or try the bot without one: python bot.py demo)",
            file=sys.stderr,
        )
        return 1
    from storage.db import DatabaseUnusable, database_for

    async def prove_database() -> None:
        """Open (and migrate) the database and close it again: a database that cannot be
        used stops the bot at once, before seconds go into loading the classifier."""
        await (await database_for(settings.storage_url, settings.storage_path).open()).close()

    try:
        _run(prove_database())
    except DatabaseUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from runtime import Runtime

    runtime = Runtime(settings, token)
    log.info("polling %s", settings.telegram.base_url or "Telegram")
    try:
        _run(_serve(runtime.start, runtime.stop))
    except DatabaseUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(settings: Settings, port: int | None, seed: bool = True) -> int:
    from demo import Demo, PortBusy
    from storage.db import DatabaseUnusable

    demo = Demo(settings, port=port, seed=seed)
    try:
        _run(_serve(demo.start, demo.stop))
    except (PortBusy, DatabaseUnusable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_classify(settings: Settings) -> int:
    from reports.intents import build_intent_classifier
    from reports.model import read_examples
    from runtime import build_classifier

    classifier = build_classifier(settings)
    examples = read_examples(settings.examples_dir) if settings.examples_dir else []
    intents = build_intent_classifier(classifier, examples)
    out = sys.stdout
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        result = classifier.classify(text)
        record = {
            "text": text,
            "intent": intents.classify(text, result).kind,
            "category": result.category,
            "group": settings.categories[result.category].group,
            "confidence": result.confidence,
            "keywords": list(result.keywords),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def cmd_check_config(settings: Settings) -> int:
    bound = sum(1 for g in settings.groups.values() if g.chat_id)
    terms = sum(
        len(c.keywords.terms) + len(c.keywords.phrases) for c in settings.categories.values()
    )
    print(
        f"{settings.source}: OK — {len(settings.groups)} groups ({bound} with chat_id),"
        f" {len(settings.categories)} categories, {terms} keywords, {len(settings.admins)} admins"
    )
    tg = settings.telegram
    if tg.by_webhook:
        print(
            f"Telegram by webhook {tg.webhook_url}: served on"
            f" {tg.webhook_listen}:{tg.webhook_port}{tg.webhook_path}, secret set"
        )
    if settings.faq.dir is not None:
        print(
            f"FAQ {settings.faq.dir}: {len(settings.faq.entries)} answers,"
            f" min_score {settings.faq.min_score}"
        )
    areas = settings.areas
    if areas:
        kinds = "、".join(
            f"{sum(1 for a in areas if a.kind == kind)} {kind}" for kind in ("社区", "村", "路段")
        )
        leaders = sum(len(a.leaders) for a in areas)
        print(f"Areas {areas.source}: {kinds}, {_count(leaders, 'leader')}")
    wechat = settings.wechat
    if wechat is not None:
        mode = "safe mode (encrypted)" if wechat.encoding_aes_key else "plaintext mode"
        if wechat.encoding_aes_key and wechat.plaintext:
            mode = "safe or compatible mode (plaintext accepted too)"
        print(
            f"WeChat {wechat.app_id}: {mode}, callback on {wechat.host}:{wechat.port}{wechat.path},"
            f" {len(wechat.menu)} menu buttons, {len(wechat.templates)} templates"
        )
    wecom = settings.wecom
    if wecom is not None:
        on_wecom = [g.key for g in settings.groups.values() if g.on_wecom]
        robots = sum(1 for g in settings.groups.values() if g.wecom_robot_key)
        admins = len(wecom.admins)
        print(
            f"WeCom {wecom.corp_id} agent {wecom.agent_id}: callback on"
            f" {wecom.host}:{wecom.port}{wecom.path}, {_count(len(on_wecom), 'group')} on WeCom"
            f" ({', '.join(on_wecom) or 'none'}), {robots} with a group robot,"
            f" {_count(admins, 'admin')}"
        )
    return 0


def cmd_where(settings: Settings, place: list[str]) -> int:
    """Print the area a point or a typed address is placed in, as one JSON object."""
    areas = settings.areas
    lat = lon = None
    address: str | None = " ".join(place).strip()
    if len(place) == 2:
        try:
            lat, lon = float(place[0]), float(place[1])
            address = None
        except ValueError:
            pass
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        print(f"error: ({lat}, {lon}) is not a latitude and a longitude", file=sys.stderr)
        return 1
    if lat is None and not address:
        print("error: where <lat> <lon>, or where <address>", file=sys.stderr)
        return 1
    area = areas.place(lat, lon, address)
    record: dict[str, Any] = {"latitude": lat, "longitude": lon, "address": address}
    record["area"] = None
    if area is not None:
        record["area"] = {
            "key": area.key,
            "name": area.name,
            "kind": area.kind,
            "population": area.population,
            "leaders": [leader.name for leader in area.leaders],
        }
        if lat is not None and lon is not None and area.is_road:
            community = areas.community_at(lat, lon)
            record["community"] = community.key if community else None
    print(json.dumps(record, ensure_ascii=False))
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def cmd_wechat_menu(settings: Settings) -> int:
    """Install the custom menu of [wechat] on the Official Account (also done at start)."""
    wechat = settings.wechat
    if wechat is None or not wechat.menu:
        print("error: no [wechat] menu in the config: add [[wechat.menu]] buttons", file=sys.stderr)
        return 1
    from handlers.wechat.app import install_menu

    problem = asyncio.run(install_menu(wechat))
    if problem:
        print(f"error: WeChat refused the menu: {problem}", file=sys.stderr)
        return 1
    names = "、".join(button.name for button in wechat.menu)
    print(f"WeChat {wechat.app_id}: menu installed ({names})")
    return 0


def cmd_check_bank(settings: Settings) -> int:
    """Print the bank's content problems topic by topic (quizzes/bank_checks.py); 1 if any."""
    import datetime

    from quizzes.bank import load_bank
    from quizzes.bank_checks import check_bank

    bank = load_bank(settings.quiz_bank_dir)
    problems = check_bank(bank, datetime.date.today())
    for problem in problems:
        print(problem)
    topics = len({p.topic for p in problems})
    if problems:
        print(f"{_count(len(problems), 'problem')} in {topics} of {len(bank.topics)} topics")
        return 1
    print(f"{settings.quiz_bank_dir}: OK — {len(bank)} questions in {len(bank.topics)} topics")
    return 0


def cmd_migrate_to(settings: Settings, place: list[str]) -> int:
    """Move the configured SQLite database to the empty PostgreSQL database at the URL.

    Exit 2 when the move is refused before it starts (a URL of another kind, a source
    behind this version's migrations, a server out of reach, a target holding data),
    1 when it fails part-way (the target is left empty), 0 when every count matched.
    """
    from storage.copy import MoveFailed, MoveRefused, check_url, move
    from storage.errors import DatabaseUnusable

    if len(place) != 1:
        print("error: migrate-to <postgresql://user@host:port/database>", file=sys.stderr)
        return 2

    def table_done(table: str, rows: int, seconds: float) -> None:
        print(f"{table}: {_count(rows, 'row')} ({seconds:.1f} s)", flush=True)

    try:
        check_url(place[0])
        moved = asyncio.run(move(settings.storage_path, place[0], table_done))
    except (MoveRefused, DatabaseUnusable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MoveFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rate = moved.rows / moved.seconds if moved.seconds else 0
    print(
        f"moved {moved.source} to {moved.target}: {_count(moved.rows, 'row')} in"
        f" {len(moved.tables)} tables in {moved.seconds:.1f} s ({rate:,.0f} rows/s),"
        " row counts verified"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="文明城区 resident bot")
    parser.add_argument(
        "verb",
        choices=[
            "run",
            "demo",
            "classify",
            "check-config",
            "check-bank",
            "wechat-menu",
            "where",
            "migrate-to",
        ],
    )
    parser.add_argument(
        "place", nargs="*", help="where: <lat> <lon>, or an address; migrate-to: <url>"
    )
    parser.add_argument("--config", type=Path, default=None, help="config file (config.toml)")
    parser.add_argument("--port", type=int, default=None, help="demo: web chat port ([demo] port)")
    parser.add_argument(
        "--empty", action="store_true", help="demo: start without the sample cases (faster)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings(args.config)
        if args.verb != "classify":
            from quizzes.bank import load_bank

            load_bank(settings.quiz_bank_dir)  # every problem of every question file, named
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except Exception as exc:  # BankError: the question files
        for problem in getattr(exc, "problems", [str(exc)]):
            print(f"error: {problem}", file=sys.stderr)
        return 1
    verbs: dict[str, Callable[[], int]] = {
        "run": lambda: cmd_run(settings),
        "demo": lambda: cmd_demo(settings, args.port, seed=not args.empty),
        "classify": lambda: cmd_classify(settings),
        "check-config": lambda: cmd_check_config(settings),
        "check-bank": lambda: cmd_check_bank(settings),
        "wechat-menu": lambda: cmd_wechat_menu(settings),
        "where": lambda: cmd_where(settings, args.place),
        "migrate-to": lambda: cmd_migrate_to(settings, args.place),
    }
    return verbs[args.verb]()


if __name__ == "__main__":
    sys.exit(main())
