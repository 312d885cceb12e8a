"""The office's knowledge base (faq/*.toml): loading with named errors, and matching."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bench.faq import FRESH, measure, read_held_out
from reports.faq import FaqError, KnowledgeBase, load_faq_dir
from settings import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parent.parent
GOOD = """
[[entry]]
id = "hours"
questions = ["你们几点上班"]
answer = "工作日 9:00 上班"
"""


def faq_folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(FaqError) as caught:
        load_faq_dir(folder)
    return caught.value.problems


@pytest.fixture(scope="module")
def kb(classifier: Any) -> KnowledgeBase:
    settings = load_settings(ROOT / "config.toml")
    return KnowledgeBase(settings.faq.entries, classifier.tokens, settings.faq.min_score)


# --- loading


def test_the_committed_folder_loads_with_the_office_details_filled_in() -> None:
    entries = {e.id: e for e in load_settings(ROOT / "config.toml").faq.entries}
    assert 25 <= len(entries) <= 40
    assert "0XXX-12345678" in entries["office_hours"].answer
    assert "{" not in "".join(e.answer for e in entries.values())


def test_a_file_that_is_not_toml_is_named_with_its_line(tmp_path: Path) -> None:
    folder = faq_folder(tmp_path, good=GOOD, broken='[[entry]]\nid = "x"\nanswer = "unclosed\n')
    (problem,) = problems(folder)
    assert problem.startswith("broken.toml line 3: not valid TOML")


def test_an_entry_without_questions_is_named(tmp_path: Path) -> None:
    folder = faq_folder(tmp_path, topic='[[entry]]\nid = "hours"\nanswer = "九点"\n')
    assert problems(folder) == [
        "topic.toml: entry hours: questions missing; give a list of the ways residents ask it"
    ]


def test_an_entry_without_an_answer_is_named(tmp_path: Path) -> None:
    folder = faq_folder(tmp_path, topic='[[entry]]\nid = "hours"\nquestions = ["几点上班"]\n')
    assert problems(folder) == [
        "topic.toml: entry hours: answer missing; write what the bot should reply"
    ]


def test_an_answer_naming_a_value_nobody_set_is_named(tmp_path: Path) -> None:
    text = GOOD.replace("工作日 9:00 上班", "电话 {office_fone}")
    (problem,) = problems(faq_folder(tmp_path, topic=text))
    assert problem.startswith("topic.toml: entry hours: answer names {office_fone}")


def test_an_id_used_twice_is_named(tmp_path: Path) -> None:
    (problem,) = problems(faq_folder(tmp_path, a=GOOD, b=GOOD))
    assert problem == "b.toml: entry hours: the id is used in a.toml too; ids must be unique"


def test_check_config_names_the_broken_faq_file(tmp_path: Path) -> None:
    folder = faq_folder(tmp_path, topic='[[entry]]\nid = "hours"\nanswer = "九点"\n')
    raw = tomllib.loads((ROOT / "config.toml").read_text("utf-8"))
    raw["faq"]["dir"] = str(folder)
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, base_dir=ROOT, environ={})
    assert caught.value.problems == [
        f"faq.dir: {folder}/topic.toml: entry hours: questions missing;"
        " give a list of the ways residents ask it"
    ]


# --- matching


def test_asking_when_the_office_opens_gets_the_hours(kb: KnowledgeBase) -> None:
    match = kb.answer("几点上班")
    assert match is not None and match.entry_id == "office_hours"


def test_unpaid_wages_are_sent_to_12333(kb: KnowledgeBase) -> None:
    match = kb.answer("老板拖欠工资三个月了去哪投诉")
    assert match is not None and match.entry_id == "wage_arrears"
    assert "12333" in match.answer


def test_an_unrelated_question_gets_no_answer(kb: KnowledgeBase) -> None:
    assert kb.answer("明天会下雨吗") is None


def test_a_parks_opening_hours_are_not_the_offices(kb: KnowledgeBase) -> None:
    assert kb.answer("公园几点关门") is None


def test_a_keyword_the_office_names_is_enough_on_its_own(tmp_path: Path, classifier: Any) -> None:
    prize = 'id = "prize"\nquestions = ["有奖品吗"]\nanswer = "有"\nkeywords = ["纪念品"]\n'
    text = f"{GOOD}\n[[entry]]\n{prize}"
    kb = KnowledgeBase(load_faq_dir(faq_folder(tmp_path, topic=text)), classifier.tokens)
    match = kb.answer("纪念品")
    assert match is not None and match.entry_id == "prize"


def test_an_entry_with_required_words_waits_for_one(tmp_path: Path, classifier: Any) -> None:
    text = GOOD.replace("answer", 'required = ["创建办"]\nanswer')
    kb = KnowledgeBase(load_faq_dir(faq_folder(tmp_path, topic=text)), classifier.tokens)
    assert kb.answer("你们几点上班") is None
    assert kb.answer("创建办几点上班") is not None


def test_the_held_out_questions_are_answered_as_measured(kb: KnowledgeBase) -> None:
    # bench/faq.py prints these figures; the guard is a little under what it measured
    # (91.5% right, 3.4% wrong, every `none` question left unanswered).
    figures = measure(kb, read_held_out())
    assert figures.answerable >= 60
    assert figures.accuracy >= 0.90
    assert figures.wrong_rate <= 0.05
    assert figures.none_kept >= 0.90


def test_questions_written_without_seeing_the_base_are_answered_as_measured(
    kb: KnowledgeBase,
) -> None:
    # tests/data/faq_fresh.tsv was written by someone who never saw the base's wording
    # and was not tuned on: bench/faq.py measured 83.8% right, 8.3% wrong, 93.8% of
    # `none` questions left unanswered.
    figures = measure(kb, read_held_out(FRESH))
    assert figures.answerable >= 80
    assert figures.accuracy >= 0.82
    assert figures.wrong_rate <= 0.09
    assert figures.none_kept >= 0.90
