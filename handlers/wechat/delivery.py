"""The WeChat courier: sends what the outbox holds for residents on WeChat.

Runs as one background task beside the callback server, like the Telegram courier:
it sleeps until woken by a commit that queued something, or until the next retry is
due; one item per resident at a time, several residents at once.

A message goes as a customer-service message (text, or a msgmenu for choices) while
the resident's window is open. WeChat allows those only within 48 hours of the
resident's last message, and only so many per interaction; outside the window (45015)
or over that quota (45047, which only the resident's next message clears) a case update
goes as the account's `case_update` template message instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

import aiohttp

from dialogue import texts
from dialogue.choices import Choice, flat
from dialogue.render import Renderer
from handlers.courier import OutboxCourier
from handlers.wechat.client import OutsideWindow, WeChatApiError, WeChatBusy, WeChatClient
from handlers.wechat.menus import MENU_HEAD_BYTES, numbered, plain
from reports.delivery import OutboxService
from reports.message_refs import AWAITED
from reports.outbox import (
    NOMINATION_RESULT,
    NOTIFY_RESIDENT,
    RELAY_ANSWER,
    RELAY_QUESTION,
    TICKET_RECEIPT,
    WECHAT,
    OutboxItem,
)
from reports.records import Report
from reports.services import ReportServices
from reports.states import Status

log = logging.getLogger(__name__)

# Over the customer-service quota of the resident's last interaction: it clears only
# when the resident writes again, so waiting does not help; a template goes instead.
OVER_QUOTA = 45047
# The template used outside the window, by its name in [wechat.templates].
CASE_UPDATE = "case_update"
# The keywords the `case_update` template must have (a category template: 工单编号,
# 办理状态, 更新时间, 备注), and WeChat's limits on their values, in characters.
TICKET_KEY = "character_string1"
STATUS_KEY = "phrase2"
TIME_KEY = "time3"
REMARK_KEY = "thing4"
CASE_UPDATE_KEYWORDS = (TICKET_KEY, STATUS_KEY, TIME_KEY, REMARK_KEY)
STRING_CHARS = 32
PHRASE_CHARS = 5
THING_CHARS = 20
# Refusals of a template message that say the configured template is wrong (not the
# resident's doing): an unknown template id, values its keywords do not take.
TEMPLATE_REFUSALS = frozenset({40037, 47003})


class NotOnWeChat(Exception):
    """The item's resident has no WeChat openid (never wrote from WeChat)."""


class NoTemplate(Exception):
    """Outside the window, and no `case_update` template is configured to go instead."""


class WeChatCourier(OutboxCourier):
    """Delivers WeChat's outbox items; one item per resident at a time, several at once."""

    name = "wechat-courier"

    def __init__(
        self,
        client: WeChatClient,
        outbox: OutboxService,
        reports: ReportServices,
        render: Renderer,
        templates: Mapping[str, str],
        concurrency: int = 4,
        idle_poll: float = 5.0,
    ) -> None:
        super().__init__(outbox, concurrency, idle_poll)
        self.client = client
        self.cases = reports.cases
        self.refs = reports.message_refs
        self.residents = reports.residents
        self.nominations = reports.nominations
        self.render = render
        self.templates = dict(templates)
        # The missing template is logged as an error once, not once per item.
        self._told_no_template = False

    async def deliver(self, item: OutboxItem) -> None:
        """Send one item, recording success, a retry time, or a permanent failure."""
        try:
            openid = await self._openid(item)
            if item.kind == NOTIFY_RESIDENT:
                await self._notify_resident(item, openid)  # records its own progress
                return
            elif item.kind == TICKET_RECEIPT:
                await self._send_receipt(item, openid)
            elif item.kind == RELAY_QUESTION:
                await self._relay_question(item, openid)  # records its own delivery
                return
            elif item.kind == NOMINATION_RESULT:
                if not await self._nomination_result(item, openid):
                    return
            else:
                await self.outbox.give_up(item, f"unknown kind {item.kind} for WeChat")
                return
            await self.outbox.sent(item)
        except NotOnWeChat as exc:
            log.error("outbox item %s (%s): %s; given up", item.id, item.kind, exc)
            await self._refused(item, f"{type(exc).__name__}: {exc}")
        except NoTemplate as exc:
            self._tell_no_template(item, exc)
            await self._refused(item, f"{type(exc).__name__}: {exc}")
        except WeChatBusy as exc:
            if _unreachable(exc):
                # A timeout (WeChat may have taken the message all the same), a dropped
                # connection: back off, and go at once when sends succeed again.
                await self._retry(item, exc, transient=True)
            else:
                await self.outbox.retry(item, str(exc), after=exc.retry_after)
        except WeChatApiError as exc:
            if exc.permanent and exc.errcode in TEMPLATE_REFUSALS:
                log.error(
                    "outbox item %s (%s) refused: %s; check [wechat.templates] %s in"
                    " config.toml (a template of the account with the keywords %s)",
                    item.id,
                    item.kind,
                    exc,
                    CASE_UPDATE,
                    ", ".join(CASE_UPDATE_KEYWORDS),
                )
                await self._refused(item, str(exc))
            elif exc.permanent:
                # Unfollowed (43004), an openid not of this account (40003), a message
                # WeChat will never take: the next in line must not wait behind it.
                log.info("outbox item %s to %s refused: %s; given up", item.id, item.target, exc)
                await self._refused(item, str(exc))
            else:
                await self._retry(item, exc)
        except OSError as exc:
            await self._retry(item, exc, transient=True)
        except Exception as exc:
            log.exception("delivering outbox item %s failed", item.id)
            await self._retry(item, exc)

    async def _refused(self, item: OutboxItem, error: str) -> None:
        """The item can never reach the resident: fail it, so the next in line can go.

        A resident who unfollowed is nobody's task; but a group waiting for the answer
        to its question is told, under its alert.
        """
        if item.kind == RELAY_QUESTION and item.report_id is not None:
            undelivered = {**item.payload, "undelivered": True}
            await self.outbox.give_up_and_tell_group(item, error, RELAY_ANSWER, undelivered)
        else:
            await self.outbox.give_up(item, error)

    def _tell_no_template(self, item: OutboxItem, exc: NoTemplate) -> None:
        if self._told_no_template:
            log.info("outbox item %s (%s) given up: %s", item.id, item.kind, exc)
            return
        self._told_no_template = True
        log.error(
            "outbox item %s (%s) given up: %s. Messages outside the 48-hour window need a"
            ' template: set [wechat.templates] %s = "<template id>" in config.toml, a'
            " template of the account with the keywords %s",
            item.id,
            item.kind,
            exc,
            CASE_UPDATE,
            ", ".join(CASE_UPDATE_KEYWORDS),
        )

    async def _openid(self, item: OutboxItem) -> str:
        """The WeChat openid of the resident an item is for."""
        if item.resident_id is None:
            raise NotOnWeChat(f"outbox item {item.id} is for {item.recipient!r}, not a resident")
        address = await self.residents.address(item.resident_id)
        if address is None or address[0] != WECHAT:
            where = "nowhere" if address is None else address[0]
            raise NotOnWeChat(f"resident {item.resident_id} is not on WeChat (on {where})")
        return address[1]

    # ------------------------------------------------------------------ the window

    async def _within_window(
        self,
        openid: str,
        send: Callable[[], Awaitable[None]],
        template: Callable[[], dict[str, str]],
    ) -> bool:
        """Send as a customer-service message; outside the resident's window, or over its
        quota, send the `case_update` template's `template()` data instead.

        True if the customer-service message went, False if the template did.
        """
        try:
            await send()
            return True
        except OutsideWindow as exc:
            closed: WeChatApiError = exc
        except WeChatBusy as exc:
            if exc.errcode != OVER_QUOTA:
                raise
            closed = exc
        template_id = self.templates.get(CASE_UPDATE)
        if not template_id:
            raise NoTemplate(f"no customer-service message now ({closed})")
        await self.client.send_template(openid, template_id, template())
        return False

    def _case_update(
        self, item: OutboxItem, report: Report, status: str, remark: str
    ) -> dict[str, str]:
        """The `case_update` template's data: each value within WeChat's limits."""
        return {
            TICKET_KEY: _clip(report.ticket, STRING_CHARS),
            STATUS_KEY: _clip(status, PHRASE_CHARS),
            TIME_KEY: self.render.time_full(item.created_at),
            REMARK_KEY: _clip(remark, THING_CHARS),
        }

    # ------------------------------------------------------------------ the kinds

    async def _send_receipt(self, item: OutboxItem, openid: str) -> None:
        """The ticket, once the resident confirmed (WeChat edits no message: a new one)."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        text = self.render.submitted(report)
        remark = texts.WECHAT_TEMPLATE_REMARK["filed"].format(
            group=self.render.group(report.group_key)
        )
        await self._within_window(
            openid,
            lambda: self.client.send_text(openid, text),
            lambda: self._case_update(item, report, texts.STATUS_NAMES[Status.SUBMITTED], remark),
        )

    async def _notify_resident(self, item: OutboxItem, openid: str) -> None:
        """A step of the case; after 办结, the reporter's rating as a numbered msgmenu."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        payload = item.payload
        action, group, note = payload["action"], payload["group"], payload.get("note")
        text = self.render.notification(report.ticket, action, group, note)
        status = texts.STATUS_NAMES.get(str(payload.get("status")), "")
        # After 办结 the resident rates the result, unless the case moved on since;
        # followers ("me too") hear every step but the rating is the reporter's.
        rate = action == "resolve" and report.rating is None and not payload.get("follower")
        if not rate:
            remark = self._remark(action, group, note)
            await self._within_window(
                openid,
                lambda: self.client.send_text(openid, text),
                lambda: self._case_update(item, report, status, remark),
            )
            await self.outbox.sent(item)
            return
        choices = flat(self.render.rating_buttons(report))
        typed = texts.WECHAT_TEMPLATE_RATE.format(
            choices=" ".join(
                texts.WECHAT_TEMPLATE_RATE_ITEM.format(number=n, label=plain(c.label))
                for n, c in enumerate(choices, 1)
            )
        )

        def rating_template() -> dict[str, str]:
            return self._case_update(item, report, status, typed)

        head = text
        if _utf8_len(text) > MENU_HEAD_BYTES:
            # Too long for a menu's head: the step goes as a text, the menu after it.
            if item.step == 0:
                sent_text = await self._within_window(
                    openid, lambda: self.client.send_text(openid, text), rating_template
                )
                if not sent_text:
                    await self._offered(item, openid, choices)
                    return
                await self.outbox.advance(item, 1)
            head = texts.WECHAT_RATE_HEAD.format(ticket=report.ticket)
        await self._within_window(
            openid, lambda: self._send_menu(openid, head, choices), rating_template
        )
        await self._offered(item, openid, choices)

    async def _nomination_result(self, item: OutboxItem, openid: str) -> bool:
        """The resident's nomination was selected: told while their window is open; outside
        it the news is not worth a case template (which needs a ticket), so it is dropped.
        False if it was given up."""
        nomination = await self.nominations.find(int(item.payload["nomination"]))
        if nomination is None:
            await self.outbox.give_up(item, f"no nomination {item.payload}")
            return False
        try:
            await self.client.send_text(openid, self.render.nomination_selected(nomination))
        except OutsideWindow as exc:
            log.info("outbox item %s: resident outside the window, not told: %s", item.id, exc)
            await self.outbox.give_up(item, str(exc))
            return False
        except WeChatBusy as exc:
            if exc.errcode != OVER_QUOTA:
                raise
            log.info("outbox item %s: over the resident's quota, not told: %s", item.id, exc)
            await self.outbox.give_up(item, str(exc))
            return False
        return True

    async def _send_menu(self, openid: str, head: str, choices: list[Choice]) -> None:
        """A msgmenu of numbered choices (id = the number), with the numbers to type below."""
        items, tail = numbered(choices)
        await self.client.send_menu(openid, head, items, tail)

    async def _offered(self, item: OutboxItem, openid: str, choices: list[Choice]) -> None:
        """The choices are out (as a menu, or by number in a template): a tap or a typed
        number picks one; then the item is done."""
        await self.refs.remember_menu(WECHAT, openid, [c.data for c in choices])
        await self.outbox.sent(item)

    def _remark(self, action: str, group: str, note: str | None) -> str:
        """A step in a template's few characters: the group's reason or note, else the step."""
        if note and action in ("resolve", "reject"):
            return note
        template = texts.WECHAT_TEMPLATE_REMARK.get(action, "{group}")
        return template.format(group=self.render.group(group))

    async def _relay_question(self, item: OutboxItem, openid: str) -> None:
        """A group's question under the group's name; the resident's next text answers it."""
        assert item.report_id is not None
        report = await self.cases.get_report(item.report_id)
        text = self.render.relay(texts.WECHAT_RELAY_QUESTION, report, item.payload)
        await self._within_window(
            openid,
            lambda: self.client.send_text(openid, text),
            lambda: self._case_update(
                item, report, texts.WECHAT_TEMPLATE_ASKED, texts.WECHAT_TEMPLATE_QUESTION
            ),
        )
        # Outside the window too: when the resident comes to the chat, what they
        # write answers the question.
        await self.outbox.relayed(item, openid, AWAITED)


def _unreachable(exc: WeChatBusy) -> bool:
    """Whether WeChat was not reached at all (no answer, a dropped connection)."""
    return isinstance(exc.__cause__, (aiohttp.ClientError, TimeoutError, OSError))


def _clip(value: str, limit: int) -> str:
    """A value on one line, within a template keyword's limit of characters."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))
