"""Turn drafts, reports and their history into message text and buttons."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from dialogue import callbacks, texts
from dialogue.choices import Choice, Keyboard, keyboard
from quizzes.push import SURVEY_PUSH
from quizzes.survey import SUPPORT
from quizzes.survey_stats import OUTSIDE, UNDISCLOSED
from reports.areas import Leader
from reports.outbox import leader_of
from reports.records import Draft, Event, Nomination, Report
from reports.states import Action, allowed_actions
from settings import FALLBACK_CATEGORY, Settings

PREVIEW_CHARS = 300


class Renderer:
    """Knows the district's names for categories and groups, and its time zone."""

    def __init__(self, settings: Settings, wording: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        # A channel whose ways differ (a menu, not commands) words a few texts its own
        # way: the name of a text in `texts` -> the channel's wording of it.
        self.wording = dict(wording or {})

    def say(self, name: str) -> str:
        """The text `name` of `texts`, as this channel words it."""
        return self.wording.get(name) or str(getattr(texts, name))

    def time(self, ts: float, with_date: bool = True) -> str:
        moment = datetime.fromtimestamp(ts, self.tz)
        return moment.strftime("%m-%d %H:%M" if with_date else "%H:%M")

    def time_full(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M")

    def category(self, key: str) -> str:
        category = self.settings.categories.get(key)
        return category.name if category else key

    def group(self, key: str) -> str:
        group = self.settings.groups.get(key)
        return group.name if group else key

    def group_of_category(self, key: str) -> str:
        category = self.settings.categories.get(key)
        return self.group(category.group) if category else key

    def area(self, key: str | None) -> str | None:
        """An area's name as staff and residents read it (a road section says so)."""
        area = self.settings.areas.get(key)
        if area is None:
            return None
        return texts.AREA_ROAD.format(name=area.name) if area.is_road else area.name

    def leader(self, recipient: str) -> Leader | None:
        """The area leader a "leader:<area>:<index>" recipient names, if still configured."""
        found = leader_of(recipient)
        area = self.settings.areas.get(found[0]) if found else None
        if found is None or area is None or found[1] >= len(area.leaders):
            return None
        return area.leaders[found[1]]

    def map_url(self, latitude: float, longitude: float) -> str:
        return self.settings.reports.map_url.format(lat=f"{latitude:.6f}", lon=f"{longitude:.6f}")

    # --- the resident's draft ----------------------------------------------

    def draft_card(self, draft: Draft, placed: bool) -> tuple[str, Keyboard]:
        """The card a resident confirms, or the category choice when unsure."""
        lines = [texts.DRAFT_TITLE, self._draft_text(draft)]
        if placed:
            lines.append(
                texts.DRAFT_CATEGORY.format(
                    category=self.category(draft.category),
                    group=self.group_of_category(draft.category),
                )
            )
        lines.append(self._draft_location(draft))
        if draft.photos:
            lines.append(texts.DRAFT_PHOTOS.format(count=len(draft.photos)))
        if not placed:
            lines.append(texts.DRAFT_UNPLACED)
            return "\n".join(lines), self.category_choice(draft, with_back=False)
        lines.append(texts.DRAFT_CONFIRM_HINT)
        rows = [
            [_button(texts.BUTTON_CONFIRM, callbacks.draft_button("ok", draft.id))],
            [
                _button(texts.BUTTON_CHANGE_CATEGORY, callbacks.draft_button("cat", draft.id)),
                _button(texts.BUTTON_ADD_LOCATION, callbacks.draft_button("loc", draft.id)),
            ],
            [_button(texts.BUTTON_CANCEL, callbacks.draft_button("no", draft.id))],
        ]
        return "\n".join(lines), keyboard(rows)

    def duplicate_choice(self, draft: Draft, case: Report, distance: float) -> tuple[str, Keyboard]:
        """Offer to follow the open case nearby, or to file anyway."""
        text = texts.DUPLICATE_FOUND.format(
            distance=max(1, round(distance)),
            ticket=case.ticket,
            group=self.group(case.group_key),
            status=texts.STATUS_NAMES[case.status],
        )
        rows = [
            [_button(texts.BUTTON_FOLLOW, callbacks.draft_button("fol", draft.id, str(case.id)))],
            [_button(texts.BUTTON_SEPARATE, callbacks.draft_button("new", draft.id))],
            [_button(texts.BUTTON_CANCEL, callbacks.draft_button("no", draft.id))],
        ]
        return text, keyboard(rows)

    def category_choice(self, draft: Draft, with_back: bool = True) -> Keyboard:
        """Every category as a button, two a row; 其他 last."""
        keys = [k for k in self.settings.categories if k != FALLBACK_CATEGORY]
        keys.append(FALLBACK_CATEGORY)
        buttons = [
            _button(self.category(k), callbacks.draft_button("set", draft.id, k)) for k in keys
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        last = [_button(texts.BUTTON_CANCEL, callbacks.draft_button("no", draft.id))]
        if with_back:
            last.insert(0, _button(texts.BUTTON_BACK, callbacks.draft_button("back", draft.id)))
        rows.append(last)
        return keyboard(rows)

    def choose_text(self, draft: Draft) -> str:
        return "\n".join([texts.DRAFT_TITLE, self._draft_text(draft), texts.DRAFT_CHOOSE])

    def _draft_text(self, draft: Draft) -> str:
        if not draft.text:
            return texts.DRAFT_NO_TEXT
        return texts.DRAFT_TEXT.format(text=_preview(draft.text))

    def _draft_location(self, draft: Draft) -> str:
        parts = []
        if draft.address:
            parts.append(draft.address)
        if draft.latitude is not None and draft.longitude is not None:
            parts.append(f"{texts.LOCATION_MAP} {self.map_url(draft.latitude, draft.longitude)}")
        if not parts:
            return self.say("DRAFT_NO_LOCATION")
        return texts.DRAFT_LOCATION.format(location="；".join(parts))

    def submitted(self, report: Report) -> str:
        return self.say("DRAFT_SUBMITTED").format(
            ticket=report.ticket,
            category=self.category(report.category),
            group=self.group(report.group_key),
        )

    # --- the working group's alert -------------------------------------------

    def alert(self, report: Report, history: list[Event]) -> tuple[str, Keyboard | None]:
        """The group's alert: everything needed to act, and the buttons still allowed."""
        return self._alert_text(report, history), self.alert_buttons(report)

    def _alert_text(
        self,
        report: Report,
        history: list[Event],
        footer: str | None = None,
        heading: str | None = None,
    ) -> str:
        """The alert's text, within Telegram's limit however long the case's history."""
        head = [
            *([heading] if heading else []),
            texts.ALERT_TITLE.format(ticket=report.ticket),
            texts.ALERT_CATEGORY.format(category=self.category(report.category)),
            texts.ALERT_TEXT if report.text else texts.ALERT_NO_TEXT,
        ]
        middle = []
        area = self.area(report.area)
        if area:
            middle.append(texts.ALERT_AREA.format(area=area))
        if report.address:
            middle.append(texts.ALERT_ADDRESS.format(address=report.address))
        if report.latitude is not None and report.longitude is not None:
            middle.append(
                texts.ALERT_MAP.format(url=self.map_url(report.latitude, report.longitude))
            )
        if not report.address and report.latitude is None:
            middle.append(texts.ALERT_NO_LOCATION)
        if report.photos:
            middle.append(texts.ALERT_PHOTOS.format(count=len(report.photos)))
        middle.append(texts.ALERT_TIME.format(time=self.time(report.created_at)))
        followers = sum(1 for e in history if e.action == "follow")
        if followers:
            middle.append(texts.ALERT_FOLLOWERS.format(count=followers))
        middle.append(texts.ALERT_STATUS.format(status=texts.STATUS_NAMES[report.status]))
        return fit_message(
            head,
            quoted(report.text),
            middle,
            self._acted(history),
            [footer] if footer else [],
            texts.ALERT_EARLIER,
        )

    def leader_copy(self, report: Report, history: list[Event], payload: dict[str, object]) -> str:
        """An area leader's read-only copy: 【抄送】 and the alert's text (no buttons), or
        the escalation as 督导组 got it."""
        area = self.area(report.area) or ""
        if payload.get("copy") == "escalation":
            notice = self.deadline_notice(
                report,
                str(payload["kind"]),
                "escalate",
                float(payload["late"]),  # type: ignore[arg-type]
            )
            return "\n".join([texts.LEADER_COPY_ESCALATION.format(area=area), notice])
        heading = texts.LEADER_COPY_ALERT.format(area=area, group=self.group(report.group_key))
        return self._alert_text(report, history, heading=heading)

    def reopened_away(self, report: Report, history: list[Event]) -> str:
        """The old alert of a case its resident reopened: the new alert is below it."""
        return self._alert_text(report, history, texts.ALERT_REOPENED_AWAY)

    def rating_buttons(self, report: Report) -> Keyboard:
        buttons = [
            _button(label, callbacks.report_button("rt", report.id, key[0]))
            for key, label in texts.BUTTON_RATINGS.items()
        ]
        return keyboard([buttons])

    def handed_over(self, report: Report, history: list[Event], to_group: str) -> str:
        """The old group's alert once the case went to another group: no buttons."""
        footer = texts.ALERT_HANDED_OVER.format(group=self.group(to_group))
        return self._alert_text(report, history, footer)

    def alert_buttons(self, report: Report) -> Keyboard | None:
        """受理 and 办结 on one row, 转派 and 退回 below: whatever the state still allows."""
        actions = allowed_actions(report.status)
        buttons = [
            _button(_ACTION_LABELS[a], callbacks.report_button(_ACTION_CODES[a], report.id))
            for a in actions
        ]
        if not buttons:
            return None
        main = [b for a, b in zip(actions, buttons, strict=True) if a in _FIRST_ROW]
        rest = [b for a, b in zip(actions, buttons, strict=True) if a not in _FIRST_ROW]
        return keyboard([main, rest])

    def group_choice(self, report: Report) -> Keyboard:
        """The other groups, to reassign a case to, and a way back."""
        others = [k for k in self.settings.groups if k != report.group_key]
        buttons = [
            _button(self.group(k), callbacks.report_button("to", report.id, k)) for k in others
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([_button(texts.BUTTON_BACK, callbacks.report_button("back", report.id))])
        return keyboard(rows)

    def _acted(self, history: list[Event]) -> list[list[str]]:
        """Who did what, one block of lines per step, oldest first."""
        blocks = []
        for event in history:
            if event.action == "reopen":
                # The resident's own words: quoted, like the report's text.
                blocks.append([texts.ALERT_REOPENED, *quoted(event.note or "")])
                continue
            if event.action == "rate" and event.note:
                rating = texts.RATING_NAMES.get(event.note, event.note)
                blocks.append([texts.ALERT_RATED.format(rating=rating)])
                continue
            if not event.actor_name or event.action in ("ask", "answer"):
                continue  # questions and answers are in the chat itself
            action = texts.ACTION_NAMES.get(event.action, event.action)
            if event.to_group:
                action += texts.ALERT_REASSIGNED_TO.format(group=self.group(event.to_group))
            block = [
                texts.ALERT_ACTED.format(
                    action=action, actor=event.actor_name, time=self.time(event.at)
                )
            ]
            if event.note:
                # Indented continuation lines: a note cannot start a line of its own.
                first, *rest = event.note.splitlines() or [""]
                block.append(texts.ALERT_NOTE.format(note=first))
                block += [texts.NOTE_INDENT + line for line in rest]
            blocks.append(block)
        return blocks

    def deadline_notice(self, report: Report, kind: str, level: str, late: float) -> str:
        """A reminder to the group, or an escalation to 督导组 naming the group."""
        templates = texts.DEADLINE_REMIND if level == "remind" else texts.DEADLINE_ESCALATE
        lines = [
            templates[kind].format(
                ticket=report.ticket,
                category=self.category(report.category),
                group=self.group(report.group_key),
                late=lateness(late),
            )
        ]
        if level != "remind":
            if report.text:
                lines += [texts.DEADLINE_TEXT, *quoted(_preview(report.text))]
            else:
                lines.append(texts.DEADLINE_NO_TEXT)
        return "\n".join(lines)

    def digest(self, payload: dict[str, object]) -> str:
        """A group's morning list: what is new, what falls due today, what is late.

        A digest is a glance at the day's work, not the register: a group with
        hundreds of late cases cannot act on a wall of ticket numbers spread over
        several messages (and each case has its own alert and reminders in the
        chat anyway). So it stays one message: every section gives its full count,
        lists the most pressing first (the latest cases, what falls due soonest),
        and when the message would grow past Telegram's limit the longest list is
        cut first and says how many it leaves out.
        """
        new, due, overdue = payload["new"], payload["due"], payload["overdue"]
        assert isinstance(new, list) and isinstance(due, list) and isinstance(overdue, list)
        areas = payload.get("areas") or {}
        assert isinstance(areas, dict)

        def at(ticket: object) -> str:
            area = self.area(areas.get(str(ticket)))
            return texts.DIGEST_AREA_ITEM.format(ticket=ticket, area=area) if area else str(ticket)

        title = texts.DIGEST_TITLE.format(
            group=self.group(str(payload["group"])), date=payload["date"]
        )
        sections: list[tuple[str, list[str]]] = []
        if new:
            sections.append((texts.DIGEST_NEW, [at(t) for t in new]))
        if due:
            # Entries are [ticket, kind, seconds late]: not yet due is negative.
            soonest = sorted(due, key=lambda e: -float(e[2]))
            items = [
                texts.DIGEST_DUE_ITEM.format(ticket=at(t), what=texts.DIGEST_WHAT[k])
                for t, k, _ in soonest
            ]
            sections.append((texts.DIGEST_DUE, items))
        if overdue:
            latest = sorted(overdue, key=lambda e: -float(e[2]))
            items = [
                texts.DIGEST_OVERDUE_ITEM.format(
                    ticket=at(t), what=texts.DIGEST_WHAT[k], late=lateness(late)
                )
                for t, k, late in latest
            ]
            sections.append((texts.DIGEST_OVERDUE, items))
        if not sections:
            return "\n".join([title, texts.DIGEST_QUIET])
        shown = _shares(
            [[units(i) + 1 for i in items] for _, items in sections],  # 1 for "、"
            budget=MESSAGE_LIMIT
            - units(title)
            - sum(units(h) + 1 + units(texts.DIGEST_MORE) + 10 for h, _ in sections),
        )
        lines = [title]
        for (header, items), count in zip(sections, shown, strict=True):
            line = header.format(count=len(items), items="、".join(items[:count]))
            if count < len(items):
                line += texts.DIGEST_MORE.format(rest=len(items) - count)
            lines.append(line)
        return "\n".join(lines)

    def relay(
        self, template: str, report: Report, payload: dict[str, object], quote: bool = False
    ) -> str:
        """A question or answer passed on; `quote` sets a resident's words apart in a group."""
        text = str(payload["text"])
        if quote:
            text = "\n".join(quoted(text))
        return template.format(
            ticket=report.ticket,
            group=self.group(str(payload.get("group") or report.group_key)),
            text=text,
        )

    def refusal_notice(self, payload: dict[str, object]) -> str:
        """To 办公室: which message was refused for good (or had no group to go to), and why."""
        kind = str(payload["kind"])
        if kind == "leader_copy":
            return self._leader_refused(payload)
        what = texts.REFUSAL_WHAT.get(kind, kind)
        if kind == "group_alert" and payload.get("part"):
            what = texts.REFUSAL_WHAT_PARTS
        ticket = payload.get("ticket")
        # "gone": the group was taken out of the config; Telegram refused nothing.
        template = texts.GROUP_GONE_NOTICE if payload.get("gone") else texts.REFUSAL_NOTICE
        return template.format(
            what=what,
            group=self.group(str(payload["group"])),
            ticket=texts.REFUSAL_TICKET.format(ticket=ticket) if ticket else "",
            reason=payload["reason"],
        )

    def _leader_refused(self, payload: dict[str, object]) -> str:
        """To 办公室: an area's leader cannot get copies on a channel."""
        area = self.settings.areas.get(str(payload["area"]))
        index = int(payload["leader"])  # type: ignore[call-overload]
        leader = area.leaders[index] if area and index < len(area.leaders) else None
        channel = str(payload["channel"])
        return texts.LEADER_REFUSED_NOTICE.format(
            area=self.area(str(payload["area"])) or payload["area"],
            name=leader.name if leader else "",
            channel=texts.LEADER_CHANNELS.get(channel, channel),
            reason=payload["reason"],
        )

    # --- the resident's reports ----------------------------------------------

    def notification(self, ticket: str, action: str, group_key: str, note: str | None) -> str:
        """What the resident hears when a group acts on their report."""
        template = {
            "accept": texts.NOTIFY_ACCEPTED,
            "resolve": texts.NOTIFY_RESOLVED,
            "reject": texts.NOTIFY_REJECTED,
            "reassign": texts.NOTIFY_REASSIGNED,
            "merge": texts.NOTIFY_MERGED,
        }[action]
        lines = [template.format(ticket=ticket, group=self.group(group_key))]
        if note:
            reason = action in ("reject", "reassign")
            if action == "merge":
                note = f"{texts.ACTION_NAMES['merge']}：{note}"
            lines.append((texts.NOTIFY_REASON if reason else texts.NOTIFY_NOTE).format(note=note))
        if action == "resolve":
            lines.append(texts.NOTIFY_FOOTER)
        return "\n".join(lines)

    def report_list(self, reports: list[Report], total: int) -> str:
        if not reports:
            return texts.MY_REPORTS_EMPTY
        lines = [texts.MY_REPORTS_TITLE.format(total=total, shown=len(reports))]
        for r in reports:
            line = texts.MY_REPORTS_LINE.format(
                ticket=r.ticket,
                category=self.category(r.category),
                status=texts.STATUS_NAMES[r.status],
                time=self.time(r.created_at),
            )
            area = self.area(r.area)
            lines.append(texts.MY_REPORTS_AREA.format(line=line, area=area) if area else line)
        lines.append(self.say("MY_REPORTS_HINT"))
        return "\n".join(lines)

    def report_detail(self, report: Report, history: list[Event]) -> str:
        """A resident's /status: the case and its steps (the newest, if there are many)."""
        head = texts.STATUS_DETAIL.format(
            ticket=report.ticket,
            category=self.category(report.category),
            group=self.group(report.group_key),
            status=texts.STATUS_NAMES[report.status],
            text=_preview(report.text) or "（照片）",
            time=self.time(report.created_at),
        ).splitlines()
        area = self.area(report.area)
        if area:
            head.insert(2, texts.STATUS_AREA.format(area=area))
        steps = []
        for event in history:
            # Staff appear to residents by group name only.
            what = texts.ACTION_NAMES.get(event.action, event.action)
            who = "" if event.action == "submit" else self.group(event.group_key or "")
            if event.to_group:
                what += texts.ALERT_REASSIGNED_TO.format(group=self.group(event.to_group))
            if event.note:
                what += f"（{texts.RATING_NAMES.get(event.note, event.note)}）"
            if event.action in ("reopen", "rate", "close"):
                who = ""
            line = texts.STATUS_HISTORY_LINE.format(time=self.time(event.at), what=who + what)
            steps.append(line.splitlines())
        return fit_message([*head, texts.STATUS_HISTORY], [], [], steps, [], texts.STATUS_EARLIER)

    # --- 身边好人: nominations ---------------------------------------------------

    def _nomination_place(self, nomination: Nomination) -> str | None:
        parts = []
        if nomination.address:
            parts.append(nomination.address)
        if nomination.latitude is not None and nomination.longitude is not None:
            url = self.map_url(nomination.latitude, nomination.longitude)
            parts.append(f"{texts.LOCATION_MAP} {url}")
        return "；".join(parts) or None

    def _nomination_lines(self, nomination: Nomination) -> list[str]:
        """What the resident told: the deed, where, when, photos, whether to name them."""
        lines = [
            texts.NOMINATION_TEXT.format(text=_preview(nomination.text))
            if nomination.text
            else texts.NOMINATION_NO_TEXT
        ]
        place = self._nomination_place(nomination)
        lines.append(
            texts.NOMINATION_ADDRESS.format(where=place) if place else texts.NOMINATION_NO_ADDRESS
        )
        lines.append(texts.NOMINATION_OCCURRED.format(occurred=nomination.occurred))
        if nomination.photos:
            lines.append(texts.NOMINATION_PHOTOS.format(count=len(nomination.photos)))
        lines.append(texts.NOMINATION_MAY_NAME[nomination.may_name])
        return lines

    def nomination_card(self, nomination: Nomination) -> tuple[str, Keyboard]:
        """The resident's card of a nomination being composed, with its choices."""
        n = nomination.id
        lines = [texts.NOMINATION_TITLE, *self._nomination_lines(nomination)]
        lines.append(texts.NOMINATION_HINT)
        naming = (
            _button(texts.BUTTON_NOMINATION_ANONYMOUS, callbacks.nomination_button("anon", n))
            if nomination.may_name == 1
            else _button(texts.BUTTON_NOMINATION_NAMED, callbacks.nomination_button("pub", n))
        )
        rows = [
            [_button(texts.BUTTON_NOMINATION_SUBMIT, callbacks.nomination_button("ok", n))],
            [
                _button(texts.BUTTON_NOMINATION_LOCATION, callbacks.nomination_button("loc", n)),
                naming,
            ],
            [
                _button(texts.BUTTON_NOMINATION_REPORT, callbacks.nomination_button("rep", n)),
                _button(texts.BUTTON_NOMINATION_CANCEL, callbacks.nomination_button("no", n)),
            ],
        ]
        return "\n".join(lines), keyboard(rows)

    def thanks_choice(self, nomination: Nomination, case: Report) -> tuple[str, Keyboard]:
        """Ask whether the praise is thanks for the case resolved lately."""
        n = nomination.id
        rows = [
            [_button(texts.BUTTON_THANKS_YES, callbacks.nomination_button("thx", n, str(case.id)))],
            [_button(texts.BUTTON_THANKS_NO, callbacks.nomination_button("nom", n))],
        ]
        return texts.THANKS_ASK.format(ticket=case.ticket), keyboard(rows)

    def case_thanks(self, payload: dict[str, object]) -> str:
        """A resident's thanks for a case, for the group that handled it."""
        return texts.THANKS_TO_GROUP.format(ticket=payload["ticket"], text=payload["text"])

    def nomination_alert(self, nomination: Nomination) -> tuple[str, Keyboard | None]:
        """The praise group's alert: the nomination and, until decided, 选入 / 暂不选入."""
        lines = [texts.NOMINATION_ALERT_TITLE.format(id=nomination.id)]
        lines += self._nomination_lines(nomination)
        sent = nomination.submitted_at or nomination.created_at
        lines.append(texts.NOMINATION_ALERT_SENT.format(time=self.time(sent)))
        decision = self.nomination_decision(nomination)
        if decision is not None:
            lines.append(decision)
            return "\n".join(lines), None
        lines.append(texts.NOMINATION_ALERT_OPEN)
        n = nomination.id
        rows = [
            [
                _button(texts.BUTTON_NOMINATION_SELECT, callbacks.nomination_button("sel", n)),
                _button(texts.BUTTON_NOMINATION_DECLINE, callbacks.nomination_button("dec", n)),
            ]
        ]
        return "\n".join(lines), keyboard(rows)

    def nomination_decision(self, nomination: Nomination) -> str | None:
        """What the group decided, by whom and when; None while it waits."""
        if nomination.status not in ("selected", "declined") or nomination.decided_at is None:
            return None
        template = (
            texts.NOMINATION_ALERT_SELECTED
            if nomination.status == "selected"
            else texts.NOMINATION_ALERT_DECLINED
        )
        return template.format(
            name=nomination.decided_by_name or "", time=self.time(nomination.decided_at)
        )

    def nomination_selected(self, nomination: Nomination) -> str:
        """The resident's news that their nomination was selected."""
        return texts.NOMINATION_SELECTED_RESIDENT.format(text=_preview(nomination.text))

    def weekly_nominations(self, selected: list[Nomination]) -> str:
        """The weekly report's 本周好人好事: what, where, when; who may not be named."""
        if not selected:
            return texts.WEEKLY_NOMINATIONS_NONE
        lines = [texts.WEEKLY_NOMINATIONS_TITLE.format(count=len(selected))]
        for number, nomination in enumerate(selected, 1):
            lines.append(
                texts.WEEKLY_NOMINATION_ITEM.format(
                    number=number,
                    text=_preview(" ".join(nomination.text.split())),
                    where=nomination.address or texts.WEEKLY_NOMINATION_NOWHERE,
                    occurred=nomination.occurred,
                    anonymous="" if nomination.may_name == 1 else texts.WEEKLY_NOMINATION_ANONYMOUS,
                )
            )
        return "\n".join(lines)


_ACTION_LABELS = {
    Action.ACCEPT: texts.BUTTON_ACCEPT,
    Action.RESOLVE: texts.BUTTON_RESOLVE,
    Action.REASSIGN: texts.BUTTON_REASSIGN,
    Action.REJECT: texts.BUTTON_REJECT,
    Action.MERGE: texts.BUTTON_MERGE,
}
_ACTION_CODES = {
    Action.ACCEPT: "acc",
    Action.RESOLVE: "res",
    Action.REASSIGN: "mv",
    Action.REJECT: "rej",
    Action.MERGE: "dup",
}
_FIRST_ROW = frozenset({Action.ACCEPT, Action.RESOLVE})
ACTIONS_BY_CODE = {code: action for action, code in _ACTION_CODES.items()}


def lateness(seconds: float) -> str:
    """How late, the way people say it: 2天3小时, 5小时12分钟, 8分钟."""
    minutes = max(1, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return texts.LATE_DAYS.format(days=days, hours=hours)
    if hours:
        return texts.LATE_HOURS.format(hours=hours, minutes=minutes)
    return texts.LATE_MINUTES.format(minutes=minutes)


MESSAGE_LIMIT = 4096  # Telegram's limit on a message's text, in UTF-16 code units
# When an alert must be shortened, the newest step keeps at least this much
# room before the resident's text is cut (the text is cut only in extreme cases:
# max_text_chars is at most 3,500 and most history is dropped first).
NEWEST_STEP_ROOM = 1200


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _size(lines: list[str]) -> int:
    return sum(units(line) + 1 for line in lines)  # each with its line break


def quoted(text: str) -> list[str]:
    """Someone else's words, every line marked, so none can pass for the bot's own line."""
    return [texts.QUOTE + line for line in text.strip().splitlines()] if text.strip() else []


def clip_lines(lines: list[str], budget: int, marker: str) -> list[str]:
    """The first lines that fit in `budget` units (line breaks counted), cut mid-line if
    need be and ended with `marker`; [] if not even the marker fits."""
    if _size(lines) <= budget:
        return lines
    room = budget - _size([marker])
    kept: list[str] = []
    for line in lines:
        if units(line) + 1 <= room:
            kept.append(line)
            room -= units(line) + 1
            continue
        end, cost = 0, 1  # the cut line's own break
        while end < len(line) and cost + units(line[end]) <= room:
            cost += units(line[end])
            end += 1
        if end:
            kept.append(line[:end])
        break
    return [*kept, marker] if room >= 0 else []


def fit_message(
    head: list[str],
    text: list[str],
    middle: list[str],
    steps: list[list[str]],
    footer: list[str],
    earlier: str,
) -> str:
    """Join the parts of a message, dropping its oldest steps (counted in `earlier`)
    and, only if even that is not enough, cutting `text`, so that it fits.

    head, middle and footer are short and kept whole; the newest step is kept
    (cut if need be) before the text is cut; then older steps, newest first.
    """
    room = MESSAGE_LIMIT + 1 - _size(head) - _size(middle) - _size(footer)  # no final break
    if _size(text) + sum(_size(s) for s in steps) <= room:
        chosen = [line for step in steps for line in step]
        return _within_limit("\n".join([*head, *text, *middle, *chosen, *footer]))
    room -= _size([earlier.format(count=len(steps))])
    newest = _size(steps[-1]) if steps else 0
    text = clip_lines(text, max(0, room - min(newest, NEWEST_STEP_ROOM)), texts.QUOTE_CUT)
    room -= _size(text)
    kept: list[list[str]] = []
    for step in reversed(steps):
        if _size(step) > room:
            if not kept:
                step = clip_lines(step, room, texts.STEP_CUT)
                if step:
                    kept.append(step)
            break
        kept.append(step)
        room -= _size(step)
    left_out = len(steps) - len(kept)
    lines = [*head, *text, *middle]
    if left_out:
        lines.append(earlier.format(count=left_out))
    lines += [line for step in reversed(kept) for line in step]
    return _within_limit("\n".join([*lines, *footer]))


def _within_limit(text: str) -> str:
    """The last guard: a message Telegram would refuse is cut rather than refused."""
    if units(text) <= MESSAGE_LIMIT:
        return text
    cut = text.encode("utf-16-le")[: (MESSAGE_LIMIT - 1) * 2].decode("utf-16-le", "ignore")
    return cut + "…"


def _shares(sizes: list[list[int]], budget: int) -> list[int]:
    """How many items of each list to show within `budget`: the longest list gives way
    first, so short lists are shown whole and long ones share what is left."""
    shown = [len(s) for s in sizes]
    used = [sum(s) for s in sizes]
    while sum(used) > budget and any(shown):
        i = max(range(len(sizes)), key=lambda k: used[k])
        shown[i] -= 1
        used[i] -= sizes[i][shown[i]]
    return shown


def _button(label: str, data: str) -> Choice:
    return Choice(label, data)


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def survey_markup() -> Keyboard:
    """The five answers, two a row."""
    buttons = [Choice(texts.SURVEY_CHOICES[key], callbacks.survey_button(key)) for key in SUPPORT]
    return keyboard([buttons[:2], buttons[2:4], buttons[4:]])


def aware_markup() -> Keyboard:
    """The survey's second question: 知道 or 不知道 the campaign."""
    return keyboard(
        [
            [
                Choice(texts.SURVEY_AWARE_YES, callbacks.survey_button("yes")),
                Choice(texts.SURVEY_AWARE_NO, callbacks.survey_button("no")),
            ]
        ]
    )


# Communities offered a page at a time: with 更多, 不在本区 and 不方便说 a page is ten
# choices, the most a WeChat menu shows.
COMMUNITIES_PER_PAGE = 7


def volunteer_markup() -> Keyboard:
    """The volunteer indicator's five answers, two a row."""
    buttons = [
        Choice(texts.SURVEY_CHOICES[key], callbacks.survey_choice("vo", key)) for key in SUPPORT
    ]
    return keyboard([buttons[:2], buttons[2:4], buttons[4:]])


def reason_markup() -> Keyboard:
    """Why not quite supporting: the reasons, and 跳过."""
    buttons = [
        Choice(label, callbacks.survey_choice("wy", key))
        for key, label in texts.SURVEY_REASONS.items()
    ]
    skip = Choice(texts.SURVEY_REASON_SKIP, callbacks.survey_choice("wy", "skip"))
    return keyboard([buttons[:2], buttons[2:4], [*buttons[4:], skip]])


def community_pages(count: int) -> int:
    return max(1, -(-count // COMMUNITIES_PER_PAGE))


def community_markup(communities: list[tuple[str, str]], page: int) -> Keyboard:
    """A page of (key, name) communities, two a row; 更多 (round to the first page
    after the last), 不在本区 and 不方便说."""
    pages = community_pages(len(communities))
    start = (page - 1) * COMMUNITIES_PER_PAGE
    shown = [
        Choice(name, callbacks.survey_choice("pc", key))
        for key, name in communities[start : start + COMMUNITIES_PER_PAGE]
    ]
    rows = [shown[i : i + 2] for i in range(0, len(shown), 2)]
    if pages > 1:
        following = str(page % pages + 1)
        rows.append([Choice(texts.SURVEY_COMMUNITY_MORE, callbacks.survey_choice("cp", following))])
    rows.append(
        [
            Choice(texts.SURVEY_COMMUNITY_OUTSIDE, callbacks.survey_choice("pc", OUTSIDE)),
            Choice(texts.SURVEY_COMMUNITY_UNDISCLOSED, callbacks.survey_choice("pc", UNDISCLOSED)),
        ]
    )
    return keyboard(rows)


def age_markup() -> Keyboard:
    return keyboard(
        [
            [
                Choice(label, callbacks.survey_choice("ag", key))
                for key, label in texts.SURVEY_AGES.items()
            ]
        ]
    )


def lived_markup() -> Keyboard:
    return keyboard(
        [
            [
                Choice(label, callbacks.survey_choice("lv", key))
                for key, label in texts.SURVEY_LIVED.items()
            ]
        ]
    )


def edit_profile_markup() -> Keyboard:
    """修改我的信息, after the survey."""
    return keyboard([[Choice(texts.SURVEY_EDIT_PROFILE, callbacks.survey_choice("me"))]])


def quiz_offer_markup() -> Keyboard:
    """The welcome's offer of the daily quiz."""
    return keyboard([[Choice(texts.BUTTON_SUBSCRIBE, callbacks.quiz_button("sub"))]])


def chitchat_menu() -> Keyboard:
    """What a greeting or small talk is offered: how to report, my reports, the quiz."""
    return keyboard(
        [
            [Choice(texts.BUTTON_HOW_TO_REPORT, callbacks.message_button("how"))],
            [Choice(texts.BUTTON_MY_REPORTS, callbacks.message_button("mine"))],
            [Choice(texts.BUTTON_DAILY_QUIZ, callbacks.quiz_button("go"))],
        ]
    )


def report_it_markup(message_id: int) -> Keyboard:
    """Report a kept text after all (the bot took it for something else, unsure)."""
    return keyboard([[Choice(texts.BUTTON_REPORT_IT, callbacks.message_button("rep", message_id))]])


def push_message(kind: str) -> tuple[str, Keyboard]:
    """Today's quiz with its 开始 button, or the survey with its answers."""
    if kind == SURVEY_PUSH:
        return texts.SURVEY_QUESTION, survey_markup()
    return texts.PUSH_TEXT, keyboard([[Choice(texts.PUSH_START, callbacks.quiz_button("go"))]])
