"""A crawl of every staff page in Spanish, as each role with Spanish in their profile (issue 19,
item 1): each page says it is Spanish, and no text on it — nor a label, a title or a placeholder —
is an English sentence of the catalogue (one a template or view forgot to translate, or
translated once at import time) or one of the English-only strings below."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.management import call_command

from partners.models import StaffProfile
from tests.crawl import Crawler

pytestmark = pytest.mark.django_db(transaction=True)

# Words of the staff pages that are English only (a string never marked for translation would
# show as one of these, or as the catalogue's English below).
ENGLISH_ONLY = [
    "Log out",
    "My queue",
    "Overdue",
    "Notifications",
    "Outreach",
    "Dashboard",
    "Assigned to",
    "Neighborhood",
    "Category",
    "Priority",
    "Status",
    "Previous",
    "Next",
    "Search",
    "Print",
    "Save",
    "Cancel",
    "Submit",
    "Apply",
    "Clear",
    "Due",
    "Resolve",
    "Acknowledge",
    "Add a note",
    "Partners",
    "Problems",
    "Issues",
    "Audit log",
    "Unassigned",
    "None",
    "Yes",
    "No",
    "No issues match.",
    "No problems match.",
]
# Texts that are the same in both languages (names, codes, abbreviations), or data (demo people,
# partner names) that can read as English.
SAME = {"CSV", "SLA", "SARA", "API", "Open311", "GeoJSON", "CommonGround", "English", "Español", "Total", "No", "Error"}
NOT_CHECKED = ("/admin/", "/api/", "/open311/", "/static/")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.lang = ""
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag in ("script", "style", "pre", "code"):
            self._skip += 1
        for name in ("aria-label", "title", "placeholder", "alt"):
            if attrs.get(name):
                self.texts.append(attrs[name].strip())
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"].strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _catalogue_english() -> set[str]:
    """The catalogue's English sentences whose Spanish differs, without placeholders."""
    from tests.core.test_spanish_catalogue import entries

    found = set()
    for entry in entries():
        english = entry["msgid"]
        if entry["msgid_plural"] or "%" in english or "{" in english or "<" in english:
            continue
        if entry["msgctxt"] == "CSV column":  # export headings (identifiers such as "officer"), never on a page
            continue
        if english != entry["msgstr"][0] and re.search(r"[A-Za-z]{3}", english) and english not in SAME:
            found.add(" ".join(english.split()))
    return found


class RecordingCrawler(Crawler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pages: list[tuple[str, str]] = []
        self.recording = False  # from the crawl on: not the sign-in page seen before signing in

    def crawl(self):
        self.recording = True
        return super().crawl()

    def request(self, method, url, **kwargs):
        response = super().request(method, url, **kwargs)
        path = urlparse(url).path
        if (
            self.recording
            and method == "GET"
            and response.status_code == 200
            and "text/html" in response.headers.get("Content-Type", "")
            and not path.startswith(NOT_CHECKED)
        ):
            self.pages.append((url, response.text))
        return response


def _staff_page(path: str) -> bool:
    """A page of one address for everyone (not a public page, whose address carries its language)."""
    from core.language import _route_of

    return _route_of(path) == "page"


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", issues=120, activities=30, verbosity=0)
    StaffProfile.objects.update(language="es")


@pytest.mark.parametrize("role", ["officer", "supervisor", "admin"])
def test_every_staff_page_is_in_spanish_for_a_spanish_speaking_member(live_server, demo, role):
    english = _catalogue_english()
    assert len(english) > 500  # the catalogue was read
    crawler = RecordingCrawler(live_server.url, language="es", per_route=1, max_pages=300)
    crawler.checked_login(role, settings.DEMO_PASSWORD)
    crawler.crawl()
    pages = [(url, html) for url, html in crawler.pages if _staff_page(urlparse(url).path)]
    expected = {"/queue/", "/issues/", "/outreach/", "/outreach/new/", "/notifications/", "/accounts/profile/"}
    if role != "officer":
        expected |= {"/dashboard/", "/problems/"}
    assert expected <= {urlparse(url).path for url, _ in pages}, sorted(expected - {urlparse(u).path for u, _ in pages})
    found = {}
    for url, html in pages:
        parser = _Text()
        parser.feed(html)
        wrong = [text for text in parser.texts if text in english or text in ENGLISH_ONLY]
        if parser.lang != "es":
            wrong.insert(0, f'<html lang="{parser.lang}">')
        if wrong:
            found[urlparse(url).path] = sorted(set(wrong))
    assert not found, "English on Spanish staff pages:\n" + "\n".join(
        f"{path}: {texts}" for path, texts in found.items()
    )
