"""The supervisor dashboard and the public transparency page.

Both combine the apps, so they are composed here, above them, from the figures
(``insights.figures.issues``, ``insights.figures.outreach``,
``insights.figures.partners``); the apps never import each other upward. Views parse the
filter form, call the composition, render. Decisions on escalated issues are
POST forms that call one service each.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.forms.utils import flatatt
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.escalation.decisions import (
    decision_acknowledge,
    decision_assign,
    decision_assign_many,
    decision_open_problem,
)
from cases.models import Issue, Problem
from cases.selectors.staff import assignable_officers, assignable_q
from core import prepared
from core.dates import DateWriter
from core.exports import csv_cell, export_headings
from core.html_rows import html_rows
from core.once import cached_once
from core.permissions import supervisor_required
from core.text import person_name, whole_number
from insights.figures.issues import (
    DashboardScope,
    active_problem_counts,
    active_problems,
    decisions_waiting,
    feedback_figures,
    filter_choices,
    issue_figures,
    marker_limit,
    open_issue_markers,
    scope_neighborhoods,
    transparency_issue_figures,
    week_starts,
)
from insights.figures.outreach import outreach_figures, transparency_outreach_counts
from insights.figures.partners import active_partner_count, partners_serving_counts
from insights.figures.summaries import (
    language_parity,
    parity_gap,
    period_dates,
    public_language_parity,
    year_over_year,
)
from insights.pulse_results import pulse_board, pulse_public, pulse_public_chart
from outreach.models import Activity
from partners.models import Neighborhood
from partners.selectors import area_shown

User = get_user_model()

DEFAULT_WEEKS = 12
MAX_DAYS = 3 * 366
MIN_YEAR, MAX_YEAR = 1900, 2200
TRANSPARENCY_CACHE_SECONDS = 300
# How long a stale copy may still be served while one request recomputes the figures.
TRANSPARENCY_STALE_SECONDS = 600
EXPORT_PERMISSION = "cases.export_data"


# --- filters ------------------------------------------------------------------------


def default_period(today: date) -> tuple[date, date]:
    """The last twelve weeks, starting on a Monday so every weekly bar is a whole week."""
    start = today - timedelta(weeks=DEFAULT_WEEKS - 1)
    return start - timedelta(days=start.weekday()), today


class PlainSelect(forms.Select):
    """A select whose options are written in Python: the filter form's ~80 neighborhood and
    category options otherwise each render a template on every dashboard request."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if str(v) in selected else "", label) for v, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class DashboardFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    district = forms.ChoiceField(label=gettext_lazy("District"), required=False, widget=PlainSelect)
    neighborhood = forms.TypedChoiceField(
        label=gettext_lazy("Neighborhood"), required=False, coerce=int, empty_value=None, widget=PlainSelect
    )
    category = forms.TypedChoiceField(
        label=gettext_lazy("Category"), required=False, coerce=int, empty_value=None, widget=PlainSelect
    )

    def __init__(self, data, *, neighborhoods, categories, today: date):
        super().__init__(data)
        self.today = today
        districts = sorted({n.district for n in neighborhoods if n.district})
        self.fields["district"].choices = [("", _("All districts"))] + [(d, d) for d in districts]
        self.fields["neighborhood"].choices = [("", _("All neighborhoods"))] + [(n.pk, n.name) for n in neighborhoods]
        self.fields["category"].choices = [("", _("All categories"))] + [(c.pk, c.name) for c in categories]

    def clean(self):
        data = super().clean()
        default_start, default_end = default_period(self.today)
        start, end = data.get("start") or None, data.get("end") or None
        for name, value in (("start", start), ("end", end)):
            # Date arithmetic at the edges of the calendar (year 1, year 9999) would overflow.
            if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
                raise ValidationError({name: _("Use a date between the years 1900 and 2200.")})
        if start is None and end is None:
            start, end = default_start, default_end
        elif start is None:
            start = end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
        elif end is None:
            end = max(start, self.today)
        if start > end:
            raise ValidationError({"end": _("The end date is before the start date.")})
        if (end - start).days > MAX_DAYS:
            raise ValidationError({"start": _("Choose a period of at most three years.")})
        data["start"], data["end"] = start, end
        return data

    def scope(self, now: datetime) -> DashboardScope:
        """The scope of a valid form, or the default one (invalid input shows its errors, never a 500)."""
        data = self.cleaned_data if self.is_valid() else {}
        start, end = (data["start"], data["end"]) if data else default_period(self.today)
        tz = timezone.get_current_timezone()
        return DashboardScope(
            start=datetime.combine(start, time.min, tzinfo=tz),
            end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
            now=now,
            district=data.get("district") or "",
            neighborhood_id=data.get("neighborhood"),
            category_id=data.get("category"),
        )


def _form_and_scope(request):
    """The filter form, the scope it gives (on the supervisor's own area unless a place or the
    whole city is asked for), the neighborhoods and categories, and the area switch."""
    now = timezone.now()
    neighborhoods, categories = filter_choices()
    form = DashboardFilterForm(
        request.GET or None, neighborhoods=neighborhoods, categories=categories, today=timezone.localdate(now)
    )
    scope = form.scope(now)
    area, switch = area_shown(request.user, request.GET, place_params=("district", "neighborhood"))
    if area is not None and not (scope.district or scope.neighborhood_id):
        scope = replace(
            scope,
            area_districts=area.districts,
            area_neighborhood_ids=tuple(sorted(area.extra_neighborhood_ids)),
        )
    scope = scope.with_neighborhoods(neighborhoods)
    # The date inputs show the period actually used, also when it is the default one.
    shown = form.data.copy() if form.is_bound else {}
    if not form.is_bound or form.is_valid():
        shown.update(
            start=timezone.localtime(scope.start).date().isoformat(),
            end=timezone.localtime(scope.end - timedelta(microseconds=1)).date().isoformat(),
        )
        form.data = shown
        form.is_bound = True
    return form, scope, neighborhoods, categories, switch


# --- composition ---------------------------------------------------------------------


def _share(part, whole):
    return None if not whole else part / whole


def _median(values):
    values = sorted(values)
    if not values:
        return 0
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def neighborhood_rows(scope, neighborhoods, issues, outreach, problem_counts) -> list[dict]:
    """One row per neighborhood in scope; those with most open issues and least outreach stand out.

    A neighborhood *needs attention* when its open issues are above the median of
    the neighborhoods shown while its outreach hours are below theirs.
    """
    rows = []
    for n in scope_neighborhoods(scope, neighborhoods):
        i = issues.by_neighborhood.get(n.pk, {})
        o = outreach.by_neighborhood.get(n.pk, {})
        rows.append(
            {
                "id": n.pk,
                "name": n.name,
                "district": n.district,
                "reported": i.get("reported", 0),
                "open": i.get("open", 0),
                "overdue": i.get("overdue", 0),
                "escalated": i.get("escalated", 0),
                "waiting": i.get("waiting", 0),
                "finished": i.get("finished", 0),
                "crime": i.get("crime", 0),
                "open_problems": problem_counts["by_neighborhood"].get(n.pk, 0),
                "activities": o.get("activities", 0),
                "hours": o.get("hours", Decimal("0")),
                "partners": o.get("partners", 0),
            }
        )
    if len(rows) > 1:
        open_median = _median([r["open"] for r in rows])
        hours_median = _median([r["hours"] for r in rows])
        for r in rows:
            r["attention"] = r["open"] > open_median and r["hours"] < hours_median
    for r in rows:
        r.setdefault("attention", False)
    rows.sort(key=lambda r: (not r["attention"], -r["open"], -r["open_problems"], r["hours"], r["name"]))
    return rows


@dataclass(frozen=True)
class Person:
    """A user as the dashboard names them: the officers' table and the assign menu."""

    pk: int
    name: str
    assignable: bool


def officer_rows(issues, users: list[Person]) -> list[dict]:
    by_id = {u.pk: u for u in users}
    rows = []
    for user_id, counts in issues.by_officer.items():
        user = by_id.get(user_id)
        name = user.name if user else f"#{user_id}"
        rows.append(
            {
                "id": user_id,
                "name": name,
                "open": counts["open"],
                "overdue": counts["overdue"],
                "escalated": counts["escalated"],
                "finished": counts["finished"],
                "within_sla": counts["within_sla"],
                "sla_share": _share(counts["within_sla"], counts["finished"]),
                "sla_pct": _pct_text(_share(counts["within_sla"], counts["finished"])),
            }
        )
    rows.sort(key=lambda r: (-r["open"], -r["overdue"], r["name"]))
    return rows


def _labels(choices) -> dict:
    """A choices class's labels, translated once per page (``get_FOO_display()`` rebuilds and
    translates the whole choice list on every call: hundreds of times on this page)."""
    return {value: str(label) for value, label in choices.choices}


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def decision_rows(decisions, now) -> list[dict]:
    """The decisions table's cells, formatted once: the template only prints them (50 rows
    cost more to render through template lookups and filters than to build)."""
    statuses = _labels(Issue.Status)
    due_time = DateWriter("SHORT_DATETIME_FORMAT")
    rows = []
    for issue in decisions:
        rows.append(
            {
                "id": issue.pk,
                "url": issue.get_absolute_url(),
                "code": issue.tracking_code,
                "category": issue.category.name,
                "neighborhood": issue.neighborhood.name,
                "status": statuses[issue.status],
                "assignee": _person(issue.assignee),
                "level": issue.escalation_level_reached or issue.escalation_level,
                "due": due_time(timezone.localtime(issue.due_at)),
                "overdue": issue.due_at < now,
            }
        )
    return rows


def problem_rows(problems) -> list[dict]:
    """The active Problems table's cells (up to 100 rows), formatted once like the decisions."""
    stages = _labels(Problem.Stage)
    return [
        {
            "id": p.pk,
            "url": p.get_absolute_url(),
            "title": p.title,
            "owner": p.owner_name,
            "stage": stages[p.stage],
            "neighborhood": p.neighborhood_name or "—",
            "issues": p.issue_count,
            "open_issues": p.open_issue_count,
            "neighborhood_id": p.neighborhood_id,
            "center_lat": p.center_lat,
            "center_lng": p.center_lng,
        }
        for p in problems
    ]


def _chart_data(scope, issues, outreach, categories, neighborhoods) -> dict:
    weeks = week_starts(scope.start, scope.end)
    week_label = DateWriter("MONTH_DAY_FORMAT")
    category_names = {c.pk: c.name for c in categories}
    neighborhood_names = {n.pk: n.name for n in neighborhoods}
    open_by_category = sorted(
        ((category_names.get(k, "?"), v["open"]) for k, v in issues.by_category.items() if v["open"]),
        key=lambda kv: (-kv[1], kv[0]),
    )
    kinds = _labels(Activity.Kind)
    by_kind = sorted(((kinds.get(k, k), float(v["hours"])) for k, v in outreach.by_kind.items()), key=lambda kv: -kv[1])
    by_neighborhood = sorted(
        (
            (neighborhood_names.get(k, "?"), float(v["hours"]))
            for k, v in outreach.by_neighborhood.items()
            if v["hours"]
        ),
        key=lambda kv: (-kv[1], kv[0]),
    )[:20]
    sla = []
    for w in weeks:
        finished = issues.finished_by_week.get(w, {})
        share = _share(finished.get("within_sla", 0), finished.get("finished", 0))
        sla.append(None if share is None else round(100 * share, 1))
    return {
        "weeks": [w.isoformat() for w in weeks],
        "week_labels": [week_label(w) for w in weeks],
        "new": [issues.new_by_week.get(w, 0) for w in weeks],
        "finished": [issues.finished_by_week.get(w, {}).get("finished", 0) for w in weeks],
        "sla": sla,
        "open_by_category": {"labels": [k for k, _ in open_by_category], "values": [v for _, v in open_by_category]},
        "hours_by_kind": {"labels": [k for k, _ in by_kind], "values": [v for _, v in by_kind]},
        "hours_by_neighborhood": {
            "labels": [k for k, _ in by_neighborhood],
            "values": [v for _, v in by_neighborhood],
        },
        "labels": {
            "new": _("New issues"),
            "finished": _("Resolved or closed"),
            "sla": _("Resolved within SLA (%)"),
            "open": _("Open issues"),
            "hours": _("Outreach hours"),
        },
    }


def chart_tables(charts: dict) -> dict:
    """Each chart's figures as table rows, shown beside it: what the chart draws, readable without
    sight. The two weekly tables (53 rows each for a year) are HTML made here, each week's date
    written once."""
    week_of = DateWriter("DATE_FORMAT")
    weeks = [week_of(date.fromisoformat(week)) for week in charts["weeks"]]
    return {
        "weekly": html_rows(
            '<tr><th scope="row">{}</th><td class="num">{}</td><td class="num">{}</td></tr>',
            zip(weeks, charts["new"], charts["finished"], strict=True),
        ),
        "sla": html_rows(
            '<tr><th scope="row">{}</th><td class="num">{}</td></tr>',
            (
                (week, "—" if sla is None else floatformat(sla, "-1"))
                for week, sla in zip(weeks, charts["sla"], strict=True)
            ),
        ),
        **{
            name: list(zip(charts[name]["labels"], charts[name]["values"], strict=True))
            for name in ("open_by_category", "hours_by_kind", "hours_by_neighborhood")
        },
    }


def _map_data(scope, neighborhoods, neighborhood_table, markers, problem_table) -> dict:
    open_by_id = {r["id"]: r["open"] for r in neighborhood_table}
    center = {n.pk: (n.center_lat, n.center_lng) for n in neighborhoods}
    problems = []
    for p in problem_table:
        # A Problem without located issues is drawn at its neighborhood's centre.
        located = p["center_lat"] is not None
        lat, lng = (p["center_lat"], p["center_lng"]) if located else center.get(p["neighborhood_id"], (None, None))
        problems.append(
            {"id": p["id"], "title": p["title"], "stage": p["stage"], "lat": lat, "lng": lng, "url": p["url"]}
        )
    return {
        "neighborhoods": [
            {"id": n.pk, "name": n.name, "open": open_by_id.get(n.pk, 0), "boundary": n.boundary}
            for n in scope_neighborhoods(scope, neighborhoods)
            if n.boundary
        ],
        "markers": markers,
        "problems": problems,
    }


@dataclass
class Dashboard:
    scope: DashboardScope
    issues: object
    outreach: object
    feedback: dict
    neighborhood_table: list
    officer_table: list
    decisions: list
    problems: list
    problem_counts: dict
    markers: list
    officers: list
    active_partners: int
    trends: dict


def dashboard_compose(scope: DashboardScope, neighborhoods, categories, *, page: bool = True) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries whatever the data size;
    without ``page`` (the stats API) not the map's markers nor the problems' list, which only the
    page shows."""
    outreach = outreach_figures(scope)
    problem_counts = active_problem_counts(scope)
    feedback = feedback_figures(scope)
    decisions = decisions_waiting(scope)
    problems = active_problems(scope) if page else []
    markers = open_issue_markers(scope) if page else []
    active_partners = active_partner_count()
    issues = issue_figures(scope)
    users = _users(issues.by_officer)
    return Dashboard(
        scope=scope,
        issues=issues,
        outreach=outreach,
        feedback=feedback,
        neighborhood_table=neighborhood_rows(scope, neighborhoods, issues, outreach, problem_counts),
        officer_table=officer_rows(issues, users),
        decisions=decisions,
        problems=problems,
        problem_counts=problem_counts,
        markers=markers,
        officers=[u for u in users if u.assignable],
        active_partners=active_partners,
        trends=year_over_year(scope, neighborhoods),
    )


def marker_items(markers: list[dict]) -> list[tuple[dict, str]]:
    """Each map marker with its "open N days" text for the list under the map, translated once per
    whole number of days: the list names up to ``DASHBOARD_MARKER_LIMIT`` issues, and translating
    each in the template took half of the page's rendering. ``N`` is the age rounded half up, as
    the template's ``floatformat:"0"`` wrote it (ages are never negative)."""
    texts: dict[int, str] = {}
    items = []
    for marker in markers:
        days = int(Decimal(str(marker["age_days"])).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        text = texts.get(days)
        if text is None:
            text = texts[days] = ngettext("open %(days)s day", "open %(days)s days", days) % {"days": days}
        items.append((marker, text))
    return items


def marker_list(items: list[tuple[dict, str]]) -> str:
    """The map's list of open issues (up to ``DASHBOARD_MARKER_LIMIT`` items), as HTML made here:
    five template lookups and filters a row cost more than the figures behind them."""
    overdue = format_html(" · <strong>{}</strong>", _("overdue"))
    return html_rows(
        '<li><a href="{}">{}</a> · {} · {}{}</li>',
        ((m["url"], m["code"], m["category"], text, overdue if m["overdue"] else "") for m, text in items),
    )


def officer_table_rows(rows: list[dict]) -> str:
    """The workload table's rows (one per officer with work in scope), as HTML made here."""
    return html_rows(
        '<tr data-officer="{}"><td>{}</td><td class="num">{}</td><td class="num">{}</td>'
        '<td class="num">{}</td><td class="num">{}</td></tr>',
        ((r["id"], r["name"], r["open"], r["overdue"], r["finished"], r["sla_pct"]) for r in rows),
    )


def neighborhood_table_rows(rows: list[dict]) -> str:
    """The neighborhoods table's rows (up to every neighborhood), as HTML made here."""
    badge = format_html(' <span class="badge bad">{}</span>', _("needs attention"))
    return html_rows(
        '<tr data-neighborhood="{}"{}><td>{}{}<br><span class="muted">{}</span></td><td class="num">{}</td>'
        '<td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
        '<td class="num">{}</td><td class="num">{}</td></tr>',
        (
            (
                r["id"],
                mark_safe(' class="attention"') if r["attention"] else "",
                r["name"],
                badge if r["attention"] else "",
                r["district"],
                r["open"],
                r["overdue"],
                r["escalated"],
                r["crime"],
                r["open_problems"],
                floatformat(r["hours"], "1u"),  # unlocalized, as the table's other numbers
                r["partners"],
            )
            for r in rows
        ),
    )


def decision_table_rows(rows: list[dict], *, csrf_input: str, next_url: str) -> str:
    """The decisions table's rows (up to 50), each with its own decision form, as HTML made here."""
    nobody = format_html('<span class="muted">{}</span>', _("nobody"))
    to_problem, acknowledge = _("Open a problem"), _("Acknowledge")
    return html_rows(
        '<tr data-issue="{0}"><td class="no-print"><input type="checkbox" name="issue" value="{0}" form="bulk-assign"'
        ' aria-labelledby="decision-code-{0}"></td><td><a id="decision-code-{0}" href="{1}">{2}</a><br>'
        '<span class="muted">{3}</span></td><td>{4}</td><td>{5}</td><td>{6}</td><td>{7}</td>'
        '<td><span class="badge{8}">{9}</span></td><td class="no-print decision-actions">'
        '<form method="post" action="/dashboard/decisions/{0}/acknowledge/" class="inline-form">{10}'
        '<input type="hidden" name="next" value="{11}">'
        '<button type="submit" formaction="/dashboard/decisions/{0}/problem/">{12}</button>'
        '<button type="submit">{13}</button></form></td></tr>',
        (
            (
                r["id"],
                r["url"],
                r["code"],
                r["category"],
                r["neighborhood"],
                r["status"],
                r["assignee"] or nobody,
                r["level"],
                mark_safe(" overdue") if r["overdue"] else "",
                r["due"],
                csrf_input,
                next_url,
                to_problem,
                acknowledge,
            )
            for r in rows
        ),
    )


def problem_table_rows(rows: list[dict]) -> str:
    """The active problems table's rows (up to 100), as HTML made here."""
    owner = '<br><span class="muted">{}</span>'
    return html_rows(
        '<tr data-problem="{}"><td><a href="{}">{}</a>{}</td><td>{}</td><td>{}</td><td class="num">{} / {}</td></tr>',
        (
            (
                r["id"],
                r["url"],
                r["title"],
                format_html(owner, r["owner"]) if r["owner"] else "",
                r["stage"],
                r["neighborhood"],
                r["open_issues"],
                r["issues"],
            )
            for r in rows
        ),
    )


def _language_cells(figures) -> dict:
    """A language's cells: the median as a number (the template writes it in the reader's locale)."""
    return {
        "finished": figures.finished if figures else 0,
        "median_days": figures.median_days if figures else None,
        "sla_pct": _pct_text(figures.sla_share if figures else None),
    }


def parity_rows(parity: dict, neighborhoods) -> dict:
    """The language-parity tables: one row per district and per neighborhood with finished issues,
    English and Spanish side by side, and whether Spanish-language reports fare worse."""

    def row(name, district, by_language):
        english, spanish = _language_cells(by_language.get("en")), _language_cells(by_language.get("es"))
        return {
            "name": name,
            "district": district,
            "en": english,
            "es": spanish,
            "languages": (english, spanish),
            "gap": parity_gap(by_language),
        }

    districts = [row(name, "", figures) for name, figures in sorted(parity["districts"].items())]
    places = [
        row(n.name, n.district, parity["neighborhoods"][n.pk]) for n in neighborhoods if n.pk in parity["neighborhoods"]
    ]
    return {"districts": districts, "neighborhoods": places, "gaps": sum(r["gap"] for r in places)}


def _change_text(now: int, before: int) -> str:
    if not before:
        return "—"
    return f"{100 * (now - before) / before:+.0f}%"


def trend_rows(trends: dict) -> list[dict]:
    """Per district, the period beside the same dates a year earlier (CompStat's comparison)."""
    rows = []
    for district, figures in sorted(trends.items()):
        now, before = figures["now"], figures["before"]
        rows.append(
            {
                "district": district,
                "reported": now["reported"],
                "reported_before": before["reported"],
                "reported_change": _change_text(now["reported"], before["reported"]),
                "finished": now["finished"],
                "finished_before": before["finished"],
                "sla_pct": _pct_text(_share(now["within_sla"], now["finished"])),
                "sla_pct_before": _pct_text(_share(before["within_sla"], before["finished"])),
                "crime": now["crime"],
                "crime_before": before["crime"],
                "crime_change": _change_text(now["crime"], before["crime"]),
            }
        )
    return rows


def _users(workload_ids) -> list[Person]:
    """Assignable officers and the holders of issues in scope, by name, in one query
    (``assignable`` annotated: the officers' test written once in the statement, not twice as a
    subquery). Names, not accounts: two hundred model instances cost more than the query. The
    holders' ids are one bound array, so the text is the same on every page and is planned once
    per database session (``core.prepared``): its permission subqueries cost more to plan than
    to run."""
    assignable = assignable_q()
    return [
        Person(pk, person_name(first, last, username), bool(can))
        for pk, username, first, last, can in prepared.rows(
            User.objects.filter(assignable | Q(pk__in_array=sorted(workload_ids)))
            .annotate(assignable=ExpressionWrapper(assignable, output_field=BooleanField()))
            .order_by("last_name", "first_name", "username")
            .values_list("id", "username", "first_name", "last_name", "assignable")
        )
    ]


def _hours_text(hours) -> str:
    """Hours as the officer logged them: 7.75, 12.5, 40 — never a rounded 7.8."""
    text = f"{hours:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct_text(share) -> str:
    return "—" if share is None else f"{100 * share:.0f}%"


def kpis(board: Dashboard) -> list[dict]:
    """The headline figures, formatted, in the order the page shows them."""
    issues, outreach, feedback = board.issues, board.outreach, board.feedback
    satisfaction = feedback["satisfaction"]
    return [
        {"key": "open", "label": _("Open issues"), "value": intcomma(issues.open)},
        {
            "key": "overdue",
            "label": _("Overdue"),
            "value": intcomma(issues.overdue),
            "tone": "bad" if issues.overdue else "",
        },
        {
            "key": "waiting",
            "label": _("Escalated, waiting for a decision"),
            "value": intcomma(issues.waiting),
            "detail": _("%(n)s escalated in all") % {"n": intcomma(issues.escalated)},
            "url": "#decisions",
            "tone": "warn" if issues.waiting else "",
        },
        {
            "key": "median_days",
            "label": _("Median days to resolve"),
            "value": "—" if issues.median_days is None else f"{issues.median_days:.1f}",
            "detail": _("over %(n)s resolved or closed") % {"n": intcomma(issues.finished)},
        },
        {
            "key": "sla_share",
            "label": _("Resolved within SLA"),
            "value": _pct_text(issues.sla_share),
            "detail": _("%(part)s of %(whole)s")
            % {"part": intcomma(issues.within_sla), "whole": intcomma(issues.finished)},
        },
        {
            "key": "crime",
            "label": _("Became crime reports"),
            "value": intcomma(issues.crime),
            "detail": _("%(share)s of %(whole)s closed")
            % {"share": _pct_text(issues.crime_share), "whole": intcomma(issues.finished)},
            "tone": "bad" if issues.crime else "",
        },
        {"key": "activities", "label": _("Outreach activities"), "value": intcomma(outreach.activities)},
        {
            "key": "hours",
            "label": _("Outreach hours"),
            "value": _hours_text(outreach.hours),
            "detail": _("%(n)s attended") % {"n": intcomma(outreach.attendance)},
        },
        {
            "key": "partners",
            "label": _("Partners engaged"),
            "value": intcomma(outreach.partners_engaged),
            "detail": _("of %(n)s active partners") % {"n": intcomma(board.active_partners)},
        },
        {
            "key": "satisfaction",
            "label": _("Resident satisfaction"),
            "value": "—" if satisfaction is None else f"{satisfaction:.1f} / 5",
            "detail": _("%(n)s answers") % {"n": intcomma(feedback["responses"])},
        },
        {
            "key": "reopen_rate",
            "label": _("“Not fixed” reopen rate"),
            "value": _pct_text(feedback["reopen_rate"]),
            "detail": _("%(part)s of %(whole)s answers")
            % {"part": intcomma(feedback["not_fixed"]), "whole": intcomma(feedback["responses"])},
        },
    ]


# --- views ---------------------------------------------------------------------------


@supervisor_required
@require_GET
def dashboard(request):
    form, scope, neighborhoods, categories, switch = _form_and_scope(request)
    board = dashboard_compose(scope, neighborhoods, categories)
    charts = _chart_data(scope, board.issues, board.outreach, categories, neighborhoods)
    problem_table = problem_rows(board.problems)
    period_end = timezone.localtime(scope.end - timedelta(microseconds=1)).date()
    context = {
        "form": form,
        "area": switch,
        "board": board,
        "scope": scope,
        "period_start": timezone.localtime(scope.start).date(),
        "period_end": period_end,
        "kpis": kpis(board),
        "pulse": pulse_board(scope, neighborhoods, categories, period_end),
        "map_settings": _map_settings(),
        # Rendered once, used in every row of the decisions table (200 officers × 50 rows otherwise).
        "officer_options": format_html_join(
            "",
            '<option value="{}">{}</option>',
            ((u.pk, u.name) for u in board.officers),
        ),
        "decision_table_rows": decision_table_rows(
            decision_rows(board.decisions, scope.now),
            csrf_input=format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)),
            next_url=request.get_full_path(),
        ),
        "neighborhood_table_rows": neighborhood_table_rows(board.neighborhood_table),
        "trend_rows": trend_rows(board.trends),
        "problem_rows": problem_table,
        "problem_table_rows": problem_table_rows(problem_table),
        "charts": charts,
        "chart_tables": chart_tables(charts),
        "map": _map_data(scope, neighborhoods, board.neighborhood_table, board.markers, problem_table),
        "marker_limit": marker_limit(),
        "marker_list": marker_list(marker_items(board.markers)),
        "officer_table_rows": officer_table_rows(board.officer_table),
        "query": request.GET.urlencode(),
        "presets": _presets(request, timezone.localdate()),
        "can_export": request.user.has_perm(EXPORT_PERMISSION),
        "stages": [
            (stage, label, board.problem_counts["by_stage"].get(stage, 0))
            for stage, label in Problem.Stage.choices
            if stage != Problem.Stage.CLOSED
        ],
    }
    return render(request, "dashboard/dashboard.html", context)


@supervisor_required
@require_GET
def dashboard_languages(request):
    """Language parity on a page of its own, with the dashboard's filters: the medians read the
    hour histogram, whose rows grow with the issues finished in the period (about 0.15 s for twelve
    weeks at 1 000 000 issues), more than the dashboard's other figures together cost."""
    form, scope, neighborhoods, categories, switch = _form_and_scope(request)
    parity = language_parity(scope, neighborhoods)
    period_start, period_end = period_dates(scope)
    context = {
        "form": form,
        "area": switch,
        "scope": scope,
        "period_start": period_start,
        "period_end": period_end,
        "parity": parity_rows(parity, [n for n in neighborhoods if n.pk in parity["neighborhoods"]]),
        "query": request.GET.urlencode(),
        "presets": _presets(request, timezone.localdate()),
    }
    return render(request, "dashboard/languages.html", context)


def _presets(request, today):
    presets = []
    for weeks, label in ((4, _("4 weeks")), (12, _("12 weeks")), (52, _("52 weeks"))):
        query = request.GET.copy()
        start = today - timedelta(weeks=weeks) + timedelta(days=1)
        query["start"], query["end"] = start.isoformat(), today.isoformat()
        presets.append((label, query.urlencode()))
    return presets


# --- CSV exports ---------------------------------------------------------------------

EXPORTS = ("neighborhoods", "officers", "decisions", "problems")


def _pct(share):
    return None if share is None else round(100 * share, 1)


def _export_rows(table, scope, neighborhoods, categories):
    if table == "neighborhoods":
        issues, outreach = issue_figures(scope), outreach_figures(scope)
        rows = neighborhood_rows(scope, neighborhoods, issues, outreach, active_problem_counts(scope))
        header = [
            "neighborhood",
            "district",
            "reported",
            "open",
            "overdue",
            "escalated",
            "waiting_for_decision",
            "finished",
            "crime_reports",
            "open_problems",
            "outreach_activities",
            "outreach_hours",
            "active_partners",
            "needs_attention",
        ]
        keys = [
            "name",
            "district",
            "reported",
            "open",
            "overdue",
            "escalated",
            "waiting",
            "finished",
            "crime",
            "open_problems",
            "activities",
            "hours",
            "partners",
            "attention",
        ]
        return header, [[r[k] for k in keys] for r in rows]
    if table == "officers":
        issues = issue_figures(scope)
        rows = officer_rows(issues, _users(issues.by_officer))
        header = ["officer", "open", "overdue", "escalated", "finished", "finished_within_sla", "sla_share_pct"]
        return header, [
            [r["name"], r["open"], r["overdue"], r["escalated"], r["finished"], r["within_sla"], _pct(r["sla_share"])]
            for r in rows
        ]
    if table == "decisions":
        header = [
            "tracking_code",
            "category",
            "neighborhood",
            "status",
            "priority",
            "assignee",
            "escalation_level",
            "escalated_at",
            "due_at",
            "url",
        ]
        return header, [
            [
                i.tracking_code,
                i.category.name,
                i.neighborhood.name,
                i.get_status_display(),
                i.get_priority_display(),
                _person(i.assignee),
                i.escalation_level_reached or i.escalation_level,
                i.escalated_at,
                i.due_at,
                i.get_absolute_url(),
            ]
            for i in decisions_waiting(scope, limit=10_000)
        ]
    header = ["id", "title", "stage", "category", "neighborhood", "owner", "issues", "open_issues", "opened", "url"]
    stages = _labels(Problem.Stage)
    return header, [
        [
            p.pk,
            p.title,
            stages[p.stage],
            p.category_name,
            p.neighborhood_name or "",
            p.owner_name,
            p.issue_count or 0,
            p.open_issue_count or 0,
            p.created_at,
            p.get_absolute_url(),
        ]
        for p in active_problems(scope, limit=10_000)
    ]


@supervisor_required
@require_GET
def dashboard_export(request, table):
    if table not in EXPORTS:
        raise Http404
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    form, scope, neighborhoods, categories, _switch = _form_and_scope(request)
    if form.errors:
        # A download of other figures than those asked for would mislead: say what is wrong instead.
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    header, rows = _export_rows(table, scope, neighborhoods, categories)
    start = timezone.localtime(scope.start).date()
    end = timezone.localtime(scope.end - timedelta(microseconds=1)).date()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="commonground-{table}-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(export_headings(header, request.GET))
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return response


# --- decisions -----------------------------------------------------------------------

DECISIONS = ("assign", "problem", "acknowledge")


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/dashboard/"


# Ids longer than this are not ids (a bigint has 19 digits): refused as input, never sent to the database.
MAX_ID_DIGITS = 18
# How many issues one "assign ticked" may carry (the table shows 50).
MAX_SELECTED = 200


def _id(value: str) -> int | None:
    return whole_number(value, max_digits=MAX_ID_DIGITS)


def _assignable_officer(value: str):
    officer_id = _id(value)
    return assignable_officers().filter(pk=officer_id).first() if officer_id is not None else None


@supervisor_required
@require_POST
def decision_assign_selected(request):
    """Assign the issues ticked in the decisions table to one officer: a decision on each."""
    ids = {i for i in (_id(v) for v in request.POST.getlist("issue")[:MAX_SELECTED]) if i is not None}
    officer = _assignable_officer(request.POST.get("officer", ""))
    if not ids:
        messages.error(request, _("Tick the issues to assign."))
    elif officer is None:
        messages.error(request, _("Choose an officer to assign."))
    else:
        issues = list(Issue.objects.select_related("category", "neighborhood").filter(pk__in=ids).order_by("pk"))
        assigned, refused = decision_assign_many(issues=issues, officer=officer, actor=request.user)
        if assigned:
            messages.success(
                request,
                ngettext(
                    "%(count)d issue assigned to %(name)s: %(codes)s.",
                    "%(count)d issues assigned to %(name)s: %(codes)s.",
                    len(assigned),
                )
                % {
                    "count": len(assigned),
                    "name": _person(officer),
                    "codes": ", ".join(i.tracking_code for i in assigned),
                },
            )
        for issue, reason in refused.items():
            messages.error(request, reason if issue.tracking_code in reason else f"{issue.tracking_code}: {reason}")
        if len(issues) < len(ids):
            messages.error(request, _("Some of the ticked issues no longer exist."))
    return redirect(_back(request))


@supervisor_required
@require_POST
def decision(request, issue_id, action):
    if action not in DECISIONS:
        raise Http404
    issue = get_object_or_404(Issue.objects.select_related("category", "neighborhood"), pk=issue_id)
    try:
        if action == "assign":
            officer = _assignable_officer(request.POST.get("officer", ""))
            if officer is None:
                raise ValidationError(_("Choose an officer to assign."))
            decision_assign(issue=issue, officer=officer, actor=request.user)
            messages.success(
                request,
                _("%(code)s assigned to %(name)s.") % {"code": issue.tracking_code, "name": _person(officer)},
            )
        elif action == "problem":
            problem = decision_open_problem(issue=issue, actor=request.user, title=request.POST.get("title", ""))
            messages.success(request, _("Problem opened: %(title)s.") % {"title": problem.title})
            return redirect(problem.get_absolute_url())
        else:
            decision_acknowledge(issue=issue, actor=request.user)
            messages.success(request, _("%(code)s: decision recorded.") % {"code": issue.tracking_code})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_back(request))


# --- public transparency -----------------------------------------------------------


def transparency_period(today: date) -> tuple[date, date]:
    """The last twelve months, ending today."""
    return today - timedelta(days=364), today


def transparency_compose(start: date, end: date) -> dict:
    """Aggregated, anonymised figures per neighborhood: counts and a median, no people, no places finer
    than a neighborhood, no sensitive categories (``Category.is_public`` False are left out)."""
    neighborhoods = list(Neighborhood.objects.only("id", "name", "slug", "district", "boundary").order_by("name"))
    issues = transparency_issue_figures(start, end)
    outreach = transparency_outreach_counts(start, end)
    partners = partners_serving_counts()
    rows = []
    for n in neighborhoods:
        figures = issues.get(n.pk, {})
        rows.append(
            {
                "id": n.pk,
                "name": n.name,
                "district": n.district,
                "reported": figures.get("reported", 0),
                "resolved": figures.get("finished", 0),
                "median_days": figures.get("median_days"),
                "activities": outreach.get(n.pk, 0),
                "partners": partners.get(n.pk, 0),
                "share_resolved": _share(figures.get("finished", 0), figures.get("reported", 0)),
            }
        )
    totals = {
        "reported": sum(r["reported"] for r in rows),
        "resolved": sum(r["resolved"] for r in rows),
        "activities": sum(r["activities"] for r in rows),
    }
    shapes = [{"id": n.pk, "name": n.name, "boundary": n.boundary} for n in neighborhoods if n.boundary]
    pulse = pulse_public(neighborhoods, end)
    return {"rows": rows, "totals": totals, "shapes": shapes, "start": start, "end": end, "pulse": pulse}


def transparency_languages_compose(start: date, end: date) -> dict:
    """Concerns reported in English beside those reported in Spanish, per neighborhood, public
    categories only, from the summary tables."""
    neighborhoods = list(Neighborhood.objects.only("id", "name", "district").order_by("name"))
    parity = public_language_parity(start, end, neighborhoods)
    return {
        "parity": parity_rows(parity, [n for n in neighborhoods if n.pk in parity["neighborhoods"]]),
        "start": start,
        "end": end,
    }


@require_GET
def transparency_languages(request):
    """Public, on a page of its own: the medians read the hour histogram of a year's resolved
    concerns, which costs more than the rest of /transparency/ together. Cached as it is."""
    start, end = transparency_period(timezone.localdate())
    data = cached_once(
        f"transparency:languages:v1:{start.isoformat()}:{end.isoformat()}",
        lambda: transparency_languages_compose(start, end),
        fresh_seconds=TRANSPARENCY_CACHE_SECONDS,
        stale_seconds=TRANSPARENCY_STALE_SECONDS,
    )
    return render(request, "transparency/languages.html", data)


@require_GET
def transparency(request):
    """Public. The figures are cached for a few minutes (they are the same for everyone); the page is not,
    so the language switch and its CSRF token stay per visitor."""
    today = timezone.localdate()
    start, end = transparency_period(today)
    # Recomputed by one request when stale, the others answering meanwhile with the stale copy.
    data = cached_once(
        f"transparency:v3:{start.isoformat()}:{end.isoformat()}",
        lambda: transparency_compose(start, end),
        fresh_seconds=TRANSPARENCY_CACHE_SECONDS,
        stale_seconds=TRANSPARENCY_STALE_SECONDS,
    )
    counts = {r["id"]: r["reported"] for r in data["rows"]}
    shapes = [{**shape, "count": counts.get(shape["id"], 0)} for shape in data["shapes"]]
    return render(
        request,
        "transparency/transparency.html",
        {
            **data,
            "shapes_data": shapes,
            "map_settings": _map_settings(),
            "language": get_language(),
            "pulse": pulse_public_chart(data["pulse"]),
        },
    )


def _map_settings() -> dict:
    return {"tiles": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION, "center": settings.MAP_CENTER}
