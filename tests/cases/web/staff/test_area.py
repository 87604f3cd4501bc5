"""Staff lists open on the user's own area (issue 19, item 6): the issue list, the outreach log
and the problems list show an officer's neighborhoods (a supervisor's districts), each with a
"Whole city" link; a neighborhood chosen in the filters wins; no area, no switch."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.services import activity_create
from partners.selectors import staff_area
from tests import factories

pytestmark = pytest.mark.django_db


def _codes(response) -> set[str]:
    return {issue.tracking_code for issue in response.context["page"].object_list}


def _current(response) -> str | None:
    match = re.search(r'data-area="(\w+)" aria-current="true"', response.content.decode())
    return match.group(1) if match else None


@pytest.fixture
def places(neighborhood):
    """The officer's neighborhood, another of the same district, and one of another district."""
    return {
        "mine": neighborhood,
        "same_district": factories.NeighborhoodFactory(name="Longfellow", district=neighborhood.district),
        "away": factories.NeighborhoodFactory(name="Westport", district="West"),
    }


@pytest.fixture
def spread(places, category):
    return {name: factories.IssueFactory(neighborhood=place, category=category) for name, place in places.items()}


def test_staff_area_names_districts_then_the_neighborhoods_outside_them(places):
    user = factories.supervisor(districts=["West", "West", ""], neighborhoods=[places["mine"], places["away"]])
    area = staff_area(user)
    assert area.districts == ("West",)
    assert area.neighborhood_ids == {places["mine"].pk, places["away"].pk}
    assert area.extra_neighborhood_ids == {places["mine"].pk}
    assert area.label == f"West, {places['mine'].name}"
    assert staff_area(factories.officer()).is_empty and staff_area(factories.officer()).label == ""


def test_the_issue_list_opens_on_the_officers_neighborhoods(client, officer, spread, places):
    client.force_login(officer)
    response = client.get("/issues/")
    assert _codes(response) == {spread["mine"].tracking_code}
    html = response.content.decode()
    assert _current(response) == "mine" and f"My area: {places['mine'].name}" in html
    city = client.get("/issues/?area=city")
    assert _codes(city) == {issue.tracking_code for issue in spread.values()}
    assert _current(city) == "city"
    assert '<input type="hidden" name="area" value="city">' in city.content.decode()
    # Filters combine with the area; a neighborhood chosen in the filters wins over it.
    assert _codes(client.get("/issues/?status=open")) == {spread["mine"].tracking_code}
    chosen = client.get(f"/issues/?neighborhood={places['away'].pk}")
    assert _codes(chosen) == {spread["away"].tracking_code} and _current(chosen) is None
    # An area parameter that means nothing is the default, never an error.
    assert _codes(client.get("/issues/?area=everywhere")) == {spread["mine"].tracking_code}


def test_an_empty_area_offers_the_whole_city(client, officer, places, category):
    factories.IssueFactory(neighborhood=places["away"], category=category)
    client.force_login(officer)
    html = client.get("/issues/").content.decode()
    assert "Nothing here in your area." in html and 'href="?area=city"' in html


def test_paging_keeps_the_area(client, officer, places, category, monkeypatch):
    monkeypatch.setattr("cases.web.staff.views.PAGE_SIZE", 2)
    for _ in range(3):
        factories.IssueFactory(neighborhood=places["away"], category=category)
    client.force_login(officer)
    first = client.get("/issues/?area=city")
    link = re.search(r'rel="next" href="([^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "area=city" in link
    assert len(_codes(client.get("/issues/" + link))) == 1


def test_a_supervisor_lists_open_on_their_districts(client, supervisor, spread, places):
    client.force_login(supervisor)
    assert _codes(client.get("/issues/")) == {spread["mine"].tracking_code, spread["same_district"].tracking_code}
    assert _codes(client.get("/issues/?area=city")) == {issue.tracking_code for issue in spread.values()}


def test_no_area_no_switch(client, spread):
    admin = factories.supervisor(username="no-area")
    client.force_login(admin)
    response = client.get("/issues/")
    assert "data-area-switch" not in response.content.decode()
    assert _codes(response) == {issue.tracking_code for issue in spread.values()}


def _activity(officer, neighborhood, title):
    start = timezone.now() - timedelta(days=1)
    return activity_create(
        actor=officer,
        kind="community_meeting",
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        neighborhood=neighborhood,
    )


def test_the_outreach_log_and_its_export_follow_the_area(client, officer, supervisor, places):
    _activity(officer, places["mine"], "Block party")
    _activity(officer, places["away"], "Westport clean-up")
    client.force_login(officer)
    titles = [a.title for a in client.get("/outreach/").context["page"].object_list]
    assert titles == ["Block party"]
    city = client.get("/outreach/?area=city")
    assert {a.title for a in city.context["page"].object_list} == {"Block party", "Westport clean-up"}
    assert _current(city) == "city"
    client.force_login(supervisor)
    export = b"".join(client.get("/outreach/export.csv").streaming_content).decode()
    assert "Block party" in export and "Westport" not in export
    everywhere = b"".join(client.get("/outreach/export.csv?area=city").streaming_content).decode()
    assert "Westport clean-up" in everywhere


def test_the_problems_list_follows_the_area_and_keeps_city_wide_problems(client, officer, places):
    factories.ProblemFactory(title="Tags on the overpass", neighborhood=places["mine"])
    factories.ProblemFactory(title="Dumping in Westport", neighborhood=places["away"])
    factories.ProblemFactory(title="Copper theft corridor", neighborhood=None)
    client.force_login(officer)
    html = client.get("/problems/").content.decode()
    assert "Tags on the overpass" in html and "Copper theft corridor" in html and "Dumping in Westport" not in html
    html = client.get("/problems/?area=city").content.decode()
    assert "Dumping in Westport" in html
    # The stage tabs keep the area.
    assert re.search(r'href="\?area=city&amp;stage=analysis"', html) or re.search(
        r'href="\?stage=analysis&amp;area=city"', html
    )


def test_the_switch_is_in_spanish_for_a_spanish_speaking_officer(client, officer, spread):
    officer.staff_profile.language = "es"
    officer.staff_profile.save()
    client.force_login(officer)
    html = client.get("/issues/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mi zona:" in html and "Toda la ciudad" in html
