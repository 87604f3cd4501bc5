"""A NUL character in a tracking code (found by the property test) is a plain 'not found', never a 500."""

import pytest

pytestmark = pytest.mark.django_db


def test_status_page_with_nul_in_the_code_is_not_found(client):
    assert client.get("/report/CG-ABCD%002345/").status_code == 404


def test_lookup_with_nul_in_the_code_never_errors(client):
    assert client.get("/report/lookup/", {"code": "CG-ABCD\x002345"}).status_code < 500
