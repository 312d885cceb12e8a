"""The WeCom channel: alerts out as cards (the courier), and in: a member's press on an
alert card, and what they write.

WeCom posts each press (`template_card_event`) and each text to the callback; the
card pressed is found by its task id (an alert of a case's current assignment,
kept in `message_refs` by the courier, with the latest response code that can
update it), the member is checked against the group's WeCom recipients (users,
department, tag) or the office's admins, and the one group dialogue decides.
WeCom has no replies to a message: when a note or a question is asked for, the
member's next text in the app chat (within `[wecom] note_minutes`) is it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web

from dialogue import callbacks, texts
from dialogue.choices import flat
from dialogue.group import (
    GroupDialogue,
    GroupPressed,
    Member,
    NotePromptReply,
    QuestionPromptReply,
)
from dialogue.render import Renderer
from handlers.wecom.callback import Reply, WeComCallback, WeComCallbackConfig
from handlers.wecom.client import WeComApiError, WeComClient
from handlers.wecom.delivery import WeComCourier
from handlers.wecom.inbound import WeComInbound
from reports.delivery import OutboxService
from reports.message_refs import AWAITED, PROMPT, RELAY
from reports.outbox import WECOM
from reports.records import Nomination
from reports.services import ReportServices
from settings import Group, Settings, WeComSettings
from storage.db import is_storage_fault

log = logging.getLogger(__name__)

# WeCom's alert cards are named by their task id; refs keep them under this "chat".
CARDS = "card"


class WeComChannel:
    """The working groups' WeCom app: presses and notes in; answers to the member."""

    def __init__(
        self,
        settings: Settings,
        wecom: WeComSettings,
        reports: ReportServices,
        outbox: OutboxService,
        client: WeComClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.wecom = wecom
        self.reports = reports
        self.client = client or WeComClient(
            wecom.corp_id, wecom.secret, wecom.agent_id, wecom.api_base_url
        )
        self.render = Renderer(settings)
        self.dialogue = GroupDialogue(reports, self.render)
        self.callback = WeComCallback(
            WeComCallbackConfig.from_settings(wecom), self.receive, self.deliver_late
        )
        self.courier = WeComCourier(
            self.client,
            outbox,
            reports,
            self.render,
            settings,
            idle_poll=settings.outbox.idle_poll_seconds,
        )
        self._clock = clock
        # (kind, id) -> (when read, the userids): a group's department or tag, read
        # through the contacts API and kept for [reports] member_cache_seconds.
        self._members: dict[tuple[str, int], tuple[float, frozenset[str]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = wecom.port

    async def start(self) -> None:
        """Serve the callback URL."""
        app = web.Application()
        app.add_routes(self.callback.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.wecom.host, self.wecom.port).start()
        self.port = self._runner.addresses[0][1]
        log.info("WeCom callback on %s", self.callback_url)
        self.courier.start()

    @property
    def callback_url(self) -> str:
        return f"http://{self.wecom.host}:{self.port}{self.wecom.path}"

    async def stop(self) -> None:
        await self.callback.close()
        await self.courier.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.client.close()

    # -- What arrives

    async def receive(self, inbound: WeComInbound) -> Reply | None:
        """Act on one push; the text for the member, or None."""
        try:
            if inbound.kind == "card_press":
                return await self._press(inbound)
            if inbound.kind == "text":
                return await self._text(inbound)
            return None
        except Exception as exc:
            if is_storage_fault(exc):
                log.error("WeCom push %s: the database could not be used: %s", inbound.key, exc)
                return texts.NOT_SAVED
            log.exception("WeCom push %s failed", inbound.key)
            return texts.ERROR

    async def _press(self, inbound: WeComInbound) -> Reply | None:
        refs = self.reports.message_refs
        if inbound.response_code:
            # Each press brings a new code: the card can be updated with it (once, 72 h).
            await refs.set_token(WECOM, CARDS, inbound.task_id, inbound.response_code)
        nomination = await refs.nomination_at(WECOM, CARDS, inbound.task_id)
        if nomination is not None:
            return await self._press_nomination(inbound, nomination)
        report = await refs.report_at_alert(WECOM, CARDS, inbound.task_id)
        if report is None:
            return texts.BUTTON_STALE  # a card of an earlier assignment, or not ours
        group = self.settings.groups.get(report.group_key)
        if group is None or not await self.may_act(inbound.userid, group):
            return texts.WECOM_NO_PERMISSION
        member = await self.member(inbound.userid)
        pressed = await self.dialogue.press(member, report, inbound.button_key)
        return await self._show(inbound.userid, pressed)

    async def _press_nomination(
        self, inbound: WeComInbound, nomination: Nomination
    ) -> Reply | None:
        """选入 / 暂不选入 on a nomination's card, by a member of the praise group (or an admin)."""
        if not await self._may_act_on(inbound.userid, self.settings.roles.praise):
            return texts.NOMINATION_NO_PERMISSION
        member = await self.member(inbound.userid)
        pressed = await self.dialogue.press_nomination(member, nomination, inbound.button_key)
        return pressed.notice

    async def _show(self, userid: str, pressed: GroupPressed) -> str | None:
        """The press's answer and what it asks for, as texts to the member."""
        refs = self.reports.message_refs
        lines = [pressed.notice] if pressed.notice else []
        for reply in pressed.replies:
            lines.append(reply.text)
            if isinstance(reply, NotePromptReply):
                await refs.remember(WECOM, userid, AWAITED, PROMPT, reply.asks_note)
            elif isinstance(reply, QuestionPromptReply):
                await refs.remember(WECOM, userid, AWAITED, RELAY, reply.asks_question)
        if pressed.choices_now is not None:
            # The choices change (转派's groups): on WeCom they are numbered in the chat, and
            # the member's next number picks one (a card holds six buttons at most).
            choices = [c for c in flat(pressed.choices_now) if _is_group_choice(c.data)]
            if choices:
                lines.append(texts.WECOM_CHOOSE)
                lines += [f"{n} {c.label}" for n, c in enumerate(choices, 1)]
                await refs.remember_menu(WECOM, userid, [c.data for c in choices])
        return "\n".join(lines) or None

    async def _text(self, inbound: WeComInbound) -> Reply | None:
        refs = self.reports.message_refs
        text = inbound.text.strip()
        if text.isdigit():
            data = await refs.menu_choice(WECOM, inbound.userid, text, self.wecom.note_minutes * 60)
            if data is not None:
                return await self._choose(inbound.userid, data)
        awaited = await refs.awaited(WECOM, inbound.userid, self.wecom.note_minutes * 60)
        if awaited is None:
            return texts.WECOM_HELP
        await refs.forget(WECOM, inbound.userid, AWAITED)
        if awaited.subject not in (PROMPT, RELAY):
            return texts.WECOM_HELP
        cases = self.reports.cases
        prompt = await cases.get_prompt(awaited.subject_id) if awaited.subject == PROMPT else None
        if awaited.subject == PROMPT and prompt is None:
            return texts.NOTE_USED
        report = await cases.get_report(prompt.report_id if prompt else awaited.subject_id)
        if not await self._may_act_on(inbound.userid, report.group_key):
            return texts.WECOM_NO_PERMISSION
        member = await self.member(inbound.userid)
        if prompt is not None:
            replies = await self.dialogue.note(member, prompt, inbound.text)
        else:
            replies = await self.dialogue.ask(member, report, inbound.text)
        return "\n".join(r.text for r in replies)

    async def _choose(self, userid: str, data: str) -> Reply | None:
        """A numbered choice typed in the chat (a group for 转派): as a press on the alert."""
        button = callbacks.parse(data)
        if button is None or button.scope != "r":
            return texts.BUTTON_STALE
        report = await self.reports.cases.get_report(button.id)
        if not await self._may_act_on(userid, report.group_key):
            return texts.WECOM_NO_PERMISSION
        pressed = await self.dialogue.press(await self.member(userid), report, data)
        return await self._show(userid, pressed)

    async def deliver_late(self, inbound: WeComInbound, reply: Reply) -> None:
        """What missed the passive reply goes to the member through the app."""
        if not isinstance(reply, str):
            return
        try:
            await self.client.send_text(reply, touser=[inbound.userid])
        except (WeComApiError, OSError) as exc:
            log.warning("WeCom answer to %s not sent: %s", inbound.userid, exc)

    # -- Who acts

    async def member(self, userid: str) -> Member:
        """The member acting: our staff id, and the name WeCom's contacts give."""
        name = userid
        try:
            name = (await self.client.user(userid)).name or userid
        except (WeComApiError, OSError) as exc:
            log.info("WeCom name of %s not read: %s", userid, exc)
        return Member(await self.reports.staff.resolve(WECOM, userid, name), name)

    async def _may_act_on(self, userid: str, group_key: str) -> bool:
        group = self.settings.groups.get(group_key)
        return group is not None and await self.may_act(userid, group)

    async def may_act(self, userid: str, group: Group) -> bool:
        """The office's admins, and the group's WeCom recipients, may act on its cases."""
        if userid in self.wecom.admins or userid in group.wecom_users:
            return True
        if group.wecom_party is not None and userid in await self._read("party", group.wecom_party):
            return True
        return group.wecom_tag is not None and userid in await self._read("tag", group.wecom_tag)

    async def _read(self, kind: str, number: int) -> frozenset[str]:
        """A department's or a tag's members (cached)."""
        key = (kind, number)
        found = self._members.get(key)
        now = self._clock()
        if found is not None and now - found[0] < self.settings.reports.member_cache_seconds:
            return found[1]
        if kind == "party":
            members = await self.client.department_users(number, recursive=True)
        else:
            members = await self.client.tag_users(number)
        userids = frozenset(m.userid for m in members)
        self._members[key] = (now, userids)
        return userids


def _is_group_choice(data: str) -> bool:
    """A choice of a group to hand a case to (not the way back to the alert's choices)."""
    button = callbacks.parse(data)
    return button is not None and button.action == "to"
