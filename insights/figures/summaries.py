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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, Sum

from cases.figure_changes import local_day
from insights.models import Grain, IssueRollup, ResolutionRollup
from insights.rollups import month_after

__all__ = [
    "LanguageFigures",
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


def period_q(first: date, last: date) -> Q:
    """Rows covering [first, last] once: the month rows of the months wholly inside it, the day
    rows of the days at either end."""
    months, start = [], first if first.day == 1 else month_after(first)
    while month_after(start) - timedelta(days=1) <= last:
        months.append(start)
        start = month_after(start)
    if not months:
        return Q(grain=Grain.DAY, period__gte=first, period__lte=last)
    q = Q(grain=Grain.MONTH, period__in=months)
    if first < months[0]:
        q |= Q(grain=Grain.DAY, period__gte=first, period__lt=months[0])
    after = month_after(months[-1])
    if after <= last:
        q |= Q(grain=Grain.DAY, period__gte=after, period__lte=last)
    return q


def _scope_q(scope) -> Q:
    q = scope.place_q()
    if scope.category_id:
        q &= Q(category_id=scope.category_id)
    return q


def weighted_median(histogram: dict[int, int]) -> float | None:
    """The median of a histogram {value: count}: the middle value, or the mean of the two middle ones."""
    total = sum(histogram.values())
    if not total:
        return None
    lower_rank, upper_rank = (total + 1) // 2, total // 2 + 1
    lower = upper = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if lower is None and seen >= lower_rank:
            lower = value
        if seen >= upper_rank:
            upper = value
            break
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
        for place, *values in (
            IssueRollup.objects.filter(period_q(start, end) & _scope_q(scope))
            .values_list("neighborhood_id")
            .annotate(Sum("reported"), Sum("finished"), Sum("within_sla"), Sum("crime"))
            .order_by()
        ):
            counts = figures[district_of.get(place, "")][when]
            for name, value in zip(("reported", "finished", "within_sla", "crime"), values, strict=True):
                counts[name] += value
    return dict(figures)
