"""Plurals of quantities with decimals (outreach hours): "1 officer-hour", "1.50 officer-hours"."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.templatetags.numbers import plural_count

LINE = Template(
    '{% load numbers i18n %}{% blocktranslate with h=hours|floatformat:"-2" count counter=hours|plural_count %}'
    "{{ h }} officer-hour{% plural %}{{ h }} officer-hours{% endblocktranslate %}"
)


@pytest.mark.parametrize(
    ("value", "count"),
    [(1, 1), (Decimal("1.00"), 1), (1.0, 1), (0, 0), (2, 2), (Decimal("1.5"), 2), (0.25, 2), ("x", 2), (None, 2)],
)
def test_plural_count(value, count):
    assert plural_count(value) == count


@pytest.mark.parametrize(
    ("language", "hours", "text"),
    [
        ("en", Decimal("1"), "1 officer-hour"),
        ("en", Decimal("1.50"), "1.50 officer-hours"),
        ("en", Decimal("3"), "3 officer-hours"),
        ("es", Decimal("1"), "1 hora de agente"),
        ("es", Decimal("2.25"), "2.25 horas de agente"),  # a decimal point in US Spanish (core/formats/es)
    ],
)
def test_outreach_hours_read_in_the_singular_only_for_one(language, hours, text):
    with translation.override(language):
        assert LINE.render(Context({"hours": hours})) == text
