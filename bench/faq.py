"""The FAQ's answers on questions it has never seen: accuracy, wrong answers, time.

    python bench/faq.py [--rounds N] [--show]

Reads tests/data/faq_held_out.tsv (residents' questions in their own words, each
with the entry that should answer it or `none`) and prints: top-1 accuracy on the
answerable ones, the share of questions answered wrongly (a wrong entry, or an
answer where none was due), the share of `none` questions left unanswered, and
the time per question on one core. --show lists every miss.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.faq import KnowledgeBase  # noqa: E402
from runtime import build_classifier  # noqa: E402
from settings import load_settings  # noqa: E402

HELD_OUT = ROOT / "tests" / "data" / "faq_held_out.tsv"
# Written by someone who never saw the base's wording, after the base was tuned on
# HELD_OUT: the honest figure.
FRESH = ROOT / "tests" / "data" / "faq_fresh.tsv"


@dataclass(frozen=True)
class Figures:
    answerable: int
    unanswerable: int
    accuracy: float  # right entry, among answerable questions
    wrong_rate: float  # a wrong entry or an undue answer, among all questions
    none_kept: float  # `none` questions left unanswered
    misses: list[tuple[str, str, str, float]]  # (expected, got, text, score)


def read_held_out(path: Path = HELD_OUT) -> list[tuple[str, str]]:
    """(expected entry id or "none", question) of each line; # comments skipped."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, text = line.split("\t", 1)
            rows.append((expected.strip(), text.strip()))
    return rows


def measure(kb: KnowledgeBase, rows: list[tuple[str, str]]) -> Figures:
    right = wrong = kept = answerable = 0
    misses = []
    for expected, text in rows:
        match = kb.answer(text)
        got = match.entry_id if match else "none"
        if expected == "none":
            kept += got == "none"
        else:
            answerable += 1
            right += got == expected
        if got != "none" and got != expected:
            wrong += 1
        if got != expected:
            _, score = kb.best(text)
            misses.append((expected, got, text, score))
    unanswerable = len(rows) - answerable
    return Figures(
        answerable,
        unanswerable,
        right / max(answerable, 1),
        wrong / max(len(rows), 1),
        kept / max(unanswerable, 1),
        misses,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = load_settings(ROOT / "config.toml")
    classifier = build_classifier(settings)
    started = time.perf_counter()
    kb = KnowledgeBase(settings.faq.entries, classifier.tokens, settings.faq.min_score)
    build_ms = (time.perf_counter() - started) * 1000
    rows = read_held_out()
    fresh_rows = read_held_out(FRESH)
    texts = [text for _, text in rows + fresh_rows]
    per_question: list[float] = []
    for _ in range(args.rounds):
        t0 = time.perf_counter_ns()
        for text in texts:
            kb.answer(text)
        per_question.append((time.perf_counter_ns() - t0) / len(texts) / 1000)
    print(f"knowledge base: {len(kb.entries)} entries, built in {build_ms:.1f} ms")
    print(f"threshold {kb.min_score}")
    for name, path, subset in (
        ("tuned on", HELD_OUT, rows),
        ("fresh, never tuned on", FRESH, fresh_rows),
    ):
        figures = measure(kb, subset)
        print(
            f"{path.name} ({name}): {len(subset)} questions ({figures.answerable} answerable,"
            f" {figures.unanswerable} none)"
        )
        print(f"  top-1 accuracy on answerable questions: {figures.accuracy:.1%}")
        print(f"  wrong answers (wrong entry or undue answer): {figures.wrong_rate:.1%}")
        print(f"  none questions correctly not answered: {figures.none_kept:.1%}")
        if args.show:
            for expected, got, text, score in figures.misses:
                print(f"    {expected:>20} → {got:<20} {score:.2f}  {text}")
    print(f"time per question: {statistics.median(per_question):.0f} µs (median of rounds)")


if __name__ == "__main__":
    main()
