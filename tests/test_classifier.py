"""Classification: accuracy on held-out messages and the behaviours residents rely on."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from reports.classifier import Classifier
from reports.keywords import KeywordTable

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def labelled(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip():
            category, text = line.split("\t", 1)
            rows.append((category, text))
    return rows


def accuracy(classifier: Classifier, rows: list[tuple[str, str]]) -> float:
    hits = sum(classifier.classify(text).category == category for category, text in rows)
    return hits / len(rows)


def test_held_out_accuracy_is_at_least_90_percent(classifier: Classifier) -> None:
    rows = labelled("labelled_test.tsv")
    assert len(rows) >= 300
    # Only the kinds of confusion are shown: reading the held-out texts would be tuning on them.
    confusions: dict[tuple[str, str], int] = {}
    for category, text in rows:
        got = classifier.classify(text).category
        if got != category:
            confusions[(category, got)] = confusions.get((category, got), 0) + 1
    assert accuracy(classifier, rows) >= 0.90, sorted(confusions.items(), key=lambda kv: -kv[1])


def test_the_labelled_set_covers_every_category_with_enough_messages(
    classifier: Classifier,
) -> None:
    rows = labelled("labelled_dev.tsv") + labelled("labelled_test.tsv")
    assert len(rows) >= 600
    counts: dict[str, int] = {}
    for category, _ in rows:
        counts[category] = counts.get(category, 0) + 1
    assert set(counts) == {
        "litter", "traffic", "smoking", "street_vending", "illegal_construction",
        "ads_graffiti", "road_facilities", "public_manners", "public_security",
        "public_services", "rural", "publicity", "staff_conduct", "other",
    }  # fmt: skip
    assert min(counts.values()) >= 40


@pytest.mark.parametrize(
    "text", ["餐厅里有人抽烟", "办公室有人吸烟", "电梯里一股烟味", "网吧里大家吞云吐雾"]
)
def test_smoking_is_recognised_in_its_many_wordings(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).category == "smoking"


def test_a_negated_behaviour_is_no_report(classifier: Classifier) -> None:
    assert classifier.classify("我们小区现在没人乱扔垃圾了").category == "other"


def test_a_broken_thing_is_not_negated_by_its_own_description(classifier: Classifier) -> None:
    assert classifier.classify("路口的路灯不亮了，晚上黑乎乎的").category == "road_facilities"


def test_traditional_characters_are_understood(classifier: Classifier) -> None:
    assert classifier.classify("商場裡有人抽菸").category == "smoking"
    assert classifier.classify("有人闖紅燈").category == "traffic"


def test_emoji_and_full_width_letters_do_not_get_in_the_way(classifier: Classifier) -> None:
    assert classifier.classify("🚬🚬 ＫＴＶ包厢里全是烟味 😡").category == "smoking"


def test_a_common_typo_still_routes(classifier: Classifier) -> None:
    assert classifier.classify("楼下拉圾堆了好几天没人清").category == "litter"


def test_a_result_names_its_keywords_and_a_confidence(classifier: Classifier) -> None:
    result = classifier.classify("路口有人闯红灯")
    assert result.category == "traffic"
    assert 0.0 < result.confidence <= 1.0
    assert result.keywords


def test_small_talk_is_not_placed_in_a_report_category(classifier: Classifier) -> None:
    assert classifier.classify("今天天气不错，出去走走").category == "other"


def test_classify_command_writes_one_json_object_per_line() -> None:
    lines = "有人闯红灯\n楼道里有人抽烟\n\n"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "classify"],
        input=lines,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["category"] for r in records] == ["traffic", "smoking", "other"]
    assert records[0]["group"] == "order"
    assert set(records[0]) == {"text", "intent", "category", "group", "confidence", "keywords"}
    assert records[1]["text"] == "楼道里有人抽烟"


def test_segmentation_is_jieba_itself_through_its_public_api(classifier: Classifier) -> None:
    import jieba

    assert type(classifier._tokenizer) is jieba.Tokenizer
    assert classifier._tokenizer is not jieba.dt  # a private tokenizer, not the global one


def test_every_labelled_message_is_cut_as_jiebas_own_cut_does(classifier: Classifier) -> None:
    from reports.normalize import normalize

    rows = labelled("labelled_dev.tsv") + labelled("labelled_test.tsv")
    tokenizer = classifier._tokenizer
    for _, text in rows:
        normalized = normalize(text)
        expected = [t for t in tokenizer.lcut(normalized, HMM=False) if not t.isspace()]
        assert classifier.tokens(text) == expected, text


def test_keywords_come_out_of_jieba_whole(classifier: Classifier) -> None:
    assert "闯红灯" in classifier.tokens("有人闯红灯")
    assert "乱停车" in classifier.tokens("门口天天有人乱停车")


def test_loading_jieba_keeps_its_cache_in_our_folder_and_its_chatter_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from reports.classifier import CategoryRules
    from reports.keywords import parse_keyword_file

    table = parse_keyword_file([("t", 1, "抽烟 2")])
    with caplog.at_level(logging.DEBUG):
        built = Classifier([CategoryRules("smoking", True, table)], cache_dir=tmp_path / "jieba")
    assert built.classify("有人抽烟").category == "smoking"
    assert [p.name for p in (tmp_path / "jieba").iterdir()] == ["jieba.cache"]
    assert [r for r in caplog.records if r.name.startswith("jieba")] == []


@pytest.fixture(scope="module")
def tiny() -> Classifier:
    """A classifier with a hand-made table, to check the mechanics one by one."""
    from reports.classifier import CategoryRules
    from reports.keywords import parse_keyword_file

    def table(*lines: str) -> KeywordTable:
        return parse_keyword_file(("t", n, line) for n, line in enumerate(lines, 1))

    return Classifier(
        [
            CategoryRules("smoking", True, table("抽烟 2", "烟味+电梯 2")),
            CategoryRules("road", False, table("路灯 2", "不亮 1")),
        ],
        negations=["没人", "不再"],
    )


def test_a_phrase_rule_needs_all_its_parts(tiny: Classifier) -> None:
    assert tiny.classify("电梯里一股烟味").category == "smoking"
    assert tiny.classify("电梯里一股烟味").keywords == ("烟味+电梯",)
    assert tiny.classify("电梯坏了").category == "other"


def test_a_negation_cancels_a_behaviour_but_not_a_broken_thing(tiny: Classifier) -> None:
    assert tiny.classify("现在没人抽烟了").category == "other"
    assert tiny.classify("路灯不再亮了").category == "road"


def test_a_negation_in_another_clause_cancels_nothing(tiny: Classifier) -> None:
    assert tiny.classify("没人管，还有人抽烟").category == "smoking"


def test_confidence_is_the_winners_share_of_the_evidence(tiny: Classifier) -> None:
    result = tiny.classify("有人抽烟，路灯也不亮")
    assert result.category == "road"
    assert result.confidence == round(3 / (3 + 2 + 1), 3)
