"""Partner and neighborhood directories."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.services import activity_create
from partners.models import Partner, PartnerContact
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log(actor, neighborhood, title, *, days_ago=1, **kwargs):
    start = timezone.now() - timedelta(days=days_ago)
    return activity_create(
        actor=actor,
        kind="community_meeting",
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        neighborhood=neighborhood,
        attendance=kwargs.pop("attendance", 12),
        **kwargs,
    )


@pytest.fixture
def directory(officer, neighborhood, category):
    other = factories.NeighborhoodFactory(name="Columbus Park", district="East", beat="E-210")
    school = factories.PartnerFactory(name="Garfield Elementary", kind=Partner.Kind.SCHOOL, languages=["en", "es"])
    church = factories.PartnerFactory(name="Sacred Heart Parish", kind=Partner.Kind.FAITH)
    store = factories.PartnerFactory(name="Sun Fresh Market", kind=Partner.Kind.BUSINESS)
    gone = factories.PartnerFactory(name="Closed Youth Center", kind=Partner.Kind.NONPROFIT, is_active=False)
    school.neighborhoods.set([neighborhood])
    church.neighborhoods.set([neighborhood, other])
    store.neighborhoods.set([other])
    PartnerContact.objects.create(partner=school, name="Ms. Ortega", role="Principal", phone="816-555-0142")
    now = timezone.now()
    factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.IssueFactory(
        neighborhood=neighborhood,
        category=category,
        created_at=now - timedelta(hours=100),
        due_at=now - timedelta(hours=2),
        escalation_level=1,
    )
    factories.IssueFactory(neighborhood=neighborhood, category=category, status="resolved", outcome="resolved")
    factories.IssueFactory(neighborhood=other, category=category)
    log(officer, neighborhood, "Back-to-school night", partners=[school, church], attendance=120)
    log(officer, neighborhood, "Parish festival", partners=[church], days_ago=20)
    log(officer, other, "Market walk", partners=[store], days_ago=200)
    return {"other": other, "school": school, "church": church, "store": store, "gone": gone}


class TestPartnerDirectory:
    def names(self, response):
        return [p.name for p in response.context["page"].object_list]

    def test_lists_active_partners_with_counts(self, client, officer, directory):
        client.force_login(officer)
        response = client.get("/partners/")
        assert response.status_code == 200
        assert self.names(response) == ["Garfield Elementary", "Sacred Heart Parish", "Sun Fresh Market"]
        counts = {p.name: p.activity_count for p in response.context["page"].object_list}
        assert counts == {"Garfield Elementary": 1, "Sacred Heart Parish": 2, "Sun Fresh Market": 1}
        html = response.content.decode()
        assert "Other government agencies" in html  # a school's COPS type
        assert "Private businesses" in html

    def test_filters(self, client, officer, neighborhood, directory):
        client.force_login(officer)
        assert self.names(client.get("/partners/?kind=faith")) == ["Sacred Heart Parish"]
        assert self.names(client.get("/partners/?cops_type=government")) == ["Garfield Elementary"]
        assert self.names(client.get("/partners/?cops_type=community")) == ["Sacred Heart Parish"]
        assert self.names(client.get(f"/partners/?neighborhood={directory['other'].pk}")) == [
            "Sacred Heart Parish",
            "Sun Fresh Market",
        ]
        assert self.names(client.get("/partners/?q=fresh")) == ["Sun Fresh Market"]
        assert "Closed Youth Center" in self.names(client.get("/partners/?inactive=on"))
        response = client.get("/partners/?kind=bogus")
        assert response.status_code == 200 and "kind" in response.context["form"].errors

    def test_detail_shows_activities_contacts_neighborhoods_and_cops_type(
        self, client, officer, neighborhood, directory
    ):
        church = directory["church"]
        client.force_login(officer)
        response = client.get(f"/partners/{church.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert [a.title for a in response.context["activities"]] == ["Back-to-school night", "Parish festival"]
        assert response.context["totals"]["attendance"] == 132
        assert "Community members and groups" in html
        assert neighborhood.name in html and "Columbus Park" in html
        school = client.get(f"/partners/{directory['school'].pk}/").content.decode()
        assert "Ms. Ortega" in school and "Principal" in school and "816-555-0142" in school
        assert "Spanish" in school
        assert client.get("/partners/999999/").status_code == 404

    def test_search_endpoint(self, client, officer, directory):
        street = factories.PartnerFactory(name="Market Street Association", kind="neighborhood_association")
        client.force_login(officer)
        results = client.get("/partners/search/?q=market").json()["results"]
        # Names starting with the query first.
        assert [r["name"] for r in results] == ["Market Street Association", "Sun Fresh Market"]
        assert results[0] == {
            "id": street.pk,
            "name": "Market Street Association",
            "detail": "Neighborhood association · Community members and groups",
        }
        # Inactive partners are never offered.
        names = [r["name"] for r in client.get("/partners/search/?q=e").json()["results"]]
        assert names == ["Garfield Elementary", "Market Street Association", "Sacred Heart Parish", "Sun Fresh Market"]
        assert client.get("/partners/search/?q=closed").json() == {"results": []}
        assert client.get("/partners/search/").json() == {"results": []}


class TestNeighborhoodDirectory:
    def test_list_counts_open_and_overdue_issues_and_recent_outreach(self, client, officer, neighborhood, directory):
        client.force_login(officer)
        response = client.get("/neighborhoods/")
        assert response.status_code == 200
        rows = {n.name: n for n in response.context["page"].object_list}
        here, there = rows[neighborhood.name], rows["Columbus Park"]
        assert (here.open_issues, here.overdue_issues, here.recent_activities, here.partner_count) == (2, 1, 2, 2)
        assert (there.open_issues, there.overdue_issues, there.recent_activities, there.partner_count) == (1, 0, 0, 2)
        assert float(here.recent_hours) == 2.0
        shapes = response.context["shapes"]
        assert {s["name"] for s in shapes} == {neighborhood.name, "Columbus Park"}
        assert next(s for s in shapes if s["name"] == neighborhood.name)["open"] == 2
        assert "vendor/leaflet/leaflet.js" in response.content.decode()

    def test_list_filters(self, client, officer, neighborhood, directory):
        client.force_login(officer)
        names = [n.name for n in client.get("/neighborhoods/?district=East").context["page"].object_list]
        assert names == ["Columbus Park"]
        names = [n.name for n in client.get("/neighborhoods/?q=e-210").context["page"].object_list]
        assert names == ["Columbus Park"]

    def test_detail(self, client, officer, supervisor, other_officer, neighborhood, directory):
        client.force_login(other_officer)
        response = client.get(f"/neighborhoods/{neighborhood.slug}/")
        assert response.status_code == 200
        context = response.context
        assert context["issue_figures"] == {"total": 2, "overdue": 1}
        assert [i.is_overdue for i in context["issues"]] == [True, False]  # by due time
        assert [a.title for a in context["activities"]] == ["Back-to-school night", "Parish festival"]
        assert [p.name for p in context["partners"]] == ["Garfield Elementary", "Sacred Heart Parish"]
        # Attached directly (officer) or through the whole district (supervisor); not the other district's.
        assert {p.user for p in context["staff"]} == {officer, supervisor}
        assert context["map_data"]["boundary"] == neighborhood.boundary
        assert len(context["map_data"]["points"]) == 2
        html = response.content.decode()
        assert 'id="neighborhood-map"' in html and "map-data" in html
        assert context["by_category"][0]["n"] == 2
        assert client.get("/neighborhoods/no-such-place/").status_code == 404

    def test_map_tiles_come_from_settings(self, client, officer, neighborhood, settings):
        client.force_login(officer)
        settings.MAP_TILE_URL = ""
        assert client.get(f"/neighborhoods/{neighborhood.slug}/").context["map_settings"]["tiles"] == ""
        settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
        html = client.get(f"/neighborhoods/{neighborhood.slug}/").content.decode()
        assert "https://tiles.example.org/{z}/{x}/{y}.png" in html
