"""Keyword and phrase tables that a district edits as plain text.

One entry a line: `term [weight]`, or a phrase rule `term+term [weight]` whose
parts must all occur in one message. `#` starts a comment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reports.normalize import normalize

DEFAULT_WEIGHT = 1.0
MAX_WEIGHT = 10.0


class KeywordFileError(Exception):
    """Lines that could not be read; `problems` names each by source and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KeywordTable:
    terms: tuple[tuple[str, float], ...]
    phrases: tuple[tuple[tuple[str, ...], float], ...]


def parse_keyword_file(lines: Iterable[tuple[str, int, str]]) -> KeywordTable:
    """Parse (source, line number, text) triples into a table, collecting every problem."""
    terms: dict[str, float] = {}
    phrases: dict[tuple[str, ...], float] = {}
    problems: list[str] = []
    for source, number, line in lines:
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        fields = body.split()
        where = f"{source}:{number}"
        if len(fields) > 2:
            problems.append(f'{where}: "{body}" has spaces inside the term; write term [weight]')
            continue
        weight = DEFAULT_WEIGHT
        if len(fields) == 2:
            try:
                weight = float(fields[1])
            except ValueError:
                problems.append(f'{where}: weight "{fields[1]}" is not a number')
                continue
            if not 0 < weight <= MAX_WEIGHT:
                problems.append(
                    f"{where}: weight {weight:g} must be above 0 and at most {MAX_WEIGHT:g}"
                )
                continue
        parts = tuple(normalize(p) for p in fields[0].split("+"))
        if any(not p for p in parts):
            problems.append(f'{where}: "{fields[0]}" has an empty part')
            continue
        if len(parts) == 1:
            terms[parts[0]] = max(weight, terms.get(parts[0], 0.0))
        else:
            phrases[parts] = max(weight, phrases.get(parts, 0.0))
    if problems:
        raise KeywordFileError(problems)
    return KeywordTable(tuple(terms.items()), tuple(phrases.items()))
