"""Two processes filing at once on one PostgreSQL database each get a ticket of their own.

A ticket's number is the day's count of reports plus one: two filings counting at the
same moment in two processes must not both take the same number (the second would be
refused by the unique ticket and the resident told that something went wrong).

Run when DATABASE_URL names a server (`make test-pg`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests import pg
from tests.conftest import started_world
from tests.test_outbox_claims import second_process
from tests.world import RESIDENT

pytestmark = pytest.mark.skipif(pg.ADMIN_URL is None, reason="DATABASE_URL is not set")


async def test_reports_filed_at_once_by_two_processes_each_get_a_ticket_of_their_own(
    tmp_path: Path, classifier: object
) -> None:
    limits = {"max_per_hour": 100}
    async with (
        started_world(tmp_path, classifier, reports=limits) as world,
        second_process(world) as other,
    ):
        processes = [world.runtime.reports, other.reports]
        resident = await processes[0].residents.resolve("telegram", RESIDENT)
        drafts = []
        for n in range(20):
            text = f"小区东门垃圾桶满了好几天没人清运（第{n}处）"
            drafts.append(await processes[0].drafting.start_draft(resident, text))
        filed = await asyncio.gather(
            *(
                processes[n % 2].filing.confirm(resident, draft.id, separate=True)
                for n, draft in enumerate(drafts)
            )
        )
        tickets = [submission.report.ticket for submission in filed]
        assert len(set(tickets)) == len(drafts)
