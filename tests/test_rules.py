"""Pure rules: case states, tickets, callback data, backoff."""

from __future__ import annotations

from datetime import datetime

import pytest

from dialogue import callbacks
from reports.deadlines import HOUR, Limits, notices
from reports.delivery import backoff_seconds
from reports.states import Action, Status, TransitionRefused, allowed_actions, next_status
from reports.tickets import make_ticket, parse_ticket


def test_a_submitted_case_can_be_accepted_or_resolved() -> None:
    assert next_status(Status.SUBMITTED, Action.ACCEPT) == Status.ACCEPTED
    assert next_status(Status.SUBMITTED, Action.RESOLVE) == Status.RESOLVED
    assert allowed_actions(Status.SUBMITTED) == [
        Action.ACCEPT,
        Action.RESOLVE,
        Action.REASSIGN,
        Action.REJECT,
        Action.MERGE,
    ]


def test_an_accepted_case_can_be_resolved_reassigned_or_rejected_but_not_accepted() -> None:
    assert allowed_actions(Status.ACCEPTED) == [
        Action.RESOLVE,
        Action.REASSIGN,
        Action.REJECT,
        Action.MERGE,
    ]


def test_a_reassigned_case_starts_again_at_its_new_group() -> None:
    assert next_status(Status.ACCEPTED, Action.REASSIGN) == Status.SUBMITTED


@pytest.mark.parametrize("status", [Status.REJECTED, Status.CLOSED])
def test_a_rejected_or_closed_case_takes_no_action(status: Status) -> None:
    assert allowed_actions(status) == []


def test_a_resolved_case_cannot_be_resolved_again() -> None:
    with pytest.raises(TransitionRefused):
        next_status(Status.RESOLVED, Action.RESOLVE)
    assert allowed_actions(Status.RESOLVED) == []


def test_an_accepted_case_cannot_be_accepted_twice() -> None:
    with pytest.raises(TransitionRefused):
        next_status(Status.ACCEPTED, Action.ACCEPT)


def test_tickets_carry_the_local_date_and_sequence() -> None:
    assert make_ticket(datetime(2026, 11, 28, 9, 0), 7) == "261128-007"
    assert make_ticket(datetime(2026, 11, 28, 9, 0), 1234) == "261128-1234"


@pytest.mark.parametrize(
    "typed", ["261128-007", "261128007", " 261128 007", "２６１１２８－００７"]
)
def test_tickets_are_recognised_however_they_are_typed(typed: str) -> None:
    assert parse_ticket(typed) == "261128-007"


@pytest.mark.parametrize("typed", ["", "abc", "2611-28", "261128-1"])
def test_other_text_is_no_ticket(typed: str) -> None:
    assert parse_ticket(typed) is None


def test_callback_data_round_trips_and_fits_telegram() -> None:
    data = callbacks.draft_button("set", 123456789012, "illegal_construction")
    assert len(data.encode()) <= 64
    button = callbacks.parse(data)
    assert button == callbacks.Button("d", "set", 123456789012, "illegal_construction")
    assert callbacks.parse(callbacks.report_button("acc", 5)) == callbacks.Button("r", "acc", 5)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "v0:d:ok:1",
        "v1:d:ok:",
        "v1:d:ok:1:extra",
        "v1:d:set:1",
        "v1:r:del:1",
        "v1:r:acc:-1",
        "v1:x:ok:1",
        "v1:d:ok:1234567890123",
        "DROP TABLE reports",
    ],
)
def test_forged_or_stale_callback_data_is_rejected(data: str | None) -> None:
    assert callbacks.parse(data) is None


def test_backoff_grows_and_is_capped() -> None:
    assert 1.6 <= backoff_seconds(0, 2, 300) <= 2
    assert 6.4 <= backoff_seconds(2, 2, 300) <= 8
    assert backoff_seconds(50, 2, 300) <= 300


LIMITS = Limits(accept_hours=1, resolve_hours=4, escalate_after_hours=2)


def test_a_case_on_time_earns_no_notice() -> None:
    assert notices("submitted", 0, LIMITS, now=HOUR * 0.5) == []


def test_a_case_not_accepted_in_time_earns_a_reminder_then_an_escalation() -> None:
    assert [n.level for n in notices("submitted", 0, LIMITS, now=HOUR * 2)] == ["remind"]
    late = notices("submitted", 0, LIMITS, now=HOUR * 3.5)
    assert [(n.kind, n.level) for n in late] == [("accept", "remind"), ("accept", "escalate")]
    assert late[0].late == HOUR * 2.5


def test_an_accepted_case_is_only_held_to_its_resolve_deadline() -> None:
    assert notices("accepted", 0, LIMITS, now=HOUR * 3) == []
    assert [n.kind for n in notices("accepted", 0, LIMITS, now=HOUR * 5)] == ["resolve"]


@pytest.mark.parametrize("status", ["resolved", "rejected", "closed"])
def test_a_finished_case_is_never_late(status: str) -> None:
    assert notices(status, 0, LIMITS, now=HOUR * 100) == []
