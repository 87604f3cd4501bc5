"""Outreach log pages: log, list, filter, detail, edit, export, issue search."""

import csv
import html
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.models import Event
from outreach.models import Activity, ActivityRevision
from outreach.services import activity_create
from tests import factories

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def local(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M").replace(tzinfo=CHICAGO)


@pytest.fixture
def partners():
    return [
        factories.PartnerFactory(name="Guadalupe Centers"),
        factories.PartnerFactory(name="Westside Youth League", kind="youth_league"),
        factories.PartnerFactory(name="KC Public Library", kind="city_agency"),
    ]


@pytest.fixture
def issue(neighborhood, category):
    return factories.IssueFactory(neighborhood=neighborhood, category=category, description="Dumped mattresses")


def valid_post(neighborhood, officer, /, **overrides):
    data = {
        "kind": Activity.Kind.YOUTH_SPORTS,
        "title": "Little league opener",
        "starts_at": "2026-05-02T09:00",
        "ends_at": "2026-05-02T11:30",
        "neighborhood": str(neighborhood.pk),
        "place": "Penn Valley Park, field 2",
        "officers": [str(officer.pk)],
        "partners": [],
        "attendance": "85",
        "hours": "",
        "languages": ["en", "es"],
        "notes": "Handed out water and league sign-up sheets in Spanish.",
        "issues": "",
        "problem": "",
        "follow_up_note": "",
    }
    data.update(overrides)
    return data


def field_block(html: str, field: str) -> str:
    """The HTML of one field's block on the activity form (label, errors, widget, help)."""
    start = html.index(f'id="field-{field}"')
    end = html.find('id="field-', start + 10)
    return html[start : end if end != -1 else len(html)]


class TestLogActivity:
    def test_form_defaults_to_the_officer_and_a_just_finished_hour(self, client, officer, neighborhood):
        client.force_login(officer)
        response = client.get("/outreach/new/")
        assert response.status_code == 200
        form = response.context["form"]
        assert form.initial["officers"] == [officer.pk]
        assert form.initial["neighborhood"] == neighborhood.pk  # the officer's only neighborhood
        assert form.initial["ends_at"] - form.initial["starts_at"] == timedelta(hours=1)
        assert abs((timezone.now() - form.initial["ends_at"]).total_seconds()) < 120
        html = response.content.decode()
        assert 'type="datetime-local"' in html
        assert 'name="languages" value="es"' in html
        assert "js/outreach.js" in html

    def test_happy_path_two_partners_and_a_linked_issue(self, client, officer, neighborhood, partners, issue):
        client.force_login(officer)
        data = valid_post(
            neighborhood,
            officer,
            partners=[str(partners[0].pk), str(partners[1].pk)],
            issues=issue.tracking_code.lower(),
            follow_up_needed="on",
            follow_up_note="Bring Spanish flyers next time",
        )
        response = client.post("/outreach/new/", data)
        activity = Activity.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/outreach/{activity.pk}/"
        assert activity.created_by == officer
        assert activity.kind == Activity.Kind.YOUTH_SPORTS
        assert activity.starts_at == local("2026-05-02T09:00")
        assert activity.ends_at == local("2026-05-02T11:30")
        assert set(activity.partners.all()) == {partners[0], partners[1]}
        assert list(activity.officers.all()) == [officer]
        assert list(activity.issues.all()) == [issue]
        assert activity.languages == ["en", "es"]
        assert activity.attendance == 85
        assert activity.hours == Decimal("2.50")  # blank: 2.5 h × 1 officer
        assert activity.follow_up_needed and activity.follow_up_note == "Bring Spanish flyers next time"
        event = Event.objects.get(issue=issue, kind=Event.Kind.OUTREACH)
        assert event.actor == officer
        assert event.data == {"activity_id": activity.pk}

        detail = client.get(response["Location"]).content.decode()
        assert "Guadalupe Centers" in detail and "Westside Youth League" in detail
        assert issue.tracking_code in detail
        assert "Outreach activity logged." in detail

    def test_hours_blank_counts_every_officer(self, client, officer, other_officer, neighborhood):
        client.force_login(officer)
        data = valid_post(neighborhood, officer, officers=[str(officer.pk), str(other_officer.pk)])
        assert client.post("/outreach/new/", data).status_code == 302
        assert Activity.objects.get().hours == Decimal("5.00")

    def test_hours_given_are_kept(self, client, officer, neighborhood):
        client.force_login(officer)
        assert client.post("/outreach/new/", valid_post(neighborhood, officer, hours="1.75")).status_code == 302
        assert Activity.objects.get().hours == Decimal("1.75")

    @pytest.mark.parametrize(
        "overrides, field, message",
        [
            ({"ends_at": "2026-05-02T08:00"}, "ends_at", "The end is before the start."),
            ({"neighborhood": ""}, "neighborhood", "This field is required."),
            ({"attendance": "-3"}, "attendance", "Attendance cannot be negative."),
            (
                {"partners": ["999999"]},
                "partners",
                "Select a valid choice. 999999 is not one of the available choices.",
            ),
            ({"starts_at": "2026-02-31T09:00"}, "starts_at", "Enter a valid date/time."),
            ({"starts_at": "yesterday"}, "starts_at", "Enter a valid date/time."),
            ({"kind": "parade"}, "kind", "Select a valid choice. parade is not one of the available choices."),
            ({"title": ""}, "title", "This field is required."),
            ({"officers": []}, "officers", "Name at least one officer."),
            ({"hours": "-1"}, "hours", "Hours cannot be negative."),
            ({"issues": "CG-ZZZZ-ZZZZ"}, "issues", "No issue has the tracking code CG-ZZZZ-ZZZZ."),
            ({"issues": "mattress"}, "issues", "Not a tracking code: mattress"),
            ({"ends_at": "2026-05-12T09:00"}, "ends_at", "An activity lasts at most a week"),
        ],
    )
    def test_invalid_input_is_reported_beside_the_field_and_nothing_is_saved(
        self, client, officer, neighborhood, partners, overrides, field, message
    ):
        client.force_login(officer)
        response = client.post("/outreach/new/", valid_post(neighborhood, officer, **overrides))
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert list(errors) == [field]
        assert message in " ".join(errors[field])
        html = response.content.decode()
        # The message is rendered inside the field's own block, between its label and its input.
        block = field_block(html, field)
        assert f'id="id_{field}_errors"' in block
        assert block.index("</label>") < block.index(f'id="id_{field}_errors"') < block.index(f'name="{field}"')
        assert message.split(" <")[0].replace("'", "&#x27;") in block
        assert "Nothing was saved" in html
        assert Activity.objects.count() == 0
        assert Event.objects.filter(kind=Event.Kind.OUTREACH).count() == 0
        # What the officer typed is still there.
        assert "Little league opener" in html or field == "title"

    def test_service_errors_map_to_their_fields(self, client, officer, neighborhood):
        """End before start passes the form's own parsing; the service's message lands on ends_at."""
        client.force_login(officer)
        response = client.post(
            "/outreach/new/", valid_post(neighborhood, officer, ends_at="2026-05-02T08:59", attendance="-1")
        )
        errors = response.context["form"].errors
        assert set(errors) == {"ends_at", "attendance"}
        assert Activity.objects.count() == 0


def make_activity(actor, neighborhood, *, title, days_ago=1, kind=Activity.Kind.COMMUNITY_MEETING, **kwargs):
    start = timezone.now().replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return activity_create(
        actor=actor,
        kind=kind,
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        neighborhood=neighborhood,
        attendance=kwargs.pop("attendance", 10),
        **kwargs,
    )


class TestList:
    @pytest.fixture
    def data(self, officer, other_officer, neighborhood, partners):
        elsewhere = factories.NeighborhoodFactory(name="Northeast", district="Elsewhere")
        return {
            "mine": make_activity(officer, neighborhood, title="Mine at school", kind=Activity.Kind.SCHOOL_EVENT),
            "with_partner": make_activity(
                other_officer, elsewhere, title="Theirs with partner", partners=[partners[0]], days_ago=5
            ),
            "named_on": make_activity(
                other_officer, elsewhere, title="Theirs naming me", officers=[other_officer, officer], days_ago=40
            ),
            "old": make_activity(other_officer, neighborhood, title="Old clean-up", kind="clean_up", days_ago=400),
            "elsewhere": elsewhere,
        }

    def titles(self, response):
        return [a.title for a in response.context["page"].object_list]

    def test_everything_newest_first(self, client, officer, data):
        client.force_login(officer)
        # The log opens on the officer's own neighborhoods; the whole city is one link away.
        response = client.get("/outreach/")
        assert response.status_code == 200
        assert self.titles(response) == ["Mine at school", "Old clean-up"]
        assert response.context["totals"]["activities"] == 2
        response = client.get("/outreach/?area=city")
        assert self.titles(response) == ["Mine at school", "Theirs with partner", "Theirs naming me", "Old clean-up"]
        assert response.context["totals"]["activities"] == 4
        assert response.context["totals"]["attendance"] == 40

    def test_mine_means_logged_by_me_or_naming_me(self, client, officer, data):
        client.force_login(officer)
        assert self.titles(client.get("/outreach/?area=city&mine=on")) == ["Mine at school", "Theirs naming me"]

    def test_neighborhood_kind_partner_and_dates(self, client, officer, neighborhood, partners, data):
        client.force_login(officer)
        assert self.titles(client.get(f"/outreach/?neighborhood={neighborhood.pk}")) == [
            "Mine at school",
            "Old clean-up",
        ]
        assert self.titles(client.get("/outreach/?area=city&kind=school_event")) == ["Mine at school"]
        assert self.titles(client.get(f"/outreach/?area=city&partner={partners[0].pk}")) == ["Theirs with partner"]
        today = timezone.localdate()
        start, end = today - timedelta(days=50), today - timedelta(days=3)
        assert self.titles(client.get(f"/outreach/?area=city&date_from={start}&date_to={end}")) == [
            "Theirs with partner",
            "Theirs naming me",
        ]
        response = client.get(f"/outreach/?kind=clean_up&neighborhood={neighborhood.pk}&date_to={today}")
        assert self.titles(response) == ["Old clean-up"]
        assert response.context["totals"]["activities"] == 1

    def test_bad_filter_values_are_reported_not_a_500(self, client, officer, data):
        client.force_login(officer)
        response = client.get("/outreach/?neighborhood=abc&date_from=2026-13-01&kind=school_event")
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"neighborhood", "date_from"}
        assert self.titles(response) == ["Mine at school"]  # the valid filter still applies
        response = client.get("/outreach/?date_from=2026-05-10&date_to=2026-05-01")
        assert "The end date is before the start date." in response.content.decode()

    def test_pagination_keeps_the_filters(self, client, officer, neighborhood):
        for n in range(30):
            make_activity(officer, neighborhood, title=f"Walk {n:02d}", days_ago=n + 1, kind="door_to_door")
        make_activity(officer, neighborhood, title="Meeting", days_ago=2)
        client.force_login(officer)
        first = client.get("/outreach/?kind=door_to_door")
        assert len(first.context["page"].object_list) == 25
        assert first.context["totals"]["activities"] == 30
        match = re.search(r'rel="next" href="([^"]+)"', first.content.decode())
        assert match and match.group(1).startswith("?kind=door_to_door&amp;after=")
        second = client.get("/outreach/" + html.unescape(match.group(1)))
        assert self.titles(second) == [f"Walk {n:02d}" for n in range(25, 30)]
        assert "26–30" in second.content.decode()
        # An edited link shows the first page.
        assert self.titles(client.get("/outreach/?kind=door_to_door&after=zz")) == self.titles(first)

    def test_list_shows_officers_partners_and_issue_count(self, client, officer, neighborhood, partners, issue):
        make_activity(officer, neighborhood, title="Clean-up", partners=partners[:2], issues=[issue])
        client.force_login(officer)
        html = client.get("/outreach/").content.decode()
        assert officer.get_full_name() in html
        assert "Guadalupe Centers" in html and "Westside Youth League" in html
        assert "1 issue addressed" in html


class TestDetailAndEdit:
    @pytest.fixture
    def activity(self, officer, neighborhood, partners):
        return make_activity(officer, neighborhood, title="Block party", partners=[partners[0]], attendance=40)

    def edit_post(self, activity, **overrides):
        data = {
            "kind": activity.kind,
            "title": activity.title,
            "starts_at": timezone.localtime(activity.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(activity.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "neighborhood": str(activity.neighborhood_id),
            "place": activity.place,
            "officers": [str(u.pk) for u in activity.officers.all()],
            "partners": [str(p.pk) for p in activity.partners.all()],
            "attendance": str(activity.attendance),
            "hours": str(activity.hours),
            "languages": activity.languages,
            "notes": activity.notes,
            "issues": "",
            "problem": "",
            "follow_up_note": "",
        }
        data.update(overrides)
        return data

    def test_detail_shows_people_partners_issues(self, client, other_officer, activity, partners):
        client.force_login(other_officer)
        response = client.get(f"/outreach/{activity.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Block party" in html and "Guadalupe Centers" in html
        assert response.context["can_edit"] is False
        assert f'href="/outreach/{activity.pk}/edit/"' not in html

    def test_author_edits_and_the_change_is_recorded(self, client, officer, activity, partners, issue):
        client.force_login(officer)
        form = client.get(f"/outreach/{activity.pk}/edit/")
        assert form.status_code == 200
        data = self.edit_post(
            activity,
            attendance="55",
            partners=[str(partners[0].pk), str(partners[2].pk)],
            issues=issue.tracking_code,
        )
        response = client.post(f"/outreach/{activity.pk}/edit/", data)
        assert response.status_code == 302
        activity.refresh_from_db()
        assert activity.attendance == 55
        assert set(activity.partners.all()) == {partners[0], partners[2]}
        revision = ActivityRevision.objects.get(activity=activity)
        assert revision.actor == officer
        assert revision.changes["attendance"] == [40, 55]
        assert sorted(revision.changes["partners"][1]) == sorted([partners[0].pk, partners[2].pk])
        assert Event.objects.filter(issue=issue, kind=Event.Kind.OUTREACH, data__activity_id=activity.pk).exists()
        html = client.get(f"/outreach/{activity.pk}/").content.decode()
        history = html[html.index('id="activity-revisions"') :]
        assert "40" in history and "55" in history
        assert "added KC Public Library" in history
        assert issue.tracking_code in history

    def test_an_officer_named_on_it_may_edit(self, client, other_officer, activity):
        from outreach.services import activity_update

        activity_update(activity=activity, actor=activity.created_by, officers=[activity.created_by, other_officer])
        client.force_login(other_officer)
        response = client.post(f"/outreach/{activity.pk}/edit/", self.edit_post(activity, title="Block party 2026"))
        assert response.status_code == 302
        assert Activity.objects.get(pk=activity.pk).title == "Block party 2026"

    def test_supervisor_edits_any_activity(self, client, supervisor, activity):
        client.force_login(supervisor)
        response = client.post(f"/outreach/{activity.pk}/edit/", self.edit_post(activity, kind="cultural"))
        assert response.status_code == 302
        revision = ActivityRevision.objects.get(activity=activity)
        assert revision.actor == supervisor and revision.changes["kind"] == ["community_meeting", "cultural"]
        html = client.get(f"/outreach/{activity.pk}/").content.decode()
        assert "Cultural or language-access event" in html

    def test_another_officer_gets_403_and_nothing_changes(self, client, other_officer, activity):
        client.force_login(other_officer)
        assert client.get(f"/outreach/{activity.pk}/edit/").status_code == 403
        response = client.post(f"/outreach/{activity.pk}/edit/", self.edit_post(activity, title="Hijacked"))
        assert response.status_code == 403
        assert Activity.objects.get(pk=activity.pk).title == "Block party"
        assert not ActivityRevision.objects.exists()

    def test_invalid_edit_saves_nothing(self, client, officer, activity):
        client.force_login(officer)
        response = client.post(f"/outreach/{activity.pk}/edit/", self.edit_post(activity, attendance="-1", title="X"))
        assert response.status_code == 400
        assert "Attendance cannot be negative." in response.content.decode()
        activity.refresh_from_db()
        assert activity.title == "Block party" and not ActivityRevision.objects.exists()

    def test_clearing_hours_recomputes_them(self, client, officer, other_officer, activity):
        client.force_login(officer)
        data = self.edit_post(activity, hours="", officers=[str(officer.pk), str(other_officer.pk)])
        assert client.post(f"/outreach/{activity.pk}/edit/", data).status_code == 302
        activity.refresh_from_db()
        assert activity.hours == Decimal("4.00")  # 2 h × 2 officers

    def test_unchanged_save_records_no_revision(self, client, officer, activity):
        client.force_login(officer)
        assert client.post(f"/outreach/{activity.pk}/edit/", self.edit_post(activity)).status_code == 302
        assert not ActivityRevision.objects.exists()

    def test_an_officer_who_has_left_stays_on_old_activities(self, client, officer, other_officer, activity):
        from outreach.services import activity_update

        activity_update(activity=activity, actor=officer, officers=[officer, other_officer])
        other_officer.is_active = False
        other_officer.save(update_fields=["is_active"])
        client.force_login(officer)
        response = client.post(f"/outreach/{activity.pk}/edit/", self.edit_post(activity, attendance="41"))
        assert response.status_code == 302
        assert set(Activity.objects.get(pk=activity.pk).officers.all()) == {officer, other_officer}
        # …but cannot be named on a new one, nor can an account without a staff role.
        resident = factories.UserFactory(username="resident")
        for person in (other_officer, resident):
            data = valid_post(activity.neighborhood, officer, officers=[str(officer.pk), str(person.pk)])
            response = client.post("/outreach/new/", data)
            assert response.status_code == 400
            assert list(response.context["form"].errors) == ["officers"]

    def test_missing_activity_is_404(self, client, officer):
        client.force_login(officer)
        assert client.get("/outreach/999999/").status_code == 404
        assert client.get("/outreach/999999/edit/").status_code == 404


class TestExport:
    def checked_rows(self, response):
        assert response.streaming
        body = b"".join(response.streaming_content).decode()
        return list(csv.DictReader(io.StringIO(body)))

    def test_csv_follows_the_filters(self, client, supervisor, officer, neighborhood, partners, issue):
        make_activity(officer, neighborhood, title="School visit", kind="school_event", partners=partners[:2])
        make_activity(officer, neighborhood, title="=HYPERLINK(evil)", issues=[issue], notes="Resident Ana said…")
        make_activity(officer, factories.NeighborhoodFactory(), title="Elsewhere")
        client.force_login(supervisor)
        response = client.get(f"/outreach/export.csv?neighborhood={neighborhood.pk}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = self.checked_rows(response)
        assert sorted(r["title"] for r in rows) == ["'=HYPERLINK(evil)", "School visit"]
        school = next(r for r in rows if r["title"] == "School visit")
        assert school["partners"] == "Guadalupe Centers; Westside Youth League"
        assert school["officers"] == officer.get_full_name()
        assert school["neighborhood"] == neighborhood.name
        assert school["kind"] == "school_event"
        other = next(r for r in rows if r["title"] != "School visit")
        assert other["issues"] == issue.tracking_code
        # Free-text notes may name residents: they are not exported, nor are e-mail addresses.
        body = "".join(",".join(r.values()) for r in rows)
        assert "Ana" not in body and "@" not in body
        assert list(rows[0]) == [
            "id",
            "kind",
            "title",
            "starts_at",
            "ends_at",
            "neighborhood",
            "beat",
            "district",
            "place",
            "officers",
            "partners",
            "attendance",
            "officer_hours",
            "languages",
            "issues",
            "follow_up_needed",
        ]
        only_school = self.checked_rows(client.get("/outreach/export.csv?kind=school_event"))
        assert [r["title"] for r in only_school] == ["School visit"]

    def test_list_links_to_the_export_with_its_filters_for_supervisors_only(self, client, supervisor, officer):
        client.force_login(supervisor)
        assert 'href="/outreach/export.csv?kind=cultural"' in client.get("/outreach/?kind=cultural").content.decode()
        client.force_login(officer)
        assert "/outreach/export.csv" not in client.get("/outreach/").content.decode()


class TestIssueSearch:
    def test_finds_by_code_with_or_without_dashes_and_by_text(self, client, officer, neighborhood, category):
        wanted = factories.IssueFactory(neighborhood=neighborhood, category=category, description="Couch on sidewalk")
        factories.IssueFactory(neighborhood=neighborhood, category=category, description="Graffiti on bridge")
        client.force_login(officer)
        code = wanted.tracking_code
        for q in (code, code.lower(), code.replace("-", ""), code[3:], "couch"):
            results = client.get("/outreach/issue-search/", {"q": q}).json()["results"]
            assert [r["tracking_code"] for r in results] == [code], q
        result = client.get("/outreach/issue-search/", {"q": code}).json()["results"][0]
        assert result["url"] == f"/issues/{wanted.pk}/"
        assert set(result) == {"id", "tracking_code", "label", "detail", "status", "url"}
        assert client.get("/outreach/issue-search/", {"q": "x"}).json() == {"results": []}

    def test_open_issues_come_first(self, client, officer, neighborhood, category):
        closed = factories.IssueFactory(
            neighborhood=neighborhood,
            category=category,
            description="Tires dumped",
            status="closed",
            created_at=timezone.now() - timedelta(minutes=1),
        )
        opened = factories.IssueFactory(
            neighborhood=neighborhood, category=category, description="Tires dumped again", created_at=timezone.now()
        )
        older_open = factories.IssueFactory(
            neighborhood=neighborhood,
            category=category,
            description="Tires in alley",
            created_at=timezone.now() - timedelta(days=3),
        )
        client.force_login(officer)
        codes = [r["tracking_code"] for r in client.get("/outreach/issue-search/?q=tires").json()["results"]]
        assert codes == [opened.tracking_code, older_open.tracking_code, closed.tracking_code]

    def test_reporter_contact_details_never_appear(self, client, officer, neighborhood, category):
        issue = factories.IssueFactory(neighborhood=neighborhood, category=category, description="Broken light")
        factories.ReportFactory(
            issue=issue, reporter_name="Maria Lopez", reporter_email="maria@example.org", reporter_phone="8165550100"
        )
        client.force_login(officer)
        body = client.get("/outreach/issue-search/?q=broken").content.decode()
        assert issue.tracking_code in body
        assert "Maria" not in body and "maria@" not in body and "8165550100" not in body
