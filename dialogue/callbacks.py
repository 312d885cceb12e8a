"""Callback data for inline buttons: short, versioned, validated.

Format `v1:<scope>:<action>:<id>[:<arg>]`. Anything else, from an old
version or a forged client, parses to None and gets a polite answer; so does
anything our builders would not write themselves (`007` for `7`, other scripts'
digits, a trailing newline, a quiz button with an id): data is accepted only in
the one form it round-trips to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quizzes.survey import REASONS, SUPPORT
from quizzes.survey_stats import AGES, OUTSIDE, UNDISCLOSED

VERSION = "v1"
DRAFT_ACTIONS = frozenset({"ok", "cat", "set", "no", "back", "loc", "fol", "new"})
REPORT_ACTIONS = frozenset({"acc", "res", "rej", "mv", "to", "back", "rt", "dup", "ask"})
# Actions whose button carries an argument: a category, a group key or a rating.
WITH_ARG = frozenset(
    {"set", "to", "rt", "fol", "sv", "qa", "vo", "wy", "pc", "cp", "ag", "lv", "thx"}
)
# The resident's buttons on a filed report; the others are the groups'.
RESIDENT_REPORT_ACTIONS = frozenset({"rt"})
# The survey's buttons (scope q): sv support or awareness, vo the volunteer indicator,
# wy why not, pc a community (cp a page of them), ag an age band, lv six months here,
# me 修改我的信息. Each argument is one the dialogue offers, or the data is not ours.
SURVEY_ARGS: dict[str, frozenset[str]] = {
    "sv": frozenset({*SUPPORT, "yes", "no"}),
    "vo": frozenset(SUPPORT),
    "wy": frozenset({*REASONS, "skip"}),
    "ag": frozenset(AGES),
    "lv": frozenset({"yes", "no"}),
}
SURVEY_ACTIONS = frozenset({*SURVEY_ARGS, "pc", "cp", "me"})
QUIZ_ACTIONS = frozenset({"sub", "go", "qa", *SURVEY_ACTIONS})
# A community's argument: an area key (reports.areas.AREA_KEY), 不在本区 or 不方便说.
_COMMUNITY = re.compile(r"[a-z][a-z0-9_]{0,31}|" + OUTSIDE + "|" + UNDISCLOSED)
# A nomination of 身边好人 (scope "n"): the resident's 提交 (ok), 添加位置 (loc), 可以/不公开姓名
# (pub/anon), 这是要反映问题 (rep), 取消 (no); 转达感谢 for the case in the argument (thx) or
# go on with the nomination (nom); the praise group's 选入 (sel) and 暂不选入 (dec).
NOMINATION_ACTIONS = frozenset(
    {"ok", "loc", "pub", "anon", "rep", "no", "thx", "nom", "sel", "dec"}
)
NOMINATION_GROUP_ACTIONS = frozenset({"sel", "dec"})
# The one quiz button that names an item: an answer, by its round ("qa", a text quiz).
QUIZ_WITH_ID = frozenset({"qa"})
# Choices under an answer to a text that opened no report: report that text after all
# ("rep", naming the kept text), and the chit-chat menu's (how to report, my reports).
MESSAGE_ACTIONS = frozenset({"rep", "how", "mine"})
MESSAGE_WITH_ID = frozenset({"rep"})
_PATTERN = re.compile(r"v1:(d|r|q|m|n):([a-z]{2,4}):(0|[1-9][0-9]{0,11})(?::([a-z0-9_]{1,32}))?")


@dataclass(frozen=True)
class Button:
    scope: str  # "d" a draft, "r" a filed report, "q" quiz, "m" a kept message, "n" a nomination
    action: str
    id: int
    arg: str | None = None


def draft_button(action: str, draft_id: int, arg: str | None = None) -> str:
    assert action in DRAFT_ACTIONS
    return _encode("d", action, draft_id, arg)


def report_button(action: str, report_id: int, arg: str | None = None) -> str:
    assert action in REPORT_ACTIONS
    return _encode("r", action, report_id, arg)


def nomination_button(action: str, nomination_id: int, arg: str | None = None) -> str:
    assert action in NOMINATION_ACTIONS
    assert (arg is not None) == (action in WITH_ARG)
    return _encode("n", action, nomination_id, arg)


def quiz_button(action: str) -> str:
    assert action in QUIZ_ACTIONS
    return _encode("q", action, 0, None)


def message_button(action: str, message_id: int = 0) -> str:
    """A choice under the answer to a text that opened no report."""
    assert action in MESSAGE_ACTIONS and (message_id != 0) == (action in MESSAGE_WITH_ID)
    return _encode("m", action, message_id, None)


def survey_button(answer: str) -> str:
    return _encode("q", "sv", 0, answer)


def survey_choice(action: str, arg: str | None = None) -> str:
    """A survey button: an answer, a reason, a profile item, or 修改我的信息."""
    assert action in SURVEY_ACTIONS
    return _encode("q", action, 0, arg)


def quiz_answer(round_id: int, position: int, option: int) -> str:
    """An answer to question `position` of a text quiz's round (a channel without polls)."""
    return _encode("q", "qa", round_id, f"{position}_{option}")


def quiz_answer_of(button: Button) -> tuple[int, int] | None:
    """(position, option) of a quiz answer button; None if its argument is not one."""
    position, _, option = (button.arg or "").partition("_")
    if not _is_number(position) or not _is_number(option) or len(option) > 2:
        return None
    return int(position), int(option)


def _is_number(text: str) -> bool:
    return text == "0" or (text.isascii() and text.isdigit() and text[0] != "0" and len(text) < 4)


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and text[0] != "0" and len(text) <= 12


def _encode(scope: str, action: str, item_id: int, arg: str | None) -> str:
    data = f"{VERSION}:{scope}:{action}:{item_id}" + (f":{arg}" if arg else "")
    assert len(data.encode()) <= 64, data
    return data


def parse(data: str | None) -> Button | None:
    """The button behind callback data, or None if it is not one of ours."""
    if not data:
        return None
    match = _PATTERN.fullmatch(data)
    if not match:
        return None
    scope, action, item_id, arg = match.groups()
    allowed = {
        "d": DRAFT_ACTIONS,
        "r": REPORT_ACTIONS,
        "q": QUIZ_ACTIONS,
        "m": MESSAGE_ACTIONS,
        "n": NOMINATION_ACTIONS,
    }[scope]
    if action not in allowed or (arg is not None) != (action in WITH_ARG):
        return None
    if scope == "q" and (item_id != "0") != (action in QUIZ_WITH_ID):
        return None  # quiz buttons name no item, but an answer names its round
    if scope == "m" and (item_id != "0") != (action in MESSAGE_WITH_ID):
        return None
    button = Button(scope, action, int(item_id), arg)
    if action == "qa" and quiz_answer_of(button) is None:
        return None
    if action == "thx" and not _is_id(arg or ""):
        return None  # 转达感谢 names a case by its id
    if scope == "q" and not survey_arg_ok(action, arg):
        return None
    return button


def survey_arg_ok(action: str, arg: str | None) -> bool:
    if action in SURVEY_ARGS:
        return arg in SURVEY_ARGS[action]
    if action == "pc":
        return arg is not None and _COMMUNITY.fullmatch(arg) is not None
    if action == "cp":
        return arg is not None and _is_number(arg)
    return True
