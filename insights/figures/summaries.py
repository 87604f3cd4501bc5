"""Figures read from the summary tables (``insights.rollups``): a period costs its whole months
and the days at either end, whatever the number of issues behind them.

Language parity
    Per district and per neighborhood, for each language reports were made in: issues finished
    in the period, the share finished within their SLA, and the median time from report to
    finish (exact to the hour, from the hour histogram). Spanish-language reports are flagged
    where they fare worse than English ones (``parity_gap``).
Year over year
    Per district: reported, finished, share within SLA and crime reports in the period, beside
    the same dates a year earlier.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce

from django.db.models import Q, Sum

from cases.figure_changes import local_day
from insights.models import Grain, IssueRollup, PlaceRollup, ResolutionRollup
from insights.rollups import band_hours, month_after

__all__ = [
    "LanguageFigures",
    "banded_median",
    "banded_range",
    "period_parts",
    "values_at",
    "week_of",
    "language_parity",
    "parity_gap",
    "period_dates",
    "public_language_parity",
    "period_q",
    "weighted_median",
    "year_over_year",
]

# Spanish-language reports "fare worse" when both languages have at least this many finished
# issues and Spanish ones wait a day and a fifth longer at the median, or miss the SLA five
# points more often.
PARITY_MIN_FINISHED = 10
PARITY_MEDIAN_HOURS = 24
PARITY_MEDIAN_RATIO = 1.2
PARITY_SLA_POINTS = 0.05


def period_dates(scope) -> tuple[date, date]:
    """The scope's first and last local days."""
    return local_day(scope.start), local_day(scope.end - timedelta(microseconds=1))


def _weeks_and_days(first: date, last: date, parts: list) -> None:
    monday = first + timedelta(days=-first.weekday() % 7)
    day = first
    while monday + timedelta(days=6) <= last:
        while day < monday:
            parts.append((Grain.DAY, day))
            day += timedelta(days=1)
        parts.append((Grain.WEEK, monday))
        day = monday = monday + timedelta(days=7)
    while day <= last:
        parts.append((Grain.DAY, day))
        day += timedelta(days=1)


def period_parts(first: date, last: date, *, months: bool = True) -> list[tuple[str, date]]:
    """[first, last] as summary rows that cover it once: the whole months inside it (unless
    ``months`` is False), then the whole weeks (Monday to Sunday) inside what is left at either
    end, then the days left — at most a dozen days and a few weeks besides the months."""
    parts: list[tuple[str, date]] = []
    start = first if first.day == 1 else month_after(first)
    if not months or month_after(start) - timedelta(days=1) > last:
        _weeks_and_days(first, last, parts)
        return parts
    _weeks_and_days(first, start - timedelta(days=1), parts)
    while month_after(start) - timedelta(days=1) <= last:
        parts.append((Grain.MONTH, start))
        start = month_after(start)
    _weeks_and_days(start, last, parts)
    return parts


def period_arms(first: date, last: date, *, months: bool = True) -> list[Q]:
    """The rows of ``period_parts``, one condition per grain (each an index range of the key)."""
    return _arms(period_parts(first, last, months=months))


def _arms(parts: list[tuple[str, date]]) -> list[Q]:
    by_grain: dict[str, list[date]] = defaultdict(list)
    for grain, start in parts:
        by_grain[grain].append(start)
    return [Q(grain=grain, period__in=starts) for grain, starts in by_grain.items()]


def period_q(first: date, last: date, *, months: bool = True) -> Q:
    """The rows of ``period_parts``: each grain's periods, and before them every grain and period
    in two lists, which a key that starts (grain, period) reads as one index scan (the arms alone
    read as a bitmap of one scan each, then the table: no read from the index alone)."""
    parts = period_parts(first, last, months=months)
    if not parts:
        return Q(pk__in=[])
    arms = _arms(parts)
    within = Q(grain__in=sorted({grain for grain, _ in parts}), period__in=sorted({start for _, start in parts}))
    return within & reduce(operator.or_, arms) if len(arms) > 1 else arms[0]


def week_of(grain: str, start: date) -> date:
    """The Monday of the week a day or week row counts in (the dashboard's weekly series)."""
    return start - timedelta(days=start.weekday()) if grain == Grain.DAY else start


def _scope_q(scope) -> Q:
    q = scope.place_q()
    if scope.category_id:
        q &= Q(category_id=scope.category_id)
    return q


def _middle_ranks(total: int) -> tuple[int, int]:
    return (total + 1) // 2, total // 2 + 1


def values_at(histogram: dict[int, int], lower_rank: int, upper_rank: int, seen: int = 0) -> tuple:
    """The values at two ranks (1-based) of a histogram whose first ``seen`` entries lie below it."""
    lower = upper = None
    for value in sorted(histogram):
        seen += histogram[value]
        if lower is None and seen >= lower_rank:
            lower = value
        if seen >= upper_rank:
            upper = value
            break
    return lower, upper


def weighted_median(histogram: dict[int, int]) -> float | None:
    """The median of a histogram {value: count}: the middle value, or the mean of the two middle ones."""
    total = sum(histogram.values())
    if not total:
        return None
    lower, upper = values_at(histogram, *_middle_ranks(total))
    return (lower + upper) / 2


def banded_range(bands: dict[int, int]) -> tuple[int, int, int, int, int] | None:
    """Where the middle of a banded histogram {band: count} lies: (first hour, last hour, issues in
    the bands below, lower rank, upper rank) — the hours to read exactly — or None when empty."""
    total = sum(bands.values())
    if not total:
        return None
    lower_rank, upper_rank = _middle_ranks(total)
    lower, upper = values_at(bands, lower_rank, upper_rank)
    below = sum(n for band, n in bands.items() if band < lower)
    return band_hours(lower)[0], band_hours(upper)[1], below, lower_rank, upper_rank


def banded_median(bands: dict[int, int], hours_between) -> float | None:
    """The exact median (to the hour) of a histogram kept in bands and in hours: the bands say which
    hours hold the middle; ``hours_between(first, last)`` reads only those ({hours: count})."""
    where = banded_range(bands)
    if where is None:
        return None
    first, last, below, lower_rank, upper_rank = where
    lower, upper = values_at(hours_between(first, last), lower_rank, upper_rank, below)
    return (lower + upper) / 2


@dataclass
class LanguageFigures:
    finished: int = 0
    within_sla: int = 0
    hours: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: LanguageFigures) -> None:
        self.finished += other.finished
        self.within_sla += other.within_sla
        for hours, n in other.hours.items():
            self.hours[hours] += n

    @property
    def sla_share(self) -> float | None:
        return self.within_sla / self.finished if self.finished else None

    @property
    def median_hours(self) -> float | None:
        return weighted_median(self.hours)

    @property
    def median_days(self) -> float | None:
        hours = self.median_hours
        return None if hours is None else hours / 24


def parity_gap(by_language: dict[str, LanguageFigures]) -> bool:
    """Whether Spanish-language reports fare worse than English ones (see the module)."""
    english, spanish = by_language.get("en"), by_language.get("es")
    if not english or not spanish or min(english.finished, spanish.finished) < PARITY_MIN_FINISHED:
        return False
    slower = spanish.median_hours - english.median_hours >= PARITY_MEDIAN_HOURS and (
        spanish.median_hours >= PARITY_MEDIAN_RATIO * english.median_hours
    )
    return slower or english.sla_share - spanish.sla_share >= PARITY_SLA_POINTS


def language_parity(scope, neighborhoods) -> dict:
    """{"neighborhoods": {id: {language: LanguageFigures}}, "districts": {name: {…}}} for the
    scope's period, place and category: two grouped reads of the summary tables."""
    first, last = period_dates(scope)
    return _parity(period_q(first, last) & _scope_q(scope), neighborhoods)


def public_language_parity(first: date, last: date, neighborhoods) -> dict:
    """``language_parity`` of the public categories alone, for /transparency/."""
    return _parity(period_q(first, last) & Q(category__is_public=True), neighborhoods)


def _parity(where: Q, neighborhoods) -> dict:
    by_place: dict[int, dict[str, LanguageFigures]] = defaultdict(lambda: defaultdict(LanguageFigures))
    for place, language, finished, within in (
        IssueRollup.objects.filter(where, finished__gt=0)
        .values_list("neighborhood_id", "language")
        .annotate(Sum("finished"), Sum("within_sla"))
        .order_by()
    ):
        figures = by_place[place][language]
        figures.finished += finished
        figures.within_sla += within
    for place, language, hours, n in (
        ResolutionRollup.objects.filter(where)
        .values_list("neighborhood_id", "language", "hours")
        .annotate(Sum("issues"))
        .order_by()
    ):
        by_place[place][language].hours[hours] += n
    district_of = {n.pk: n.district for n in neighborhoods}
    by_district: dict[str, dict[str, LanguageFigures]] = defaultdict(lambda: defaultdict(LanguageFigures))
    for place, languages in by_place.items():
        for language, figures in languages.items():
            by_district[district_of.get(place, "")][language].add(figures)
    return {"neighborhoods": by_place, "districts": by_district}


def _a_year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def year_over_year(scope, neighborhoods) -> dict[str, dict]:
    """{district: {"now": counts, "before": counts}}: the period and the same dates a year earlier."""
    first, last = period_dates(scope)
    district_of = {n.pk: n.district for n in neighborhoods}
    figures: dict[str, dict] = defaultdict(
        lambda: {when: {"reported": 0, "finished": 0, "within_sla": 0, "crime": 0} for when in ("now", "before")}
    )
    for when, (start, end) in (
        ("now", (first, last)),
        ("before", (_a_year_earlier(first), _a_year_earlier(last))),
    ):
        # Every category: the place table's rows (a few per neighborhood); one: the issue table's.
        table = IssueRollup if scope.category_id else PlaceRollup
        for place, *values in (
            table.objects.filter(period_q(start, end) & _scope_q(scope))
            .values_list("neighborhood_id")
            .annotate(Sum("reported"), Sum("finished"), Sum("within_sla"), Sum("crime"))
            .order_by()
        ):
            counts = figures[district_of.get(place, "")][when]
            for name, value in zip(("reported", "finished", "within_sla", "crime"), values, strict=True):
                counts[name] += value
    return dict(figures)
