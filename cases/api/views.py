"""REST API views of the cases app. Thin: selectors read (scoped to the user), one
service per action writes, serializers validate and shape.

Rules are the pages' rules: ``issues_visible_to`` decides what a user sees,
``can_work_issue`` who may act, ``can_view_contacts`` who sees residents'
contact details (and every disclosure is recorded, as on the detail page).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases import services
from cases.api import serializers as s
from cases.api.filters import (
    CategoryFilter,
    EscalationFilter,
    EventFilter,
    IssueFilter,
    NotificationFilter,
    ReportFilter,
)
from cases.escalation import decisions
from cases.models import Event
from cases.notifications.outbox import notification_mark_all_read, notification_mark_read
from cases.selectors import (
    can_view_contacts,
    can_work_issue,
    is_supervisor,
    issue_for_user,
    issue_queue_branches,
    issue_queue_for,
    issues_visible_to,
)
from cases.selectors.notifications import notifications_for
from cases.selectors.records import (
    categories_visible_to,
    escalations_visible_to,
    issue_events_for,
    reports_visible_to,
)
from core.api.common import ActionPermission
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, conflict_response, idempotency_key, mark_replayed

ID_PATTERN = r"[0-9]+"


class _Base(viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    lookup_value_regex = ID_PATTERN


# --- categories ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Categories (service types) with their SLA in hours", tags=["catalog"]),
    retrieve=extend_schema(summary="One category", tags=["catalog"]),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Base):
    """Public: anyone may read the categories residents can report; staff also see inactive ones."""

    permission_classes = [permissions.AllowAny]
    serializer_class = s.CategorySerializer
    filterset_class = CategoryFilter
    ordering_fields = ["id", "service_code", "name_en", "sort_order"]
    ordering = ["group_en", "sort_order", "name_en", "id"]

    def get_queryset(self):
        return categories_visible_to(self.request.user)


# --- issues -------------------------------------------------------------------------

_WORK = "cases.work_issue"


def _action_schema(summary, request, response=s.IssueSerializer, code=200, description=""):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={code: response},
        tags=["issue actions"],
        filters=False,
    )


@extend_schema_view(
    list=extend_schema(summary="Issues the user may see", tags=["issues"]),
    retrieve=extend_schema(summary="One issue", tags=["issues"]),
    create=extend_schema(
        summary="Enter a report (opens an issue or joins one)",
        description=(
            "Staff-entered report (phone call, officer in the field, partner, another system). "
            "Answers with the issue the report opened or joined."
        ),
        request=s.IssueCreateSerializer,
        responses={201: s.IssueSerializer},
        tags=["issues"],
    ),
)
class IssueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _Base):
    serializer_class = s.IssueSerializer
    filterset_class = IssueFilter
    # Each order has an index to walk (a page costs the same at any depth); the most escalated
    # are found with escalation_level_min instead of an order no index serves.
    ordering_fields = ["created_at", "due_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    required_perms = {"create": "cases.add_issue", "*": "cases.view_issue"}
    ISSUE_ACTIONS = (
        "acknowledge",
        "assign",
        "approach",
        "priority",
        "note",
        "hold",
        "resume",
        "duplicate",
        "refer",
        "resolve",
        "crime_report",
        "reopen",
        "close",
    )
    required_perms |= dict.fromkeys(ISSUE_ACTIONS, _WORK)
    required_perms["decision"] = "cases.view_dashboard"

    def get_queryset(self):
        return issues_visible_to(self.request.user)

    def get_object(self):
        issue = issue_for_user(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, issue)
        return issue

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _issue_response(self, issue, code=status.HTTP_200_OK):
        fresh = issue_for_user(self.request.user, issue.pk)
        return Response(s.IssueSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = s.IssueCreateSerializer(
            data=request.data, context={"request": request, "visible_issues": issues_visible_to(request.user)}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["text"] = data.pop("description")
        report = services.issue_submit(actor=request.user, **data)
        return self._issue_response(report.issue, status.HTTP_201_CREATED)

    @extend_schema(
        summary="My queue: assigned to me, and unassigned in my neighborhoods, by due time",
        responses={200: s.IssueSerializer(many=True)},
        tags=["issues"],
    )
    @action(detail=False, methods=["get"], url_path="queue", ordering=["due_at", "id"])
    def queue(self, request):
        queryset = self.filter_queryset(issue_queue_for(request.user))
        # Each part of the queue, with the same filters, is read on its own index (core.pagination).
        self.keyset_branches = [self.filter_queryset(part) for part in issue_queue_branches(request.user)]
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    # --- actions: each calls the service the page calls --------------------------------

    def _workable(self):
        issue = self.get_object()
        if not can_work_issue(self.request.user, issue):
            raise PermissionDenied(_("You may not act on issues outside your neighborhoods."))
        return issue

    def _input(self, serializer_class):
        serializer = serializer_class(
            data=self.request.data,
            context={"request": self.request, "visible_issues": issues_visible_to(self.request.user)},
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @_action_schema("Acknowledge a new issue", None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        issue = self._workable()
        return self._issue_response(services.issue_acknowledge(issue=issue, actor=request.user))

    @_action_schema("Assign to an officer (or unassign)", s.AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.AssignSerializer)
        return self._issue_response(services.issue_assign(issue=issue, officer=data["officer"], actor=request.user))

    @_action_schema("Choose the response approach: deter, problem-solve or enforce", s.ApproachSerializer)
    @action(detail=True, methods=["post"])
    def approach(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.ApproachSerializer)
        return self._issue_response(
            services.issue_set_approach(issue=issue, approach=data["approach"], actor=request.user)
        )

    @_action_schema("Change the priority (due_at follows the category's SLA)", s.PrioritySerializer)
    @action(detail=True, methods=["post"])
    def priority(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.PrioritySerializer)
        return self._issue_response(
            services.issue_set_priority(
                issue=issue, priority=data["priority"], reason=data["reason"], actor=request.user
            )
        )

    @extend_schema(
        summary="Add a note (internal, or public on the status page)",
        description=(
            "Allowed in every status. With `seen_status` (the status the writer saw) a note written "
            "while the issue was open is refused with 409 (`issue_finished`) if it was finished since, "
            "unless `confirm` is true. The `Idempotency-Key` header makes a repeat add nothing."
        ),
        request=s.NoteSerializer,
        responses={
            201: s.EventSerializer,
            409: conflict_response(
                "The issue was finished after `seen_status` (`issue_finished`: send again with `confirm`), "
                "or the idempotency key was used for another entry (`client_key_reused`)."
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        tags=["issue actions"],
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        issue = self._workable()
        key = idempotency_key(request)
        data = self._input(s.NoteSerializer)
        event = services.issue_add_note(
            issue=issue,
            actor=request.user,
            text=data["text"],
            public=data["public"],
            client_key=key,
            seen_status=data.get("seen_status"),
            confirm=data["confirm"],
        )
        replayed = event.replayed
        event = issue_events_for(issue).get(pk=event.pk)
        event.replayed = replayed
        return mark_replayed(Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED), event)

    @_action_schema("Put on hold (the SLA clock stops)", s.HoldSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.HoldSerializer)
        return self._issue_response(services.issue_hold(issue=issue, actor=request.user, reason=data["reason"]))

    @_action_schema("Resume from hold (due_at moves by the time held)", None)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        issue = self._workable()
        return self._issue_response(services.issue_resume(issue=issue, actor=request.user))

    @_action_schema("Mark as a duplicate of another issue (its reports move there)", s.DuplicateSerializer)
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.DuplicateSerializer)
        return self._issue_response(
            services.issue_mark_duplicate(issue=issue, of=data["duplicate_of"], actor=request.user)
        )

    @_action_schema("Refer to another agency", s.ReferSerializer)
    @action(detail=True, methods=["post"])
    def refer(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.ReferSerializer)
        return self._issue_response(
            services.issue_refer(issue=issue, agency=data["agency"], note=data["note"], actor=request.user)
        )

    @_action_schema("Resolve", s.ResolveSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.ResolveSerializer)
        return self._issue_response(services.issue_resolve(issue=issue, actor=request.user, note=data["note"]))

    @_action_schema(
        "Record that the issue became a crime report (closes it)",
        s.CrimeReportSerializer,
        description="The outcome the program exists to prevent; it is counted, with its report number.",
    )
    @action(detail=True, methods=["post"], url_path="crime-report")
    def crime_report(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.CrimeReportSerializer)
        return self._issue_response(
            services.issue_record_crime_report(
                issue=issue, actor=request.user, report_number=data["report_number"], note=data["note"]
            )
        )

    @_action_schema("Reopen a resolved, closed or referred issue (a fresh due_at)", s.ReopenSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        issue = self._workable()
        data = self._input(s.ReopenSerializer)
        return self._issue_response(services.issue_reopen(issue=issue, actor=request.user, reason=data["reason"]))

    @extend_schema(
        summary="Decide on an escalated issue waiting for a supervisor (supervisors)",
        description=(
            "The dashboard's decisions: assign it, let the handling continue (acknowledge), or open a "
            "problem-solving project around it. Every undecided escalation of the issue is marked decided."
        ),
        request=s.DecisionSerializer,
        responses={200: s.DecisionResultSerializer},
        tags=["issue actions"],
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def decision(self, request, pk=None):
        issue = self.get_object()
        if not is_supervisor(request.user):
            raise PermissionDenied(_("Only supervisors decide on escalated issues."))
        data = self._input(s.DecisionSerializer)
        problem = None
        if data["decision"] == "assign":
            decisions.decision_assign(issue=issue, officer=data["officer"], actor=request.user)
        elif data["decision"] == "acknowledge":
            decisions.decision_acknowledge(issue=issue, actor=request.user)
        else:
            problem = decisions.decision_open_problem(issue=issue, actor=request.user, title=data["title"])
        fresh = issue_for_user(request.user, issue.pk)
        issue_data = s.IssueSerializer(fresh, context=self.get_serializer_context()).data
        problem_data = None if problem is None else {"id": problem.pk, "title": problem.title, "stage": problem.stage}
        return Response({"issue": issue_data, "problem": problem_data})

    @_action_schema("Close a resolved issue", None)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        issue = self._workable()
        return self._issue_response(services.issue_close(issue=issue, actor=request.user))


# --- an issue's timeline -------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="An issue's timeline (public and internal events), oldest first",
        parameters=[OpenApiParameter("issue_id", int, OpenApiParameter.PATH, description="The issue's id.")],
        tags=["issues"],
    )
)
class IssueEventViewSet(mixins.ListModelMixin, _Base):
    serializer_class = s.EventSerializer
    filterset_class = EventFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["created_at", "id"]
    required_perms = {"*": "cases.view_event"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no issue in the URL
            return Event.objects.none()
        issue = issue_for_user(self.request.user, self.kwargs["issue_id"])
        return issue_events_for(issue)


# --- reports ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Reports on issues the user may see (never contact details)", tags=["reports"]),
    retrieve=extend_schema(
        summary="One report, with the reporter's contact details where this user may see them and says why",
        description=(
            "`contact` is filled only when the request gives a `reason`, and only for the assignee, officers "
            "of the issue's neighborhood or district, and supervisors — the same rule as the issue page. "
            "Each disclosure adds a `contact_viewed` event with that reason to the issue's timeline and "
            "the audit log. Without a `reason`, `contact` is null and nothing is recorded."
        ),
        parameters=[
            OpenApiParameter(
                "reason",
                str,
                OpenApiParameter.QUERY,
                required=False,
                description=(
                    "Why the contact details are needed (up to 300 characters), recorded in the audit log. "
                    "One of the codes `call_back`, `follow_up_visit`, `resident_asked`, or free text. "
                    "Required to receive `contact`."
                ),
            )
        ],
        tags=["reports"],
    ),
)
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Base):
    serializer_class = s.ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    required_perms = {"*": "cases.view_report"}

    @property
    def throttle_scope(self):
        return "contacts" if self.action == "retrieve" else None

    def get_queryset(self):
        return reports_visible_to(self.request.user)

    def get_serializer_class(self):
        return s.ReportDetailSerializer if self.action == "retrieve" else s.ReportSerializer

    def retrieve(self, request, *args, **kwargs):
        report = self.get_object()
        reason = s.contact_reveal_reason(request.query_params.get("reason", ""))
        show = reason is not None and can_view_contacts(request.user, report.issue)
        if show and report.has_contact:
            # The audit trail records each disclosure and its reason; no reason, no disclosure.
            services.contact_view_record(issue=report.issue, actor=request.user, **reason)
        context = {**self.get_serializer_context(), "show_contact": show}
        return Response(s.ReportDetailSerializer(report, context=context).data)


# --- escalations --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Escalation levels reached by issues the user may see", tags=["escalations"]),
    retrieve=extend_schema(summary="One escalation", tags=["escalations"]),
)
class EscalationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Base):
    serializer_class = s.EscalationSerializer
    filterset_class = EscalationFilter
    ordering_fields = ["created_at", "level", "id"]
    ordering = ["-created_at", "-id"]
    required_perms = {"*": "cases.view_escalation"}

    def get_queryset(self):
        return escalations_visible_to(self.request.user)


# --- notifications ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The user's own in-app notifications, newest first", tags=["notifications"]),
    retrieve=extend_schema(summary="One of the user's notifications", tags=["notifications"]),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Base):
    serializer_class = s.NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    required_perms = {"*": "cases.view_issue"}  # staff, like /notifications/

    def get_queryset(self):
        return notifications_for(self.request.user)

    @extend_schema(summary="Mark one notification read", request=None, responses={200: s.NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notification = notification_mark_read(notification=notification, user=request.user)
        return Response(s.NotificationSerializer(notification).data)

    @extend_schema(
        summary="Mark all of the user's notifications read",
        request=None,
        responses={200: s.MarkedReadSerializer},
        filters=False,
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = notification_mark_all_read(user=request.user)
        return Response({"marked": marked})
