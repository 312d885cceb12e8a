"""Timed jobs' runs, one per job and period: the guard that makes a job idempotent."""

from __future__ import annotations

from storage.db import Connection, execute_count


async def claim(conn: Connection, job: str, period: str, now: float) -> bool:
    """Take a job's run for a period; False if it was taken already (by any process).

    Call it in the transaction of the job's effect: on PostgreSQL a second claim
    waits for the first's transaction, and finds the period taken if it committed.
    """
    return (
        await execute_count(
            conn,
            "INSERT INTO job_runs (job, period, ran_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
            (job, period, now),
        )
        == 1
    )
