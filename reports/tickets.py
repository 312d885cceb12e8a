"""Ticket numbers residents quote: the local date and that day's sequence, e.g. 261128-007."""

from __future__ import annotations

import re
from datetime import datetime

# ASCII digits only (other scripts' digits are no ticket of ours; full-width ones are
# translated first), and a plausible length: a ticket is quoted back to the resident,
# and a 5,000-digit one would not fit a message.
_TICKET = re.compile(r"([0-9]{6})-?([0-9]{3,6})")


def ticket_prefix(local_time: datetime) -> str:
    return local_time.strftime("%y%m%d") + "-"


def make_ticket(local_time: datetime, sequence: int) -> str:
    """The ticket for the sequence-th report of the local day (1-based)."""
    return f"{ticket_prefix(local_time)}{sequence:03d}"


def parse_ticket(text: str) -> str | None:
    """A ticket as typed by a resident (spaces, no dash, full-width digits) or None."""
    cleaned = "".join(ch for ch in text if not ch.isspace())
    cleaned = cleaned.translate({0xFF10 + i: str(i) for i in range(10)}).replace("－", "-")
    match = _TICKET.fullmatch(cleaned)
    return f"{match.group(1)}-{match.group(2)}" if match else None
