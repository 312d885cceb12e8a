"""The office's list of questions residents asked that the FAQ could not answer."""

from __future__ import annotations

from dialogue import texts
from reports.questions import GapReport

MESSAGE_LIMIT = 4096  # Telegram's, the smallest of the channels' that show this
QUESTION_CHARS = 80  # a longer question is cut: the list is for spotting, not reading


def gaps_text(report: GapReport, limit: int = MESSAGE_LIMIT) -> str:
    """The grouped questions, most asked first, cut to fit `limit` with how many are left."""
    if not report.groups:
        return texts.FAQ_GAPS_EMPTY.format(days=report.days, answered=report.answered)
    head = texts.FAQ_GAPS_TITLE.format(
        days=report.days, unanswered=report.unanswered, answered=report.answered
    )
    lines = [head]
    used = len(head) + 1 + len(texts.FAQ_GAPS_HINT)
    for shown, group in enumerate(report.groups):
        text = " ".join(group.text.split())
        if len(text) > QUESTION_CHARS:
            text = text[: QUESTION_CHARS - 1] + "…"
        line = texts.FAQ_GAPS_LINE.format(count=group.count, text=text)
        if group.best_entry:
            line += texts.FAQ_GAPS_NEAREST.format(entry=group.best_entry)
        left = len(report.groups) - shown - 1
        more = len(texts.FAQ_GAPS_MORE.format(count=len(report.groups))) + 1 if left else 0
        if used + len(line) + 1 + more > limit:
            lines.append(texts.FAQ_GAPS_MORE.format(count=len(report.groups) - shown))
            break
        lines.append(line)
        used += len(line) + 1
    lines.append(texts.FAQ_GAPS_HINT)
    return "\n".join(lines)
