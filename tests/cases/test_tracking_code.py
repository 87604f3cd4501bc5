import pytest

from cases.models import TRACKING_ALPHABET, new_tracking_code, tracking_code_normalize


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("CG-ABCD-2345", "CG-ABCD-2345"),
        ("cg-abcd-2345", "CG-ABCD-2345"),
        (" CG ABCD 2345 ", "CG-ABCD-2345"),
        ("cgabcd2345", "CG-ABCD-2345"),
        ("abcd2345", "CG-ABCD-2345"),
        ("abcd-efgh", "CG-ABCD-EFGH"),
        ("CGABCDEFGH", "CG-ABCD-EFGH"),
    ],
)
def test_forms_residents_and_officers_type_are_understood(typed, code):
    assert tracking_code_normalize(typed) == code


@pytest.mark.parametrize("typed", ["", None, "graffiti", "CG-ABCD-234", "CG-ABCD-23456", "CG-AB1O-2345"])
def test_malformed_codes_are_not_codes(typed):
    assert tracking_code_normalize(typed) is None
    assert tracking_code_normalize(typed, strict=True) is None


def test_a_bare_code_without_digits_is_a_code_unless_strict():
    # A search box takes "CLEBKNUH" for CG-CLEB-KNUH; a field where words are typed too does not take "mattress".
    assert tracking_code_normalize("clebknuh") == "CG-CLEB-KNUH"
    assert tracking_code_normalize("mattress", strict=True) is None
    assert tracking_code_normalize("cleb-knuh", strict=True) == "CG-CLEB-KNUH"
    assert tracking_code_normalize("abcd2345", strict=True) == "CG-ABCD-2345"


def test_every_generated_code_round_trips():
    for _ in range(200):
        code = new_tracking_code()
        assert set(code.replace("CG-", "").replace("-", "")) <= set(TRACKING_ALPHABET)
        assert tracking_code_normalize(code) == code
        assert tracking_code_normalize(code.lower().replace("-", " ")) == code
        assert tracking_code_normalize(code[3:].replace("-", "")) == code
