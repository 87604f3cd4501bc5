"""html_rows makes the HTML format_html_join makes, value for value."""

import pytest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy, override

from core.html_rows import html_rows

TEMPLATE = '<tr data-id="{}"><td><a href="{}">{}</a>{}</td><td class="num">{}</td></tr>'
ROWS = [
    (1, "/issues/1/", 'Trash & "bulky" <items>', "", 0),
    (2, "/issues/2/?a=1&b='2'", "Graffiti", format_html("<br><span>{}</span>", "O'Brien <Ana>"), 12.5),
    (3, "/x/", gettext_lazy("overdue"), SafeString("<strong>kept</strong>"), None),
]


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_same_html_as_format_html_join(language):
    with override(language):
        made = html_rows(TEMPLATE, ROWS)
        expected = format_html_join("", TEMPLATE, ROWS)
    assert made == expected
    assert isinstance(made, SafeString)
    assert "&lt;items&gt;" in made and "&quot;bulky&quot;" in made and "&#x27;2&#x27;" in made


def test_no_rows_no_html():
    assert html_rows(TEMPLATE, []) == ""
