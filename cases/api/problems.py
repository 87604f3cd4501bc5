"""REST API of SARA problem-solving projects: the same reads and actions as the
problem pages (``cases.selectors.problems``, ``cases.services.problems``).

Officers and supervisors read every Problem. Officers contribute (analysis,
response plan, notes); supervisors lead (open, advance the stage, group or
remove issues, change the owner, close).
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases import services
from cases.api.serializers import (
    CategoryRefSerializer,
    IssueRefSerializer,
    NeighborhoodRefSerializer,
    UserRefSerializer,
)
from cases.models import Approach, Category, Issue, Problem, ProblemEvent
from cases.problems.forms import problem_workers
from cases.selectors import issues_visible_to
from cases.selectors.problems import (
    ProblemFilters,
    can_contribute_to_problem,
    can_lead_problems,
    problem_assessment,
    problem_for_user,
    problem_issues,
    problem_list,
    problem_timeline,
)
from core.api.common import ActionPermission, IdFilter, SafeCharFilter, TextField
from core.api.lean import LeanRepresentation
from partners.models import Neighborhood, Partner

ID_PATTERN = r"[0-9]+"
TEXT_LIMIT = 5000


# --- serializers -----------------------------------------------------------------------


class ProblemSerializer(LeanRepresentation, serializers.ModelSerializer):
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    neighborhood = NeighborhoodRefSerializer(read_only=True, allow_null=True)
    owner = UserRefSerializer(read_only=True, allow_null=True)
    partners = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    approach = serializers.ChoiceField(choices=Approach.choices, allow_blank=True, read_only=True)
    outcome = serializers.ChoiceField(choices=Problem.Outcome.choices, allow_blank=True, read_only=True)
    issue_count = serializers.IntegerField(read_only=True, help_text="Issues grouped under the problem.")
    open_issue_count = serializers.IntegerField(read_only=True, help_text="Of those, still open.")

    class Meta:
        model = Problem
        fields = [
            "id",
            "title",
            "category",
            "neighborhood",
            "stage",
            "source",
            "owner",
            "partners",
            "approach",
            "issue_count",
            "open_issue_count",
            "response_started_at",
            "outcome",
            "outcome_note",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields


class AnalysisSerializer(serializers.Serializer):
    """The problem triangle, described in aggregate — never profiles of people."""

    place = TextField(source="analysis_place", max_length=TEXT_LIMIT, required=False, allow_blank=True)
    harmed = TextField(source="analysis_harmed", max_length=TEXT_LIMIT, required=False, allow_blank=True)
    causing = TextField(source="analysis_causing", max_length=TEXT_LIMIT, required=False, allow_blank=True)
    when = TextField(source="analysis_when", max_length=TEXT_LIMIT, required=False, allow_blank=True)
    why = TextField(source="analysis_why", max_length=TEXT_LIMIT, required=False, allow_blank=True)


class AssessmentSerializer(serializers.Serializer):
    """Issues of the problem's category in its neighborhood in two equal windows around the response's start."""

    response_started_at = serializers.DateTimeField()
    window_days = serializers.FloatField()
    before = serializers.IntegerField()
    after = serializers.IntegerField()
    change = serializers.IntegerField()
    change_pct = serializers.FloatField(allow_null=True)


class ProblemDetailSerializer(ProblemSerializer):
    analysis = AnalysisSerializer(source="*", read_only=True)
    response_plan = serializers.CharField(read_only=True)
    issues = serializers.SerializerMethodField()
    assessment = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    moves = serializers.SerializerMethodField()

    class Meta(ProblemSerializer.Meta):
        fields = [
            *ProblemSerializer.Meta.fields,
            "analysis",
            "response_plan",
            "issues",
            "assessment",
            "permissions",
            "moves",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_moves(self, problem):
        """The stages ``move/`` takes from where the problem stands, forward move first (the problem
        page's buttons); closing, possible from any open stage, is ``close/``."""
        return [stage for stage in services.problem_stage_moves(problem) if stage != Problem.Stage.CLOSED]

    @extend_schema_field(IssueRefSerializer(many=True))
    def get_issues(self, problem):
        return IssueRefSerializer(self.context["issues"], many=True).data

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_assessment(self, problem):
        assessment = self.context.get("assessment")
        return None if assessment is None else AssessmentSerializer(assessment).data

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"lead": {"type": "boolean"}, "contribute": {"type": "boolean"}},
            "required": ["lead", "contribute"],
        }
    )
    def get_permissions(self, problem):
        user = self.context["request"].user
        return {"lead": can_lead_problems(user), "contribute": can_contribute_to_problem(user, problem)}


class ProblemEventSerializer(LeanRepresentation, serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    data = serializers.DictField(read_only=True)

    class Meta:
        model = ProblemEvent
        fields = ["id", "problem", "kind", "kind_label", "actor", "message", "data", "created_at"]
        read_only_fields = fields


class ProblemOpenSerializer(serializers.Serializer):
    title = TextField(max_length=200)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    neighborhood = serializers.PrimaryKeyRelatedField(
        queryset=Neighborhood.objects.all(), required=False, allow_null=True
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=problem_workers(), required=False, allow_null=True, help_text="Defaults to the user opening it."
    )
    issues = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Issue.objects.none(), required=False, help_text="Issues to group right away."
    )
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["issues"].child_relation.queryset = issues_visible_to(self.context["request"].user)

    def validate_issues(self, value):
        if len(value) > 200:
            raise serializers.ValidationError(_("Add at most 200 issues at a time."))
        return list(dict.fromkeys(value))


class AdvanceSerializer(serializers.Serializer):
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")


class MoveSerializer(AdvanceSerializer):
    to = serializers.ChoiceField(
        choices=[stage for stage in Problem.Stage.choices if stage[0] != Problem.Stage.CLOSED],
        help_text="A stage the problem may move to from where it stands: its `moves` (closing is `close/`).",
    )


class ProblemCloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Problem.Outcome.choices)
    note = TextField(max_length=TEXT_LIMIT, required=False, allow_blank=True, default="")


class AddIssuesSerializer(serializers.Serializer):
    issues = serializers.PrimaryKeyRelatedField(many=True, queryset=Issue.objects.none(), help_text="Issue ids.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["issues"].child_relation.queryset = issues_visible_to(self.context["request"].user)

    def validate_issues(self, value):
        if not value:
            raise serializers.ValidationError(_("Choose at least one issue."))
        if len(value) > 200:
            raise serializers.ValidationError(_("Add at most 200 issues at a time."))
        return list(dict.fromkeys(value))


class RemoveIssueSerializer(serializers.Serializer):
    issue = serializers.PrimaryKeyRelatedField(queryset=Issue.objects.none(), help_text="Id of a grouped issue.")
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["issue"].queryset = issues_visible_to(self.context["request"].user)


class OwnerSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=problem_workers(), allow_null=True, help_text="A user who works on problems; null for nobody."
    )


class ResponsePlanSerializer(serializers.Serializer):
    """Fields left out keep their current value."""

    approach = serializers.ChoiceField(choices=Approach.choices, allow_blank=True, required=False)
    plan = TextField(max_length=TEXT_LIMIT, allow_blank=True, required=False)
    partners = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Partner.objects.filter(is_active=True), required=False
    )


class ProblemNoteSerializer(serializers.Serializer):
    text = TextField(max_length=TEXT_LIMIT)


# --- filters ---------------------------------------------------------------------------


class ProblemFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Problem.Stage.choices)
    active = django_filters.BooleanFilter(method="filter_active", help_text="Every stage but closed (or closed).")
    source = django_filters.ChoiceFilter(choices=Problem.Source.choices)
    category = IdFilter(field_name="category_id")
    neighborhood = IdFilter(field_name="neighborhood_id")
    district = SafeCharFilter(field_name="neighborhood__district")
    owner = IdFilter(field_name="owner_id")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Owned by the requesting user.")
    q = SafeCharFilter(field_name="title", lookup_expr="icontains", help_text="Part of the title.")

    class Meta:
        model = Problem
        fields = []

    def filter_active(self, queryset, name, value: bool):
        if value is None:
            return queryset
        closed = Q(stage=Problem.Stage.CLOSED)
        return queryset.exclude(closed) if value else queryset.filter(closed)

    def filter_mine(self, queryset, name, value: bool):
        if value is None:
            return queryset
        mine = Q(owner_id=self.request.user.pk)
        return queryset.filter(mine) if value else queryset.exclude(mine)


# --- views -----------------------------------------------------------------------------

LEAD = ("advance", "close", "add_issues", "remove_issue", "owner")
CONTRIBUTE = ("analysis", "response", "note")


def _problem_action_schema(summary, request, response=ProblemDetailSerializer, code=200):
    return extend_schema(summary=summary, request=request, responses={code: response}, tags=["problems"])


@extend_schema_view(
    list=extend_schema(summary="SARA problem-solving projects, by stage (scanning first)", tags=["problems"]),
    retrieve=extend_schema(summary="One problem with its issues and assessment", tags=["problems"]),
    create=extend_schema(
        summary="Open a problem (supervisors)",
        request=ProblemOpenSerializer,
        responses={201: ProblemDetailSerializer},
        tags=["problems"],
    ),
)
class ProblemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [ActionPermission]
    required_perms = {"create": "cases.add_problem", "*": "cases.view_problem"}
    lookup_value_regex = ID_PATTERN
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["stage_rank", "-created_at", "-id"]

    def get_queryset(self):
        # Every stage; the filters narrow it. Issue counts come annotated from the selector.
        return problem_list(self.request.user, ProblemFilters(stage="")).prefetch_related(
            Prefetch("partners", queryset=Partner.objects.only("id").order_by("name"))
        )

    def get_serializer_class(self):
        return ProblemSerializer if self.action == "list" else ProblemDetailSerializer

    def get_object(self):
        return problem_for_user(self.request.user, self.kwargs["pk"])

    def _detail(self, problem, code=status.HTTP_200_OK):
        problem = problem_for_user(self.request.user, problem.pk)
        issues = problem_issues(problem)
        problem.issue_count = len(issues)
        problem.open_issue_count = sum(1 for issue in issues if issue.is_open)
        context = {**self.get_serializer_context(), "issues": issues, "assessment": problem_assessment(problem)}
        return Response(ProblemDetailSerializer(problem, context=context).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _lead(self):
        problem = self.get_object()
        if not can_lead_problems(self.request.user):
            raise PermissionDenied(_("Only supervisors lead problem-solving projects."))
        return problem

    def _contribute(self):
        problem = self.get_object()
        if not can_contribute_to_problem(self.request.user, problem):
            raise PermissionDenied(_("Your role does not allow this."))
        return problem

    def create(self, request, *args, **kwargs):
        if not can_lead_problems(request.user):
            raise PermissionDenied(_("Only supervisors lead problem-solving projects."))
        data = self._input(ProblemOpenSerializer)
        problem = services.problem_open(
            title=data["title"],
            actor=request.user,
            category=data.get("category"),
            neighborhood=data.get("neighborhood"),
            owner=data.get("owner"),
            issues=data.get("issues") or [],
            note=data["note"],
        )
        return self._detail(problem, status.HTTP_201_CREATED)

    @_problem_action_schema("Move to the next SARA stage (supervisors)", AdvanceSerializer)
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        problem = self._lead()
        data = self._input(AdvanceSerializer)
        return self._detail(services.problem_advance_stage(problem=problem, actor=request.user, note=data["note"]))

    @_problem_action_schema(
        "Move to another SARA stage, forward or back, as `moves` allows (supervisors)", MoveSerializer
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        problem = self._lead()
        data = self._input(MoveSerializer)
        return self._detail(
            services.problem_move_stage(problem=problem, to=data["to"], actor=request.user, note=data["note"])
        )

    @_problem_action_schema("Close with the assessed outcome (supervisors)", ProblemCloseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        problem = self._lead()
        data = self._input(ProblemCloseSerializer)
        return self._detail(
            services.problem_close(problem=problem, actor=request.user, outcome=data["outcome"], note=data["note"])
        )

    @_problem_action_schema("Group more issues under the problem (supervisors)", AddIssuesSerializer)
    @action(detail=True, methods=["post"], url_path="add-issues")
    def add_issues(self, request, pk=None):
        problem = self._lead()
        data = self._input(AddIssuesSerializer)
        services.problem_add_issues(problem=problem, issues=data["issues"], actor=request.user)
        return self._detail(problem)

    @_problem_action_schema("Take an issue out of the problem (supervisors)", RemoveIssueSerializer)
    @action(detail=True, methods=["post"], url_path="remove-issue")
    def remove_issue(self, request, pk=None):
        problem = self._lead()
        data = self._input(RemoveIssueSerializer)
        services.problem_remove_issue(problem=problem, issue=data["issue"], actor=request.user, reason=data["reason"])
        return self._detail(problem)

    @_problem_action_schema("Change the owner (supervisors)", OwnerSerializer)
    @action(detail=True, methods=["post"])
    def owner(self, request, pk=None):
        problem = self._lead()
        data = self._input(OwnerSerializer)
        return self._detail(services.problem_set_owner(problem=problem, owner=data["owner"], actor=request.user))

    @_problem_action_schema("Write the analysis (fields left out keep their value)", AnalysisSerializer)
    @action(detail=True, methods=["post"])
    def analysis(self, request, pk=None):
        problem = self._contribute()
        data = self._input(AnalysisSerializer)
        current = {name: getattr(problem, f"analysis_{name}") for name in ("place", "harmed", "causing", "when", "why")}
        current.update({name.removeprefix("analysis_"): value for name, value in data.items()})
        return self._detail(services.problem_update_analysis(problem=problem, actor=request.user, **current))

    @_problem_action_schema("Write the response plan (fields left out keep their value)", ResponsePlanSerializer)
    @action(detail=True, methods=["post"])
    def response(self, request, pk=None):
        problem = self._contribute()
        data = self._input(ResponsePlanSerializer)
        return self._detail(
            services.problem_update_response(
                problem=problem,
                actor=request.user,
                approach=data.get("approach", problem.approach),
                plan=data.get("plan", problem.response_plan),
                partners=data["partners"] if "partners" in data else list(problem.partners.all()),
            )
        )

    @_problem_action_schema("Add a note to the problem's timeline", ProblemNoteSerializer, ProblemEventSerializer, 201)
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        problem = self.get_object()
        if not can_contribute_to_problem(request.user, problem):
            raise PermissionDenied(_("Your role does not allow this."))
        data = self._input(ProblemNoteSerializer)
        event = services.problem_add_note(problem=problem, actor=request.user, text=data["text"])
        event = problem_timeline(problem).get(pk=event.pk)
        return Response(ProblemEventSerializer(event).data, status=status.HTTP_201_CREATED)


ProblemViewSet.required_perms = {
    **ProblemViewSet.required_perms,
    **dict.fromkeys(CONTRIBUTE, "cases.change_problem"),
    **dict.fromkeys(LEAD, "cases.view_dashboard"),
}


@extend_schema_view(
    list=extend_schema(
        summary="A problem's timeline, oldest first",
        parameters=[OpenApiParameter("problem_id", int, OpenApiParameter.PATH, description="The problem's id.")],
        tags=["problems"],
    )
)
class ProblemEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    required_perms = {"*": "cases.view_problem"}
    serializer_class = ProblemEventSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["created_at", "id"]
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no problem in the URL
            return ProblemEvent.objects.none()
        return problem_timeline(problem_for_user(self.request.user, self.kwargs["problem_id"]))
