"""A case's alert as a WeCom template card: the buttons the state allows, WeCom's limits kept,
and a card without buttons once nothing is left to do (pure, no network)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogue.choices import flat
from dialogue.render import Renderer
from handlers.wecom.cards import CardView, alert_card, task_id, valid_task_id
from reports.records import Event, Report
from simulator.wecom import validate_card
from tests.world import settings_for_tests

NOW = 1_767_225_600.0
LINK = "https://example.invalid/case"


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    return Renderer(settings_for_tests(tmp_path_factory.mktemp("cards") / "civic.db"))


def case(**changes: object) -> Report:
    report = Report(
        id=7,
        ticket="261201-007",
        resident_id=1,
        text="小区门口垃圾成堆没人清理",
        category="litter",
        group_key="urban",
        confidence=0.9,
        photos=(),
        latitude=None,
        longitude=None,
        address=None,
        status="submitted",
        note=None,
        created_at=NOW,
        updated_at=NOW,
        assigned_at=NOW,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def step(action: str, note: str | None = None, at: float = NOW + 600) -> Event:
    return Event(1, 7, action, "accepted", 2001, "张工", note, at, "urban")


def card_of(render: Renderer, report: Report, history: list[Event] | None = None) -> dict:
    history = history or []
    _, choices = render.alert(report, history)
    return alert_card(render, CardView(report, history, choices), "r7-1-0-x", LINK)


def rows(card: dict) -> dict[str, str]:
    return {row["keyname"]: row["value"] for row in card["horizontal_content_list"]}


def test_a_new_case_is_a_button_card_with_the_five_choices(render: Renderer) -> None:
    report = case()
    card = card_of(render, report)
    assert validate_card(card) == "button_interaction"
    labels = [b["text"] for b in card["button_list"]]
    assert [label.split()[-1] for label in labels] == ["受理", "办结", "转派", "退回", "重复"]
    _, choices = render.alert(report, [])
    assert [b["key"] for b in card["button_list"]] == [c.data for c in flat(choices)]
    assert card["main_title"]["title"] == f"工单 261201-007｜{render.category('litter')}"
    assert card["sub_title_text"] == report.text
    assert rows(card)["状态"] == "待受理"


def test_an_accepted_case_offers_what_is_left_and_names_who_accepted(render: Renderer) -> None:
    card = card_of(render, case(status="accepted"), [step("accept")])
    assert [b["text"].split()[-1] for b in card["button_list"]] == ["办结", "转派", "退回", "重复"]
    assert rows(card)["状态"] == "已受理"
    assert rows(card)["办理"].startswith("受理 张工")


def test_a_closed_case_is_a_notice_without_buttons(render: Renderer) -> None:
    card = card_of(render, case(status="closed"), [step("resolve", "已清理")])
    assert validate_card(card) == "text_notice"
    assert "button_list" not in card
    assert rows(card)["状态"] == "已结案"
    assert "无需再操作" in card["main_title"]["desc"]
    assert card["card_action"] == {"type": 1, "url": LINK}


def test_the_location_is_a_map_link_row_and_the_card_leads_to_the_map(render: Renderer) -> None:
    report = case(latitude=31.2304, longitude=121.4737, address="人民路 1 号", status="resolved")
    card = card_of(render, report)
    [link] = [r for r in card["horizontal_content_list"] if r.get("type") == 1]
    url = render.map_url(31.2304, 121.4737)
    assert link["url"] == url
    assert card["card_action"]["url"] == url
    assert rows(card)["地址"] == "人民路 1 号"


def test_long_texts_are_cut_to_wecoms_lengths_and_rows_to_six(render: Renderer) -> None:
    report = case(
        text="垃圾" * 200,
        address="很长的地址" * 20,
        latitude=31.0,
        longitude=121.0,
        photos=("a", "b"),
        rating="satisfied",
        status="resolved",
    )
    history = [step("follow"), step("follow"), step("resolve", "已清理完毕" * 30)]
    card = card_of(render, report, history)
    validate_card(card)
    assert len(card["sub_title_text"]) == 160 and card["sub_title_text"].endswith("…")
    assert len(card["horizontal_content_list"]) == 6
    for row in card["horizontal_content_list"]:
        assert len(row["keyname"]) <= 5 and len(row["value"]) <= 26
    assert len(card["main_title"]["title"]) <= 36 and len(card["main_title"]["desc"]) <= 44


def test_a_handed_over_card_says_where_the_case_went_without_buttons(render: Renderer) -> None:
    report = case(group_key="order")
    card = alert_card(render, CardView(report, [], None, "已转派至社会秩序组"), "r7-2-0-x", LINK)
    assert validate_card(card) == "text_notice"
    assert card["main_title"]["desc"] == "已转派至社会秩序组"


def test_task_ids_are_valid_for_wecom_and_differ_per_item_and_attempt() -> None:
    ids = {task_id(7, item, attempt, NOW) for item in (1, 2) for attempt in (0, 1)}
    assert len(ids) == 4
    assert all(valid_task_id(i) for i in ids)
    assert valid_task_id(task_id(2**40, 2**40, 99, NOW * 10))
    assert not valid_task_id("r7 1") and not valid_task_id("x" * 129)
