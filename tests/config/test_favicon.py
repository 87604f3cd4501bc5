"""Every page names its icon (browsers asked for /favicon.ico and got a 404 on every page)."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/es/report/", "/accounts/login/", "/no-such-page/"])
def test_pages_link_the_icon_and_the_icon_is_a_static_file(client, path):
    html = client.get(path).content.decode()
    match = re.search(r'<link rel="icon" href="/static/(img/favicon\.[0-9a-f.]*svg)" type="image/svg\+xml">', html)
    assert match, html[:400]
    assert finders.find(re.sub(r"\.[0-9a-f]{12}\.", ".", match.group(1)))
