"""The WeChat channel: the Official Account's residents, on the same domain as Telegram's.

WeChat pushes each message or event to the callback server; `receive` resolves
who wrote (our resident id for the openid), what the message means (a tap on a
numbered menu, a typed number, the answer to a question asked, a ticket to look
up, or something to report) and hands it to the one resident dialogue. The
replies go back as WeChat can show them: one plain text as the passive reply;
choices as a customer-service `msgmenu` whose items are numbered, so that a tap
or the typed number picks one. The outbox's messages to WeChat residents (the
ticket, each step of their case, a group's question) go out through the
WeChat courier.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from aiohttp import web

from dialogue import callbacks, texts
from dialogue.choices import flat
from dialogue.quiz import QuizDialogue
from dialogue.render import Renderer
from dialogue.resident import Pressed, Reply, ResidentDialogue
from handlers.wechat.callback import CallbackConfig, WeChatCallback
from handlers.wechat.client import WeChatApiError, WeChatClient
from handlers.wechat.delivery import WeChatCourier
from handlers.wechat.inbound import Inbound
from handlers.wechat.menus import MENU_HEAD_BYTES, MENU_ITEMS, TEXT_BYTES, numbered
from handlers.wechat.pusher import WeChatPusher
from quizzes.push import PushService
from quizzes.service import QuizService
from quizzes.survey import SurveyService
from reports.delivery import OutboxService
from reports.message_refs import AWAITED, CARD, PROMPT, RELAY, SURVEY_REASON
from reports.outbox import WECHAT
from reports.services import ReportServices
from reports.throttle import Throttle, Verdict
from reports.tickets import parse_ticket
from settings import MenuButton, Settings, WeChatSettings
from storage.db import is_storage_fault

log = logging.getLogger(__name__)

# A numbered menu answers a tap or a typed number for this long; then "1" is just text.
MENU_SECONDS = 24 * 3600
# What a question asked (a group's, the 不满意 comment) waits for its answer.
AWAIT_SECONDS = 2 * 3600
# The words each channel says its own way (see dialogue.resident.ResidentDialogue.say).
WORDING = {
    "WELCOME": texts.WECHAT_WELCOME,
    "HELP": texts.WECHAT_HELP,
    "CHITCHAT": texts.WECHAT_CHITCHAT,
    "STATUS_USAGE": texts.WECHAT_STATUS_USAGE,
    "LOCATION_REQUEST": texts.WECHAT_LOCATION_REQUEST,
    "NOMINATION_LOCATION_REQUEST": texts.WECHAT_NOMINATION_LOCATION_REQUEST,
    "QUIZ_OFFER": texts.WECHAT_QUIZ_OFFER,
    "DRAFT_SUBMITTED": texts.WECHAT_DRAFT_SUBMITTED,
    "DRAFT_ALREADY_SUBMITTED": texts.WECHAT_DRAFT_ALREADY_SUBMITTED,
    "MY_REPORTS_HINT": texts.WECHAT_MY_REPORTS_HINT,
    "DRAFT_NO_LOCATION": texts.WECHAT_DRAFT_NO_LOCATION,
    "REOPEN_ASK": texts.WECHAT_REOPEN_ASK,
}
# A display name for the rankings, chosen with "昵称 ...".
NICKNAME_CHARS = 12


class WeChatChannel:
    """The Official Account: callback server in, customer-service messages out."""

    def __init__(
        self,
        settings: Settings,
        wechat: WeChatSettings,
        reports: ReportServices,
        quizzes: QuizService,
        surveys: SurveyService,
        pushes: PushService,
        throttle: Throttle,
        outbox: OutboxService,
        client: WeChatClient | None = None,
    ) -> None:
        self.settings = settings
        self.wechat = wechat
        self.reports = reports
        self.quizzes = quizzes
        self.throttle = throttle
        self.render = render = Renderer(settings, WORDING)
        self.client = client or WeChatClient(wechat.app_id, wechat.app_secret, wechat.api_base_url)
        self.dialogue = ResidentDialogue(reports, render, settings)
        self.quiz = QuizDialogue(
            quizzes, surveys, subscribed=texts.WECHAT_SUBSCRIBED, no_points=texts.WECHAT_RANK_NONE
        )
        self.callback = WeChatCallback(
            CallbackConfig.from_settings(wechat), self.receive, self.deliver_late
        )
        self.courier = WeChatCourier(
            self.client,
            outbox,
            reports,
            render,
            wechat.templates,
            idle_poll=settings.outbox.idle_poll_seconds,
        )
        self.pusher = WeChatPusher(self.client, pushes, reports.residents, reports.message_refs)
        pushes.listeners.append(self.pusher.wake)
        self._runner: web.AppRunner | None = None
        self.port = wechat.port

    # -- Running

    async def start(self) -> None:
        """Serve the callback URL, and install the account's menu (if config has one)."""
        app = web.Application()
        app.add_routes(self.callback.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.wechat.host, self.wechat.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("WeChat callback on %s", self.callback_url)
        self.courier.start()
        self.pusher.start()
        await self.install_menu()

    @property
    def callback_url(self) -> str:
        """The URL WeChat posts to (服务器地址), as bound (behind a proxy: its public one)."""
        return f"http://{self.wechat.host}:{self.port}{self.wechat.path}"

    async def stop(self) -> None:
        await self.callback.close()
        await self.courier.stop()
        await self.pusher.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.client.close()

    async def install_menu(self) -> bool:
        """Create the custom menu from config; False (logged) if WeChat refused it."""
        if not self.wechat.menu:
            return False
        problem = await install_menu(self.wechat, self.client)
        if problem:
            log.error("WeChat refused the menu from [wechat] menu: %s", problem)
        return not problem

    # -- What arrives

    async def receive(self, inbound: Inbound) -> str | None:
        """Act on one push; the passive reply's text, or None (replies sent as messages).

        A failure is the resident's to know: what was not stored is said to be unsent.
        """
        try:
            return await self._receive(inbound)
        except Exception as exc:
            if is_storage_fault(exc):
                log.error("WeChat push %s: the database could not be used: %s", inbound.key, exc)
                return texts.NOT_SAVED
            log.exception("WeChat push %s failed", inbound.key)
            return texts.ERROR

    async def _receive(self, inbound: Inbound) -> str | None:
        residents = self.reports.residents
        resident = await residents.resolve(WECHAT, inbound.openid)
        if inbound.event != "unsubscribe":
            # WeChat lets the account answer for 48 hours after this: pushes ask.
            await residents.wrote(resident, self.reports.shared.clock())
        if inbound.kind == "event":
            return await self._event(resident, inbound)
        decision = self.throttle.check(resident, inbound.created_at.timestamp(), None)
        if decision.verdict is Verdict.WARN:
            return texts.TOO_FAST.format(seconds=decision.wait)
        if decision.verdict is not Verdict.ADMIT:
            return None
        if inbound.kind == "text":
            return await self._text(resident, inbound)
        if inbound.kind == "voice":
            if not inbound.text.strip():
                return texts.WECHAT_VOICE_UNHEARD
            return await self._text(resident, inbound)
        if inbound.kind == "image":
            return await self._photo(resident, inbound)
        if inbound.kind == "location" and inbound.latitude is not None:
            assert inbound.longitude is not None
            replies = await self.dialogue.location(
                resident, inbound.latitude, inbound.longitude, inbound.label
            )
            return await self.show(inbound.openid, replies)
        return texts.WECHAT_UNSUPPORTED

    async def _event(self, resident: int, inbound: Inbound) -> str | None:
        if inbound.event == "subscribe":
            return await self.show(inbound.openid, self.dialogue.welcome())
        if inbound.event == "unsubscribe":
            await self.quizzes.subscribe(resident, False)  # nothing is pushed to them now
            return None
        if inbound.event == "click":
            return await self._click(resident, inbound)
        return None

    async def _click(self, resident: int, inbound: Inbound) -> str | None:
        key = inbound.event_key
        if key == "how_to_report":
            return texts.WECHAT_HELP
        if key == "my_reports":
            return await self.show(inbound.openid, await self.dialogue.my_reports(resident))
        if key == "daily_quiz":
            return await self.show(inbound.openid, await self._start_quiz(resident, inbound))
        if key == "survey":
            return await self.show(inbound.openid, self.quiz.survey())
        log.warning("WeChat menu click with a key we do not know: %r", key)
        return texts.WECHAT_HELP

    async def _text(self, resident: int, inbound: Inbound) -> str | None:
        openid, text = inbound.openid, inbound.text.strip()
        refs = self.reports.message_refs
        number = inbound.menu_choice or (text if text.isdigit() else "")
        if number:
            data = await refs.menu_choice(WECHAT, openid, number, MENU_SECONDS)
            if data is not None:
                return await self._press(resident, inbound, data)
            if inbound.menu_choice:
                return texts.WECHAT_MENU_STALE
        if text in (texts.WECHAT_SUBSCRIBE_WORD, texts.WECHAT_UNSUBSCRIBE_WORD):
            on = text == texts.WECHAT_SUBSCRIBE_WORD
            await self.quizzes.subscribe(resident, on)
            return texts.WECHAT_SUBSCRIBED if on else texts.WECHAT_UNSUBSCRIBED
        if text in texts.WECHAT_RANK_WORDS:
            return await self.show(openid, await self.quiz.ranking(resident, self.render.tz))
        if text.startswith(texts.WECHAT_NICKNAME_WORD):
            return await self._nickname(resident, text.removeprefix(texts.WECHAT_NICKNAME_WORD))
        if _asks_status(text):
            typed = text.removeprefix(texts.WECHAT_STATUS_WORD).strip()
            return await self.show(openid, await self.dialogue.status(resident, typed))
        # Not a command: the answer to what was asked last, if anything was.
        awaited = await refs.awaited(WECHAT, openid, AWAIT_SECONDS)
        if awaited is not None:
            await refs.forget(WECHAT, openid, AWAITED)
            if awaited.subject == PROMPT:
                prompt = await self.reports.cases.get_prompt(awaited.subject_id)
                if prompt is not None:
                    return await self.show(
                        openid, await self.dialogue.comment(resident, prompt, text)
                    )
            elif awaited.subject == RELAY:
                asked = await self.reports.cases.get_report(awaited.subject_id)
                return await self.show(openid, await self.dialogue.answer(resident, asked, text))
            elif awaited.subject == SURVEY_REASON:
                return await self.show(openid, await self.quiz.reason_text(resident, text))
            elif awaited.subject == CARD:
                draft = await self.reports.drafting.open_draft(resident)
                if draft is not None and draft.id == awaited.subject_id:
                    return await self.show(
                        openid, await self.dialogue.address(resident, draft, text)
                    )
        return await self.show(openid, await self.dialogue.text(resident, text))

    async def _photo(self, resident: int, inbound: Inbound) -> str | None:
        """Fetch the photo from WeChat (its media id lasts three days) and keep its bytes."""
        try:
            data = await self.client.download_media(inbound.media_id)
        except (WeChatApiError, OSError) as exc:
            log.warning("WeChat photo %s could not be fetched: %s", inbound.media_id, exc)
            return texts.WECHAT_PHOTO_LOST
        kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        photo = await self.reports.media.keep(WECHAT, inbound.media_id, kind, data)
        replies = await self.dialogue.photo(resident, photo, "")
        return await self.show(inbound.openid, replies)

    async def _press(self, resident: int, inbound: Inbound, data: str) -> str | None:
        """A numbered choice: the quiz's and the survey's, or the resident dialogue's."""
        button = callbacks.parse(data)
        if button is not None and button.scope == "q":
            if button.action == "go":
                return await self.show(inbound.openid, await self._start_quiz(resident, inbound))
            return await self._pressed(inbound.openid, await self.quiz.press(resident, button))
        return await self._pressed(inbound.openid, await self.dialogue.press(resident, data))

    async def _start_quiz(self, resident: int, inbound: Inbound) -> list[Reply]:
        """A round of the quiz, asked as numbered choices; the ranking names the resident
        by a masked name (WeChat gives no nickname) until they choose one."""
        if await self.quizzes.player_name(resident) is None:
            tag = hashlib.sha256(inbound.openid.encode()).hexdigest()[:4]
            name = texts.WECHAT_MASKED_NAME.format(tag=tag)
            await self.quizzes.remember_player(resident, name, as_is=True)
        return await self.quiz.start(resident)

    async def _nickname(self, resident: int, typed: str) -> str:
        name = typed.strip(" ：:")
        if not 1 <= len(name) <= NICKNAME_CHARS:
            return texts.WECHAT_NICKNAME_BAD.format(limit=NICKNAME_CHARS)
        await self.quizzes.remember_player(resident, name, as_is=True)
        return texts.WECHAT_NICKNAME_SET.format(name=name)

    # -- What goes back

    async def show(self, openid: str, replies: list[Reply]) -> str | None:
        """One plain text is the passive reply; anything else goes as messages."""
        shown = [r for r in replies if not r.quiet]
        refs = self.reports.message_refs
        for reply in shown:
            if reply.asks_comment is not None:
                await refs.remember(WECHAT, openid, AWAITED, PROMPT, reply.asks_comment)
            if reply.asks_address is not None:
                await refs.remember(WECHAT, openid, AWAITED, CARD, reply.asks_address)
            if reply.asks_survey_reason:
                await refs.remember(WECHAT, openid, AWAITED, SURVEY_REASON, 0)
        if len(shown) == 1 and not shown[0].choices:
            return _fit(shown[0].text, TEXT_BYTES)
        for reply in shown:
            await self.send(openid, reply)
        return None

    async def _pressed(self, openid: str, pressed: Pressed) -> str | None:
        replies = list(pressed.replies)
        if pressed.notice and not pressed.passing:
            replies.insert(0, Reply(pressed.notice))
        return await self.show(openid, replies)

    async def send(self, openid: str, reply: Reply) -> None:
        """One reply as a customer-service message: choices as a numbered msgmenu."""
        choices = flat(reply.choices)
        try:
            if not choices:
                await self.client.send_text(openid, _fit(reply.text, TEXT_BYTES))
                return
            head = reply.text
            if len(head.encode()) > MENU_HEAD_BYTES:
                await self.client.send_text(openid, _fit(head, TEXT_BYTES))
                head = texts.WECHAT_MENU_HEAD
            items, tail = numbered(choices)
            parts = [items[i : i + MENU_ITEMS] for i in range(0, len(items), MENU_ITEMS)]
            for n, part in enumerate(parts):
                last = n == len(parts) - 1
                await self.client.send_menu(
                    openid, head if n == 0 else texts.WECHAT_MENU_MORE, part, tail if last else ""
                )
            await self.reports.message_refs.remember_menu(WECHAT, openid, [c.data for c in choices])
        except WeChatApiError as exc:
            # What the resident sent is stored; only this answer is lost to them.
            log.warning("WeChat reply to %s not sent: %s", openid, exc)

    async def deliver_late(self, openid: str, text: str) -> None:
        """A passive reply that missed WeChat's 5 s goes as a customer-service message."""
        await self.send(openid, Reply(text))


def _asks_status(text: str) -> bool:
    """「查询 …」, or a ticket on its own."""
    return text.startswith(texts.WECHAT_STATUS_WORD) or parse_ticket(text) is not None


def _fit(text: str, limit: int) -> str:
    """Cut a text to WeChat's byte limit, at a character, marked."""
    if len(text.encode()) <= limit:
        return text
    mark = "…"
    budget = limit - len(mark.encode())
    cut = text.encode()[:budget].decode("utf-8", errors="ignore")
    return cut + mark


async def install_menu(wechat: WeChatSettings, client: WeChatClient | None = None) -> str:
    """Create the account's custom menu from [wechat] menu; WeChat's refusal, or "" if none."""
    own = client is None
    client = client or WeChatClient(wechat.app_id, wechat.app_secret, wechat.api_base_url)
    try:
        await client.create_menu([_menu_button(b) for b in wechat.menu])
    except (WeChatApiError, OSError) as exc:
        return str(exc)
    finally:
        if own:
            await client.close()
    return ""


def _menu_button(button: MenuButton) -> dict[str, Any]:
    if button.sub_buttons:
        return {"name": button.name, "sub_button": [_menu_button(b) for b in button.sub_buttons]}
    return {"type": "click", "name": button.name, "key": button.key}
