"""Intents: not every message is a report, and no report is lost to a wrong guess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reports.classifier import Classifier
from reports.intents import REPORT, IntentClassifier, build_intent_classifier
from reports.model import read_corpus, read_examples

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def intents(classifier: Classifier) -> IntentClassifier:
    return build_intent_classifier(classifier, read_examples(ROOT / "keywords" / "examples"))


def kind(intents: IntentClassifier, text: str) -> str:
    return intents.classify(text).kind


def reports_in(path: Path) -> list[str]:
    return [text for category, text in read_corpus(path) if category != "other"]


def test_a_question_about_office_hours_is_a_question(intents: IntentClassifier) -> None:
    assert kind(intents, "你们的工作时间是几点到几点") == "question"


def test_asking_where_to_complain_about_unpaid_wages_is_a_question(
    intents: IntentClassifier,
) -> None:
    assert kind(intents, "老板拖欠工资三个月了，去哪里投诉") == "question"


def test_a_good_deed_seen_on_the_bus_is_praise(intents: IntentClassifier) -> None:
    assert kind(intents, "今天在公交车上看到一个小伙子主动给老人让座，好暖心") == "praise"


@pytest.mark.parametrize(
    "text", ["请问社区食堂中午几点开门", "老年证在哪办啊？", "想问一下志愿者怎么报名"]
)
def test_questions_are_questions(intents: IntentClassifier, text: str) -> None:
    assert kind(intents, text) == "question"


@pytest.mark.parametrize(
    "text", ["谢谢你们，问题已经解决了", "給社區的李姐點個讚👍", "看到志愿者扶盲人过马路，好感动"]
)
def test_thanks_and_good_deeds_are_praise(intents: IntentClassifier, text: str) -> None:
    assert kind(intents, text) == "praise"


@pytest.mark.parametrize("text", ["哈喽", "早上好呀", "哈哈哈，晚安"])
def test_greetings_are_chitchat(intents: IntentClassifier, text: str) -> None:
    assert kind(intents, text) == "chitchat"


@pytest.mark.parametrize(
    "text",
    ["代开发票，联系13800001234", "兼职日结300，加V：job6688", "领取福利点击 www.gift-now.top"],
)
def test_adverts_are_spam(intents: IntentClassifier, text: str) -> None:
    assert kind(intents, text) == "spam"


@pytest.mark.parametrize(
    "text", ["楼道里有人抽烟", "路口的路灯坏了好几天了", "就不能有人管管吗？报了好多次了"]
)
def test_reports_are_reports(intents: IntentClassifier, text: str) -> None:
    assert kind(intents, text) == REPORT


def test_a_report_asked_as_a_question_is_a_report(intents: IntentClassifier) -> None:
    assert kind(intents, "小区门口的路灯啥时候修啊？黑了一个礼拜了") == REPORT


def test_a_report_ending_in_thanks_is_a_report(intents: IntentClassifier) -> None:
    assert kind(intents, "单元门口的垃圾堆了三天了，麻烦来清一下，谢谢") == REPORT


def test_a_report_naming_a_stallholders_phone_is_no_advert(intents: IntentClassifier) -> None:
    assert kind(intents, "人行道上卖水果的摊主电话13912349876，天天占道") == REPORT


def test_a_report_of_two_words_is_a_report(intents: IntentClassifier) -> None:
    assert kind(intents, "井盖丢了") == REPORT


def test_a_report_in_pinyin_is_not_taken_for_something_else(intents: IntentClassifier) -> None:
    # Words seen in few messages (pinyin, typos) no longer point away from a report.
    assert kind(intents, "gongce mei shui le") == REPORT


def test_a_good_deed_told_with_report_words_is_praise(intents: IntentClassifier) -> None:
    assert kind(intents, "看到一个小伙子把倒在盲道上的共享单车扶起来摆好了，点赞") == "praise"


def test_asking_how_to_sort_waste_is_a_question(intents: IntentClassifier) -> None:
    assert kind(intents, "旧衣服算啥垃圾，扔哪个桶") == "question"


def test_an_advert_for_a_repair_service_is_spam(intents: IntentClassifier) -> None:
    assert kind(intents, "专业疏通下水道 电话13012345678") == "spam"


@pytest.mark.parametrize(
    "text", ["今天好热啊 不想出门", "在不在 有人吗", "哎呀 手机没电了 先不说了"]
)
def test_small_talk_is_chitchat(intents: IntentClassifier, text: str) -> None:
    assert kind(intents, text) == "chitchat"


def test_thanks_before_a_problem_is_a_report(intents: IntentClassifier) -> None:
    assert kind(intents, "谢谢，但是楼道里的垃圾还没人收") == REPORT


def test_a_question_about_a_nuisance_is_flagged_unsure(intents: IntentClassifier) -> None:
    assert intents.classify("广场舞几点结束啊").unsure


def test_a_clear_case_is_not_flagged_unsure(intents: IntentClassifier) -> None:
    assert not intents.classify("有人闯红灯").unsure
    assert not intents.classify("代开发票，联系13800001234").unsure


def test_an_empty_message_is_chitchat(intents: IntentClassifier) -> None:
    assert kind(intents, "   ") == "chitchat"


# The goal is at most 1% everywhere; the examples lose 0.3% (they are learnt from).
@pytest.mark.parametrize(
    ("name", "most_lost"), [("keywords/examples", 0.005), ("tests/data/labelled_dev.tsv", 0.005)]
)
def test_labelled_reports_stay_reports(
    intents: IntentClassifier, name: str, most_lost: float
) -> None:
    path = ROOT / name
    rows = read_examples(path) if path.is_dir() else read_corpus(path)
    texts = [t for c, t in rows if c != "other"]
    lost = sum(intents.classify(t).kind != REPORT for t in texts)
    assert lost / len(texts) <= most_lost


def test_held_out_reports_are_never_lost_without_asking(intents: IntentClassifier) -> None:
    texts = reports_in(DATA / "labelled_test.tsv")
    results = [intents.classify(t) for t in texts]
    kept = sum(r.kind == REPORT for r in results) / len(texts)
    not_lost = sum(r.kind == REPORT or r.unsure for r in results) / len(texts)
    # Only the figures are shown: reading the held-out texts would be tuning on them.
    # The goal: at most 3 of the 305 reports taken for something else (none today).
    assert not_lost >= 0.99, (kept, not_lost)
    assert kept >= 0.99, (kept, not_lost)


def test_held_out_other_messages_are_mostly_kept_out(intents: IntentClassifier) -> None:
    rows = read_corpus(DATA / "intents_held_out.tsv")
    assert len(rows) >= 270
    assert {k for k, _ in rows} == {"question", "praise", "chitchat", "spam"}
    results = [intents.classify(t) for _, t in rows]
    # Kept out of a draft: all but a sure report (an unsure one is asked about first).
    kept = sum(not r.opens_draft for r in results) / len(rows)
    right = sum(r.kind == k for r, (k, _) in zip(results, rows, strict=True)) / len(rows)
    unsure = sum(r.unsure for r in results) / len(rows)
    # The goal is 90% kept out; bench/classify.py printed 92.6% (86.0% taken for
    # non-reports, the rest asked about first).
    assert kept >= 0.92, (kept, right, unsure)
    assert right >= 0.78, (kept, right, unsure)
    # Most of them are acted on without asking.
    assert unsure <= 0.25, (kept, right, unsure)


def test_held_out_other_messages_get_their_own_kind(intents: IntentClassifier) -> None:
    rows = read_corpus(DATA / "intents_held_out.tsv")
    results = [intents.classify(t) for _, t in rows]
    for kind, least in [("question", 0.7), ("praise", 0.7), ("chitchat", 0.9), ("spam", 0.85)]:
        pairs = [(r, k) for r, (k, _) in zip(results, rows, strict=True) if k == kind]
        right = sum(r.kind == k for r, k in pairs) / len(pairs)
        assert right >= least, (kind, right)


def test_classify_command_writes_the_intent_of_each_line() -> None:
    lines = "有人闯红灯\n你们的工作时间是几点到几点\n谢谢你们，辛苦了\n"
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
    assert [r["intent"] for r in records] == ["report", "question", "praise"]


def test_asking_whether_something_was_fixed_is_no_praise(intents: IntentClassifier) -> None:
    assert intents.classify("路灯修好了吗").kind != "praise"
    assert intents.classify("太感谢了，路灯修好了").kind == "praise"
