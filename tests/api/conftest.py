"""Fixtures of the REST API tests: token-authenticated clients for each kind of user."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Many users per test here; the real hasher's cost buys nothing in API tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_client(user) -> APIClient:
    """A client that authenticates like an API program: ``Authorization: Token <key>``."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def revoked_officer(db, neighborhood):
    """An officer whose account an administrator deactivated after issuing a token."""
    user = factories.officer(neighborhoods=[neighborhood])
    Token.objects.create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


@pytest.fixture
def clients(officer, other_officer, supervisor, revoked_officer):
    """One client per row of the permission matrix."""
    return {
        "anonymous": APIClient(),
        "officer": token_client(officer),
        "other_officer": token_client(other_officer),
        "supervisor": token_client(supervisor),
        "revoked": token_client(revoked_officer),
    }


@pytest.fixture
def issue(db, neighborhood, category):
    """An open issue in the officer's neighborhood, with a resident's report that left contact details."""
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.ReportFactory(
        issue=issue,
        reporter_name="Rosa Alvarez",
        reporter_email="rosa@example.org",
        reporter_phone="816-555-0199",
        contact_consent=True,
    )
    return issue


@pytest.fixture
def world(db, neighborhood, category, officer, other_officer, supervisor, issue):
    """One of everything the API serves, around ``issue`` (in the officer's neighborhood)."""
    from django.utils import timezone

    from cases import services
    from cases.models import Escalation, EscalationRule, Notification

    now = timezone.now()
    second = factories.IssueFactory(neighborhood=neighborhood, category=category)
    elsewhere = factories.IssueFactory(category=category, neighborhood=factories.NeighborhoodFactory(district="East"))
    escalation = Escalation.objects.create(
        issue=issue, level=1, action=EscalationRule.Action.NEEDS_DECISION, created_at=now
    )
    notification = Notification.objects.create(user=officer, subject="Assigned to you", issue=issue, created_at=now)
    partner = factories.PartnerFactory()
    partner.neighborhoods.set([neighborhood])
    activity = factories.ActivityFactory(neighborhood=neighborhood, created_by=officer)
    activity.officers.set([officer])
    activity.partners.set([partner])
    problem = services.problem_open(title="Tagging on the corridor", actor=supervisor, issues=[second])
    return {
        "issue": issue,
        "second": second,
        "elsewhere": elsewhere,
        "report": issue.reports.get(),
        "escalation": escalation,
        "notification": notification,
        "partner": partner,
        "activity": activity,
        "problem": problem,
        "category": category,
        "neighborhood": neighborhood,
        "officer": officer,
        "other_officer": other_officer,
        "supervisor": supervisor,
    }
