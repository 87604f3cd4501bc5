"""The resident's report form at /report/ and /es/report/."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import date as date_filter
from django.test import Client
from django.utils import timezone

from cases.models import Event, Issue, OutboxMessage, Report
from core.ratelimit import rate_parse
from tests.cases.web.public.public_helpers import (
    CENTER_LAT,
    CENTER_LNG,
    OUTSIDE_LAT,
    OUTSIDE_LNG,
    center_neighborhood,
    form_data,
    jpeg_bytes,
)
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory

pytestmark = pytest.mark.django_db


def counts():
    return Issue.objects.count(), Report.objects.count(), Event.objects.count(), OutboxMessage.objects.count()


def field_error(response, field):
    """The text of the error shown beside a field (its id is <field>-error)."""
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', response.content.decode(), re.S)
    return match.group(1) if match else None


# --- the page ------------------------------------------------------------------


def test_form_groups_categories_by_theme_in_english(client, place, cat):
    CategoryFactory(name_en="Broken streetlight", name_es="Farola rota", group_en="Streets", group_es="Calles")
    CategoryFactory(name_en="Old category", is_active=False, group_en="Streets")
    response = client.get("/report/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert '<h3 class="group-title" id="group-1">Property</h3>' in html
    assert '<h3 class="group-title" id="group-2">Streets</h3>' in html
    assert "Graffiti" in html and "Paint or tags on walls" in html
    assert "Broken streetlight" in html
    assert "Old category" not in html
    assert "Westside" in html  # neighborhood list for the no-map path
    assert 'name="csrfmiddlewaretoken"' in html


def test_form_in_spanish_shows_spanish_names_hints_and_groups(client, place, cat):
    response = client.get("/es/report/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in html
    assert "Propiedad" in html and "Grafiti" in html and "Pintura o marcas en paredes" in html
    assert "Informar de un problema" in html  # the page title, translated
    assert "Graffiti</span>" not in html


def test_every_label_has_its_field_and_help_is_tied_to_it(client, place, cat):
    html = client.get("/report/").content.decode()
    for field in (
        "id_description",
        "id_address",
        "id_neighborhood",
        "id_photo",
        "id_reporter_name",
        "id_reporter_email",
        "id_reporter_phone",
        "id_anonymous",
        "id_contact_consent",
    ):
        assert f'for="{field}"' in html, field
        assert f'id="{field}"' in html, field
    assert 'aria-describedby="description-help"' in html
    assert f'aria-describedby="category-{cat.pk}-hint"' in html


def test_form_page_query_count_does_not_grow(client, django_assert_max_num_queries, cat):
    center_neighborhood()
    with django_assert_max_num_queries(2):
        assert client.get("/report/").status_code == 200
    for n in range(15):
        CategoryFactory(group_en=f"Theme {n % 4}")
        NeighborhoodFactory()
    with django_assert_max_num_queries(2):
        assert client.get("/report/").status_code == 200


# --- happy paths ---------------------------------------------------------------------


def test_point_on_the_map_creates_issue_report_event_and_confirmation(client, place, cat):
    data = form_data(
        cat,
        reporter_name="Rosa Example",
        reporter_email="rosa@example.org",
        reporter_phone="816-555-0199",
        contact_consent="on",
    )
    response = client.post("/report/", data)
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert response["Location"] == f"/report/{issue.tracking_code}/"
    assert issue.neighborhood == place
    assert issue.category == cat
    assert issue.lat == pytest.approx(CENTER_LAT) and issue.lng == pytest.approx(CENTER_LNG)
    assert issue.due_at == issue.created_at + timedelta(hours=cat.target_hours_normal)
    report = issue.reports.get()
    assert report.language == "en"
    assert report.channel == Report.Channel.WEB
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == (
        "Rosa Example",
        "rosa@example.org",
        "816-555-0199",
    )
    assert report.contact_consent is True
    assert issue.events.filter(kind=Event.Kind.CREATED, is_public=True).count() == 1
    queued = OutboxMessage.objects.get()
    assert queued.recipient_email == "rosa@example.org" and issue.tracking_code in queued.subject
    assert queued.state == OutboxMessage.State.PENDING
    assert mail.outbox == []  # the worker sends it, not the request

    confirmation = client.get(response["Location"])
    html = confirmation.content.decode()
    assert "Thank you — we received your report" in html
    assert f'<p class="tracking-code" id="tracking-code">{issue.tracking_code}</p>' in html
    assert (
        f"We expect to act on it by <strong>{date_filter(timezone.localtime(issue.due_at), 'DATE_FORMAT')}</strong>"
        in html
    )
    # Shown once: a reload is the plain status page.
    assert "we received your report" not in client.get(response["Location"]).content.decode()


def test_spanish_report_is_stored_as_spanish_and_lands_on_spanish_status_page(client, place, cat):
    response = client.post("/es/report/", form_data(cat, anonymous="on"))
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert response["Location"] == f"/es/report/{issue.tracking_code}/"
    assert issue.reports.get().language == "es"
    html = client.get(response["Location"]).content.decode()
    assert "Gracias" in html and issue.tracking_code in html
    assert "Grafiti" in html


def test_address_with_neighborhood_and_no_point(client, place, cat):
    data = form_data(cat, lat="", lng="", address="1200 Grand Blvd", neighborhood=str(place.pk), anonymous="on")
    assert client.post("/report/", data).status_code == 302
    issue = Issue.objects.get()
    assert (issue.lat, issue.lng, issue.address, issue.neighborhood) == (None, None, "1200 Grand Blvd", place)


def test_neighborhood_alone(client, place, cat):
    assert client.post("/report/", form_data(cat, lat="", lng="", neighborhood=str(place.pk))).status_code == 302
    issue = Issue.objects.get()
    assert issue.neighborhood == place and issue.address == "" and issue.lat is None


def test_a_pin_and_a_different_neighborhood_chosen_are_questioned_before_anything_is_saved(client, place, cat):
    """Issue 15, item 6: the pin used to win silently; now the form says so and asks."""
    other = NeighborhoodFactory(name="River Market")
    response = client.post("/report/", form_data(cat, neighborhood=str(other.pk)))
    assert response.status_code == 200
    assert not Issue.objects.exists() and not Report.objects.exists()
    html = response.content.decode()
    assert "The pin on the map is in Westside, but you chose River Market from the list. Which is right?" in html
    assert 'id="location-pin"' in html and "Where the pin is: Westside" in html
    assert 'id="location-neighborhood"' in html and "River Market (the pin is removed)" in html


def test_the_resident_says_the_pin_is_right(client, place, cat):
    other = NeighborhoodFactory(name="River Market")
    data = form_data(cat, neighborhood=str(other.pk), location_choice="pin")
    assert client.post("/report/", data).status_code == 302
    issue = Issue.objects.get()
    assert issue.neighborhood == place and issue.lat == pytest.approx(CENTER_LAT)


def test_the_resident_says_the_neighborhood_is_right_and_the_pin_goes(client, place, cat):
    other = NeighborhoodFactory(name="River Market")
    data = form_data(cat, neighborhood=str(other.pk), address="Delaware St", location_choice="neighborhood")
    assert client.post("/report/", data).status_code == 302
    issue = Issue.objects.get()
    assert (issue.neighborhood, issue.lat, issue.lng, issue.address) == (other, None, None, "Delaware St")


def test_a_pin_and_an_address_naming_another_neighborhood_are_questioned_in_spanish(client, place, cat):
    NeighborhoodFactory(name="River Market", slug="river-market")
    response = client.post("/es/report/", form_data(cat, address="3rd St, River Market"))
    assert response.status_code == 200
    assert not Issue.objects.exists()
    html = response.content.decode()
    assert (
        "El punto del mapa está en Westside, pero la dirección que escribió nombra River Market. ¿Cuál es el correcto?"
    ) in html
    assert "Donde está el punto: Westside" in html and "River Market (se quita el punto)" in html


def test_a_pin_and_its_own_neighborhood_or_address_are_not_questioned(client, place, cat):
    NeighborhoodFactory(name="River Market")
    data = form_data(cat, neighborhood=str(place.pk), address="12th St, Westside")
    assert client.post("/report/", data).status_code == 302
    assert Issue.objects.get().neighborhood == place


def test_geocoder_setting_turns_an_address_into_a_point(client, place, cat, settings):
    settings.GEOCODER = "tests.cases.web.public.test_public_report.fake_geocoder"
    data = form_data(cat, lat="", lng="", address="Main and 12th", neighborhood="")
    assert client.post("/report/", data).status_code == 302
    issue = Issue.objects.get()
    assert issue.neighborhood == place and issue.lat == pytest.approx(CENTER_LAT + 0.001)


def fake_geocoder(address):
    return (CENTER_LAT + 0.001, CENTER_LNG) if "12th" in address else None


def test_anonymous_report_stores_no_contact_even_if_typed(client, place, cat):
    data = form_data(
        cat,
        anonymous="on",
        reporter_name="Rosa Example",
        reporter_email="rosa@example.org",
        reporter_phone="816-555-0199",
        contact_consent="on",
    )
    assert client.post("/report/", data).status_code == 302
    report = Report.objects.get()
    assert report.is_anonymous is True
    assert (report.reporter_name, report.reporter_email, report.reporter_phone, report.contact_consent) == (
        "",
        "",
        "",
        False,
    )
    assert OutboxMessage.objects.count() == 0


# --- "is this the same problem?" ------------------------------------------------------


def test_me_too_joins_the_open_issue_and_opens_no_new_one(client, place, cat):
    existing = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT + 0.0003, lng=CENTER_LNG)
    response = client.post("/report/", form_data(cat, same_issue=existing.tracking_code, anonymous="on"))
    assert response.status_code == 302
    assert response["Location"] == f"/report/{existing.tracking_code}/"
    assert Issue.objects.count() == 1
    existing.refresh_from_db()
    assert existing.report_count == 2
    assert existing.reports.count() == 1  # the factory issue had no Report row; ours joined it
    assert existing.events.filter(kind=Event.Kind.REPORT_ADDED, is_public=True).count() == 1
    html = client.get(response["Location"]).content.decode()
    assert "your report was added" in html


def test_lower_case_code_also_joins(client, place, cat):
    existing = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT, lng=CENTER_LNG)
    response = client.post("/report/", form_data(cat, same_issue=existing.tracking_code.lower()))
    assert response.status_code == 302
    assert Issue.objects.count() == 1 and existing.reports.count() == 1


def test_without_javascript_the_question_is_asked_before_anything_is_saved(client, place, cat):
    near = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT + 0.0005, lng=CENTER_LNG)
    far = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT + 0.005, lng=CENTER_LNG)  # ~550 m
    closed = IssueFactory(
        category=cat,
        neighborhood=place,
        lat=CENTER_LAT,
        lng=CENTER_LNG,
        status=Issue.Status.RESOLVED,
        outcome=Issue.Outcome.RESOLVED,
    )
    other_kind = IssueFactory(neighborhood=place, lat=CENTER_LAT, lng=CENTER_LNG)
    before = counts()
    response = client.post("/report/", form_data(cat))
    html = response.content.decode()
    assert response.status_code == 200
    assert counts() == before
    assert "Is this the same problem?" in html
    assert f'value="{near.tracking_code}"' in html
    assert "about 56 m from your point" in html
    for hidden in (far, closed, other_kind):
        assert hidden.tracking_code not in html
    # Answer "different problem": a new issue.
    response = client.post("/report/", form_data(cat, same_issue="new"))
    assert response.status_code == 302
    assert Issue.objects.count() == before[0] + 1


def test_the_same_problem_answer_stays_while_other_fields_are_corrected(client, place, cat):
    existing = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT, lng=CENTER_LNG)
    response = client.post("/report/", form_data(cat, description="", same_issue=existing.tracking_code))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{existing.tracking_code}" id="same-{existing.tracking_code}" checked' in html
    assert Report.objects.count() == 0


def test_question_by_neighborhood_when_there_is_no_point(client, place, cat):
    existing = IssueFactory(category=cat, neighborhood=place)
    response = client.post("/report/", form_data(cat, lat="", lng="", neighborhood=str(place.pk)))
    assert response.status_code == 200
    assert f'value="{existing.tracking_code}"' in response.content.decode()
    assert Report.objects.count() == 0


def test_sensitive_category_is_never_offered_as_the_same_problem(client, place):
    drugs = CategoryFactory(name_en="Open-air drug activity", is_public=False)
    IssueFactory(category=drugs, neighborhood=place, lat=CENTER_LAT, lng=CENTER_LNG)
    response = client.post("/report/", form_data(drugs, anonymous="on"))
    assert response.status_code == 302
    assert Issue.objects.filter(category=drugs).count() == 2
    fragment = client.get("/report/same-problem/", {"category": drugs.pk, "lat": CENTER_LAT, "lng": CENTER_LNG})
    assert fragment.content == b""


def test_joining_an_issue_that_is_not_nearby_is_refused(client, place, cat):
    far = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT + 0.009, lng=CENTER_LNG)
    before = counts()
    response = client.post("/report/", form_data(cat, same_issue=far.tracking_code))
    assert response.status_code == 200
    assert "no longer open near this place" in field_error(response, "same_issue")
    assert counts() == before


def test_same_problem_fragment_for_the_map(client, place, cat):
    near = IssueFactory(category=cat, neighborhood=place, lat=CENTER_LAT, lng=CENTER_LNG + 0.0005)
    response = client.get("/report/same-problem/", {"category": cat.pk, "lat": CENTER_LAT, "lng": CENTER_LNG})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{near.tracking_code}"' in html and 'value="new"' in html
    assert near.description not in html  # residents' text stays off public lists
    spanish = client.get("/es/report/same-problem/", {"category": cat.pk, "lat": CENTER_LAT, "lng": CENTER_LNG})
    assert "¿Es el mismo problema?" in spanish.content.decode()
    assert client.get("/report/same-problem/", {"category": "x"}).status_code == 400
    nothing = client.get("/report/same-problem/", {"category": cat.pk, "lat": OUTSIDE_LAT, "lng": OUTSIDE_LNG})
    assert nothing.content == b""


def test_neighborhood_outlines_endpoint(client, place):
    body = client.get("/report/neighborhoods.geojson").json()
    assert body["type"] == "FeatureCollection"
    feature = body["features"][0]
    assert feature["properties"]["name"] == "Westside"
    assert feature["geometry"]["type"] == "Polygon"


# --- invalid input: a message beside the field, nothing saved -----------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"lat": str(OUTSIDE_LAT), "lng": str(OUTSIDE_LNG)}, "lat", "outside every neighborhood"),
        ({"lat": str(CENTER_LAT), "lng": ""}, "lat", "incomplete"),
        ({"lat": "", "lng": ""}, "neighborhood", "Click the map where the problem is, or choose a neighborhood"),
        ({"category": "999999"}, "category", "Choose one of the kinds of problem listed."),
        ({"category": "graffiti"}, "category", "Choose one of the kinds of problem listed."),
        ({"category": ""}, "category", "Choose the kind of problem."),
        ({"description": "x" * 10_000}, "description", "has 10,000 characters; the limit is 5,000"),
        ({"description": "   "}, "description", "Tell us what the problem is."),
        ({"neighborhood": "abc", "lat": "", "lng": ""}, "neighborhood", "Choose one of the neighborhoods listed."),
        ({"reporter_email": "not-an-email", "contact_consent": "on"}, "reporter_email", "Enter an email address"),
        ({"reporter_phone": "call me", "contact_consent": "on"}, "reporter_phone", "at least 7 digits"),
        ({"reporter_name": "Rosa"}, "contact_consent", "Tick this box so we may contact you"),
        ({"contact_consent": "on"}, "reporter_email", "Give an email address or a phone number"),
        ({"lat": "nan", "lng": "1"}, "lat", "Enter a number."),
    ],
)
def test_invalid_input_gets_a_message_beside_the_field_and_saves_nothing(client, place, cat, overrides, field, message):
    before = counts()
    response = client.post("/report/", form_data(cat, **overrides))
    assert response.status_code == 200
    error = field_error(response, field)
    assert error is not None and message in error, error
    html = response.content.decode()
    assert 'id="error-summary" role="alert"' in html
    assert counts() == before


def test_inactive_category_is_refused(client, place):
    retired = CategoryFactory(is_active=False)
    response = client.post("/report/", form_data(retired))
    assert "Choose one of the kinds of problem listed." in field_error(response, "category")
    assert Issue.objects.count() == 0


def test_errors_are_announced_and_tied_to_their_fields(client, place, cat):
    response = client.post("/report/", form_data(cat, description="", reporter_email="bad", contact_consent="on"))
    html = response.content.decode()
    assert 'aria-describedby="description-help description-error"' in html
    assert 'aria-invalid="true"' in html
    assert '<a href="#id_description">' in html and '<a href="#id_reporter_email">' in html


def test_spanish_errors_are_in_spanish(client, place, cat):
    response = client.post("/es/report/", form_data(cat, lat=str(OUTSIDE_LAT), lng=str(OUTSIDE_LNG)))
    assert "fuera de todos los barrios" in field_error(response, "lat")


def test_a_40_mb_file_is_refused_beside_the_photo_field(client, place, cat):
    big = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"0" * (40 * 1024 * 1024), content_type="image/jpeg")
    before = counts()
    response = client.post("/report/", {**form_data(cat), "photo": big})
    assert response.status_code == 200
    assert "This photo is 40.0 MB; photos can be at most 10 MB." in field_error(response, "photo")
    assert counts() == before


def test_a_file_that_is_not_an_image_is_refused(client, place, cat):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a picture at all", content_type="image/jpeg")
    before = counts()
    response = client.post("/report/", {**form_data(cat), "photo": fake})
    assert "not a photo we can read" in field_error(response, "photo")
    assert counts() == before


def test_a_good_photo_survives_a_correction_round(client, place, cat, settings):
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post("/report/", {**form_data(cat, description=""), "photo": photo})
    html = response.content.decode()
    assert "Your photo is attached" in html
    token = re.search(r'name="photo_token" value="([^"]+)"', html).group(1)
    response = client.post("/report/", form_data(cat, photo_token=token))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.photo.name.startswith("reports/") and report.photo.name.endswith(".jpg")
    assert "IMG_0001" not in report.photo.name
    assert not list((settings.MEDIA_ROOT / "reports" / "tmp").iterdir())


def test_a_forged_photo_token_is_ignored(client, place, cat):
    response = client.post("/report/", form_data(cat, photo_token="reports/tmp/../../etc/passwd"))
    assert response.status_code == 302
    assert not Report.objects.get().photo


# --- abuse ------------------------------------------------------------------------------------


def test_honeypot_saves_nothing(client, place, cat):
    before = counts()
    response = client.post("/report/", form_data(cat, website="http://spam.example"))
    assert response.status_code == 400
    assert "could not be sent" in response.content.decode()
    assert counts() == before


def test_csrf_is_required(place, cat):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/report/", form_data(cat))
    assert response.status_code == 403
    assert Issue.objects.count() == 0


def test_rate_limit_gives_a_translated_message_and_saves_nothing(client, place, cat, settings):
    settings.REPORT_RATE_LIMIT = "2/h"
    for _ in range(2):
        assert client.post("/es/report/", form_data(cat, same_issue="new")).status_code == 302
    before = counts()
    response = client.post("/es/report/", form_data(cat, same_issue="new"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "Ha enviado varios informes en poco tiempo" in html
    assert 'role="alert"' in html
    assert counts() == before
    # Another address still can.
    other = client.post("/report/", form_data(cat, same_issue="new"), REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


def test_rate_limit_key_never_holds_the_raw_address(client, place, cat, settings):
    from django.core.cache import cache

    settings.REPORT_RATE_LIMIT = "5/h"
    client.post("/report/", form_data(cat, same_issue="new"), REMOTE_ADDR="203.0.113.77")
    keys = [key.decode() if isinstance(key, bytes) else key for key in cache.primary._cache.get_client().keys("*")]
    assert any("ratelimit:report:" in key for key in keys)
    assert not any("203.0.113.77" in key for key in keys)


@pytest.mark.parametrize(
    ("value", "count", "seconds"), [("10/h", 10, 3600), ("5/15min", 5, 900), ("100/d", 100, 86400), ("3/s", 3, 1)]
)
def test_rate_parse(value, count, seconds):
    rate = rate_parse(value)
    assert (rate.count, rate.seconds) == (count, seconds)


def test_rate_parse_refuses_nonsense():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        rate_parse("ten per hour")
