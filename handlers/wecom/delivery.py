"""The WeCom courier: sends what the outbox holds for working groups on WeCom.

Runs as one background task beside the callback server, like the Telegram and WeChat
couriers. A group on WeCom is its members named in config (``wecom_users``,
``wecom_party``, ``wecom_tag``): the app sends to them one by one, each in their chat with
the app, and the group chat's robot (``wecom_robot_key``) posts the morning digest.

A case's alert is a template card with the alert's choices as buttons. WeCom gives a card
one response code when it is sent and a fresh one with every press; each updates the card
once, within 72 hours. The latest unused one is kept with the alert (message_refs' token):
a later state updates the card with it, and when there is none left (spent, refused with
60140, or too old) the group gets a new card showing the state, which becomes the alert.

Photos kept as bytes (from WeChat residents) are uploaded and sent after the card; a
Telegram resident's photos are file ids WeCom cannot fetch, so the group is told how many
there are instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from dialogue import callbacks, texts
from dialogue.choices import Choice, Keyboard, flat
from dialogue.figures import stats_text, trend_text
from dialogue.render import Renderer
from handlers.courier import OutboxCourier
from handlers.telegram.figures import map_png
from handlers.wecom.cards import (
    MAX_BUTTONS,
    CardView,
    alert_card,
    map_link,
    nomination_card,
    nomination_task_id,
    task_id,
)
from handlers.wecom.client import SYSTEM_BUSY, IpNotTrusted, WeComApiError, WeComBusy, WeComClient
from reports.delivery import OutboxService
from reports.media import is_kept
from reports.message_refs import ALERT, NOMINATION
from reports.outbox import (
    CASE_THANKS,
    DEADLINE_NOTICE,
    DIGEST,
    EDIT_ALERT,
    GROUP_ALERT,
    LEADER_COPY,
    NOMINATION_ALERT,
    NOMINATION_EDIT,
    REFUSAL_NOTICE,
    RELAY_ANSWER,
    WECOM,
    WEEKLY_REPORT,
    OutboxItem,
    leader_of,
)
from reports.records import MessageRef, Nomination, Report
from reports.services import ReportServices
from settings import Group, Settings

log = logging.getLogger(__name__)

# Every alert card is remembered in this one "chat", under its task_id.
CARDS_CHAT = "card"
# A response code updates a card within 72 hours of being issued, and not after.
CODE_LIFETIME = 72 * 3600.0
# WeCom's answer to a spent or expired response code.
SPENT_CODE = 60140
# Where a card without buttons leads when tapped, if the case has no map to show.
DEFAULT_CASE_LINK = "https://work.weixin.qq.com/"
# How long to wait before trying again while this server's IP is not trusted.
UNTRUSTED_RETRY = 300.0
# A group robot's markdown holds at most this many bytes.
ROBOT_BYTES = 4096


class NotOnWeCom(Exception):
    """The item's group names no WeCom recipients (any more)."""

    def __init__(self, group_key: str) -> None:
        super().__init__(f"group {group_key} names no WeCom recipients")
        self.group_key = group_key


@dataclass(frozen=True)
class Recipients:
    """Who in the corp gets a group's messages through the app."""

    users: tuple[str, ...]
    party: int | None
    tag: int | None

    @classmethod
    def of(cls, group: Group) -> Recipients:
        return cls(tuple(group.wecom_users), group.wecom_party, group.wecom_tag)

    def address(self) -> dict[str, Any]:
        """The client's touser / toparty / totag."""
        return {"touser": self.users or None, "toparty": self.party, "totag": self.tag}


class WeComCourier(OutboxCourier):
    """Delivers WeCom's outbox items; one item per target at a time, several at once."""

    name = "wecom-courier"

    def __init__(
        self,
        client: WeComClient,
        outbox: OutboxService,
        reports: ReportServices,
        render: Renderer,
        settings: Settings,
        concurrency: int = 4,
        idle_poll: float = 5.0,
        case_link: str = DEFAULT_CASE_LINK,
    ) -> None:
        super().__init__(outbox, concurrency, idle_poll)
        self.client = client
        self.cases = reports.cases
        self.office = reports.office
        self.refs = reports.message_refs
        self.media = reports.media
        self.nominations = reports.nominations
        self.render = render
        self.settings = settings
        self.case_link = case_link
        # The untrusted IP is logged as an error once, not once per item.
        self._told_untrusted = False

    async def deliver(self, item: OutboxItem) -> None:
        """Send one item, recording success, a retry time, or a permanent failure."""
        try:
            if item.kind == GROUP_ALERT:
                await self._send_alert(item)  # records its own progress
                return
            elif item.kind == EDIT_ALERT:
                await self._edit_alert(item)  # records its own outcome
                return
            elif item.kind == DEADLINE_NOTICE:
                report = await self._report(item)
                payload = item.payload
                text = self.render.deadline_notice(
                    report, payload["kind"], payload["level"], payload["late"]
                )
                await self._send_text(self._group_of(item), text)
            elif item.kind == RELAY_ANSWER:
                report = await self._report(item)
                template = (
                    texts.RELAY_UNDELIVERED
                    if item.payload.get("undelivered")
                    else texts.RELAY_ANSWER
                )
                text = self.render.relay(template, report, item.payload, quote=True)
                await self._send_text(self._group_of(item), text)
            elif item.kind == REFUSAL_NOTICE:
                await self._send_text(
                    self._group_of(item), self.render.refusal_notice(item.payload)
                )
            elif item.kind == WEEKLY_REPORT:
                await self._weekly_report(item)  # records its own progress
                return
            elif item.kind == DIGEST:
                await self._digest(item)
            elif item.kind == NOMINATION_ALERT:
                await self._nomination_card(item)
            elif item.kind == NOMINATION_EDIT:
                await self._nomination_edit(item)
            elif item.kind == CASE_THANKS:
                await self._send_text(self._group_of(item), self.render.case_thanks(item.payload))
            elif item.kind == LEADER_COPY:
                await self._leader_copy(item)  # records its own outcome
                return
            else:
                await self.outbox.give_up(item, f"unknown kind {item.kind} for WeCom")
                return
            await self.outbox.sent(item)
        except NotOnWeCom as exc:
            log.error(
                "outbox item %s (%s): %s; failed, the office is told", item.id, item.kind, exc
            )
            await self.outbox.fail_and_tell(
                item, f"{type(exc).__name__}: {exc}", exc.group_key, str(exc)
            )
        except IpNotTrusted as exc:
            await self._tell_untrusted(item, exc)
            await self.outbox.retry(item, str(exc), after=UNTRUSTED_RETRY)
        except WeComBusy as exc:
            if exc.errcode == SYSTEM_BUSY:
                # WeCom unreachable (a timeout: it may have taken the message all the same)
                # or busy past the client's own retries: back off, and go at once when
                # sends succeed again.
                await self._retry(item, exc, transient=True)
            else:
                await self.outbox.retry(item, str(exc), after=exc.retry_after)
        except WeComApiError as exc:
            if exc.permanent and leader_of(item.recipient) is not None:
                # The leader's userid is not (or no longer) a member the app can reach.
                log.warning("leader copy %s to %s refused: %s", item.id, item.recipient, exc)
                await self.outbox.refuse_leader_copy(item, str(exc), exc.errmsg)
            elif exc.permanent:
                log.error(
                    "outbox item %s (%s to %s) refused for good: %s; the office is told",
                    item.id,
                    item.kind,
                    item.recipient,
                    exc,
                )
                group = await self._group_named(item)
                await self.outbox.fail_and_tell(item, str(exc), group, exc.errmsg)
            else:
                await self._retry(item, exc)
        except OSError as exc:
            await self._retry(item, exc, transient=True)
        except Exception as exc:
            log.exception("delivering outbox item %s failed", item.id)
            await self._retry(item, exc)

    # ------------------------------------------------------------------ refusals

    async def _tell_untrusted(self, item: OutboxItem, exc: IpNotTrusted) -> None:
        """Every call fails until an administrator trusts this server's IP: say so once."""
        if self._told_untrusted:
            log.info("outbox item %s (%s) waits: %s", item.id, item.kind, exc)
            return
        self._told_untrusted = True
        log.error(
            "WeCom refuses calls from this server's IP (%s): add it to the app's trusted IPs"
            " (企业微信管理后台 → 应用管理 → the app → 企业可信IP); the WeCom outbox waits and"
            " retries every %.0f s",
            exc,
            UNTRUSTED_RETRY,
        )
        # The office hears of it where it can (its Telegram chat), once per process.
        await self.outbox.tell_office(texts.WECOM_IP_UNTRUSTED)

    # ------------------------------------------------------------------ recipients

    @staticmethod
    def _group_of(item: OutboxItem) -> str:
        """The working group an item is queued for ("group:<key>")."""
        kind, _, key = item.recipient.partition(":")
        if kind != "group" or not key:
            raise LookupError(f"outbox item {item.id} is for {item.recipient!r}, not a group")
        return key

    async def _group_named(self, item: OutboxItem) -> str:
        """The group an item was headed for, as the office's notice names it."""
        if item.kind == GROUP_ALERT and item.report_id is not None:
            return (await self._report(item)).group_key
        try:
            return self._group_of(item)
        except LookupError:
            return item.target

    def _recipients(self, group_key: str) -> Recipients:
        group = self.settings.groups.get(group_key)
        if group is None or not group.on_wecom:
            raise NotOnWeCom(group_key)
        return Recipients.of(group)

    async def _send_text(self, group_key: str, text: str) -> None:
        recipients = self._recipients(group_key)
        sent = await self.client.send_text(text, **recipients.address())
        _log_invalid(group_key, sent.invalid_users, sent.invalid_parties, sent.invalid_tags)

    async def _report(self, item: OutboxItem) -> Report:
        assert item.report_id is not None
        return await self.cases.get_report(item.report_id)

    # ------------------------------------------------------------------ the alert

    def _task_id(self, item: OutboxItem, report: Report) -> str:
        return task_id(report.id, item.id, item.attempts, self.outbox.clock())

    async def _post_card(
        self, item: OutboxItem, report: Report, group_key: str, view: CardView
    ) -> tuple[str, str | None]:
        """Send a new alert card to the group's members; its task_id and response code."""
        recipients = self._recipients(group_key)
        task = self._task_id(item, report)
        card = alert_card(self.render, view, task, self.case_link)
        sent = await self.client.send_card(card, **recipients.address())
        _log_invalid(group_key, sent.invalid_users, sent.invalid_parties, sent.invalid_tags)
        return task, sent.response_code

    async def _send_alert(self, item: OutboxItem) -> None:
        """The card first, then the photos and the location, each part recorded before the
        next is tried, so a retry never repeats a part the group already has."""
        report = await self._report(item)
        alert = await self.refs.alert(WECOM, report)
        if item.step == 0 and alert is not None:
            # A second alert queued for the same assignment (a 转派 while the first
            # still waited): the first one went out showing the current state.
            await self.outbox.sent(item)
            return
        group = self.settings.groups.get(report.group_key)
        if item.step == 0 and (group is None or not group.on_wecom):
            # Reassigned, before this went, to a group not on WeCom: its other channel
            # has the alert; nobody here is to get it.
            log.info("outbox item %s: group %s is not on WeCom; done", item.id, report.group_key)
            await self.outbox.sent(item)
            return
        parts = await self._after_card(report)
        if item.step == 0:
            fresh = report.updated_at == report.created_at
            history = [] if fresh else await self.cases.history(report.id)
            _, choices = self.render.alert(report, history)
            view = CardView(report, history, with_ask(choices, report))
            task, code = await self._post_card(item, report, report.group_key, view)
            # Step 1 is done; the item is done only once the card's code is kept too.
            await self.outbox.alert_posted(item, report, CARDS_CHAT, task, done=False)
            if code:
                await self.refs.set_token(WECOM, CARDS_CHAT, task, code)
            step = 1
        else:
            step = item.step
        if step > len(parts):
            await self.outbox.sent(item)
            return
        recipients = self._recipients(report.group_key)
        for number in range(step, len(parts) + 1):
            kind, value = parts[number - 1]
            if kind == "photo":
                data = await self.media.load(value)
                if data is None:
                    raise LookupError(f"photo {value} is not kept")
                media_id = await self.client.upload_image(data, _photo_name(data))
                await self.client.send_image(media_id, **recipients.address())
            else:
                await self.client.send_text(value, **recipients.address())
            if number == len(parts):
                await self.outbox.sent(item)
            else:
                await self.outbox.advance(item, number + 1)

    async def _after_card(self, report: Report) -> list[tuple[str, str]]:
        """What follows the card, one part per step: each kept photo, a word on photos
        WeCom cannot show, the location as a map link."""
        kept = [p for p in report.photos[:10] if is_kept(p)]
        parts = [("photo", p) for p in kept]
        elsewhere = len(report.photos) - len(kept)
        if elsewhere > 0:
            parts.append(
                (
                    "text",
                    texts.WECOM_PHOTOS_ELSEWHERE.format(ticket=report.ticket, count=elsewhere),
                )
            )
        url = map_link(self.render, report)
        if url:
            where = report.address or texts.WECOM_MAP_LINK
            parts.append(
                ("text", texts.WECOM_LOCATION.format(ticket=report.ticket, where=where, url=url))
            )
        return parts

    async def _edit_alert(self, item: OutboxItem) -> None:
        """Show the case's current state in the card the group has: updated with its latest
        response code, or, with none left, a new card that becomes the alert."""
        report = await self._report(item)
        generation = item.payload.get("generation", report.assigned_at)
        alert = await self.refs.latest(WECOM, ALERT, report.id, generation)
        if alert is None:
            await self.outbox.sent(item)  # not out yet; when it goes, it shows the state
            return
        history = await self.cases.history(report.id)
        to_group = item.payload.get("to_group")
        if to_group:
            footer = texts.ALERT_HANDED_OVER.format(group=self.render.group(to_group))
            view = CardView(report, history, None, footer)
        elif item.payload.get("reopened"):
            view = CardView(report, history, None, texts.ALERT_REOPENED_AWAY)
        else:
            _, choices = self.render.alert(report, history)
            view = CardView(report, history, with_ask(choices, report))
        card = partial(alert_card, self.render, view, alert.message_id, self.case_link)
        if await self._updated(alert, card):
            await self.outbox.sent(item)
            return
        task, new_code = await self._post_card(item, report, self._group_of(item), view)
        await self.refs.remember(WECOM, CARDS_CHAT, task, ALERT, report.id, generation)
        if new_code:
            await self.refs.set_token(WECOM, CARDS_CHAT, task, new_code)
        await self.outbox.sent(item)

    # ------------------------------------------------------------------ the rest

    async def _leader_copy(self, item: OutboxItem) -> None:
        """A read-only copy of an alert or an escalation, as a text to the leader's userid."""
        leader = self.render.leader(item.recipient)
        if leader is None or leader.wecom is None:
            # Taken out of the areas file (or off WeCom) since: nobody to copy.
            await self.outbox.give_up(item, f"no WeCom leader {item.recipient} any more")
            return
        report = await self._report(item)
        fresh = report.updated_at == report.created_at
        history = [] if fresh else await self.cases.history(report.id)
        text = self.render.leader_copy(report, history, item.payload)
        await self.client.send_text(text, touser=leader.wecom)
        await self.outbox.sent(item)

    async def _digest(self, item: OutboxItem) -> None:
        """The morning list: in the group chat through its robot, else to each member."""
        key = str(item.payload.get("group") or self._group_of(item))
        text = self.render.digest(item.payload)
        group = self.settings.groups.get(key)
        if group is not None and group.wecom_robot_key:
            await self.client.robot_send(group.wecom_robot_key, _cut_utf8(text, ROBOT_BYTES))
            return
        await self._send_text(key, text)

    async def _weekly_report(self, item: OutboxItem) -> None:
        """The week's figures as text, then the areas' map as an image (two parts)."""
        group = self._group_of(item)
        if item.step == 0:
            await self._send_text(group, await self._weekly_text(item))
            if not self.render.settings.areas:
                await self.outbox.sent(item)
                return
            await self.outbox.advance(item, 1)
        until = float(item.payload["until"])
        area_map = await map_png(self.render, await self.office.open_by_area(), until)
        if area_map:
            media_id = await self.client.upload_image(area_map, "area_map.png")
            await self.client.send_image(media_id, **self._recipients(group).address())
        await self.outbox.sent(item)

    async def _weekly_text(self, item: OutboxItem) -> str:
        """This week's figures against last week's, as text (WeCom gets no bar chart), and
        the week's 好人好事."""
        until = float(item.payload["until"])
        week = await self.office.statistics(7, until)
        before = await self.office.statistics(7, until - 7 * 86400)
        selected = await self.nominations.selected(until - 7 * 86400, until)
        return "\n".join(
            [
                texts.WEEKLY_TITLE,
                stats_text(week, 7, self.render),
                trend_text(week, before),
                self.render.weekly_nominations(selected),
            ]
        )

    # ------------------------------------------------------------------ 身边好人

    async def _nomination(self, item: OutboxItem) -> Nomination:
        nomination = await self.nominations.find(int(item.payload["nomination"]))
        if nomination is None:
            raise LookupError(f"outbox item {item.id}: no nomination {item.payload}")
        return nomination

    async def _post_nomination(self, item: OutboxItem, nomination: Nomination) -> None:
        """A new card of the nomination to the praise group, remembered as its alert with
        its response code."""
        group_key = self._group_of(item)
        recipients = self._recipients(group_key)
        _, choices = self.render.nomination_alert(nomination)
        task = nomination_task_id(nomination.id, item.id, item.attempts, self.outbox.clock())
        card = nomination_card(self.render, nomination, choices, task, self.case_link)
        sent = await self.client.send_card(card, **recipients.address())
        _log_invalid(group_key, sent.invalid_users, sent.invalid_parties, sent.invalid_tags)
        await self.refs.remember(WECOM, CARDS_CHAT, task, NOMINATION, nomination.id)
        if sent.response_code:
            await self.refs.set_token(WECOM, CARDS_CHAT, task, sent.response_code)

    async def _nomination_card(self, item: OutboxItem) -> None:
        """A resident's nomination as a card with 选入 / 暂不选入 (photos are counted on it)."""
        nomination = await self._nomination(item)
        if await self.refs.latest(WECOM, NOMINATION, nomination.id) is not None:
            return  # posted already (the outcome of an earlier attempt was lost)
        await self._post_nomination(item, nomination)

    async def _nomination_edit(self, item: OutboxItem) -> None:
        """Show the decision in the nomination's card: updated with the press's response
        code, or, with none left, a new card."""
        nomination = await self._nomination(item)
        alert = await self.refs.latest(WECOM, NOMINATION, nomination.id)
        if alert is None:
            return  # not out yet; when it goes, it shows the decision

        def card() -> dict[str, Any]:
            _, choices = self.render.nomination_alert(nomination)
            return nomination_card(
                self.render, nomination, choices, alert.message_id, self.case_link
            )

        if not await self._updated(alert, card):
            await self._post_nomination(item, nomination)

    async def _updated(self, shown: MessageRef, card: Callable[[], dict[str, Any]]) -> bool:
        """Update a card the members were shown with the response code its last press left,
        while the code lasts; False if there is none, or WeCom says it is spent (then the
        caller posts a new card). A code updates once, so it is forgotten either way."""
        code = shown.token
        now = self.outbox.clock()
        if not code or shown.token_at is None or now - shown.token_at >= CODE_LIFETIME:
            return False
        try:
            await self.client.update_card(code, atall=True, card=card())
        except WeComApiError as exc:
            if exc.errcode != SPENT_CODE:
                raise
            log.info("card %s: its code is spent (%s); a new card", shown.message_id, exc)
            updated = False
        else:
            updated = True
        await self.refs.set_token(WECOM, shown.chat, shown.message_id, None)
        return updated


def _log_invalid(
    group: str, users: Sequence[str], parties: Sequence[str], tags: Sequence[str]
) -> None:
    """Recipients WeCom does not know are a config mistake: name them (the rest got it)."""
    if users or parties or tags:
        log.warning(
            "group %s: WeCom knows no user %s, department %s, tag %s; fix [groups.%s] wecom_*",
            group,
            "|".join(users) or "-",
            "|".join(parties) or "-",
            "|".join(tags) or "-",
            group,
        )


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-8 bytes, ending in "…" if it was cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    return text.encode("utf-8")[: limit - 3].decode("utf-8", "ignore") + "…"


def _photo_name(data: bytes) -> str:
    return "photo.png" if data.startswith(b"\x89PNG") else "photo.jpg"


def with_ask(choices: Keyboard | None, report: Report) -> Keyboard | None:
    """The alert's choices and 询问群众 (a member cannot reply to a WeCom card to ask the
    resident, as on Telegram), while the case is open and the card has room."""
    if not choices or len(flat(choices)) >= MAX_BUTTONS:
        return choices
    ask = Choice(texts.BUTTON_ASK, callbacks.report_button("ask", report.id))
    return (*choices, (ask,))
