"""core.snapshots: per-process copies of neighborhoods' boundaries and the active categories, kept true.

"Another process" is played by writes that send no signal (``QuerySet.update``,
``bulk_create``): what this process learns of them comes only from the stamp.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Category
from cases.selectors.public import active_category
from partners.models import Neighborhood
from partners.selectors import neighborhood_for_point
from partners.services import neighborhood_refresh_geometry, neighborhood_upsert
from tests.factories import CategoryFactory, NeighborhoodFactory, square

pytestmark = pytest.mark.django_db


def _stamp_reads(queries) -> int:
    return sum("MAX(" in q["sql"] and "stamp" in q["sql"] for q in queries.captured_queries)


def _moved_elsewhere(neighborhood: Neighborhood, lat: float, lng: float) -> None:
    """Another process redraws the boundary (an UPDATE with no signal in this process)."""
    moved = Neighborhood(boundary=square(lat, lng, 0.01))
    neighborhood_refresh_geometry(neighborhood=moved)
    Neighborhood.objects.filter(pk=neighborhood.pk).update(
        boundary=moved.boundary,
        min_lat=moved.min_lat,
        min_lng=moved.min_lng,
        max_lat=moved.max_lat,
        max_lng=moved.max_lng,
        updated_at=timezone.now() + timedelta(seconds=1),
    )


@contextmanager
def _in_a_request():
    """The signals a request sends, without closing the test's connection (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
        yield
    finally:
        request_finished.send(sender=None)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_lookup_outside_a_request_reads_only_the_stamp():
    hood = NeighborhoodFactory(boundary=square(39.0, -94.6, 0.01))
    category = CategoryFactory()
    neighborhood_for_point(39.005, -94.595), active_category(category.pk)  # both copies built
    with CaptureQueriesContext(connection) as queries:
        assert neighborhood_for_point(39.005, -94.595) == hood
        assert active_category(category.pk) == category
    assert len(queries) == 2 and _stamp_reads(queries) == 2


def test_a_request_reads_the_stamps_once_for_every_copy():
    hood = NeighborhoodFactory(boundary=square(39.0, -94.6, 0.01))
    category = CategoryFactory()
    neighborhood_for_point(39.005, -94.595), active_category(category.pk)  # both copies built
    with _in_a_request(), CaptureQueriesContext(connection) as queries:
        assert neighborhood_for_point(39.005, -94.595) == hood
        assert active_category(category.pk) == category
        assert neighborhood_for_point(39.005, -94.595) == hood
    assert len(queries) == 1 and _stamp_reads(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        neighborhood_for_point(39.005, -94.595)
    assert _stamp_reads(queries) == 1, "after the request, every use reads the stamps again"


def test_a_boundary_redrawn_by_another_process_is_seen():
    hood = NeighborhoodFactory(boundary=square(39.0, -94.6, 0.01))
    assert neighborhood_for_point(39.005, -94.595) == hood
    _moved_elsewhere(hood, 39.2, -94.6)
    assert neighborhood_for_point(39.005, -94.595) is None
    found = neighborhood_for_point(39.205, -94.595)
    assert found == hood and found.min_lat == pytest.approx(39.2)


def test_a_neighborhood_added_or_removed_by_another_process_is_seen():
    NeighborhoodFactory(boundary=square(39.0, -94.6, 0.01))
    assert neighborhood_for_point(39.305, -94.595) is None
    added = Neighborhood(name="Added elsewhere", slug="added-elsewhere", boundary=square(39.3, -94.6, 0.01))
    neighborhood_refresh_geometry(neighborhood=added)
    Neighborhood.objects.bulk_create([added])  # no signal
    assert neighborhood_for_point(39.305, -94.595).slug == "added-elsewhere"
    with connection.cursor() as cursor:  # no signal either
        cursor.execute("DELETE FROM partners_neighborhood WHERE slug = 'added-elsewhere'")
    assert neighborhood_for_point(39.305, -94.595) is None


def test_a_save_in_this_process_is_seen_within_one_clock_tick():
    with time_machine.travel(timezone.now(), tick=False):
        hood, _ = neighborhood_upsert(name="Frozen", boundary=square(39.0, -94.6, 0.01))
        assert neighborhood_for_point(39.005, -94.595) == hood
        neighborhood_upsert(name="Frozen", slug=hood.slug, boundary=square(39.4, -94.6, 0.01))
        # Same count, same last id, same updated_at: only the save's signal can tell.
        assert neighborhood_for_point(39.005, -94.595) is None
        assert neighborhood_for_point(39.405, -94.595) == hood


def test_a_category_changed_by_another_process_is_seen():
    category = CategoryFactory(target_hours_normal=72)
    assert active_category(category.pk).target_hours_normal == 72
    Category.objects.filter(pk=category.pk).update(target_hours_normal=100, updated_at=timezone.now())
    assert active_category(category.pk).target_hours_normal == 100
    Category.objects.filter(pk=category.pk).update(is_active=False, updated_at=timezone.now())
    assert active_category(category.pk) is None


def test_each_lookup_gives_a_fresh_instance():
    category = CategoryFactory()
    first = active_category(category.pk)
    first.name_en = "Changed by a caller"
    assert active_category(category.pk).name_en == category.name_en
    assert active_category(category.pk) is not first
