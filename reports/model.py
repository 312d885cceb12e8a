"""A small statistical model learned from labelled messages, beside the keyword table.

Keywords are precise but cannot list every way of saying a thing; residents
paraphrase ("边走边抽", "那堆东西三天没人收"). A naive Bayes model over words
and character pairs, learned from a corpus of labelled messages, recognises
the vocabulary around each kind of report. Its posterior joins the keyword
scores as extra evidence, so a message with no keyword at all can still be
placed, and a near tie between keywords is broken by context.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

SMOOTHING = 0.3
MIN_FEATURE_COUNT = 2
_CJK = range(0x4E00, 0xA000)
_CJK_RUN = re.compile("[\u4e00-\u9fff]+")


def features(tokens: Sequence[str], text: str) -> set[str]:
    """Words (two characters or more, or letters), CJK characters and character pairs."""
    found = {t for t in tokens if len(t) > 1 or (t.isalpha() and not _is_cjk(t))}
    for run in _CJK_RUN.findall(text):
        found.update(run)
        found.update([run[i : i + 2] for i in range(len(run) - 1)])
    return found


def _is_cjk(ch: str) -> bool:
    return ord(ch[0]) in _CJK


class NaiveBayes:
    """Naive Bayes over feature sets; categories equally likely a priori.

    Stored sparsely: a feature carries a weight only for the categories it was
    seen in; for the rest its likelihood is the category's "unseen" constant,
    which is added once per message rather than once per feature.
    """

    def __init__(
        self,
        categories: Sequence[str],
        unseen: Sequence[float],
        weights: dict[str, tuple[tuple[int, float], ...]],
    ) -> None:
        self.categories = tuple(categories)
        self._unseen = tuple(unseen)
        self._weights = weights

    @classmethod
    def train(cls, samples: Iterable[tuple[str, set[str]]]) -> NaiveBayes:
        """Learn from (category, features) pairs."""
        docs: dict[str, int] = {}
        counts: dict[str, dict[str, int]] = {}
        seen: dict[str, int] = {}
        for category, feats in samples:
            docs[category] = docs.get(category, 0) + 1
            per = counts.setdefault(category, {})
            for f in feats:
                per[f] = per.get(f, 0) + 1
                seen[f] = seen.get(f, 0) + 1
        categories = sorted(docs)
        unseen = [math.log(SMOOTHING / (docs[c] + 2 * SMOOTHING)) for c in categories]
        weights: dict[str, tuple[tuple[int, float], ...]] = {}
        for f, total in seen.items():
            if total < MIN_FEATURE_COUNT:
                continue
            weights[f] = tuple(
                (i, math.log((counts[c][f] + SMOOTHING) / (docs[c] + 2 * SMOOTHING)) - unseen[i])
                for i, c in enumerate(categories)
                if counts[c].get(f)
            )
        return cls(categories, unseen, weights)

    def posterior(self, feats: Iterable[str], temperature: float = 1.0) -> dict[str, float]:
        """P(category | features), or an empty dict when no feature is known.

        Naive Bayes is overconfident (it counts correlated features as independent
        evidence); a temperature above 1 flattens its posterior towards the truth.
        """
        weights = self._weights
        known = 0
        totals = [0.0] * len(self.categories)
        for f in feats:
            w = weights.get(f)
            if w is None:
                continue
            known += 1
            for i, v in w:
                totals[i] += v
        if not known:
            return {}
        totals = [(t + known * u) / temperature for t, u in zip(totals, self._unseen, strict=True)]
        top = max(totals)
        exps = [math.exp(t - top) for t in totals]
        norm = sum(exps)
        return {c: e / norm for c, e in zip(self.categories, exps, strict=True)}


def read_corpus(path: Path) -> list[tuple[str, str]]:
    """(category, text) pairs from a `category<TAB>text` file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            category, _, text = line.partition("\t")
            rows.append((category.strip(), text))
    return rows


def read_examples(directory: Path) -> list[tuple[str, str]]:
    """Every labelled message in the folder's .tsv files, in name order."""
    return [row for file in sorted(directory.glob("*.tsv")) for row in read_corpus(file)]
