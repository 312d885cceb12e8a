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
from dialogue.render import Renderer, chitchat_menu, quiz_offer_markup, report_it_markup
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
from reports.intake import Kept
from reports.intents import PRAISE, QUESTION, REPORT, SPAM, Intent
from reports.nominations import NominationClosed, NominationNotFound, NotThankable
from reports.records import Draft, Nomination, NotePrompt, Report
from reports.services import ReportServices
from reports.states import Action
from reports.tickets import parse_ticket
from settings import Settings

RATING_CODES = {"s": "satisfied", "b": "basically", "u": "unsatisfied"}
# Praise this short ("谢谢", "辛苦了", "点赞👍") names no deed to nominate: unless a case of
# the resident's was resolved lately (then it is thanks for it), it gets a 不客气.
SHORT_THANKS_CHARS = 8


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
    # It shows this nomination's card (身边好人): what the resident sent was taken.
    nomination: int | None = None


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
        """Start a report with a text, describe the photo or location that came first, or
        answer what is not a report: a question, praise, chit-chat or spam."""
        drafting = self.reports.drafting
        try:
            drafting.check_text(text)
            open_draft = await drafting.open_draft(resident)
            if open_draft is not None and not open_draft.text:
                return [self.card(await drafting.describe(resident, open_draft.id, text))]
            intent = self.reports.intake.understand(text).intent
            if intent.opens_draft:
                return [self.card(await drafting.start_draft(resident, text))]
            if intent.kind == REPORT:
                # Unsure: ask rather than guess; the text waits for the resident's word.
                kept = await self.reports.intake.keep(resident, text, intent)
                return [Reply(texts.ASK_REPORT_FIRST, report_it_markup(kept.id))]
            return await self._not_a_report(resident, text, intent)
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]

    async def _not_a_report(self, resident: int, text: str, intent: Intent) -> list[Reply]:
        """Answer a text taken for something other than a report; it is kept, and when
        the bot is unsure the resident may still report it with one tap."""
        kept = await self.reports.intake.keep(resident, text, intent)
        if intent.kind == SPAM and intent.unsure:
            # Perhaps a report of the adverts themselves ("门口贴满了办证138…的小广告").
            return [Reply(texts.SPAM_NOTICE), Reply(texts.ASK_REPORT, report_it_markup(kept.id))]
        if intent.kind == SPAM:
            return self._spam(kept)
        if await self.reports.intake.is_throttled(resident):
            return []  # kept, but an account that keeps sending adverts gets no answers
        ask = intent.unsure
        if intent.kind == QUESTION:
            # A "question" the base cannot answer may well be a problem put as one
            # ("这个井盖什么时候修？"): offer to report it whatever the classifier's confidence.
            replies, answered = await self._answer(resident, text)
            ask = ask or not answered
        elif intent.kind == PRAISE:
            if len(text.strip()) > SHORT_THANKS_CHARS or await self._has_thankable_case(resident):
                # A nomination's card offers its own "this is a report" choice.
                return await self.praise(resident, text)
            replies = [Reply(texts.YOU_ARE_WELCOME, chitchat_menu())]
        else:
            replies = [Reply(self.say("CHITCHAT"), chitchat_menu())]
        if ask:
            replies.append(Reply(texts.ASK_REPORT, report_it_markup(kept.id)))
        return replies

    async def _has_thankable_case(self, resident: int) -> bool:
        return await self.reports.nominations.thankable_case(resident) is not None

    def _spam(self, kept: Kept) -> list[Reply]:
        """One notice for the first advert, one when the account is throttled, then silence."""
        limit = self.settings.reports.spam_limit
        if kept.spam_in_window == 1:
            return [Reply(texts.SPAM_NOTICE)]
        if kept.spam_in_window == limit:
            hours = f"{self.settings.reports.spam_window_hours:g}"
            return [Reply(texts.SPAM_THROTTLED.format(hours=hours))]
        return []

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
            nomination = await self._nomination_to_join(resident)
            if nomination is not None:
                return await self._nomination_photo(resident, nomination, photo, caption, album)
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
            nomination = await self._nomination_to_join(resident)
            if nomination is not None:
                return await self._nomination_location(
                    resident, nomination, latitude, longitude, label
                )
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
        if button is not None and button.scope == "m":
            return await self._press_message(resident, button)
        if button is not None and button.scope == "n":
            return await self._press_nomination(resident, button)
        return Pressed(texts.BUTTON_STALE, alert=True)

    async def _press_message(self, resident: int, button: callbacks.Button) -> Pressed:
        """A choice under the answer to a text that was not taken for a report."""
        if button.action == "how":
            return Pressed(replies=[Reply(self.say("HELP"))])
        if button.action == "mine":
            return Pressed(replies=await self.my_reports(resident))
        text, drafted = await self.reports.intake.kept_text(resident, button.id)
        if not text:
            return Pressed(texts.BUTTON_STALE, alert=True)
        if drafted is not None:
            return Pressed(texts.KEPT_ALREADY_DRAFTED, alert=True)
        try:
            draft = await self.reports.drafting.start_draft(resident, text)
        except ReportError as exc:
            return Pressed(refusal(exc, self.settings), alert=True)
        await self.reports.intake.became(button.id, draft)
        return Pressed(replies=[self.card(draft, replaces=True)])

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

    # -- Questions ("你们几点下班", "垃圾怎么分类"), answered from the office's faq/

    async def question(self, resident: int, text: str) -> list[Reply]:
        """Answer a question from the office's knowledge base, or say honestly that we cannot
        (the office sees it with /faq_gaps) and where to ask instead."""
        return (await self._answer(resident, text))[0]

    async def _answer(self, resident: int, text: str) -> tuple[list[Reply], bool]:
        """The answer to a question, and whether the knowledge base had one."""
        answer = await self.reports.questions.ask(resident, text)
        if answer.match is None:
            return [Reply(texts.FAQ_UNANSWERED)], False
        reply = answer.match.answer
        if answer.match.link:
            reply += "\n" + texts.FAQ_LINK.format(link=answer.match.link)
        return [Reply(reply)], True

    # -- 身边好人: a resident recommends a good deed (or thanks a group)

    async def praise(self, resident: int, text: str) -> list[Reply]:
        """Open a nomination with the resident's words; if a case of theirs was resolved
        lately, first ask whether this is thanks for it (the words wait with the
        nomination, not in the buttons)."""
        service = self.reports.nominations
        try:
            nomination = await service.start(resident, text)
        except ReportError as exc:
            return [Reply(refusal(exc, self.settings))]
        case = await service.thankable_case(resident)
        if case is not None:
            ask, choices = self.render.thanks_choice(nomination, case)
            return [Reply(ask, choices, nomination=nomination.id)]
        return [self.nomination_card(nomination)]

    async def _nomination_to_join(self, resident: int) -> Nomination | None:
        """The open nomination a photo or location sent now joins: the resident's open
        nomination, if it was touched more lately than their open draft."""
        nomination = await self.reports.nominations.open_nomination(resident)
        if nomination is None:
            return None
        draft = await self.reports.drafting.open_draft(resident)
        if draft is not None and draft.updated_at > nomination.updated_at:
            return None
        return nomination

    async def _nomination_photo(
        self, resident: int, nomination: Nomination, photo: str, caption: str, album: str | None
    ) -> list[Reply]:
        service = self.reports.nominations
        more_of_album = bool(album) and album == nomination.media_group_id
        if caption.strip():
            text = f"{nomination.text}\n{caption.strip()}".strip()
            service.check_text(text)
            nomination = await service.set_text(resident, nomination.id, text)
        nomination = await service.add_photo(resident, nomination.id, photo, album)
        if more_of_album:
            return []  # the album's first photo answered; the rest join quietly
        notice = texts.NOMINATION_PHOTO_ADDED.format(count=len(nomination.photos))
        return [self.nomination_card(nomination, notice)]

    async def _nomination_location(
        self, resident: int, nomination: Nomination, latitude: float, longitude: float, label: str
    ) -> list[Reply]:
        service = self.reports.nominations
        nomination = await service.set_location(resident, nomination.id, latitude, longitude)
        if label.strip() and not nomination.address:
            nomination = await service.set_address(resident, nomination.id, label.strip())
        return [self.nomination_card(nomination, texts.NOMINATION_LOCATION_ADDED)]

    async def _press_nomination(self, resident: int, button: callbacks.Button) -> Pressed:
        """A nomination card's choice, or the answer to 是感谢…吗？"""
        service = self.reports.nominations
        n = button.id
        try:
            if button.action in callbacks.NOMINATION_GROUP_ACTIONS:
                return Pressed(texts.BUTTON_STALE, alert=True)  # the group's, not a resident's
            if button.action == "ok":
                await service.submit(resident, n)
                group = self.render.group(self.settings.roles.praise)
                text = texts.NOMINATION_SUBMITTED.format(group=group)
                return Pressed(replies=[Reply(text, replaces=True)])
            if button.action == "no":
                await service.cancel(resident, n)
                return Pressed(replies=[Reply(texts.NOMINATION_CANCELLED, replaces=True)])
            if button.action in ("pub", "anon"):
                nomination = await service.set_may_name(resident, n, button.action == "pub")
                return Pressed(replies=[self.nomination_card(nomination, replaces=True)])
            if button.action == "thx":
                case = await service.thank(resident, n, int(button.arg or "0"))
                text = texts.THANKS_SENT.format(group=self.render.group(case.group_key))
                return Pressed(replies=[Reply(text, replaces=True)])
            if button.action == "rep":
                return await self._nomination_to_report(resident, n)
            nomination = await service.touch(resident, n)
            if button.action == "loc":
                # The location sent next joins this nomination (the latest touched).
                ask = Reply(self.say("NOMINATION_LOCATION_REQUEST"), asks_location=True)
                return Pressed(replies=[ask])
            # "nom": not thanks after all; the nomination's card.
            return Pressed(replies=[self.nomination_card(nomination, replaces=True)])
        except NominationClosed:
            return Pressed(texts.NOMINATION_CLOSED, alert=True)
        except (NominationNotFound, NotThankable):
            return Pressed(texts.BUTTON_STALE, alert=True)
        except ReportError as exc:
            return Pressed(refusal(exc, self.settings), alert=True)

    async def _nomination_to_report(self, resident: int, nomination_id: int) -> Pressed:
        """这是要反映问题: a report's draft with the same words, photos and place; the
        nomination is dropped once the draft holds them."""
        nomination = await self.reports.nominations.get(resident, nomination_id)
        if nomination.status != "open":
            raise NominationClosed(nomination)
        drafting = self.reports.drafting
        photos = nomination.photos
        draft = await drafting.start_draft(resident, nomination.text, photos[0] if photos else None)
        for photo in photos[1:]:
            draft = await drafting.add_photo(resident, draft.id, photo, "")
        if nomination.latitude is not None and nomination.longitude is not None:
            draft = await drafting.set_location(
                resident, draft.id, nomination.latitude, nomination.longitude
            )
        if nomination.address:
            draft = await drafting.set_address(resident, draft.id, nomination.address)
        await self.reports.nominations.cancel(resident, nomination_id)
        return Pressed(replies=[self.card(draft, texts.NOMINATION_TO_REPORT, replaces=True)])

    def nomination_card(
        self, nomination: Nomination, notice: str = "", *, replaces: bool = False
    ) -> Reply:
        """The nomination's card: what the bot understood, with its choices."""
        text, choices = self.render.nomination_card(nomination)
        text = f"{notice}\n{text}" if notice else text
        return Reply(text, choices, replaces=replaces, nomination=nomination.id)


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
