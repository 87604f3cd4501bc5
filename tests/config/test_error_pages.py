"""Branded error pages (400, 403, 404, 500, CSRF failure) in English and Spanish, and the
resident's form surviving a CSRF failure with everything typed (config/errors.py)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Report
from tests.cases.web.public.public_helpers import jpeg_bytes
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

# The key sentences of each page, in both languages: the Spanish page must not fall back to English.
PAGES = {
    400: ("We could not understand this request", "No pudimos entender esta solicitud"),
    403: ("You do not have access to this page", "No tiene acceso a esta página"),
    404: ("We could not find this page", "No encontramos esta página"),
    500: ("Something went wrong on our side", "Algo salió mal de nuestro lado"),
    "csrf": ("Your form could not be sent", "No se pudo enviar su formulario"),
}
WAYS_BACK = {
    "en": ('href="/"', 'href="/report/"', "Go to the home page", "Report a concern"),
    "es": ('href="/es/"', 'href="/es/report/"', "Ir a la página de inicio", "Informar de un problema"),
}


def checked_page_of(response, status, lang, key):
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert re.search(r'<html lang="([^"]+)"', html).group(1) == lang
    english, spanish = PAGES[key]
    assert (spanish if lang == "es" else english) in html
    assert (english if lang == "es" else spanish) not in html
    for piece in WAYS_BACK[lang]:
        assert piece in html, piece
    assert "CommonGround" in html and "/static/css/app.css" in html
    # The error pages stand alone: no staff navigation, no forms, no inline script or style.
    assert "<script" not in html and "style=" not in html and "csrfmiddlewaretoken" not in html
    return html


@pytest.fixture
def anon():
    return Client(raise_request_exception=False)


# --- 404 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "lang"),
    [
        ("/no-such-page/", "en"),
        ("/es/no-such-page/", "es"),  # matched by no pattern, yet Spanish: the prefix says so
        ("/es/queue/nothing/", "es"),  # under a staff path, /es/ or not: no such page
        ("/report/lookup/deeper/nothing/", "en"),
    ],
)
def test_404_page_in_the_language_of_the_url(anon, path, lang):
    checked_page_of(anon.get(path), 404, lang, 404)


@pytest.mark.urls("tests.config.error_urls")
def test_404_raised_by_a_view(anon):
    checked_page_of(anon.get("/test-errors/missing/"), 404, "en", 404)


def test_404_with_debug_on_is_still_the_project_page(anon, settings):
    """`make run` with DEBUG=1: a mistyped address must not list every URL pattern of the site."""
    settings.DEBUG = True
    for path, lang in (("/no-such-page/", "en"), ("/es/no-such-page/", "es")):
        html = checked_page_of(anon.get(path), 404, lang, 404)
        assert "URLconf" not in html and "admin/" not in html and "api/" not in html


@pytest.mark.urls("tests.config.error_urls")
def test_404_raised_by_a_view_with_debug_on(anon, settings):
    settings.DEBUG = True
    html = checked_page_of(anon.get("/test-errors/missing/"), 404, "en", 404)
    assert "no such thing" not in html and "Raised by" not in html


def test_debug_on_keeps_other_404_pages(anon, settings):
    """Pages that answer 404 themselves (an unknown tracking code) keep their own text."""
    settings.DEBUG = True
    response = anon.get("/report/NOPE1234/")
    assert response.status_code == 404
    assert "We could not find this page" not in response.content.decode()


# --- 400, 403, 500 ----------------------------------------------------------------------


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.parametrize(("prefix", "lang"), [("", "en"), ("/es", "es")])
def test_400_page(anon, prefix, lang):
    checked_page_of(anon.get(f"{prefix}/test-errors/suspicious/"), 400, lang, 400)


def test_400_page_for_a_host_we_do_not_serve(anon):
    checked_page_of(anon.get("/", HTTP_HOST="evil.example"), 400, "en", 400)


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.parametrize(("prefix", "lang"), [("", "en"), ("/es", "es")])
def test_403_page_says_why(anon, prefix, lang):
    html = checked_page_of(anon.get(f"{prefix}/test-errors/forbidden/"), 403, lang, 403)
    assert "Only supervisors decide on escalated issues." in html
    assert 'href="/queue/"' in html  # staff are who meets this page


def test_403_page_for_a_real_refusal(officer):
    client = Client()
    client.force_login(officer)
    response = client.get("/dashboard/")
    checked_page_of(response, 403, "en", 403)


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.parametrize(("prefix", "lang"), [("", "en"), ("/es", "es")])
def test_500_page(anon, prefix, lang):
    html = checked_page_of(anon.get(f"{prefix}/test-errors/boom/"), 500, lang, 500)
    assert "a bug" not in html and "Traceback" not in html


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.parametrize("path", ["/test-errors/integrity/", "/test-errors/bad-sql/", "/test-errors/timeout/"])
def test_database_errors_that_are_not_outages_stay_500(anon, path):
    """The database answered: a constraint, a bad query, a statement timeout are bugs to notice, not a 503."""
    response = anon.get(path)
    checked_page_of(response, 500, "en", 500)
    assert "Retry-After" not in response


@pytest.mark.urls("tests.config.error_urls")
def test_api_and_open311_500_keep_their_shape(anon):
    response = anon.get("/api/test-errors/integrity/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    response = anon.get("/open311/v2/test-errors/boom.xml")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>500</code>" in response.content


# --- CSRF -------------------------------------------------------------------------------


def typed(cat, place):
    """Everything a resident can type, with characters that must survive escaping."""
    return {
        "category": str(cat.pk),
        "description": 'Tags on the laundromat wall <b>again</b> & the alley — ñandú "quoted"',
        "lat": "",
        "lng": "",
        "address": "12th St & Grand Blvd",
        "neighborhood": str(place.pk),
        "reporter_name": "Ana O'Neil",
        "reporter_email": "ana@example.org",
        "reporter_phone": "816-555-0123",
        "contact_consent": "on",
        "same_issue": "",
        "website": "",
    }


def token_in(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def assert_refilled(html, cat, place, data):
    assert f'value="{cat.pk}" id="category-{cat.pk}" checked' in html
    assert re.search(rf'<option value="{place.pk}"\s+selected>', html)
    assert "Tags on the laundromat wall &lt;b&gt;again&lt;/b&gt; &amp; the alley — ñandú &quot;quoted&quot;" in html
    assert 'value="12th St &amp; Grand Blvd"' in html
    assert 'value="Ana O&#x27;Neil"' in html
    assert 'value="ana@example.org"' in html and 'value="816-555-0123"' in html
    assert re.search(r'<input type="checkbox" name="contact_consent"[^>]*checked', html)


@pytest.mark.parametrize(
    ("path", "lang", "notice"),
    [
        ("/report/", "en", "We kept what you typed"),
        ("/es/report/", "es", "Guardamos lo que escribió"),
    ],
)
def test_csrf_failure_on_the_report_form_keeps_what_was_typed(cat, place, path, lang, notice):
    client = Client(enforce_csrf_checks=True)
    assert client.get(path).status_code == 200
    data = typed(cat, place)

    # The token is stale (e.g. the cookie changed while the page was open): refused, nothing saved.
    refused = client.post(path, {**data, "csrfmiddlewaretoken": "x" * 64})
    assert refused.status_code == 403
    html = refused.content.decode()
    assert re.search(r'<html lang="([^"]+)"', html).group(1) == lang
    assert notice in html
    assert_refilled(html, cat, place, data)
    assert Report.objects.count() == 0

    # The page carries a fresh token: sending it again works.
    sent = client.post(path, {**data, "csrfmiddlewaretoken": token_in(html)})
    assert sent.status_code == 302, sent.content[:500]
    report = Report.objects.get()
    assert report.text == data["description"] and report.reporter_email == "ana@example.org"
    assert report.issue.neighborhood == place and report.language == lang


def test_csrf_failure_without_any_cookie_sets_a_new_one(cat, place):
    """The cookie expired or was cleared while the page was open: the answer gives a new one."""
    client = Client(enforce_csrf_checks=True)
    refused = client.post("/report/", typed(cat, place))
    assert refused.status_code == 403
    assert "csrftoken" in refused.cookies
    html = refused.content.decode()
    assert_refilled(html, cat, place, typed(cat, place))
    sent = client.post("/report/", {**typed(cat, place), "csrfmiddlewaretoken": token_in(html)})
    assert sent.status_code == 302
    assert Report.objects.count() == 1


def test_csrf_failure_with_a_photo_says_to_attach_it_again(cat, place, settings):
    client = Client(enforce_csrf_checks=True)
    photo = SimpleUploadedFile("wall.jpg", jpeg_bytes(), content_type="image/jpeg")
    refused = client.post("/es/report/", {**typed(cat, place), "photo": photo})
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "No se pudo conservar su foto: adjúntela de nuevo." in html
    assert 'name="photo_token"' not in html
    assert Report.objects.count() == 0
    # Not even stashed: nothing from a refused request is stored.
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*.*"))


def test_csrf_failure_elsewhere_is_the_branded_page(supervisor):
    client = Client(enforce_csrf_checks=True)
    html = checked_page_of(client.post("/accounts/login/", {"username": "x", "password": "y"}), 403, "en", "csrf")
    assert "cookies" in html

    issue = IssueFactory()
    html = checked_page_of(client.post(f"/es/report/{issue.tracking_code}/", {"fixed": "yes"}), 403, "es", "csrf")
    assert "cookies" in html
