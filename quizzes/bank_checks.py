"""Mechanical checks of the question bank's content (the loader checks its form).

Each check is a pure function over a loaded :class:`QuestionBank` returning
:class:`Problem`s, one per topic (file) and kind, with the figures and the ids
to look at. `python bot.py check-bank` prints them; the test suite runs them
over the real bank. The rules are those the bank's editors follow:

- no giveaway: among a topic's single-answer questions, the correct option is
  uniquely the longest in at most 30%;
- dated: every question says when its facts were checked (`as_of`), and none
  is past its `review_by`;
- cited: the source names a checkable document; a law, regulation, rule or
  standard is cited with its article or clause; nothing "各地…一般规定";
- once: one fact is asked once (a cheap near-duplicate test, see `duplicates`).
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from quizzes.bank import Question, QuestionBank

MAX_LONGEST_SHARE = 0.30
# Two question texts this similar (difflib's ratio, punctuation aside) ask the same thing
# when their answers are the same too; three or more are a template asked over and over.
SIMILAR_QUESTIONS = 0.9
SIMILAR_FAMILY = 3

# A law, regulation, rule or standard: a name ending so (at the end of its title, before
# an edition in brackets, or before 第…), or a standard's code. "国家宪法日的决定" is no law.
LAWLIKE = re.compile(
    r"(?:法|法典|条例|办法|规定|标准|准则|规则|公约|守则|细则)(?:（[^）]*）|\([^)]*\))?(?:》|$|\s|第)"
    r"|\b(?:GB|WS)(?:/T)?\s?\d"
)
ARTICLE = re.compile(r"第[一二三四五六七八九十百千零〇两\d]+[条章节款项部分]|\d+(?:\.\d+)+|附录")
VAGUE = re.compile(r"各地|一般规定|各城市|各省|通行做法|普遍做法|惯例")
# What makes a source a document one can look up, not an organisation or a campaign.
DOCUMENT = re.compile(
    r"《|GB|决议|决定|公告|公报|报告|讲话|贺信|批示|批复|批准|通知|意见|新华社|统计调查"
)
_NOT_TEXT = re.compile(r"[\s\W_]+")
_BARE_YEAR = re.compile(r"\d{4}年")
# A date or a figure specific enough to be one fact ("8月8日", "24个字"; not "4月", "20%").
_STATED_FACT = re.compile(r"(?=.*\d).{4,}")


@dataclass(frozen=True)
class Problem:
    topic: str
    kind: str  # giveaway | dates | source | duplicate
    message: str

    def __str__(self) -> str:
        return f"{self.topic}: {self.message}"


def check_bank(bank: QuestionBank, today: datetime.date) -> list[Problem]:
    """Every problem the checks find, topic by topic."""
    checks: list[Callable[[], list[Problem]]] = [
        lambda: giveaways(bank),
        lambda: dates(bank, today),
        lambda: sources(bank),
        lambda: duplicates(bank),
    ]
    found = [p for check in checks for p in check()]
    order = {key: i for i, key in enumerate(sorted(bank.topics))}
    return sorted(found, key=lambda p: order.get(p.topic, len(order)))


# --------------------------------------------------------------------------- giveaway


def uniquely_longest(question: Question) -> bool:
    """A single-answer question whose correct option is strictly longer than every other."""
    if question.multiple_answers:
        return False
    right = question.correct[0]
    length = len(question.options[right])
    return all(length > len(o) for i, o in enumerate(question.options) if i != right)


def longest_share(questions: tuple[Question, ...]) -> tuple[int, int]:
    """(single-answer questions whose correct option is uniquely the longest, all of them)."""
    single = [q for q in questions if not q.multiple_answers]
    return sum(uniquely_longest(q) for q in single), len(single)


def giveaways(bank: QuestionBank, limit: float = MAX_LONGEST_SHARE) -> list[Problem]:
    """Topics where the longest option gives the answer away too often."""
    found = []
    for key in bank.topics:
        longest, single = longest_share(bank.by_topic(key))
        if single and longest / single > limit:
            ids = [q.id for q in bank.by_topic(key) if uniquely_longest(q)]
            found.append(
                Problem(
                    key,
                    "giveaway",
                    f"correct option uniquely longest in {longest / single:.0%} of {single}"
                    f" single-answer questions (goal ≤ {limit:.0%}): {_ids(ids)}",
                )
            )
    return found


# --------------------------------------------------------------------------- dates


def dates(bank: QuestionBank, today: datetime.date) -> list[Problem]:
    """Questions that do not say when they were checked, or are due for review."""
    found = []
    for key in bank.topics:
        questions = bank.by_topic(key)
        undated = [q.id for q in questions if q.as_of is None]
        if undated:
            found.append(
                Problem(
                    key,
                    "dates",
                    f"{len(undated)} of {len(questions)} questions without as_of: {_ids(undated)}",
                )
            )
        overdue = [q for q in questions if q.review_by is not None and q.review_by < today]
        if overdue:
            listed = ", ".join(f"{q.id} ({q.review_by})" for q in overdue)
            found.append(Problem(key, "dates", f"{len(overdue)} past review_by: {listed}"))
    return found


# --------------------------------------------------------------------------- sources


def source_problem(source: str) -> str | None:
    """Why a source cannot be checked, or None if it can."""
    if VAGUE.search(source):
        return "vague"
    if not DOCUMENT.search(source) and not LAWLIKE.search(source):
        return "no document"
    if LAWLIKE.search(source) and not ARTICLE.search(source):
        return "no article"
    return None


def sources(bank: QuestionBank) -> list[Problem]:
    """Sources that name no document, a law without its article, or practice 各地."""
    reasons = {
        "vague": "sources saying 各地/一般规定",
        "no document": "sources naming no document (an organisation or a campaign)",
        "no article": "law-like sources citing no article or clause",
    }
    found = []
    for key in bank.topics:
        by_reason: dict[str, list[str]] = {}
        for q in bank.by_topic(key):
            reason = source_problem(q.source)
            if reason is not None:
                by_reason.setdefault(reason, []).append(q.id)
        for reason, ids in by_reason.items():
            found.append(Problem(key, "source", f"{len(ids)} {reasons[reason]}: {_ids(ids)}"))
    return found


# --------------------------------------------------------------------------- duplicates


def _text(text: str) -> str:
    return _NOT_TEXT.sub("", text.replace("（多选）", ""))


def _answer(q: Question) -> str:
    return "|".join(sorted(_text(q.options[i]) for i in q.correct))


def similarity(a: str, b: str) -> float:
    """difflib's ratio of two question texts, punctuation and spaces aside."""
    matcher = difflib.SequenceMatcher(None, _text(a), _text(b))
    if matcher.real_quick_ratio() < SIMILAR_QUESTIONS or matcher.quick_ratio() < SIMILAR_QUESTIONS:
        return 0.0
    return matcher.ratio()


def duplicates(bank: QuestionBank) -> list[Problem]:
    """Facts asked more than once, found cheaply three ways:

    - two near-identical questions (ratio ≥ 0.9) with the same answer;
    - three or more near-identical questions (one template: "“X”属于哪个层面");
    - a question whose answer is a date or a number another question states
      ("全民健身日是哪一天？ 8月8日" and "全民健身日定在8月8日，为了纪念什么？").
    """
    questions = bank.questions
    family = {q.id: q.id for q in questions}

    def root(qid: str) -> str:
        while family[qid] != qid:
            qid = family[qid]
        return qid

    pairs = []
    for a, b in combinations(questions, 2):
        if similarity(a.question, b.question) >= SIMILAR_QUESTIONS:
            pairs.append((a, b))
            family[root(b.id)] = root(a.id)
    groups: dict[str, list[Question]] = {}
    for q in questions:
        groups.setdefault(root(q.id), []).append(q)

    found = []
    for members in groups.values():
        if len(members) >= SIMILAR_FAMILY:
            found.append(
                Problem(
                    members[0].topic,
                    "duplicate",
                    f"{len(members)} near-identical questions: {_ids([q.id for q in members])}",
                )
            )
    for a, b in pairs:
        if len(groups[root(a.id)]) < SIMILAR_FAMILY and _answer(a) == _answer(b):
            found.append(Problem(a.topic, "duplicate", f"{a.id} and {b.id} ask the same question"))
    for a in questions:
        answer = a.options[a.correct[0]].strip()
        if a.multiple_answers or not _STATED_FACT.fullmatch(answer) or _BARE_YEAR.fullmatch(answer):
            continue
        for b in questions:
            if b is not a and answer in b.question:
                found.append(
                    Problem(
                        a.topic,
                        "duplicate",
                        f"{a.id}'s answer “{a.options[a.correct[0]]}” is stated in {b.id}",
                    )
                )
    return found


def _ids(ids: list[str]) -> str:
    return ", ".join(ids)
