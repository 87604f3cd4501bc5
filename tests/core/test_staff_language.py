"""The staff pages in the staff member's language (issue 19, item 1): the profile's choice from
sign-in on, the switcher on every page, /es/<staff page>, and the public pages unchanged."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from partners.models import StaffProfile
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Secret-123"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def spanish(text: str) -> str:
    with translation.override("es"):
        return translation.gettext(text)


def sign_in(client, user):
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    return response


def is_spanish(html: str) -> bool:
    return '<html lang="es">' in html and spanish("My queue") in html and ">Log out<" not in html


def is_english(html: str) -> bool:
    return '<html lang="en">' in html and ">Log out<" in html


@pytest.fixture
def oficial(db, neighborhood):
    user = factories.officer(neighborhoods=[neighborhood], username="oficial")
    StaffProfile.objects.filter(user=user).update(language="es")
    return user


def test_a_spanish_speaking_officer_gets_every_staff_page_in_spanish_from_sign_in(client, oficial, officer):
    assert spanish("My queue") != "My queue"
    sign_in(client, oficial)
    for path in ("/queue/", "/issues/", "/outreach/", "/outreach/new/", "/notifications/", "/accounts/profile/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert is_spanish(response.content.decode()), path
        assert response["Content-Language"] == "es"
    # Another officer, English in their profile, on the same pages: English.
    other = Client()
    sign_in(other, officer)
    assert is_english(other.get("/queue/").content.decode())


def test_the_switcher_works_on_a_staff_page_and_the_profile_keeps_the_choice(client, officer):
    sign_in(client, officer)
    assert is_english(client.get("/queue/").content.decode())
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/queue/"})
    assert response.status_code == 302 and response["Location"] == "/queue/"
    assert is_spanish(client.get("/queue/").content.decode())
    assert StaffProfile.objects.get(user=officer).language == "es"
    # Another device: the profile's language from sign-in.
    elsewhere = Client()
    sign_in(elsewhere, officer)
    assert is_spanish(elsewhere.get("/queue/").content.decode())
    # And back.
    client.post("/i18n/setlang/", {"language": "en", "next": "/queue/"})
    assert is_english(client.get("/queue/").content.decode())
    assert StaffProfile.objects.get(user=officer).language == "en"


def test_es_before_a_staff_page_chooses_spanish_and_goes_to_the_page(client, officer):
    sign_in(client, officer)
    response = client.get("/es/queue/?status=open")
    assert response.status_code == 302 and response["Location"] == "/queue/?status=open"
    assert is_spanish(client.get("/queue/").content.decode())
    assert client.get("/es/no-such-page/").status_code == 404


def test_the_profile_page_sets_the_language_and_refuses_anything_else(client, officer):
    sign_in(client, officer)
    page = client.get("/accounts/profile/").content.decode()
    assert re.search(r'value="en"[^>]*checked', page) and not re.search(r'value="es"[^>]*checked', page)
    refused = client.post("/accounts/profile/", {"language": "fr"})
    assert refused.status_code == 400 and "Choose a language." in refused.content.decode()
    assert StaffProfile.objects.get(user=officer).language == "en"
    saved = client.post("/accounts/profile/", {"language": "es"})
    assert saved.status_code == 302
    assert StaffProfile.objects.get(user=officer).language == "es"
    html = client.get("/queue/").content.decode()
    assert is_spanish(html) and spanish("Saved: your pages and emails are now in Spanish.") in html


def test_the_public_pages_keep_their_language_in_the_address(client, oficial):
    sign_in(client, oficial)
    assert '<html lang="en">' in client.get("/report/").content.decode()
    assert '<html lang="es">' in client.get("/es/report/").content.decode()


def test_the_sign_in_page_follows_the_switcher_before_anyone_is_known(client):
    assert '<html lang="en">' in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="es">' in html and spanish("Sign in") in html


def test_the_api_answers_as_before(client, oficial):
    sign_in(client, oficial)
    response = client.get("/api/v1/issues/?page_size=1")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response.get("Content-Language", "en") == "en"
