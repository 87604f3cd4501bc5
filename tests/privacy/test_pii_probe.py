"""Probe (issue 13, item 2): personal details typed into free text never reach a public answer.

Reports carrying emails (plain and spelled out), phone numbers (US and Mexican) and names (the
reporter's own, and introduced in the text in English and Spanish) come in through every real
channel — the web form in English and in Spanish, a "me too" on the web form, Open311 POST, the
staff REST API — and staff add public notes that name the resident. Then an anonymous visitor
crawls the running site over HTTP (tests/crawl.py: every parameterless route of the URL map, every
link found, plus each report's status page, Open311 JSON and XML lists and single requests, the
Open311 token lookups and the public API endpoints) and no answer may hold any planted value:
compared without case or accents, names and email local parts as whole words, phone numbers by
their digits. Staff, signed in, still read the original words.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlencode

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import services
from cases.models import ApiClient, Issue
from tests import factories
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, form_data
from tests.crawl import Crawler

pytestmark = pytest.mark.django_db(transaction=True)

FORM = "application/x-www-form-urlencoded"

# Whole words (after folding case and accents) that must appear in no public answer.
NAMES = ["maria", "jose", "perez", "guadalupe", "ramirez", "lupita", "dwayne", "johnson", "rosa", "quintero"]
# Email addresses and spelled-out fragments, folded.
EMAILS = [
    "maria.perez@example.com",
    "maria [at] example",
    "lupita arroba correo",
    "dj@example.org",
    "dwayne @ example",
    "dwayne(at)example",
    "rosa.q@example.net",
]
# Phone numbers by their digits.
PHONES = ["8165550142", "5512345678", "8165550199", "8165550123", "8165550177"]


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_PHONE_LIKE = re.compile(r"[\d().+\-\s\u00a0/]{7,}")


def leaks(body: str) -> list[str]:
    """The planted values this answer holds."""
    folded = fold(body)
    found = [name for name in NAMES if re.search(rf"(?<![a-z]){name}(?![a-z])", folded)]
    found += [email for email in EMAILS if email in folded]
    digit_runs = ["".join(ch for ch in run if ch.isdigit()) for run in _PHONE_LIKE.findall(body)]
    found += [phone for phone in PHONES if any(phone in run for run in digit_runs)]
    return found


class RecordingCrawler(Crawler):
    """The shared crawler, keeping every answer's body."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers: list[tuple[str, int, str]] = []

    def request(self, method, url, **kwargs):
        response = super().request(method, url, **kwargs)
        self.answers.append((url, response.status_code, response.content.decode("utf-8", "replace")))
        return response


@pytest.fixture
def planted(client, place, cat):
    """Reports full of personal details through every channel; returns what the crawl must visit."""
    staff = factories.officer(neighborhoods=[place])
    codes, tokens = [], []

    # 1. The web form, in English: the reporter's name, email and phone typed into the text too.
    english = form_data(
        cat,
        description=(
            "Graffiti on my garage door. Email me at maria.perez@example.com or maria [at] example [dot] com, "
            "or call (816) 555-0142. Ask for Maria Perez."
        ),
        reporter_name="María José Pérez",
        reporter_email="maria.perez@example.com",
        reporter_phone="(816) 555-0142",
        contact_consent="on",
        same_issue="new",
    )
    response = client.post("/report/", english)
    assert response.status_code == 302, response.content.decode()[:2000]
    first = Issue.objects.latest("id")
    codes.append(first.tracking_code)

    # 2. The web form in Spanish, introducing herself; a Mexican number in international form.
    spanish = form_data(
        cat,
        lat=str(CENTER_LAT + 0.004),
        description=(
            "Hay grafiti en la barda. Me llamo Guadalupe Ramírez, escríbame a lupita arroba correo punto mx "
            "o llámeme al +52 55 1234 5678."
        ),
        reporter_name="Guadalupe Ramírez",
        reporter_email="lupita@correo.mx",
        contact_consent="on",
        same_issue="new",
    )
    response = client.post("/es/report/", spanish)
    assert response.status_code == 302, response.content.decode()[:2000]
    codes.append(Issue.objects.latest("id").tracking_code)

    # 3. "Me too" on the English issue, through the form, with a self-introduction.
    me_too = form_data(
        cat,
        description="Same here. My name is Dwayne Johnson, 816.555.0177 or dwayne(at)example(dot)com",
        same_issue=first.tracking_code,
    )
    response = client.post("/report/", me_too)
    assert response.status_code == 302, response.content.decode()[:2000]

    # 4. Open311 POST.
    api_client = ApiClient.objects.create(name="Probe 311 app")
    response = client.post(
        "/open311/v2/requests.json",
        urlencode(
            {
                "api_key": api_client.key,
                "service_code": cat.service_code,
                "lat": str(CENTER_LAT - 0.004),
                "long": str(CENTER_LNG),
                "first_name": "Dwayne",
                "last_name": "Johnson",
                "email": "dj@example.org",
                "phone": "816-555-0199",
                "description": "Streetlight out. Text me at 816-555-0199 ext 12 or dwayne @ example . com",
                # Open311 publishes the address as typed: a phone and a name typed there count too.
                "address_string": "1200 Main St, ask Dwayne Johnson 816 555 0199",
            }
        ),
        content_type=FORM,
    )
    assert response.status_code in (200, 201), response.content
    answer = response.json()[0]
    tokens.append(answer.get("token"))
    if answer.get("service_request_id"):
        codes.append(answer["service_request_id"])

    # 5. The staff REST API: a phoned-in report.
    token, _ = Token.objects.get_or_create(user=staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post(
        "/api/v1/issues/",
        {
            "category": cat.pk,
            "description": "Phoned in by Rosa Quintero: rosa.q@example.net, 8165550123",
            "lat": CENTER_LAT + 0.002,
            "lng": CENTER_LNG + 0.004,
            "channel": "phone",
            "reporter_name": "Rosa Quintero",
            "reporter_phone": "816 555 0123",
            "address": "Rosa Quintero's porch, 4400 Troost Ave",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    api_issue = Issue.objects.get(pk=response.json()["id"])
    codes.append(api_issue.tracking_code)

    # 6. Staff write on the public timeline about the residents.
    services.issue_add_note(
        issue=first, actor=staff, text="Talked to María at 816-555-0142, will repaint.", public=True
    )
    services.issue_hold(issue=api_issue, actor=staff, reason="Waiting for Rosa to call back on 816 555 0123")
    services.issue_resume(issue=api_issue, actor=staff)
    services.issue_resolve(issue=api_issue, actor=staff, note="Fixed; Rosa Quintero confirmed by rosa.q@example.net")
    return {"codes": codes, "tokens": [t for t in tokens if t], "staff": staff, "first": first, "cat": cat}


def test_no_planted_value_reaches_any_anonymous_answer(live_server, planted):
    codes, cat = planted["codes"], planted["cat"]
    extra = ["/open311/v2/requests.json", "/open311/v2/requests.xml", "/open311/v2/services.json"]
    extra += ["/open311/v2/requests.json?" + urlencode({"service_request_id": ",".join(codes)})]
    extra += ["/open311/v2/requests.json?status=closed", "/open311/v2/requests.xml?status=closed"]
    for code in codes:
        extra += [f"/report/{code}/", f"/es/report/{code}/", f"/report/lookup/?code={code}"]
        extra += [f"/open311/v2/requests/{code}.json", f"/open311/v2/requests/{code}.xml"]
    for token in planted["tokens"]:
        extra += [f"/open311/v2/tokens/{token}.json", f"/open311/v2/tokens/{token}.xml"]
    extra += [
        f"/report/same-problem/?category={cat.pk}&lat={CENTER_LAT}&lng={CENTER_LNG}",
        f"/es/report/same-problem/?category={cat.pk}&lat={CENTER_LAT}&lng={CENTER_LNG}",
        "/api/v1/categories/",
        "/api/v1/neighborhoods/",
        "/api/v1/issues/",
        f"/api/v1/issues/{planted['first'].pk}/",
        "/transparency/",
        "/es/transparency/",
    ]
    crawler = RecordingCrawler(live_server.url, per_route=30, max_pages=800, extra_starts=extra)
    result = crawler.crawl()
    assert not result.server_errors, [visit.url for visit in result.server_errors]
    visited = {url.removeprefix(live_server.url) for url, _, _ in crawler.answers}
    for path in extra:
        assert path in visited, f"the crawl never reached {path}"
    # The pages that hold the masked text were really served (a 404 would prove nothing).
    statuses = {url.removeprefix(live_server.url): status for url, status, _ in crawler.answers}
    for code in codes:
        assert statuses[f"/report/{code}/"] == 200
        assert statuses[f"/open311/v2/requests/{code}.json"] == 200
        assert statuses[f"/open311/v2/requests/{code}.xml"] == 200
    leaked = {url: found for url, _, body in crawler.answers if (found := leaks(body))}
    assert not leaked, leaked
    # And the masked copies are what the public reads.
    single = [body for url, _, body in crawler.answers if url.endswith(f"/requests/{codes[0]}.json")][0]
    assert "[•••@•••]" in single and "[☎ •••]" in single and "[•••]" in single


def test_staff_still_read_the_original_words(client, planted):
    first, staff = planted["first"], planted["staff"]
    client.force_login(staff)
    page = client.get(f"/issues/{first.pk}/").content.decode()
    assert "maria.perez@example.com" in page and "(816) 555-0142" in page
    assert "Talked to María at 816-555-0142, will repaint." in page
    assert "My name is Dwayne Johnson, 816.555.0177" in page
    token, _ = Token.objects.get_or_create(user=staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = api.get(f"/api/v1/issues/{first.pk}/").json()
    assert "maria.perez@example.com" in body["description"]
    notes = api.get(f"/api/v1/issues/{first.pk}/events/?kind=note").json()["results"]
    assert [note["message"] for note in notes] == ["Talked to María at 816-555-0142, will repaint."]


def test_the_probe_would_see_a_leak():
    """The comparison itself: every planted shape is caught, ordinary text is not."""
    assert leaks("Call (816) 555-0142") == ["8165550142"]
    assert leaks("+52 55 1234 5678") == ["5512345678"]
    assert leaks("<p>MARÍA PÉREZ</p>") == ["maria", "perez"]
    assert leaks("write to maria [at] example [dot] com") == ["maria", "maria [at] example"]
    assert leaks("Maríana called at 10:30 on 2024-03-15 from 1200 Main St") == []
