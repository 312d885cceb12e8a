"""What a resident's message is for: a report, a question, praise, chit-chat or spam.

Not every message is a complaint ("你们几点下班", "给环卫阿姨点个赞"), yet a
report must never be lost to a wrong guess. Two kinds of evidence are weighed:

- the problem: what the category classifier found (its keywords and model),
  plus a logistic model of report wording learned from the labelled reports
  against the labelled non-reports;
- the other intents: cue tables (`keywords/intents/*.txt`, question words,
  thanks and praise, greetings, advertising words), patterns an advert leaves
  (phone numbers, web addresses, WeChat or QQ ids); which other intent is
  chosen by the cues and a model per intent learned from labelled non-report
  messages (`keywords/intents/examples/*.tsv`).

A message stays a report unless the other evidence beats the problem by a
margin; near that line the intent is `unsure`, and the dialogue asks the
resident ("要反映这个问题吗？") rather than guess. The weights, the margin and
the width of the unsure band are tuned by cross-validation over the training
examples (`python bench/intents_cv.py`), never on the held-out files.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reports.classifier import Classification, Classifier
from reports.keywords import KeywordTable, parse_keyword_file
from reports.model import features, read_examples
from reports.normalize import normalize

REPORT = "report"
QUESTION = "question"
PRAISE = "praise"
CHITCHAT = "chitchat"
SPAM = "spam"
NON_REPORTS = (QUESTION, PRAISE, CHITCHAT, SPAM)
KINDS = (REPORT, *NON_REPORTS)

INTENTS_DIR = Path(__file__).resolve().parent.parent / "keywords" / "intents"

# How much each piece of evidence (IntentClassifier._evidence) counts for a
# non-report (positive) or a report (negative). Tuned on the training examples'
# cross-validated figures (`python bench/intents_cv.py --curve --set ...`); a
# logistic regression fitted to the same evidence did worse where it matters,
# at 99% report recall.
EVIDENCE_WEIGHTS: dict[str, float] = {
    "bias": 0.0,
    "problem": -0.5,
    "problem_keyword": -1.0,
    "keyword": 0.0,
    "report_cues": -1.0,
    "report_model": -1.0,
    "fallback": 1.0,
    "question": 1.0,
    "praise": 1.0,
    "chitchat": 1.0,
    "spam": 1.0,
    "contact": 1.0,
    "short": 0.0,
}
KIND_MODEL_WEIGHT = 0.5
# The category classifier's evidence counts at most this much: a long report
# sums many keywords, but beyond a few its lead is certain anyway.
PROBLEM_CAP = 5.0
# The other intents must lead the problem by this much to win: cross-validated,
# 1% of the training reports lie beyond it.
THRESHOLD = -0.5
# How quickly confidence grows with the distance from the threshold: the unsure
# band (±2.5) holds about 70% of the reports lost in cross-validation.
SCALE = 1.8
# Below this confidence the dialogue asks instead of acting.
SURE = 0.8
# Patterns an advert leaves, with their weight as spam evidence.
SPAM_PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("<phone>", re.compile(r"(?<!\d)1[3-9]\d(?:[ -]?[\d*]){8}(?!\d)"), 4.0),
    ("<phone>", re.compile(r"(?<!\d)1(?: \d){10}(?!\d)"), 4.0),
    ("<phone>", re.compile(r"(?<!\d)(?:0\d{2,3}|400)-\d{3,4}-?\d{4}(?!\d)"), 4.0),
    (
        "<url>",
        re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|cn|net|top|vip|cc|xyz|ly|me)\b"),
        4.0,
    ),
    (
        "<id>",
        re.compile(r"(?<![a-z])(?:vx|wx|v|qq|q|微信)\s*:?\s*[a-z0-9_-]*\d[a-z0-9_-]{3,}"),
        3.0,
    ),
)
# Characters a cue must not follow: "不满意" is no praise.
NEGATING = frozenset("不没别未")
# Particles that make praise a question: "修好了吗" asks whether it was fixed.
QUESTIONED = frozenset("吗么没嘛")
_QUESTION_END = frozenset("吗呢么吧不")
_ASCII_WORD = re.compile(r"[a-z]")


@dataclass(frozen=True)
class Intent:
    """The intent of a message and how sure of it the classifier is.

    `kind` is one of KINDS. `confidence` (0.5–1) is how far the evidence lies
    from the line between a report and the rest; `unsure` says the dialogue
    should ask the resident before acting on `kind`. `cues` names the
    evidence for `kind` (cue words, `<phone>`, the category's keywords).
    """

    kind: str
    confidence: float
    unsure: bool
    cues: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def opens_draft(self) -> bool:
        """Only a sure report opens a draft at once; an unsure one is asked about first."""
        return self.kind == REPORT and not self.unsure


@dataclass(frozen=True)
class _Cue:
    kind: str
    parts: tuple[str, ...]
    weight: float


class IntentClassifier:
    """Tell reports from questions, praise, chit-chat and spam; build once per process.

    It shares the category classifier's jieba tokenizer (loading another
    would cost a second and the memory of a dictionary).
    """

    def __init__(
        self,
        classifier: Classifier,
        cues: dict[str, KeywordTable],
        examples: Iterable[tuple[str, str]] = (),
        report_examples: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.classifier = classifier
        self._cues: list[_Cue] = []
        for kind, table in cues.items():
            if kind not in KINDS:
                raise ValueError(f"cue table for unknown intent {kind!r}")
            self._cues += [_Cue(kind, (term,), weight) for term, weight in table.terms]
            self._cues += [_Cue(kind, parts, weight) for parts, weight in table.phrases]
        # One search finds every single-term cue; longer cues first so "请问一下" wins over "请问".
        terms = sorted({c.parts[0] for c in self._cues if len(c.parts) == 1}, key=len, reverse=True)
        self._term_re = re.compile("|".join(map(re.escape, terms))) if terms else None
        self._by_term: dict[str, list[_Cue]] = {}
        for cue in self._cues:
            if len(cue.parts) == 1:
                self._by_term.setdefault(cue.parts[0], []).append(cue)
        self._phrases = [c for c in self._cues if len(c.parts) > 1]
        examples = [(k, t) for k, t in examples if k in NON_REPORTS]
        reports = [(REPORT, t) for c, t in report_examples if c != classifier.fallback]
        others = [(OTHER, t) for c, t in report_examples if c == classifier.fallback]
        # Report or not, from every labelled message; which other intent, from the intents'.
        binary = reports + others + [(OTHER, t) for _, t in examples]
        self._report_model = (
            _LogisticModel.train([(k == REPORT, self._features(t)) for k, t in binary])
            if reports and len(binary) > len(reports)
            else None
        )
        # Which other intent: one model per intent against the rest.
        kind_rows = [(k, self._features(t)) for k, t in examples]
        self._kind_models = (
            {
                kind: _LogisticModel.train([(k == kind, f) for k, f in kind_rows])
                for kind in NON_REPORTS
            }
            if {k for k, _ in kind_rows} >= set(NON_REPORTS)
            else {}
        )

    def _features(self, text: str) -> set[str]:
        normalized = normalize(text)
        return _shape(features(self.classifier.tokens(normalized), normalized), normalized)

    def classify(self, text: str, classification: Classification | None = None) -> Intent:
        """Return the intent of a message; pass its category classification if it is at hand."""
        normalized = normalize(text)
        if classification is None:
            classification = self.classifier.classify(text)
        evidence, cue_scores, found, feats = self._evidence(normalized, classification)
        # Weighed evidence for (positive) and against (negative) "not a report".
        other_score = report_score = 0.0
        for name, value in evidence.items():
            weighed = EVIDENCE_WEIGHTS.get(name, 0.0) * value
            if weighed > 0:
                other_score += weighed
            else:
                report_score -= weighed
        kind_scores = {
            k: cue_scores.get(k, 0.0)
            + (KIND_MODEL_WEIGHT * self._kind_models[k].logit(feats) if self._kind_models else 0.0)
            for k in NON_REPORTS
        }
        best = max(NON_REPORTS, key=kind_scores.__getitem__)
        if not normalized.strip():
            best = CHITCHAT
            other_score += PROBLEM_CAP
        lead = other_score - report_score - THRESHOLD
        confidence = 1.0 / (1.0 + math.exp(-abs(lead) / SCALE))
        scores = {REPORT: round(report_score, 3), best: round(other_score, 3)}
        if lead > 0:
            kind, cues = best, tuple(found.get(best, ()))
        else:
            fallback = self.classifier.fallback
            problem_cues = classification.keywords if classification.category != fallback else ()
            kind, cues = REPORT, problem_cues + tuple(found.get(REPORT, ()))
        return Intent(kind, round(confidence, 3), confidence < SURE, cues, scores)

    def _evidence(
        self, normalized: str, classification: Classification
    ) -> tuple[dict[str, float], dict[str, float], dict[str, list[str]], set[str]]:
        cue_scores, found = self._cue_scores(normalized)
        feats = _shape(features(self.classifier.tokens(normalized), normalized), normalized)
        report_logit = 0.0
        if self._report_model is not None:
            report_logit = self._report_model.logit(feats)
        # Any category's evidence is a sign of a problem, even when the
        # fallback ("other", thanks and greetings) leads: "电梯坏了，谢谢".
        fallback = self.classifier.fallback
        problems = [v for c, v in classification.scores.items() if c != fallback]
        problem = min(max(problems, default=0.0), PROBLEM_CAP)
        keyword = 1.0 if classification.category != fallback and classification.keywords else 0.0
        contact = cue_scores.get(CONTACT, 0.0)
        evidence = {
            "bias": 1.0,
            "problem": problem * (1.0 - keyword),
            "problem_keyword": problem * keyword,
            "keyword": keyword,
            "report_cues": cue_scores.get(REPORT, 0.0),
            "report_model": report_logit,
            "fallback": classification.scores.get(fallback, 0.0),
            "question": cue_scores.get(QUESTION, 0.0),
            "praise": cue_scores.get(PRAISE, 0.0),
            "chitchat": cue_scores.get(CHITCHAT, 0.0),
            "spam": cue_scores.get(SPAM, 0.0) - contact,
            "contact": contact,
            "short": 1.0 if len(normalized.strip()) <= 6 else 0.0,
        }
        return evidence, cue_scores, found, feats

    def _cue_scores(self, normalized: str) -> tuple[dict[str, float], dict[str, list[str]]]:
        """The cue tables' and the advert patterns' evidence for each non-report intent."""
        scores: dict[str, float] = {}
        found: dict[str, list[str]] = {}
        seen: set[str] = set()

        def add(kind: str, label: str, weight: float) -> None:
            scores[kind] = scores.get(kind, 0.0) + weight
            found.setdefault(kind, []).append(label)

        if self._term_re is not None:
            for match in self._term_re.finditer(normalized):
                term = match.group()
                start = match.start()
                if term in seen or (start and normalized[start - 1] in NEGATING):
                    continue
                if _ASCII_WORD.match(term) and not _whole_word(normalized, match):
                    continue
                seen.add(term)
                questioned = normalized[match.end() : match.end() + 1] in QUESTIONED
                for cue in self._by_term[term]:
                    if not (questioned and cue.kind == PRAISE):
                        add(cue.kind, term, cue.weight)
        for cue in self._phrases:
            if all(part in normalized for part in cue.parts):
                add(cue.kind, "+".join(cue.parts), cue.weight)
        for label, pattern, weight in SPAM_PATTERNS:
            if label not in found.get(SPAM, ()) and pattern.search(normalized):
                add(SPAM, label, weight)
                # Counted apart too: contact details weigh differently from advert words.
                scores[CONTACT] = scores.get(CONTACT, 0.0) + weight
        return scores, found


OTHER = "other"
LOGISTIC_EPOCHS = 10
LOGISTIC_RATE = 0.1
CONTACT = "<contact>"


class _LogisticModel:
    """Logistic regression over a message's features: report or not.

    Discriminative, unlike naive Bayes: words common to both sides (a place, a
    time) get little weight, words that tell them apart get much, and the few
    hundred non-reports weigh as much as the thousands of reports. Learnt by
    averaged stochastic gradient descent in a fixed order (deterministic).
    """

    def __init__(self, weights: dict[str, float], bias: float) -> None:
        self._weights = weights
        self._bias = bias

    @classmethod
    def train(
        cls,
        samples: Sequence[tuple[bool, set[str]]],
        epochs: int | None = None,
        rate: float | None = None,
    ) -> _LogisticModel:
        epochs = LOGISTIC_EPOCHS if epochs is None else epochs
        rate = LOGISTIC_RATE if rate is None else rate
        index: dict[str, int] = {}
        rows = [(y, [index.setdefault(f, len(index)) for f in feats]) for y, feats in samples]
        positives = sum(y for y, _ in rows)
        # Each class weighs as much in total as the other.
        weigh = {True: len(rows) / 2 / positives, False: len(rows) / 2 / (len(rows) - positives)}
        w = [0.0] * len(index)
        u = [0.0] * len(index)  # running sums for the average of the weights
        bias = bias_u = 0.0
        order = list(range(len(rows)))
        random.Random(0).shuffle(order)
        step = 1
        for _ in range(epochs):
            for i in order:
                y, ids = rows[i]
                z = bias + sum(map(w.__getitem__, ids))
                error = (1.0 if y else 0.0) - 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))
                # A message already told apart with 99% certainty teaches next to nothing.
                if abs(error) > 0.01:
                    g = rate * weigh[y] * error
                    gs = step * g
                    for f in ids:
                        w[f] += g
                        u[f] += gs
                    bias += g
                    bias_u += gs
                step += 1
        weights = {f: w[i] - u[i] / step for f, i in index.items()}
        return cls({f: v for f, v in weights.items() if abs(v) > 1e-3}, bias - bias_u / step)

    def logit(self, feats: Iterable[str]) -> float:
        """The log-odds of a report."""
        return self._bias + sum(filter(None, map(self._weights.get, feats)))


def _whole_word(text: str, match: re.Match[str]) -> bool:
    """Whether a Latin cue ("ok", "hi") stands alone, not inside a longer word ("this")."""
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())


def _shape(found: set[str], normalized: str) -> set[str]:
    """Add features of a message's form: a question mark, its ending, its length, digits."""
    text = normalized.rstrip(" .!~。！…")
    if "?" in normalized:
        found.add("<?>")
    if text and text[-1] in _QUESTION_END:
        found.add("<end-question>")
    length = len(normalized)
    found.add("<short>" if length <= 6 else "<long>" if length > 30 else "<medium>")
    if re.search(r"\d{7,}", normalized.replace(" ", "").replace("-", "")):
        found.add("<digits>")
    return found


def read_cue_tables(directory: Path) -> dict[str, KeywordTable]:
    """{intent: table} from the folder's `<intent>.txt` files."""
    tables = {}
    for path in sorted(directory.glob("*.txt")):
        lines = path.read_text("utf-8").splitlines()
        tables[path.stem] = parse_keyword_file(
            (path.name, n, line) for n, line in enumerate(lines, 1)
        )
    return tables


def build_intent_classifier(
    classifier: Classifier,
    report_examples: Sequence[tuple[str, str]] = (),
    directory: Path = INTENTS_DIR,
) -> IntentClassifier:
    """The intent classifier over the category classifier, from the intents folder.

    `report_examples` are the category classifier's labelled messages
    (`category<TAB>text`): every category but the fallback is a report.
    """
    examples = read_examples(directory / "examples") if (directory / "examples").is_dir() else []
    return IntentClassifier(classifier, read_cue_tables(directory), examples, report_examples)


__all__ = [
    "CHITCHAT",
    "KINDS",
    "NON_REPORTS",
    "PRAISE",
    "QUESTION",
    "REPORT",
    "SPAM",
    "Intent",
    "IntentClassifier",
    "build_intent_classifier",
    "read_cue_tables",
]
