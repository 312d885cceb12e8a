"""Alerts under a slow and under a failing Bot API: duplicates, and lateness after recovery.

    python bench/slow_api.py [--reports 20] [--timeout 2] [--outage 20]

The bot runs in this process against the stand-in, on the committed config
(retries from 2 s doubling to 300 s), with two faults in the group chat:

1. slow: Telegram posts every message but answers 1.5 × the send timeout
   late, so every first attempt times out although it was posted. Printed:
   alerts posted per report (target: at most 2, i.e. one duplicate).
   The send timeout is scaled down (--timeout) so that this takes seconds.
2. outage: every send to the group chat fails (502) for --outage seconds
   while residents keep filing; then Telegram is back. Printed: how long
   after the end of the outage the first and the last alert arrived, against
   how long the last would have waited for its own backoff.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo import Walkthrough, runtime_on, standin_config  # noqa: E402
from runtime import Runtime, build_classifier  # noqa: E402
from settings import Settings, load_settings, parse_settings  # noqa: E402
from simulator import BotApiStandIn  # noqa: E402

GROUP_CHATS = {key: -100_000 - i for i, key in enumerate(load_settings().group_keys)}
URBAN = GROUP_CHATS["urban"]
FIRST_RESIDENT = 10_000
PLACES = ["小区东门", "菜市场门口", "公交站旁", "学校后门", "公园入口", "商场北侧", "河边步道"]


def litter(i: int) -> str:
    return f"{PLACES[i % len(PLACES)]}第{i + 1}处垃圾堆了好几天没人清运"


async def run(
    api: BotApiStandIn, settings: Settings, classifier: object, reports: int, fault: object
) -> tuple[list[str], Runtime]:
    """Start the bot, apply `fault`, file `reports` reports; return their tickets."""
    runtime = runtime_on(api, settings, classifier, poll_timeout=1)
    await runtime.start()
    fault()  # type: ignore[operator]
    walk = Walkthrough(api, timeout=30)
    tickets = []
    for i in range(reports):
        _, ticket = await walk.file(litter(i), FIRST_RESIDENT + i)
        tickets.append(ticket)
    return tickets, runtime


async def alerts_settled(runtime: Runtime) -> bool:
    async with runtime.db.session() as conn:
        sql = "SELECT COUNT(*) FROM outbox WHERE kind = 'group_alert' AND status = 'pending'"
        async with conn.execute(sql) as cur:
            row = await cur.fetchone()
    return row is not None and row[0] == 0


async def latest_retry_at(runtime: Runtime) -> float:
    async with runtime.db.session() as conn:
        sql = "SELECT MAX(next_attempt_at) FROM outbox WHERE status = 'pending'"
        async with conn.execute(sql) as cur:
            row = await cur.fetchone()
    return float(row[0]) if row and row[0] is not None else time.time()


async def wait_until(check: object, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def alert_posts(api: BotApiStandIn, tickets: list[str]) -> Counter[str]:
    posts: Counter[str] = Counter()
    for message in api.sent_to(URBAN):
        for ticket in tickets:
            if message.buttons and ticket in (message.text or ""):
                posts[ticket] += 1
    return posts


async def slow(tmp: Path, classifier: object, reports: int, send_timeout: float) -> None:
    async with BotApiStandIn() as api:
        settings = world(api, tmp / "slow.db", send_timeout_seconds=send_timeout)
        delay = 1.5 * send_timeout
        tickets, runtime = await run(
            api,
            settings,
            classifier,
            reports,
            lambda: api.fail_chat(URBAN, "slow", delay=delay),
        )
        try:
            await wait_until(lambda: alerts_settled(runtime), 60 + 20 * send_timeout)
        finally:
            await runtime.stop()
        posts = alert_posts(api, tickets)
        counts = Counter(posts[t] for t in tickets)
        print(
            f"slow API: every send answered {delay:.1f} s late, send timeout {send_timeout:.1f} s"
        )
        print(f"  reports filed                {reports}")
        print(f"  alerts posted per report     {dict(sorted(counts.items()))} (posts: reports)")
        print(f"  most posts of one alert      {max(posts[t] for t in tickets)} (target ≤ 2)")


async def outage(tmp: Path, classifier: object, reports: int, seconds: float) -> None:
    async with BotApiStandIn() as api:
        settings = world(api, tmp / "outage.db")
        began = time.time()
        tickets, runtime = await run(
            api, settings, classifier, reports, lambda: api.fail_chat(URBAN, "server_error")
        )
        try:
            await asyncio.sleep(max(0.0, seconds - (time.time() - began)))
            would_wait = await latest_retry_at(runtime)
            api.clear_failures(URBAN)
            ended = time.time()
            await wait_until(lambda: alerts_settled(runtime), 600)
        finally:
            await runtime.stop()
        posted = sorted(
            r.time
            for r in api.requests
            if r.method == "sendMessage"
            and r.status == 200
            and str(r.params["chat_id"]) == str(URBAN)
        )
        print(f"outage: sends to the group failed (502) for {ended - began:.0f} s")
        print(f"  reports filed during it      {reports}")
        print(f"  first alert after the end    {posted[0] - ended:.1f} s")
        print(f"  last alert after the end     {posted[-1] - ended:.1f} s")
        print(f"  its own backoff would be     {would_wait - ended:.1f} s")
        print(f"  alerts delivered             {len(alert_posts(api, tickets))} of {reports}")


def world(api: BotApiStandIn, db_path: Path, **outbox: float) -> Settings:
    for key, chat_id in GROUP_CHATS.items():
        api.add_group(chat_id, key)
    for i in range(100):
        api.add_user(FIRST_RESIDENT + i, f"居民{i}")
    raw = standin_config(ROOT / "config.toml", api, db_path, GROUP_CHATS)
    raw["outbox"].update(outbox)
    return parse_settings(raw, base_dir=ROOT)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=2.0, help="send timeout (s)")
    parser.add_argument("--outage", type=float, default=20.0, help="outage length (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    from settings import load_settings

    classifier = build_classifier(load_settings(ROOT / "config.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        await slow(Path(tmp), classifier, args.reports, args.timeout)
        await outage(Path(tmp), classifier, args.reports, args.outage)


if __name__ == "__main__":
    asyncio.run(main())
