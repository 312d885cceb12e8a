"""Report flows per second for 1, 2 and 3 processes on PostgreSQL beside one on SQLite.

    DATABASE_URL=postgresql://… python bench/processes.py [--flows N] [--residents N]

Each setup starts its bots as `bot.py run` subprocesses against a Bot API stand-in in
this process (which also plays the residents and the load balancer), as the failover
test does (`simulator/cluster.py`): on PostgreSQL by webhook behind the balancer, each
process with its own port, all on one fresh database; on SQLite one process, polling
and by webhook. A report flow is bench/e2e.py's: a text, the draft card, 确认, the
report stored and its alert in the group chat. Without DATABASE_URL only SQLite runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator import BotApiStandIn  # noqa: E402
from simulator.cluster import (  # noqa: E402
    FIRST_RESIDENT,
    Residents,
    cpu_seconds,
    running_cluster,
    scratch_database,
)


async def measure(
    processes: int, storage_url: str | None, webhook: bool, flows: int, residents: int
) -> tuple[float, str]:
    """Flows per second, from the first text to the last alert; and where the CPU went."""
    users = range(FIRST_RESIDENT, FIRST_RESIDENT + residents)
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiStandIn() as api:
            for user in users:
                api.add_user(user, f"居民{user}")
            async with running_cluster(api, Path(tmp), processes, storage_url, webhook) as c:
                crowd = Residents(api)
                try:
                    # Warm-up: a flow through each process (round-robin) before the clock.
                    await asyncio.gather(*(crowd.resident(u, 1, False) for u in users[:3]))
                    per_user = flows // residents
                    began, cpu = time.perf_counter(), time.process_time()
                    bots_cpu = [cpu_seconds(b.pid) for b in c.bots]
                    await asyncio.gather(
                        *(crowd.resident(u, per_user, False, first=1) for u in users)
                    )
                    filed = [f.marker for f in crowd.flows if f.filed]
                    await crowd.alerted(filed, 120)
                    elapsed = time.perf_counter() - began
                    bots = [
                        (cpu_seconds(b.pid) - was) / elapsed
                        for b, was in zip(c.bots, bots_cpu, strict=True)
                    ]
                    stand_in = (time.process_time() - cpu) / elapsed
                finally:
                    crowd.close()
                lost = [f for f in crowd.flows if not f.filed]
                if lost:
                    print(f"  {len(lost)} flows not filed, e.g. {lost[0].problem}")
    cpu = f"stand-in {stand_in:.0%}, bots " + " ".join(f"{b:.0%}" for b in bots)
    return per_user * residents / elapsed, cpu


PG_COUNTS = [int(n) for n in os.environ.get("PG_COUNTS", "1,2,3").split(",")]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL")
    setups: list[tuple[str, int, bool, bool]] = [
        ("SQLite, polling", 1, False, False),
        ("SQLite, webhook", 1, False, True),
    ]
    if admin:
        setups += [(f"PostgreSQL, webhook ×{n}", n, True, True) for n in (1, 2, 3)]
    else:
        print("DATABASE_URL is not set: SQLite only")
    # This machine's speed drifts from minute to minute: each round measures every
    # setup in turn, and each setup's median round is its figure.
    rates: dict[str, list[float]] = {name: [] for name, *_ in setups}
    for n in range(args.rounds):
        for name, count, on_pg, webhook in setups:
            if on_pg:
                assert admin is not None
                async with scratch_database(admin) as url:
                    rate, cpu = await measure(count, url, webhook, args.flows, args.residents)
            else:
                rate, cpu = await measure(count, None, webhook, args.flows, args.residents)
            print(f"round {n + 1}  {name:<24} {rate:6.1f} flows/s   CPU: {cpu}", flush=True)
            rates[name].append(rate)
    print(
        f"\n{args.flows} flows, {args.residents} residents in parallel, {os.cpu_count()} cores,"
        f" median of {args.rounds} rounds"
    )
    print(f"{'setup':<24} {'flows/s':>8}   rounds")
    for name, got in rates.items():
        rounds = " ".join(f"{r:.1f}" for r in got)
        print(f"{name:<24} {sorted(got)[len(got) // 2]:8.1f}   {rounds}")


if __name__ == "__main__":
    asyncio.run(main())
