"""Telegram-like parsing of formatted message text (HTML, MarkdownV2, legacy Markdown).

Telegram strips the markup from a message, returns the plain text plus a list of
``MessageEntity`` objects, and rejects malformed markup with
``400 Bad Request: can't parse entities: ...``.  This module reproduces that closely
enough to catch the usual bot bugs (unescaped ``<`` in user-provided text, a stray ``.``
in MarkdownV2, unclosed tags) and to count the visible length of a message.

Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityParseError", "parse_formatted", "utf16_len"]


class EntityParseError(ValueError):
    """Malformed markup; ``str(exc)`` is the part after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of Bot API entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _Builder:
    """Accumulates plain text and tracks the current UTF-16 offset."""

    parts: list[str] = field(default_factory=list)
    offset: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.offset - start
        if length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for ``text`` sent with ``parse_mode``.

    Raises :class:`EntityParseError` for markup Telegram would reject.
    Unknown or empty parse modes leave the text untouched.
    """
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown_legacy(text)
    return text, []


# --------------------------------------------------------------------------- HTML

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_SPECIAL_TAGS = {"a", "span", "tg-emoji", "tg-time"}


def _parse_attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        value = match.group(2) or ""
        if value[:1] in {"'", '"'}:
            value = value[1:-1]
        attrs[match.group(1).lower()] = html.unescape(value)
    return attrs


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    # Stack of (tag name, start offset, entity type, extra fields, byte offset of the tag).
    stack: list[tuple[str, int, str, dict[str, Any], int]] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            match = _ENTITY_RE.match(text, i)
            if match:
                if match.group(1):
                    out.add({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[match.group(1)])
                else:
                    code = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
                    try:
                        out.add(chr(code))
                    except (ValueError, OverflowError):
                        out.add(match.group(0))
                i = match.end()
            else:
                # Telegram keeps unknown or bare ampersands literally.
                out.add("&")
                i += 1
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        byte_pos = _byte_offset(text, i)
        match = _TAG_RE.match(text, i)
        if not match:
            raise EntityParseError(f'Unsupported start tag "" at byte offset {byte_pos}')
        closing, name, raw_attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
        if name not in _SIMPLE_TAGS and name not in _SPECIAL_TAGS:
            kind = "end" if closing else "start"
            raise EntityParseError(f'Unsupported {kind} tag "{name}" at byte offset {byte_pos}')
        if closing:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_pos}")
            open_name, start, kind, extra, _ = stack.pop()
            if open_name != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_pos}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            if kind == "code" and stack and stack[-1][2] == "pre":
                # <pre><code class="language-x"> sets the language of the enclosing pre.
                if extra.get("language"):
                    stack[-1][3]["language"] = extra["language"]
                i = match.end()
                continue
            out.entity(kind, start, **extra)
            i = match.end()
            continue
        attrs = _parse_attrs(raw_attrs)
        extra: dict[str, Any] = {}
        if name in _SIMPLE_TAGS:
            kind = _SIMPLE_TAGS[name]
            if name == "blockquote" and "expandable" in attrs:
                kind = "expandable_blockquote"
            if name == "code":
                lang = attrs.get("class", "")
                if lang.startswith("language-"):
                    extra["language"] = lang[len("language-") :]
        elif name == "a":
            href = attrs.get("href", "")
            user_match = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if user_match:
                kind = "text_mention"
                extra["user"] = {
                    "id": int(user_match.group(1)),
                    "is_bot": False,
                    "first_name": "User",
                }
            elif href:
                kind = "text_link"
                extra["url"] = href
            else:
                kind = "__none__"
        elif name == "span":
            if attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_pos}'
                )
            kind = "spoiler"
        elif name == "tg-emoji":
            if "emoji-id" not in attrs:
                raise EntityParseError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_pos}'
                )
            kind = "custom_emoji"
            extra["custom_emoji_id"] = attrs["emoji-id"]
        else:  # tg-time
            kind = "__none__"
        if match.group(4) == "/":
            i = match.end()
            continue
        stack.append((name, out.offset, kind, extra, byte_pos))
        i = match.end()
    if stack:
        name = stack[-1][0]
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
    text_out, entities = out.result()
    return text_out, [e for e in entities if e["type"] != "__none__"]


# --------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    # Open entities: (type, start offset, byte offset of the opening marker).
    stack: list[tuple[str, int, int]] = []
    quote_start: int | None = None
    expandable = False
    i = 0
    n = len(text)

    def toggle(kind: str, marker_len: int) -> None:
        nonlocal i
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] == kind:
                if depth != len(stack) - 1:
                    inner = stack[-1]
                    raise EntityParseError(
                        f"Can't find end of {_MDV2_NAMES.get(inner[0], inner[0])} entity at "
                        f"byte offset {inner[2]}"
                    )
                _, start, _ = stack.pop()
                out.entity(kind, start)
                i += marker_len
                return
        stack.append((kind, out.offset, _byte_offset(text, i)))
        i += marker_len

    while i < n:
        ch = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if at_line_start:
            is_quote = ch == ">" or text.startswith("**>", i)
            if is_quote:
                if quote_start is None:
                    quote_start = out.offset
                    expandable = False
                if text.startswith("**>", i):
                    expandable = True
                    i += 3
                else:
                    i += 1
                continue
            if quote_start is not None and i > 0:
                # The previous line ended the quote; the newline belongs to the quote text.
                out.entity("expandable_blockquote" if expandable else "blockquote", quote_start)
                quote_start = None
        if ch == "\\":
            if i + 1 >= n:
                raise EntityParseError(
                    f"Character '\\' is reserved and must be escaped with the preceding '\\' "
                    f"at byte offset {_byte_offset(text, i)}"
                )
            out.add(text[i + 1])
            i += 2
            continue
        if ch == "|" and text.startswith("||", i):
            if (
                quote_start is not None
                and expandable
                and text.startswith("||", i)
                and (i + 2 >= n or text[i + 2] == "\n")
            ):
                # "||" closing an expandable block quote.
                i += 2
                continue
            toggle("spoiler", 2)
            continue
        if ch == "*":
            toggle("bold", 1)
            continue
        if ch == "_":
            if text.startswith("__", i):
                toggle("underline", 2)
            else:
                toggle("italic", 1)
            continue
        if ch == "~":
            toggle("strikethrough", 1)
            continue
        if ch == "`":
            byte_pos = _byte_offset(text, i)
            if text.startswith("```", i):
                j = i + 3
                newline = text.find("\n", j)
                end = text.find("```", j)
                if end < 0:
                    raise EntityParseError(
                        f"Can't find end of Pre entity at byte offset {byte_pos}"
                    )
                language = ""
                if 0 <= newline < end:
                    candidate = text[j:newline]
                    if candidate and not any(c.isspace() for c in candidate):
                        language = candidate
                        j = newline + 1
                start = out.offset
                out.add(_unescape_code(text[j:end]))
                extra = {"language": language} if language else {}
                out.entity("pre", start, **extra)
                i = end + 3
                continue
            end = _find_unescaped(text, "`", i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {byte_pos}")
            start = out.offset
            out.add(_unescape_code(text[i + 1 : end]))
            out.entity("code", start)
            i = end + 1
            continue
        if ch in "![" and (ch == "[" or text.startswith("![", i)):
            stack.append(
                ("custom_emoji" if ch == "!" else "text_link", out.offset, _byte_offset(text, i))
            )
            i += 2 if ch == "!" else 1
            continue
        if ch == "]":
            if not stack or stack[-1][0] not in {"text_link", "custom_emoji"}:
                raise EntityParseError(
                    "Character ']' is reserved and must be escaped with the preceding '\\'"
                )
            kind, start, byte_pos = stack.pop()
            if not text.startswith("(", i + 1):
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {byte_pos}"
                )
            end = _find_unescaped(text, ")", i + 2)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {byte_pos}"
                )
            url = re.sub(r"\\(.)", r"\1", text[i + 2 : end])
            if kind == "custom_emoji":
                emoji_match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not emoji_match:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                out.entity("custom_emoji", start, custom_emoji_id=emoji_match.group(1))
            else:
                out.entity("text_link", start, url=url)
            i = end + 1
            continue
        if ch in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        j = i + 1
        while j < n and text[j] not in _MDV2_RESERVED and text[j] not in "\\\n|":
            j += 1
        if j < n and text[j] == "\n":
            j += 1
        out.add(text[i:j])
        i = j
    if quote_start is not None:
        out.entity("expandable_blockquote" if expandable else "blockquote", quote_start)
    if stack:
        kind, _, byte_pos = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES.get(kind, kind)} entity at byte offset {byte_pos}"
        )
    return out.result()


def _find_unescaped(text: str, char: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def _unescape_code(text: str) -> str:
    return re.sub(r"\\([`\\])", r"\1", text)


# --------------------------------------------------------------------------- Markdown (legacy)


def _parse_markdown_legacy(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    i = 0
    n = len(text)
    markers = {"*": "bold", "_": "italic"}
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        byte_pos = _byte_offset(text, i)
        if ch in markers:
            end = text.find(ch, i + 1)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {byte_pos}"
                )
            start = out.offset
            out.add(text[i + 1 : end])
            out.entity(markers[ch], start)
            i = end + 1
            continue
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {byte_pos}"
                )
            body = text[i + len(fence) : end]
            start = out.offset
            extra: dict[str, Any] = {}
            if fence == "```":
                first, sep, rest = body.partition("\n")
                if sep and first and not any(c.isspace() for c in first):
                    extra["language"] = first
                    body = rest
            out.add(body)
            out.entity("pre" if fence == "```" else "code", start, **extra)
            i = end + len(fence)
            continue
        if ch == "[":
            close = text.find("]", i + 1)
            if close < 0 or not text.startswith("(", close + 1) or text.find(")", close) < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {byte_pos}"
                )
            end = text.find(")", close)
            start = out.offset
            out.add(text[i + 1 : close])
            out.entity("text_link", start, url=text[close + 2 : end])
            i = end + 1
            continue
        j = i + 1
        while j < n and text[j] not in "\\*_`[":
            j += 1
        out.add(text[i:j])
        i = j
    return out.result()
