"""One running bot: the database, the domain's services and the channels over them.

Channel-neutral: the runtime builds what every channel shares — the database,
the classifier and the services of `reports/` and `quizzes/` — and one adapter
per channel over them (`handlers.telegram.app.TelegramChannel`, which owns
everything python-telegram-bot, and `handlers.wechat.app.WeChatChannel` when
[wechat] is configured). `bot.py` (production), `demo.py` and the
tests build it the same way; nothing here imports a messaging SDK.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from quizzes.bank import load_bank
from quizzes.push import PushService
from quizzes.service import QuizService
from quizzes.survey import SurveyService
from reports.context import group_channels
from reports.delivery import OutboxService, process_id
from reports.inbox import Inbox
from reports.leadership import Every, Leadership
from reports.outbox import TELEGRAM, WECHAT, WECOM
from reports.services import ReportServices
from reports.throttle import Throttle
from settings import Settings
from storage.db import database_for

if TYPE_CHECKING:
    from handlers.telegram.app import TelegramChannel
    from handlers.wechat.app import WeChatChannel
    from handlers.wecom.app import WeComChannel

log = logging.getLogger("civic")

# On a database shared by processes: how often each reads the /bind bindings again, so
# that a /bind handled by one reaches the others' couriers.
BINDINGS_REFRESH_SECONDS = 5.0


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
    """The database, the services, the Telegram channel and its outbox courier, together.

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
        # A channel's SDK loads only when a runtime is built: `bot.py classify` and
        # `check-config` need none of it (PTB and matplotlib take about a second).
        from handlers.telegram.app import TelegramChannel

        self.settings = settings
        self.db = database_for(settings.storage_url, settings.storage_path)
        # This process's name: its heartbeat, the updates it takes in, its outbox claims.
        self.name = process_id()
        self.inbox = Inbox(self.db, self.name, settings.takeover_seconds)
        self.classifier = classifier or build_classifier(settings)
        # One state under every report service (`reports.shared`): a test sets its clock
        # there, once.
        self.reports = reports = ReportServices.build(self.db, settings, self.classifier)
        self.outbox = self._outbox(TELEGRAM)
        self.pushes = PushService(self.db)
        self.quizzes = QuizService(
            self.db, load_bank(settings.quiz_bank_dir), settings.quiz_round_size
        )
        self.surveys = SurveyService(self.db, settings.survey_every_days, areas=settings.areas)
        # The timed jobs run where this process leads (always, on SQLite).
        self.leadership = Leadership(self.db.leader_lock())
        self.pushes.leads = lambda: self.leadership.is_leader
        self.leadership.listeners.append(self._wake_pushers)
        self.refresh: Every | None = None
        # Another process's commit that queued messages wakes the couriers here too.
        self.outbox_listener = self.db.outbox_listener(self._wake_couriers)
        if self.db.shared_by_processes:
            self.refresh = Every(self._refresh, BINDINGS_REFRESH_SECONDS, "bindings-refresh")
        self.telegram: TelegramChannel = TelegramChannel(
            settings,
            token,
            reports=reports,
            outbox=self.outbox,
            quizzes=self.quizzes,
            pushes=self.pushes,
            surveys=self.surveys,
            throttle=Throttle(settings.reports.flood_messages, settings.reports.flood_seconds),
            leadership=self.leadership,
            inbox=self.inbox,
            base_url=base_url,
            base_file_url=base_file_url,
            poll_timeout=poll_timeout,
        )
        self.app = self.telegram.app
        # Telegram's limits are the bot's: each of several processes keeps to its share.
        self.inbox.on_processes.append(self.telegram.pacer.share)
        self.courier = self.telegram.courier
        self.pusher = self.telegram.pusher
        self.deps = self.telegram.deps
        # The Official Account, when [wechat] is configured: its residents share the
        # database, the services and the working groups with Telegram's.
        self.wechat: WeChatChannel | None = None
        if settings.wechat is not None:
            from handlers.wechat.app import WeChatChannel

            self.wechat_outbox = self._outbox(WECHAT)
            self.wechat = WeChatChannel(
                settings,
                settings.wechat,
                reports,
                self.quizzes,
                self.surveys,
                self.pushes,
                Throttle(settings.reports.flood_messages, settings.reports.flood_seconds),
                self.wechat_outbox,
            )
            self.wechat.callback.use_inbox(self.inbox, WECHAT)
        # The working groups' WeCom app, when [wecom] is configured.
        self.wecom: WeComChannel | None = None
        if settings.wecom is not None:
            from handlers.wecom.app import WeComChannel

            self.wecom_outbox = self._outbox(WECOM)
            self.wecom = WeComChannel(settings, settings.wecom, reports, self.wecom_outbox)
            self.wecom.callback.use_inbox(self.inbox, WECOM)
        reports.shared.outbox_listener = self._wake_couriers

    def _outbox(self, channel: str) -> OutboxService:
        """The outbox as one channel's courier sees it (its own items, its own faults)."""
        return OutboxService(
            self.db,
            self.settings.outbox.retry_base_seconds,
            self.settings.outbox.retry_max_seconds,
            notices_group=self.settings.roles.notices,
            channel=channel,
            group_channels=lambda key: group_channels(self.reports.shared, key),
            owner=self.name,
        )

    def _wake_couriers(self) -> None:
        """A commit queued messages: every channel's courier looks for its own."""
        self.courier.wake()
        if self.wechat is not None:
            self.wechat.courier.wake()
        if self.wecom is not None:
            self.wecom.courier.wake()

    async def _refresh(self) -> None:
        """What another process may have changed: the bindings; and listen again if the
        listening connection broke."""
        await self.reports.group_chats.load_bindings()
        await self.outbox_listener.check()

    def _wake_pushers(self, leading: bool) -> None:
        """Taking the lead: the pushers send what the last leader left."""
        if leading:
            self.pusher.wake()
            for wake in self.pushes.listeners:
                wake()

    async def start(self) -> None:
        """Start everything; if any step fails (or is cancelled), stop what had started."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        await self.db.open()
        await self.inbox.open()
        await self.outbox_listener.check()
        await self.reports.group_chats.load_bindings()
        if self.refresh is not None:
            self.refresh.start()
        await self.leadership.start()
        await self.telegram.start()
        if self.wechat is not None:
            await self.wechat.start()
        if self.wecom is not None:
            await self.wecom.start()
        await self.inbox.start()
        for key in self.settings.groups:
            if self.reports.group_chats.group_chat(key) is None:
                log.warning("group %s has no chat yet: set chat_id or send /bind %s", key, key)

    async def stop(self) -> None:
        """Stop whatever is running; safe after a start that failed half-way, and twice."""
        try:
            if self.wecom is not None:
                await self.wecom.stop()
            if self.wechat is not None:
                await self.wechat.stop()
        finally:
            try:
                await self.telegram.stop()
            finally:
                try:
                    await self.inbox.stop()
                    await self.outbox_listener.close()
                    await self.leadership.stop()
                    if self.refresh is not None:
                        await self.refresh.stop()
                finally:
                    await self.db.close()
