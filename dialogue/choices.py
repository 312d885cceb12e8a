"""Choices offered under a text: a label the person taps and the data that comes back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    label: str
    data: str  # a callbacks.* string: short, versioned, validated when it comes back


# Rows of choices, as a channel with a grid of buttons lays them out.
Keyboard = tuple[tuple[Choice, ...], ...]


def keyboard(rows: Iterable[Iterable[Choice]]) -> Keyboard:
    """Rows of choices, without empty rows."""
    return tuple(row for row in (tuple(r) for r in rows) if row)


def flat(choices: Keyboard | None) -> list[Choice]:
    """Every choice in order, row by row (for a channel that lists them)."""
    return [choice for row in choices or () for choice in row]
