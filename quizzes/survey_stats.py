"""The survey's figures, pure: who is in the assessed population, rates with 95% intervals,
per community, and a district figure weighted by community population.

The official assessment samples residents aged 18–65 who have lived in the district
at least six months, across all communities. A bot's survey is answered by whoever
answers, so its raw rate flatters the engaged; these figures make it defensible:

- Only answers from the assessed population count in the headline (adults 18–65,
  six months or more here, in a configured 社区 or 村 when the district has areas);
  the others are kept and counted apart, by why they are out.
- A rate p = x / n gets the Wilson score interval at 95% (z = 1.96):
  centre = (p + z²/2n) / (1 + z²/n), half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
  Unlike p ± 1.96·√(p(1−p)/n) it stays within [0, 1] and is honest near 100%.
- The district figure is post-stratified by community: p_w = Σ N_c·p_c / Σ N_c over
  the communities with answers (N_c their population). A community without answers
  has no weight: the covered communities stand for the district, and the share of the
  population they cover is shown beside the figure.
- Its interval is Wilson's with the Kish effective sample size of those weights (each
  answer in community c weighs N_c / n_c): n_eff = (Σ N_c)² / Σ (N_c² / n_c). Uneven
  sampling (one community over-answered) shrinks n_eff below the number of answers,
  and so widens the interval.
- A community with fewer than MIN_ANSWERS answers is flagged 样本不足: its interval
  is too wide to judge it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054
MIN_ANSWERS = 30
POSITIVE = frozenset({"support", "rather"})  # 支持 + 比较支持

# The age bands asked; only ADULT is in the assessed population.
UNDER_18, ADULT, OVER_65 = "under_18", "18_65", "over_65"
AGES = (UNDER_18, ADULT, OVER_65)
# Community answers that are not a configured 社区 or 村.
OUTSIDE, UNDISCLOSED = "_out", "_na"
# Why an answer is outside the assessed population (the first that applies).
OUT_AGE, OUT_SHORT, OUT_DISTRICT, OUT_UNKNOWN = "age", "short", "district", "unknown"
OUT_REASONS = (OUT_AGE, OUT_SHORT, OUT_DISTRICT, OUT_UNKNOWN)
MEASURES = ("support", "aware", "volunteer")


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / n; None without answers."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Answer:
    """One resident's answer in a round, with their profile as it was."""

    community: str | None  # an area key, OUTSIDE, UNDISCLOSED; None: not asked or not given
    age: str | None
    lived: bool | None  # here six months or more
    support: str | None
    aware: bool | None
    volunteer: str | None


def outside_because(answer: Answer, communities: frozenset[str]) -> str | None:
    """Why the answer is outside the assessed population; None if it is in.

    `communities`: the configured 社区 and 村 keys (empty: the district has no areas,
    and no community is asked)."""
    if answer.age is None or answer.lived is None:
        return OUT_UNKNOWN
    if answer.age != ADULT:
        return OUT_AGE
    if not answer.lived:
        return OUT_SHORT
    if communities:
        if answer.community == OUTSIDE:
            return OUT_DISTRICT
        if answer.community not in communities:
            return OUT_UNKNOWN
    return None


@dataclass(frozen=True)
class Rate:
    """x of n, with its 95% interval."""

    hits: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.hits / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.hits, self.n)


def rate_of(answers: Iterable[Answer], measure: str) -> Rate:
    """The measure's rate: 支持+比较支持 of those who answered it (不了解 counts as not);
    知道 of those who answered the awareness question."""
    hits = n = 0
    for a in answers:
        value = getattr(a, measure)
        if value is None:
            continue
        n += 1
        hits += value is True if measure == "aware" else value in POSITIVE
    return Rate(hits, n)


@dataclass(frozen=True)
class Community:
    key: str
    name: str
    population: int  # 0: not configured, no weight


@dataclass(frozen=True)
class CommunityFigures:
    community: Community
    answers: int
    rates: dict[str, Rate]

    @property
    def too_few(self) -> bool:
        return self.answers < MIN_ANSWERS


@dataclass(frozen=True)
class Weighted:
    """The district figure post-stratified by community population."""

    rate: float
    interval: tuple[float, float]
    effective_n: float
    covered: float  # the population share of the communities with answers


def weighted(parts: Sequence[tuple[int, Rate]]) -> Weighted | None:
    """Σ N_c·p_c / Σ N_c over (population N_c, rate) with answers and a population,
    its Wilson interval at the Kish effective sample size, and the share covered."""
    total = sum(population for population, _ in parts)
    used = [(population, r) for population, r in parts if r.n and population > 0]
    weight = sum(population for population, _ in used)
    if not used or weight <= 0:
        return None
    rate = sum(population * r.hits / r.n for population, r in used) / weight
    effective_n = weight**2 / sum(population**2 / r.n for population, r in used)
    interval = wilson(rate * effective_n, effective_n)
    assert interval is not None
    return Weighted(rate, interval, effective_n, weight / total if total else 0.0)


@dataclass(frozen=True)
class SurveyFigures:
    in_population: int
    outside: Counter[str]  # answers outside the assessed population, by OUT_* reason
    unweighted: dict[str, Rate]  # over every answer in the population
    district: dict[str, Weighted | None]  # weighted; None without areas (or answers)
    communities: list[CommunityFigures]  # in the areas file's order; [] without areas

    @property
    def out_of_population(self) -> int:
        return sum(self.outside.values())


def survey_figures(answers: Iterable[Answer], communities: Sequence[Community]) -> SurveyFigures:
    """The round's figures: the assessed population's rates, per community and weighted."""
    keys = frozenset(c.key for c in communities)
    inside: list[Answer] = []
    outside: Counter[str] = Counter()
    for answer in answers:
        why = outside_because(answer, keys)
        if why is None:
            inside.append(answer)
        else:
            outside[why] += 1
    per_community = []
    for c in communities:
        mine = [a for a in inside if a.community == c.key]
        rates = {m: rate_of(mine, m) for m in MEASURES}
        per_community.append(CommunityFigures(c, len(mine), rates))
    district = {
        m: weighted([(f.community.population, f.rates[m]) for f in per_community]) for m in MEASURES
    }
    return SurveyFigures(
        in_population=len(inside),
        outside=outside,
        unweighted={m: rate_of(inside, m) for m in MEASURES},
        district=district,
        communities=per_community,
    )
