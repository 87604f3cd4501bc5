"""Serializers of the cases API: how issues, reports, events and the rest look on
the wire, and what each action accepts. Serializers validate input only; the
services in ``cases.services`` do the work and stay the authority on rules.

Residents' contact details appear in exactly one place — ``ReportDetailSerializer.contact``
— and only when ``can_view_contacts`` allows it (the view records the access).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import (
    Approach,
    Category,
    CategoryAttribute,
    Escalation,
    EscalationRule,
    Event,
    Issue,
    Notification,
    Priority,
    Problem,
    Report,
)
from cases.photos import staff_photo_path
from cases.selectors import can_view_contacts, can_work_issue
from core.api.common import TextField
from core.api.lean import LeanRepresentation
from partners.models import LANGUAGE_CHOICES, Neighborhood

User = get_user_model()


# --- references (compact nested objects) -------------------------------------------


class UserRefSerializer(LeanRepresentation, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class CategoryRefSerializer(LeanRepresentation, serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "service_code", "name_en", "name_es"]


class NeighborhoodRefSerializer(LeanRepresentation, serializers.ModelSerializer):
    class Meta:
        model = Neighborhood
        fields = ["id", "slug", "name", "beat", "district"]


class IssueRefSerializer(LeanRepresentation, serializers.ModelSerializer):
    class Meta:
        model = Issue
        fields = ["id", "tracking_code", "status", "priority"]


# --- categories ---------------------------------------------------------------------


class CategoryAttributeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategoryAttribute
        fields = ["code", "datatype", "required", "description_en", "description_es", "datatype_description", "values"]

    values = serializers.ListField(child=serializers.DictField(), read_only=True)


class TargetHoursSerializer(serializers.Serializer):
    """Target resolution time (the SLA) per priority, in hours."""

    urgent = serializers.IntegerField(source="target_hours_urgent")
    high = serializers.IntegerField(source="target_hours_high")
    normal = serializers.IntegerField(source="target_hours_normal")
    low = serializers.IntegerField(source="target_hours_low")


class CategorySerializer(serializers.ModelSerializer):
    target_hours = TargetHoursSerializer(source="*", read_only=True)
    attributes = CategoryAttributeSerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "service_code",
            "name_en",
            "name_es",
            "hint_en",
            "hint_es",
            "group_en",
            "group_es",
            "keywords",
            "is_public",
            "is_active",
            "target_hours",
            "attributes",
        ]


# --- issues -------------------------------------------------------------------------


class IssuePermissionsSerializer(serializers.Serializer):
    """What the requesting user may do with this issue (the same rules as the pages)."""

    work = serializers.BooleanField(help_text="May act on the issue (acknowledge, assign, resolve, …).")
    view_contacts = serializers.BooleanField(help_text="May see residents' contact details on its reports.")


class IssueSerializer(LeanRepresentation, serializers.ModelSerializer):
    category = CategoryRefSerializer(read_only=True)
    neighborhood = NeighborhoodRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    # Blank until chosen / until finished ("" is a documented value, not a surprise).
    approach = serializers.ChoiceField(choices=Approach.choices, allow_blank=True, read_only=True)
    outcome = serializers.ChoiceField(choices=Issue.Outcome.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Issue
        fields = [
            "id",
            "tracking_code",
            "category",
            "neighborhood",
            "lat",
            "lng",
            "address",
            "description",
            "priority",
            "status",
            "approach",
            "assignee",
            "problem",
            "duplicate_of",
            "created_at",
            "updated_at",
            "acknowledged_at",
            "due_at",
            "is_overdue",
            "hold_started_at",
            "hold_reason",
            "resolved_at",
            "closed_at",
            "escalation_level",
            "needs_decision",
            "outcome",
            "resolution_note",
            "referred_to",
            "crime_report_number",
            "reopen_count",
            "report_count",
            "permissions",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_overdue(self, issue) -> bool:
        now = self.context["now"]
        return issue.status in Issue.ESCALATING_STATUSES and issue.due_at < now

    @extend_schema_field(IssuePermissionsSerializer)
    def get_permissions(self, issue) -> dict:
        user = self.context["request"].user
        return {"work": can_work_issue(user, issue), "view_contacts": can_view_contacts(user, issue)}


class IssueCreateSerializer(serializers.Serializer):
    """A report entered by staff (phone call, walk-up, officer in the field) or a system."""

    CHANNELS = [
        Report.Channel.API,
        Report.Channel.OFFICER,
        Report.Channel.PHONE,
        Report.Channel.PARTNER,
    ]

    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(is_active=True))
    description = TextField(max_length=5000)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    neighborhood = serializers.PrimaryKeyRelatedField(
        queryset=Neighborhood.objects.all(),
        required=False,
        allow_null=True,
        help_text="Where, when there is no point: the issue's neighborhood.",
    )
    address = TextField(max_length=200, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    channel = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in CHANNELS],
        default=Report.Channel.API,
        help_text="How the report reached the department.",
    )
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, default="en")
    anonymous = serializers.BooleanField(default=False, help_text="Anonymous reports keep no contact details.")
    reporter_name = TextField(max_length=120, required=False, allow_blank=True, default="")
    reporter_email = serializers.EmailField(required=False, allow_blank=True, default="")
    reporter_phone = TextField(max_length=40, required=False, allow_blank=True, default="")
    contact_consent = serializers.BooleanField(default=False)
    join_issue = serializers.PrimaryKeyRelatedField(
        queryset=Issue.objects.none(),
        required=False,
        allow_null=True,
        help_text='An open issue of the same category this report joins ("me too") instead of opening one.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        visible = self.context.get("visible_issues")
        if visible is not None:
            self.fields["join_issue"].queryset = visible

    def validate(self, attrs):
        lat, lng = attrs.get("lat"), attrs.get("lng")
        if (lat is None) != (lng is None):
            raise serializers.ValidationError({"lng" if lng is None else "lat": "Give both lat and lng, or neither."})
        if lat is None and attrs.get("neighborhood") is None and attrs.get("join_issue") is None:
            raise serializers.ValidationError({"location": "Give lat and lng, or a neighborhood."})
        return attrs


# --- issue actions: what each accepts ----------------------------------------------


class AssignSerializer(serializers.Serializer):
    officer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        allow_null=True,
        help_text="Id of an active officer who works issues (see /api/v1/staff/); null unassigns.",
    )

    def __init__(self, *args, **kwargs):
        from cases.selectors.staff import assignable_officers

        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = assignable_officers()


class ApproachSerializer(serializers.Serializer):
    approach = serializers.ChoiceField(choices=Approach.choices)


class PrioritySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = TextField(max_length=300, required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    text = TextField(max_length=5000)
    public = serializers.BooleanField(
        default=False, help_text="Public notes show on the resident's status page; internal ones to staff only."
    )
    seen_status = serializers.ChoiceField(
        choices=Issue.Status.choices,
        required=False,
        help_text=(
            "The issue's status when the note was written (e.g. on a page kept offline). If the issue "
            "was finished since, the note is refused with 409 unless `confirm` is true."
        ),
    )
    confirm = serializers.BooleanField(
        default=False, help_text="Add the note even though the issue was finished after `seen_status`."
    )


class HoldSerializer(serializers.Serializer):
    reason = TextField(max_length=300, help_text="Shown on the resident's status page.")


class DuplicateSerializer(serializers.Serializer):
    duplicate_of = serializers.PrimaryKeyRelatedField(
        queryset=Issue.objects.none(),
        required=False,
        help_text="Id of the issue this one duplicates (or give tracking_code).",
    )
    tracking_code = TextField(
        max_length=20, required=False, help_text="Tracking code of that issue, e.g. CG-ABCD-2345."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "visible_issues" in self.context:
            self.fields["duplicate_of"].queryset = self.context["visible_issues"]

    def validate(self, attrs):
        from cases.selectors.staff import issue_by_tracking_code

        if attrs.get("duplicate_of") is None:
            code = attrs.get("tracking_code", "")
            if not code:
                raise serializers.ValidationError({"duplicate_of": "Give duplicate_of or tracking_code."})
            target = issue_by_tracking_code(self.context["request"].user, code)
            if target is None:
                raise serializers.ValidationError({"tracking_code": f"No issue has the tracking code {code}."})
            attrs["duplicate_of"] = target
        return attrs


class ReferSerializer(serializers.Serializer):
    agency = TextField(max_length=160, help_text="e.g. Public Works, Code Enforcement")
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer):
    note = TextField(max_length=5000, help_text="What was done. Shown on the resident's status page.")


class CrimeReportSerializer(serializers.Serializer):
    report_number = TextField(max_length=40)
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")


class ReopenSerializer(serializers.Serializer):
    reason = TextField(max_length=2000)


# --- reports ------------------------------------------------------------------------


class ReportSerializer(LeanRepresentation, serializers.ModelSerializer):
    """A report as staff see it in lists: never contact details, only whether there are some."""

    created_by = UserRefSerializer(read_only=True, allow_null=True)
    photo = serializers.SerializerMethodField()
    has_contact = serializers.BooleanField(read_only=True)
    attributes = serializers.DictField(read_only=True)
    # Blank when absent, so a plain string (an empty string is not a URI).
    media_url = serializers.CharField(read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "issue",
            "text",
            "photo",
            "channel",
            "language",
            "is_anonymous",
            "has_contact",
            "attributes",
            "media_url",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo(self, report):
        if not report.photo:
            return None
        # The original, through the staff-only view (MEDIA_ROOT is not served); the public copy, once
        # approved, is at cases.photos.public_photo_path.
        return self.context["request"].build_absolute_uri(staff_photo_path(report.issue_id, report.pk))


class ReportContactSerializer(serializers.Serializer):
    name = serializers.CharField(source="reporter_name")
    email = serializers.CharField(source="reporter_email")
    phone = serializers.CharField(source="reporter_phone")
    consent = serializers.BooleanField(source="contact_consent", help_text="The resident agreed to be contacted.")


class ContactRevealQuerySerializer(serializers.Serializer):
    """``?reason=`` of a report's retrieve: why its contact details are needed."""

    reason = TextField(max_length=300, required=False, allow_blank=True, default="")


def contact_reveal_reason(raw: str) -> dict | None:
    """``contact_view_record``'s reason arguments for ``?reason=``; None when none was given.

    A reason code (``call_back``…) stands for its reason's words; any other text is "Other".
    Too long a reason is refused with the API's usual 400.
    """
    query = ContactRevealQuerySerializer(data={"reason": raw})
    query.is_valid(raise_exception=True)
    reason = query.validated_data["reason"].strip()
    if not reason:
        return None
    if reason in Event.RevealReason.values and reason != Event.RevealReason.OTHER:
        with translation.override("en"):
            return {"reason": str(Event.RevealReason(reason).label), "reason_code": reason}
    return {"reason": reason, "reason_code": Event.RevealReason.OTHER}


class ReportDetailSerializer(ReportSerializer):
    contact = serializers.SerializerMethodField(
        help_text=(
            "The reporter's contact details: null unless the report has some, the request gives a `reason` "
            "and this user may see them (assignee, officers of the neighborhood or district, supervisors). "
            "Each disclosure is recorded, with its reason, on the issue's timeline and in the audit log."
        )
    )

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "contact"]
        read_only_fields = fields

    @extend_schema_field(ReportContactSerializer(allow_null=True))
    def get_contact(self, report):
        if not (report.has_contact and self.context.get("show_contact")):
            return None
        return ReportContactSerializer(report).data


# --- events -------------------------------------------------------------------------


class EventSerializer(LeanRepresentation, serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    message = serializers.CharField(
        read_only=True,
        help_text=(
            "The words as staff typed them. On a public entry the public reads them with emails, "
            "phone numbers and names masked; `data.original_message` is set when masking changed them."
        ),
    )
    data = serializers.DictField(read_only=True)

    class Meta:
        model = Event
        fields = ["id", "issue", "kind", "kind_label", "actor", "is_public", "message", "data", "created_at"]
        read_only_fields = fields

    def to_representation(self, event):
        out = super().to_representation(event)
        original = (event.data or {}).get("original_message") if isinstance(event.data, dict) else None
        if isinstance(original, str):
            out["message"] = original
        return out


# --- escalations --------------------------------------------------------------------


class EscalationSerializer(LeanRepresentation, serializers.ModelSerializer):
    issue = IssueRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    action = serializers.ChoiceField(choices=EscalationRule.Action.choices, read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "issue",
            "level",
            "cycle",
            "action",
            "hours_overdue",
            "created_at",
            "decided_at",
            "decided_by",
            "decision",
        ]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    """A supervisor's decision on an escalated issue (the dashboard's "needs a decision" list)."""

    DECISIONS = [
        ("assign", "Assign it to an officer"),
        ("acknowledge", "Let the current handling continue"),
        ("problem", "Open a problem-solving project around it"),
    ]

    decision = serializers.ChoiceField(choices=DECISIONS)
    officer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True, help_text="For assign: the officer's id."
    )
    title = TextField(max_length=200, required=False, allow_blank=True, default="", help_text="For problem.")

    def __init__(self, *args, **kwargs):
        from cases.selectors.staff import assignable_officers

        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = assignable_officers()

    def validate(self, attrs):
        if attrs["decision"] == "assign" and attrs.get("officer") is None:
            raise serializers.ValidationError({"officer": "Choose an officer to assign."})
        return attrs


class ProblemRefSerializer(LeanRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    stage = serializers.ChoiceField(choices=Problem.Stage.choices)


class DecisionResultSerializer(serializers.Serializer):
    issue = IssueSerializer()
    problem = ProblemRefSerializer(allow_null=True, help_text="The problem opened, for the problem decision.")


# --- notifications ------------------------------------------------------------------


class NotificationSerializer(LeanRepresentation, serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "url", "issue", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_read(self, notification) -> bool:
        return notification.read_at is not None


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were newly marked read.")
