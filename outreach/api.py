"""REST API of the outreach log: list, read, log (create) and edit activities.

The same rules as the pages: every officer and supervisor reads every activity;
``can_edit_activity`` decides who may edit; ``activity_create`` /
``activity_update`` do the writing (revisions, timeline links on issues).
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases.api.serializers import IssueRefSerializer, NeighborhoodRefSerializer, UserRefSerializer
from cases.models import Issue, Problem
from cases.selectors import issues_visible_to
from core.api.common import (
    ActionPermission,
    IdFilter,
    SafeCharFilter,
    SafeDateTimeField,
    SafeDateTimeFilter,
    TextField,
)
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, conflict_response, idempotency_key, mark_replayed
from core.api.lean import LeanRepresentation
from outreach import selectors
from outreach.models import Activity
from outreach.services import activity_create, activity_update
from partners.models import LANGUAGE_CHOICES, Neighborhood, Partner

ID_PATTERN = r"[0-9]+"


class PartnerRefSerializer(LeanRepresentation, serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "name", "kind"]


class ActivitySerializer(LeanRepresentation, serializers.ModelSerializer):
    neighborhood = NeighborhoodRefSerializer(read_only=True)
    # Read from the lists the views prefetch (_with_related).
    officers = UserRefSerializer(many=True, read_only=True, source="officer_list")
    partners = PartnerRefSerializer(many=True, read_only=True, source="partner_list")
    issues = IssueRefSerializer(many=True, read_only=True, source="issue_list")
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    hours = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True, help_text="Officer-hours.")
    languages = serializers.ListField(child=serializers.ChoiceField(choices=LANGUAGE_CHOICES), read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "title",
            "starts_at",
            "ends_at",
            "neighborhood",
            "place",
            "officers",
            "partners",
            "attendance",
            "hours",
            "languages",
            "notes",
            "issues",
            "problem",
            "follow_up_needed",
            "follow_up_note",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ActivityDetailSerializer(ActivitySerializer):
    can_edit = serializers.SerializerMethodField()

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "can_edit"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_can_edit(self, activity) -> bool:
        return selectors.can_edit_activity(self.context["request"].user, activity)


class ActivityWriteSerializer(serializers.Serializer):
    """What logging or editing an activity accepts. On edit (PATCH) every field is optional."""

    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    title = TextField(max_length=200)
    starts_at = SafeDateTimeField()
    ends_at = SafeDateTimeField()
    neighborhood = serializers.PrimaryKeyRelatedField(queryset=Neighborhood.objects.all())
    place = TextField(max_length=200, required=False, allow_blank=True)
    officers = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=selectors.officer_choices(),
        required=False,
        help_text="Officers who took part (user ids); the logging officer when left out.",
    )
    partners = serializers.PrimaryKeyRelatedField(many=True, queryset=Partner.objects.none(), required=False)
    attendance = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    hours = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Officer-hours; null or left out counts the duration × the officers named.",
    )
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CHOICES), required=False, max_length=len(LANGUAGE_CHOICES)
    )
    notes = TextField(max_length=5000, required=False, allow_blank=True)
    issues = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Issue.objects.none(), required=False, help_text="Ids of the issues it addressed."
    )
    problem = serializers.PrimaryKeyRelatedField(queryset=Problem.objects.none(), required=False, allow_null=True)
    follow_up_needed = serializers.BooleanField(required=False)
    follow_up_note = TextField(max_length=300, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # schema generation
            return
        activity = self.context.get("activity")
        # Inactive partners and closed problems stay valid on an activity that already names them.
        partners = Q(is_active=True)
        problems = ~Q(stage=Problem.Stage.CLOSED)
        if activity is not None:
            partners |= Q(pk__in=activity.partners.values("pk"))
            if activity.problem_id:
                problems |= Q(pk=activity.problem_id)
        self.fields["partners"].child_relation.queryset = Partner.objects.filter(partners)
        self.fields["problem"].queryset = Problem.objects.filter(problems)
        self.fields["issues"].child_relation.queryset = issues_visible_to(request.user)

    def validate_officers(self, value):
        if self.partial and not value:
            raise serializers.ValidationError(_("Name at least one officer."))
        return value

    def validate(self, attrs):
        for name in ("officers", "partners", "issues", "languages"):
            if name in attrs:
                attrs[name] = list(dict.fromkeys(attrs[name]))
        return attrs


class ActivityFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Activity.Kind.choices)
    neighborhood = IdFilter(field_name="neighborhood_id")
    district = SafeCharFilter(field_name="neighborhood__district")
    partner = IdFilter(method="filter_partner", help_text="With this partner organisation.")
    officer = IdFilter(method="filter_officer", help_text="With this officer (user id).")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Logged by me or naming me as an officer.")
    issue = IdFilter(method="filter_issue", help_text="Addressed this issue.")
    problem = IdFilter(field_name="problem_id")
    follow_up_needed = django_filters.BooleanFilter()
    starts_after = SafeDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = SafeDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    q = SafeCharFilter(method="filter_q", help_text="Part of the title, place or notes.")

    class Meta:
        model = Activity
        fields = []

    # EXISTS rather than joins: one row per activity whatever its officers or partners.
    def filter_partner(self, queryset, name, value):
        return queryset.filter(
            Exists(Activity.partners.through.objects.filter(activity_id=OuterRef("pk"), partner_id=value))
        )

    def filter_officer(self, queryset, name, value):
        return queryset.filter(
            Exists(Activity.officers.through.objects.filter(activity_id=OuterRef("pk"), user_id=value))
        )

    def filter_issue(self, queryset, name, value):
        return queryset.filter(
            Exists(Activity.issues.through.objects.filter(activity_id=OuterRef("pk"), issue_id=value))
        )

    def filter_mine(self, queryset, name, value: bool):
        if value is None:
            return queryset
        user_id = self.request.user.pk
        on_it = Exists(Activity.officers.through.objects.filter(activity_id=OuterRef("pk"), user_id=user_id))
        mine = Q(on_it) | Q(created_by_id=user_id)
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(place__icontains=value) | Q(notes__icontains=value))


def _with_related(queryset):
    # As plain lists (to_attr): no related manager and queryset made per activity and relation.
    return queryset.prefetch_related(
        selectors.officers_prefetch(),
        selectors.partners_prefetch(),
        Prefetch(
            "issues",
            queryset=Issue.objects.only("id", "tracking_code", "status", "priority").order_by("id"),
            to_attr="issue_list",
        ),
    )


@extend_schema_view(
    list=extend_schema(summary="Outreach activities (every officer's), newest first", tags=["outreach"]),
    retrieve=extend_schema(summary="One outreach activity", tags=["outreach"]),
    create=extend_schema(
        summary="Log an outreach activity",
        description="The `Idempotency-Key` header makes a repeat of the same request log nothing more.",
        request=ActivityWriteSerializer,
        responses={
            201: ActivityDetailSerializer,
            409: conflict_response(
                "The idempotency key was used for another entry (`client_key_reused`), or the activity "
                "it logged has since been deleted (`client_key_deleted`)."
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        tags=["outreach"],
    ),
    partial_update=extend_schema(
        summary="Edit an activity (its officers or a supervisor); the change is kept as a revision",
        request=ActivityWriteSerializer,
        responses={200: ActivityDetailSerializer},
        tags=["outreach"],
    ),
)
class ActivityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [ActionPermission]
    required_perms = {
        "create": "outreach.add_activity",
        "partial_update": "outreach.change_activity",
        "*": "outreach.view_activity",
    }
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = ID_PATTERN
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ["starts_at", "attendance", "hours", "id"]
    ordering = ["-starts_at", "-id"]

    def get_queryset(self):
        return _with_related(selectors.activities_visible_to(self.request.user).select_related("neighborhood"))

    def get_serializer_class(self):
        return ActivitySerializer if self.action == "list" else ActivityDetailSerializer

    def _read(self, activity, code=status.HTTP_200_OK):
        fresh = _with_related(selectors.activities_visible_to(self.request.user)).get(pk=activity.pk)
        return Response(ActivityDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        key = idempotency_key(request)
        serializer = ActivityWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        activity = activity_create(actor=request.user, client_key=key, **serializer.validated_data)
        return mark_replayed(self._read(activity, status.HTTP_201_CREATED), activity)

    def partial_update(self, request, *args, **kwargs):
        activity = self.get_object()
        if not selectors.can_edit_activity(request.user, activity):
            raise PermissionDenied(_("Only the officers on this activity or a supervisor may edit it."))
        context = {**self.get_serializer_context(), "activity": activity}
        serializer = ActivityWriteSerializer(data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        activity_update(activity=activity, actor=request.user, **serializer.validated_data)
        return self._read(activity)
