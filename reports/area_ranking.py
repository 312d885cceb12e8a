"""The 通报 ranking of areas by their rates (pure): response, resolution, satisfaction.

Small areas are not ranked on two cases: an area enters the ranking from `min_cases`
cases in the period ([areas] min_cases); below that it is listed, unranked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reports.stats import Figures


@dataclass(frozen=True)
class Ranked:
    area: str  # the area's key
    figures: Figures
    place: int | None  # 1 = best; None: too few cases to rank
    score: float | None  # the mean of the three rates (an unrated area's satisfaction: 0)


def score(figures: Figures) -> float | None:
    """The mean of the response, resolution and satisfaction rates; None without cases."""
    if not figures.cases:
        return None
    rates = (figures.response_rate, figures.resolution_rate, figures.satisfaction_rate)
    return sum(r or 0.0 for r in rates) / len(rates)


def rank_areas(by_area: Mapping[str, Figures], min_cases: int) -> list[Ranked]:
    """The areas with enough cases, best first (ties share a place), then the rest by cases.

    Ties on the score are broken by more cases (a record over more cases counts more),
    then by the key, so the order is the same every week for the same figures.
    """
    ranked = sorted(
        ((key, f, score(f)) for key, f in by_area.items() if f.cases >= min_cases),
        key=lambda item: (-(item[2] or 0.0), -item[1].cases, item[0]),
    )
    out: list[Ranked] = []
    for n, (key, figures, value) in enumerate(ranked):
        tied = out and out[-1].score == value
        out.append(Ranked(key, figures, out[-1].place if tied else n + 1, value))
    rest = sorted(
        ((k, f) for k, f in by_area.items() if f.cases < min_cases),
        key=lambda item: (-item[1].cases, item[0]),
    )
    out += [Ranked(key, figures, None, score(figures)) for key, figures in rest]
    return out
