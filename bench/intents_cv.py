"""Intent figures by k-fold cross-validation over the TRAINING examples only.

    python bench/intents_cv.py [--folds 5]

Tune the intent classifier's weights and thresholds on these figures, not on
the held-out files (bench/classify.py prints those). Every labelled message of
keywords/examples (reports by category; the fallback `other` is a non-report
of no labelled intent) and keywords/intents/examples (non-reports by intent)
goes to fold `line index % folds` of its file; each fold is classified by a
category model and intent models learnt from the other folds. The jieba
tokenizer and the keyword tables are shared (they are not learnt from
examples).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reports.intents as intents_module  # noqa: E402
from reports.intents import (  # noqa: E402
    INTENTS_DIR,
    NON_REPORTS,
    REPORT,
    IntentClassifier,
    read_cue_tables,
)
from reports.model import NaiveBayes, read_corpus  # noqa: E402
from runtime import build_classifier  # noqa: E402
from settings import load_settings  # noqa: E402

# Reports written to look like other intents (questions, thanks, phone numbers,
# a few words): their recall is printed on its own.
LOOKALIKES = "lookalikes.tsv"


def folded(directory: Path, folds: int) -> list[tuple[int, str, str, str]]:
    """(fold, file name, label, text) of every labelled message in a folder's .tsv files."""
    rows = []
    for path in sorted(directory.glob("*.tsv")):
        for i, (label, text) in enumerate(read_corpus(path)):
            rows.append((i % folds, path.name, label, text))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print the misclassified messages")
    parser.add_argument(
        "--curve", action="store_true", help="recall and kept-out share at other thresholds"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="try another constant"
    )
    args = parser.parse_args()
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        if name.startswith("EVIDENCE_WEIGHTS."):
            intents_module.EVIDENCE_WEIGHTS[name.partition(".")[2]] = float(value)
            continue
        current = getattr(intents_module, name, None)
        if not isinstance(current, int | float):
            parser.error(f"reports.intents has no number {name}")
        setattr(intents_module, name, type(current)(value))

    settings = load_settings(ROOT / "config.toml")
    classifier = build_classifier(settings)
    temperature = settings.model_temperature
    category_rows = folded(ROOT / "keywords" / "examples", args.folds)
    category_rows = [r for r in category_rows if r[2] in settings.categories]
    intent_rows = folded(INTENTS_DIR / "examples", args.folds)
    cues = read_cue_tables(INTENTS_DIR)
    fallback = classifier.fallback

    lost = asked = reports = 0
    look_lost = look_asked = look_total = 0
    kept = others = fallback_kept = fallback_total = 0
    right: dict[str, int] = dict.fromkeys(NON_REPORTS, 0)
    kept_by: dict[str, int] = dict.fromkeys(NON_REPORTS, 0)
    total: dict[str, int] = dict.fromkeys(NON_REPORTS, 0)
    unsure = messages = 0
    nonreport_unsure = category_hits = 0
    elapsed = 0.0
    shown: list[str] = []
    # (is a report, the other intents' lead over the problem) for --curve.
    margins: list[tuple[bool, float]] = []
    for fold in range(args.folds):
        train_categories = [(c, t) for f, _, c, t in category_rows if f != fold]
        classifier._model = NaiveBayes.train(
            ((c, classifier._features(t)) for c, t in train_categories), temperature
        )
        intents = IntentClassifier(
            classifier,
            cues,
            [(k, t) for f, _, k, t in intent_rows if f != fold],
            train_categories,
        )
        tests = [(n, c, t) for f, n, c, t in category_rows if f == fold]
        tests += [(n, k, t) for f, n, k, t in intent_rows if f == fold]
        for name, label, text in tests:
            started = time.perf_counter()
            category = classifier.classify(text)
            intent = intents.classify(text, category)
            elapsed += time.perf_counter() - started
            messages += 1
            unsure += intent.unsure
            is_report = label in settings.categories and label != fallback
            if is_report or label in NON_REPORTS:
                other = max(v for k, v in intent.scores.items() if k != REPORT)
                margins.append((is_report, other - intent.scores[REPORT]))
            if label in settings.categories and label != fallback:
                reports += 1
                category_hits += category.category == label
                missed = intent.kind != REPORT
                lost += missed
                asked += missed and intent.unsure
                if name == LOOKALIKES:
                    look_total += 1
                    look_lost += missed
                    look_asked += missed and intent.unsure
                if missed:
                    mark = "?" if intent.unsure else " "
                    shown.append(f"LOST{mark} {label}\t{intent.kind}\t{text}")
                continue
            nonreport_unsure += intent.unsure
            if label == fallback:
                fallback_total += 1
                fallback_kept += intent.kind != REPORT
                continue
            others += 1
            total[label] += 1
            kept += intent.kind != REPORT
            kept_by[label] += intent.kind != REPORT
            right[label] += intent.kind == label
            if intent.kind != label:
                shown.append(f"WRONG{'?' if intent.unsure else ' '} {label}\t{intent.kind}\t{text}")

    if args.show:
        print("\n".join(sorted(shown)))
    n_reports = sum(r for r, _ in margins)
    # The share kept out at the threshold that loses 1% of reports: the trade-off's shape.
    report_margins = sorted((m for r, m in margins if r), reverse=True)
    at_99 = report_margins[len(report_margins) // 100]
    kept_99 = sum(not r and m > at_99 for r, m in margins) / (len(margins) - n_reports)
    if args.curve:
        n_others = len(margins) - n_reports
        for step in range(-16, 9):
            threshold = step / 4
            lost_at = sum(r and m > threshold for r, m in margins)
            kept_at = sum(not r and m > threshold for r, m in margins)
            print(
                f"threshold {threshold:+.2f}  recall {1 - lost_at / n_reports:.2%}"
                f"  kept out {kept_at / n_others:.1%}"
            )
    print(f"cross-validation       {args.folds} folds over the training examples")
    print(f"reports                {reports} ({look_total} look-alikes)")
    print(f"category accuracy      {category_hits / reports:.1%} of reports")
    print(
        f"report recall          {1 - lost / reports:.2%}"
        f" ({lost} lost, {asked} of them asked about)"
    )
    print(
        f"  look-alike recall    {1 - look_lost / max(look_total, 1):.1%}"
        f" ({look_lost} lost, {look_asked} asked about)"
    )
    print(f"kept out of a draft    {kept / others:.1%} of {others} labelled non-reports")
    print(f"  fallback messages    {fallback_kept} of {fallback_total} kept out")
    intent_right = sum(right.values())
    print(f"intent right           {intent_right / others:.1%} of labelled non-reports")
    for kind in NON_REPORTS:
        print(f"  {kind:<9}            {right[kind]}/{total[kind]} right, {kept_by[kind]} kept out")
    print(f"at 99% recall          {kept_99:.1%} kept out (threshold {at_99:+.2f})")
    print(f"asked (unsure)         {unsure / messages:.1%} of messages")
    print(
        f"  non-reports          {nonreport_unsure / (others + fallback_total):.1%} of non-reports"
    )
    print(f"intent time            {elapsed / messages * 1e6:.0f} µs a message (with its category)")


if __name__ == "__main__":
    main()
