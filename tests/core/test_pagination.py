"""core.pagination: keyset pages in both directions, ties, branches, capped counts, refused cursors."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from cases.models import Issue
from core.pagination import BadCursor, capped_count, capped_count_of_parts, keyset_page, window_rows
from tests import factories
from tests.sqlite import checked_run_on_sqlite

pytestmark = pytest.mark.django_db


@pytest.fixture
def issues():
    """Twelve issues, reported in pairs at the same instant (ids break the ties), half of them urgent."""
    neighborhood, category = factories.NeighborhoodFactory(), factories.CategoryFactory()
    start = timezone.now() - timedelta(days=1)
    return [
        factories.IssueFactory(
            neighborhood=neighborhood,
            category=category,
            created_at=start + timedelta(minutes=i // 2),
            priority="urgent" if i % 2 else "low",
        )
        for i in range(12)
    ]


def _walk(queryset, order, size, **kwargs):
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, order, after=cursor, size=size, **kwargs)
        pages.append(page)
        if not page.has_next:
            return pages
        cursor = page.next_cursor


def test_pages_follow_the_order_through_ties_and_back(issues):
    queryset = Issue.objects.all()
    expected = [i.pk for i in sorted(issues, key=lambda i: (i.created_at, i.pk), reverse=True)]
    pages = _walk(queryset, ("-created_at", "-id"), 5)
    assert [[row.pk for row in page] for page in pages] == [expected[0:5], expected[5:10], expected[10:]]
    assert [(p.start_index, p.end_index) for p in pages] == [(1, 5), (6, 10), (11, 12)]
    assert [p.has_previous for p in pages] == [False, True, True]
    # Back from the last page, then from the middle one: the same pages again.
    middle = keyset_page(queryset, ("-created_at", "-id"), before=pages[2].previous_cursor, size=5)
    assert [row.pk for row in middle] == expected[5:10] and middle.start_index == 6 and middle.has_next
    first = keyset_page(queryset, ("-created_at", "-id"), before=middle.previous_cursor, size=5)
    assert [row.pk for row in first] == expected[0:5] and not first.has_previous


def test_going_back_near_the_top_shows_a_full_first_page(issues):
    queryset = Issue.objects.all()
    order = ("-created_at", "-id")
    second = keyset_page(queryset, order, after=keyset_page(queryset, order, size=3).next_cursor, size=3)
    # A cursor two rows from the top: fewer than a page lies before it, so the first page is shown whole.
    near_top = keyset_page(queryset, order, after=keyset_page(queryset, order, size=2).next_cursor, size=3)
    back = keyset_page(queryset, order, before=near_top.previous_cursor, size=3)
    assert [r.pk for r in back] == [r.pk for r in keyset_page(queryset, order, size=3)]
    assert back.start_index == 1 and not back.has_previous and second.has_previous


def test_ascending_mixed_and_annotated_orders(issues):
    queryset = Issue.objects.annotate(
        rank=Case(When(priority="urgent", then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    rows = [row for page in _walk(queryset, ("rank", "-created_at", "id"), 4) for row in page]
    assert [r.pk for r in rows] == [
        i.pk for i in sorted(issues, key=lambda i: (i.priority != "urgent", -i.created_at.timestamp(), i.pk))
    ]


def test_counts_are_capped(issues):
    page = keyset_page(Issue.objects.all(), ("-created_at", "-id"), size=2, count_cap=5)
    assert (page.count, page.count_is_exact) == (5, False)
    page = keyset_page(Issue.objects.filter(priority="urgent"), ("-created_at", "-id"), size=2, count_cap=6)
    assert (page.count, page.count_is_exact) == (6, True)
    assert capped_count(Issue.objects.all(), 100) == (12, True)
    assert capped_count(Issue.objects.all(), 11) == (11, False)
    urgent, low = Issue.objects.filter(priority="urgent"), Issue.objects.filter(priority="low")
    assert capped_count_of_parts([urgent, low], 20) == (12, True)
    assert capped_count_of_parts([urgent, low], 10) == (10, False)


def test_a_first_page_and_its_count_read_the_filter_once(issues, django_assert_num_queries):
    """The ids of the first cap + 1 rows give the count and the page; the rows are then read by id,
    so a costly filter (a word search) runs once, not once for the page and once for the count."""
    urgent = Issue.objects.filter(priority="urgent")
    expected = [
        i.pk for i in sorted(issues, key=lambda i: (i.created_at, i.pk), reverse=True) if i.priority == "urgent"
    ]
    with django_assert_num_queries(2) as captured:
        page = keyset_page(urgent, ("-created_at", "-id"), size=2, count_cap=4)
    window, rows = (query["sql"] for query in captured.captured_queries)
    assert "LIMIT 5" in window and '"priority"' in window
    assert '"cases_issue"."id" = ANY(' in rows and "LIMIT" not in rows
    assert [i.pk for i in page.object_list] == expected[:2] and page.has_next
    assert (page.count, page.count_is_exact) == (4, False)
    # Fewer than a page: everything, counted exactly; nothing at all: an empty page counted 0.
    few = keyset_page(urgent, ("-created_at", "-id"), size=10, count_cap=20)
    assert (
        [i.pk for i in few.object_list] == expected
        and not few.has_next
        and (few.count, few.count_is_exact) == (6, True)
    )
    none = keyset_page(Issue.objects.filter(priority="high"), ("-created_at", "-id"), size=10)
    assert none.object_list == [] and (none.count, none.count_is_exact) == (0, True)


def test_a_first_page_from_ids_read_before_is_the_first_page(issues, django_assert_num_queries):
    """The queue reads its first issues once for its figures; its first page is then read by those ids."""
    urgent = Issue.objects.filter(priority="urgent")
    order = ("created_at", "id")
    plain = keyset_page(urgent, order, size=4, count_cap=None)
    window = list(urgent.order_by(*order).values_list("pk", flat=True)[:10])
    with django_assert_num_queries(1) as captured:
        page = keyset_page(urgent, order, size=4, count_cap=None, first_ids=window)
    assert '"cases_issue"."id" = ANY(' in captured.captured_queries[0]["sql"]
    assert [i.pk for i in page] == [i.pk for i in plain] and page.next_cursor == plain.next_cursor
    # The ids only say which rows to read: one no longer in the list is not shown.
    outsider = Issue.objects.filter(priority="low").first()
    mixed = keyset_page(urgent, order, size=4, count_cap=None, first_ids=[outsider.pk, *window])
    assert outsider.pk not in [i.pk for i in mixed]
    # A later page is read from its cursor as always.
    second = keyset_page(urgent, order, size=4, count_cap=None, first_ids=window, after=plain.next_cursor)
    assert [i.pk for i in second] == window[4:6]


def test_branches_give_the_same_pages_as_the_whole(issues):
    whole = Issue.objects.all()
    branches = [Issue.objects.filter(priority="urgent"), Issue.objects.filter(priority="low")]
    order = ("-created_at", "-id")
    plain = [[r.pk for r in page] for page in _walk(whole, order, 5)]
    by_branch = [[r.pk for r in page] for page in _walk(whole, order, 5, branches=branches)]
    assert by_branch == plain
    assert [r.pk for r in window_rows(whole, order, 7, branches=branches)] == [pk for page in plain for pk in page][:7]
    # A values() window reads its columns in the branches themselves: the same rows, the same order.
    columns = ("id", "priority", "created_at")
    expected = list(whole.order_by(*order).values(*columns)[:7])
    assert window_rows(whole.values(*columns), order, 7, branches=branches) == expected
    assert window_rows(whole.values(*columns), order, 7, branches=[whole]) == expected  # one branch
    assert keyset_page(whole, order, size=5, branches=branches).count == 12


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "x" * 600,
        _cursor({"a": 1}),
        _cursor([[1], 0]),  # one key of two
        _cursor([[{"t": "yesterday"}, 1], 0]),
        _cursor([[{"t": "2026-01-01T00:00:00+00:00"}, "one"], 0]),
        _cursor([[{"t": "2026-01-01T00:00:00+00:00"}, 2**70], 0]),
        _cursor([[{"t": "2026-01-01T00:00:00+00:00"}, None], 0]),
        _cursor([[{"t": "2026-01-01T00:00:00+00:00"}, 1], "0"]),
    ],
)
def test_cursors_it_did_not_write_are_refused(issues, cursor):
    with pytest.raises(BadCursor):
        keyset_page(Issue.objects.all(), ("-created_at", "-id"), after=cursor or "?", size=3)
    with pytest.raises(BadCursor):
        keyset_page(Issue.objects.all(), ("-created_at", "-id"), before=cursor or "?", size=3)


def test_pages_and_branches_on_sqlite(tmp_path):
    """The embedded mode reads the branches' union directly (SQLite cannot order inside a UNION)."""
    result = checked_run_on_sqlite(
        """
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from datetime import timedelta
from django.utils import timezone
from cases.models import Issue
from core.pagination import keyset_page
from tests import factories
n, c = factories.NeighborhoodFactory(), factories.CategoryFactory()
start = timezone.now() - timedelta(days=1)
for i in range(7):
    factories.IssueFactory(neighborhood=n, category=c, created_at=start + timedelta(minutes=i // 2),
                           priority="urgent" if i % 2 else "low")
branches = [Issue.objects.filter(priority="urgent"), Issue.objects.filter(priority="low")]
pages, cursor = [], None
while True:
    page = keyset_page(Issue.objects.all(), ("-created_at", "-id"), after=cursor, size=3, branches=branches)
    pages.append([r.pk for r in page])
    if not page.has_next:
        break
    cursor = page.next_cursor
expected = list(Issue.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
print(json.dumps({"pages": pages, "expected": expected, "count": page.count}))
""",
        tmp_path,
    )
    assert [pk for page in result["pages"] for pk in page] == result["expected"]
    assert [len(page) for page in result["pages"]] == [3, 3, 1] and result["count"] == 7
