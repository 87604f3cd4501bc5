from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from cases.models import (
    ApiClient,
    AssignmentRule,
    Category,
    CategoryAttribute,
    Escalation,
    EscalationRule,
    Event,
    Feedback,
    Issue,
    Notification,
    OutboxMessage,
    Problem,
    ProblemEvent,
    Report,
    ResponseTemplate,
    SweepRun,
)
from cases.services.issues import public_text_for
from core.admin_fields import URL_FORM_FIELDS
from partners.models import Neighborhood


class CategoryAttributeInline(admin.TabularInline):
    model = CategoryAttribute
    extra = 0


class EscalationLadderFormSet(BaseInlineFormSet):
    """A ladder reads the way it fires: levels from 1, higher levels never sooner (hours)."""

    def clean(self):
        super().clean()
        rungs = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            level, hours = form.cleaned_data.get("level"), form.cleaned_data.get("hours_overdue")
            if level is None or hours is None:
                continue
            if level < 1:
                raise ValidationError("Escalation levels start at 1.")
            rungs.append((level, hours))
        rungs.sort()
        for (low_level, low_hours), (high_level, high_hours) in zip(rungs, rungs[1:], strict=False):
            if high_hours < low_hours:
                raise ValidationError(
                    f"Level {high_level} fires at {high_hours} hours overdue, sooner than level {low_level} "
                    f"({low_hours} hours). Higher levels must not fire sooner."
                )


class EscalationRuleInline(admin.TabularInline):
    model = EscalationRule
    formset = EscalationLadderFormSet
    extra = 0
    fields = ("level", "hours_overdue", "action")
    verbose_name = "escalation level (hours past due)"
    verbose_name_plural = "escalation ladder — hours past due_at → action; one sweep applies every level that is due"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    # A notice's link typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "name_en",
        "name_es",
        "service_code",
        "group_en",
        "is_public",
        "target_hours_urgent",
        "target_hours_high",
        "target_hours_normal",
        "target_hours_low",
    )
    list_filter = ("group_en", "is_public", "is_active")
    search_fields = ("name_en", "name_es", "service_code")
    fieldsets = (
        (None, {"fields": ("name_en", "name_es", "hint_en", "hint_es", "group_en", "group_es", "sort_order")}),
        ("Open311", {"fields": ("service_code", "keywords", "is_public", "is_active")}),
        (
            "Target resolution time (SLA), in hours",
            {"fields": ("target_hours_urgent", "target_hours_high", "target_hours_normal", "target_hours_low")},
        ),
        ("Hot spots", {"fields": ("hotspot_threshold", "hotspot_window_hours")}),
        ("Notice on the form", {"fields": ("notice_en", "notice_es", "notice_url", "notice_stops")}),
        ('"Is it fixed?"', {"fields": ("fixed_check_days",)}),
    )
    inlines = [EscalationRuleInline, CategoryAttributeInline]


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "level", "hours_overdue", "action")
    list_filter = ("action", "category")
    list_select_related = ("category",)


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    """Public notes officers reuse, edited by administrators (the Administrator group holds the
    model's permissions; officers and supervisors pick them on the issue page). The model's
    ``clean`` refuses an unknown or malformed placeholder, its constraints a second automatic
    template for one category and status, each with a message beside the field."""

    list_display = ("name", "category_or_any", "status", "auto", "is_active", "updated_at")
    list_filter = ("status", "auto", "is_active", "category")
    list_select_related = ("category",)
    search_fields = ("name", "text_en", "text_es")
    fields = ("name", "category", "status", "text_en", "text_es", "auto", "is_active")

    @admin.display(description=_("category"), ordering="category__name_en")
    def category_or_any(self, obj):
        return obj.category.name if obj.category_id else _("Any category")


# Residents' contact details are not in the admin at all: every reveal must go through the
# issue page's "Show contact details" (or the API's ?reason=), which asks why and records it in
# the audit log. An administrator who needs them uses that page like everyone else; the
# retention task erases them, not an admin edit.
REPORT_CONTACT_FIELDS = ("reporter_name", "reporter_email", "reporter_phone")
# Nor is the private message key's hash: whoever could set it to the hash of a key they know
# would read the resident's anonymous conversation.
REPORT_HIDDEN_FIELDS = (*REPORT_CONTACT_FIELDS, "message_key_hash")


class ReportInline(admin.StackedInline):
    model = Report
    extra = 0
    exclude = REPORT_HIDDEN_FIELDS
    readonly_fields = ("created_at", "channel", "language")
    formfield_overrides = URL_FORM_FIELDS


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    readonly_fields = ("kind", "actor", "is_public", "message", "created_at")
    can_delete = False


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ("tracking_code", "category", "neighborhood", "status", "priority", "due_at", "escalation_level")
    list_filter = ("status", "priority", "category", "neighborhood__district", "escalation_level", "outcome")
    search_fields = ("tracking_code", "description", "address", "crime_report_number")
    list_select_related = ("category", "neighborhood", "assignee")
    raw_id_fields = ("assignee", "problem", "duplicate_of")
    readonly_fields = ("tracking_code",)
    date_hierarchy = "created_at"
    inlines = [ReportInline, EventInline]

    def get_readonly_fields(self, request, obj=None):
        # Once filed, an issue's place and category are facts its feedback and figures are keyed on.
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "category", "neighborhood")

    # The public reads only the public copies: an edited description or report text is masked
    # again (cases.redaction), and so is a public copy typed here by hand.
    def save_model(self, request, obj, form, change):
        if "description" in form.changed_data:
            obj.public_description = public_text_for(text=obj.description, issue=obj)
        elif "public_description" in form.changed_data:
            obj.public_description = public_text_for(text=obj.public_description, issue=obj)
        if "address" in form.changed_data:
            obj.public_address = public_text_for(text=obj.address, issue=obj)
        elif "public_address" in form.changed_data:
            obj.public_address = public_text_for(text=obj.public_address, issue=obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is Report:
            for report_form in formset.forms:
                _report_public_text_refresh(report_form)
        super().save_formset(request, form, formset, change)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FORM_FIELDS
    exclude = REPORT_HIDDEN_FIELDS
    list_display = ("id", "issue", "channel", "language", "is_anonymous", "created_at")
    list_filter = ("channel", "language", "is_anonymous")
    raw_id_fields = ("issue", "created_by")
    list_select_related = ("issue",)

    def save_model(self, request, obj, form, change):
        _report_public_text_refresh(form)
        super().save_model(request, obj, form, change)


def _report_public_text_refresh(form) -> None:
    """A report's text (or its public copy) edited in the admin: the public copy is masked again."""
    report = form.instance
    changed = getattr(form, "changed_data", ())
    if "text" in changed:
        report.public_text = public_text_for(text=report.text, report=report)
    elif "public_text" in changed:
        report.public_text = public_text_for(text=report.public_text, report=report)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("issue", "kind", "actor", "is_public", "created_at")
    list_filter = ("kind", "is_public")
    raw_id_fields = ("issue", "actor")
    list_select_related = ("issue", "actor")

    # The audit log's entries (reveals, moderations, erasures) are evidence: nobody edits or
    # deletes one by hand (they go only with their issue).
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.kind in Event.AUDIT_KINDS:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.kind in Event.AUDIT_KINDS:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # A public entry's words are masked for the public, as event_record masks them; the
        # words as typed stay for staff in data["original_message"].
        if obj.is_public and obj.message and {"message", "is_public"} & set(form.changed_data):
            data = {k: v for k, v in (obj.data or {}).items() if k != "original_message"}
            masked = public_text_for(text=obj.message, issue=obj.issue)
            if masked != obj.message:
                data["original_message"] = obj.message
                obj.message = masked
            obj.data = data
        super().save_model(request, obj, form, change)

    def get_actions(self, request):
        # The bulk delete asks no per-row question, so it could take audit entries along.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ("issue", "level", "action", "created_at", "decided_at")
    list_filter = ("action", "level")
    raw_id_fields = ("issue", "decided_by", "rule")
    list_select_related = ("issue",)


class ProblemEventInline(admin.TabularInline):
    model = ProblemEvent
    extra = 0
    readonly_fields = ("kind", "actor", "message", "created_at")


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ("title", "stage", "category", "neighborhood", "owner", "created_at")
    list_filter = ("stage", "source", "category")
    filter_horizontal = ("partners",)
    raw_id_fields = ("owner",)
    inlines = [ProblemEventInline]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("issue", "fixed", "satisfaction", "created_at")
    list_filter = ("fixed", "satisfaction")
    raw_id_fields = ("issue",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("subject", "channel", "recipient", "state", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("state", "channel")
    raw_id_fields = ("recipient", "issue")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "subject", "created_at", "read_at")
    raw_id_fields = ("user", "issue", "outbox")


@admin.action(description="Revoke the selected API keys")
def revoke_keys(modeladmin, request, queryset):
    from cases.services import api_client_revoke

    revoked = 0
    for client in queryset.filter(is_active=True):
        api_client_revoke(client=client)
        revoked += 1
    modeladmin.message_user(
        request, f"{revoked} API key(s) revoked; those clients can no longer file Open311 requests."
    )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "is_active", "created_at", "revoked_at")
    list_filter = ("is_active",)
    search_fields = ("name", "contact_email")
    readonly_fields = ("created_at", "revoked_at")
    actions = [revoke_keys]

    def get_readonly_fields(self, request, obj=None):
        # The key is generated on creation and never edited; revoking goes through the action, which
        # records when. A client that needs a new key gets a new ApiClient.
        if obj is not None:
            return (*self.readonly_fields, "key", "is_active")
        return (*self.readonly_fields, "is_active")


class SweepRunStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return SweepRun.State.choices

    def queryset(self, request, queryset):
        if self.value() in SweepRun.State.values:
            return queryset.filter(SweepRun.state_q(self.value()))
        return queryset


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    """The sweep's log, read-only: each run's state and what it committed (counts kept batch by batch)."""

    list_display = (
        "started_at",
        "state_label",
        "progress_at",
        "finished_at",
        "batches",
        "escalations",
        "issues_escalated",
        "notifications",
        "hotspots",
        "problems_opened",
    )
    list_filter = (SweepRunStateFilter,)

    @admin.display(description="state")
    def state_label(self, obj):
        return SweepRun.State(obj.state).label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.site_header = "CommonGround administration"
admin.site.site_title = "CommonGround"


class AssignmentRuleForm(forms.ModelForm):
    class Meta:
        model = AssignmentRule
        fields = ("name", "category", "neighborhood", "district", "mode", "officer", "pool", "position", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        districts = sorted(set(Neighborhood.objects.exclude(district="").values_list("district", flat=True)))
        self.fields["district"] = forms.ChoiceField(
            label="District",
            required=False,
            choices=[("", "—")] + [(d, d) for d in districts],
            help_text="A whole district, instead of one neighborhood.",
        )
        workers = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["officer"].queryset = workers
        self.fields["pool"].queryset = workers

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("neighborhood") and cleaned.get("district"):
            raise ValidationError("Name a neighborhood or a district, not both.")
        mode = cleaned.get("mode")
        people = [cleaned["officer"]] if mode == AssignmentRule.Mode.OFFICER and cleaned.get("officer") else []
        if mode == AssignmentRule.Mode.OFFICER and not people:
            raise ValidationError({"officer": "Choose the officer who gets these issues."})
        if mode != AssignmentRule.Mode.OFFICER:
            people = list(cleaned.get("pool") or [])
            if not people:
                raise ValidationError({"pool": "Choose at least one officer for the pool."})
        cannot = [user.get_username() for user in people if not user.has_perm("cases.work_issue")]
        if cannot:
            raise ValidationError(f"Cannot work issues: {', '.join(cannot)}.")
        return cleaned


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    form = AssignmentRuleForm
    list_display = ("name", "category", "neighborhood", "district", "mode", "officer", "position", "active")
    list_filter = ("active", "mode", "category")
    filter_horizontal = ("pool",)
    search_fields = ("name",)
