"""A resident's conversation, written once for every channel: what the bot answers to a
text, a photo, a location, a press of a choice, a comment or an answer, as replies
(texts with choices) that each channel shows its own way.

A channel resolves who is writing (our resident id) and what a message answers
(Telegram: the message replied to; WeChat: the chat's awaited slot), calls one of
these, and shows the replies: Telegram replies and edits, WeChat sends messages
with numbered menus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialogue import callbacks, texts
from dialogue.choices import Keyboard
from dialogue.render import Renderer, quiz_offer_markup
from reports.drafting import check_location
from reports.errors import (
    AlreadyRated,
    BadLocation,
    CommentNeeded,
    DraftClosed,
    DuplicateFound,
    FloodLimited,
    NeedsDescription,
    NoteTooLong,
    NotOffered,
    PromptUsed,
    ReportError,
    ReportNotFound,
    TextTooLong,
    TooManyPhotos,
)
from reports.records import Draft, NotePrompt, Report
from reports.services import ReportServices
from reports.states import Action
from reports.tickets import parse_ticket
from settings import FALLBACK_CATEGORY, Settings

RATING_CODES = {"s": "satisfied", "b": "basically", "u": "unsatisfied"}
# Short texts with no sign of a report ("你好", "谢谢") get a hint, not a draft.
CHITCHAT_MAX_CHARS = 6


@dataclass(frozen=True)
class Reply:
    """One message to the resident."""

    text: str
    choices: Keyboard | None = None
    # It shows this draft's card: the channel remembers the message, so that its
    # choices and a reply to it find the draft.
    card: int | None = None
    # It replaces the message whose choice was pressed, where the channel can edit.
    replaces: bool = False
    # The card changed without anything to say: update it in place, or stay silent.
    quiet: bool = False
    # Offer the channel's own way of sharing a location.
    asks_location: bool = False
    # The resident's next text answers this prompt (a 不满意 comment).
    asks_comment: int | None = None
    # The resident's next text is their reason for not supporting (the survey's).
    asks_survey_reason: bool = False
    # The resident's next text may be this draft's address (after 添加位置), where the
    # channel cannot reply to the card itself.
    asks_address: int | None = None


@dataclass(frozen=True)
class Pressed:
    """What a press of a choice gets: a short answer (`alert`: one that must be read)
    and the replies, if any."""

    notice: str | None = None
    alert: bool = False
    replies: list[Reply] = field(default_factory=list)
    # The pressed message's choices are spent: it keeps its text, without them.
    spent: bool = False
    # The notice only bridges the moment until a message that says it all (the
    # receipt): a channel without pop-up notices need not send it as a message.
    passing: bool = False


class ResidentDialogue:
    """The resident's side of reporting: compose, confirm, follow, rate, answer."""

    def __init__(self, reports: ReportServices, render: Renderer, settings: Settings) -> None:
        self.reports = reports
        self.render = render
        self.settings = settings
        # The channel's wording of a text (its renderer knows it).
        self.say = render.say

    # -- What residents send

    def welcome(self) -> list[Reply]:
        return [Reply(self.say("WELCOME")), Reply(self.say("QUIZ_OFFER"), quiz_offer_markup())]

    async def text(self, resident: int, text: str) -> list[Reply]:
        """Start a report with a text, or describe the photo or location that came first."""
        drafting = self.reports.drafting
        try:
            drafting.check_text(text)
            open_draft = await drafting.open_draft(resident)
            if open_draft is not None and not open_draft.text:
                return [self.card(await drafting.describe(resident, open_draft.id, text))]
            result = drafting.classify(text)
            if result.category == FALLBACK_CATEGORY and len(text.strip()) <= CHITCHAT_MAX_CHARS:
                return [Reply(self.say("CHITCHAT"))]
            return [self.card(await drafting.start_draft(resident, text))]
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]

    async def address(self, resident: int, draft: Draft, text: str) -> list[Reply]:
        """A text in answer to a draft's card is its address."""
        try:
            draft = await self.reports.drafting.set_address(resident, draft.id, text)
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]
        return [self.card(draft, texts.DRAFT_ADDRESS_ADDED.format(address=draft.address))]

    async def photo(
        self, resident: int, photo: str, caption: str, album: str | None = None
    ) -> list[Reply]:
        """Add a photo to the open report, or start a report with it.

        The rest of an album (photos sent together) updates the card quietly
        instead of answering each photo.
        """
        drafting = self.reports.drafting
        try:
            draft = await drafting.open_draft(resident)
            if draft is not None and (not caption or (album and album == draft.media_group_id)):
                draft = await drafting.add_photo(resident, draft.id, photo, caption)
                if album and album == draft.media_group_id:
                    return [self.card(draft, quiet=True)]
                notice = texts.DRAFT_PHOTO_ADDED.format(count=len(draft.photos))
                return [self.card(draft, notice)]
            return [self.card(await drafting.start_draft(resident, caption, photo, album))]
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]

    async def location(
        self, resident: int, latitude: float, longitude: float, label: str = ""
    ) -> list[Reply]:
        """Add a shared location (and the place's name, if the channel gives one) to the
        open report, or start a report with it."""
        drafting = self.reports.drafting
        try:
            check_location(latitude, longitude)
            draft = await drafting.open_draft(resident)
            if draft is None:
                draft = await drafting.start_draft(resident, "")
            draft = await drafting.set_location(resident, draft.id, latitude, longitude)
            if label.strip() and not draft.address:
                draft = await drafting.set_address(resident, draft.id, label.strip())
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]
        return [self.card(draft, texts.DRAFT_LOCATION_ADDED)]

    async def comment(self, resident: int, prompt: NotePrompt, text: str) -> list[Reply]:
        """The resident's 不满意 comment: the case goes back to its group."""
        try:
            report = await self.reports.ratings.reopen(
                prompt.report_id, resident, text.strip(), prompt.id
            )
        except NoteTooLong as exc:
            return [Reply(texts.REOPEN_TOO_LONG.format(limit=exc.limit))]
        except (AlreadyRated, PromptUsed):
            return [Reply(texts.RATE_ALREADY)]
        group = self.render.group(report.group_key)
        return [Reply(texts.REOPEN_DONE.format(ticket=report.ticket, group=group))]

    async def answer(self, resident: int, asked: Report, text: str) -> list[Reply]:
        """The resident's answer to a group's question, relayed to the group."""
        try:
            await self.reports.relays.answer_group(asked, resident, text)
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]
        group = self.render.group(asked.group_key)
        return [Reply(texts.RELAY_ANSWERED.format(group=group))]

    async def my_reports(self, resident: int) -> list[Reply]:
        items, total = await self.reports.cases.resident_reports(resident)
        return [Reply(self.render.report_list(items, total))]

    async def status(self, resident: int, typed: str) -> list[Reply]:
        """One of the resident's own reports with its history, by the ticket typed."""
        ticket = parse_ticket(typed)
        if ticket is None:
            return [Reply(self.say("STATUS_USAGE"))]
        report = await self.reports.cases.resident_report(resident, ticket)
        if report is None:
            return [Reply(texts.STATUS_NOT_FOUND.format(ticket=ticket))]
        history = await self.reports.cases.history(report.id)
        return [Reply(self.render.report_detail(report, history))]

    # -- Presses of choices

    async def press(self, resident: int, data: str) -> Pressed:
        """A draft's choice or a rating; anything else is stale or forged."""
        button = callbacks.parse(data)
        if button is not None and button.scope == "d":
            return await self._press_draft(resident, button)
        if button is not None and button.scope == "r" and button.action == "rt":
            return await self._rate(resident, button)
        return Pressed(texts.BUTTON_STALE, alert=True)

    async def _press_draft(self, resident: int, button: callbacks.Button) -> Pressed:
        reports = self.reports
        try:
            if button.action in ("ok", "new"):
                return await self._confirm(resident, button.id, separate=button.action == "new")
            if button.action == "fol":
                try:
                    report = await reports.filing.follow(resident, button.id, _case_id(button.arg))
                except (NotOffered, ReportNotFound):
                    return Pressed(texts.BUTTON_STALE, alert=True)
                group = self.render.group(report.group_key)
                text = texts.FOLLOWING.format(ticket=report.ticket, group=group)
                return Pressed(replies=[Reply(text, replaces=True)])
            if button.action == "set":
                draft = await reports.drafting.choose_category(
                    resident, button.id, button.arg or ""
                )
                return Pressed(replies=[self.card(draft, replaces=True, placed=True)])
            if button.action == "no":
                await reports.drafting.cancel(resident, button.id)
                return Pressed(replies=[Reply(texts.DRAFT_CANCELLED, replaces=True)])
            draft = await reports.drafting.get_draft(resident, button.id)
            _require_open(draft)
            if button.action == "cat":
                choices = self.render.category_choice(draft)
                return Pressed(
                    replies=[Reply(self.render.choose_text(draft), choices, replaces=True)]
                )
            if button.action == "back":
                return Pressed(replies=[self.card(draft, replaces=True)])
            # "loc": the channel offers its own way of sharing a location.
            ask = Reply(self.say("LOCATION_REQUEST"), asks_location=True, asks_address=draft.id)
            return Pressed(replies=[ask])
        except DraftClosed as exc:
            return await self._closed(exc.draft)
        except ReportError as exc:
            return Pressed(refusal(exc, self.settings), alert=True)

    async def _confirm(self, resident: int, draft_id: int, separate: bool) -> Pressed:
        """File the draft; the ticket comes through the outbox, in the card pressed."""
        try:
            submission = await self.reports.filing.confirm(resident, draft_id, separate)
        except DuplicateFound as found:
            draft = await self.reports.drafting.get_draft(resident, draft_id)
            text, choices = self.render.duplicate_choice(draft, found.report, found.distance)
            return Pressed(replies=[Reply(text, choices, replaces=True)])
        ticket = submission.report.ticket
        if not submission.new:
            return Pressed(self.say("DRAFT_ALREADY_SUBMITTED").format(ticket=ticket), alert=True)
        # The card turns into the receipt when the courier delivers it (queued with
        # the report), so neither a crash nor an outage now can lose the ticket.
        toast = texts.DRAFT_SUBMITTED_TOAST.format(ticket=ticket)
        return Pressed(toast, passing=True)

    async def _closed(self, draft: Draft) -> Pressed:
        if draft.status in ("submitted", "followed") and draft.report_id is not None:
            report = await self.reports.cases.get_report(draft.report_id)
            # Must be read: the resident may be asking because the receipt never came.
            return Pressed(
                self.say("DRAFT_ALREADY_SUBMITTED").format(ticket=report.ticket), alert=True
            )
        return Pressed(texts.DRAFT_CLOSED, alert=True)

    async def _rate(self, resident: int, button: callbacks.Button) -> Pressed:
        """满意 or 基本满意 are recorded; 不满意 (while the case may reopen) asks why."""
        rating = RATING_CODES.get(button.arg or "")
        reports = self.reports
        try:
            if rating is None:
                raise ReportNotFound()
            await reports.ratings.rate(button.id, resident, rating)
        except CommentNeeded:
            report = await reports.cases.get_report(button.id)
            prompt = await reports.cases.open_prompt(report.id, Action.REOPEN, resident_id=resident)
            text = self.say("REOPEN_ASK").format(
                limit=self.settings.reports.max_note_chars,
                ticket=report.ticket,
                group=self.render.group(report.group_key),
            )
            return Pressed(replies=[Reply(text, asks_comment=prompt)])
        except AlreadyRated:
            return Pressed(texts.RATE_ALREADY, alert=True)
        except ReportError:
            return Pressed(texts.BUTTON_STALE, alert=True)
        thanks = texts.RATE_THANKS.format(rating=texts.RATING_NAMES[rating])
        return Pressed(thanks, spent=True)

    # -- Helpers

    def card(
        self,
        draft: Draft,
        notice: str = "",
        *,
        quiet: bool = False,
        replaces: bool = False,
        placed: bool | None = None,
    ) -> Reply:
        """The draft's card: what the bot understood, with its choices."""
        placed = self.reports.drafting.is_placed(draft) if placed is None else placed
        text, choices = self.render.draft_card(draft, placed)
        text = f"{notice}\n{text}" if notice else text
        return Reply(text, choices, card=draft.id, quiet=quiet, replaces=replaces)


def refusal(exc: ReportError, settings: Settings) -> str:
    """What to tell a resident whose request the service refused."""
    if isinstance(exc, TextTooLong | TooManyPhotos | NoteTooLong):
        template = texts.TOO_MANY_PHOTOS if isinstance(exc, TooManyPhotos) else texts.TOO_LONG
        return template.format(limit=exc.limit)
    if isinstance(exc, FloodLimited):
        return texts.FLOOD.format(limit=settings.reports.max_per_hour)
    if isinstance(exc, BadLocation):
        return texts.LOCATION_IMPOSSIBLE
    if isinstance(exc, NeedsDescription):
        return texts.NEEDS_DESCRIPTION
    if isinstance(exc, DraftClosed):
        return texts.DRAFT_CLOSED
    return texts.DRAFT_GONE


def _case_id(arg: str | None) -> int:
    """The case a 关注 button names; anything but a plausible id names none (0)."""
    if arg is None or not arg.isascii() or not arg.isdigit() or len(arg) > 12:
        return 0
    return int(arg)


def _require_open(draft: Draft) -> None:
    if draft.status != "open":
        raise DraftClosed(draft)
