"""The Telegram channel of a runtime: the PTB Application, its handlers and jobs, and its workers.

`runtime.py` builds what every channel shares (the database and the services
of `reports/` and `quizzes/`) and hands those services to `TelegramChannel`.
Everything that knows python-telegram-bot — the ApplicationBuilder and its
transport, the handler order, polling, the JobQueue, the outbox courier and
the pusher that send through the Bot API — is built and started here, so the
runtime itself imports no messaging SDK.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

from telegram import BotCommand
from telegram.ext import ApplicationBuilder, Defaults

from dialogue import texts
from dialogue.group import GroupDialogue
from dialogue.quiz import QuizDialogue
from dialogue.render import Renderer
from dialogue.resident import ResidentDialogue
from handlers.telegram import (
    errors,
    export,
    faq_gaps,
    group,
    guards,
    jobs,
    push,
    quiz,
    resident,
    stats,
    survey,
)
from handlers.telegram.delivery import Courier
from handlers.telegram.deps import CONTEXT_TYPES, BotApplication, Deps
from handlers.telegram.inbox import RecordingGetUpdates, RecordingQueue
from handlers.telegram.members import MembershipCache
from handlers.telegram.pacer import Pacer
from handlers.telegram.processor import PerChatUpdateProcessor
from handlers.telegram.pusher import Pusher
from handlers.telegram.transport import AiohttpRequest
from quizzes.push import PushService
from quizzes.service import QuizService
from quizzes.survey import SurveyService
from reports.delivery import OutboxService
from reports.inbox import Inbox
from reports.leadership import Leadership
from reports.outbox import TELEGRAM
from reports.services import ReportServices
from reports.throttle import Throttle
from settings import Settings

log = logging.getLogger("civic")

# The update types the handlers read, asked for by name whether by polling or by
# webhook: unnamed, Telegram keeps whatever a previous getUpdates or setWebhook asked
# for. Add a type here with the first handler for it.
ALLOWED_UPDATES = ("message", "callback_query", "poll_answer")


class TelegramChannel:
    """The PTB Application (polling, or serving a webhook), the courier and the pusher.

    Start it after the database is open and stop it before the database closes:
    application → polling or webhook → courier and pusher → jobs.
    """

    def __init__(
        self,
        settings: Settings,
        token: str,
        *,
        reports: ReportServices,
        outbox: OutboxService,
        quizzes: QuizService,
        pushes: PushService,
        surveys: SurveyService,
        throttle: Throttle,
        leadership: Leadership,
        inbox: Inbox | None = None,
        base_url: str | None = None,
        base_file_url: str | None = None,
        poll_timeout: int | None = None,
    ) -> None:
        self.settings = settings
        self.poll_timeout = settings.telegram.poll_timeout if poll_timeout is None else poll_timeout
        # Updates go through the inbox when there is one (see handlers/telegram/inbox.py).
        self.queue = RecordingQueue(inbox) if inbox is not None else None
        self.app = build_application(
            settings, token, self.poll_timeout, base_url, base_file_url, self.queue
        )
        if inbox is not None and self.queue is not None:
            queue = self.queue
            inbox.resume_with(TELEGRAM, lambda received: queue.resume(received, self.app.bot))
        render = Renderer(settings)
        self.pacer: Pacer = self.app.bot.rate_limiter  # type: ignore[assignment]
        self.courier = Courier(
            self.app.bot,
            outbox,
            reports,
            render,
            concurrency=settings.outbox.concurrency,
            idle_poll=settings.outbox.idle_poll_seconds,
            send_timeout=settings.outbox.send_timeout_seconds,
        )
        self.pusher = Pusher(self.app.bot, pushes, settings.quiz_push_rate)
        self.deps = Deps(
            settings=settings,
            drafting=reports.drafting,
            filing=reports.filing,
            cases=reports.cases,
            ratings=reports.ratings,
            office=reports.office,
            relays=reports.relays,
            residents=reports.residents,
            group_chats=reports.group_chats,
            retention=reports.retention,
            message_refs=reports.message_refs,
            staff=reports.staff,
            render=render,
            dialogue=ResidentDialogue(reports, render, settings),
            quiz_dialogue=QuizDialogue(quizzes, surveys),
            group_dialogue=GroupDialogue(reports, render),
            members=MembershipCache(settings.reports.member_cache_seconds),
            courier=self.courier,
            quizzes=quizzes,
            pushes=pushes,
            pusher=self.pusher,
            surveys=surveys,
            throttle=throttle,
            questions=reports.questions,
            leadership=leadership,
        )
        self.app.bot_data.deps = self.deps
        register_handlers(self.app)
        leadership.listeners.append(self._took_over)

    def _took_over(self, leading: bool) -> None:
        """Taking the lead while running (another process led): run what fell due meanwhile."""
        if leading and self.app.running:
            catch_up(self.app, self.settings, datetime.now().astimezone())

    async def start(self) -> None:
        """Initialize, poll or serve the webhook, start the courier and pusher, schedule jobs."""
        await self.app.initialize()
        with contextlib.suppress(Exception):  # a menu is a nicety, not a reason to fail
            await self.app.bot.set_my_commands([BotCommand(c, d) for c, d in texts.BOT_COMMANDS])
        await self._receive_updates()
        await self.app.start()
        self.courier.start()
        self.pusher.start()
        resumed = await quiz.resume_open_questions(self.app)
        if resumed:
            log.info("timing out %d open quiz question(s) again after the restart", resumed)
        schedule_jobs(self.app, self.settings)

    async def _receive_updates(self) -> None:
        """Long polling, or PTB's webhook server (which sets the webhook with the secret)."""
        tg = self.settings.telegram
        if not tg.by_webhook:
            # Polling deletes a webhook that is set: then this process gets every update.
            await self.app.updater.start_polling(
                poll_interval=0,
                timeout=self.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            return
        # The server refuses (403) a post without the secret in its
        # X-Telegram-Bot-Api-Secret-Token header; TLS is the reverse proxy's.
        await self.app.updater.start_webhook(
            listen=tg.webhook_listen,
            port=tg.webhook_port,
            url_path=tg.webhook_path,
            webhook_url=tg.webhook_url,
            secret_token=tg.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        log.info(
            "Telegram posts updates to %s (served on %s:%d%s)",
            tg.webhook_url,
            tg.webhook_listen,
            tg.webhook_port,
            tg.webhook_path,
        )

    async def stop(self) -> None:
        """Stop whatever is running; safe after a start that failed half-way, and twice."""
        await self.pusher.stop()
        await self.courier.stop()
        # With a webhook this stops only the local server: the webhook stays set at
        # Telegram, deliberately. Several processes behind a load balancer serve the one
        # URL, and one of them stopping (a restart, a scale-down) must not cut the others
        # off; while none answers, Telegram keeps the updates and posts them again later.
        if self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


def build_application(
    settings: Settings,
    token: str,
    poll_timeout: int,
    base_url: str | None = None,
    base_file_url: str | None = None,
    queue: RecordingQueue | None = None,
) -> BotApplication:
    """The Application: Shanghai time, typed context, per-chat order, paced sends, aiohttp;
    its updates recorded in the inbox on their way in when `queue` is given."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(tzinfo=ZoneInfo(settings.timezone)))
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(PerChatUpdateProcessor(settings.telegram.concurrent_updates, queue))
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
    )
    # A long poll must outlast its own timeout before it counts as timed out.
    polls = {"connection_pool_size": 4, "read_timeout": poll_timeout + 10}
    builder = builder.get_updates_request(
        AiohttpRequest(**polls) if queue is None else RecordingGetUpdates(queue, **polls)
    )
    if queue is not None:
        builder = builder.update_queue(queue)
    base_url = base_url or settings.telegram.base_url
    if base_url:
        builder = builder.base_url(base_url)
        builder = builder.base_file_url(
            base_file_url or settings.telegram.base_file_url or file_url(base_url)
        )
    return builder.build()


def register_handlers(app: BotApplication) -> None:
    """Add every flow's handlers in the order they must be tried, and the error handler."""
    # Order matters: the guards (group -1) before everything (edited messages
    # and buttons not ours stop there), /bind before the resident's
    # unknown-command catch-all, and the stale-button answer after every real
    # button handler.
    guards.register(app)
    group.register(app)
    export.register(app)
    stats.register(app)
    faq_gaps.register(app)
    quiz.register(app)
    push.register(app)
    survey.register(app)
    resident.register(app)
    group.register_fallbacks(app)
    app.add_error_handler(errors.report_error)


# A daily job that fell due less than this long before a process took the lead is run
# when it takes it: the leader that died just before could not run it, and the others
# did not lead yet when it fell due. Each of these jobs claims its period (job_runs,
# push_runs), so one the old leader did run is not done twice.
CATCH_UP_SECONDS = 3600.0


def daily_jobs(
    settings: Settings,
) -> list[tuple[str, Callable[..., Any], dt_time, tuple[int, ...]]]:
    """The jobs run at a time of day: (name, callback, time, the days (0 = Sunday) or all)."""
    tz = ZoneInfo(settings.timezone)

    def at(hh_mm: str) -> dt_time:
        hour, minute = map(int, hh_mm.split(":"))
        return dt_time(hour, minute, tzinfo=tz)

    every_day = tuple(range(7))
    return [
        ("digest", jobs.send_digests, at(settings.reports.digest_time), every_day),
        ("quiz-push", push.push_daily_quiz, at(settings.quiz_daily_time), every_day),
        # PTB counts 0 = Sunday
        ("weekly", jobs.send_weekly_report, at(settings.weekly_time), (settings.weekly_day % 7,)),
    ]


def schedule_jobs(app: BotApplication, settings: Settings) -> None:
    """Deadlines, digests, the daily quiz push, the weekly report and retention, on the JobQueue.

    On every process: each job does its work only where the process leads (see
    `handlers.telegram.jobs`).
    """
    interval = settings.reports.overdue_check_seconds
    app.job_queue.run_repeating(
        jobs.check_deadlines, interval=interval, first=interval, name="deadlines"
    )
    for name, callback, time_of_day, days in daily_jobs(settings):
        app.job_queue.run_daily(callback, time=time_of_day, days=days, name=name)
    # Old closed drafts and delivered outbox rows: a second after start, then daily
    # (an interval job whose first run is already due now would wait a whole interval).
    app.job_queue.run_repeating(jobs.forget_old_records, interval=86400, first=1, name="retention")


def catch_up(app: BotApplication, settings: Settings, now: datetime) -> list[str]:
    """Run now the daily jobs that fell due within CATCH_UP_SECONDS (a process taking over
    the lead); return their names."""
    caught = []
    for name, callback, time_of_day, days in daily_jobs(settings):
        local = now.astimezone(time_of_day.tzinfo)
        due = local.replace(
            hour=time_of_day.hour, minute=time_of_day.minute, second=0, microsecond=0
        )
        if due > local:
            due -= timedelta(days=1)
        if due.isoweekday() % 7 not in days:
            continue
        if (local - due).total_seconds() <= CATCH_UP_SECONDS:
            app.job_queue.run_once(callback, 0, name=f"{name} (caught up)")
            caught.append(name)
    if caught:
        log.info("took over the lead: running %s, due within the hour", ", ".join(caught))
    return caught


def file_url(base_url: str) -> str:
    """The file URL that goes with a Bot API base URL (…/bot → …/file/bot)."""
    stem, _, last = base_url.rstrip("/").rpartition("/")
    return f"{stem}/file/{last}"
