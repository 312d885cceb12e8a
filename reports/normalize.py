"""Text normalisation before classification: one form for what residents type.

Traditional characters become simplified, full-width letters and digits become
half-width, letters are lower-cased, and invisible characters are dropped, so
that one keyword table serves 吸菸 and 吸烟, ＡＢＣ and abc.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import zhconv

_INVISIBLE = {0xFE0F: None, 0xFE0E: None, 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None}


@cache
def _translation() -> dict[int, str | None]:
    """Map every traditional character that has one simplified form to it."""
    table = json.loads((Path(zhconv.__file__).parent / "zhcdict.json").read_text("utf-8"))
    mapping: dict[int, str | None] = {
        ord(k): v for k, v in table["zh2Hans"].items() if len(k) == 1 and len(v) == 1 and k != v
    }
    mapping.update(_INVISIBLE)
    return mapping


@cache
def _convertible() -> frozenset[str]:
    return frozenset(chr(c) for c in _translation())


def normalize(text: str) -> str:
    """Return the comparable form of a resident's text."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if not _convertible().isdisjoint(text):  # most messages have no traditional character
        text = text.translate(_translation())
    return " ".join(text.lower().split())
