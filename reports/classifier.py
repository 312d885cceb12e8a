"""Report classification: jieba segmentation plus a weighted keyword and phrase table.

A message is normalised (simplified characters, half-width, lower case), cut
into words by a private jieba tokenizer that knows every keyword, and each
word (and each pair and triple of adjacent words, in case jieba split a
keyword) is looked up in the table. A keyword of a behaviour category that
follows a negation in the same clause ("现在没人乱扔垃圾了") counts for nothing.
The category with the highest sum wins; its share of all evidence is the
confidence.
"""

from __future__ import annotations

import heapq
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reports.keywords import KeywordTable
from reports.model import NaiveBayes, features
from reports.normalize import normalize

with warnings.catch_warnings():
    # jieba 0.42.1 (2020) imports setuptools' pkg_resources when it is there
    # (deprecated since; jieba reads its files directly without it), and its
    # first import compiles regexes written as plain strings. Both are harmless.
    warnings.filterwarnings("ignore", "pkg_resources is deprecated")
    warnings.filterwarnings("ignore", "invalid escape sequence")
    import jieba

# Words jieba should prefer over its own splits; high enough to win, low enough
# not to swallow neighbouring characters.
KEYWORD_FREQ = 50_000
NEGATION_WINDOW = 3
# The evidence needed to place a report at all: one ordinary keyword.
MIN_SCORE = 1.0
_MISSING = object()
MODEL_ONLY_DISCOUNT = 0.7
# The model's faint votes are noise, not evidence.
MODEL_FLOOR = 0.05
# A keyword split by jieba is found again by joining up to this many adjacent words.
JOIN_WORDS = 3
CLAUSE_BREAKS = frozenset(",.!?;:。！？；：、…~ \n\t()（）[]【】“”\"'")


@dataclass(frozen=True)
class CategoryRules:
    key: str
    behaviour: bool
    table: KeywordTable


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    keywords: tuple[str, ...]
    scores: Mapping[str, float]


@dataclass
class _Entry:
    category: str
    weight: float
    behaviour: bool


class Classifier:
    """Classify resident messages into categories; build once, call from anywhere."""

    def __init__(
        self,
        categories: Iterable[CategoryRules],
        negations: Iterable[str] = (),
        fallback: str = "other",
        cache_dir: Path | None = None,
        examples: Iterable[tuple[str, str]] = (),
        model_weight: float = 2.0,
        model_temperature: float = 1.0,
    ) -> None:
        self.fallback = fallback
        self.model_weight = model_weight
        self._terms: dict[str, list[_Entry]] = {}
        self._phrases: list[tuple[frozenset[str], str, _Entry]] = []
        self._phrase_parts: dict[str, list[int]] = {}
        # Phrase rules found by the pair of their two smallest parts: a message has
        # few matched words, so checking its pairs is cheaper than tracking every rule.
        self._phrase_pairs: dict[tuple[str, str], list[int]] = {}
        words: set[str] = set()
        for rules in categories:
            for term, weight in rules.table.terms:
                self._terms.setdefault(term, []).append(_Entry(rules.key, weight, rules.behaviour))
                words.add(term)
            for parts, weight in rules.table.phrases:
                index = len(self._phrases)
                unique = frozenset(parts)
                entry = _Entry(rules.key, weight, rules.behaviour)
                self._phrases.append((unique, "+".join(parts), entry))
                ordered = sorted(unique)
                key = (ordered[0], ordered[1] if len(ordered) > 1 else ordered[0])
                self._phrase_pairs.setdefault(key, []).append(index)
                for part in unique:
                    self._phrase_parts.setdefault(part, []).append(index)
                    words.add(part)
        self._negations = frozenset(normalize(n) for n in negations if n.strip())
        words |= self._negations
        # One lookup per word: its term entries and the phrase rules it is part of.
        self._lookup: dict[str, tuple[tuple[_Entry, ...], bool] | None] = {
            w: (tuple(self._terms.get(w, ())), w in self._phrase_parts)
            for w in set(self._terms) | set(self._phrase_parts)
        }
        # Strings that are only the start of a term map to None, so that one lookup
        # tells a term, a term's beginning (join the next word), and neither (stop).
        for word in self._lookup.keys() - self._negations:
            for k in range(1, len(word)):
                self._lookup.setdefault(word[:k], None)
        self._tokenizer = _make_tokenizer(words, cache_dir)
        self._segment = _segmenter(self._tokenizer)
        examples = list(examples)
        self._model = (
            NaiveBayes.train(((c, self._features(t)) for c, t in examples), model_temperature)
            if examples
            else None
        )

    def _cut(self, normalized: str) -> list[str]:
        return self._segment(normalized)

    def _features(self, text: str) -> set[str]:
        normalized = normalize(text)
        return features(self._cut(normalized), normalized)

    def tokens(self, text: str) -> list[str]:
        """Cut normalised text into words (keywords come out whole), spaces dropped.

        Without spaces, adjacent words join into terms written without them:
        "red light" matches `redlight`, pinyin "luan ting che" `luantingche`.
        """
        return self._cut(normalize(text))

    def classify(self, text: str) -> Classification:
        """Return the best category for a message, with confidence and evidence."""
        normalized = normalize(text)
        tokens = self._cut(normalized)
        scores: dict[str, float] = {}
        found: dict[str, list[str]] = {}
        seen: set[str] = set()
        parts: list[str] = []
        negated_parts: set[str] = set()
        lookup = self._lookup
        n = len(tokens)
        for i in range(n):
            word = tokens[i]
            j = i
            while True:
                hit = lookup.get(word, _MISSING)
                if hit is _MISSING:
                    break
                if hit is not None and word not in seen:
                    seen.add(word)
                    entries, is_part = hit
                    negated = self._is_negated(tokens, i)
                    if negated:
                        negated_parts.add(word)
                    for entry in entries:
                        if negated and entry.behaviour:
                            continue
                        scores[entry.category] = scores.get(entry.category, 0.0) + entry.weight
                        found.setdefault(entry.category, []).append(word)
                    if is_part:
                        parts.append(word)
                j += 1
                if j >= n or j - i >= JOIN_WORDS:
                    break
                word += tokens[j]
        if parts:
            self._score_phrases(parts, negated_parts, scores, found)
        if self._model is not None and not _decisive(scores, self.model_weight):
            posterior = self._model.posterior(features(tokens, normalized), MODEL_FLOOR)
            for category, p in posterior.items():
                scores[category] = scores.get(category, 0.0) + self.model_weight * p
        return self._decide(scores, found)

    def _score_phrases(
        self,
        parts: list[str],
        negated_parts: set[str],
        scores: dict[str, float],
        found: dict[str, list[str]],
    ) -> None:
        """Add the phrase rules all of whose parts occur among the matched words."""
        present = set(parts)
        ordered = sorted(present)
        fired: set[int] = set()
        for a, first in enumerate(ordered):
            for second in ordered[a:]:
                for pid in self._phrase_pairs.get((first, second), ()):
                    if pid in fired:
                        continue
                    unique, label, entry = self._phrases[pid]
                    if not unique <= present:
                        continue
                    fired.add(pid)
                    if entry.behaviour and unique & negated_parts:
                        continue
                    scores[entry.category] = scores.get(entry.category, 0.0) + entry.weight
                    found.setdefault(entry.category, []).append(label)

    def _decide(self, scores: dict[str, float], found: dict[str, list[str]]) -> Classification:
        if not scores:
            return Classification(self.fallback, 0.0, (), {})
        best = max(scores, key=scores.__getitem__)
        top = scores[best]
        total = sum(scores.values())
        if top < MIN_SCORE:
            return Classification(self.fallback, 0.0, (), scores)
        keywords = tuple(found.get(best, ()))
        confidence = top / (total + 1.0)
        if not keywords:
            # Placed by the model alone: it is sure of too much on vague text
            # ("麻烦你们来看一下"), so the resident confirms the category unless
            # it is very sure.
            confidence *= MODEL_ONLY_DISCOUNT
        return Classification(best, round(confidence, 3), keywords, scores)

    def _is_negated(self, tokens: list[str], i: int) -> bool:
        """Whether a negation ends within the few words before position i, same clause."""
        negations = self._negations
        for k in range(i - 1, max(i - 1 - NEGATION_WINDOW, -1), -1):
            token = tokens[k]
            if token in CLAUSE_BREAKS:
                return False
            # jieba may split a negation it does not know whole ("没" "人")
            if token in negations or (k and tokens[k - 1] + token in negations):
                return True
        return False


def _decisive(scores: dict[str, float], margin: float) -> bool:
    """Whether the keywords' leader is ahead by more than the model could add to another.

    The model adds at most `margin` to any one category, so it cannot change
    the winner then; skipping it saves a third of the time on such messages.
    """
    if not scores:
        return False
    top, second = heapq.nlargest(2, [*scores.values(), 0.0])
    return top >= MIN_SCORE and top - second > margin


def _segmenter(tokenizer: jieba.Tokenizer) -> Callable[[str], list[str]]:
    """jieba's accurate mode without HMM, through its public `cut`, spaces dropped."""
    cut = tokenizer.cut

    def segment(text: str) -> list[str]:
        return [word for word in cut(text, HMM=False) if not word.isspace()]

    return segment


def _quiet_jieba_logging() -> None:
    """Keep jieba's warnings, not its loading chatter, and in the app's log format.

    jieba logs every load at DEBUG through a stderr handler of its own; its
    warnings still reach the root logger, so they are not lost without it.
    """
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").removeHandler(jieba.log_console)


def _make_tokenizer(words: Iterable[str], cache_dir: Path | None) -> jieba.Tokenizer:
    """A private jieba tokenizer with the domain words, its cache in a folder we own."""
    _quiet_jieba_logging()
    fallback = Path(tempfile.gettempdir()) / "civic-bot-jieba"
    cache = cache_dir or fallback
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        # A data folder the bot may not write is the database's problem to
        # report, with advice; the cache only saves a second per start.
        cache = fallback
        cache.mkdir(parents=True, exist_ok=True)
    tokenizer = jieba.Tokenizer()
    # A documented attribute: where the prefix dictionary's cache file goes.
    tokenizer.tmp_dir = str(cache)
    tokenizer.initialize()
    for word in words:
        if len(word) > 1:
            tokenizer.add_word(word, freq=KEYWORD_FREQ)
    return tokenizer


def build_classifier(
    tables: Mapping[str, tuple[bool, KeywordTable]],
    negations: Iterable[str],
    fallback: str = "other",
    cache_dir: Path | None = None,
) -> Classifier:
    """Build a classifier from {category: (is_behaviour, table)}."""
    rules = [CategoryRules(k, behaviour, table) for k, (behaviour, table) in tables.items()]
    return Classifier(rules, negations, fallback, cache_dir)
