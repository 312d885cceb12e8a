"""Residents' questions answered from a knowledge base the office edits (`faq/*.toml`).

Each file holds entries (`[[entry]]`: an id, the questions as residents ask them,
a short answer, an optional link and keywords) and optionally `[values]`, the
office's own details (hours, phone) that answers name as `{office_phone}`, so a
new phone number is changed in one place.

A question is matched against every written variant by TF-IDF cosine over two
kinds of feature: the words of the classifier's jieba tokenizer, and character
pairs (jieba cuts "几点上班" and "上班时间" differently; their pairs still meet).
A keyword of an entry found in the question adds a fixed boost; an entry with
`required` words is considered only when one of them is there. Below the
threshold there is no good answer, and the caller says so.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.normalize import normalize

DEFAULT_MIN_SCORE = 0.3
# A keyword the office named counts as much as a good share of the wording.
KEYWORD_BOOST = 0.3
MAX_KEYWORD_HITS = 2
# Character pairs count less than whole words: they also catch accidental overlaps.
PAIR_WEIGHT = 0.6
# Words that say a question is being asked, not what it is about.
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 嘛 么 是 我 你 您 他 她 它 我们 你们 您们 他们 这 那 这个 那个 "
    "请问 请 问 想 想问 问一下 一下 下 能 能不能 可以 可不可以 会 要 需要 怎么 怎么样 怎样 "
    "如何 什么 啥 哪 哪里 哪儿 哪个 多少 几 有 没有 有没有 和 与 跟 在 就 都 也 还 又 "
    "给 让 把 被 对 吗? 谢谢 你好 您好 麻烦 一个 个 该 应该 咋 咋办 怎么办 办".split()
)
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_ENTRY_KEYS = {"id", "questions", "answer", "link", "keywords", "required"}
_LINE = re.compile(r"at line (\d+)")


class FaqError(Exception):
    """The knowledge base cannot be used; `problems` lists every reason, by file and entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: tuple[str, ...]
    answer: str
    link: str | None = None
    keywords: tuple[str, ...] = ()  # each found in a question adds KEYWORD_BOOST
    required: tuple[str, ...] = ()  # when given, one of them must be in the question
    source: str = ""  # the file it comes from, for messages


@dataclass(frozen=True)
class FaqMatch:
    """The answer found for a question."""

    entry_id: str
    answer: str
    link: str | None
    score: float


def load_faq_dir(folder: Path) -> tuple[FaqEntry, ...]:
    """Every entry of the folder's *.toml files, placeholders filled; FaqError lists all problems.

    Files are read in name order; an id may appear once in the whole folder.
    """
    problems: list[str] = []
    values: dict[str, str] = {}
    raw_entries: list[FaqEntry] = []
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise FaqError([f"{folder}: no .toml files"])
    for path in files:
        file_values, entries = _parse_file(path, problems)
        for key, value in file_values.items():
            if key in values:
                problems.append(f"{path.name}: [values] {key} is set in another file too")
            values[key] = value
        raw_entries.extend(entries)
    seen: dict[str, str] = {}
    filled: list[FaqEntry] = []
    for entry in raw_entries:
        where = f"{entry.source}: entry {entry.id}"
        if entry.id in seen:
            problems.append(f"{where}: the id is used in {seen[entry.id]} too; ids must be unique")
        seen.setdefault(entry.id, entry.source)
        unknown = sorted(set(_PLACEHOLDER.findall(entry.answer)) - values.keys())
        if unknown:
            known = ", ".join(sorted(values)) or "none"
            problems.append(
                f"{where}: answer names {{{unknown[0]}}}, which no [values] table sets"
                f" (set are: {known})"
            )
            continue
        answer = _PLACEHOLDER.sub(lambda m: values[m.group(1)], entry.answer)
        filled.append(
            FaqEntry(
                entry.id,
                entry.questions,
                answer.strip(),
                entry.link,
                entry.keywords,
                entry.required,
                entry.source,
            )
        )
    if problems:
        raise FaqError(problems)
    return tuple(filled)


def _parse_file(path: Path, problems: list[str]) -> tuple[dict[str, str], list[FaqEntry]]:
    name = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        line = _LINE.search(str(exc))
        at = f" line {line.group(1)}" if line else ""
        problems.append(f"{name}{at}: not valid TOML: {exc}")
        return {}, []
    except UnicodeDecodeError:
        problems.append(f"{name}: not UTF-8 text")
        return {}, []
    except OSError as exc:
        problems.append(f"{name}: cannot read ({exc.strerror or exc})")
        return {}, []
    for key in raw:
        if key not in ("entry", "values"):
            problems.append(f"{name}: unknown table {key}; expected [[entry]] or [values]")
    values: dict[str, str] = {}
    table = raw.get("values", {})
    if not isinstance(table, Mapping):
        problems.append(f"{name}: values must be a table ([values])")
        table = {}
    for key, value in table.items():
        if not _ID.match(key) or not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: [values] {key} must be a lowercase name = a non-empty string")
            continue
        values[key] = value.strip()
    items = raw.get("entry", [])
    if not isinstance(items, list):
        problems.append(f"{name}: entries are written [[entry]]")
        return values, []
    entries = [e for n, item in enumerate(items, 1) if (e := _entry(name, n, item, problems))]
    return values, entries


def _entry(name: str, n: int, item: Any, problems: list[str]) -> FaqEntry | None:
    """One [[entry]]; None (with the problems noted) when it cannot be used."""
    if not isinstance(item, Mapping):
        problems.append(f"{name}: entry #{n} must be a table ([[entry]])")
        return None
    ident = item.get("id")
    where = f"{name}: entry {ident}" if isinstance(ident, str) else f"{name}: entry #{n}"
    before = len(problems)
    for key in item:
        if key not in _ENTRY_KEYS:
            problems.append(f"{where}: unknown key {key}; expected one of {sorted(_ENTRY_KEYS)}")
    if not isinstance(ident, str) or not _ID.match(ident):
        problems.append(f"{where}: id must be lowercase letters, digits and _ (a letter first)")
    questions = _strings(item, "questions")
    if not questions:
        problems.append(f"{where}: questions missing; give a list of the ways residents ask it")
    answer = item.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        problems.append(f"{where}: answer missing; write what the bot should reply")
    link = item.get("link")
    if link is not None and (not isinstance(link, str) or not link.startswith("http")):
        problems.append(f"{where}: link must start with http:// or https://")
    keywords = _strings(item, "keywords")
    required = _strings(item, "required")
    for key in ("keywords", "required"):
        if key in item and _strings(item, key) is None:
            problems.append(f"{where}: {key} must be a list of words")
    if len(problems) > before:
        return None
    assert isinstance(ident, str) and isinstance(answer, str) and questions
    return FaqEntry(ident, questions, answer, link, keywords or (), required or (), name)


def _strings(item: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        return None
    return tuple(s.strip() for s in value)


class KnowledgeBase:
    """The office's answers, indexed once per process; `answer` is pure and quick."""

    def __init__(
        self,
        entries: Iterable[FaqEntry],
        tokenize: Callable[[str], list[str]],
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        self.entries = tuple(entries)
        self.min_score = min_score
        self._tokenize = tokenize
        self._keywords = [tuple(normalize(k) for k in e.keywords) for e in self.entries]
        self._required = [tuple(normalize(k) for k in e.required) for e in self.entries]
        variants: list[tuple[int, dict[str, float]]] = []
        df: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            seen: set[str] = set()
            for question in entry.questions:
                counts = self._features(question)
                variants.append((index, counts))
                seen |= counts.keys()
            for feature in seen:
                df[feature] = df.get(feature, 0) + 1
        # Rarity counted over entries, not variants: a word every variant of one
        # entry shares is what that entry is about, not a common word.
        n = max(len(self.entries), 1)
        self._idf = {f: math.log((n + 1) / (d + 0.5)) for f, d in df.items()}
        # feature -> [(variant, weight)], the variant's vector already of unit length
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._variant_entry: list[int] = []
        for v, (index, counts) in enumerate(variants):
            vector = self._weigh(counts)
            self._variant_entry.append(index)
            for feature, weight in vector.items():
                self._postings.setdefault(feature, []).append((v, weight))

    def answer(self, text: str) -> FaqMatch | None:
        """The best entry for a question, or None when none fits well enough."""
        return self.accept(*self.best(text))

    def accept(self, entry: FaqEntry | None, score: float) -> FaqMatch | None:
        """The match `best` found, if it is good enough to answer with."""
        if entry is None or score < self.min_score:
            return None
        return FaqMatch(entry.id, entry.answer, entry.link, round(score, 3))

    def best(self, text: str) -> tuple[FaqEntry | None, float]:
        """The best entry and its score, however low (the office sees near misses)."""
        normalized = normalize(text)
        query = self._weigh(self._features(text, normalized))
        if not query:
            return None, 0.0
        sums: dict[int, float] = {}
        for feature, weight in query.items():
            for v, w in self._postings.get(feature, ()):
                sums[v] = sums.get(v, 0.0) + weight * w
        scores: dict[int, float] = {}
        for v, s in sums.items():
            index = self._variant_entry[v]
            if s > scores.get(index, 0.0):
                scores[index] = s
        for index, keywords in enumerate(self._keywords):
            hits = sum(1 for k in keywords if k in normalized)
            if hits:
                scores[index] = scores.get(index, 0.0) + KEYWORD_BOOST * min(hits, MAX_KEYWORD_HITS)
        best_index, best_score = -1, 0.0
        for index, score in scores.items():
            required = self._required[index]
            if required and not any(k in normalized for k in required):
                continue
            if score > best_score:
                best_index, best_score = index, score
        if best_index < 0:
            return None, 0.0
        return self.entries[best_index], best_score

    def _features(self, text: str, normalized: str | None = None) -> dict[str, float]:
        normalized = normalize(text) if normalized is None else normalized
        counts: dict[str, float] = {}
        for word in self._tokenize(normalized):
            if word in STOPWORDS or not any(c.isalnum() for c in word):
                continue
            counts["w" + word] = 1.0
        for run in _runs(normalized):
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                if pair[0] in STOPWORDS and pair[1] in STOPWORDS:
                    continue
                counts["p" + pair] = PAIR_WEIGHT
        return counts

    def _weigh(self, counts: Mapping[str, float]) -> dict[str, float]:
        """TF-IDF weights of unit length; features the base never saw carry weight too
        (they make a question less like every entry), as if seen once."""
        default = math.log((len(self.entries) + 1) / 1.5)
        vector = {f: c * self._idf.get(f, default) for f, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in vector.values()))
        if norm == 0:
            return {}
        return {f: w / norm for f, w in vector.items()}


def _runs(normalized: str) -> list[str]:
    """The stretches of letters and digits (CJK included), punctuation and spaces between."""
    runs: list[str] = []
    current: list[str] = []
    for c in normalized:
        if c.isalnum():
            current.append(c)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs
