"""Entry point and wiring: command-line verbs, the Application and its handlers.

python bot.py run           [--config F]   long polling (BOT_TOKEN from the environment)
python bot.py demo          [--config F]   the bot and a local web chat, no token needed
python bot.py classify      [--config F]   one JSON line per stdin line
python bot.py check-config  [--config F]   list every problem of a config file
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
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from settings import ConfigError, Settings, load_settings

# PTB 22 reports RetryAfter.retry_after as a timedelta with this set, and warns without it.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger("civic")


def build_classifier(settings: Settings) -> Any:
    """The classifier for the configured categories (loads jieba: ~1 s)."""
    from reports.classifier import CategoryRules, Classifier
    from reports.model import read_examples

    rules = [CategoryRules(c.key, c.behaviour, c.keywords) for c in settings.categories.values()]
    examples = read_examples(settings.examples_dir) if settings.examples_dir else []
    examples = [(c, t) for c, t in examples if c in settings.categories]
    return Classifier(
        rules,
        settings.negations,
        cache_dir=settings.storage_path.parent / "jieba-cache",
        examples=examples,
        model_weight=settings.model_weight,
        model_temperature=settings.model_temperature,
    )


class Runtime:
    """The database, the services, the PTB Application and the outbox courier, together.

    Start and stop it in this order (the same in production, the demo and the
    tests): database → application → polling → courier.
    """

    def __init__(
        self,
        settings: Settings,
        token: str,
        classifier: Any | None = None,
        base_url: str | None = None,
        base_file_url: str | None = None,
        poll_timeout: int | None = None,
    ) -> None:
        from telegram.ext import ApplicationBuilder, Defaults

        from handlers import export, group, guards, push, quiz, resident, stats, survey
        from handlers.delivery import Courier
        from handlers.deps import KEY, Deps
        from handlers.group import MembershipCache
        from handlers.pacer import Pacer
        from handlers.processor import PerChatUpdateProcessor
        from handlers.push import Pusher
        from handlers.render import Renderer
        from handlers.transport import AiohttpRequest
        from quizzes.bank import load_bank
        from quizzes.push import PushService
        from quizzes.service import QuizService
        from quizzes.survey import SurveyService
        from reports.delivery import OutboxService
        from reports.service import ReportService
        from reports.throttle import Throttle
        from storage.db import Database

        self.settings = settings
        self.db = Database(settings.storage_path)
        self.classifier = classifier or build_classifier(settings)
        self.service = ReportService(self.db, settings, self.classifier)
        poll = settings.telegram.poll_timeout if poll_timeout is None else poll_timeout
        builder = (
            ApplicationBuilder()
            .token(token)
            .defaults(Defaults(tzinfo=ZoneInfo(settings.timezone)))
            .concurrent_updates(PerChatUpdateProcessor(settings.telegram.concurrent_updates))
            .rate_limiter(
                Pacer(
                    settings.telegram.send_rate,
                    settings.telegram.chat_rate,
                    settings.telegram.group_per_minute,
                    settings.telegram.send_retries,
                )
            )
            # Sends wait long for Telegram's answer: one given up on may still be posted,
            # and posted again by its retry (the courier waits longer still on a retry).
            .request(
                AiohttpRequest(
                    connection_pool_size=32, read_timeout=settings.outbox.send_timeout_seconds
                )
            )
            # A long poll must outlast its own timeout before it counts as timed out.
            .get_updates_request(AiohttpRequest(connection_pool_size=4, read_timeout=poll + 10))
        )
        base_url = base_url or settings.telegram.base_url
        if base_url:
            builder = builder.base_url(base_url)
            builder = builder.base_file_url(
                base_file_url or settings.telegram.base_file_url or _file_url(base_url)
            )
        self.app = builder.build()
        self.poll_timeout = poll
        render = Renderer(settings)
        self.outbox = OutboxService(
            self.db,
            settings.outbox.retry_base_seconds,
            settings.outbox.retry_max_seconds,
            notices_group=settings.roles.notices,
        )
        self.courier = Courier(
            self.app.bot,
            self.outbox,
            self.service,
            render,
            concurrency=settings.outbox.concurrency,
            idle_poll=settings.outbox.idle_poll_seconds,
            send_timeout=settings.outbox.send_timeout_seconds,
        )
        self.service.outbox_listener = self.courier.wake
        self.pushes = PushService(self.db)
        self.pusher = Pusher(self.app.bot, self.pushes, settings.quiz_push_rate)
        self.app.bot_data[KEY] = Deps(
            settings=settings,
            service=self.service,
            render=render,
            members=MembershipCache(settings.reports.member_cache_seconds),
            courier=self.courier,
            quizzes=QuizService(
                self.db, load_bank(settings.quiz_bank_dir), settings.quiz_round_size
            ),
            pushes=self.pushes,
            pusher=self.pusher,
            surveys=SurveyService(self.db, settings.survey_every_days),
            throttle=Throttle(settings.reports.flood_messages, settings.reports.flood_seconds),
        )
        # Order matters: the guards (group -1) before everything (edited messages
        # and buttons not ours stop there), /bind before the resident's
        # unknown-command catch-all, and the stale-button answer after every real
        # button handler.
        guards.register(self.app)
        group.register(self.app)
        export.register(self.app)
        stats.register(self.app)
        quiz.register(self.app)
        push.register(self.app)
        survey.register(self.app)
        resident.register(self.app)
        group.register_fallbacks(self.app)
        self.app.add_error_handler(_report_error)

    async def start(self) -> None:
        """Start everything; if any step fails (or is cancelled), stop what had started."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        from telegram import BotCommand

        from handlers import jobs, push, quiz, texts

        await self.db.open()
        await self.service.load_bindings()
        await self.app.initialize()
        with contextlib.suppress(Exception):  # a menu is a nicety, not a reason to fail
            await self.app.bot.set_my_commands([BotCommand(c, d) for c, d in texts.BOT_COMMANDS])
        await self.app.updater.start_polling(
            poll_interval=0, timeout=self.poll_timeout, drop_pending_updates=False
        )
        await self.app.start()
        self.courier.start()
        self.pusher.start()
        resumed = await quiz.resume_open_questions(self.app)
        if resumed:
            log.info("timing out %d open quiz question(s) again after the restart", resumed)
        interval = self.settings.reports.overdue_check_seconds
        self.app.job_queue.run_repeating(
            jobs.check_deadlines, interval=interval, first=interval, name="deadlines"
        )
        hour, minute = map(int, self.settings.reports.digest_time.split(":"))
        tz = ZoneInfo(self.settings.timezone)
        self.app.job_queue.run_daily(
            jobs.send_digests, time=dt_time(hour, minute, tzinfo=tz), name="digest"
        )
        hour, minute = map(int, self.settings.quiz_daily_time.split(":"))
        self.app.job_queue.run_daily(
            push.push_daily_quiz, time=dt_time(hour, minute, tzinfo=tz), name="quiz-push"
        )
        hour, minute = map(int, self.settings.weekly_time.split(":"))
        self.app.job_queue.run_daily(
            jobs.send_weekly_report,
            time=dt_time(hour, minute, tzinfo=tz),
            days=(self.settings.weekly_day % 7,),  # PTB counts 0 = Sunday
            name="weekly",
        )
        # Old closed drafts and delivered outbox rows: a second after start, then daily
        # (an interval job whose first run is already due now would wait a whole interval).
        self.app.job_queue.run_repeating(
            jobs.forget_old_records, interval=86400, first=1, name="retention"
        )
        for key in self.settings.groups:
            if self.service.group_chat(key) is None:
                log.warning("group %s has no chat yet: set chat_id or send /bind %s", key, key)

    async def stop(self) -> None:
        """Stop whatever is running; safe after a start that failed half-way, and twice."""
        await self.pusher.stop()
        await self.courier.stop()
        try:
            if self.app.updater.running:
                await self.app.updater.stop()
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        finally:
            await self.db.close()


async def _report_error(update: object, context: Any) -> None:
    """Log a handler's failure, answer its button, and tell the resident what was kept."""
    from handlers.errors import report_error

    await report_error(update, context)


def _file_url(base_url: str) -> str:
    """The file URL that goes with a Bot API base URL (…/bot → …/file/bot)."""
    stem, _, last = base_url.rstrip("/").rpartition("/")
    return f"{stem}/file/{last}"


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
    from storage.db import DatabaseUnusable

    runtime = Runtime(settings, token)
    log.info("polling %s", settings.telegram.base_url or "Telegram")
    try:
        _run(_serve(runtime.start, runtime.stop))
    except DatabaseUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(settings: Settings, port: int | None) -> int:
    from demo import Demo, PortBusy
    from storage.db import DatabaseUnusable

    demo = Demo(settings, port=port)
    try:
        _run(_serve(demo.start, demo.stop))
    except (PortBusy, DatabaseUnusable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_classify(settings: Settings) -> int:
    classifier = build_classifier(settings)
    out = sys.stdout
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        result = classifier.classify(text)
        record = {
            "text": text,
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
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="文明城区 resident bot")
    parser.add_argument("verb", choices=["run", "demo", "classify", "check-config"])
    parser.add_argument("--config", type=Path, default=None, help="config file (config.toml)")
    parser.add_argument("--port", type=int, default=None, help="demo: web chat port ([demo] port)")
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
        "demo": lambda: cmd_demo(settings, args.port),
        "classify": lambda: cmd_classify(settings),
        "check-config": lambda: cmd_check_config(settings),
    }
    return verbs[args.verb]()


if __name__ == "__main__":
    sys.exit(main())
