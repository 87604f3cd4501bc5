"""The admin shows an issue's place and category read-only once it is filed (its feedback is keyed on them)."""

from __future__ import annotations

import pytest

from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


def test_filed_issue_place_and_category_are_read_only_in_the_admin(admin_client):
    issue = IssueFactory()
    page = admin_client.get(f"/admin/cases/issue/{issue.pk}/change/").content.decode()
    assert 'name="description"' in page  # the form is there and editable otherwise
    assert 'name="category"' not in page and 'name="neighborhood"' not in page
    assert issue.category.name in page  # shown, not editable


def test_a_new_issue_in_the_admin_still_chooses_its_place_and_category(admin_client):
    page = admin_client.get("/admin/cases/issue/add/").content.decode()
    assert 'name="category"' in page and 'name="neighborhood"' in page


def test_admin_links_typed_without_a_scheme_mean_https(rf, admin_user):
    from django.contrib.admin.sites import site

    from cases.models import Report
    from partners.models import Partner

    request = rf.get("/admin/")
    request.user = admin_user
    for model, field in ((Partner, "website"), (Report, "media_url")):
        form = site._registry[model].get_form(request)()
        assert form.fields[field].clean("example.org/photo") == "https://example.org/photo"
