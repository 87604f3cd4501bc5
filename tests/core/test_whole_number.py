"""A whole number typed in a query string: ASCII digits only, every page that reads one alike.

``str.isdigit`` also accepts digits such as "²", which ``int`` refuses: each page below answered
500 to one of them before ``core.text.whole_number`` (the report form's same-problem lookup,
Open311's paging and the dashboard's ids were mended one at a time first)."""

import pytest
from django.test import Client

from core.text import whole_number
from tests import factories


@pytest.mark.parametrize(
    "text,expected",
    [
        ("42", 42),
        ("007", 7),
        ("", None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        (" 1", None),
        ("1.0", None),
        (None, None),
    ],
)
def test_whole_number_takes_ascii_digits_only(text, expected):
    assert whole_number(text) == expected


def test_whole_number_refuses_more_digits_than_asked():
    assert whole_number("9" * 18) == int("9" * 18)
    assert whole_number("9" * 19) is None
    assert whole_number("12345", max_digits=4) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/problems/new/?issue=²",
        "/problems/new/?issue=99999999999999999999999",
        "/outreach/new/?problem=²",
        "/moderation/?after=²-1",
        "/moderation/?after=1-²",
    ],
)
def test_a_non_ascii_digit_in_the_query_is_ignored_not_a_500(path):
    neighborhood = factories.NeighborhoodFactory(district="Central")
    client = Client()
    client.force_login(factories.supervisor(districts=["Central"], neighborhoods=[neighborhood]))
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_the_report_form_ignores_a_non_ascii_category():
    assert Client().get("/report/?category=²").status_code == 200
