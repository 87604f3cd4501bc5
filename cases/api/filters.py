"""django-filter FilterSets of the cases API (query parameters of the list endpoints).

They narrow querysets that selectors have already scoped to the user; none of
them widens what a user sees.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, Subquery
from django.utils import timezone

from cases.models import Approach, Category, Escalation, EscalationRule, Event, Issue, Notification, Priority, Report
from cases.selectors.staff import issues_text_search, overdue_condition
from core.api.common import IdFilter, IntegerFilter, SafeCharFilter, SafeDateTimeFilter


class CategoryFilter(django_filters.FilterSet):
    group = SafeCharFilter(field_name="group_en", help_text="Theme (English group name), e.g. Property.")
    is_public = django_filters.BooleanFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Category
        fields = ["group", "is_public", "is_active"]


class IssueFilter(django_filters.FilterSet):
    # distinct=False: the values are one column's, so no row can match twice (a DISTINCT would
    # make PostgreSQL read every matching row before the first page).
    status = django_filters.MultipleChoiceFilter(
        choices=Issue.Status.choices, help_text="One or more statuses.", distinct=False
    )
    is_open = django_filters.BooleanFilter(method="filter_is_open", help_text="Open (new … on hold) or finished.")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    approach = django_filters.ChoiceFilter(choices=Approach.choices)
    outcome = django_filters.ChoiceFilter(choices=Issue.Outcome.choices)
    category = IdFilter(field_name="category_id")
    service_code = SafeCharFilter(method="filter_service_code", help_text="Category by Open311 service code.")
    neighborhood = IdFilter(field_name="neighborhood_id")
    district = SafeCharFilter(field_name="neighborhood__district")
    assignee = IdFilter(field_name="assignee_id", help_text="Assigned to this user id.")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Assigned to the requesting user.")
    problem = IdFilter(field_name="problem_id")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text="Still escalating (not on hold or finished) and past due_at."
    )
    needs_decision = django_filters.BooleanFilter()
    escalation_level_min = IntegerFilter(field_name="escalation_level", lookup_expr="gte", min_value=0, max_value=100)
    created_after = SafeDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = SafeDateTimeFilter(field_name="created_at", lookup_expr="lt")
    due_after = SafeDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = SafeDateTimeFilter(field_name="due_at", lookup_expr="lt")
    q = SafeCharFilter(method="filter_q", help_text="Tracking code, or words of the description or address.")

    class Meta:
        model = Issue
        fields = []

    def filter_is_open(self, queryset, name, value: bool):
        if value is None:
            return queryset
        lookup = Q(status__in=Issue.OPEN_STATUSES)
        return queryset.filter(lookup) if value else queryset.exclude(lookup)

    def filter_mine(self, queryset, name, value: bool):
        if value is None:
            return queryset
        mine = Q(assignee_id=self.request.user.pk)
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_overdue(self, queryset, name, value: bool):
        if value is None:
            return queryset
        overdue = overdue_condition(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_service_code(self, queryset, name, value: str):
        # The category is looked up first (an InitPlan), so its issues come from its own index.
        category = Category.objects.filter(service_code=value).values("id")[:1]
        return queryset.filter(category_id=Subquery(category))

    def filter_q(self, queryset, name, value: str):
        # The issue list page's search: every word, or "cg abcd 2345" / "ABCD2345" for CG-ABCD-2345.
        return issues_text_search(queryset, value)


class ReportFilter(django_filters.FilterSet):
    issue = IdFilter(field_name="issue_id")
    channel = django_filters.MultipleChoiceFilter(choices=Report.Channel.choices, distinct=False)
    is_anonymous = django_filters.BooleanFilter()
    created_after = SafeDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = SafeDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Report
        fields = []


class EventFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Event.Kind.choices, distinct=False)
    is_public = django_filters.BooleanFilter()
    created_after = SafeDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Event
        fields = []


class EscalationFilter(django_filters.FilterSet):
    issue = IdFilter(field_name="issue_id")
    level = IntegerFilter(min_value=1, max_value=100)
    action = django_filters.ChoiceFilter(choices=EscalationRule.Action.choices)
    decided = django_filters.BooleanFilter(
        field_name="decided_at", lookup_expr="isnull", exclude=True, help_text="Decided (true) or waiting (false)."
    )
    neighborhood = IdFilter(field_name="issue__neighborhood_id")
    district = SafeCharFilter(field_name="issue__neighborhood__district")
    created_after = SafeDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = SafeDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Escalation
        fields = []


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    issue = IdFilter(field_name="issue_id")

    class Meta:
        model = Notification
        fields = []
