"""The held-out messages stay held out: nothing in the tables or examples was learnt from them.

tests/data/labelled_test.tsv measures the classifier (tests/test_classifier.py); it
is worth something only while no one edits keywords/ with it open. Failures here
name the example or the term, never the held-out message.
"""

from __future__ import annotations

from pathlib import Path

from reports.keywords import parse_keyword_file
from reports.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ROOT / "keywords"
HELD_OUT = ROOT / "tests" / "data" / "labelled_test.tsv"
INTENTS = KEYWORDS / "intents"
INTENTS_HELD_OUT = ROOT / "tests" / "data" / "intents_held_out.tsv"


def messages(path: Path) -> list[tuple[int, str]]:
    """(line number, normalised text) of a labelled file's `category<TAB>text` lines."""
    return [
        (number, normalize(line.split("\t", 1)[1]))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if "\t" in line
    ]


def example_messages() -> list[str]:
    return [text for path in sorted(KEYWORDS.glob("examples/*.tsv")) for _, text in messages(path)]


def keyword_entries() -> list[tuple[str, tuple[str, ...]]]:
    """(file, parts) of every term and phrase rule; a plain term is a rule of one part."""
    entries = []
    for path in sorted(KEYWORDS.glob("*.txt")):
        lines = path.read_text("utf-8").splitlines()
        table = parse_keyword_file((path.name, n, line) for n, line in enumerate(lines, 1))
        entries += [(path.name, (term,)) for term, _ in table.terms]
        entries += [(path.name, parts) for parts, _ in table.phrases]
    return entries


def test_no_held_out_message_is_among_the_examples() -> None:
    held_out = {text for _, text in messages(HELD_OUT)}
    copied = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(KEYWORDS.glob("examples/*.tsv"))
        for number, text in messages(path)
        if text in held_out
    ]
    assert not copied, f"held-out messages copied into the examples: {copied}"


def test_no_keyword_matches_only_held_out_messages() -> None:
    """A term that no example contains but a held-out message does was learnt from it."""
    examples = example_messages()
    held_out = [text for _, text in messages(HELD_OUT)]

    def found_in(parts: tuple[str, ...], texts: list[str]) -> bool:
        return any(all(part in text for part in parts) for text in texts)

    suspect = [
        f"{name}: {'+'.join(parts)}"
        for name, parts in keyword_entries()
        if found_in(parts, held_out) and not found_in(parts, examples)
    ]
    assert not suspect, f"keywords that only held-out messages contain: {suspect}"


def intent_examples() -> list[tuple[Path, int, str]]:
    return [
        (path, number, text)
        for path in sorted(INTENTS.glob("examples/*.tsv"))
        for number, text in messages(path)
    ]


def test_no_held_out_intent_message_is_among_the_examples() -> None:
    held_out = {text for _, text in messages(INTENTS_HELD_OUT)} | {
        text for _, text in messages(HELD_OUT)
    }
    copied = [
        f"{path.relative_to(ROOT)}:{number}"
        for path, number, text in intent_examples()
        if text in held_out
    ]
    assert not copied, f"held-out messages copied into the intent examples: {copied}"


def test_no_intent_cue_matches_only_held_out_messages() -> None:
    """A cue that no example contains but a held-out message does was learnt from it."""
    examples = example_messages() + [text for _, _, text in intent_examples()]
    held_out = [text for _, text in messages(INTENTS_HELD_OUT)]
    suspect = []
    for path in sorted(INTENTS.glob("*.txt")):
        lines = path.read_text("utf-8").splitlines()
        table = parse_keyword_file((path.name, n, line) for n, line in enumerate(lines, 1))
        rules = [(term,) for term, _ in table.terms] + [parts for parts, _ in table.phrases]
        for parts in rules:
            in_held_out = any(all(p in text for p in parts) for text in held_out)
            in_examples = any(all(p in text for p in parts) for text in examples)
            if in_held_out and not in_examples:
                suspect.append(f"{path.name}: {'+'.join(parts)}")
    assert not suspect, f"intent cues that only held-out messages contain: {suspect}"
