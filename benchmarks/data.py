"""City-scale data for ``make bench``, loaded into its own PostgreSQL database.

One year of a large department: 50 neighborhoods in 5 districts, 20 categories
with escalation ladders, 215 staff (200 officers, 10 neighborhood supervisors,
5 district commanders), 300 partners, **1 000 000 issues** — of which exactly
**100 000 are open and overdue** and not yet escalated, 30 000 open and not yet
due, 5 000 on hold, the rest finished (resolved, closed, duplicate, referred,
about 3 % become crime reports) with their escalation history, decisions and
residents' feedback — SARA problems, and **100 000 outreach activities** with
their officers, partners, issues and problems.

The size is a setting: ``BENCH_ISSUES`` (default 1 000 000, see
``benchmarks.scale``) issues, and in proportion to it 10 % open and overdue, 3 %
open and not yet due, 0.5 % on hold, and one outreach activity per ten issues
(rounded down); a fifth of the activities link one finished issue each, drawn
from the first 80 % of the issue ids after the open ones. Places, categories,
staff, partners and the 300 problems stay as they are. At 1 000 000 the data is
exactly what it was before sizes existed. Each size lives in its own database
(``benchmarks.scale.database_url``), and ``bench_meta`` records the size loaded:
a database holding another size is refused, never taken for the asked one.

Everything is set-based SQL (``generate_series`` with a fixed random seed), so
the load takes a few minutes, once: a ``bench_meta`` table remembers what was
loaded, and later runs reuse it. ``BENCH_RELOAD=1`` forces a reload.

The bench clock: the load is anchored at ``bench_now`` (stored in
``bench_meta``). Benchmarks that depend on "now" (the escalation sweep) run at
that instant, so the work they measure is the same however long ago the data
was loaded. ``bench_baseline`` keeps every open issue's escalation columns as
loaded, and ``escalation_reset`` puts them (and every row created after the
load) back, so each measurement starts from the same state.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from benchmarks.scale import issues_asked, spelled

DATA_VERSION = "6"
# Version 3 added the issues' report languages and the dashboard's summary tables, version 4 the
# week rows and the place and officer tables, version 5 the partner sets, version 6 the open issues'
# tables; an earlier database is brought up to it in place (``_upgrade``) rather than loaded again.
UPGRADES = {"2": "6", "3": "6", "4": "6", "5": "6"}
N_ISSUES = issues_asked()
N_OVERDUE = N_ISSUES // 10
N_OPEN_NOT_DUE = N_ISSUES * 3 // 100
N_ON_HOLD = N_ISSUES * 5 // 1000
N_ACTIVITIES = N_ISSUES // 10
# Outreach links go to finished issues: ids after the open and on-hold ones, within the first 80 % of all
# ids past them (800 000 at 1 000 000 issues, as before sizes existed).
N_LINKABLE = N_ISSUES * 8 // 10
N_NEIGHBORHOODS = 50
# Every staff account's password (officer1…officer200, sergeant1…sergeant10, commander1…commander5): the
# HTTP benchmark signs in through the real sign-in form with it.
STAFF_PASSWORD = "bench-not-a-login"  # noqa: S105 (bench data only)
N_OFFICERS = 200
N_PARTNERS = 300
DISTRICTS = ["Central", "East", "Metro", "North", "South"]

CATEGORIES = [
    # service_code, English, Spanish, group, (urgent, high, normal, low) hours, weight
    ("graffiti", "Graffiti", "Grafiti", "Property", (8, 48, 120, 240), 12),
    ("abandoned-vehicle", "Abandoned vehicle", "Vehículo abandonado", "Streets", (8, 48, 168, 336), 8),
    ("streetlight", "Broken streetlight", "Farola rota", "Streets", (4, 24, 72, 168), 9),
    ("illegal-dumping", "Illegal dumping", "Vertido ilegal", "Property", (8, 48, 120, 240), 10),
    ("vacant-property", "Vacant property", "Propiedad abandonada", "Property", (24, 72, 240, 480), 5),
    ("loitering", "Loitering", "Merodeo", "Safety", (4, 24, 72, 168), 6),
    ("drug-activity", "Open-air drug activity", "Venta de drogas al aire libre", "Safety", (2, 12, 48, 96), 4),
    ("noise", "Noise", "Ruido", "Nuisance", (2, 12, 48, 120), 9),
    ("potholes", "Potholes", "Baches", "Streets", (8, 48, 168, 336), 7),
    ("overgrown-lot", "Overgrown lot", "Terreno con maleza", "Property", (24, 72, 240, 480), 5),
    ("trash", "Overflowing trash", "Basura desbordada", "Nuisance", (8, 24, 72, 168), 6),
    ("sidewalk", "Broken sidewalk", "Acera rota", "Streets", (24, 72, 240, 480), 3),
    ("traffic-signal", "Traffic signal out", "Semáforo apagado", "Streets", (2, 8, 24, 72), 3),
    ("speeding", "Speeding", "Exceso de velocidad", "Safety", (8, 24, 72, 168), 4),
    ("stray-animals", "Stray animals", "Animales callejeros", "Nuisance", (4, 24, 72, 168), 3),
    ("encampment", "Encampment", "Campamento", "Safety", (8, 24, 72, 168), 2),
    ("prostitution", "Street prostitution", "Prostitución callejera", "Safety", (4, 24, 72, 168), 1),
    ("fireworks", "Illegal fireworks", "Fuegos artificiales ilegales", "Nuisance", (2, 8, 24, 72), 1),
    ("blocked-hydrant", "Blocked hydrant", "Hidrante bloqueado", "Streets", (2, 8, 24, 72), 1),
    ("public-drinking", "Public drinking", "Beber en la vía pública", "Safety", (4, 24, 72, 168), 1),
]

# Ladders the bench categories get (hours past due → action). They use the
# four actions the one-statement floor can express; open_problem is covered by
# the test suite.
LADDERS = [
    [(1, 0, "notify_supervisor"), (2, 24, "raise_priority"), (3, 72, "needs_decision"), (4, 168, "notify_commander")],
    [(1, 0, "raise_priority"), (2, 48, "notify_supervisor"), (3, 120, "needs_decision")],
    [(1, 12, "notify_supervisor"), (2, 72, "needs_decision")],
]


def _log(message: str) -> None:
    print(f"[bench data] {message}", flush=True)


def _cursor():
    return connection.cursor()


_PERCENT = re.compile(r"%(?!s\b)")


def _sql(sql: str) -> str:
    """Escape SQL's modulo operator for the driver; ``%s`` stays a placeholder."""
    return _PERCENT.sub("%%", sql)


def _execute(sql: str, params=None) -> int:
    with _cursor() as cursor:
        cursor.execute(_sql(sql), list(params or []))
        return cursor.rowcount


def _scalar(sql: str, params=None):
    with _cursor() as cursor:
        cursor.execute(_sql(sql), list(params or []))
        row = cursor.fetchone()
        return row[0] if row else None


def _insert_select(model, exprs: dict[str, str], from_sql: str, *, select_params=None, from_params=()) -> int:
    """``INSERT INTO <model table> (…) SELECT <exprs> <from_sql>``.

    Columns not given take the model field's default as a parameter, so a field
    another change adds later (with a default) does not break the load.
    ``select_params`` maps a column to the parameters of its expression.
    """
    columns, values, params = [], [], []
    for field in model._meta.local_concrete_fields:
        if field.primary_key and field.column not in exprs:
            continue
        columns.append(field.column)
        if field.column in exprs:
            values.append(exprs[field.column])
            params += (select_params or {}).get(field.column, [])
            continue
        default = field.get_default()
        if default is None and not field.null:
            raise RuntimeError(f"bench data: no value for {model.__name__}.{field.name}")
        values.append("%s")
        params.append(field.get_db_prep_save(default, connection))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} {from_sql}"
    return _execute(sql, params + list(from_params))


# --- state ----------------------------------------------------------------------------


def _meta_table() -> None:
    _execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")


def meta() -> dict[str, str]:
    _meta_table()
    with _cursor() as cursor:
        cursor.execute("SELECT key, value FROM bench_meta")
        return dict(cursor.fetchall())


def bench_now() -> datetime:
    return datetime.fromisoformat(meta()["bench_now"])


class SizeMismatch(RuntimeError):
    """The database holds bench data of another size than the one asked for."""


def _loaded() -> bool:
    info = meta()
    recorded = info.get("issues")
    if recorded is not None and int(recorded) != N_ISSUES:
        raise SizeMismatch(
            f"database {connection.settings_dict['NAME']} holds the bench data of {spelled(int(recorded))} issues, "
            f"not the {spelled(N_ISSUES)} asked (BENCH_ISSUES): point BENCH_DATABASE_URL elsewhere (or unset it: each "
            "size has its own database), or BENCH_RELOAD=1 to replace that data"
        )
    if info.get("version") in UPGRADES and info.get("complete") == "1":
        _upgrade(info["version"])
        info = meta()
    if info.get("version") != DATA_VERSION or info.get("complete") != "1":
        return False
    if _scalar("SELECT COUNT(*) FROM cases_issue") != N_ISSUES:
        return False
    if recorded is None:
        # Loaded before the size was recorded (always 1 000 000 then, and the count agrees): record it now.
        _execute("INSERT INTO bench_meta (key, value) VALUES ('issues', %s)", [str(N_ISSUES)])
    return True


def ensure_loaded() -> dict:
    """Load the data unless this version and size are already there; return what is loaded."""
    if os.environ.get("BENCH_RELOAD") != "1" and _loaded():
        info = meta()
        _log(
            f"reusing {spelled(N_ISSUES)} issues loaded at {info['loaded_at']} (bench clock {info['bench_now']}); "
            "BENCH_RELOAD=1 reloads"
        )
        return summary()
    load()
    return summary()


def summary() -> dict:
    with _cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT COUNT(*) FROM cases_issue),
                   (SELECT COUNT(*) FROM bench_baseline WHERE overdue),
                   (SELECT COUNT(*) FROM outreach_activity),
                   (SELECT COUNT(*) FROM partners_neighborhood),
                   (SELECT COUNT(*) FROM cases_category),
                   (SELECT COUNT(*) FROM cases_escalation WHERE id <= (SELECT value::bigint FROM bench_meta
                                                                      WHERE key = 'max_escalation_id'))
            """
        )
        issues, overdue, activities, neighborhoods, categories, escalations = cursor.fetchone()
    return {
        "database": connection.settings_dict["NAME"],
        "issues": issues,
        "overdue_open_issues": overdue,
        "activities": activities,
        "neighborhoods": neighborhoods,
        "categories": categories,
        "historical_escalations": escalations,
        "bench_now": meta()["bench_now"],
    }


# --- load -----------------------------------------------------------------------------


def load() -> None:
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    steps = [
        ("schema reset", _truncate),
        ("places, categories, ladders", lambda: _places_and_categories()),
        ("staff and partners", lambda: _people(now)),
        (f"{spelled(N_ISSUES)} issues", lambda: _issues(now)),
        ("escalation history, decisions", lambda: _history(now)),
        ("feedback", lambda: _feedback(now)),
        ("problems (SARA)", lambda: _problems(now)),
        (f"{spelled(N_ACTIVITIES)} outreach activities", lambda: _activities(now)),
        ("hot spots grouped as a sweep would have", lambda: _hotspots_grouped(now)),
        ("report languages", _languages),
        ("summary tables", _summaries),
        ("baseline for resets", lambda: _baseline(now)),
        ("VACUUM ANALYZE", _vacuum),
    ]
    _log(f"loading {spelled(N_ISSUES)} issues into {connection.settings_dict['NAME']}")
    with tqdm(total=len(steps), desc="bench data", unit="step") as bar:
        for name, step in steps:
            bar.set_postfix_str(name)
            t = time.perf_counter()
            step()
            bar.write(f"[bench data] {name}: {time.perf_counter() - t:.1f} s")
            bar.update(1)
    _log(f"loaded in {time.perf_counter() - started:.0f} s")


def _truncate() -> None:
    _meta_table()
    _execute("DELETE FROM bench_meta")
    _execute("DROP TABLE IF EXISTS bench_baseline")
    tables = [
        "outreach_activity_issues",
        "outreach_activity_partners",
        "outreach_activity_officers",
        "outreach_activityrevision",
        "outreach_activity",
        "cases_notification",
        "cases_outboxmessage",
        "cases_problemevent",
        "cases_problem_partners",
        "cases_feedback",
        "cases_escalation",
        "cases_event",
        "cases_report",
        "cases_issue",
        "cases_problem",
        "cases_changedday",
        "cases_sweeprun",
        "cases_escalationrule",
        "cases_categoryattribute",
        "cases_category",
        "partners_partnercontact",
        "partners_partner_neighborhoods",
        "partners_partner",
        "partners_staffprofile_neighborhoods",
        "partners_staffprofile",
        "partners_neighborhood",
        "authtoken_token",
        "django_admin_log",
        "auth_user_groups",
        "auth_user_user_permissions",
        "auth_user",
    ]
    existing = set(connection.introspection.table_names())
    _execute(f"TRUNCATE {', '.join(t for t in tables if t in existing)} RESTART IDENTITY CASCADE")
    _execute("SELECT setseed(0.42)")


@transaction.atomic
def _places_and_categories() -> None:
    from cases.escalation.ladders import escalation_ladder_set
    from cases.models import Category
    from partners.models import Neighborhood

    _insert_select(
        Neighborhood,
        {
            "id": "g",
            "name": "'Bench ' || g",
            "slug": "'bench-' || g",
            "beat": "'B-' || (100 + g)",
            "district": "(ARRAY['Central','East','Metro','North','South'])[1 + (g - 1) % 5]",
            "boundary": "jsonb_build_object('type', 'Polygon', 'coordinates', jsonb_build_array(jsonb_build_array("
            "jsonb_build_array(lng, lat), jsonb_build_array(lng + 0.02, lat), "
            "jsonb_build_array(lng + 0.02, lat + 0.02), jsonb_build_array(lng, lat + 0.02), "
            "jsonb_build_array(lng, lat))))",
            "languages": 'CASE WHEN g % 3 = 0 THEN \'["en", "es", "vi"]\'::jsonb ELSE \'["en", "es"]\'::jsonb END',
            "population": "4000 + (g * 397) % 9000",
            "min_lat": "lat",
            "min_lng": "lng",
            "max_lat": "lat + 0.02",
            "max_lng": "lng + 0.02",
            "center_lat": "lat + 0.01",
            "center_lng": "lng + 0.01",
            "created_at": "now()",
            "updated_at": "now()",
        },
        "FROM (SELECT g, 38.95 + ((g - 1) / 10) * 0.02 AS lat, -94.70 + ((g - 1) % 10) * 0.02 AS lng "
        f"FROM generate_series(1, {N_NEIGHBORHOODS}) g) s",
    )
    _execute(f"SELECT setval(pg_get_serial_sequence('partners_neighborhood', 'id'), {N_NEIGHBORHOODS})")
    assert Neighborhood.objects.count() == N_NEIGHBORHOODS
    for index, (code, en, es, group, (urgent, high, normal, low), _weight) in enumerate(CATEGORIES):
        category = Category.objects.create(
            name_en=en,
            name_es=es,
            service_code=code,
            group_en=group,
            group_es=group,
            is_public=code not in ("prostitution", "drug-activity"),
            target_hours_urgent=urgent,
            target_hours_high=high,
            target_hours_normal=normal,
            target_hours_low=low,
            sort_order=index,
        )
        escalation_ladder_set(category=category, ladder=LADDERS[index % len(LADDERS)])


def _people(now) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.roles import roles_sync

    roles_sync()
    User = get_user_model()
    password = make_password(STAFF_PASSWORD)
    officer_group = Group.objects.get(name="Officer")
    supervisor_group = Group.objects.get(name="Supervisor")
    _insert_select(
        User,
        {
            "password": "%s",
            "last_login": "NULL",
            "is_superuser": "false",
            "username": "CASE WHEN g <= 200 THEN 'officer' || g WHEN g <= 210 THEN 'sergeant' || (g - 200) "
            "ELSE 'commander' || (g - 210) END",
            "first_name": "'Bench'",
            "last_name": "'Person ' || g",
            "email": "CASE WHEN g % 17 = 0 THEN '' ELSE 'staff' || g || '@bench.example' END",
            "is_staff": "false",
            "is_active": "true",
            "date_joined": "%s",
        },
        "FROM generate_series(1, 215) g",
        select_params={"password": [password], "date_joined": [now]},
    )
    _execute(
        "INSERT INTO auth_user_groups (user_id, group_id) "
        "SELECT id, CASE WHEN id <= 200 THEN %s ELSE %s END FROM auth_user",
        [officer_group.pk, supervisor_group.pk],
    )
    # Officers: two neighborhoods each. Sergeants: five neighborhoods. Commanders: a whole district.
    from partners.models import StaffProfile

    _insert_select(
        StaffProfile,
        {
            "user_id": "id",
            "badge_number": "'B' || lpad(id::text, 5, '0')",
            "districts": "CASE WHEN id > 210 THEN jsonb_build_array((ARRAY['Central','East','Metro','North','South'])"
            "[id - 210]) ELSE '[]'::jsonb END",
            "languages": 'CASE WHEN id % 4 = 0 THEN \'["en", "es"]\'::jsonb ELSE \'["en"]\'::jsonb END',
        },
        "FROM auth_user",
    )
    _execute(
        f"""
        INSERT INTO partners_staffprofile_neighborhoods (staffprofile_id, neighborhood_id)
        SELECT p.id, n FROM partners_staffprofile p
        CROSS JOIN LATERAL (
            SELECT DISTINCT 1 + ((p.user_id * 7 + k * 13) % {N_NEIGHBORHOODS}) AS n FROM generate_series(0, 1) k
        ) x
        WHERE p.user_id <= 200
        UNION ALL
        SELECT p.id, (p.user_id - 201) * 5 + k FROM partners_staffprofile p
        CROSS JOIN generate_series(1, 5) k
        WHERE p.user_id BETWEEN 201 AND 210
        """
    )
    from partners.models import Partner

    _insert_select(
        Partner,
        {
            "id": "g",
            "name": "'Partner ' || g",
            "kind": "(ARRAY['school','faith','youth_league','business','nonprofit','neighborhood_association',"
            "'city_agency','media'])[1 + g % 8]",
            "languages": '\'["en", "es"]\'::jsonb',
            "active_since": "(%s::date - (g * 11 % 3000))",
            "is_active": "g % 23 <> 0",
            "created_at": "%s",
            "updated_at": "%s",
        },
        f"FROM generate_series(1, {N_PARTNERS}) g",
        select_params={"active_since": [now.date()], "created_at": [now], "updated_at": [now]},
    )
    _execute(f"SELECT setval(pg_get_serial_sequence('partners_partner', 'id'), {N_PARTNERS})")
    _execute(
        f"""
        INSERT INTO partners_partner_neighborhoods (partner_id, neighborhood_id)
        SELECT DISTINCT g, 1 + ((g * 31 + k * 7) % {N_NEIGHBORHOODS})
        FROM generate_series(1, {N_PARTNERS}) g CROSS JOIN generate_series(0, 1 + g % 3) k
        """
    )


def _issues(now) -> None:
    """N_ISSUES issues, ids 1…N: the overdue ones (10 %) first, then not yet due, on hold, finished."""
    from cases.models import Issue

    weights = [w for *_, w in CATEGORIES]
    total = sum(weights)
    # Cumulative weight bounds → category id (ids are 1…20 in CATEGORIES order).
    bounds, acc = [], 0
    for index, weight in enumerate(weights, start=1):
        acc += weight
        bounds.append(f"WHEN u_cat < {acc / total:.6f} THEN {index}")
    category_case = f"CASE {' '.join(bounds)} ELSE {len(weights)} END"
    overdue_end = N_OVERDUE
    not_due_end = overdue_end + N_OPEN_NOT_DUE
    hold_end = not_due_end + N_ON_HOLD
    _execute("SELECT setseed(0.42)")
    _execute("DROP TABLE IF EXISTS bench_issue_seed")
    # Random draws first (one pass), then the issue rows from them with their category's SLA.
    _execute(
        f"""
        CREATE UNLOGGED TABLE bench_issue_seed AS
        SELECT g,
               {category_case} AS category_id,
               1 + floor(power(random(), 1.4) * {N_NEIGHBORHOODS})::int AS neighborhood_id,
               CASE WHEN u_pri < 0.20 THEN 'low' WHEN u_pri < 0.75 THEN 'normal'
                    WHEN u_pri < 0.95 THEN 'high' ELSE 'urgent' END AS priority,
               random() AS u1, random() AS u2, random() AS u3, random() AS u4
        FROM (SELECT g, random() AS u_cat, random() AS u_pri FROM generate_series(1, {N_ISSUES}) g) r
        """
    )
    target = (
        "(CASE s.priority WHEN 'urgent' THEN c.target_hours_urgent WHEN 'high' THEN c.target_hours_high "
        "WHEN 'normal' THEN c.target_hours_normal ELSE c.target_hours_low END)"
    )
    # created_at by group:
    #  overdue: due between 1 hour and 30 days ago  → created = now - target - (1 h … 30 d)
    #  not due: created within the last 90 % of its target
    #  on hold: created 1–60 days ago, held since, due any time
    #  finished: created over the last year
    created = f"""
        CASE WHEN s.g <= {overdue_end}
               THEN %(now)s - make_interval(hours => {target}) - make_interval(secs => 3600 + s.u1 * 29 * 86400)
             WHEN s.g <= {not_due_end}
               THEN %(now)s - make_interval(secs => s.u1 * 0.9 * {target} * 3600)
             WHEN s.g <= {hold_end}
               THEN %(now)s - make_interval(secs => 86400 + s.u1 * 59 * 86400)
             ELSE %(now)s - make_interval(secs => 7200 + s.u1 * 364 * 86400)
        END
    """
    # Finished issues: status by u2; resolved within the SLA about 70 % of the time.
    finished_status = (
        "CASE WHEN s.u2 < 0.25 THEN 'resolved' WHEN s.u2 < 0.87 THEN 'closed' "
        "WHEN s.u2 < 0.91 THEN 'duplicate' WHEN s.u2 < 0.97 THEN 'referred' ELSE 'crime' END"
    )
    _execute("DROP TABLE IF EXISTS bench_issue_plan")
    with _cursor() as cursor:
        cursor.execute(
            f"""
            CREATE UNLOGGED TABLE bench_issue_plan AS
            SELECT s.*, {target} AS target_hours, created_at,
                   CASE WHEN s.g <= {overdue_end} THEN (ARRAY['new','acknowledged','in_progress'])[1 + (s.g % 3)]
                        WHEN s.g <= {not_due_end} THEN (ARRAY['new','acknowledged','in_progress'])[1 + (s.g % 3)]
                        WHEN s.g <= {hold_end} THEN 'on_hold'
                        ELSE {finished_status} END AS plan
            FROM bench_issue_seed s
            JOIN cases_category c ON c.id = s.category_id
            CROSS JOIN LATERAL (SELECT {created} AS created_at) t
            """.replace("%(now)s", "%s")
            .replace("%", "%%")
            .replace("%%s", "%s"),
            [now] * created.count("%(now)s"),
        )
    resolved_at = (
        "LEAST(%s - interval '1 minute', p.created_at + CASE WHEN p.u3 < 0.7 "
        "THEN make_interval(secs => p.u4 * p.target_hours * 3600) "
        "ELSE make_interval(secs => p.target_hours * 3600 * (1 + p.u4 * 3)) END)"
    )
    finished = "p.plan IN ('resolved','closed','duplicate','referred','crime')"
    _insert_select(
        Issue,
        {
            "id": "p.g",
            "tracking_code": "'CG-' || substr(h, 1, 4) || '-' || substr(h, 5, 4)",
            "category_id": "p.category_id",
            "neighborhood_id": "p.neighborhood_id",
            "lat": "n.min_lat + 0.02 * p.u3",
            "lng": "n.min_lng + 0.02 * p.u4",
            "address": "(100 + (p.g % 8900)) || ' Main St'",
            # Generated text holds no personal details: the public copies equal the originals.
            "public_address": "(100 + (p.g % 8900)) || ' Main St'",
            "description": "'Reported problem #' || p.g",
            "public_description": "'Reported problem #' || p.g",
            "priority": "p.priority",
            "status": "CASE WHEN p.plan = 'crime' THEN 'closed' ELSE p.plan END",
            "approach": "(ARRAY['', 'deter', 'problem_solve', 'enforce'])[1 + p.g % 4]",
            "assignee_id": "CASE WHEN p.plan IN ('new') THEN NULL ELSE 1 + (p.g % 200) END",
            "duplicate_of_id": "CASE WHEN p.plan = 'duplicate' THEN p.g - 1 END",
            "created_at": "p.created_at",
            "updated_at": "p.created_at",
            "acknowledged_at": "CASE WHEN p.plan = 'new' THEN NULL ELSE p.created_at + interval '30 minutes' END",
            "due_at": "CASE WHEN p.plan = 'on_hold' THEN p.created_at + make_interval(hours => p.target_hours) "
            "+ make_interval(secs => p.u2 * 20 * 86400) ELSE p.created_at + make_interval(hours => p.target_hours) END",
            "hold_started_at": "CASE WHEN p.plan = 'on_hold' THEN p.created_at + interval '2 hours' END",
            "hold_reason": "CASE WHEN p.plan = 'on_hold' THEN 'Waiting for the property owner' ELSE '' END",
            "resolved_at": f"CASE WHEN {finished} THEN {resolved_at} END",
            "closed_at": f"CASE WHEN p.plan IN ('closed', 'crime') THEN {resolved_at} END",
            "outcome": "CASE p.plan WHEN 'resolved' THEN 'resolved' WHEN 'closed' THEN 'resolved' "
            "WHEN 'duplicate' THEN 'duplicate' WHEN 'referred' THEN 'referred' WHEN 'crime' THEN 'crime_report' "
            "ELSE '' END",
            "resolution_note": "CASE WHEN p.plan IN ('resolved', 'closed') THEN 'Fixed' ELSE '' END",
            "referred_to": "CASE WHEN p.plan = 'referred' THEN 'Public Works' ELSE '' END",
            "crime_report_number": "CASE WHEN p.plan = 'crime' THEN 'KC-' || p.g ELSE '' END",
            "reopen_count": "CASE WHEN p.plan IN ('resolved','closed') AND p.u1 < 0.02 THEN 1 ELSE 0 END",
            "report_count": "1 + (p.g % 7 = 0)::int + (p.g % 31 = 0)::int",
        },
        """
        FROM bench_issue_plan p
        JOIN partners_neighborhood n ON n.id = p.neighborhood_id
        CROSS JOIN LATERAL (SELECT lpad(upper(to_hex((p.g::bigint * 2654435761) % 4294967296)), 8, '0') AS h) x
        ORDER BY p.g
        """,
        select_params={"resolved_at": [now], "closed_at": [now]},
    )
    _execute(f"SELECT setval(pg_get_serial_sequence('cases_issue', 'id'), {N_ISSUES})")
    _execute("DROP TABLE bench_issue_seed")


def _history(now) -> None:
    """Escalations finished issues went through while late (cycle 0), decided by a supervisor."""
    _execute(
        """
        INSERT INTO cases_escalation (issue_id, level, action, rule_id, hours_overdue, cycle, created_at,
                                      decided_at, decided_by_id, decision)
        SELECT i.id, r.level, r.action, r.id, r.hours_overdue, 0,
               i.due_at + make_interval(hours => r.hours_overdue) + interval '5 minutes',
               CASE WHEN r.action = 'needs_decision'
                    THEN i.due_at + make_interval(hours => r.hours_overdue) + interval '6 hours' END,
               CASE WHEN r.action = 'needs_decision' THEN 201 + (i.id % 10) END,
               CASE WHEN r.action = 'needs_decision' THEN 'Assigned to an officer' ELSE '' END
        FROM cases_issue i
        JOIN cases_escalationrule r ON r.category_id = i.category_id
        WHERE i.resolved_at IS NOT NULL
          AND i.resolved_at > i.due_at + make_interval(hours => r.hours_overdue)
          AND i.status <> 'duplicate'
        ORDER BY i.id, r.level
        """
    )
    _execute(
        """
        UPDATE cases_issue i SET escalation_level = x.top
        FROM (SELECT issue_id, MAX(level) AS top FROM cases_escalation GROUP BY issue_id) x
        WHERE x.issue_id = i.id
        """
    )


def _feedback(now) -> None:
    _execute("SELECT setseed(0.7)")
    _execute(
        """
        INSERT INTO cases_feedback (issue_id, neighborhood_id, category_id, fixed, satisfaction, comment, created_at)
        SELECT id, neighborhood_id, category_id, (reopen_count = 0 AND u > 0.05),
               CASE WHEN reopen_count > 0 THEN 1 + (u * 2)::int ELSE 2 + LEAST(3, (u * 4)::int) END,
               '', LEAST(%s, resolved_at + make_interval(secs => 3600 + u * 5 * 86400))
        FROM (SELECT id, neighborhood_id, category_id, reopen_count, resolved_at, random() AS u FROM cases_issue
              WHERE outcome = 'resolved' AND resolved_at IS NOT NULL) i
        WHERE u < 0.3
        """,
        [now],
    )


def _problems(now) -> None:
    """300 SARA problems across stages, older ones closed, with some finished issues grouped."""
    _execute(
        f"""
        INSERT INTO cases_problem (title, category_id, neighborhood_id, stage, source, owner_id, approach,
                                   analysis_place, analysis_harmed, analysis_causing, analysis_when, analysis_why,
                                   response_plan, response_started_at, outcome, outcome_note,
                                   created_at, updated_at, closed_at)
        SELECT 'Problem ' || g, 1 + g % 20, 1 + (g * 7) % {N_NEIGHBORHOODS},
               (ARRAY['scanning','analysis','response','assessment','closed','closed'])[1 + g % 6],
               (ARRAY['manual','hotspot','escalation'])[1 + g % 3], 201 + g % 15,
               (ARRAY['deter','problem_solve','enforce'])[1 + g % 3],
               'Corner lot', 'Residents nearby', 'Dumping at night', 'Evenings', 'No lighting',
               CASE WHEN g % 6 >= 2 THEN 'Lights and clean-up with partners' ELSE '' END,
               CASE WHEN g % 6 >= 2 THEN %s - make_interval(days => 10 + g % 200) END,
               CASE WHEN g % 6 >= 4 THEN (ARRAY['eliminated','reduced','handled_better','displaced','no_change'])
                    [1 + g % 5] ELSE '' END,
               '', %s - make_interval(days => 30 + g % 300), %s,
               CASE WHEN g % 6 >= 4 THEN %s - make_interval(days => g % 25) END
        FROM generate_series(1, 300) g
        """,
        [now, now, now, now],
    )
    _execute(
        """
        UPDATE cases_issue i SET problem_id = p.id
        FROM cases_problem p
        WHERE i.category_id = p.category_id AND i.neighborhood_id = p.neighborhood_id
          AND i.resolved_at IS NOT NULL AND i.id % 5 = 0
          AND i.created_at BETWEEN p.created_at - interval '60 days' AND p.created_at + interval '30 days'
        """
    )


def _activities(now) -> None:
    from outreach.models import Activity

    _execute("SELECT setseed(0.9)")
    _insert_select(
        Activity,
        {
            "id": "g",
            "kind": "(ARRAY['school_event','youth_sports','community_meeting','service','clean_up','door_to_door',"
            "'partner_meeting','cultural','other'])[1 + floor(u1 * 9)::int]",
            "title": "'Outreach ' || g",
            "starts_at": "starts",
            "ends_at": "starts + make_interval(mins => 60 + (u2 * 180)::int)",
            "neighborhood_id": f"1 + floor(power(u3, 1.2) * {N_NEIGHBORHOODS})::int",
            "place": "'Community center'",
            "attendance": "(u2 * 120)::int",
            "hours": "round((1 + u2 * 3)::numeric * (1 + (g % 3 = 0)::int), 2)",
            "languages": 'CASE WHEN g % 4 = 0 THEN \'["en", "es"]\'::jsonb ELSE \'["en"]\'::jsonb END',
            "notes": "''",
            "problem_id": "CASE WHEN g % 33 = 0 THEN 1 + g % 300 END",
            "follow_up_needed": "g % 9 = 0",
            "follow_up_note": "CASE WHEN g % 9 = 0 THEN 'Call the school back' ELSE '' END",
            "created_by_id": "1 + g % 200",
            "created_at": "starts",
            "updated_at": "starts",
        },
        f"""
        FROM (SELECT g, random() AS u1, random() AS u2, random() AS u3,
                     %s - make_interval(secs => 3600 + random() * 364 * 86400) AS starts
              FROM generate_series(1, {N_ACTIVITIES}) g) a
        """,
        from_params=[now],
    )
    _execute(f"SELECT setval(pg_get_serial_sequence('outreach_activity', 'id'), {N_ACTIVITIES})")
    _execute(
        f"""
        INSERT INTO outreach_activity_officers (activity_id, user_id)
        SELECT DISTINCT g, 1 + ((g * 13 + k * 71) % 200) FROM generate_series(1, {N_ACTIVITIES}) g
        CROSS JOIN generate_series(0, g % 3) k
        """
    )
    _execute(
        f"""
        INSERT INTO outreach_activity_partners (activity_id, partner_id)
        SELECT DISTINCT g, 1 + ((g * 17 + k * 29) % {N_PARTNERS}) FROM generate_series(1, {N_ACTIVITIES}) g
        CROSS JOIN generate_series(1, g % 3) k
        """
    )
    _execute(
        f"""
        INSERT INTO outreach_activity_issues (activity_id, issue_id)
        SELECT g, {N_OVERDUE + N_OPEN_NOT_DUE + N_ON_HOLD} + 1 + (g::bigint * 7919) % {N_LINKABLE}
        FROM generate_series(1, {N_ACTIVITIES}) g WHERE g % 5 = 0
        """
    )
    # Each partner's outreach figures, recounted from the links by the service that keeps them
    # when activities are logged one by one (one UPDATE over the partners).
    from outreach.services import partner_figures_refresh
    from partners.models import Partner

    partner_figures_refresh(partner_ids=Partner.objects.values_list("pk", flat=True))


def _hotspots_grouped(now) -> None:
    """Group today's hot spots under Problems, as earlier sweeps would have (steady state)."""
    from cases.escalation.sweep import SweepResult, _run_hotspots, supervisor_recipients

    result = SweepResult(started_at=now)
    _run_hotspots(now, result, supervisor_recipients())
    _execute("DELETE FROM cases_outboxmessage")  # those notices went out long ago
    _log(f"{result.hotspots} hot spots grouped, {result.problems_opened} problems opened")


def _languages() -> None:
    """One issue in seven reported in Spanish (the language parity figures have two languages to compare)."""
    _execute("UPDATE cases_issue SET language = 'es' WHERE id % 7 = 0")


def _summaries() -> None:
    """The dashboard's summary tables, counted from the rows loaded past the ORM's change log."""
    from insights.rollups import rollups_rebuild

    record = rollups_rebuild()
    _log(f"summary tables: {record.rows_checked} day rows, {record.first_day} to {record.last_day}")


def _open_tables() -> None:
    """The open issues' summary tables alone (version 6), built as on a deployment's first run."""
    from insights.models import OpenMark
    from insights.rollups import rollups_advance_open

    OpenMark.objects.all().delete()
    rollups_advance_open()
    _log(f"open tables: {_scalar('SELECT COUNT(*) FROM insights_openrollup')} rows")


def _upgrade(version: str) -> None:
    """An earlier load brought to this version in place: languages, summary tables, statistics."""
    started = time.perf_counter()
    _log(f"upgrading the bench data from version {version} to {UPGRADES[version]} in place")
    if version == "5":
        _open_tables()
    else:
        _languages()
        _summaries()
    _vacuum()
    _execute("UPDATE bench_meta SET value = %s WHERE key = 'version'", [UPGRADES[version]])
    _log(f"upgraded in {time.perf_counter() - started:.0f} s")


def _baseline(now) -> None:
    _execute("DROP TABLE IF EXISTS bench_baseline")
    _execute(
        f"""
        CREATE TABLE bench_baseline AS
        SELECT id, priority, escalation_level, needs_decision, problem_id, updated_at,
               (status IN ('new', 'acknowledged', 'in_progress') AND due_at < %s) AS overdue
        FROM cases_issue
        WHERE status IN ('new', 'acknowledged', 'in_progress', 'on_hold') OR id <= {N_OVERDUE}
        """,
        [now],
    )
    _execute("ALTER TABLE bench_baseline ADD PRIMARY KEY (id)")
    overdue = _scalar("SELECT COUNT(*) FROM bench_baseline WHERE overdue")
    if overdue != N_OVERDUE:
        raise RuntimeError(f"bench data: {overdue} overdue open issues, expected {N_OVERDUE}")
    marks = {
        "max_escalation_id": "cases_escalation",
        "max_event_id": "cases_event",
        "max_outbox_id": "cases_outboxmessage",
        "max_notification_id": "cases_notification",
        "max_problem_id": "cases_problem",
        "max_problemevent_id": "cases_problemevent",
        "max_sweeprun_id": "cases_sweeprun",
    }
    rows = [(key, str(_scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))) for key, table in marks.items()]
    rows += [
        ("version", DATA_VERSION),
        ("issues", str(N_ISSUES)),
        ("bench_now", now.isoformat()),
        ("loaded_at", timezone.now().isoformat(timespec="seconds")),
        ("complete", "1"),
    ]
    with _cursor() as cursor:
        cursor.executemany("INSERT INTO bench_meta (key, value) VALUES (%s, %s)", rows)
    _execute("DROP TABLE IF EXISTS bench_issue_plan")


def _vacuum() -> None:
    with _cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- reset between measurements ----------------------------------------------------------


def escalation_reset() -> None:
    """Back to the loaded state: rows created after the load removed, open issues' columns restored."""
    info = meta()
    with transaction.atomic():
        _execute("DELETE FROM cases_notification WHERE id > %s", [int(info["max_notification_id"])])
        _execute("DELETE FROM cases_outboxmessage WHERE id > %s", [int(info["max_outbox_id"])])
        _execute("DELETE FROM cases_event WHERE id > %s", [int(info["max_event_id"])])
        _execute("DELETE FROM cases_escalation WHERE id > %s", [int(info["max_escalation_id"])])
        _execute("DELETE FROM cases_problemevent WHERE id > %s", [int(info["max_problemevent_id"])])
        _execute(
            """
            UPDATE cases_issue i
            SET priority = b.priority, escalation_level = b.escalation_level, needs_decision = b.needs_decision,
                problem_id = b.problem_id, updated_at = b.updated_at
            FROM bench_baseline b
            WHERE b.id = i.id
              AND (i.priority, i.escalation_level, i.needs_decision, i.problem_id, i.updated_at)
                  IS DISTINCT FROM (b.priority, b.escalation_level, b.needs_decision, b.problem_id, b.updated_at)
            """
        )
        _execute("DELETE FROM cases_problem WHERE id > %s", [int(info["max_problem_id"])])
        _execute("DELETE FROM cases_sweeprun WHERE id > %s", [int(info["max_sweeprun_id"])])
        # The summary tables' change log of what the sweep changed, now undone (nothing applies it here).
        _execute("DELETE FROM cases_changedday")
    with _cursor() as cursor:
        for table in ("cases_issue", "cases_escalation", "cases_event", "cases_outboxmessage", "cases_problem"):
            cursor.execute(f"VACUUM ANALYZE {table}")
