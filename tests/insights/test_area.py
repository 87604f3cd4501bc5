"""The dashboard opens on the supervisor's own area (issue 19, item 6): the districts and
neighborhoods of their profile, with the whole city one click away, and a place chosen in the
filters winning over both. Figures are checked against the single-district pages."""

import re

import pytest

from cases.models import Issue
from insights.figures.pulse import AREA, MIN_ANSWERS, Tally, suppressed
from partners.models import Neighborhood
from tests import factories
from tests.insights.test_views import PERIOD, QUERY_BUDGET, _grow, kpis

pytestmark = pytest.mark.django_db

ADDITIVE = ("open", "overdue", "waiting", "activities")


def _ints(figures: dict) -> dict:
    return {key: int(figures[key].replace(",", "")) for key in ADDITIVE}


def _decision_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr data-issue="(\d+)">', response.content.decode())}


def _current(response) -> str | None:
    match = re.search(r'data-area="(\w+)" aria-current="true"', response.content.decode())
    return match.group(1) if match else None


@pytest.fixture
def grown(known):
    _grow(known, 12)  # half of it in three West neighborhoods
    known.west = list(Neighborhood.objects.filter(district="West").order_by("pk"))
    return known


def test_a_supervisor_of_two_districts_opens_on_them_and_the_city_is_one_click_away(client, grown):
    rosa = factories.supervisor(username="rosa", districts=["Central", "East"])
    client.force_login(rosa)
    mine = client.get(f"/dashboard/?{PERIOD}")
    assert mine.status_code == 200
    html = mine.content.decode()
    assert "My area: Central, East" in html and _current(mine) == "mine"
    central = _ints(kpis(client.get(f"/dashboard/?{PERIOD}&district=Central")))
    east = _ints(kpis(client.get(f"/dashboard/?{PERIOD}&district=East")))
    assert _ints(kpis(mine)) == {key: central[key] + east[key] for key in ADDITIVE}
    city = client.get(f"/dashboard/?{PERIOD}&area=city")
    assert _current(city) == "city"
    west = _ints(kpis(client.get(f"/dashboard/?{PERIOD}&district=West")))
    assert west["open"] > 0
    assert _ints(kpis(city)) == {key: central[key] + east[key] + west[key] for key in ADDITIVE}
    # The decisions list: Westport's issues are not asked of her until she looks at the whole city.
    waiting_west = set(
        Issue.objects.filter(needs_decision=True, neighborhood__district="West").values_list("pk", flat=True)
    )
    assert waiting_west
    assert _decision_ids(mine) and not _decision_ids(mine) & waiting_west
    assert waiting_west <= _decision_ids(city)
    # The switch's links keep the period; "Whole city" starts the filters' place afresh.
    assert 'href="?start=2024-05-01&amp;end=2024-06-15&amp;area=city"' in html
    # Applying the filters keeps the chosen area.
    assert '<input type="hidden" name="area" value="city">' in city.content.decode()


def test_a_place_chosen_in_the_filters_wins_over_the_area(client, grown):
    rosa = factories.supervisor(username="rosa", districts=["Central", "East"])
    client.force_login(rosa)
    west = client.get(f"/dashboard/?{PERIOD}&district=West")
    assert _current(west) is None
    assert _ints(kpis(west)) == _ints(kpis(client.get(f"/dashboard/?{PERIOD}&district=West&area=city")))
    assert "Central, East" in west.content.decode()  # the switch still offers her area back


def test_an_area_of_a_district_and_a_single_neighborhood_reads_the_neighborhoods_rows(client, grown):
    """Central's issues finished in the period took 1, 2, 3 and 21 days (median 2.5); the city's
    also 34 (median 3): the median, the officer table and the counts follow the area."""
    extra = grown.west[0]
    sam = factories.supervisor(username="sam", districts=["Central"], neighborhoods=[extra])
    client.force_login(sam)
    mine = client.get(f"/dashboard/?{PERIOD}")
    assert "My area: Central, " + extra.name in mine.content.decode()
    central = _ints(kpis(client.get(f"/dashboard/?{PERIOD}&district=Central")))
    alone = _ints(kpis(client.get(f"/dashboard/?{PERIOD}&neighborhood={extra.pk}")))
    assert alone["open"] > 0
    assert _ints(kpis(mine)) == {key: central[key] + alone[key] for key in ADDITIVE}
    assert kpis(mine)["median_days"] == "2.5"
    assert kpis(client.get(f"/dashboard/?{PERIOD}&area=city"))["median_days"] == "3.0"
    # The neighborhoods table: Central's two and the one West neighborhood, not East's Charlie.
    shown = {int(pk) for pk in re.findall(r'<tr data-neighborhood="(\d+)"', mine.content.decode())}
    assert shown == {grown.a.pk, grown.b.pk, extra.pk}


def test_a_supervisor_without_an_area_sees_the_city_and_no_switch(client, grown):
    boss = factories.supervisor(username="boss2")
    client.force_login(boss)
    response = client.get(f"/dashboard/?{PERIOD}")
    assert "data-area-switch" not in response.content.decode()
    assert _ints(kpis(response)) == _ints(kpis(client.get(f"/dashboard/?{PERIOD}&area=city")))


def test_the_area_costs_no_more_queries_than_the_city(client, grown, django_assert_max_num_queries):
    rosa = factories.supervisor(username="rosa", districts=["Central", "East"], neighborhoods=[grown.west[1]])
    client.force_login(rosa)
    with django_assert_max_num_queries(QUERY_BUDGET) as mine:
        assert client.get(f"/dashboard/?{PERIOD}").status_code == 200
    with django_assert_max_num_queries(QUERY_BUDGET) as city:
        assert client.get(f"/dashboard/?{PERIOD}&area=city").status_code == 200
    assert len(mine.captured_queries) == len(city.captured_queries)


def test_the_languages_page_and_the_exports_follow_the_area(client, grown):
    rosa = factories.supervisor(username="rosa", districts=["East"])
    client.force_login(rosa)
    page = client.get(f"/dashboard/languages/?{PERIOD}")
    assert page.status_code == 200 and "My area: East" in page.content.decode()
    rows = client.get(f"/dashboard/export/neighborhoods.csv?{PERIOD}").content.decode().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["Charlie"]
    everywhere = client.get(f"/dashboard/export/neighborhoods.csv?{PERIOD}&area=city").content.decode()
    assert len(everywhere.splitlines()) == 1 + 3 + 3


# --- the trust pulse of an area of several places ---------------------------------------------------


def _places():
    class N:
        def __init__(self, pk, district):
            self.pk, self.district = pk, district

    return [N(1, "Central"), N(2, "Central"), N(3, "East"), N(4, "West")]


def test_the_pulse_of_an_area_sums_its_districts_exactly():
    by_place = {1: Tally(12, 600.0, 32000.0), 2: Tally(10, 700.0, 50000.0), 3: Tally(15, 900.0, 60000.0)}
    figures = suppressed(_places(), by_place, area=(("district", "Central"), ("district", "East")))
    total = by_place[1] + by_place[2] + by_place[3]
    assert figures[AREA].n == 37
    assert figures[AREA].score == pytest.approx(total.score)
    assert figures[AREA].margin == pytest.approx(total.margin)


def test_the_pulse_of_an_area_is_hidden_when_one_of_its_places_is():
    """East alone has too few answers: shown, the area less Central would give it back."""
    by_place = {1: Tally(12, 600.0, 32000.0), 2: Tally(10, 700.0, 50000.0), 3: Tally(MIN_ANSWERS - 1, 400.0, 20000.0)}
    figures = suppressed(_places(), by_place, area=(("district", "Central"), ("district", "East")))
    assert figures[("district", "East")].score is None
    assert figures[AREA].n == 22 + MIN_ANSWERS - 1 and figures[AREA].score is None and figures[AREA].hidden
    # With nobody answering in East, there is nothing to give back: the area is Central's figure.
    figures = suppressed(
        _places(), {1: by_place[1], 2: by_place[2]}, area=(("district", "Central"), ("district", "East"))
    )
    assert figures[AREA].score == pytest.approx(figures[("district", "Central")].score)
