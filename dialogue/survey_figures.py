"""The survey's figures as the office reads them (any channel): the headline weighted by
community population with 95% intervals against the 90% target, each community's
counts and rates (样本不足 under 30 answers), the answers outside the assessed
population; and the reasons for not supporting, for 宣传教育组."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from dialogue import texts
from quizzes.survey import TARGET, RoundReport
from quizzes.survey_stats import MEASURES, OUT_REASONS, Rate, Weighted

# Telegram's limit for one message; the community table gives way first.
MESSAGE_CHARS = 4096


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def survey_stats_text(
    report: RoundReport,
    tz: ZoneInfo,
    limit: int = MESSAGE_CHARS,
    earlier: Sequence[RoundReport] = (),
) -> str:
    """The round's figures within `limit` characters, after the earlier rounds' trend."""
    f = report.figures
    day = datetime.fromtimestamp(report.started_at, tz).strftime("%m-%d")
    why = "、".join(
        f"{texts.SURVEY_OUT_REASONS[r]} {f.outside[r]}" for r in OUT_REASONS if f.outside[r]
    )
    head = [
        texts.SURVEY_STATS_HEAD.format(day=day),
        texts.SURVEY_STATS_COUNTS.format(
            in_district=texts.SURVEY_STATS_IN_DISTRICT if f.communities else "",
            inside=f.in_population,
            outside=f.out_of_population,
            why=f"（{why}）" if why else "",
        ),
    ]
    support = f.district["support"]
    if f.communities and support is not None:
        head.append(
            texts.SURVEY_WEIGHTED_TITLE.format(
                covered=pct(support.covered), n_eff=f"{support.effective_n:.0f}"
            )
        )
        head += [_weighted_line(m, f.district[m]) for m in MEASURES]
        head.append(texts.SURVEY_MARKS)
        head.append(texts.SURVEY_UNWEIGHTED_TITLE)
    elif not f.communities:
        head.append(texts.SURVEY_NOT_WEIGHTED)
    head += [_unweighted_line(m, f.unweighted[m]) for m in MEASURES]
    table = []
    if f.communities:
        table.append(texts.SURVEY_COMMUNITY_TITLE)
        for c in f.communities:
            table.append(
                texts.SURVEY_COMMUNITY_LINE.format(
                    name=c.community.name,
                    n=c.answers,
                    support=pct(c.rates["support"].rate),
                    aware=pct(c.rates["aware"].rate),
                    volunteer=pct(c.rates["volunteer"].rate),
                    flag=texts.SURVEY_TOO_FEW if c.too_few else "",
                )
            )
        table.append(texts.SURVEY_UNCOVERED)
    if earlier:
        head.append(texts.SURVEY_TREND_TITLE)
        head += [_trend_line(r, tz) for r in [*earlier, report]]
    text = "\n".join(head + table)
    while len(text) > limit and len(table) > 1:
        table.pop(-2)  # the last communities give way; the note stays
        text = "\n".join([*head, *table[:-1], "…", table[-1]])
    return text


def headline(report: RoundReport, measure: str) -> float | None:
    """A round's figure for a measure: weighted by community where there are areas,
    else over every answer in the population."""
    weighted = report.figures.district.get(measure)
    return weighted.rate if weighted is not None else report.figures.unweighted[measure].rate


def _trend_line(report: RoundReport, tz: ZoneInfo) -> str:
    day = datetime.fromtimestamp(report.started_at, tz).strftime("%m-%d")
    rates = " · ".join(f"{texts.SURVEY_MEASURES[m]} {pct(headline(report, m))}" for m in MEASURES)
    return texts.SURVEY_TREND_LINE.format(day=day, rates=rates, n=report.figures.in_population)


def _weighted_line(measure: str, figure: Weighted | None) -> str:
    name = texts.SURVEY_MEASURES[measure]
    if figure is None:
        return texts.SURVEY_NO_RATE.format(measure=name)
    low, high = figure.interval
    return texts.SURVEY_WEIGHTED_LINE.format(
        mark="✅" if low >= TARGET else ("⚠️" if figure.rate >= TARGET else "❌"),
        measure=name,
        rate=pct(figure.rate),
        low=pct(low),
        high=pct(high),
    )


def _unweighted_line(measure: str, rate: Rate) -> str:
    name = texts.SURVEY_MEASURES[measure]
    if rate.interval is None:
        return texts.SURVEY_NO_RATE.format(measure=name)
    low, high = rate.interval
    return texts.SURVEY_UNWEIGHTED_LINE.format(
        measure=name, rate=pct(rate.rate), low=pct(low), high=pct(high), n=rate.n
    )


def survey_reasons_text(
    started_at: float,
    counts: list[tuple[str, int]],
    free_texts: list[tuple[float, str]],
    tz: ZoneInfo,
    limit: int = MESSAGE_CHARS,
) -> str:
    """The round's reasons grouped and counted, most given first, and the latest texts."""
    day = datetime.fromtimestamp(started_at, tz).strftime("%m-%d")
    lines = [texts.SURVEY_REASONS_TITLE.format(day=day)]
    if not counts and not free_texts:
        lines.append(texts.SURVEY_REASONS_NONE)
        return "\n".join(lines)
    for reason, count in counts:
        label = texts.SURVEY_REASONS.get(reason, reason)
        lines.append(texts.SURVEY_REASONS_LINE.format(reason=label, count=count))
    lines.append(texts.SURVEY_REASONS_HINT)
    if free_texts:
        lines.append(texts.SURVEY_REASONS_TEXTS)
        for at, said in free_texts:
            line = texts.SURVEY_REASONS_TEXT_LINE.format(
                time=datetime.fromtimestamp(at, tz).strftime("%m-%d %H:%M"), text=said
            )
            if len("\n".join([*lines, line])) > limit:
                break
            lines.append(line)
    return "\n".join(lines)
