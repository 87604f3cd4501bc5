"""The community trust pulse's results: per neighborhood, district and city, per quarter.

A resident's score is the mean of their answers on a 0–100 scale (``insights.pulse``); an area's
score is the mean of its residents' scores, given with the number of answers and a 95 % margin of
error (1.96 standard errors). One statement reads, per quarter and neighborhood, the count, the
sum and the sum of squares of the scores: sums add up, so districts and the city are summed here
from the neighborhoods' rows, exactly.

No figure is shown for fewer than ``MIN_ANSWERS`` answers. Hiding a small area is not enough when
its district is shown beside its other neighborhoods (the district less the others would give it
back), so ``suppressed`` also hides the smallest figures beside it until whatever could be worked
out by subtraction covers at least ``MIN_ANSWERS`` answers too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Sum

from insights.models import PulseAnswer, PulseResponse

MIN_ANSWERS = 10
Z_95 = 1.96
TREND_QUARTERS = 8
CITY = ("city", "")
# A supervisor's own area of several districts or neighborhoods (``DashboardScope.has_area``).
AREA = ("area", "")


def quarter_of(day: date) -> date:
    """The first day of the quarter ``day`` falls in."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_after(quarter: date) -> date:
    return date(quarter.year + quarter.month // 10, (quarter.month + 2) % 12 + 1, 1)


def quarter_before(quarter: date) -> date:
    return date(quarter.year - (quarter.month == 1), (quarter.month - 4) % 12 + 1, 1)


def quarters_to(last: date, count: int) -> list[date]:
    """``count`` quarters, oldest first, the last being ``last``'s."""
    quarters = [quarter_of(last)]
    while len(quarters) < count:
        quarters.append(quarter_before(quarters[-1]))
    return quarters[::-1]


@dataclass(frozen=True)
class Tally:
    """Answers counted, the sum of their scores and the sum of the scores' squares."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.total + other.total, self.squares + other.squares)

    @property
    def score(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def margin(self) -> float | None:
        """Half the width of the 95 % confidence interval of the mean score."""
        if self.n < 2:
            return None
        variance = max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))
        return Z_95 * math.sqrt(variance / self.n)


@dataclass(frozen=True)
class PulseFigure:
    """What is shown for an area and a quarter: ``score`` and ``margin`` are None when hidden."""

    n: int
    score: float | None
    margin: float | None

    @property
    def hidden(self) -> bool:
        return self.n > 0 and self.score is None


def tallies(quarters: list[date]) -> dict[date, dict[int, Tally]]:
    """{quarter: {neighborhood id: Tally}} in one statement over the response rows of those quarters."""
    rows = (
        PulseResponse.objects.filter(quarter__in=quarters)
        .values("quarter", "neighborhood_id")
        .annotate(n=Count("id"), total=Sum("score"), squares=Sum(F("score") * F("score")))
        .order_by()
    )
    found: dict[date, dict[int, Tally]] = {quarter: {} for quarter in quarters}
    for row in rows:
        found[row["quarter"]][row["neighborhood_id"]] = Tally(row["n"], row["total"], row["squares"])
    return found


def _hide_until_safe(hidden: set, shown_parent: bool, members: dict, count) -> None:
    """While what a shown parent less its shown ``members`` gives back covers 1 to MIN_ANSWERS − 1
    answers, hide the smallest member still shown (``count`` gives a member's answers)."""
    if not shown_parent:
        return
    while True:
        back = sum(count(m) for m in members if m in hidden)
        if back == 0 or back >= MIN_ANSWERS:
            return
        still = [m for m in members if m not in hidden and count(m) > 0]
        if not still:
            return
        hidden.add(min(still, key=lambda m: (count(m), str(m))))


def suppressed(neighborhoods, by_place: dict[int, Tally], area=()) -> dict[tuple[str, object], PulseFigure]:
    """One quarter's figures for the city (``CITY``), each district (``("district", name)``) and
    each neighborhood (``("neighborhood", id)``), hidden where too few answered (see the module).

    With ``area`` (district and neighborhood keys), also their sum (``AREA``): hidden when one of
    them is, since the area less its shown parts would give the hidden one back."""
    district_of = {n.pk: n.district for n in neighborhoods}
    tally = {("neighborhood", n.pk): by_place.get(n.pk, Tally()) for n in neighborhoods}
    districts: dict[str, list] = defaultdict(list)
    for n in neighborhoods:
        if n.district:
            districts[n.district].append(("neighborhood", n.pk))
    for name, members in districts.items():
        tally[("district", name)] = sum((tally[m] for m in members), Tally())
    tally[CITY] = sum((tally[("neighborhood", n.pk)] for n in neighborhoods), Tally())

    hidden = {key for key, t in tally.items() if 0 < t.n < MIN_ANSWERS}
    for name, members in districts.items():
        _hide_until_safe(hidden, ("district", name) not in hidden, members, lambda m: tally[m].n)
    # The city less every shown district and shown neighborhood gives back the hidden districts
    # and the hidden neighborhoods outside any district (a hidden district's neighborhoods are all
    # hidden: below MIN_ANSWERS together, or hidden with it below).
    top = [("district", name) for name in districts] + [
        ("neighborhood", pk) for pk, district in district_of.items() if not district
    ]
    _hide_until_safe(hidden, CITY not in hidden, top, lambda m: tally[m].n)
    for name, members in districts.items():
        if ("district", name) in hidden:
            hidden.update(members)
    if area:
        tally[AREA] = sum((tally.get(key, Tally()) for key in area), Tally())
        if 0 < tally[AREA].n < MIN_ANSWERS or any(key in hidden for key in area):
            hidden.add(AREA)
    return {
        key: PulseFigure(t.n, None, None) if key in hidden or not t.n else PulseFigure(t.n, t.score, t.margin)
        for key, t in tally.items()
    }


def pulse_results(neighborhoods, quarters: list[date], area=()) -> dict[date, dict]:
    """{quarter: suppressed(...)} for each quarter (one statement)."""
    found = tallies(quarters)
    return {quarter: suppressed(neighborhoods, found[quarter], area) for quarter in quarters}


def scope_key(district: str = "", neighborhood_id: int | None = None) -> tuple[str, object]:
    if neighborhood_id:
        return ("neighborhood", neighborhood_id)
    if district:
        return ("district", district)
    return CITY


def statement_scores(quarter: date, neighborhood_ids) -> list[tuple[str, str, Tally]]:
    """[(English text, Spanish text, Tally of its answers on the 0–100 scale)] per statement answered
    in a quarter over the given neighborhoods (None: the city), in the survey's order. One statement."""
    answers = PulseAnswer.objects.filter(response__quarter=quarter)
    if neighborhood_ids is not None:
        answers = answers.filter(response__neighborhood_id__in=neighborhood_ids)
    scaled = (F("value") - 1) * 25.0
    rows = (
        answers.values("statement_id", "statement__text_en", "statement__text_es", "statement__position")
        .annotate(n=Count("id"), total=Sum(scaled), squares=Sum(scaled * scaled))
        .order_by("statement__position", "statement_id")
    )
    return [
        (row["statement__text_en"], row["statement__text_es"], Tally(row["n"], row["total"], row["squares"]))
        for row in rows
    ]


def top_problems(quarter: date, neighborhood_ids, limit: int = 3) -> list[tuple[int, int]]:
    """[(category id, answers naming it)], most named first, in a quarter over the neighborhoods."""
    responses = PulseResponse.objects.filter(quarter=quarter, top_problem__isnull=False)
    if neighborhood_ids is not None:
        responses = responses.filter(neighborhood_id__in=neighborhood_ids)
    rows = responses.values("top_problem_id").annotate(n=Count("id")).order_by("-n", "top_problem_id")[:limit]
    return [(row["top_problem_id"], row["n"]) for row in rows]
