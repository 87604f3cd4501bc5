"""Address points: one normal form for what the city publishes and what a resident types."""

import pytest

from partners.addresses import normalize, query_words


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("1200 Main Street", "1200 MAIN ST"),
        ("1200 main st.", "1200 MAIN ST"),
        ("12th street", "12TH ST"),
        ("400 East Twelfth Street", "400 E 12TH ST"),
        ("4500 St. John Avenue, Apt #4", "4500 ST JOHN AVE APT 4"),
        ("N.W. Briarcliff Parkway", "NW BRIARCLIFF PKWY"),
        ("2 Grand Boulevard", "2 GRAND BLVD"),
        ("  Calle  Peña ", "CALLE PENA"),
        ("1201 Main St #4", "1201 MAIN ST # 4"),
        ("--", ""),
    ],
)
def test_normalize(typed, key):
    assert normalize(typed) == key


def test_a_street_type_typed_halfway_also_accepts_its_abbreviation():
    assert query_words("1200 main stre") == [("1200",), ("MAIN",), ("STRE", "ST")]
    assert query_words("grand boulev") == [("GRAND",), ("BOULEV", "BLVD")]
    # A word that starts no street type (or starts several) is taken as typed.
    assert query_words("1200 mai") == [("1200",), ("MAI",)]
