"""Ranking areas by their rates, with a minimum number of cases before an area is ranked."""

from __future__ import annotations

from reports.area_ranking import rank_areas, score
from reports.stats import Figures


def figures(cases: int, in_time: int, resolved: int, pleased: int, rated: int) -> Figures:
    return Figures(cases, in_time, resolved, resolved, pleased, rated)


def test_areas_are_ranked_by_the_mean_of_their_three_rates() -> None:
    ranking = rank_areas(
        {"a": figures(10, 5, 5, 5, 10), "b": figures(10, 10, 10, 9, 10)}, min_cases=5
    )
    assert [(r.area, r.place) for r in ranking] == [("b", 1), ("a", 2)]
    assert ranking[0].score == score(figures(10, 10, 10, 9, 10))


def test_a_small_area_is_listed_but_not_ranked_on_two_cases() -> None:
    ranking = rank_areas(
        {"small": figures(2, 2, 2, 2, 2), "big": figures(8, 4, 4, 4, 8)}, min_cases=5
    )
    assert [(r.area, r.place) for r in ranking] == [("big", 1), ("small", None)]


def test_equal_scores_share_a_place() -> None:
    same = figures(6, 3, 3, 3, 6)
    ranking = rank_areas({"a": same, "b": same, "c": figures(6, 0, 0, 0, 0)}, min_cases=5)
    assert [r.place for r in ranking] == [1, 1, 3]
