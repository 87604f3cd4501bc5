"""The public status page /report/<tracking-code>/ and the code lookup."""

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from cases.models import Event, Feedback, Issue
from cases.services import issue_add_note, issue_assign, issue_hold, issue_resolve, issue_submit
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG
from tests.factories import CategoryFactory, EventFactory, officer

pytestmark = pytest.mark.django_db

NAME, EMAIL, PHONE = "Rosalind Quetzal", "rosalind.q@example.org", "816-555-0142"


@pytest.fixture
def cop(place):
    return officer(neighborhoods=[place], username="officer_vance", first_name="Victor", last_name="Vance")


def submit(cat, place, **kwargs):
    defaults = {
        "category": cat,
        "text": "Tags on the laundromat wall",
        "lat": CENTER_LAT + 0.00037,
        "lng": CENTER_LNG + 0.00041,
        "reporter_name": NAME,
        "reporter_email": EMAIL,
        "reporter_phone": PHONE,
        "contact_consent": True,
    }
    defaults.update(kwargs)
    return issue_submit(**defaults).issue


def test_status_page_shows_public_facts_and_nothing_private(client, cat, place, cop):
    issue = submit(cat, place)
    issue_assign(issue=issue, officer=cop, actor=cop)
    issue_add_note(issue=issue, actor=cop, text="INTERNAL: suspect lives at 12 Elm, call his mother", public=False)
    issue_add_note(issue=issue, actor=cop, text="Crew scheduled to paint over on Friday.", public=True)
    response = client.get(f"/report/{issue.tracking_code}/")
    html = response.content.decode()
    assert response.status_code == 200
    for shown in ("Graffiti", "Westside", "In progress", issue.tracking_code):
        assert shown in html
    assert date_filter(timezone.localtime(issue.due_at), "DATE_FORMAT") in html
    assert "Crew scheduled to paint over on Friday." in html
    for secret in (
        NAME,
        EMAIL,
        PHONE,
        "Rosalind",
        "rosalind",
        "555-0142",
        "INTERNAL",
        "12 Elm",
        "Victor",
        "Vance",
        "officer_vance",
        "laundromat",
    ):
        assert secret not in html, secret
    # Coarsened point, never the exact one.
    assert 'data-lat="39.100000"' in html and 'data-lng="-94.578000"' in html
    assert str(issue.lat) not in html and str(issue.lng) not in html


def test_spanish_status_page(client, cat, place):
    issue = submit(cat, place)
    html = client.get(f"/es/report/{issue.tracking_code}/").content.decode()
    assert '<html lang="es">' in html
    assert "Grafiti" in html and "Nuevo" in html and "Qué ha pasado" in html


def test_sensitive_category_shows_only_the_neighborhood(client, place):
    drugs = CategoryFactory(name_en="Open-air drug activity", is_public=False)
    issue = submit(drugs, place)
    html = client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert "Westside" in html
    assert "status-map" not in html and "data-lat" not in html
    assert "39.1" not in html and "-94.57" not in html
    assert "we show only the neighborhood" in html


def test_code_is_case_and_space_insensitive(client, cat, place):
    issue = submit(cat, place)
    for variant in (issue.tracking_code.lower(), issue.tracking_code.replace("-", ""), issue.tracking_code[3:]):
        response = client.get(f"/report/{variant}/")
        assert response.status_code == 200, variant
        assert issue.tracking_code in response.content.decode()


def test_unknown_code_is_a_friendly_404(client, cat, place):
    response = client.get("/report/CG-ZZZZ-ZZZZ/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that report" in html and "CG-ZZZZ-ZZZZ" in html
    assert 'name="code"' in html  # try again right there
    spanish = client.get("/es/report/CG-ZZZZ-ZZZZ/")
    assert spanish.status_code == 404 and "No encontramos ese informe" in spanish.content.decode()


def test_lookup_redirects_to_the_status_page(client, cat, place):
    issue = submit(cat, place)
    response = client.get("/report/lookup/", {"code": f"  {issue.tracking_code.lower()} "})
    assert response.status_code == 302 and response["Location"] == f"/report/{issue.tracking_code}/"
    response = client.get("/es/report/lookup/", {"code": issue.tracking_code})
    assert response["Location"] == f"/es/report/{issue.tracking_code}/"
    assert client.get("/report/lookup/", {"code": "nope"}).status_code == 404
    assert client.get("/report/lookup/").status_code == 200


def test_home_page_links_to_the_form_and_the_lookup(client):
    html = client.get("/").content.decode()
    assert 'href="/report/"' in html and 'action="/report/lookup/"' in html and "/transparency/" in html
    spanish = client.get("/es/").content.decode()
    assert 'href="/es/report/"' in spanish and "Informar de un problema" in spanish


def test_timeline_is_public_events_only_in_order(client, cat, place, cop):
    issue = submit(cat, place)
    issue_hold(issue=issue, actor=cop, reason="Waiting for the property owner")
    EventFactory(issue=issue, kind=Event.Kind.ESCALATED, is_public=False, message="Escalated to L2")
    html = client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert html.index("Reported") < html.index("Put on hold")
    assert "Waiting for the property owner" in html
    assert "Escalated to L2" not in html
    assert "(on hold: this date will move)" in html


def test_system_messages_follow_the_readers_language(client, cat, place):
    issue = submit(cat, place)
    spanish = client.post(
        "/es/report/",
        {
            "category": cat.pk,
            "description": "Igual aquí",
            "lat": issue.lat,
            "lng": issue.lng,
            "same_issue": issue.tracking_code,
            "anonymous": "on",
        },
    )
    assert spanish.status_code == 302
    english = client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert "Another resident reported the same problem." in english
    assert "Otro residente informó del mismo problema." in client.get(spanish["Location"]).content.decode()


def test_status_page_query_count_is_fixed(client, cat, place, cop, django_assert_max_num_queries):
    issue = submit(cat, place)
    with django_assert_max_num_queries(2):
        assert client.get(f"/report/{issue.tracking_code}/").status_code == 200
    for n in range(30):
        issue_add_note(issue=issue, actor=cop, text=f"Update {n}", public=n % 2 == 0)
    with django_assert_max_num_queries(2):
        response = client.get(f"/report/{issue.tracking_code}/")
    assert response.status_code == 200 and "Update 28" in response.content.decode()


# --- "is it really fixed?" --------------------------------------------------------------------


def resolved(cat, place, cop):
    issue = submit(cat, place)
    return issue_resolve(issue=issue, actor=cop, note="Painted over.")


def test_feedback_is_offered_only_once_resolved(client, cat, place, cop):
    issue = submit(cat, place)
    assert "Is it really fixed?" not in client.get(f"/report/{issue.tracking_code}/").content.decode()
    response = client.post(f"/report/{issue.tracking_code}/", {"fixed": "no", "satisfaction": "1"})
    assert response.status_code == 400
    assert Feedback.objects.count() == 0
    issue = issue_resolve(issue=issue, actor=cop, note="Painted over.")
    html = client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert "Is it really fixed?" in html and "Painted over." in html


def test_fixed_feedback_is_recorded(client, cat, place, cop):
    issue = resolved(cat, place, cop)
    response = client.post(f"/report/{issue.tracking_code}/", {"fixed": "yes", "satisfaction": "5", "comment": "Great"})
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.fixed, feedback.satisfaction, feedback.comment) == (True, 5, "Great")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED
    assert "Thank you for telling us." in client.get(response["Location"]).content.decode()


def test_not_fixed_reopens_the_issue(client, cat, place, cop):
    issue = resolved(cat, place, cop)
    response = client.post(f"/es/report/{issue.tracking_code.lower()}/", {"fixed": "no", "satisfaction": "2"})
    assert response.status_code == 302
    # Back to the page, which offers the trust survey after an answer (tests/insights/test_pulse.py).
    assert response["Location"] == f"/es/report/{issue.tracking_code}/?feedback=sent"
    issue.refresh_from_db()
    assert issue.status in Issue.OPEN_STATUSES and issue.reopen_count == 1
    assert issue.events.filter(kind=Event.Kind.REOPENED, is_public=True).exists()
    assert Feedback.objects.get().fixed is False
    html = client.get(response["Location"]).content.decode()
    assert "Reabierto" in html
    assert "¿De verdad está arreglado?" not in html  # open again: no question until it is resolved again


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"satisfaction": "3"}, "fixed"),
        ({"fixed": "maybe", "satisfaction": "3"}, "fixed"),
        ({"fixed": "yes"}, "satisfaction"),
        ({"fixed": "yes", "satisfaction": "9"}, "satisfaction"),
        ({"fixed": "yes", "satisfaction": "3", "comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_feedback_gets_a_message_and_saves_nothing(client, cat, place, cop, data, field):
    issue = resolved(cat, place, cop)
    response = client.post(f"/report/{issue.tracking_code}/", data)
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.content.decode()
    assert Feedback.objects.count() == 0
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED


def test_feedback_honeypot_saves_nothing(client, cat, place, cop):
    issue = resolved(cat, place, cop)
    response = client.post(f"/report/{issue.tracking_code}/", {"fixed": "no", "satisfaction": "1", "website": "x"})
    assert response.status_code == 400
    assert Feedback.objects.count() == 0


def test_feedback_rate_limit(client, cat, place, cop, settings):
    settings.REPORT_RATE_LIMIT = "1/h"
    issue = resolved(cat, place, cop)
    assert client.post(f"/report/{issue.tracking_code}/", {"fixed": "yes", "satisfaction": "4"}).status_code == 302
    response = client.post(f"/es/report/{issue.tracking_code}/", {"fixed": "yes", "satisfaction": "4"})
    assert response.status_code == 429
    assert "Ha enviado varios informes en poco tiempo" in response.content.decode()
    assert Feedback.objects.count() == 1


def test_status_page_writes_dates_in_the_readers_language(client, cat, place):
    issue = submit(cat, place)
    reported = timezone.make_aware(timezone.datetime(2026, 12, 7, 9, 5), timezone.get_current_timezone())
    Issue.objects.filter(pk=issue.pk).update(created_at=reported)
    english = client.get(f"/report/{issue.tracking_code}/").content.decode()
    spanish = client.get(f"/es/report/{issue.tracking_code}/").content.decode()
    assert "<dd>Dec 7, 2026</dd>" in english
    assert "<dd>7 dic 2026</dd>" in spanish and "Dec 7" not in spanish
