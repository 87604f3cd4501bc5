"""One date and number format per language (issue 15, item 5).

The formats live in ``core/formats/<language>/formats.py``; templates and code name them
(``|date:"DATE_FORMAT"``) rather than spell a pattern, so the same kind of date reads the same
way on every page. What each language writes is pinned here; that nothing spells its own
pattern is checked over every template and every module.
"""

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.template.defaultfilters import time as time_filter
from django.utils import translation

from core.dates import DateWriter

ROOT = Path(settings.BASE_DIR)
WHEN = datetime(2026, 12, 7, 14, 30, tzinfo=ZoneInfo("America/Chicago"))

WRITTEN = {
    "en": {
        "DATE_FORMAT": "Dec 7, 2026",
        "DATETIME_FORMAT": "Dec 7, 2026, 14:30",
        "SHORT_DATETIME_FORMAT": "Dec 7, 14:30",
        "MONTH_DAY_FORMAT": "Dec 7",
        "YEAR_MONTH_FORMAT": "December 2026",
    },
    "es": {
        "DATE_FORMAT": "7 dic 2026",
        "DATETIME_FORMAT": "7 dic 2026, 14:30",
        "SHORT_DATETIME_FORMAT": "7 dic, 14:30",
        "MONTH_DAY_FORMAT": "7 dic",
        "YEAR_MONTH_FORMAT": "diciembre de 2026",
    },
}

# Patterns that are not shown to people: ISO 8601 for <time datetime>, a day for comparing two.
MACHINE_PATTERNS = {"c", "Ymd"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_language_writes_its_one_format(language):
    with translation.override(language):
        for name, expected in WRITTEN[language].items():
            assert date_filter(WHEN, name) == expected, name
            assert DateWriter(name)(WHEN) == expected, name
        assert time_filter(WHEN, "TIME_FORMAT") == "14:30"
        # Numbers: the decimal point and the thousands comma in both (Spanish as written in the US).
        assert floatformat(1234.5, 1) == "1234.5"
        assert floatformat(2, "-2") == "2"
        assert intcomma(1234567) == "1,234,567"


def test_a_date_writer_writes_dates_as_well_as_times():
    with translation.override("en"):
        assert DateWriter("DATE_FORMAT")(WHEN.date()) == "Dec 7, 2026"


def _templates():
    return sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt"))


def test_no_template_spells_a_date_pattern():
    spelled = []
    for path in _templates():
        for match in re.finditer(r"\|(date|time):\s*(['\"])(.*?)\2", path.read_text()):
            pattern = match.group(3)
            if not pattern.endswith("_FORMAT") and pattern not in MACHINE_PATTERNS:
                spelled.append(f"{path.relative_to(ROOT)}: |{match.group(1)}:{pattern!r}")
    assert not spelled, "name a format from core/formats instead:\n" + "\n".join(spelled)


def test_no_module_spells_a_date_pattern_for_people():
    calls = re.compile(r"\b(?:date_format|time_format|dateformat\.format|DateWriter)\(([^()]*(?:\([^()]*\))?[^()]*)\)")
    spelled = []
    for app in ("cases", "config", "core", "outreach", "partners"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for match in calls.finditer(path.read_text()):
                literal = re.findall(r"['\"]([^'\"]*)['\"]", match.group(1))
                if literal and not literal[-1].endswith("_FORMAT"):
                    spelled.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not spelled, "name a format from core/formats instead:\n" + "\n".join(spelled)
