"""Load and validate the civility quiz question bank.

The bank is a directory of TOML files, one per topic::

    [topic]
    key = "traffic"
    name = "文明交通"

    [[questions]]
    id = "traffic-001"
    difficulty = 1
    question = "行人通过有交通信号灯的人行横道时应当怎样做？"
    options = ["按照交通信号灯指示通行", "车少时可以随时通过"]
    correct = [0]
    explanation = "……"
    source = "《中华人民共和国道路交通安全法》第六十二条"

A question may carry an optional ``topic = "<key>"`` to file it under another
declared topic; by default it belongs to the topic of its file.

Questions are later sent as Telegram quiz polls, so the validator enforces the
Bot API limits (question 1-300 characters, 2-12 options of 1-100 characters,
explanation 0-200 characters with at most 2 line feeds) plus data-quality rules
(unique ids, no unknown keys, no duplicate options, valid correct indexes...).
Lengths are counted in UTF-16 code units, as Telegram does; for Chinese text
that is simply the number of characters.

Every problem in every file is collected first and reported in one
:class:`BankError`.  This module has no Telegram dependency.
"""

from __future__ import annotations

import datetime
import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BankError",
    "Question",
    "QuestionBank",
    "Topic",
    "load_bank",
]

ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
TOPIC_KEY_PATTERN = ID_PATTERN

MIN_DIFFICULTY = 1
MAX_DIFFICULTY = 3
MAX_QUESTION_LEN = 300
MIN_OPTIONS = 2
MAX_OPTIONS = 12
MAX_OPTION_LEN = 100
MAX_EXPLANATION_LEN = 200
MAX_EXPLANATION_LINE_FEEDS = 2
MAX_SOURCE_LEN = 100
MAX_TOPIC_NAME_LEN = 32
MULTIPLE_CHOICE_MARK = "（多选）"

FILE_KEYS = ("topic", "questions")
TOPIC_KEYS = ("key", "name")
REQUIRED_QUESTION_KEYS = (
    "id",
    "difficulty",
    "question",
    "options",
    "correct",
    "explanation",
    "source",
)
# as_of: the day the question's facts were checked; review_by: the day they must be
# checked again (a target "到2025年" expires). TOML dates: as_of = 2026-12-01.
OPTIONAL_QUESTION_KEYS = ("topic", "as_of", "review_by")
QUESTION_KEYS = REQUIRED_QUESTION_KEYS + OPTIONAL_QUESTION_KEYS

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_CHARS_EXCEPT_LF = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Topic:
    key: str
    name: str


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    difficulty: int
    question: str
    options: tuple[str, ...]
    correct: tuple[int, ...]
    explanation: str
    source: str
    as_of: datetime.date | None = None
    review_by: datetime.date | None = None

    @property
    def multiple_answers(self) -> bool:
        """True when more than one option is correct (a "（多选）" question)."""
        return len(self.correct) > 1


class BankError(Exception):
    """The bank is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in question bank:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


@dataclass(frozen=True, eq=False)
class QuestionBank:
    topics: dict[str, Topic]
    questions: tuple[Question, ...]
    _index: dict[str, Question] = field(init=False, repr=False, compare=False)
    _per_topic: dict[str, tuple[Question, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {q.id: q for q in self.questions}
        if len(index) != len(self.questions):
            raise ValueError("duplicate question ids")
        per_topic: dict[str, list[Question]] = {key: [] for key in self.topics}
        for q in self.questions:
            if q.topic not in per_topic:
                raise ValueError(f"question {q.id!r} has undeclared topic {q.topic!r}")
            per_topic[q.topic].append(q)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_per_topic", {k: tuple(v) for k, v in per_topic.items()})

    def __len__(self) -> int:
        return len(self.questions)

    def by_id(self, qid: str) -> Question:
        """Return the question with this id; raise ``KeyError`` if there is none."""
        try:
            return self._index[qid]
        except KeyError:
            raise KeyError(f"no question with id {qid!r}") from None

    def by_topic(self, topic_key: str) -> tuple[Question, ...]:
        """Return the questions of a topic in file order; ``KeyError`` for unknown topics."""
        try:
            return self._per_topic[topic_key]
        except KeyError:
            raise KeyError(f"no topic with key {topic_key!r}") from None


# --------------------------------------------------------------------------- helpers


def _tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__  # datetime, date, time


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unknown_keys(table: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> list[str]:
    allowed = list(allowed)
    problems = []
    for key in table:
        if key in allowed:
            continue
        message = f"{prefix}{key}: unknown key"
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        problems.append(message)
    return problems


def _check_text(
    value: Any,
    name: str,
    *,
    max_len: int,
    max_line_feeds: int = 0,
) -> list[str]:
    """Problems with a required single string field (empty list when fine)."""
    if not isinstance(value, str):
        return [f"{name}: expected a string, got {_type_name(value)}"]
    if not value.strip():
        return [f"{name}: empty"]
    problems = []
    if value != value.strip():
        problems.append(f"{name}: leading or trailing whitespace")
    length = _tg_len(value)
    if length > max_len:
        problems.append(f"{name}: longer than {max_len} characters ({length})")
    line_feeds = value.count("\n")
    if max_line_feeds == 0:
        if _CONTROL_CHARS.search(value):
            problems.append(f"{name}: contains a line break or control character")
    else:
        if line_feeds > max_line_feeds:
            problems.append(f"{name}: more than {max_line_feeds} line feeds ({line_feeds})")
        if _CONTROL_CHARS_EXCEPT_LF.search(value):
            problems.append(f"{name}: contains a control character")
    return problems


def _check_difficulty(value: Any) -> list[str]:
    if not _is_int(value):
        return [f"difficulty: expected an integer, got {_type_name(value)}"]
    if not MIN_DIFFICULTY <= value <= MAX_DIFFICULTY:
        return [f"difficulty: must be {MIN_DIFFICULTY}..{MAX_DIFFICULTY}, got {value}"]
    return []


def _check_options(value: Any) -> list[str]:
    if not isinstance(value, list):
        return [f"options: expected an array of strings, got {_type_name(value)}"]
    problems = []
    if not MIN_OPTIONS <= len(value) <= MAX_OPTIONS:
        problems.append(
            f"options: must have {MIN_OPTIONS}..{MAX_OPTIONS} options, got {len(value)}"
        )
    seen: dict[str, int] = {}
    for i, option in enumerate(value):
        option_problems = _check_text(option, f"options[{i}]", max_len=MAX_OPTION_LEN)
        problems.extend(option_problems)
        if isinstance(option, str) and option.strip():
            norm = option.strip().casefold()
            if norm in seen:
                problems.append(f"options[{i}]: duplicate of options[{seen[norm]}]")
            else:
                seen[norm] = i
    return problems


def _check_correct(value: Any, options: Any, question: Any) -> list[str]:
    if not isinstance(value, list):
        return [f"correct: expected an array of option indexes, got {_type_name(value)}"]
    if not value:
        return ["correct: empty, at least one correct option index is required"]
    problems = []
    n_options = len(options) if isinstance(options, list) else None
    seen: set[int] = set()
    for k, index in enumerate(value):
        if not _is_int(index):
            problems.append(f"correct[{k}]: expected an integer, got {_type_name(index)}")
            continue
        if n_options is not None and not 0 <= index < n_options:
            problems.append(
                f"correct[{k}]: index {index} out of range (0..{n_options - 1}, 0-based)"
            )
        elif index < 0:
            problems.append(f"correct[{k}]: index {index} is negative (indexes are 0-based)")
        if index in seen:
            problems.append(f"correct[{k}]: duplicate index {index}")
        seen.add(index)
    if problems:
        return problems
    if n_options is not None and len(seen) >= n_options:
        problems.append("correct: every option is marked correct")
    if isinstance(question, str):
        marked = MULTIPLE_CHOICE_MARK in question
        if len(seen) > 1 and not marked:
            problems.append(
                f"correct: {len(seen)} correct options but the question text lacks "
                f"{MULTIPLE_CHOICE_MARK}"
            )
        elif len(seen) == 1 and marked:
            problems.append(
                f"correct: question text says {MULTIPLE_CHOICE_MARK} but only one option is correct"
            )
    return problems


def _check_topic_ref(value: Any) -> list[str]:
    if not isinstance(value, str):
        return [f"topic: expected a string, got {_type_name(value)}"]
    if not TOPIC_KEY_PATTERN.match(value):
        return [f"topic: {value!r} does not match {TOPIC_KEY_PATTERN.pattern}"]
    return []


def _parse_file(path: Path, display: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(f"{display}: cannot read file: {exc.strerror or exc}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(f"{display}: line {line}: not valid UTF-8")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match:
            reason = message[: match.start()]
            where = f"line {match.group(1)}, column {match.group(2)}"
            problems.append(f"{display}: {where}: TOML syntax error: {reason}")
        else:
            problems.append(f"{display}: TOML syntax error: {message}")
        return None


def _parse_topic(data: dict[str, Any], display: str, problems: list[str]) -> Topic | None:
    if "topic" not in data:
        problems.append(f'{display}: topic: missing [topic] table (key = "...", name = "...")')
        return None
    table = data["topic"]
    if not isinstance(table, dict):
        problems.append(f"{display}: topic: expected a table, got {_type_name(table)}")
        return None
    local = _unknown_keys(table, TOPIC_KEYS, prefix="topic.")
    key = table.get("key")
    if "key" not in table:
        local.append("topic.key: missing")
    elif not isinstance(key, str):
        local.append(f"topic.key: expected a string, got {_type_name(key)}")
    elif not TOPIC_KEY_PATTERN.match(key):
        local.append(f"topic.key: {key!r} does not match {TOPIC_KEY_PATTERN.pattern}")
    if "name" not in table:
        local.append("topic.name: missing")
    else:
        local.extend(_check_text(table["name"], "topic.name", max_len=MAX_TOPIC_NAME_LEN))
    problems.extend(f"{display}: {p}" for p in local)
    if local:
        return None
    return Topic(key=key, name=table["name"])


def _question_label(entry: dict[str, Any], position: int) -> str:
    qid = entry.get("id")
    if isinstance(qid, str) and qid.strip():
        return f'question "{qid}"'
    return f"question #{position}"


def _parse_question(
    entry: dict[str, Any], file_topic: Topic | None
) -> tuple[Question | None, list[str]]:
    """Validate one question table; the problems are relative to the question."""
    problems = _unknown_keys(entry, QUESTION_KEYS)
    for key in REQUIRED_QUESTION_KEYS:
        if key not in entry:
            problems.append(f"{key}: missing")

    qid = entry.get("id")
    if "id" in entry:
        if not isinstance(qid, str):
            problems.append(f"id: expected a string, got {_type_name(qid)}")
        elif not ID_PATTERN.match(qid):
            problems.append(f"id: {qid!r} does not match {ID_PATTERN.pattern}")
    if "difficulty" in entry:
        problems.extend(_check_difficulty(entry["difficulty"]))
    if "question" in entry:
        problems.extend(_check_text(entry["question"], "question", max_len=MAX_QUESTION_LEN))
    if "options" in entry:
        problems.extend(_check_options(entry["options"]))
    if "correct" in entry:
        problems.extend(
            _check_correct(entry["correct"], entry.get("options"), entry.get("question"))
        )
    if "explanation" in entry:
        problems.extend(
            _check_text(
                entry["explanation"],
                "explanation",
                max_len=MAX_EXPLANATION_LEN,
                max_line_feeds=MAX_EXPLANATION_LINE_FEEDS,
            )
        )
    if "source" in entry:
        problems.extend(_check_text(entry["source"], "source", max_len=MAX_SOURCE_LEN))
    if "topic" in entry:
        problems.extend(_check_topic_ref(entry["topic"]))
    for key in ("as_of", "review_by"):
        if key in entry and not _is_date(entry[key]):
            problems.append(f"{key}: expected a date such as 2026-12-01, got {entry[key]!r}")

    if problems:
        return None, problems
    topic_key = entry.get("topic", file_topic.key if file_topic else None)
    if topic_key is None:  # the file-level "missing [topic]" problem covers this
        return None, []
    question = Question(
        id=qid,
        topic=topic_key,
        difficulty=entry["difficulty"],
        question=entry["question"],
        options=tuple(entry["options"]),
        correct=tuple(entry["correct"]),
        explanation=entry["explanation"],
        source=entry["source"],
        as_of=entry.get("as_of"),
        review_by=entry.get("review_by"),
    )
    return question, []


def _is_date(value: Any) -> bool:
    """A TOML local date (not a date-time, not a string)."""
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


# --------------------------------------------------------------------------- loader


def load_bank(directory: Path) -> QuestionBank:
    """Read and validate every ``*.toml`` file in ``directory``.

    Raises :class:`BankError` listing every problem in every file.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BankError([f"{directory}: not a directory"])
    paths = sorted(p for p in directory.glob("*.toml") if p.is_file())
    if not paths:
        raise BankError([f"{directory}: no *.toml files"])

    problems: list[str] = []
    topics: dict[str, Topic] = {}
    topic_files: dict[str, str] = {}
    questions: list[Question] = []
    id_files: dict[str, str] = {}
    # (display, label, topic key) of questions filed under an explicit topic
    topic_refs: list[tuple[str, str, str]] = []

    for path in paths:
        display = str(path)
        data = _parse_file(path, display, problems)
        if data is None:
            continue
        problems.extend(f"{display}: {p}" for p in _unknown_keys(data, FILE_KEYS))

        topic = _parse_topic(data, display, problems)
        if topic is not None:
            if topic.key in topics:
                problems.append(
                    f"{display}: topic.key: {topic.key!r} already declared in "
                    f"{topic_files[topic.key]}"
                )
            else:
                topics[topic.key] = topic
                topic_files[topic.key] = display

        entries = data.get("questions")
        if entries is None:
            problems.append(f"{display}: questions: missing (no [[questions]] tables)")
            continue
        if not isinstance(entries, list):
            problems.append(
                f"{display}: questions: expected an array of tables, got {_type_name(entries)}"
            )
            continue
        if not entries:
            problems.append(f"{display}: questions: empty")
        for position, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                problems.append(
                    f"{display}: questions[{position - 1}]: expected a table, "
                    f"got {_type_name(entry)}"
                )
                continue
            label = _question_label(entry, position)
            qid = entry.get("id")
            if isinstance(qid, str) and qid.strip():
                if qid in id_files:
                    problems.append(
                        f"{display}: {label}: id: duplicate, already used in {id_files[qid]}"
                    )
                else:
                    id_files[qid] = display
            question, local = _parse_question(entry, topic)
            problems.extend(f"{display}: {label}: {p}" for p in local)
            if question is not None:
                questions.append(question)
                if "topic" in entry:
                    topic_refs.append((display, label, question.topic))

    for display, label, key in topic_refs:
        if key not in topics:
            problems.append(f"{display}: {label}: topic: {key!r} is not a declared topic")

    if problems:
        raise BankError(problems)

    return QuestionBank(topics=topics, questions=tuple(questions))
