"""The daily push to many subscribers through a stand-in that enforces Telegram's rate.

    python bench/push.py [--subscribers 10000]

The bot runs as a separate process. The stand-in answers 429 (retry_after 1)
above 30 messages a second. Halfway through, the bot is killed with SIGKILL
and started again; at the end every subscriber's chat is counted: nobody may
have the push twice, nobody may be missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo import standin_config  # noqa: E402
from dialogue import texts  # noqa: E402
from settings import load_settings  # noqa: E402
from simulator import BotApiStandIn  # noqa: E402
from storage.db import Database  # noqa: E402

ADMIN = 9001
FIRST = 100_000
GROUP_CHATS = {key: -100_000 - i for i, key in enumerate(load_settings().group_keys)}


def start(config: Path, token: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": token}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    n = args.subscribers
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiStandIn() as api:
            api.add_user(ADMIN, "区创建办")
            for key, chat_id in GROUP_CHATS.items():
                api.add_group(chat_id, key)
            for user in range(FIRST, FIRST + n):
                api.add_user(user, f"居民{user}")
            api.rate_limit(30)
            db_path = Path(tmp) / "push.db"
            db = await Database(db_path).open()
            await db.close()
            conn = sqlite3.connect(db_path)
            conn.executemany(
                "INSERT INTO quiz_subscribers (resident_id, chat_id, active, changed_at)"
                " VALUES (?, ?, 1, 0)",
                [(u, u) for u in range(FIRST, FIRST + n)],
            )
            conn.commit()
            conn.close()
            raw = standin_config(ROOT / "config.toml", api, db_path, GROUP_CHATS)
            raw["admins"] = [ADMIN]
            config = Path(tmp) / "config.toml"
            config.write_bytes(tomli_w.dumps(raw).encode())
            rate = float(raw["quizzes"].get("push_rate", 25))

            def delivered() -> list[int]:
                return [m.chat_id for m in api.sent if m.text == texts.PUSH_TEXT]

            bot = start(config, api.token)
            api.send_text(ADMIN, "/push_quiz")
            await api.wait_for(lambda: delivered(), timeout=60)
            began = time.perf_counter()
            await api.wait_for(lambda: len(delivered()) >= n // 2, timeout=n)
            first_half = len(delivered())
            achieved = first_half / (time.perf_counter() - began)
            bot.send_signal(signal.SIGKILL)
            await asyncio.to_thread(bot.wait)
            bot = start(config, api.token)
            try:
                await api.wait_for(lambda: len(set(delivered())) >= n, timeout=n)
                await asyncio.sleep(3)  # anything still to come would be a duplicate
            finally:
                bot.terminate()
                await asyncio.to_thread(bot.wait)
            chats = delivered()
            duplicates = len(chats) - len(set(chats))
            missed = n - len(set(chats))
            print(f"subscribers              {n:,}")
            print(f"push_rate                {rate:.0f} messages/s (stand-in allows 30/s)")
            print(f"achieved rate            {achieved:.1f} messages/s "
                  f"({achieved / rate:.0%} of push_rate, target ≥ 90%)")  # fmt: skip
            print(f"429 answers met          {api.flood_count}")
            print(f"killed after             {first_half:,} deliveries, then restarted")
            print(f"duplicates               {duplicates}")
            print(f"missed                   {missed}")


if __name__ == "__main__":
    asyncio.run(main())
