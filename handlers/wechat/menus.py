"""Choices on WeChat: a msgmenu whose items are numbered, the numbers repeated below for
a resident who types one instead of tapping (WeChat's menus carry no data of their
own: the number picks the n-th choice remembered for the chat)."""

from __future__ import annotations

import re

from dialogue import texts
from dialogue.choices import Choice

# WeChat's limits in bytes of UTF-8: a msgmenu's head, a customer-service text (the
# latter undocumented for the Official Account: the figure of its WeCom twin).
MENU_HEAD_BYTES = 1024
TEXT_BYTES = 2048
# Items of one msgmenu: a longer choice (every category) goes as several menus.
MENU_ITEMS = 10
# A label's leading emoji and marks, which nobody types.
_DECORATION = re.compile(r"^[^\w]+")


def plain(label: str) -> str:
    """A choice's label without its leading emoji (as a resident would type it)."""
    return _DECORATION.sub("", label) or label


def numbered(choices: list[Choice]) -> tuple[list[tuple[str, str]], str]:
    """The msgmenu's items (id = the number, 1..n) and its tail listing the numbers."""
    items = [
        (str(n), texts.WECHAT_MENU_ITEM.format(number=n, label=c.label))
        for n, c in enumerate(choices, 1)
    ]
    tail = texts.WECHAT_MENU_TYPED.format(
        choices=texts.WECHAT_MENU_TYPED_JOIN.join(
            texts.WECHAT_MENU_TYPED_ITEM.format(number=n, label=plain(c.label))
            for n, c in enumerate(choices, 1)
        )
    )
    return items, tail
