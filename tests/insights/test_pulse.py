"""The community trust pulse: the anonymous survey at /pulse/ and its results (issue 18, items 8–9)."""

from __future__ import annotations

import logging
import math
import re
import statistics
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import translation

from insights.figures.pulse import (
    CITY,
    MIN_ANSWERS,
    Tally,
    pulse_results,
    quarter_after,
    quarter_before,
    quarter_of,
    quarters_to,
    suppressed,
)
from insights.models import PulseAnswer, PulseResponse, PulseStatement
from insights.pulse import COOKIE, pulse_record, pulse_score
from tests import factories

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
TODAY = datetime(2026, 11, 20, 12, tzinfo=CHICAGO)  # the fourth quarter of 2026
ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) PulseTestBrowser/9.9"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # the per-address allowance is counted in the cache
    yield
    cache.clear()


@pytest.fixture
def places(db):
    """Two districts: North (Alder, Birch) and South (Cedar), and Dune outside any district."""
    return {
        "alder": factories.NeighborhoodFactory(name="Alder", slug="alder", district="North"),
        "birch": factories.NeighborhoodFactory(name="Birch", slug="birch", district="North"),
        "cedar": factories.NeighborhoodFactory(name="Cedar", slug="cedar", district="South"),
        "dune": factories.NeighborhoodFactory(name="Dune", slug="dune", district=""),
    }


def statements():
    return list(PulseStatement.objects.filter(active=True).order_by("position", "id"))


def answer_data(neighborhood, values, **extra):
    data = {"neighborhood": neighborhood.slug, **extra}
    for statement, value in zip(statements(), values, strict=True):
        data[f"s{statement.pk}"] = str(value)
    return data


def answers(neighborhood, count, values=(4, 4, 4, 4), quarter_day=None):
    """``count`` residents of ``neighborhood`` answering ``values`` (through the service)."""
    asked = statements()
    for _ in range(count):
        pulse_record(
            neighborhood=neighborhood,
            language="en",
            answers=dict(zip(asked, values, strict=True)),
            today=quarter_day or TODAY.date(),
        )


def post(client, data, path="/pulse/"):
    return client.post(path, data, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)


# --- the survey ------------------------------------------------------------------------------------


def test_the_migration_seeds_four_statements_in_both_languages():
    from insights.pulse import DEFAULT_STATEMENTS

    seeded = statements()
    assert [(s.text_en, s.text_es) for s in seeded] == DEFAULT_STATEMENTS
    assert len(seeded) == 4
    assert all(s.text_en and s.text_es and s.text_en != s.text_es for s in seeded)
    assert "respect" in seeded[0].text_en and "respeto" in seeded[0].text_es


def test_the_page_asks_every_active_statement_in_english_and_in_spanish(client, places):
    english = client.get("/pulse/?neighborhood=birch").content.decode()
    spanish = client.get("/es/pulse/").content.decode()
    for statement in statements():
        assert f"<legend>{statement.text_en}</legend>" in english
        assert f"<legend>{statement.text_es}</legend>" in spanish
    assert english.count('type="radio"') == 4 * 5
    assert re.search(r'<option value="birch" selected>Birch</option>', english)  # offered for a neighborhood
    assert '<html lang="es">' in spanish
    with translation.override("es"):
        for text in ("How is your neighborhood?", "Strongly agree", "Send my answers"):
            assert translation.gettext(text) != text and translation.gettext(text) in spanish


def test_an_answer_keeps_the_quarter_the_place_the_language_the_score_and_the_answers(client, places):
    graffiti = factories.CategoryFactory(name_en="Graffiti", name_es="Grafiti")
    response = post(client, answer_data(places["alder"], [5, 4, 2, 1], top_problem=str(graffiti.pk)), "/es/pulse/")
    assert response.status_code == 200
    assert 'id="pulse-done"' in response.content.decode()
    kept = PulseResponse.objects.get()
    assert kept.quarter == date(2026, 10, 1)
    assert kept.neighborhood == places["alder"] and kept.language == "es" and kept.top_problem == graffiti
    assert kept.score == pytest.approx((100 + 75 + 25 + 0) / 4)
    assert sorted(PulseAnswer.objects.filter(response=kept).values_list("value", flat=True)) == [1, 2, 4, 5]


def test_the_survey_stores_nothing_that_identifies_a_person(client, places, caplog):
    caplog.set_level(logging.DEBUG)
    response = post(client, answer_data(places["cedar"], [3, 3, 4, 5]))
    assert response.status_code == 200
    kept = PulseResponse.objects.get()
    # What a response is: no time finer than the quarter, no address, no agent, no contact, no session.
    fields = {f.name for f in PulseResponse._meta.get_fields() if f.concrete}
    assert fields == {"id", "quarter", "neighborhood", "language", "score", "top_problem"}
    assert {f.name for f in PulseAnswer._meta.get_fields() if f.concrete} == {"id", "response", "statement", "value"}
    # Its key is random (version 4), so the rows' order does not give the answers' order.
    assert isinstance(kept.pk, uuid.UUID) and kept.pk.version == 4
    stored = repr(list(PulseResponse.objects.values())) + repr(list(PulseAnswer.objects.values()))
    assert ADDRESS not in stored and "PulseTestBrowser" not in stored
    # The cookie holds the quarter and its signature, nothing else.
    cookie = response.cookies[COOKIE]
    assert cookie.value.split(":")[0] == "2026-10-01" and ADDRESS not in cookie.value
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert ADDRESS not in caplog.text and "PulseTestBrowser" not in caplog.text


def test_one_answer_per_device_per_quarter(client, places):
    assert post(client, answer_data(places["alder"], [4, 4, 4, 4])).status_code == 200
    again = post(client, answer_data(places["alder"], [1, 1, 1, 1]))
    assert again.status_code == 200 and "already answered this quarter" in again.content.decode()
    assert "already answered this quarter" in client.get("/pulse/").content.decode()
    assert PulseResponse.objects.count() == 1
    # Next quarter the same browser is asked again.
    with time_machine.travel(datetime(2027, 1, 2, 9, tzinfo=CHICAGO), tick=False):
        page = client.get("/pulse/").content.decode()
        assert 'id="pulse-form"' in page
        assert post(client, answer_data(places["alder"], [2, 2, 2, 2])).status_code == 200
    assert sorted(PulseResponse.objects.values_list("quarter", flat=True)) == [date(2026, 10, 1), date(2027, 1, 1)]


def test_a_forged_cookie_does_not_stop_an_answer_nor_does_a_copied_one_of_another_quarter(client, places):
    client.cookies[COOKIE] = "2026-10-01:forged"
    assert 'id="pulse-form"' in client.get("/pulse/").content.decode()
    with time_machine.travel(datetime(2026, 8, 1, 9, tzinfo=CHICAGO), tick=False):
        post(client, answer_data(places["alder"], [4, 4, 4, 4]))  # answered in Q3: the cookie says Q3
    assert 'id="pulse-form"' in client.get("/pulse/").content.decode()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"neighborhood": ""}, "Choose your neighborhood."),
        ({"neighborhood": "atlantis"}, "Choose one of the neighborhoods listed."),
        ({"first": ""}, "Choose an answer for this statement."),
        ({"first": "9"}, "Choose one of the five answers."),
        ({"first": "<script>"}, "Choose one of the five answers."),
        ({"top_problem": "99999"}, "Choose one of the problems listed, or no answer."),
        ({"top_problem": "x" * 5000}, "Choose one of the problems listed, or no answer."),
    ],
)
def test_bad_answers_are_refused_with_a_clear_message_and_change_nothing(client, places, change, message):
    data = answer_data(places["alder"], [4, 4, 4, 4])
    first = f"s{statements()[0].pk}"
    for key, value in change.items():
        data[first if key == "first" else key] = value
    response = post(client, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and message in html
    assert re.search(r'value="4"[^>]*checked', html) or change.get("first") is not None  # the answers are kept
    assert PulseResponse.objects.count() == 0 and PulseAnswer.objects.count() == 0
    assert COOKIE not in response.cookies


def test_the_honeypot_and_a_mangled_post_change_nothing(client, places):
    assert post(client, {**answer_data(places["alder"], [4, 4, 4, 4]), "website": "spam"}).status_code == 400
    assert post(client, {"neighborhood": ["alder", "birch"], "s1": ["1", "2"]}).status_code == 400
    assert post(client, {}).status_code == 400
    assert PulseResponse.objects.count() == 0


def test_one_address_gives_ten_answers_a_day_at_most(client, places):
    for _ in range(10):
        client.cookies.clear()  # a resident clearing the cookie each time
        assert post(client, answer_data(places["alder"], [4, 4, 4, 4])).status_code == 200
    client.cookies.clear()
    refused = post(client, answer_data(places["alder"], [4, 4, 4, 4]))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert PulseResponse.objects.count() == 10
    # Corrections do not use the allowance up (another address, asked again after an error).
    cache.clear()
    for _ in range(12):
        assert post(client, answer_data(places["alder"], [4, 4, 4, 4]) | {"neighborhood": ""}).status_code == 400
    assert post(client, answer_data(places["alder"], [4, 4, 4, 4])).status_code == 200


def test_an_edited_statement_is_asked_as_edited_and_an_inactive_one_not_at_all(client, places):
    first, second = statements()[:2]
    PulseStatement.objects.filter(pk=first.pk).update(text_es="Me tratan bien.")
    PulseStatement.objects.filter(pk=second.pk).update(active=False)
    html = client.get("/es/pulse/").content.decode()
    assert "<legend>Me tratan bien.</legend>" in html and second.text_es not in html
    assert html.count('type="radio"') == 3 * 5


def test_without_active_statements_the_survey_says_it_is_closed(client, places):
    PulseStatement.objects.update(active=False)
    assert "The survey is closed" in client.get("/pulse/").content.decode()
    assert post(client, {"neighborhood": "alder"}).status_code == 400
    assert PulseResponse.objects.count() == 0


def test_the_survey_is_offered_after_feedback_for_the_issues_neighborhood(client, cat, place):
    from tests.cases.web.public.test_public_status import resolved

    issue = resolved(cat, place, factories.officer(neighborhoods=[place]))
    response = client.post(
        f"/report/{issue.tracking_code}/", {"fixed": "yes", "satisfaction": "4", "comment": ""}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302 and response["Location"].endswith("?feedback=sent")
    page = client.get(response["Location"]).content.decode()
    assert 'id="pulse-invite"' in page and f'href="/pulse/?neighborhood={place.slug}"' in page
    assert 'id="pulse-invite"' not in client.get(f"/report/{issue.tracking_code}/").content.decode()


# --- the figures ---------------------------------------------------------------------------------


def test_quarters():
    assert quarter_of(date(2026, 12, 31)) == date(2026, 10, 1) and quarter_of(date(2026, 1, 1)) == date(2026, 1, 1)
    assert quarter_after(date(2026, 10, 1)) == date(2027, 1, 1) and quarter_after(date(2026, 4, 1)) == date(2026, 7, 1)
    assert quarter_before(date(2026, 1, 1)) == date(2025, 10, 1) and quarter_before(date(2026, 7, 1)) == date(
        2026, 4, 1
    )
    assert quarters_to(date(2026, 2, 3), 3) == [date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1)]


def test_a_score_is_the_mean_on_a_0_to_100_scale_with_a_95_percent_margin():
    assert pulse_score([1, 1, 1]) == 0 and pulse_score([5, 5, 5, 5]) == 100 and pulse_score([3, 4]) == 62.5
    scores = [0, 25, 50, 50, 75, 100, 100, 62.5, 37.5, 87.5, 12.5]
    tally = sum((Tally(1, s, s * s) for s in scores), Tally())
    assert tally.score == pytest.approx(statistics.mean(scores))
    assert tally.margin == pytest.approx(1.96 * statistics.stdev(scores) / math.sqrt(len(scores)))
    assert Tally(1, 50, 2500).margin is None and Tally().score is None


def test_the_figures_add_up_from_the_neighborhoods(places):
    answers(places["alder"], 12, (5, 5, 5, 5))  # 100 each
    answers(places["birch"], 10, (3, 3, 3, 3))  # 50 each
    answers(places["cedar"], 10, (1, 1, 1, 1))  # 0 each
    answers(places["alder"], 30, (1, 1, 1, 1), quarter_day=date(2026, 7, 15))  # the quarter before
    results = pulse_results(list(places.values()), [date(2026, 7, 1), date(2026, 10, 1)])
    now = results[date(2026, 10, 1)]
    assert now[("neighborhood", places["alder"].pk)].score == 100
    north = now[("district", "North")]
    assert north.n == 22 and north.score == pytest.approx((12 * 100 + 10 * 50) / 22)
    assert north.margin == pytest.approx(1.96 * statistics.stdev([100] * 12 + [50] * 10) / math.sqrt(22))
    assert now[CITY].n == 32 and now[CITY].score == pytest.approx(1700 / 32)
    assert results[date(2026, 7, 1)][CITY].n == 30 and results[date(2026, 7, 1)][CITY].score == 0


class _Place:
    def __init__(self, pk, district):
        self.pk, self.district = pk, district


def _shown(neighborhoods, counts):
    figures = suppressed(neighborhoods, {pk: Tally(n, 50.0 * n, 2500.0 * n) for pk, n in counts.items()})
    return {key for key, figure in figures.items() if figure.score is not None}


def test_fewer_than_ten_answers_give_no_figure():
    places = [_Place(1, "North"), _Place(2, "North")]
    assert _shown(places, {1: MIN_ANSWERS, 2: MIN_ANSWERS}) == {
        ("neighborhood", 1),
        ("neighborhood", 2),
        ("district", "North"),
        CITY,
    }
    assert _shown(places, {1: 9, 2: 0}) == set()
    figures = suppressed(places, {1: Tally(9, 450, 22500)})
    assert figures[("neighborhood", 1)].hidden and figures[("neighborhood", 1)].margin is None


def test_a_hidden_neighborhood_cannot_be_worked_out_from_its_district():
    places = [_Place(1, "North"), _Place(2, "North"), _Place(3, "North")]
    # Birch's 3 answers are hidden; North less Alder would give them back, so Alder is hidden too.
    assert _shown(places, {1: 15, 2: 3, 3: 0}) == {("district", "North"), CITY}
    # Hidden ones that add up to ten or more together need nothing more hidden.
    assert _shown(places, {1: 15, 2: 5, 3: 5}) == {("neighborhood", 1), ("district", "North"), CITY}
    # The smallest shown one is hidden first.
    assert _shown(places, {1: 40, 2: 12, 3: 4}) == {("neighborhood", 1), ("district", "North"), CITY}


def test_a_hidden_district_cannot_be_worked_out_from_the_city():
    places = [_Place(1, "North"), _Place(2, "South"), _Place(3, "South"), _Place(4, "")]
    # North (5) is hidden; the city less South and Dune would give it back: South, the smaller
    # shown, goes with its neighborhoods.
    shown = _shown(places, {1: 5, 2: 20, 3: 20, 4: 50})
    assert shown == {("neighborhood", 4), CITY}
    # Two hidden places adding up to ten or more: nothing else hidden.
    shown = _shown(places, {1: 5, 2: 20, 3: 20, 4: 5})
    assert shown == {("neighborhood", 2), ("neighborhood", 3), ("district", "South"), CITY}


# --- where the figures are shown ---------------------------------------------------------------------


@pytest.fixture
def boss(db):
    return factories.supervisor(username="pulseboss")


def test_the_dashboard_shows_the_score_its_margin_the_trend_and_the_places(client, boss, places):
    answers(places["alder"], 12, (5, 5, 5, 5))
    answers(places["birch"], 4, (3, 3, 3, 3))
    answers(places["cedar"], 10, (2, 2, 2, 2))
    answers(places["cedar"], 10, (4, 4, 4, 4), quarter_day=date(2026, 5, 5))
    client.force_login(boss)
    html = client.get("/dashboard/?start=2026-10-01&end=2026-11-20").content.decode()
    section = html[html.index('id="pulse"') : html.index('id="officers"')]
    city = statistics.mean([100] * 12 + [50] * 4 + [25] * 10)
    margin = 1.96 * statistics.stdev([100] * 12 + [50] * 4 + [25] * 10) / math.sqrt(26)
    assert f"<strong>{city:.0f} ± {margin:.0f}</strong>" in section and "answers: 26" in section
    assert '<svg class="pulse-chart"' in section and "Q4 2026" in section and "Q2 2026" in section
    # North: Alder 12 and Birch 4 → 16 shown; South: Cedar 10.
    assert re.search(r'<th scope="row">North</th><td class="num">\d+ ± \d+</td><td class="num">16</td>', section)
    assert re.search(r'<th scope="row">South</th><td class="num">25 ± 0</td><td class="num">10</td>', section)
    # A district's page lists its neighborhoods, Birch hidden — and Alder with it.
    north = client.get("/dashboard/?start=2026-10-01&end=2026-11-20&district=North").content.decode()
    north = north[north.index('id="pulse"') : north.index('id="officers"')]
    assert '<th scope="row">Birch</th><td class="num">fewer than 10 answers</td><td class="num">under 10</td>' in north
    assert '<th scope="row">Alder</th><td class="num">fewer than 10 answers</td>' in north
    for statement in statements():
        assert statement.text_en in north


def test_the_dashboard_reads_the_pulse_in_a_fixed_number_of_queries(
    client, boss, places, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(boss)
    answers(places["alder"], 10)
    with CaptureQueriesContext(connection) as small:
        client.get("/dashboard/?start=2026-10-01&end=2026-11-20")
    answers(places["alder"], 40)
    answers(places["cedar"], 25, quarter_day=date(2026, 2, 2))
    with CaptureQueriesContext(connection) as large:
        client.get("/dashboard/?start=2026-10-01&end=2026-11-20")
    pulse = [q for q in large.captured_queries if "insights_pulse" in q["sql"]]
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(pulse) == 3  # the tallies, the statements' scores, the top problems


def test_transparency_shows_the_scores_by_district_and_neighborhood_in_both_languages(client, places):
    answers(places["alder"], 12, (4, 4, 4, 4))
    answers(places["cedar"], 3, (2, 2, 2, 2))
    answers(places["dune"], 8, (2, 2, 2, 2))  # South and Dune hidden: 11 answers together
    answers(places["alder"], 11, (2, 2, 2, 2), quarter_day=date(2026, 8, 8))
    html = client.get("/transparency/").content.decode()
    section = html[html.index('id="pulse"') : html.index('class="card about-figures"')]
    assert '<th scope="row"><span class="pulse-indent">Alder</span></th><td class="num">75 ± 0</td>' in section
    assert re.search(
        r'Alder</span></th><td class="num">75 ± 0</td><td class="num">12</td><td class="num">25 ± 0', section
    )
    assert '<span class="pulse-indent">Cedar</span></th><td class="num">fewer than 10 answers</td>' in section
    assert '<th scope="row">South</th><td class="num">fewer than 10 answers</td>' in section
    assert '<tr class="pulse-alone"><th scope="row">Dune</th><td class="num">fewer than 10 answers</td>' in section
    assert "Q4 2026" in section and "Q3 2026" in section and 'href="/pulse/"' in section
    spanish = client.get("/es/transparency/").content.decode()
    with translation.override("es"):
        for text in ("Community trust", "Whole city", "Answer the survey"):
            assert translation.gettext(text) != text and translation.gettext(text) in spanish
        assert translation.gettext("Q%(number)s %(year)s") % {"number": 4, "year": 2026} in spanish


# --- the admin -----------------------------------------------------------------------------------------


@pytest.fixture
def administrator(db):
    user = factories.UserFactory(username="admin2", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrator"))
    return user


def _change(client, statement, **changes):
    data = {
        "text_en": statement.text_en,
        "text_es": statement.text_es,
        "position": statement.position,
        "active": "on" if statement.active else "",
        **changes,
    }
    return client.post(f"/admin/insights/pulsestatement/{statement.pk}/change/", data)


def test_the_administrator_edits_the_statements_in_the_admin(client, administrator):
    client.force_login(administrator)
    first = statements()[0]
    assert client.get("/admin/insights/pulsestatement/").status_code == 200
    response = _change(client, first, text_es="La policía me trata con respeto.")
    assert response.status_code == 302
    assert PulseStatement.objects.get(pk=first.pk).text_es == "La policía me trata con respeto."


def test_the_survey_keeps_three_to_five_statements(client, administrator):
    client.force_login(administrator)
    four = statements()
    # A fifth is fine, a sixth is refused.
    add = {
        "text_en": "Police explain their decisions.",
        "text_es": "La policía explica sus decisiones.",
        "position": 50,
        "active": "on",
    }
    assert client.post("/admin/insights/pulsestatement/add/", add).status_code == 302
    refused = client.post("/admin/insights/pulsestatement/add/", {**add, "position": 60})
    assert refused.status_code == 200 and "at most 5 statements" in refused.content.decode()
    assert PulseStatement.objects.filter(active=True).count() == 5
    # Down to three, then no further.
    assert _change(client, four[0], active="").status_code == 302
    assert _change(client, four[1], active="").status_code == 302
    refused = _change(client, four[2], active="")
    assert "at least 3 statements" in refused.content.decode()
    assert PulseStatement.objects.filter(active=True).count() == 3


def test_an_answered_statement_cannot_be_deleted_only_made_inactive(client, administrator, places):
    client.force_login(administrator)
    answers(places["alder"], 1)
    first = statements()[0]
    assert client.post(f"/admin/insights/pulsestatement/{first.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PulseStatement.objects.filter(pk=first.pk).exists()
