"""A small, fully known data set: every dashboard figure is hand-computed from it.

Time is frozen at 2024-06-15 12:00 America/Chicago; the period is
2024-05-01 … 2024-06-15 (inclusive, local days).

Finished in the period (resolved_at in range, duplicates excluded):
  f1  A graffiti  created 06-01, resolved 06-02 ( 1 d), due 06-04 → within SLA, resolved
  f2  A graffiti  created 06-01, resolved 06-04 ( 3 d), due 06-02 → late, resolved
  f3  B graffiti  created 05-20, resolved 06-10 (21 d), due 05-23 → late, became a crime report
  f4  B drugs     created 06-05, resolved 06-07 ( 2 d), due 06-08 → within SLA, referred
  f5  C graffiti  created 04-01, resolved 05-05 (34 d), due 04-04 → late, resolved (reported before the period)
  → finished 5, within SLA 2 (40 %), crime 1 (20 %), median days 3 (1, 2, 3, 21, 34)
Not counted as finished: dup (duplicate, 06-03), old (resolved 04-10, before the period).
Open now:
  o7  A graffiti  created 06-10, due 06-13, new, escalation level 1, needs_decision → overdue, escalated, waiting
  o8  A graffiti  created 06-14, due 06-17, acknowledged → not overdue
  o9  B drugs     created 06-01, due 06-04, on hold → not overdue (clock paused)
  o10 C graffiti  created 03-01 (before the period), overdue → outside the cohort
  o11 C drugs     created 06-12, due 06-13, in progress (assigned), level 1, "needs a decision" escalation (flagged)
  → reported in period 8 (f1 f2 f3 f4 o7 o8 o9 o11; the duplicate is the same problem),
    open 4, overdue 2, escalated 2, waiting 2
Feedback in the period: 5 (fixed), 4 (fixed), 2 (not fixed) → mean 3.67, reopen rate 1/3; one older answer ignored.
Outreach in the period: A meeting 2.5 h (P1, P2), A clean-up 4 h (P1), C meeting 1.25 h (P3, addressed o11);
  one B activity in April is outside → 3 activities, 7.75 h, 3 partners engaged.
"""

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.models import Escalation, EscalationRule, Feedback, Issue
from insights.rollups import rollups_apply_all
from tests import factories

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=CHICAGO)


def at(month, day, hour=0):
    return datetime(2024, month, day, hour, 0, tzinfo=CHICAGO)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def known(db, frozen):
    return build_known()


def build_known():
    """Create the data set described at the top of this module (call with time frozen at NOW)."""
    a = factories.NeighborhoodFactory(name="Alpha", slug="alpha", district="Central")
    b = factories.NeighborhoodFactory(name="Bravo", slug="bravo", district="Central")
    c = factories.NeighborhoodFactory(name="Charlie", slug="charlie", district="East")
    graffiti = factories.CategoryFactory(name_en="Graffiti", service_code="graffiti-known", is_public=True)
    drugs = factories.CategoryFactory(name_en="Open-air drug activity", service_code="drugs-known", is_public=False)
    officer = factories.officer(username="known-officer", neighborhoods=[c])
    S, OC = Issue.Status, Issue.Outcome

    def issue(nbhd, cat, created, due, **kw):
        return factories.IssueFactory(neighborhood=nbhd, category=cat, created_at=created, due_at=due, **kw)

    f1 = issue(a, graffiti, at(6, 1), at(6, 4), status=S.CLOSED, outcome=OC.RESOLVED, resolved_at=at(6, 2))
    f2 = issue(a, graffiti, at(6, 1), at(6, 2), status=S.RESOLVED, outcome=OC.RESOLVED, resolved_at=at(6, 4))
    f3 = issue(
        b,
        graffiti,
        at(5, 20),
        at(5, 23),
        status=S.CLOSED,
        outcome=OC.CRIME_REPORT,
        crime_report_number="KC-24-1",
        resolved_at=at(6, 10),
        assignee=officer,
    )
    issue(b, drugs, at(6, 5), at(6, 8), status=S.REFERRED, outcome=OC.REFERRED, resolved_at=at(6, 7))
    f5 = issue(c, graffiti, at(4, 1), at(4, 4), status=S.RESOLVED, outcome=OC.RESOLVED, resolved_at=at(5, 5))
    o7 = issue(a, graffiti, at(6, 10), at(6, 13), status=S.NEW, escalation_level=1, needs_decision=True)
    issue(
        a,
        graffiti,
        at(6, 3),
        at(6, 6),
        status=S.DUPLICATE,
        outcome=OC.DUPLICATE,
        duplicate_of=o7,
        resolved_at=at(6, 3, 5),
    )
    issue(c, graffiti, at(3, 1), at(3, 4), status=S.RESOLVED, outcome=OC.RESOLVED, resolved_at=at(4, 10))
    o8 = issue(a, graffiti, at(6, 14), at(6, 17), status=S.ACKNOWLEDGED, reopen_count=1)
    o9 = issue(b, drugs, at(6, 1), at(6, 4), status=S.ON_HOLD, hold_started_at=at(6, 2))
    o10 = issue(c, graffiti, at(3, 1), at(3, 4), status=S.NEW, escalation_level=2)
    o11 = issue(
        c, drugs, at(6, 12), at(6, 13), status=S.IN_PROGRESS, assignee=officer, escalation_level=1, needs_decision=True
    )
    Escalation.objects.create(
        issue=o11, level=1, action=EscalationRule.Action.NEEDS_DECISION, created_at=at(6, 14), hours_overdue=24
    )
    # A decided escalation, on an issue no longer flagged, does not count.
    Escalation.objects.create(
        issue=o10,
        level=1,
        action=EscalationRule.Action.NEEDS_DECISION,
        created_at=at(3, 5),
        decided_at=at(3, 6),
    )

    Feedback.objects.create(issue=f1, fixed=True, satisfaction=5, created_at=at(6, 3))
    Feedback.objects.create(issue=f2, fixed=True, satisfaction=4, created_at=at(6, 5))
    Feedback.objects.create(issue=o8, fixed=False, satisfaction=2, created_at=at(6, 14, 6))
    Feedback.objects.create(issue=f5, fixed=False, satisfaction=1, created_at=at(4, 20))

    p1, p2, p3 = (factories.PartnerFactory(name=n) for n in ("P1 school", "P2 church", "P3 league"))
    act1 = factories.ActivityFactory(
        neighborhood=a, kind="community_meeting", starts_at=at(6, 6, 18), ends_at=at(6, 6, 20), hours=Decimal("2.5")
    )
    act1.partners.set([p1, p2])
    act2 = factories.ActivityFactory(
        neighborhood=a, kind="clean_up", starts_at=at(5, 11, 9), ends_at=at(5, 11, 13), hours=Decimal("4")
    )
    act2.partners.set([p1])
    act3 = factories.ActivityFactory(
        neighborhood=c, kind="community_meeting", starts_at=at(6, 13, 18), ends_at=at(6, 13, 19), hours=Decimal("1.25")
    )
    act3.partners.set([p3])
    act3.issues.set([o11])
    factories.ActivityFactory(
        neighborhood=b, kind="school_event", starts_at=at(4, 2, 10), ends_at=at(4, 2, 12), hours=Decimal("10")
    )
    rollups_apply_all()  # the summary tables, as the worker folds the changes in every few seconds
    return SimpleNamespace(
        a=a,
        b=b,
        c=c,
        graffiti=graffiti,
        drugs=drugs,
        officer=officer,
        o7=o7,
        o8=o8,
        o9=o9,
        o10=o10,
        o11=o11,
        f3=f3,
        partners=(p1, p2, p3),
    )


@pytest.fixture
def period():
    return {"start": at(5, 1), "end": at(6, 16)}
