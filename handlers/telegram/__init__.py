"""The Telegram adapter: python-telegram-bot updates become service calls, results become messages.

Commands, private-chat dialogue and group buttons come in as PTB updates;
texts, inline keyboards, quiz polls and the outbox's deliveries go out through
the Bot API. The only package that imports `telegram`; the domain below it
never knows which channel a resident or a working group uses.
"""

import os

# PTB 22 reports RetryAfter.retry_after as a timedelta with this set, and warns without it.
os.environ.setdefault("PTB_TIMEDELTA", "true")
