"""A working group's side of a case, written once for every channel: what a press on an
alert's choices does (受理 at once; 办结, 退回, 转派 and 重复 ask for a note), what a
note completes, and a member's question relayed to the resident.

The channel has checked what only it can: that the choice pressed is under the
case's current alert, and that the member may act for the case's group (a
member of its chat, department or tag, or an admin). It shows the replies: a
prompt for a note on Telegram is a reply under the alert; on WeCom a message in
the app chat whose answer is the member's next text.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogue import callbacks, texts
from dialogue.choices import Keyboard
from dialogue.render import ACTIONS_BY_CODE, Renderer
from dialogue.resident import Pressed, Reply
from reports.errors import NoteTooLong, PromptUsed, UnknownTicket
from reports.records import Nomination, NotePrompt, Report
from reports.services import ReportServices
from reports.states import Action, TransitionRefused, next_status


@dataclass(frozen=True)
class Member:
    """Who acts: our staff id and the name the history shows."""

    staff_id: int
    name: str


@dataclass(frozen=True)
class GroupPressed(Pressed):
    """A press on an alert: also the choices the alert shows from now on, if they change."""

    choices_now: Keyboard | None = None


@dataclass(frozen=True)
class QuestionPromptReply(Reply):
    """The request for a question for the resident: the member's next text is it."""

    asks_question: int = 0  # the report's id


@dataclass(frozen=True)
class NotePromptReply(Reply):
    """The request for a note: the member's answer to it completes the action."""

    asks_note: int = 0  # the prompt's id
    placeholder: str = ""  # what the answer is (shown in the input box, where a channel can)


class GroupDialogue:
    """Act on a case from its alert, complete an action with its note, ask the resident."""

    def __init__(self, reports: ReportServices, render: Renderer) -> None:
        self.reports = reports
        self.render = render

    async def press(self, member: Member, report: Report, data: str) -> GroupPressed:
        """A choice under the case's current alert, pressed by a member who may act."""
        button = callbacks.parse(data)
        if button is None or button.scope != "r" or button.id != report.id:
            return GroupPressed(texts.BUTTON_STALE, alert=True)
        try:
            if button.action == "acc":
                await self.reports.cases.act(report.id, Action.ACCEPT, member.staff_id, member.name)
                return GroupPressed(texts.ACT_DONE["accept"])
            if button.action == "mv":
                next_status(report.status, Action.REASSIGN)
                return GroupPressed(choices_now=self.render.group_choice(report))
            if button.action == "back":
                return GroupPressed(choices_now=self.render.alert_buttons(report))
            if button.action == "ask":
                text = texts.RELAY_ASK_PROMPT.format(
                    ticket=report.ticket,
                    limit=self.reports.shared.settings.reports.max_note_chars,
                    group=self.render.group(report.group_key),
                )
                return GroupPressed(replies=[QuestionPromptReply(text, asks_question=report.id)])
            code = "mv" if button.action == "to" else button.action
            if code not in ACTIONS_BY_CODE:
                return GroupPressed(texts.BUTTON_STALE, alert=True)
            action = ACTIONS_BY_CODE[code]
            to_group = button.arg if button.action == "to" else None
            groups = self.reports.shared.settings.groups
            if to_group is not None and (to_group not in groups or to_group == report.group_key):
                return GroupPressed(texts.BUTTON_STALE, alert=True)
            next_status(report.status, action)
            prompt = await self._prompt(member, report, action, to_group)
            # After a group was chosen for 转派, the alert shows its own choices again.
            back = self.render.alert_buttons(report) if to_group is not None else None
            return GroupPressed(texts.ACT_ASK_NOTE, replies=[prompt], choices_now=back)
        except TransitionRefused as exc:
            return GroupPressed(refused(exc), alert=True)

    async def _prompt(
        self, member: Member, report: Report, action: Action, to_group: str | None
    ) -> NotePromptReply:
        prompt_id = await self.reports.cases.open_prompt(
            report.id, action, staff_id=member.staff_id, to_group=to_group
        )
        text = texts.PROMPT[action].format(
            ticket=report.ticket,
            limit=self.reports.shared.settings.reports.max_note_chars,
            group=self.render.group(to_group or ""),
        )
        return NotePromptReply(text, asks_note=prompt_id, placeholder=texts.ACTION_NAMES[action])

    async def note(self, member: Member, prompt: NotePrompt, text: str) -> list[Reply]:
        """Complete the action a prompt asked a note for (by a member who may act)."""
        if prompt.status != "open":
            return [Reply(texts.NOTE_USED)]
        action = Action(prompt.action)
        try:
            report = await self.reports.cases.act(
                prompt.report_id,
                action,
                member.staff_id,
                member.name,
                note=text.strip(),
                to_group=prompt.to_group,
                prompt_id=prompt.id,
            )
        except NoteTooLong as exc:
            return [Reply(texts.NOTE_TOO_LONG.format(limit=exc.limit))]
        except UnknownTicket:
            return [Reply(texts.MERGE_UNKNOWN)]
        except PromptUsed:
            return [Reply(texts.NOTE_USED)]
        except TransitionRefused as exc:
            return [Reply(refused(exc))]
        group = self.render.group(report.group_key)
        return [Reply(texts.NOTE_DONE[action].format(ticket=report.ticket, group=group))]

    async def ask(self, member: Member, report: Report, question: str) -> list[Reply]:
        """Relay a member's question to the case's resident (who sees the group's name only)."""
        try:
            await self.reports.relays.ask_resident(report, question, member.staff_id, member.name)
        except NoteTooLong as exc:
            return [Reply(texts.NOTE_TOO_LONG.format(limit=exc.limit))]
        return [Reply(texts.RELAY_SENT)]

    # -- 身边好人: the praise group selects a nomination, or not

    async def press_nomination(
        self, member: Member, nomination: Nomination, data: str
    ) -> GroupPressed:
        """选入好人好事 or 暂不选入 under a nomination's alert, pressed by a member of the
        praise group (checked by the channel). The alert shows the decision and a selected
        nomination's resident is told, through the outbox."""
        button = callbacks.parse(data)
        if (
            button is None
            or button.scope != "n"
            or button.id != nomination.id
            or button.action not in callbacks.NOMINATION_GROUP_ACTIONS
        ):
            return GroupPressed(texts.BUTTON_STALE, alert=True)
        select = button.action == "sel"
        decided = await self.reports.nominations.decide(
            nomination.id, select, member.staff_id, member.name
        )
        if decided is None:
            return GroupPressed(texts.NOMINATION_DECIDED_ALREADY, alert=True)
        done = texts.NOMINATION_SELECT_DONE if select else texts.NOMINATION_DECLINE_DONE
        return GroupPressed(done)


def refused(exc: TransitionRefused) -> str:
    """Why an action does not apply to the case as it is now."""
    known = texts.ACT_REFUSED.get((exc.status, exc.action))
    return known or texts.ACT_REFUSED_CLOSED.format(
        status=texts.STATUS_NAMES[exc.status], action=texts.ACTION_NAMES[exc.action]
    )
