"""One resident floods the bot while twenty others report: are the others still answered?

    python bench/flood.py [--flood 200] [--others 20] [--flood-limit N]

The bot runs as a separate process against a stand-in that answers 429
(retry_after 1) above 30 messages a second overall and above 1 a second in
one chat, as Telegram does. Resident A sends `--flood` report texts at once;
right after, each of `--others` residents sends one report text. Printed: how
long the others waited for their first answer (p50, max), how many got no
answer within a minute, how many 429s the stand-in gave, and what A got.
`--flood-limit` sets [reports] flood_messages (e.g. 1000 to see the per-chat
queueing alone, with every one of A's messages answered).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo import standin_config  # noqa: E402
from settings import load_settings  # noqa: E402
from simulator import BotApiStandIn  # noqa: E402

GROUP_CHATS = {key: -100_000 - i for i, key in enumerate(load_settings().group_keys)}
FLOODER = 50_000
WARM_UP = 49_999
TEXT = "小区门口有人乱扔垃圾，垃圾堆了好几天没人清理"
PATIENCE = 60.0  # seconds a resident waits for an answer before counting it as none


def start(config: Path, token: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": token}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )


async def first_answer(api: BotApiStandIn, chat_id: int, began: float) -> float | None:
    """Seconds from `began` until the chat's first bot message, or None after PATIENCE."""
    try:
        await api.next_sent(chat_id, after=0, timeout=PATIENCE)
    except AssertionError:  # the stand-in's way of saying it timed out
        return None
    return time.perf_counter() - began


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood", type=int, default=200)
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--flood-limit", type=int, default=None)
    args = parser.parse_args()
    others = range(FLOODER + 1, FLOODER + 1 + args.others)
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiStandIn() as api:
            for key, chat_id in GROUP_CHATS.items():
                api.add_group(chat_id, key)
            for user in (WARM_UP, FLOODER, *others):
                api.add_user(user, f"居民{user}")
            raw = standin_config(ROOT / "config.toml", api, Path(tmp) / "flood.db", GROUP_CHATS)
            if args.flood_limit is not None:
                raw["reports"]["flood_messages"] = args.flood_limit
            config = Path(tmp) / "config.toml"
            config.write_bytes(tomli_w.dumps(raw).encode())
            bot = start(config, api.token)
            try:
                api.send_text(WARM_UP, TEXT)  # the bot has started and loaded jieba
                await api.next_sent(WARM_UP, after=0, timeout=120)
                api.rate_limit(30, per_chat=1)
                began = time.perf_counter()
                for n in range(args.flood):
                    api.send_text(FLOODER, f"{TEXT} {n}")
                for user in others:
                    api.send_text(user, TEXT)
                waits = await asyncio.gather(*(first_answer(api, u, began) for u in others))
                others_done = time.perf_counter() - began
                flooder_then = len(api.sent_to(FLOODER))
                # A's backlog: wait until nothing more comes for 5 s (or 400 s in all).
                seen, quiet_since = -1, time.perf_counter()
                while time.perf_counter() - quiet_since < 5 and time.perf_counter() - began < 400:
                    await asyncio.sleep(0.5)
                    if len(api.sent_to(FLOODER)) != seen:
                        seen, quiet_since = len(api.sent_to(FLOODER)), time.perf_counter()
            finally:
                bot.terminate()
                await asyncio.to_thread(bot.wait)
            answered = sorted(w for w in waits if w is not None)
            flooder = api.sent_to(FLOODER)
            print(f"flood                     {args.flood} texts from one resident")
            print(f"other residents           {args.others}, one report text each")
            print("stand-in limits           30 messages/s overall, 1/s per chat (429 beyond)")
            if answered:
                p50 = statistics.median(answered)
                print(f"others' first answer      p50 {p50:.2f} s, max {answered[-1]:.2f} s")
            print(
                f"others with no answer     {len(waits) - len(answered)} (within {PATIENCE:.0f} s)"
            )
            print(f"429 answers met           {api.flood_count}")
            print(f"flooder's answers         {flooder_then} while the others were answered"
                  f" ({others_done:.1f} s), {len(flooder)} in all")  # fmt: skip
            kinds: dict[str, int] = {}
            for message in flooder:
                kind = "draft card" if message.buttons else (message.text or "")[:24]
                kinds[kind] = kinds.get(kind, 0) + 1
            for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
                print(f"    {count:4d} × {kind}")


if __name__ == "__main__":
    asyncio.run(main())
