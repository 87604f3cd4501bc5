"""Staff CSV exports head their columns in the user's language (issue 19, item 1): the English
headings are the identifiers scripts read, unchanged; a Spanish-speaking supervisor gets Spanish
ones; ``?headings=keys`` gives the identifiers in any language."""

import csv
import io

import pytest

from cases.web.staff.audit import EXPORT_HEADER as AUDIT_KEYS
from outreach.views import EXPORT_HEADER as OUTREACH_KEYS
from tests import factories

pytestmark = pytest.mark.django_db

EXPORTS = [
    "/outreach/export.csv",
    "/audit/export.csv",
    "/dashboard/export/neighborhoods.csv",
    "/dashboard/export/officers.csv",
    "/dashboard/export/decisions.csv",
    "/dashboard/export/problems.csv",
]


def _first_row(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return next(csv.reader(io.StringIO(body.decode())))


@pytest.fixture
def spanish_supervisor(neighborhood):
    user = factories.supervisor(username="rosa", districts=[neighborhood.district])
    user.staff_profile.language = "es"
    user.staff_profile.save()
    return user


@pytest.mark.parametrize("path", EXPORTS)
def test_headings_follow_the_language_and_keys_stay_available(client, supervisor, spanish_supervisor, path):
    client.force_login(supervisor)
    english = _first_row(client.get(path))
    assert all(heading.isascii() and heading == heading.lower() and " " not in heading for heading in english)
    client.force_login(spanish_supervisor)
    spanish = _first_row(client.get(path))
    assert len(spanish) == len(english) and spanish != english
    assert _first_row(client.get(f"{path}?headings=keys")) == english


def test_the_spanish_headings_are_words_of_the_catalogue(client, spanish_supervisor):
    client.force_login(spanish_supervisor)
    assert _first_row(client.get("/audit/export.csv")) == ["cuándo", "quién", "usuario", "acción", "caso", "motivo"]
    outreach = _first_row(client.get("/outreach/export.csv"))
    assert dict(zip(OUTREACH_KEYS, outreach, strict=True))["neighborhood"] == "barrio"
    assert len(AUDIT_KEYS) == 6
