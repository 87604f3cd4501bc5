"""Every list page of the outreach log and the directories runs a fixed number of queries.

Each page is requested at two data sizes; the count must be the same at both
and stay under a pinned ceiling (django_assert_max_num_queries).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.services import activity_create, activity_update
from partners.models import PartnerContact
from tests import factories

pytestmark = pytest.mark.django_db


def populate(n, *, neighborhood, category, officers, supervisor):
    """n neighborhoods, partners, issues and activities, each activity with 2 officers, 2 partners, 2 issues."""
    neighborhoods = [neighborhood] + [factories.NeighborhoodFactory(district="Central") for _ in range(n - 1)]
    partners = []
    for i in range(n):
        partner = factories.PartnerFactory(kind="school" if i % 2 else "faith")
        partner.neighborhoods.set(neighborhoods[: 1 + i % 3])
        PartnerContact.objects.create(partner=partner, name=f"Contact {i}", is_primary=True)
        partners.append(partner)
    issues = [
        factories.IssueFactory(neighborhood=neighborhoods[i % len(neighborhoods)], category=category)
        for i in range(2 * n)
    ]
    activity = None
    for i in range(n):
        start = timezone.now() - timedelta(days=i + 1)
        activity = activity_create(
            actor=officers[0],
            kind="community_meeting",
            title=f"Meeting {i}",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            neighborhood=neighborhood if i % 2 == 0 else neighborhoods[i],
            officers=officers,
            partners=[partners[0], partners[i]] if i else partners[:2],
            issues=issues[2 * i : 2 * i + 2],
        )
    # The last activity gets an edit history as long as the data set.
    for i in range(n):
        activity_update(activity=activity, actor=supervisor, attendance=i + 1, partners=partners[: 1 + i % 3])
    return {"partner": partners[0], "activity": activity, "neighborhood": neighborhood}


# Ceilings are the measured counts: session, user, permissions and roles (5), then the page's own reads.
PAGES = [
    ("/outreach/", 12),
    ("/outreach/?area=city", 12),
    ("/outreach/?mine=on&kind=community_meeting&partner={partner}&neighborhood={neighborhood}", 14),
    ("/outreach/{activity}/", 11),
    ("/outreach/export.csv", 9),  # +1: the supervisor's area, which the export follows as the list does
    ("/outreach/issue-search/?q=tags", 5),
    ("/partners/", 9),
    ("/partners/?cops_type=community&neighborhood={neighborhood}", 10),
    ("/partners/{partner}/", 13),
    ("/partners/search/?q=partner", 5),
    ("/neighborhoods/", 8),
    ("/neighborhoods/{slug}/", 15),
]


@pytest.mark.parametrize("path, ceiling", PAGES, ids=[p for p, _ in PAGES])
def test_fixed_query_count(client, django_assert_max_num_queries, neighborhood, category, supervisor, path, ceiling):
    officers = [factories.officer(neighborhoods=[neighborhood]) for _ in range(2)]
    # The export is for supervisors; every other page is seen as the officer who logged the activities.
    client.force_login(supervisor if "export" in path else officers[0])
    counts, shown = [], []
    for size in (3, 40):
        world = populate(size, neighborhood=neighborhood, category=category, officers=officers, supervisor=supervisor)
        url = path.format(
            partner=world["partner"].pk,
            neighborhood=world["neighborhood"].pk,
            activity=world["activity"].pk,
            slug=world["neighborhood"].slug,
        )
        with django_assert_max_num_queries(ceiling) as captured:
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200
        if response.context and "page" in response.context:
            shown.append(len(response.context["page"].object_list))
        counts.append(len(captured))
    assert counts[0] == counts[1], f"{path}: {counts[0]} queries with little data, {counts[1]} with more"
    if shown:  # list pages: the second request really showed more rows
        assert 0 < shown[0] < shown[1], shown
