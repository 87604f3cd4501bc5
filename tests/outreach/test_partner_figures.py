"""Each partner's outreach figures (Partner.activity_count, last_activity_at) are columns the outreach
services keep equal to a count of the activity rows (issue 14): logging, editing (partners, start) and
deleting an activity, through the services and through the admin; the migration's backfill; the
partner pages read the columns, not the activities."""

from __future__ import annotations

import importlib
import threading
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, connections, transaction
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach.models import Activity
from outreach.services import activities_delete, activity_create, activity_update, partner_figures_refresh
from partners.models import Partner
from tests import factories
from tests.locks import backend_pid, wait_until_blocked_on

pytestmark = pytest.mark.django_db

backfill_migration = importlib.import_module("partners.migrations.0002_partner_outreach_figures")


def counted() -> dict[int, tuple[int, object]]:
    """Every partner's figures counted now from the link and activity rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id, COUNT(a.id), MAX(a.starts_at)
            FROM partners_partner p
            LEFT JOIN outreach_activity_partners l ON l.partner_id = p.id
            LEFT JOIN outreach_activity a ON a.id = l.activity_id
            GROUP BY p.id
            """
        )
        return {pk: (n, latest) for pk, n, latest in cursor.fetchall()}


def stored() -> dict[int, tuple[int, object]]:
    return {
        pk: (n, latest) for pk, n, latest in Partner.objects.values_list("pk", "activity_count", "last_activity_at")
    }


def figures(partner) -> tuple[int, object]:
    return stored()[partner.pk]


def log(actor, neighborhood, *, days_ago, partners=(), **kwargs) -> Activity:
    start = (timezone.now() - timedelta(days=days_ago)).replace(microsecond=0)
    return activity_create(
        actor=actor,
        kind="community_meeting",
        title=kwargs.pop("title", f"Meeting {days_ago} days ago"),
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        neighborhood=neighborhood,
        partners=partners,
        **kwargs,
    )


@pytest.fixture
def three(db):
    return [factories.PartnerFactory(name=name) for name in ("Garfield Elementary", "Sacred Heart", "Sun Fresh")]


def test_logging_an_activity_counts_it_for_each_of_its_partners(officer, neighborhood, three):
    school, church, store = three
    assert figures(school) == (0, None)
    first = log(officer, neighborhood, days_ago=10, partners=[school, church])
    second = log(officer, neighborhood, days_ago=3, partners=[church])
    log(officer, neighborhood, days_ago=1)  # no partner: nobody's figures move
    assert figures(school) == (1, first.starts_at)
    assert figures(church) == (2, second.starts_at)
    assert figures(store) == (0, None)
    assert stored() == counted()


def test_partners_given_by_id_are_counted_too(officer, neighborhood, three):
    school, church, _store = three
    log(officer, neighborhood, days_ago=2, partners=[school.pk, church.pk])
    assert figures(school)[0] == figures(church)[0] == 1
    assert stored() == counted()


def test_changing_an_activitys_partners_recounts_the_old_and_the_new(officer, supervisor, neighborhood, three):
    school, church, store = three
    older = log(officer, neighborhood, days_ago=20, partners=[school])
    newer = log(officer, neighborhood, days_ago=5, partners=[school, church])
    activity_update(activity=newer, actor=supervisor, partners=[church, store])
    # The school lost the newer activity: its latest is the older one again.
    assert figures(school) == (1, older.starts_at)
    assert figures(church) == (1, newer.starts_at)
    assert figures(store) == (1, newer.starts_at)
    activity_update(activity=newer, actor=supervisor, partners=[])
    assert figures(church) == (0, None) and figures(store) == (0, None)
    assert stored() == counted()


def test_moving_an_activitys_start_moves_its_partners_latest_activity(officer, supervisor, neighborhood, three):
    school, church, _store = three
    older = log(officer, neighborhood, days_ago=20, partners=[school, church])
    newer = log(officer, neighborhood, days_ago=5, partners=[school])
    moved = newer.starts_at - timedelta(days=30)
    activity_update(activity=newer, actor=supervisor, starts_at=moved, ends_at=moved + timedelta(hours=1))
    assert figures(school) == (2, older.starts_at)
    later = older.starts_at + timedelta(days=18)
    activity_update(activity=older, actor=supervisor, starts_at=later, ends_at=later + timedelta(hours=1))
    assert figures(school) == (2, later) and figures(church) == (1, later)
    assert stored() == counted()


def test_partners_and_start_changed_in_one_edit(officer, supervisor, neighborhood, three):
    school, church, store = three
    log(officer, neighborhood, days_ago=40, partners=[store])
    activity = log(officer, neighborhood, days_ago=10, partners=[school])
    start = activity.starts_at + timedelta(days=8)
    activity_update(
        activity=activity,
        actor=supervisor,
        partners=[church, store],
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    assert figures(school) == (0, None)
    assert figures(church) == (1, start)
    assert figures(store) == (2, start)
    assert stored() == counted()


def test_an_edit_that_leaves_partners_and_start_alone_changes_no_figure(officer, supervisor, neighborhood, three):
    school, _church, _store = three
    activity = log(officer, neighborhood, days_ago=10, partners=[school])
    Partner.objects.filter(pk=school.pk).update(activity_count=7)  # a wrong figure nobody recounts
    activity_update(activity=activity, actor=supervisor, attendance=40, partners=[school])
    assert figures(school)[0] == 7


def test_deleting_activities_recounts_their_partners(officer, neighborhood, three):
    school, church, store = three
    older = log(officer, neighborhood, days_ago=30, partners=[school])
    newer = log(officer, neighborhood, days_ago=3, partners=[school, church])
    gone = log(officer, neighborhood, days_ago=1, partners=[store])
    assert activities_delete(activities=Activity.objects.filter(pk__in=[newer.pk, gone.pk])) == 2
    assert figures(school) == (1, older.starts_at)
    assert figures(church) == (0, None) and figures(store) == (0, None)
    assert activities_delete(activities=Activity.objects.none()) == 0
    assert stored() == counted()


def test_a_recount_fixes_figures_whatever_they_held(officer, neighborhood, three):
    school, church, _store = three
    activity = log(officer, neighborhood, days_ago=4, partners=[school])
    Partner.objects.update(activity_count=99, last_activity_at=timezone.now())
    partner_figures_refresh(partner_ids=[school.pk, church.pk])
    assert figures(school) == (1, activity.starts_at)
    assert figures(church) == (0, None)


def test_saving_a_partner_does_not_write_back_figures_it_read_before(officer, neighborhood, three):
    school, _church, _store = three
    stale = Partner.objects.get(pk=school.pk)  # read before the activity is logged
    activity = log(officer, neighborhood, days_ago=2, partners=[school])
    stale.description = "Pre-K to 5th grade"
    stale.save()
    school.refresh_from_db()
    assert school.description == "Pre-K to 5th grade"
    assert (school.activity_count, school.last_activity_at) == (1, activity.starts_at)
    # A partner saved with only some fields loaded saves those.
    partial = Partner.objects.only("id", "name").get(pk=school.pk)
    partial.name = "Garfield Elementary School"
    partial.save()
    school.refresh_from_db()
    assert (school.name, school.description, school.activity_count) == (
        "Garfield Elementary School",
        stale.description,
        1,
    )


# --- the admin ------------------------------------------------------------------------------


def _admin_form(activity: Activity, *, partners, starts_at) -> dict:
    local = timezone.localtime(starts_at)
    ends = timezone.localtime(starts_at + timedelta(hours=1))
    return {
        "kind": activity.kind,
        "title": activity.title,
        "starts_at_0": local.strftime("%Y-%m-%d"),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
        "neighborhood": activity.neighborhood_id,
        "place": activity.place,
        "officers": [o.pk for o in activity.officers.all()],
        "partners": [p.pk for p in partners],
        "attendance": activity.attendance,
        "hours": str(activity.hours),
        "languages": "[]",
        "notes": "",
        "issues": "",
        "problem": "",
        "follow_up_note": "",
        "created_by": activity.created_by_id or "",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
        "revisions-MIN_NUM_FORMS": "0",
        "revisions-MAX_NUM_FORMS": "1000",
    }


def test_the_admin_edit_recounts_old_and_new_partners(admin_client, officer, neighborhood, three):
    school, church, store = three
    older = log(officer, neighborhood, days_ago=20, partners=[school])
    activity = log(officer, neighborhood, days_ago=5, partners=[school, church])
    start = activity.starts_at + timedelta(days=2)
    response = admin_client.post(
        f"/admin/outreach/activity/{activity.pk}/change/",
        _admin_form(activity, partners=[store], starts_at=start),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Activity.objects.get(pk=activity.pk).partners.all()) == [store]
    assert figures(school) == (1, older.starts_at)
    assert figures(church) == (0, None)
    assert figures(store) == (1, start)
    assert stored() == counted()


def test_the_admin_add_counts_the_new_activitys_partners(admin_client, officer, neighborhood, three):
    school, _church, _store = three
    template = log(officer, neighborhood, days_ago=9)  # gives the form its officer and neighborhood
    start = template.starts_at + timedelta(days=3)
    response = admin_client.post(
        "/admin/outreach/activity/add/", _admin_form(template, partners=[school], starts_at=start)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert figures(school) == (1, start)
    assert stored() == counted()


def test_the_admin_delete_and_delete_selected_recount(admin_client, officer, neighborhood, three):
    school, church, store = three
    older = log(officer, neighborhood, days_ago=20, partners=[school])
    one = log(officer, neighborhood, days_ago=5, partners=[school, church])
    two = log(officer, neighborhood, days_ago=2, partners=[store])
    three_ = log(officer, neighborhood, days_ago=1, partners=[store, church])
    response = admin_client.post(f"/admin/outreach/activity/{one.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert figures(school) == (1, older.starts_at) and figures(church) == (1, three_.starts_at)
    response = admin_client.post(
        "/admin/outreach/activity/",
        {"action": "delete_selected", "_selected_action": [two.pk, three_.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Activity.objects.filter(pk__in=[two.pk, three_.pk]).exists()
    assert figures(church) == (0, None) and figures(store) == (0, None)
    assert stored() == counted()


# --- the migration's backfill ---------------------------------------------------------------


def test_the_backfill_counts_activities_written_without_the_services(three):
    school, church, store = three
    neighborhood = factories.NeighborhoodFactory()
    starts = [timezone.now() - timedelta(days=d) for d in (40, 12, 3)]
    made = [factories.ActivityFactory(neighborhood=neighborhood, starts_at=start) for start in starts]
    made[0].partners.set([school, church])
    made[1].partners.set([school])
    made[2].partners.set([church])
    # As the columns were just added: defaults everywhere, except a stale figure left on the store.
    Partner.objects.update(activity_count=0, last_activity_at=None)
    Partner.objects.filter(pk=store.pk).update(activity_count=5, last_activity_at=starts[2])
    assert stored() != counted()
    with connection.schema_editor() as schema_editor:
        backfill_migration.partner_figures_backfill(apps, schema_editor)
    assert figures(school) == (2, starts[1])
    assert figures(church) == (2, starts[2])
    assert figures(store) == (0, None)
    assert stored() == counted()


def test_the_backfill_with_no_activities_at_all(three):
    with connection.schema_editor() as schema_editor:
        backfill_migration.partner_figures_backfill(apps, schema_editor)
    assert set(stored().values()) == {(0, None)}


# --- the pages read the columns -------------------------------------------------------------


def test_the_partner_list_shows_the_columns_and_reads_no_activity(client, officer, neighborhood, three):
    school, church, _store = three
    log(officer, neighborhood, days_ago=30, partners=[school])
    latest = log(officer, neighborhood, days_ago=2, partners=[school, church])
    client.force_login(officer)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/partners/")
    assert response.status_code == 200
    rows = {p.name: (p.activity_count, p.last_activity_at) for p in response.context["page"].object_list}
    assert rows["Garfield Elementary"] == (2, latest.starts_at)
    assert rows["Sacred Heart"] == (1, latest.starts_at)
    assert rows["Sun Fresh"] == (0, None)
    assert not [q["sql"] for q in captured.captured_queries if "outreach_activity" in q["sql"]]
    html = response.content.decode()
    assert date_filter(timezone.localtime(latest.starts_at), "DATE_FORMAT") in html


def test_the_partner_page_shows_the_count_column(client, officer, neighborhood, three):
    school, _church, _store = three
    log(officer, neighborhood, days_ago=2, partners=[school])
    client.force_login(officer)
    assert (
        '<div class="value" data-figure="activities">1</div>' in client.get(f"/partners/{school.pk}/").content.decode()
    )
    # The count is the column's: a figure set by hand shows as it is.
    Partner.objects.filter(pk=school.pk).update(activity_count=30)
    html = client.get(f"/partners/{school.pk}/").content.decode()
    assert '<div class="value" data-figure="activities">30</div>' in html
    assert f'href="/outreach/?partner={school.pk}"' in html  # more than the page lists


# --- two transactions logging for the same partner at once ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_transactions_counting_the_same_partner_do_not_lose_one():
    """The first logs an activity with the partner and holds its transaction open; the second does the
    same and waits on the first's lock; the first commits. The second's recount, taken after the lock,
    sees both activities (a recount from the snapshot the second started with would see one)."""
    neighborhood = factories.NeighborhoodFactory()
    partner = factories.PartnerFactory(name="Shared partner")
    officer = factories.officer(neighborhoods=[neighborhood])
    start = timezone.now() - timedelta(days=1)
    fields = {
        "kind": "community_meeting",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "neighborhood": neighborhood,
        "partners": [partner],
    }
    errors = []

    def second():
        try:
            activity_create(actor=officer, title="Second", **{**fields, "starts_at": start + timedelta(minutes=5)})
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        activity_create(actor=officer, title="First", **fields)
        me = backend_pid()
        thread = threading.Thread(target=second)
        thread.start()
        # Commit only once the second transaction waits on this one's lock on the partner.
        assert wait_until_blocked_on(me, thread), f"the second transaction never waited on the first ({errors})"
    thread.join()
    assert not errors
    assert figures(partner) == (2, start + timedelta(minutes=5))
    assert stored() == counted()
