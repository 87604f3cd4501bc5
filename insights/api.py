"""``GET /api/v1/stats/``: the supervisor dashboard's figures as JSON, with the
dashboard's filters (period, district, neighborhood, category).

Like the dashboard it combines the apps, so it lives in insights and
reuses the dashboard's composition (``insights.views.dashboard_compose``):
the same definitions, the same numbers, a fixed number of queries.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Priority
from core.api.common import MAX_ID, MAX_YEAR, MIN_YEAR, ActionPermission
from insights.figures.issues import filter_choices, week_starts
from insights.figures.summaries import language_parity, parity_gap, period_dates
from insights.views import MAX_DAYS, DashboardFilterForm, dashboard_compose


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day (inclusive).")
    end = serializers.DateField(help_text="Last day (inclusive).")


class ScopeSerializer(serializers.Serializer):
    district = serializers.CharField(help_text="Empty for all districts.")
    neighborhood = serializers.IntegerField(allow_null=True)
    category = serializers.IntegerField(allow_null=True)


class IssueTotalsSerializer(serializers.Serializer):
    reported = serializers.IntegerField(help_text="Issues created in the period (duplicates left out).")
    open = serializers.IntegerField(help_text="Of those, still open now.")
    overdue = serializers.IntegerField(help_text="Open, not on hold, past due_at.")
    escalated = serializers.IntegerField()
    waiting_for_decision = serializers.IntegerField()
    finished = serializers.IntegerField(help_text="Resolved, referred or closed in the period.")
    within_sla = serializers.IntegerField(help_text="Finished by due_at.")
    sla_share = serializers.FloatField(allow_null=True, help_text="within_sla / finished (0–1); null without any.")
    crime_reports = serializers.IntegerField(help_text="Finished as 'became a crime report'.")
    crime_share = serializers.FloatField(allow_null=True)
    median_days_to_resolve = serializers.FloatField(allow_null=True)


class OutreachTotalsSerializer(serializers.Serializer):
    activities = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Officer-hours.")
    attendance = serializers.IntegerField()
    partners_engaged = serializers.IntegerField(help_text="Distinct partners on activities in scope.")
    active_partners = serializers.IntegerField(help_text="Active partner organisations overall.")


class FeedbackTotalsSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    satisfaction = serializers.FloatField(allow_null=True, help_text="Mean of 1–5.")
    not_fixed = serializers.IntegerField()
    reopen_rate = serializers.FloatField(allow_null=True)


class NeighborhoodRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    district = serializers.CharField()
    reported = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    escalated = serializers.IntegerField()
    waiting = serializers.IntegerField()
    finished = serializers.IntegerField()
    crime = serializers.IntegerField()
    open_problems = serializers.IntegerField()
    activities = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    partners = serializers.IntegerField()
    attention = serializers.BooleanField(help_text="Open issues above the median while outreach hours are below it.")


class OfficerRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    escalated = serializers.IntegerField()
    finished = serializers.IntegerField()
    within_sla = serializers.IntegerField()
    sla_share = serializers.FloatField(allow_null=True)


class WeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="Monday of the week.")
    new = serializers.IntegerField()
    finished = serializers.IntegerField()
    within_sla = serializers.IntegerField()


class DecisionRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_code = serializers.CharField()
    category = serializers.CharField()
    neighborhood = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.ChoiceField(choices=Priority.choices)
    escalation_level = serializers.IntegerField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField()


class ProblemCountsSerializer(serializers.Serializer):
    active = serializers.IntegerField()
    by_stage = serializers.DictField(child=serializers.IntegerField(), help_text="Active problems per SARA stage.")


class LanguageFiguresSerializer(serializers.Serializer):
    language = serializers.CharField(help_text="Language of the report that opened the issues (en, es).")
    finished = serializers.IntegerField()
    within_sla = serializers.IntegerField()
    sla_share = serializers.FloatField(allow_null=True)
    median_days_to_resolve = serializers.FloatField(allow_null=True, help_text="Exact to the hour.")


class ParityRowSerializer(serializers.Serializer):
    district = serializers.CharField()
    neighborhood = serializers.IntegerField(allow_null=True, help_text="Null on a district's row.")
    languages = LanguageFiguresSerializer(many=True)
    spanish_fares_worse = serializers.BooleanField(
        help_text=(
            "Both languages have 10 or more finished issues, and Spanish-language ones wait at least a day and a "
            "fifth longer at the median, or are finished within their SLA 5 points less often."
        )
    )


class PeriodCountsSerializer(serializers.Serializer):
    reported = serializers.IntegerField()
    finished = serializers.IntegerField()
    within_sla = serializers.IntegerField()
    crime_reports = serializers.IntegerField()


class TrendRowSerializer(serializers.Serializer):
    district = serializers.CharField()
    period = PeriodCountsSerializer()
    a_year_earlier = PeriodCountsSerializer(help_text="The same dates a year earlier.")


class StatsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    scope = ScopeSerializer()
    issues = IssueTotalsSerializer()
    outreach = OutreachTotalsSerializer()
    feedback = FeedbackTotalsSerializer()
    problems = ProblemCountsSerializer()
    neighborhoods = NeighborhoodRowSerializer(many=True)
    officers = OfficerRowSerializer(many=True)
    weeks = WeekSerializer(many=True)
    decisions_waiting = DecisionRowSerializer(many=True, help_text="At most 50, most overdue first.")
    year_over_year = TrendRowSerializer(many=True, help_text="Per district.")


def _languages(by_language: dict) -> list[dict]:
    return [
        {
            "language": language,
            "finished": figures.finished,
            "within_sla": figures.within_sla,
            "sla_share": figures.sla_share,
            "median_days_to_resolve": figures.median_days,
        }
        for language, figures in sorted(by_language.items())
    ]


def _parity(parity: dict, neighborhoods) -> list[dict]:
    district_of = {n.pk: n.district for n in neighborhoods}
    rows = [
        {
            "district": name,
            "neighborhood": None,
            "languages": _languages(figures),
            "spanish_fares_worse": parity_gap(figures),
        }
        for name, figures in sorted(parity["districts"].items())
    ]
    rows += [
        {
            "district": district_of.get(place, ""),
            "neighborhood": place,
            "languages": _languages(figures),
            "spanish_fares_worse": parity_gap(figures),
        }
        for place, figures in sorted(parity["neighborhoods"].items())
    ]
    return rows


def _counts(counts: dict) -> dict:
    return {
        "reported": counts["reported"],
        "finished": counts["finished"],
        "within_sla": counts["within_sla"],
        "crime_reports": counts["crime"],
    }


def _trends(board) -> list[dict]:
    return [
        {"district": district, "period": _counts(figures["now"]), "a_year_earlier": _counts(figures["before"])}
        for district, figures in sorted(board.trends.items())
    ]


def _stats(board, start: date, end: date) -> dict:
    scope, issues, outreach, feedback = board.scope, board.issues, board.outreach, board.feedback
    return {
        "period": {"start": start, "end": end},
        "scope": {"district": scope.district, "neighborhood": scope.neighborhood_id, "category": scope.category_id},
        "issues": {
            "reported": issues.reported,
            "open": issues.open,
            "overdue": issues.overdue,
            "escalated": issues.escalated,
            "waiting_for_decision": issues.waiting,
            "finished": issues.finished,
            "within_sla": issues.within_sla,
            "sla_share": issues.sla_share,
            "crime_reports": issues.crime,
            "crime_share": issues.crime_share,
            "median_days_to_resolve": issues.median_days,
        },
        "outreach": {
            "activities": outreach.activities,
            "hours": outreach.hours,
            "attendance": outreach.attendance,
            "partners_engaged": outreach.partners_engaged,
            "active_partners": board.active_partners,
        },
        "feedback": feedback,
        "problems": {"active": board.problem_counts["total"], "by_stage": board.problem_counts["by_stage"]},
        "neighborhoods": board.neighborhood_table,
        "officers": board.officer_table,
        "weeks": [
            {
                "week": week,
                "new": issues.new_by_week.get(week, 0),
                "finished": issues.finished_by_week.get(week, {}).get("finished", 0),
                "within_sla": issues.finished_by_week.get(week, {}).get("within_sla", 0),
            }
            for week in week_starts(scope.start, scope.end)
        ],
        "year_over_year": _trends(board),
        "decisions_waiting": [
            {
                "id": issue.pk,
                "tracking_code": issue.tracking_code,
                "category": issue.category.name,
                "neighborhood": issue.neighborhood.name,
                "status": issue.status,
                "priority": issue.priority,
                "escalation_level": issue.escalation_level_reached or issue.escalation_level,
                "escalated_at": issue.escalated_at,
                "due_at": issue.due_at,
            }
            for issue in board.decisions
        ],
    }


# The dashboard's filters, as both statistics endpoints take them.
FILTER_PARAMETERS = [
    OpenApiParameter("start", date, description="First day (YYYY-MM-DD)."),
    OpenApiParameter("end", date, description="Last day (YYYY-MM-DD), inclusive."),
    OpenApiParameter("district", str, description="Only this district."),
    OpenApiParameter(
        "neighborhood", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="Neighborhood id."
    ),
    OpenApiParameter("category", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="Category id."),
]


class StatsView(APIView):
    """Dashboard statistics (supervisors), filtered like the dashboard."""

    permission_classes = [ActionPermission]
    required_perms = {"*": "cases.view_dashboard"}
    throttle_scope = "stats"

    @extend_schema(
        summary="Dashboard statistics: issues, SLA, crime conversions, outreach, feedback, problems (supervisors)",
        description=(
            f"The period defaults to the last twelve weeks; at most {MAX_DAYS} days. Definitions are the "
            "dashboard's: *reported* counts issues created in the period, *finished* those resolved, referred "
            "or closed in it, *within SLA* those finished by their due time."
        ),
        parameters=FILTER_PARAMETERS,
        responses={200: StatsSerializer},
        tags=["statistics"],
    )
    def get(self, request):
        now = timezone.now()
        scope, neighborhoods, categories = _stats_scope(request, now)
        board = dashboard_compose(scope, neighborhoods, categories, page=False)
        start = timezone.localtime(scope.start).date()
        end = timezone.localtime(scope.end - timedelta(microseconds=1)).date()
        return Response(StatsSerializer(_stats(board, start, end)).data)


def _stats_scope(request, now):
    """The dashboard's filters from the query string (400 when they are wrong) and the neighborhoods."""
    neighborhoods, categories = filter_choices()
    form = DashboardFilterForm(
        request.query_params or None,
        neighborhoods=neighborhoods,
        categories=categories,
        today=timezone.localdate(now),
    )
    if form.is_bound:
        if not form.is_valid():
            raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
        for field in ("start", "end"):
            if not MIN_YEAR <= form.cleaned_data[field].year <= MAX_YEAR:
                raise ValidationError({field: _("Use a date between the years 1900 and 2200.")})
    return form.scope(now), neighborhoods, categories


class LanguageParitySerializer(serializers.Serializer):
    period = PeriodSerializer()
    scope = ScopeSerializer()
    rows = ParityRowSerializer(many=True, help_text="Per district, then per neighborhood.")


class LanguageParityView(APIView):
    """Language parity (supervisors), filtered like the dashboard."""

    permission_classes = [ActionPermission]
    required_perms = {"*": "cases.view_dashboard"}
    throttle_scope = "stats"

    @extend_schema(
        summary="Language parity: issues finished, median days and share within SLA by report language (supervisors)",
        description=(
            "Per district and per neighborhood, for each language reports were made in, over the period and "
            "filters of the dashboard's statistics. Read from the summary tables: changes show once the worker "
            "has folded them in (every ROLLUP_APPLY_SECONDS)."
        ),
        parameters=FILTER_PARAMETERS,
        responses={200: LanguageParitySerializer},
        tags=["statistics"],
    )
    def get(self, request):
        scope, neighborhoods, _ = _stats_scope(request, timezone.now())
        parity = language_parity(scope, neighborhoods)
        data = {
            "period": dict(zip(("start", "end"), period_dates(scope), strict=True)),
            "scope": {"district": scope.district, "neighborhood": scope.neighborhood_id, "category": scope.category_id},
            "rows": _parity(parity, neighborhoods),
        }
        return Response(LanguageParitySerializer(data).data)
