"""The map list's "open N days" texts, made in the view once per whole number of days, are the
texts the template used to make for every marker, in English and Spanish."""

import pytest
from django.template import Context, Template
from django.utils import translation

from insights.views import marker_items

TEMPLATE = Template(
    "{% load i18n numbers %}"
    '{% blocktranslate with days=age|floatformat:"0" count n=age|floatformat:"0"|plural_count %}'
    "open {{ days }} day{% plural %}open {{ days }} days{% endblocktranslate %}"
)
AGES = [0.0, 0.4, 0.5, 0.6, 1.0, 1.4, 1.5, 2.5, 3.5, 12.5, 99.95, 100.0, 1234.5]


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_marker_says_what_the_template_said(language):
    with translation.override(language):
        items = marker_items([{"age_days": age} for age in AGES])
        expected = [TEMPLATE.render(Context({"age": age})) for age in AGES]
    assert [text for _, text in items] == expected
    assert len({text for _, text in items}) < len(AGES)  # one text per whole number of days
