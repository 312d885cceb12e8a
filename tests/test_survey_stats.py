"""The survey's figures as pure functions: Wilson intervals, who counts, weighting."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from dialogue import texts
from dialogue.survey_figures import survey_stats_text
from quizzes.survey import RoundReport
from quizzes.survey_stats import (
    ADULT,
    OUT_AGE,
    OUT_DISTRICT,
    OUT_SHORT,
    OUT_UNKNOWN,
    OUTSIDE,
    UNDER_18,
    Answer,
    Community,
    Rate,
    survey_figures,
    weighted,
    wilson,
)

EAST = Community("east", "东社区", 6000)
WEST = Community("west", "西社区", 2000)
NORTH = Community("north", "北村", 2000)


def adult(community: str | None, support: str = "support", aware: bool = True) -> Answer:
    return Answer(community, ADULT, True, support, aware, support)


def test_wilson_interval_of_45_in_50() -> None:
    low, high = wilson(45, 50) or (0, 0)
    assert (round(low, 3), round(high, 3)) == (0.786, 0.957)


def test_wilson_interval_stays_within_0_and_1_at_all_or_nothing() -> None:
    assert wilson(10, 10) == pytest.approx((0.722, 1.0), abs=1e-3)
    assert wilson(0, 10) == pytest.approx((0.0, 0.278), abs=1e-3)


def test_no_answers_have_no_interval() -> None:
    assert wilson(0, 0) is None and Rate(0, 0).rate is None


def test_district_rate_is_weighted_by_population_not_by_answers() -> None:
    # East (6000 people) 30 of 40 support; west (2000) 40 of 40: unweighted 87.5%,
    # weighted (6000·0.75 + 2000·1.0) / 8000 = 81.25%.
    result = weighted([(6000, Rate(30, 40)), (2000, Rate(40, 40))])
    assert result is not None
    assert result.rate == pytest.approx(0.8125)


def test_effective_sample_size_is_kish_for_the_weights() -> None:
    # n_eff = (Σ N)² / Σ N²/n = 8000² / (6000²/40 + 2000²/40) = 64 (of 80 answers).
    result = weighted([(6000, Rate(30, 40)), (2000, Rate(40, 40))])
    assert result is not None and result.effective_n == pytest.approx(64)
    assert result.interval == pytest.approx(wilson(0.8125 * 64, 64))


def test_communities_without_answers_have_no_weight_and_lower_the_share_covered() -> None:
    result = weighted([(6000, Rate(27, 30)), (2000, Rate(0, 0)), (2000, Rate(0, 0))])
    assert result is not None
    assert result.rate == pytest.approx(0.9) and result.covered == pytest.approx(0.6)


def test_answers_outside_the_assessed_population_are_counted_apart() -> None:
    answers = [
        adult("east"),
        Answer("east", UNDER_18, True, "support", True, "support"),
        Answer("east", ADULT, False, "support", True, "support"),
        Answer(OUTSIDE, ADULT, True, "support", True, "support"),
        Answer(None, None, None, "against", False, "against"),
    ]
    figures = survey_figures(answers, [EAST, WEST])
    assert figures.in_population == 1
    assert dict(figures.outside) == {OUT_AGE: 1, OUT_SHORT: 1, OUT_DISTRICT: 1, OUT_UNKNOWN: 1}


def test_without_areas_any_community_counts_and_nothing_is_weighted() -> None:
    figures = survey_figures([adult(None), adult(None, "against")], [])
    assert figures.in_population == 2
    assert figures.unweighted["support"] == Rate(1, 2)
    assert figures.district["support"] is None and figures.communities == []


def test_a_community_under_30_answers_is_flagged() -> None:
    answers = [adult("east")] * 30 + [adult("west")] * 29
    figures = survey_figures(answers, [EAST, WEST, NORTH])
    flags = {f.community.key: (f.answers, f.too_few) for f in figures.communities}
    assert flags == {"east": (30, False), "west": (29, True), "north": (0, True)}


def test_unaware_counts_against_support() -> None:
    figures = survey_figures([adult("east"), adult("east", "unaware")], [EAST])
    assert figures.communities[0].rates["support"] == Rate(1, 2)


def test_the_stats_text_fits_one_telegram_message_however_many_communities() -> None:
    many = [Community(f"c{i}", f"第{i}社区居民委员会", 1000) for i in range(300)]
    answers = [adult(f"c{i}") for i in range(300)]
    report = RoundReport(1, 0.0, survey_figures(answers, many))
    text = survey_stats_text(report, ZoneInfo("Asia/Shanghai"))
    assert len(text) <= 4096 and text.endswith(texts.SURVEY_UNCOVERED)
