"""Local ISO 8601 times written by the database (``core.dialect.LocalTimeText``) are the bytes Python writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session

from core.dialect import LocalTimeOffset, LocalTimeText, local_iso

INSTANTS = [
    datetime(2026, 3, 8, 7, 59, 59, 999999, tzinfo=UTC),  # Chicago: the last second before summer time
    datetime(2026, 3, 8, 8, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 59, 59, 500000, tzinfo=UTC),  # the hour that happens twice
    datetime(2026, 11, 1, 7, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2041, 7, 4, 12, 0, 0, tzinfo=UTC),
    datetime(1880, 1, 1, 12, 0, 0, tzinfo=UTC),  # local mean time: an offset with seconds (-05:50:36)
]
ZONES = ["America/Chicago", "UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_the_database_writes_local_times_as_python_does(zone):
    for number, instant in enumerate(INSTANTS):
        Session.objects.create(session_key=f"k{number}", session_data="", expire_date=instant)
    rows = (
        Session.objects.annotate(local=LocalTimeText("expire_date", zone), offset=LocalTimeOffset("expire_date", zone))
        .order_by("session_key")
        .values_list("expire_date", "local", "offset")
    )
    written = [local_iso(local, offset, ZoneInfo(zone)) for _value, local, offset in rows]
    expected = [value.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds") for value, _l, _o in rows]
    assert written == expected
    assert all(offset is not None for _v, _l, offset in rows)  # PostgreSQL wrote them, not Python


def test_without_an_offset_the_datetime_is_written_in_python():
    """SQLite (embedded mode) has no time-zone data: the column comes back as a datetime, no offset."""
    value = datetime(2026, 3, 8, 8, 0, 0, 123456, tzinfo=UTC)
    zone = ZoneInfo("America/Chicago")
    assert local_iso(value, None, zone) == "2026-03-08T03:00:00-05:00"
    assert local_iso(None, None, zone) is None
    assert local_iso("2026-03-08T02:59:59", -6 * 3600, zone) == "2026-03-08T02:59:59-06:00"
    assert local_iso("1880-01-01T06:09:24", -int(timedelta(hours=5, minutes=50, seconds=36).total_seconds()), zone) == (
        "1880-01-01T06:09:24-05:50:36"
    )
