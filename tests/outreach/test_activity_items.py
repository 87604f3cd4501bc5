"""The outreach log's items, written in Python (outreach/cards.py): what each says, escaped, in both languages."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from outreach import selectors
from outreach.cards import activity_items
from tests import factories

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def logged(neighborhood, officer, issue_pair):
    anonymous_name = get_user_model().objects.create_user("jdoe", first_name="", last_name="")
    officer.first_name, officer.last_name = "Ana", "Ruiz"
    officer.save()
    league = factories.PartnerFactory(name="Westside <Youth> & League")
    library = factories.PartnerFactory(name="KC Public Library")
    busy = factories.ActivityFactory(
        neighborhood=neighborhood,
        kind="youth_sports",
        title='Pick-up game <script>alert("x")</script>',
        place="Garfield Park & pool",
        starts_at=datetime(2026, 12, 5, 17, 0, tzinfo=CHICAGO),
        ends_at=datetime(2026, 12, 5, 19, 30, tzinfo=CHICAGO),
        attendance=1,
        hours=Decimal("1.5"),
        follow_up_needed=True,
    )
    busy.officers.set([officer, anonymous_name])
    busy.partners.set([league, library])
    busy.issues.set(issue_pair)
    quiet = factories.ActivityFactory(
        neighborhood=neighborhood,
        kind="door_to_door",
        title="Door knocks",
        place="",
        starts_at=datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO),
        ends_at=datetime(2026, 12, 1, 10, 0, tzinfo=CHICAGO),
        attendance=12,
        hours=Decimal("1"),
    )
    return busy, quiet, officer


@pytest.fixture
def issue_pair(neighborhood, category):
    return [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(2)]


def _items(user, language="en") -> dict[int, str]:
    with translation.override(language):
        activities = list(selectors.activity_list(user, selectors.ActivityFilters()))
        html = str(activity_items(activities))
    return {int(pk): body for pk, body in re.findall(r'data-activity-id="(\d+)">(.*?)</li>', html, re.S)}


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def test_an_item_says_what_the_activity_was_escaped(logged):
    busy, quiet, officer = logged
    items = _items(officer)
    item = items[busy.pk]
    assert '<div class="activity-when">Dec 5, 2026, 17:00–19:30</div>' in item
    assert f'<a href="/outreach/{busy.pk}/">Pick-up game &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</a>' in item
    assert '<span class="badge">Youth sports</span>' in item
    assert (
        f'<a href="{busy.neighborhood.get_absolute_url()}">{busy.neighborhood.name}</a> · Garfield Park &amp; pool'
        in item
    )
    assert '<span class="badge warn">Follow-up needed</span>' in item
    assert "Officers: jdoe, Ana Ruiz" in _text(item)  # by last name, as the prefetch orders them
    assert ">KC Public Library</a>, <a " in item and ">Westside &lt;Youth&gt; &amp; League</a>" in item  # by name
    assert "1 attendee · 1.50 officer-hours · 2 issues addressed" in _text(item)
    assert "<script>" not in item

    plain = items[quiet.pk]
    assert "Dec 1, 2026, 09:00–10:00" in plain
    assert "Follow-up needed" not in plain and "Partners" not in plain and "issue" not in plain
    assert "Officers: —" in _text(plain)
    assert "12 attendees · 1 officer-hour" in _text(plain)


def test_items_speak_the_language_they_are_written_in(logged):
    busy, quiet, officer = logged
    items = _items(officer, "es")
    # The staff catalogue is still partly English (issue 19); what it has is used, as the template did.
    assert "5 dic 2026, 17:00–19:30" in items[busy.pk]
    assert "Organizaciones aliadas:" in _text(items[busy.pk]) and "Partners" not in items[busy.pk]
    assert "1.50 horas de agente" in _text(items[busy.pk]) and "officer-hours" not in items[busy.pk]


def test_the_outreach_page_shows_the_items_newest_first(client, logged):
    busy, quiet, officer = logged
    client.force_login(officer)
    html = client.get("/outreach/").content.decode()
    list_html = html[
        html.index('<ul class="activity-list"') : html.index("</ul>", html.index('<ul class="activity-list"'))
    ]
    assert list_html.index(f'data-activity-id="{busy.pk}"') < list_html.index(f'data-activity-id="{quiet.pk}"')
    assert "1 attendee · 1.50 officer-hours · 2 issues addressed" in _text(list_html)
