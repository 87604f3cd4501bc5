"""Every list reads work in proportion to the page it shows, not to the table (issue 14, item 5).

The module loads a city-sized data set once — 200 000 issues over a year (one report each),
20 000 outreach activities, 20 000 notifications, escalations and problems — set-based, inside a
transaction that is rolled back at the end, and gives PostgreSQL its statistics (ANALYZE). At
that size the planner never picks a scan of the whole issue table by accident: a plan that
reads it whole is a page that costs what the table costs.

Each test opens one list as the user who uses it (an officer's queue, a supervisor's issue list,
an API program with a token, an anonymous 311 client), with one filter, or its second page
reached through the page's own ``rel="next"`` link (the API's ``next`` URL), captures the SQL, runs
every read of a watched table again under ``EXPLAIN ANALYZE`` and adds up the rows each
statement read of each watched table (tests/perf/plans.py). A statement fails the test when:

- it reads more than ``LIST_BOUND`` rows of one table (or ``ROWS_PER_SHOWN_ROW`` per row for a
  page that may show more than 500, the Open311 answer of 1 000), or
- its plan has a ``Seq Scan`` of a watched table, whatever its size.

``LIST_BOUND`` is 5 000 rows: a page of 25 to 200 rows read through an index that fits reads
about that many; a filter the index does not hold, a capped count ("1 000+") and the page's
summary figures may add a few thousand. A full scan reads 200 000: forty times the bound, so no
legitimate plan is near it and no scan hides under it. Single reads (the issue page, the
status page, one Open311 request) are index lookups: at most ``LOOKUP_BOUND`` (50) rows.

A failure prints the URL, each offending statement (shortened) and its plan as text.
"""

from __future__ import annotations

import html
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from cases.models import TRACKING_ALPHABET, Category, Escalation, Issue, Notification, Report
from outreach.models import Activity
from outreach.services import partner_figures_refresh
from partners.models import Partner
from tests import factories
from tests.api.conftest import token_client
from tests.perf.plans import problems, statements

N_ISSUES = 200_000
# The outreach log of a year (as the bench's: 100 000 activities by 200 officers). At 20 000 the whole
# table is small enough that reading it is the planner's honest choice for an officer's own log.
N_ACTIVITIES = 100_000
OUTREACH_COLLEAGUES = 160  # officers who log outreach but own none of the test's issues
N_NOTIFICATIONS = 20_000
TESTER_NOTIFICATIONS = 12_000  # a busy officer's share of them
N_NEIGHBORHOODS = 20
N_OFFICERS = 40
N_PARTNERS = 30
N_PROBLEMS = 40

LIST_BOUND = 5_000
ROWS_PER_SHOWN_ROW = 10
LOOKUP_BOUND = 50
WATCHED = ("cases_issue", "outreach_activity", "cases_notification")

# Descriptions are a few words of this vocabulary, so a word matches about an eighth of the issues;
# RARE is in one issue in 200, ABSENT in none.
# fmt: off
WORDS = [
    "tags", "paint", "wall", "fence", "alley", "broken", "glass", "window", "door", "trash", "bags", "pile",
    "curb", "corner", "park", "bench", "light", "pole", "car", "truck", "parked", "blocking", "hydrant", "noise",
    "music", "night", "party", "dog", "loose", "yard", "weeds", "lot", "vacant", "house", "smoke", "tires",
    "needles", "shopping", "cart", "sign",
]
# fmt: on
COMMON, RARE, ABSENT = "hydrant", "sofa", "zyzzyva"
STREETS = ["Main St", "Troost Ave", "Prospect Ave", "Linwood Blvd", "Gillham Rd", "Oak St", "Walnut St", "Vine St"]


# --- the data set ------------------------------------------------------------------------


def _execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _insert_select(model, exprs: dict[str, str], from_sql: str, params: dict) -> int:
    """``INSERT INTO <table> (…) SELECT <exprs> <from_sql>``; every column not given takes the field's
    default (a field added later with a default does not break the load; one without fails here)."""
    columns, values, params = [], [], dict(params)
    for field in model._meta.local_concrete_fields:
        if field.primary_key and field.column not in exprs:
            continue
        columns.append(field.column)
        if field.column in exprs:
            values.append(exprs[field.column])
            continue
        default = field.get_default()
        if default is None and not field.null:
            raise RuntimeError(f"no value for {model.__name__}.{field.name}: give it in the load")
        values.append(f"%(default_{field.column})s")
        params[f"default_{field.column}"] = field.get_db_prep_save(default, connection)
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} {from_sql}"
    return _execute(sql, params)


def _code_chars(bits: str) -> str:
    """The tracking code body for a 40-bit number: eight characters of TRACKING_ALPHABET, five bits each."""
    return " || ".join(f"substr(%(alphabet)s, (({bits} >> {shift}) & 31)::int + 1, 1)" for shift in range(35, -5, -5))


def _checked_load_issues(now, categories, neighborhoods, officers, problems_) -> int:
    """200 000 issues in one statement: a year of reports, about 12 % still open (most of the recent
    ones, a few old ones), most finished, a few merged as duplicates or grouped under a problem.
    Ids follow the filing time, as they would. Returns the first id.

    No UPDATE follows: an updated row would leave a HOT chain that makes the indexes built after
    the load (``_indexes_built_after``) unusable until this transaction ends (pg_index.indcheckxmin)."""
    first = _scalar("SELECT nextval(pg_get_serial_sequence('cases_issue', 'id'))")
    body = _code_chars("s.x")
    finished_kinds = ("resolved", "closed", "duplicate", "referred", "crime")
    target = (
        "CASE q.priority WHEN 'urgent' THEN c.target_hours_urgent WHEN 'high' THEN c.target_hours_high "
        "WHEN 'normal' THEN c.target_hours_normal ELSE c.target_hours_low END"
    )
    # Finished within up to twice the target time (never after now).
    resolved_at = (
        "LEAST(%(now)s - interval '1 minute', p.created_at + make_interval(secs => p.u_res * p.target * 7200))"
    )
    finished = f"p.plan IN {finished_kinds!r}"
    escalated = "p.due_at < %(now)s - interval '1 day' AND p.u_esc < CASE WHEN p.plan IN ('new', 'acknowledged', "
    escalated += "'in_progress', 'on_hold') THEN 0.5 ELSE 0.1 END"
    inserted = _insert_select(
        Issue,
        {
            "id": "p.id",
            "tracking_code": "p.code",
            "category_id": "p.category_id",
            "neighborhood_id": "p.neighborhood_id",
            "lat": "p.min_lat + p.u_lat * (p.max_lat - p.min_lat)",
            "lng": "p.min_lng + p.u_lng * (p.max_lng - p.min_lng)",
            "address": "p.address",
            # Generated text holds no personal details: the public copies are the originals.
            "public_address": "p.address",
            "description": "p.description",
            "public_description": "p.description",
            "priority": "p.priority",
            "status": "CASE p.plan WHEN 'crime' THEN 'closed' ELSE p.plan END",
            "approach": "CASE WHEN p.plan = 'new' THEN '' "
            "ELSE (ARRAY['', 'deter', 'problem_solve', 'enforce'])[1 + mod(p.g, 4)] END",
            "assignee_id": "CASE WHEN p.u_assign < CASE WHEN p.plan = 'new' THEN 0.7 "
            "WHEN p.plan IN ('acknowledged', 'in_progress', 'on_hold') THEN 0.15 ELSE 0.05 END THEN NULL "
            "ELSE (%(officers)s::bigint[])[1 + floor(p.u_officer * %(n_officers)s)::int] END",
            # About 80 issues to each problem.
            "problem_id": "CASE WHEN mod(p.id, 60) = 0 "
            "THEN (%(problems)s::bigint[])[1 + mod(p.id / 60, %(n_problems)s)] END",
            # A duplicate is merged into the issue filed just before it.
            "duplicate_of_id": "CASE WHEN p.plan = 'duplicate' THEN p.id - 1 END",
            "created_at": "p.created_at",
            "updated_at": f"CASE WHEN {finished} THEN {resolved_at} ELSE p.created_at END",
            "acknowledged_at": "CASE WHEN p.plan = 'new' THEN NULL ELSE p.created_at + interval '30 minutes' END",
            "due_at": "p.due_at",
            "hold_started_at": "CASE WHEN p.plan = 'on_hold' THEN p.created_at + interval '20 minutes' END",
            "hold_reason": "CASE WHEN p.plan = 'on_hold' THEN 'Waiting for the property owner' ELSE '' END",
            "resolved_at": f"CASE WHEN {finished} THEN {resolved_at} END",
            "closed_at": f"CASE WHEN p.plan IN ('closed', 'crime') THEN {resolved_at} END",
            "escalation_level": f"CASE WHEN {escalated} THEN 1 + floor(p.u_level * 3)::int ELSE 0 END",
            "needs_decision": f"p.plan IN ('new', 'acknowledged', 'in_progress') AND {escalated} "
            "AND p.u_level > 0.5 AND mod(p.g, 2) = 0",
            "outcome": "CASE p.plan WHEN 'resolved' THEN 'resolved' WHEN 'closed' THEN 'resolved' "
            "WHEN 'duplicate' THEN 'duplicate' WHEN 'referred' THEN 'referred' WHEN 'crime' THEN 'crime_report' "
            "ELSE '' END",
            "resolution_note": "CASE WHEN p.plan IN ('resolved', 'closed') THEN 'Fixed' ELSE '' END",
            "referred_to": "CASE WHEN p.plan = 'referred' THEN 'Public Works' ELSE '' END",
            "crime_report_number": "CASE WHEN p.plan = 'crime' THEN 'KC-' || p.g ELSE '' END",
            "report_count": "1",
        },
        f"""
        FROM (
            SELECT r.*,
                   CASE WHEN r.first_plan = 'closed' AND mod(r.id, 40) = 0 AND r.id > %(first)s THEN 'duplicate'
                        ELSE r.first_plan END AS plan
            FROM (
                SELECT q.*, %(first)s - 1 + row_number() OVER (ORDER BY q.created_at, q.g) AS id,
                       {target} AS target, q.created_at + make_interval(hours => {target}) AS due_at,
                       c.id AS category_id, n.id AS neighborhood_id, n.min_lat, n.max_lat, n.min_lng, n.max_lng
                FROM (
                    SELECT s.*,
                           'CG-' || substr(s.body, 1, 4) || '-' || substr(s.body, 5, 4) AS code,
                           CASE WHEN s.u_prio < 0.2 THEN 'low' WHEN s.u_prio < 0.75 THEN 'normal'
                                WHEN s.u_prio < 0.93 THEN 'high' ELSE 'urgent' END AS priority,
                           CASE WHEN s.u_open < CASE WHEN s.created_at > %(now)s - interval '30 days' THEN 0.6
                                                     ELSE 0.075 END
                                THEN CASE WHEN s.u_kind < 0.35 THEN 'new' WHEN s.u_kind < 0.6 THEN 'acknowledged'
                                          WHEN s.u_kind < 0.9 THEN 'in_progress' ELSE 'on_hold' END
                                ELSE CASE WHEN s.u_kind < 0.3 THEN 'resolved' WHEN s.u_kind < 0.86 THEN 'closed'
                                          WHEN s.u_kind < 0.97 THEN 'referred' ELSE 'crime' END
                           END AS first_plan,
                           (%(words)s::text[])[s.w1] || ' ' || (%(words)s::text[])[s.w2] || ' '
                               || (%(words)s::text[])[s.w3] || ' by the ' || (%(words)s::text[])[s.w4] || ' '
                               || (%(words)s::text[])[s.w5]
                               || CASE WHEN s.u_rare < 0.005 THEN ' and an old ' || %(rare)s ELSE '' END
                               AS description,
                           CASE WHEN s.u_addr < 0.7
                                THEN (100 + mod(s.g, 8900)) || ' ' || (%(streets)s::text[])[1 + mod(s.g, 8)]
                                ELSE '' END AS address
                    FROM (
                        SELECT g, {body} AS body, u_cat, u_nb, u_open, u_kind, u_prio, u_assign, u_officer, u_esc,
                               u_level, u_res, u_lat, u_lng, u_addr, u_rare, w1, w2, w3, w4, w5, created_at
                        FROM (
                            SELECT g, (g::bigint * 2654435761) & 1099511627775 AS x,
                                   random() AS u_cat, random() AS u_nb, random() AS u_open, random() AS u_kind,
                                   random() AS u_prio, random() AS u_assign, random() AS u_officer,
                                   random() AS u_esc, random() AS u_level, random() AS u_res, random() AS u_lat,
                                   random() AS u_lng, random() AS u_addr, random() AS u_rare,
                                   1 + floor(random() * %(n_words)s)::int AS w1,
                                   1 + floor(random() * %(n_words)s)::int AS w2,
                                   1 + floor(random() * %(n_words)s)::int AS w3,
                                   1 + floor(random() * %(n_words)s)::int AS w4,
                                   1 + floor(random() * %(n_words)s)::int AS w5,
                                   %(now)s - make_interval(secs => 3600 + random() * 364 * 86400) AS created_at
                            FROM generate_series(1, %(n)s) g
                        ) s
                    ) s
                ) q
                JOIN cases_category c
                  ON c.id = (%(categories)s::bigint[])[1 + floor(q.u_cat * %(n_categories)s)::int]
                JOIN partners_neighborhood n
                  ON n.id = (%(neighborhoods)s::bigint[])[1 + floor(q.u_nb * %(n_neighborhoods)s)::int]
            ) r
        ) p
        ORDER BY p.id
        """,
        {
            "now": now,
            "n": N_ISSUES,
            "first": first,
            "alphabet": TRACKING_ALPHABET,
            "words": WORDS,
            "n_words": len(WORDS),
            "rare": RARE,
            "streets": STREETS,
            "categories": categories,
            "n_categories": len(categories),
            "neighborhoods": neighborhoods,
            "n_neighborhoods": len(neighborhoods),
            "officers": officers,
            "n_officers": len(officers),
            "problems": problems_,
            "n_problems": len(problems_),
        },
    )
    assert inserted == N_ISSUES
    _execute("SELECT setval(pg_get_serial_sequence('cases_issue', 'id'), %(last)s)", {"last": first + N_ISSUES - 1})
    return first


def _load_reports(first_issue: int) -> None:
    """One report per issue, as residents filed them."""
    _insert_select(
        Report,
        {
            "issue_id": "i.id",
            "text": "i.description",
            "public_text": "i.public_description",
            "channel": "(ARRAY['web', 'web', 'web', 'phone', 'open311', 'officer'])[1 + mod(i.id, 6)]",
            "created_at": "i.created_at",
        },
        "FROM cases_issue i WHERE i.id >= %(first)s ORDER BY i.id",
        {"first": first_issue},
    )


def _load_escalations(first_issue: int, supervisor_id: int, now) -> None:
    """The levels each escalated issue climbed; a supervisor decided those of finished issues."""
    finished = "i.status IN ('resolved', 'closed', 'duplicate', 'referred')"
    _insert_select(
        Escalation,
        {
            "issue_id": "i.id",
            "level": "l",
            "action": "CASE l WHEN 3 THEN 'needs_decision' WHEN 2 THEN 'notify_supervisor' ELSE 'raise_priority' END",
            "hours_overdue": "24 * (l - 1)",
            "created_at": "LEAST(%(now)s, i.due_at + make_interval(hours => 24 * (l - 1)))",
            "decided_at": f"CASE WHEN {finished} THEN i.resolved_at END",
            "decided_by_id": f"CASE WHEN {finished} THEN %(supervisor)s::bigint END",
            "decision": f"CASE WHEN {finished} THEN 'Continue' ELSE '' END",
        },
        "FROM cases_issue i CROSS JOIN generate_series(1, 3) l "
        "WHERE i.id >= %(first)s AND l <= i.escalation_level ORDER BY i.id, l",
        {"first": first_issue, "now": now, "supervisor": supervisor_id},
    )


def _load_activities(now, neighborhoods, officers, partners, first_issue) -> None:
    first = _scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM outreach_activity")
    _insert_select(
        Activity,
        {
            "kind": "(%(kinds)s::text[])[1 + mod(g, %(n_kinds)s)]",
            "title": "'Outreach ' || g",
            "starts_at": "starts",
            "ends_at": "starts + interval '2 hours'",
            "neighborhood_id": "(%(neighborhoods)s::bigint[])[1 + mod(g * 7, %(n_neighborhoods)s)]",
            "place": "'Community center'",
            "attendance": "mod(g, 80)",
            "hours": "2",
            "languages": "'[\"en\"]'::jsonb",
            "follow_up_needed": "mod(g, 9) = 0",
            "follow_up_note": "CASE WHEN mod(g, 9) = 0 THEN 'Call the school back' ELSE '' END",
            "created_by_id": "(%(officers)s::bigint[])[1 + mod(g, %(n_officers)s)]",
            "created_at": "starts",
            "updated_at": "starts",
        },
        """
        FROM (SELECT g, %(now)s - make_interval(secs => 7200 + random() * 364 * 86400) AS starts
              FROM generate_series(1, %(n)s) g) a
        ORDER BY starts
        """,
        {
            "now": now,
            "n": N_ACTIVITIES,
            "kinds": Activity.Kind.values,
            "n_kinds": len(Activity.Kind.values),
            "neighborhoods": neighborhoods,
            "n_neighborhoods": len(neighborhoods),
            "officers": officers,
            "n_officers": len(officers),
        },
    )
    links = {"first": first, "officers": officers, "n_officers": len(officers), "partners": partners}
    _execute(
        """
        INSERT INTO outreach_activity_officers (activity_id, user_id)
        SELECT a.id, (%(officers)s::bigint[])[1 + mod(a.id + k * 5, %(n_officers)s)]
        FROM outreach_activity a CROSS JOIN generate_series(0, 1) k
        WHERE a.id >= %(first)s AND (k = 0 OR mod(a.id, 2) = 0)
        """,
        links,
    )
    _execute(
        """
        INSERT INTO outreach_activity_partners (activity_id, partner_id)
        SELECT a.id, (%(partners)s::bigint[])[1 + mod(a.id * 3, %(n_partners)s)]
        FROM outreach_activity a WHERE a.id >= %(first)s
        """,
        {**links, "n_partners": len(partners)},
    )
    _execute(
        """
        INSERT INTO outreach_activity_issues (activity_id, issue_id)
        SELECT a.id, %(first_issue)s + mod(a.id * 7919, %(n_issues)s)
        FROM outreach_activity a WHERE a.id >= %(first)s AND mod(a.id, 4) = 0
        """,
        {**links, "first_issue": first_issue, "n_issues": N_ISSUES},
    )
    # Each partner's outreach figures, recounted from the links by the service that keeps them
    # when activities are logged one by one (one UPDATE over the partners).
    partner_figures_refresh(partner_ids=Partner.objects.values_list("pk", flat=True))


def _load_notifications(now, tester_id, others, first_issue) -> None:
    _insert_select(
        Notification,
        {
            "user_id": "CASE WHEN g <= %(tester_share)s THEN %(tester)s::bigint "
            "ELSE (%(others)s::bigint[])[1 + mod(g, %(n_others)s)] END",
            "subject": "'Assigned to you: an issue in your neighborhood'",
            "url": "'/issues/' || issue_id || '/'",
            "issue_id": "issue_id",
            "created_at": "created",
            "read_at": "CASE WHEN u < 0.9 THEN created + interval '1 hour' END",
        },
        """
        FROM (SELECT g, %(first_issue)s + floor(random() * %(n_issues)s)::bigint AS issue_id, random() AS u,
                     %(now)s - make_interval(secs => 7200 + random() * 364 * 86400) AS created
              FROM generate_series(1, %(n)s) g) s
        ORDER BY created
        """,
        {
            "now": now,
            "n": N_NOTIFICATIONS,
            "tester_share": TESTER_NOTIFICATIONS,
            "tester": tester_id,
            "others": others,
            "n_others": len(others),
            "first_issue": first_issue,
            "n_issues": N_ISSUES,
        },
    )


def _small_rows(now):
    """Places, categories, people, partners and problems, through the factories as the suite makes them."""
    districts = ["Central", "East", "North", "South"]
    neighborhoods = [factories.NeighborhoodFactory(district=districts[n % 4]) for n in range(N_NEIGHBORHOODS)]
    public = [
        factories.CategoryFactory(
            name_en=f"Public {n}", service_code=f"public-{n}", target_hours_normal=72 + 24 * (n % 3)
        )
        for n in range(9)
    ]
    sensitive = factories.CategoryFactory(name_en="Drug activity", service_code="drug-activity", is_public=False)
    tester = factories.officer(username="tester", neighborhoods=neighborhoods[:2])
    others = [
        factories.officer(username=f"officer{n}", neighborhoods=[neighborhoods[n % N_NEIGHBORHOODS]])
        for n in range(1, N_OFFICERS)
    ]
    supervisor = factories.supervisor(username="sergeant", districts=["Central"])
    # An officer with no issue at all: a filter on them must not walk the table looking for one.
    idle = factories.officer(username="idle", neighborhoods=[neighborhoods[-1]])
    partners = []
    for n in range(N_PARTNERS):
        partner = factories.PartnerFactory()
        partner.neighborhoods.set(neighborhoods[n % N_NEIGHBORHOODS : n % N_NEIGHBORHOODS + 2])
        partners.append(partner)
    stages = ["scanning", "analysis", "response", "assessment", "closed"]
    problems_ = [
        factories.ProblemFactory(
            category=public[n % len(public)],
            neighborhood=neighborhoods[n % N_NEIGHBORHOODS],
            stage=stages[n % 5],
            closed_at=now - timedelta(days=n) if stages[n % 5] == "closed" else None,
            owner=supervisor,
        )
        for n in range(N_PROBLEMS)
    ]
    return SimpleNamespace(
        neighborhoods=neighborhoods,
        public=public,
        sensitive=sensitive,
        tester=tester,
        others=others,
        supervisor=supervisor,
        idle=idle,
        partners=partners,
        problems=problems_,
    )


# The tables the load fills. TRUNCATE first: rolled back with everything else, it leaves the tables as
# they were without a dead row (their new files, filled, are dropped whole), so nothing needs vacuuming.
BIG_TABLES = [
    "cases_issue",
    "cases_report",
    "cases_escalation",
    "cases_notification",
    "outreach_activity",
    "outreach_activity_officers",
    "outreach_activity_partners",
    "outreach_activity_issues",
]


@contextmanager
def _indexes_built_after(tables):
    """Drop the tables' secondary indexes and foreign keys, and put them back as they were defined.

    Building an index once over 200 000 rows is many times cheaper than 200 000 insertions into each
    of twenty (more so for a trigram index), and a foreign key added back checks every row in one
    query rather than one trigger call per row. Primary keys, unique and check constraints stay."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid::regclass::text = ANY(%(tables)s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
            """,
            {"tables": tables},
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%(tables)s)
            """,
            {"tables": tables},
        )
        foreign_keys = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _outreach_colleagues(now) -> list[int]:
    """Officers who log outreach alongside the test's: users inserted set-based (no profile needed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                   is_active, date_joined)
            SELECT '!', false, 'outreach' || g, '', '', '', false, true, %(now)s
            FROM generate_series(1, %(n)s) g
            RETURNING id
            """,
            {"now": now, "n": OUTREACH_COLLEAGUES},
        )
        return [row[0] for row in cursor.fetchall()]


def _load(now) -> SimpleNamespace:
    _execute(f"TRUNCATE {', '.join(BIG_TABLES)} CASCADE")
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        small = _small_rows(now)
    # The factories' rows are checked against their foreign keys now (deferred checks would otherwise
    # wait for a commit that never comes, and block the ALTER TABLEs below).
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    _execute("SET CONSTRAINTS ALL DEFERRED")
    officers = [small.tester.pk] + [o.pk for o in small.others]
    categories = [c.pk for c in small.public] + [small.sensitive.pk]
    neighborhoods = [n.pk for n in small.neighborhoods]
    _execute("SELECT setseed(0.14)")
    with _indexes_built_after(BIG_TABLES):
        first_issue = _checked_load_issues(now, categories, neighborhoods, officers, [p.pk for p in small.problems])
        _load_reports(first_issue)
        _load_escalations(first_issue, small.supervisor.pk, now)
        colleagues = _outreach_colleagues(now)
        _load_activities(now, neighborhoods, officers + colleagues, [p.pk for p in small.partners], first_issue)
        _load_notifications(now, small.tester.pk, [o.pk for o in small.others], first_issue)
    # Statistics from every row rather than a random sample of 30 000 (the sample is 300 rows per unit
    # of target): the same data gives the same estimates, so the same plans, on every run.
    _execute("SET LOCAL default_statistics_target = 1000")
    _execute("ANALYZE")
    _execute("RESET default_statistics_target")
    return SimpleNamespace(**vars(small), first_issue=first_issue)


def _ids(city, now) -> dict[str, str]:
    """What the URLs name: ids, codes and dates picked from the loaded rows."""
    public_issues = Issue.objects.filter(category__is_public=True, id__gte=city.first_issue)
    open_issue = public_issues.filter(status="acknowledged", neighborhood=city.neighborhoods[0]).first()
    resolved = public_issues.filter(status="resolved").first()
    body = open_issue.tracking_code.replace("CG-", "").replace("-", "")
    codes = list(public_issues.order_by("id").values_list("tracking_code", flat=True)[1000:1020])
    day = timedelta(days=1)
    return {
        "category": str(city.public[0].pk),
        "sensitive": str(city.sensitive.pk),
        "service_code": city.public[0].service_code,
        "service_codes": f"{city.public[1].service_code},{city.public[2].service_code}",
        "neighborhood": str(city.neighborhoods[0].pk),
        "colleague": str(city.others[0].pk),
        "idle": str(city.idle.pk),
        "problem": str(city.problems[0].pk),
        "issue": str(open_issue.pk),
        "code": open_issue.tracking_code,
        "code_typed": body.lower(),
        "resolved_code": resolved.tracking_code,
        "codes": ",".join(codes),
        "week_ago": (now - 7 * day).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "half_year_ago": (now - 180 * day).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tomorrow": (now + day).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_start": (now - 200 * day).date().isoformat(),
        "window_end": (now - 170 * day).date().isoformat(),
        "start_only": (now - 120 * day).date().isoformat(),
        "end_only": (now - 60 * day).date().isoformat(),
    }


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """The data set, loaded once for the module and rolled back after it (tables, indexes and
    statistics as they were: the tests this worker runs next see small tables again)."""
    with django_db_blocker.unblock(), transaction.atomic():
        started = time.perf_counter()
        now = timezone.now()
        loaded = _load(now)
        loaded.ids = _ids(loaded, now)
        loaded.load_seconds = time.perf_counter() - started
        print(f"\n[list plans] data set loaded in {loaded.load_seconds:.1f} s")
        try:
            yield loaded
        finally:
            transaction.set_rollback(True)


# --- the walker on the loaded table: a whole-table read must be flagged ------------------------


def test_a_count_of_the_whole_issue_table_is_flagged(city, db):
    [found] = statements(['SELECT COUNT(*) FROM "cases_issue"'], WATCHED)
    assert found.rows["cases_issue"] >= N_ISSUES
    [message] = problems([found], {"cases_issue": LIST_BOUND})
    assert "reads" in message and "cases_issue" in message and "Plan:" in message


def test_a_whole_table_read_through_an_index_is_flagged_too(city, db):
    # No sequential scan allowed: the planner reads the whole table through an index instead.
    _execute("SET LOCAL enable_seqscan = off")
    [found] = statements(['SELECT COUNT(*) FROM "cases_issue" WHERE "created_at" IS NOT NULL'], WATCHED)
    assert found.seq_scans["cases_issue"] == 0
    assert found.rows["cases_issue"] >= N_ISSUES
    assert problems([found], {"cases_issue": LIST_BOUND})


def test_a_lookup_loop_counts_every_loop(city, db):
    # A nested loop that looks an issue up once per notification of the busy officer.
    _execute("SET LOCAL enable_hashjoin = off")
    _execute("SET LOCAL enable_mergejoin = off")
    _execute("SET LOCAL enable_memoize = off")
    sql = (
        'SELECT COUNT(*) FROM "cases_notification" n JOIN "cases_issue" i ON i.id = n.issue_id '
        f"WHERE n.user_id = {city.tester.pk}"
    )
    [found] = statements([sql], WATCHED)
    assert found.rows["cases_issue"] >= TESTER_NOTIFICATIONS
    assert found.rows["cases_notification"] >= TESTER_NOTIFICATIONS


def test_a_primary_key_lookup_passes(city, db):
    [found] = statements([f'SELECT * FROM "cases_issue" WHERE "id" = {city.ids["issue"]}'], WATCHED)
    assert found.rows["cases_issue"] == 1
    assert problems([found], {"cases_issue": LOOKUP_BOUND}) == []


def test_the_data_set_is_what_the_bounds_assume(city, db):
    open_share = Issue.objects.filter(status__in=Issue.OPEN_STATUSES).count() / N_ISSUES
    assert 0.10 < open_share < 0.14
    assert Activity.objects.count() >= N_ACTIVITIES
    assert Notification.objects.filter(user=city.tester).count() == TESTER_NOTIFICATIONS
    assert Issue.objects.filter(description__contains=RARE).count() < LIST_BOUND / 2
    assert not Issue.objects.filter(description__contains=ABSENT).exists()
    assert Issue.objects.filter(category=city.sensitive).exists()
    assert Category.objects.filter(is_public=False).count() == 1
    assert Issue.objects.filter(status="duplicate").exists() and Issue.objects.filter(problem__isnull=False).exists()
    # Every index the load built again is valid and usable in this transaction: none waits for it to end.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) AND (indcheckxmin OR NOT indisvalid OR NOT indisready)",
            [BIG_TABLES],
        )
        assert cursor.fetchall() == []


# --- the lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A list as one user opens it: ``shown`` is the most rows the page shows; ``reads`` a table its
    statements must read (so the check is never vacuous); ``second`` follows its next link first."""

    who: str
    url: str
    shown: int
    reads: str | None = "cases_issue"
    second: bool = False

    @property
    def bound(self) -> int:
        return max(LIST_BOUND, ROWS_PER_SHOWN_ROW * self.shown)


def _q(**params) -> str:
    return "?" + urlencode(params)


AREA_OVER_BOUND = ("status-acknowledged", "q-common-word")


def _city(query: str) -> str:
    return f"{query}&area=city" if query else "?area=city"


ISSUE_LIST_FILTERS = {
    "plain": "",
    "status-open": _q(status="open"),
    "status-finished": _q(status="finished"),
    "status-acknowledged": _q(status="acknowledged"),
    "status-on-hold": _q(status="on_hold"),
    "status-duplicate": _q(status="duplicate"),
    "category": "?category={category}",
    "category-sensitive": "?category={sensitive}",
    "neighborhood": "?neighborhood={neighborhood}",
    "priority-urgent": _q(priority="urgent"),
    "overdue-yes": _q(overdue="yes"),
    "overdue-no": _q(overdue="no"),
    "escalation-0": _q(escalation="0"),
    "escalation-1": _q(escalation="1"),
    "escalation-3": _q(escalation="3"),
    "assignee-me": _q(assignee="me"),
    "assignee-unassigned": _q(assignee="unassigned"),
    "assignee-colleague": "?assignee={colleague}",
    "assignee-idle": "?assignee={idle}",
    "q-common-word": _q(q=COMMON),
    "q-rare-word": _q(q=RARE),
    "q-absent-word": _q(q=ABSENT),
    "q-two-words": _q(q=f"{RARE} {COMMON}"),
    "q-tracking-code": "?q={code}",
    "q-tracking-code-typed": "?q={code_typed}",
    "open-overdue-here": "?status=open&overdue=yes&neighborhood={neighborhood}",
    "open-unassigned-urgent": _q(status="open", assignee="unassigned", priority="urgent"),
}

API_ISSUE_FILTERS = {
    "plain": "",
    "page-size-200": _q(page_size=200),
    "status-two": "?status=acknowledged&status=in_progress",
    "is-open": _q(is_open="true"),
    "is-finished": _q(is_open="false"),
    "priority-urgent": _q(priority="urgent"),
    "approach-deter": _q(approach="deter"),
    "outcome-crime-report": _q(outcome="crime_report"),
    "category": "?category={category}",
    "service-code": "?service_code={service_code}",
    "neighborhood": "?neighborhood={neighborhood}",
    "district": _q(district="Central"),
    "assignee": "?assignee={colleague}",
    "assignee-idle": "?assignee={idle}",
    "unassigned": _q(unassigned="true"),
    "mine": _q(mine="true"),
    "problem": "?problem={problem}",
    "overdue": _q(overdue="true"),
    "not-overdue": _q(overdue="false"),
    "needs-decision": _q(needs_decision="true"),
    "escalation-level-min-2": _q(escalation_level_min=2),
    "created-after": "?created_after={week_ago}",
    "created-before": "?created_before={half_year_ago}",
    "due-after": "?due_after={tomorrow}",
    "due-before": "?due_before={week_ago}",
    "q-word": _q(q=RARE),
    "q-absent-word": _q(q=ABSENT),
    "q-tracking-code": "?q={code}",
    "ordering-due-at": _q(ordering="due_at"),
    "ordering-escalation": _q(ordering="-escalation_level"),
    "ordering-updated-at": _q(ordering="-updated_at"),
}

OPEN311_FILTERS = {
    "default-window": "",
    "service-code": "?service_code={service_code}",
    "service-codes": "?service_code={service_codes}",
    "status-open": _q(status="open"),
    "status-closed": _q(status="closed"),
    "status-both": _q(status="open,closed"),
    "start-and-end-date": "?start_date={window_start}&end_date={window_end}",
    "start-date": "?start_date={start_only}",
    "end-date": "?end_date={end_only}",
    "service-code-open": "?service_code={service_code}&status=open",
    "service-request-ids": "?service_request_id={codes}",
}

LISTS: dict[str, Page] = {
    "queue": Page("officer", "/queue/", 25),
    "queue-page-2": Page("officer", "/queue/", 25, second=True),
    # The filters over the whole city ("Whole city", one click from the supervisor's own area).
    **{
        f"issues-{name}": Page("supervisor", f"/issues/{_city(query)}", 25)
        for name, query in ISSUE_LIST_FILTERS.items()
    },
    "issues-page-2": Page("supervisor", "/issues/?area=city", 25, second=True),
    "issues-status-open-page-2": Page("supervisor", "/issues/" + _city(_q(status="open")), 25, second=True),
    "issues-q-common-word-page-2": Page("supervisor", "/issues/" + _city(_q(q=COMMON)), 25, second=True),
    # What the list opens on: the supervisor's district (5 neighborhoods of 20), with each filter,
    # and an officer's two neighborhoods. Two filters read more than the bound in the area: a
    # status of open work (a bitmap of the area's open issues and the status's, 11 718 entries at
    # this size, bounded by the open work, not the history) and a word in an eighth of the issues
    # (the count's window of 251 rows found in a quarter of the city: 8 400 rows, at any size).
    **{
        f"issues-area-{name}": Page("supervisor", f"/issues/{query}", 25)
        for name, query in ISSUE_LIST_FILTERS.items()
        if name not in AREA_OVER_BOUND
    },
    "issues-area-page-2": Page("supervisor", "/issues/", 25, second=True),
    "issues-officer-area": Page("officer", "/issues/", 25),
    "issues-officer-area-page-2": Page("officer", "/issues/", 25, second=True),
    "outreach": Page("supervisor", "/outreach/", 25, reads="outreach_activity"),
    "outreach-city": Page("supervisor", "/outreach/?area=city", 25, reads="outreach_activity"),
    "outreach-officer-area": Page("officer", "/outreach/", 25, reads="outreach_activity"),
    "outreach-page-2": Page("supervisor", "/outreach/", 25, reads="outreach_activity", second=True),
    "outreach-mine": Page("officer", "/outreach/?mine=on", 25, reads="outreach_activity"),
    "outreach-neighborhood": Page("supervisor", "/outreach/?neighborhood={neighborhood}", 25, "outreach_activity"),
    "outreach-kind": Page("supervisor", "/outreach/?kind=clean_up", 25, reads="outreach_activity"),
    # The partner list reads each partner's outreach figures from its own row (partners.Partner).
    "partners": Page("supervisor", "/partners/", 25, reads=None),
    "partners-page-2": Page("supervisor", "/partners/", 25, reads=None, second=True),
    "problems": Page("supervisor", "/problems/", 30),
    "problems-city": Page("supervisor", "/problems/?area=city", 30),
    "problems-all-stages": Page("supervisor", "/problems/?stage=", 30),
    "notifications": Page("officer", "/notifications/", 50, reads="cases_notification"),
    "notifications-page-2": Page("officer", "/notifications/", 50, reads="cases_notification", second=True),
    "notifications-unread": Page("officer", "/notifications/?show=unread", 50, reads="cases_notification"),
    **{
        f"api-issues-{name}": Page("supervisor-api", f"/api/v1/issues/{query}", 200 if "200" in name else 50)
        for name, query in API_ISSUE_FILTERS.items()
    },
    "api-issues-page-2": Page("supervisor-api", "/api/v1/issues/", 50, second=True),
    "api-issues-is-open-page-2": Page("supervisor-api", "/api/v1/issues/?is_open=true", 50, second=True),
    "api-queue": Page("officer-api", "/api/v1/issues/queue/", 50),
    "api-queue-page-2": Page("officer-api", "/api/v1/issues/queue/", 50, second=True),
    "api-issue-events": Page("supervisor-api", "/api/v1/issues/{issue}/events/", 50),
    "api-reports": Page("supervisor-api", "/api/v1/reports/", 50),
    "api-reports-page-2": Page("supervisor-api", "/api/v1/reports/", 50, second=True),
    "api-reports-of-issue": Page("supervisor-api", "/api/v1/reports/?issue={issue}", 50),
    "api-reports-created-after": Page("supervisor-api", "/api/v1/reports/?created_after={week_ago}", 50),
    "api-escalations": Page("supervisor-api", "/api/v1/escalations/", 50),
    "api-escalations-page-2": Page("supervisor-api", "/api/v1/escalations/", 50, second=True),
    "api-escalations-undecided": Page("supervisor-api", "/api/v1/escalations/?decided=false", 50),
    "api-escalations-neighborhood": Page("supervisor-api", "/api/v1/escalations/?neighborhood={neighborhood}", 50),
    "api-notifications": Page("officer-api", "/api/v1/notifications/", 50, reads="cases_notification"),
    "api-notifications-page-2": Page(
        "officer-api", "/api/v1/notifications/", 50, reads="cases_notification", second=True
    ),
    "api-notifications-unread": Page("officer-api", "/api/v1/notifications/?unread=true", 50, "cases_notification"),
    "api-activities": Page("supervisor-api", "/api/v1/activities/", 50, reads="outreach_activity"),
    "api-activities-page-2": Page("supervisor-api", "/api/v1/activities/", 50, "outreach_activity", second=True),
    "api-activities-issue": Page("supervisor-api", "/api/v1/activities/?issue={issue}", 50, "outreach_activity"),
    "api-problems": Page("supervisor-api", "/api/v1/problems/", 50),
    "api-problem-events": Page("supervisor-api", "/api/v1/problems/{problem}/events/", 50, reads=None),
    "api-partners": Page("supervisor-api", "/api/v1/partners/", 50, reads=None),
    "api-staff": Page("supervisor-api", "/api/v1/staff/", 50, reads=None),
    "api-categories": Page("supervisor-api", "/api/v1/categories/", 50, reads=None),
    "api-neighborhoods": Page("supervisor-api", "/api/v1/neighborhoods/", 50, reads=None),
    **{
        f"open311-{name}-{fmt}": Page("anonymous", f"/open311/v2/requests.{fmt}{query}", 1000)
        for name, query in OPEN311_FILTERS.items()
        for fmt in ("json", "xml")
    },
}

LOOKUPS: dict[str, Page] = {
    "issue-page": Page("supervisor", "/issues/{issue}/", 1),
    "status-page": Page("anonymous", "/report/{code}/", 1),
    "status-page-typed-code": Page("anonymous", "/report/{code_typed}/", 1),
    "status-page-resolved": Page("anonymous", "/report/{resolved_code}/", 1),
    "status-page-spanish": Page("anonymous", "/es/report/{code}/", 1),
    "api-issue": Page("supervisor-api", "/api/v1/issues/{issue}/", 1),
    "open311-request-json": Page("anonymous", "/open311/v2/requests/{code}.json", 1),
    "open311-request-xml": Page("anonymous", "/open311/v2/requests/{code}.xml", 1),
}


_LINK = re.compile(r"<(?:a|link)\b[^>]*>", re.IGNORECASE)


def _next_link(response) -> str | None:
    """The page's own link to what comes next: ``rel="next"`` in HTML, ``next`` in the API's JSON."""
    if response["Content-Type"].startswith("application/json"):
        return response.json().get("next")
    for tag in _LINK.findall(response.content.decode()):
        rel = re.search(r"""\brel\s*=\s*["']([^"']*)["']""", tag)
        href = re.search(r"""\bhref\s*=\s*["']([^"']*)["']""", tag)
        if rel and href and "next" in rel.group(1).split():
            return html.unescape(href.group(1))
    return None


def _client(who: str, city):
    if who == "anonymous":
        return Client()
    user = {"officer": city.tester, "supervisor": city.supervisor}[who.removesuffix("-api")]
    if who.endswith("-api"):
        return token_client(user)
    client = Client()
    client.force_login(user)
    return client


def _check(page: Page, city, bound: int) -> None:
    client = _client(page.who, city)
    url = page.url.format(**city.ids)
    if page.second:
        first = client.get(url)
        assert first.status_code == 200, f"GET {url}: {first.status_code}"
        link = _next_link(first)
        assert link, f'GET {url}: no next link (rel="next" or the API\'s next) on the first page'
        parts = urlsplit(urljoin("http://testserver" + url, link))
        url = parts.path + (f"?{parts.query}" if parts.query else "")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code} {response.content[:300]!r}"
    # A filter the page's form refused would be ignored, and the page checked without it.
    form = response.context.get("form") if response.context is not None else None
    assert form is None or not form.is_bound or not form.errors, f"GET {url}: the filter was refused: {form.errors}"
    found = statements([query["sql"] for query in captured.captured_queries], WATCHED)
    if page.reads:
        assert any(statement.reads(page.reads) for statement in found), (
            f"GET {url}: no statement read {page.reads}, so nothing was checked "
            f"({len(captured.captured_queries)} statements)"
        )
    failures = problems(found, dict.fromkeys(WATCHED, bound), context=f"GET {url}\n")
    assert not failures, f"{len(failures)} statement(s) read too much:\n\n" + "\n\n".join(failures)


def test_an_address_search_looks_up_the_number_and_checks_the_street_on_the_rows_found(city, db):
    """The trigram index gets the house number only: the street's trigrams ("MAI", "AIN") are in a
    large share of the table and a bitmap scan reads every entry of them."""
    from cases.search import issue_text_search

    listed = issue_text_search(Issue.objects.all(), "4700 Main").order_by("-created_at", "-id").values("pk")[:251]
    plan = listed.explain(format="json", analyze=True, buffers=True)
    scans = re.findall(r'"Index Name": "issue_search_trgm_idx",.*?"Index Cond": "([^"]*)"', plan, re.S)
    assert scans, plan
    assert all("4700" in cond and "MAIN" not in cond for cond in scans), scans
    candidates = Issue.objects.filter(
        Q(tracking_code__icontains="4700") | Q(address__icontains="4700") | Q(description__icontains="4700")
    ).values_list("pk", "tracking_code", "address", "description")
    expected = {pk for pk, *parts in candidates if "MAIN" in " ".join(parts).upper()}
    assert 0 < len(expected) < 251
    assert {row["pk"] for row in listed} == expected


@pytest.mark.parametrize("name", list(LISTS))
def test_a_list_reads_in_proportion_to_its_page(city, db, name):
    page = LISTS[name]
    _check(page, city, page.bound)


@pytest.mark.parametrize("name", list(LOOKUPS))
def test_a_single_read_is_index_lookups(city, db, name):
    _check(LOOKUPS[name], city, LOOKUP_BOUND)
