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
        found.update(map(str.__add__, run, run[1:]))
    return found


def _is_cjk(ch: str) -> bool:
    return ord(ch[0]) in _CJK


class NaiveBayes:
    """Naive Bayes over feature sets; categories equally likely a priori.

    Each known feature holds its log-likelihood under every category, centred
    (only differences between categories matter), so scoring a message is one
    column sum over its features, done by `zip` and `sum` in C.
    """

    def __init__(self, categories: Sequence[str], weights: dict[str, tuple[float, ...]]) -> None:
        self.categories = tuple(categories)
        self._weights = weights

    @classmethod
    def train(cls, samples: Iterable[tuple[str, set[str]]], temperature: float = 1.0) -> NaiveBayes:
        """Learn from (category, features) pairs.

        Naive Bayes is overconfident (it counts correlated features as independent
        evidence); a temperature above 1 flattens its posterior towards the truth.
        It is applied to the weights once here, not to every message.
        """
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
        weights: dict[str, tuple[float, ...]] = {}
        for f, total in seen.items():
            if total < MIN_FEATURE_COUNT:
                continue
            logs = [
                math.log((counts[c].get(f, 0) + SMOOTHING) / (docs[c] + 2 * SMOOTHING))
                for c in categories
            ]
            mean = sum(logs) / len(logs)
            weights[f] = tuple((v - mean) / temperature for v in logs)
        return cls(categories, weights)

    def posterior(self, feats: Iterable[str], floor: float = 0.0) -> dict[str, float]:
        """P(category | features) for categories at or above `floor`; {} if no feature is known."""
        # map/filter/zip/sum keep the per-feature work in C: this runs for most messages.
        columns = list(filter(None, map(self._weights.get, feats)))
        if not columns:
            return {}
        totals = list(map(sum, zip(*columns, strict=True)))
        top = max(totals)
        exps = list(map(math.exp, map(top.__rsub__, totals)))
        norm = sum(exps)
        cut = floor * norm
        return {c: e / norm for c, e in zip(self.categories, exps, strict=True) if e >= cut}


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
