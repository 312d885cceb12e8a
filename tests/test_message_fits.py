"""Whatever a case has been through, its alert, its edits, /status and a digest fit in one
Telegram message (4,096 characters), keeping what matters most."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogue.render import Renderer
from reports.records import Event, Report
from simulator.formatting import utf16_len
from tests.world import settings_for_tests

LIMIT = 4096
MAX_TEXT = 3500  # the largest max_text_chars the config accepts
MAX_NOTE = 1000  # the largest max_note_chars


@pytest.fixture
def render(tmp_path: Path) -> Renderer:
    settings = settings_for_tests(
        tmp_path / "x.db", reports={"max_text_chars": MAX_TEXT, "max_note_chars": MAX_NOTE}
    )
    return Renderer(settings)


def worst_report(text: str) -> Report:
    return Report(
        id=1,
        ticket="261128-001",
        resident_id=1,
        text=text,
        category="litter",
        group_key="urban",
        confidence=1.0,
        photos=("a",) * 10,
        latitude=31.2,
        longitude=121.4,
        address="路" * 200,
        status="reopened",
        note=None,
        created_at=0.0,
        updated_at=1.0,
        assigned_at=0.0,
    )


def back_and_forth(steps: int) -> list[Event]:
    """A case moved between two groups `steps` times, each with the longest note, then
    reopened by its resident with the longest comment."""
    events = []
    for i in range(steps):
        note = f"第{i + 1}次：" + ("说明😀\n" * MAX_NOTE)[: MAX_NOTE - 6]
        events.append(
            Event(i, 1, "reassign", "submitted", 7, "张工" * 32, note, 60.0 * i, "urban", "order")
        )
    events.append(Event(steps, 1, "reopen", "reopened", None, None, "😀\n" * 500, 1e6, "urban"))
    return events


# Every line a newline, every character outside the BMP: the most a text can take.
WORST_TEXTS = ["😀" * MAX_TEXT, "a\n" * (MAX_TEXT // 2), "垃圾" * (MAX_TEXT // 2)]


@pytest.mark.parametrize("text", WORST_TEXTS, ids=["emoji", "newlines", "plain"])
def test_an_alert_and_its_edits_fit_whatever_the_case_went_through(
    render: Renderer, text: str
) -> None:
    report, history = worst_report(text), back_and_forth(40)
    alert, _ = render.alert(report, history)
    for message in (
        alert,
        render.handed_over(report, history, "order"),
        render.reopened_away(report, history),
    ):
        assert utf16_len(message) <= LIMIT
        assert "更早" in message and "重新办理" in message  # the newest step is kept


def test_a_short_history_is_shown_whole(render: Renderer) -> None:
    history = [
        Event(1, 1, "reassign", "submitted", 7, "张工", "第1次：属交警", 60.0, "urban", "order"),
        Event(
            2, 1, "reassign", "submitted", 8, "赵警官", "第2次：\n属城管", 90.0, "order", "urban"
        ),
    ]
    alert, _ = render.alert(worst_report("垃圾没人清运"), history)
    assert "第1次" in alert and "\n　　属城管" in alert and "更早" not in alert


def test_status_detail_fits_and_keeps_the_newest_steps(render: Renderer) -> None:
    detail = render.report_detail(worst_report("😀" * MAX_TEXT), back_and_forth(40))
    assert utf16_len(detail) <= LIMIT and "第40次" in detail and "更早" in detail


def test_a_digest_of_hundreds_of_cases_lists_the_latest_first_and_counts_the_rest(
    render: Renderer,
) -> None:
    payload = {
        "group": "urban",
        "date": "11-28",
        "new": [f"261128-{i:03d}" for i in range(500)],
        "due": [[f"261127-{i:03d}", "accept", -60.0 * i] for i in range(300)],
        "overdue": [[f"261120-{i:03d}", "resolve", 3600.0 * i] for i in range(1000)],
    }
    digest = render.digest(payload)
    assert utf16_len(digest) <= LIMIT
    assert "新反映 500 件" in digest and "今日到期 300 件" in digest
    assert "已逾期 1000 件" in digest and "261120-999" in digest
    assert "261120-000" not in digest  # the least late of a thousand is left out, counted
    assert "261127-000" in digest  # what falls due soonest comes first


def test_a_small_digest_lists_everything(render: Renderer) -> None:
    payload = {
        "group": "urban",
        "date": "11-28",
        "new": ["261128-001"],
        "due": [],
        "overdue": [["261120-001", "resolve", 7200.0]],
    }
    digest = render.digest(payload)
    assert "261128-001" in digest and "261120-001（待办结，逾期2小时0分钟）" in digest
    assert "未列出" not in digest
