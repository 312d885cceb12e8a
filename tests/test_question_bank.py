"""Tests for the civility quiz question bank (quizzes/bank/*.toml and quizzes.bank)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from quizzes.bank import BankError, Question, QuestionBank, load_bank

BANK_DIR = Path(__file__).resolve().parent.parent / "quizzes" / "bank"

EXPECTED_TOPICS = {
    "values",  # 社会主义核心价值观
    "public",  # 公共场所文明
    "traffic",  # 文明交通
    "garbage",  # 垃圾分类
    "smoking",  # 控烟禁烟
    "volunteer",  # 志愿服务
    "thrift",  # 勤俭节约、光盘行动
    "family",  # 孝老爱亲、家庭美德
    "reading",  # 全民阅读
    "fitness",  # 全民健身
    "science",  # 科学普及
    "campaign",  # 文明城区创建
    "civility_code",  # 《北京市文明行为促进条例》
}


# --------------------------------------------------------------------------- real bank


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return load_bank(BANK_DIR)


def test_real_bank_is_valid_and_large_enough(bank: QuestionBank) -> None:
    assert len(bank.questions) >= 300
    assert set(bank.topics) == EXPECTED_TOPICS
    for key in EXPECTED_TOPICS:
        assert len(bank.by_topic(key)) >= 20, key


def test_real_bank_conventions(bank: QuestionBank) -> None:
    # one file per topic, named after it; ids are prefixed with the topic key
    assert {p.stem for p in BANK_DIR.glob("*.toml")} == set(bank.topics)
    for q in bank.questions:
        assert q.id.startswith(f"{q.topic}-"), q.id
    # multiple-answer questions stay rare (≤ 10 %)
    assert sum(q.multiple_answers for q in bank.questions) <= len(bank.questions) // 10
    # every difficulty level is used
    assert {q.difficulty for q in bank.questions} == {1, 2, 3}


def test_api(bank: QuestionBank) -> None:
    q = bank.by_id("traffic-001")
    assert isinstance(q, Question)
    assert q.topic == "traffic"
    assert q in bank.by_topic("traffic")
    assert bank.topics["traffic"].name == "文明交通"
    assert q.options[q.correct[0]] == "按照交通信号灯指示通行"
    with pytest.raises(KeyError):
        bank.by_id("no-such-question")
    with pytest.raises(KeyError):
        bank.by_topic("no-such-topic")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.id = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- helpers

VALID: dict[str, Any] = {
    "id": "t-001",
    "difficulty": 1,
    "question": "下列做法正确的是？",
    "options": ["排队", "插队"],
    "correct": [0],
    "explanation": "自觉排队。",
    "source": "《中国公民国内旅游文明行为公约》",
}


def question(**overrides: Any) -> dict[str, Any]:
    """A valid question with some fields replaced; a value of ... removes the field."""
    q = {**VALID, **overrides}
    return {k: v for k, v in q.items() if v is not ...}


def write(
    directory: Path,
    *questions: dict[str, Any],
    name: str = "t.toml",
    topic: dict[str, Any] | None = None,
    with_topic: bool = True,
    raw: str | None = None,
) -> Path:
    """Write a bank file from dicts (or raw TOML text) and return its path."""
    path = directory / name
    if raw is None:
        lines = []
        if with_topic:
            topic = topic or {"key": "t", "name": "测试"}
            lines.append("[topic]")
            lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in topic.items()]
        for q in questions:
            lines.append("\n[[questions]]")
            lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in q.items()]
        raw = "\n".join(lines) + "\n"
    path.write_text(raw, encoding="utf-8")
    return path


def problems(directory: Path) -> list[str]:
    with pytest.raises(BankError) as info:
        load_bank(directory)
    assert str(info.value).count("\n") == len(info.value.problems)
    return info.value.problems


def assert_problem(directory: Path, path: Path, qid: str, field: str, fragment: str) -> None:
    """Loading fails with a problem naming the file, the question id and the field."""
    found = problems(directory)
    prefix = f'{path}: question "{qid}": {field}: '
    assert any(p.startswith(prefix) and fragment in p for p in found), found


# --------------------------------------------------------------------------- rules


def test_helper_writes_a_valid_bank(tmp_path: Path) -> None:
    write(tmp_path, question(), question(id="t-002"))
    loaded = load_bank(tmp_path)
    assert [q.id for q in loaded.questions] == ["t-001", "t-002"]
    assert loaded.questions[0] == Question(
        topic="t", **{**VALID, "options": ("排队", "插队"), "correct": (0,)}
    )


def test_example_message_format(tmp_path: Path) -> None:
    options = ["甲", "乙", "丙" * 112]
    path = write(tmp_path, question(id="traffic-007", options=options))
    assert problems(tmp_path) == [
        f'{path}: question "traffic-007": options[2]: longer than 100 characters (112)'
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        # ids
        ({"id": "Bad ID!"}, "id", "does not match"),
        ({"id": "x" * 41}, "id", "does not match"),
        # difficulty
        ({"difficulty": 4}, "difficulty", "must be 1..3, got 4"),
        ({"difficulty": 0}, "difficulty", "must be 1..3, got 0"),
        ({"difficulty": "easy"}, "difficulty", "expected an integer, got string"),
        ({"difficulty": True}, "difficulty", "expected an integer, got boolean"),
        ({"difficulty": 2.0}, "difficulty", "expected an integer, got float"),
        # question text
        ({"question": ""}, "question", "empty"),
        ({"question": "问" * 301}, "question", "longer than 300 characters (301)"),
        ({"question": " 前后有空格 "}, "question", "leading or trailing whitespace"),
        ({"question": "两行\n问题"}, "question", "line break"),
        ({"question": 42}, "question", "expected a string, got integer"),
        # options
        ({"options": ["唯一"], "correct": [0]}, "options", "must have 2..12 options, got 1"),
        ({"options": [f"选项{i}" for i in range(13)]}, "options", "got 13"),
        ({"options": ["甲", ""]}, "options[1]", "empty"),
        ({"options": ["甲", "😀" * 51]}, "options[1]", "longer than 100 characters (102)"),
        ({"options": ["甲", "乙", "甲"]}, "options[2]", "duplicate of options[0]"),
        ({"options": ["甲", 2]}, "options[1]", "expected a string, got integer"),
        ({"options": "甲、乙"}, "options", "expected an array of strings, got string"),
        # correct
        ({"correct": []}, "correct", "empty"),
        ({"correct": [2]}, "correct[0]", "index 2 out of range"),
        ({"correct": [-1]}, "correct[0]", "index -1 out of range"),
        ({"correct": ["0"]}, "correct[0]", "expected an integer, got string"),
        ({"correct": 0}, "correct", "expected an array of option indexes, got integer"),
        (
            {"question": "（多选）哪些对？", "options": ["甲", "乙", "丙"], "correct": [0, 0]},
            "correct[1]",
            "duplicate index 0",
        ),
        ({"question": "（多选）哪些对？", "correct": [0, 1]}, "correct", "every option"),
        ({"options": ["甲", "乙", "丙"], "correct": [0, 1]}, "correct", "lacks （多选）"),
        ({"question": "（多选）哪些对？"}, "correct", "only one option is correct"),
        # explanation
        ({"explanation": ""}, "explanation", "empty"),
        ({"explanation": "解" * 201}, "explanation", "longer than 200 characters (201)"),
        ({"explanation": "一\n二\n三\n四"}, "explanation", "more than 2 line feeds (3)"),
        ({"explanation": "制表\t符"}, "explanation", "control character"),
        # source
        ({"source": ""}, "source", "empty"),
        ({"source": "源" * 101}, "source", "longer than 100 characters (101)"),
        ({"source": ["法", "条"]}, "source", "expected a string, got array"),
        # unknown and missing keys
        ({"dificulty": 1}, "dificulty", "unknown key (did you mean 'difficulty'?)"),
        ({"hint": "x"}, "hint", "unknown key"),
        ({"source": ...}, "source", "missing"),
        ({"correct": ...}, "correct", "missing"),
        # optional per-question topic must be declared
        ({"topic": "nosuch"}, "topic", "'nosuch' is not a declared topic"),
        ({"topic": 7}, "topic", "expected a string, got integer"),
    ],
)
def test_rule(tmp_path: Path, overrides: dict[str, Any], field: str, fragment: str) -> None:
    path = write(tmp_path, question(**overrides))
    assert_problem(tmp_path, path, overrides.get("id", VALID["id"]), field, fragment)


def test_explanation_allows_two_line_feeds(tmp_path: Path) -> None:
    write(tmp_path, question(explanation="一\n二\n三"))
    assert load_bank(tmp_path).by_id("t-001").explanation == "一\n二\n三"


def test_multiple_correct_options_with_marker_are_valid(tmp_path: Path) -> None:
    write(
        tmp_path, question(question="（多选）哪些对？", options=["甲", "乙", "丙"], correct=[0, 2])
    )
    q = load_bank(tmp_path).by_id("t-001")
    assert q.correct == (0, 2)
    assert q.multiple_answers


def test_question_may_be_filed_under_another_declared_topic(tmp_path: Path) -> None:
    write(tmp_path, question(topic="u"))
    write(tmp_path, question(id="u-001"), name="u.toml", topic={"key": "u", "name": "另一个"})
    loaded = load_bank(tmp_path)
    assert {q.id for q in loaded.by_topic("u")} == {"t-001", "u-001"}
    assert loaded.by_topic("t") == ()


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, question(), name="a.toml")
    second = write(tmp_path, question(), name="b.toml", topic={"key": "b", "name": "乙"})
    assert_problem(tmp_path, second, "t-001", "id", f"already used in {first}")


def test_duplicate_topic_key_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, question(), name="a.toml")
    second = write(tmp_path, question(id="t-002"), name="b.toml")
    assert f"{second}: topic.key: 't' already declared in {first}" in problems(tmp_path)


def test_missing_topic_table(tmp_path: Path) -> None:
    path = write(tmp_path, question(), with_topic=False)
    assert any(p.startswith(f"{path}: topic: missing [topic] table") for p in problems(tmp_path))


def test_topic_table_fields(tmp_path: Path) -> None:
    path = write(tmp_path, question(), topic={"key": "Bad Key", "name": "", "colour": "red"})
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: topic.key: 'Bad Key' does not match") for p in found)
    assert f"{path}: topic.name: empty" in found
    assert any(p.startswith(f"{path}: topic.colour: unknown key") for p in found)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, raw='[topic]\nkey = "t"\nname = "测"\n[[question]]\nid = "t-001"\n')
    found = problems(tmp_path)
    assert any(
        p.startswith(f"{path}: question: unknown key (did you mean 'questions'?)") for p in found
    )
    assert f"{path}: questions: missing (no [[questions]] tables)" in found


def test_questions_must_be_tables(tmp_path: Path) -> None:
    path = write(tmp_path, raw='questions = [1]\n[topic]\nkey = "t"\nname = "测"\n')
    assert f"{path}: questions[0]: expected a table, got integer" in problems(tmp_path)


def test_question_without_id_is_named_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, question(), question(id=...))
    assert f"{path}: question #2: id: missing" in problems(tmp_path)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, raw='[topic]\nkey = "t"\nname = \n')
    [problem] = problems(tmp_path)
    assert problem.startswith(f"{path}: line 3, column ")
    assert "TOML syntax error" in problem


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_bytes(b'[topic]\nkey = "t"\nname = "\xff"\n')
    assert problems(tmp_path) == [f"{path}: line 3: not valid UTF-8"]


def test_all_problems_in_all_files_are_reported_at_once(tmp_path: Path) -> None:
    a = write(tmp_path, question(difficulty=9, source=""), name="a.toml")
    b = write(tmp_path, raw="not toml at all", name="b.toml")
    c = write(
        tmp_path,
        question(id="c-001", options=["甲"]),
        name="c.toml",
        topic={"key": "c", "name": "丙"},
    )
    found = problems(tmp_path)
    assert sum(p.startswith(f"{a}:") for p in found) == 2
    assert sum(p.startswith(f"{b}:") for p in found) == 1
    assert sum(p.startswith(f'{c}: question "c-001": options:') for p in found) == 1


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    assert problems(tmp_path) == [f"{tmp_path}: no *.toml files"]
    missing = tmp_path / "missing"
    assert problems(missing) == [f"{missing}: not a directory"]


def test_a_question_may_say_when_its_facts_were_checked_and_when_to_review_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dated.toml"
    path.write_text(
        '[topic]\nkey = "dated"\nname = "测试"\n\n[[questions]]\nid = "dated-001"\n'
        'difficulty = 1\nquestion = "问？"\noptions = ["甲", "乙"]\ncorrect = [0]\n'
        'explanation = "因为。"\nsource = "《某法》第一条"\nas_of = 2026-12-01\n'
        "review_by = 2027-12-01\n",
        "utf-8",
    )
    question = load_bank(tmp_path).by_id("dated-001")
    assert (question.as_of, question.review_by) == (date(2026, 12, 1), date(2027, 12, 1))


def test_a_date_written_as_a_string_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dated.toml"
    path.write_text(
        '[topic]\nkey = "dated"\nname = "测试"\n\n[[questions]]\nid = "dated-001"\n'
        'difficulty = 1\nquestion = "问？"\noptions = ["甲", "乙"]\ncorrect = [0]\n'
        'explanation = "因为。"\nsource = "《某法》第一条"\nas_of = "去年"\n',
        "utf-8",
    )
    with pytest.raises(BankError, match="as_of: expected a date"):
        load_bank(tmp_path)
