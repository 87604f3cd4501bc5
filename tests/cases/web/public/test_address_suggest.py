"""``/addresses/suggest/``: the city's address points matching what a resident types, and the form's
placing of a typed address without JavaScript (before the department's GEOCODER)."""

import pytest

from cases.models import Issue
from partners.address_import import AddressRow
from partners.services import address_points_import
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, form_data

pytestmark = pytest.mark.django_db


def points(*addresses):
    """Address points at the map centre's neighborhood, a little apart, from (source id, address) pairs."""
    from partners.addresses import normalize

    address_points_import(
        rows=[
            AddressRow(
                source_id=source_id,
                number="",
                street=address,
                unit="",
                city="",
                postal_code="",
                label=address,
                search=normalize(address),
                lat=CENTER_LAT + n * 0.0001,
                lng=CENTER_LNG,
            )
            for n, (source_id, address) in enumerate(addresses)
        ]
    )


def suggest(client, q, prefix=""):
    return client.get(f"{prefix}/addresses/suggest/", {"q": q})


def labels(response):
    return [item["label"] for item in response.json()["results"]]


def test_words_in_any_form_find_the_address_and_its_neighborhood(client, place):
    points(("1", "1200 Main St"), ("2", "400 E 12th St"), ("3", "12 Grand Blvd"))
    response = suggest(client, "12th street")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "label": "400 E 12th St",
            "lat": CENTER_LAT + 0.0001,
            "lng": CENTER_LNG,
            "neighborhood": {"id": place.pk, "slug": "westside", "name": "Westside"},
        }
    ]
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert labels(suggest(client, "grand boulevard")) == ["12 Grand Blvd"]
    assert labels(suggest(client, "1200 main stre")) == ["1200 Main St"]  # "Street" typed halfway


def test_what_starts_with_the_query_comes_first_then_the_shortest(client, place):
    points(("1", "1200 Oak St"), ("2", "12 Oak St"), ("3", "312 Oak St"), ("4", "120 Oak St"), ("5", "12 Elm St"))
    assert labels(suggest(client, "12 oak")) == ["12 Oak St", "120 Oak St", "312 Oak St", "1200 Oak St"]


def test_at_most_eight_in_one_statement(client, place, django_assert_num_queries):
    points(*[(str(n), f"{n} Walnut St") for n in range(100, 130)])
    with django_assert_num_queries(1):
        response = suggest(client, "walnut")
    assert len(labels(response)) == 8


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Type at least 3 letters or digits of the address."),
        ("ab", "Type at least 3 letters or digits of the address."),
        ("a.b-", "Type at least 3 letters or digits of the address."),
        ("x" * 101, "The address is too long: type at most 100 characters."),
        ("12\x00 main", "The address contains characters that are not part of an address."),
        ("12\n main", "The address contains characters that are not part of an address."),
    ],
)
def test_bad_input_is_a_400_that_says_why(client, q, message, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = suggest(client, q)
    assert response.status_code == 400
    assert response.json() == {"error": message, "results": []}
    assert "no-store" in response["Cache-Control"]


def test_the_refusal_is_in_spanish_under_es(client):
    response = suggest(client, "ab", prefix="/es")
    assert response.status_code == 400
    assert response.json()["error"] == "Escriba al menos 3 letras o cifras de la dirección."


def test_the_rate_limit_answers_429_with_retry_after(client, settings):
    settings.ADDRESS_SUGGEST_RATE_LIMIT = "2/h"
    assert suggest(client, "main").status_code == 200
    assert suggest(client, "main st").status_code == 200
    refused = suggest(client, "main street")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


def test_the_form_without_javascript_places_an_exact_address(client, place, cat):
    points(("1", "1200 Main St"), ("2", "1202 Main St"))
    data = form_data(cat, lat="", lng="", address="1202 main street, Kansas City", neighborhood="", same_issue="new")
    assert client.post("/report/", data).status_code == 302
    issue = Issue.objects.get()
    assert (issue.lat, issue.lng, issue.neighborhood) == (pytest.approx(CENTER_LAT + 0.0001), CENTER_LNG, place)


def test_the_geocoder_still_answers_when_no_address_point_matches(client, place, cat, settings):
    settings.GEOCODER = "tests.cases.web.public.test_address_suggest.geocoder"
    points(("1", "1200 Main St"))
    data = form_data(cat, lat="", lng="", address="77 Nowhere Lane", neighborhood="", same_issue="new")
    assert client.post("/report/", data).status_code == 302
    assert Issue.objects.get().lat == pytest.approx(CENTER_LAT + 0.002)
    # An address point wins over the geocoder.
    data = form_data(cat, lat="", lng="", address="1200 Main Street", neighborhood="", same_issue="new")
    assert client.post("/report/", data).status_code == 302
    assert Issue.objects.latest("id").lat == pytest.approx(CENTER_LAT)


def geocoder(address):
    return (CENTER_LAT + 0.002, CENTER_LNG) if "Nowhere" in address else None


def test_an_address_naming_two_points_is_not_placed(client, place, cat):
    points(("1", "5 Oak St"), ("2", "5 Oak Street"))  # the same key, two different points
    data = form_data(cat, lat="", lng="", address="5 Oak St", neighborhood="", same_issue="new")
    response = client.post("/report/", data)
    assert response.status_code == 200 and not Issue.objects.exists()
