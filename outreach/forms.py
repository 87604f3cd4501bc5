"""Forms of the outreach log: they parse input; the service decides what is valid and saves."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases.models import Problem
from core.text import whole_number
from core.widgets import show_rows, use_fast_selects
from outreach.models import Activity
from outreach.selectors import ActivityFilters, issues_by_codes, normalize_tracking_code, officer_choices
from partners.forms import PartnersField, partners_to_pick
from partners.models import LANGUAGE_CHOICES, Neighborhood, Partner
from partners.selectors import neighborhood_choices, partner_choices

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
DATETIME_INPUT_FORMATS = [DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL_FORMAT)


class OfficerMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class ActivityForm(forms.Form):
    """Log or edit an outreach activity.

    ``issues`` is a text box of tracking codes so the form works without
    JavaScript; static/js/picker.js turns it (and the partner and officer
    lists) into search-as-you-type pickers that fill the same fields.
    """

    # The UUID static/js/offline.js makes for this entry: sent again (a retry, the offline queue's
    # replay), the activity is logged once. Checked by the service; empty without JavaScript.
    client_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=[("", _("Choose…"))] + Activity.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Start"), input_formats=DATETIME_INPUT_FORMATS, widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(label=_("End"), input_formats=DATETIME_INPUT_FORMATS, widget=DateTimeLocalInput())
    neighborhood = forms.ModelChoiceField(
        label=_("Neighborhood"), queryset=Neighborhood.objects.order_by("name"), empty_label=_("Choose…")
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    officers = OfficerMultipleChoiceField(
        label=_("Officers"),
        queryset=officer_choices(),
        error_messages={"required": _("Name at least one officer.")},
        widget=forms.SelectMultiple(attrs={"data-picker": "local", "size": 4}),
    )
    partners = PartnersField(label=_("Partners"))
    attendance = forms.IntegerField(
        label=_("Attendance"),
        required=False,
        initial=0,
        help_text=_("People who took part, not counting officers."),
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
    )
    hours = forms.DecimalField(
        label=_("Officer-hours"),
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text=_("Leave blank to count the duration × the officers named."),
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.25", "inputmode": "decimal"}),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages used"), choices=LANGUAGE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label=_("Notes"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    issues = forms.CharField(
        label=_("Issues it addressed"),
        required=False,
        help_text=_("Tracking codes, separated by commas (e.g. CG-ABCD-2345)."),
        widget=forms.TextInput(
            attrs={
                "data-issue-picker": "/outreach/issue-search/",
                "autocomplete": "off",
                "autocapitalize": "characters",
            }
        ),
    )
    problem = forms.ModelChoiceField(
        label=_("Problem-solving project"),
        queryset=Problem.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    follow_up_needed = forms.BooleanField(label=_("Follow-up needed"), required=False)
    follow_up_note = forms.CharField(label=_("What needs following up"), max_length=300, required=False)

    def __init__(self, *args, user, activity: Activity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.activity = activity
        problems = ~Q(stage=Problem.Stage.CLOSED)
        if activity is not None and activity.problem_id:
            problems |= Q(pk=activity.problem_id)
        # Inactive partners stay selectable on an activity that already names them.
        self.fields["partners"].queryset = partners_to_pick(activity.partners.values("pk") if activity else None)
        self.fields["officers"].queryset = officer_choices(activity)
        self.fields["problem"].queryset = Problem.objects.filter(problems).order_by("-created_at")

    @classmethod
    def initial_for_new(cls, user, *, problem_id: str | None = None) -> dict:
        """A just-finished hour in the officer's own neighborhood: the usual case, logged on the spot.

        Opened from a Problem's page (``?problem=<id>``), the activity is tied to
        that Problem and placed in its neighborhood.
        """
        now = timezone.localtime().replace(second=0, microsecond=0)
        initial = {"starts_at": now - timedelta(hours=1), "ends_at": now, "officers": [user.pk]}
        profile = getattr(user, "staff_profile", None)
        if profile is not None:
            own = list(profile.neighborhoods.values_list("pk", flat=True)[:2])
            if len(own) == 1:
                initial["neighborhood"] = own[0]
        problem_id = whole_number(str(problem_id or ""))
        if problem_id is not None:
            problem = Problem.objects.filter(pk=problem_id).values("pk", "neighborhood_id").first()
            if problem is not None:
                initial["problem"] = problem["pk"]
                if problem["neighborhood_id"]:
                    initial["neighborhood"] = problem["neighborhood_id"]
        return initial

    @classmethod
    def initial_for(cls, activity: Activity) -> dict:
        return {
            "kind": activity.kind,
            "title": activity.title,
            "starts_at": activity.starts_at,
            "ends_at": activity.ends_at,
            "neighborhood": activity.neighborhood_id,
            "place": activity.place,
            "officers": [u.pk for u in activity.officers.all()],
            "partners": [p.pk for p in activity.partners.all()],
            "attendance": activity.attendance,
            "hours": activity.hours,
            "languages": activity.languages,
            "notes": activity.notes,
            "issues": ", ".join(i.tracking_code for i in activity.issues.all()),
            "problem": activity.problem_id,
            "follow_up_needed": activity.follow_up_needed,
            "follow_up_note": activity.follow_up_note,
        }

    def clean_attendance(self):
        value = self.cleaned_data.get("attendance")
        return 0 if value is None else value

    def clean_issues(self):
        tokens = [t for t in re.split(r"[\s,;]+", self.cleaned_data.get("issues") or "") if t]
        codes, malformed = [], []
        for token in tokens:
            code = normalize_tracking_code(token)
            (codes if code else malformed).append(code or token)
        if malformed:
            raise forms.ValidationError(
                _("Not a tracking code: %(codes)s") % {"codes": ", ".join(malformed)}, code="malformed"
            )
        found, missing = issues_by_codes(self.user, codes)
        if missing:
            raise forms.ValidationError(
                ngettext(
                    "No issue has the tracking code %(codes)s.", "No issues have the codes %(codes)s.", len(missing)
                )
                % {"codes": ", ".join(missing)},
                code="unknown",
            )
        return found

    def service_kwargs(self) -> dict:
        """The cleaned values under the names ``activity_create`` / ``activity_update`` take
        (``client_key`` apart: only a new activity has one)."""
        data = dict(self.cleaned_data)
        data.pop("client_key", None)
        data["languages"] = list(data.get("languages") or [])
        data["officers"] = list(data["officers"])
        data["partners"] = list(data["partners"])
        return data

    def add_service_error(self, error) -> None:
        """Put a service ValidationError beside the fields it names (the rest above the form)."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class ActivityFilterForm(forms.Form):
    """The outreach list's filters (GET). Invalid values are reported and ignored, never a 500."""

    mine = forms.BooleanField(label=_("Only mine"), required=False)
    neighborhood = forms.ModelChoiceField(
        label=_("Neighborhood"), queryset=Neighborhood.objects.order_by("name"), required=False, empty_label=_("All")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All"))] + Activity.Kind.choices, required=False)
    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=Partner.objects.order_by("name"), required=False, empty_label=_("All")
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
        show_rows(self.fields["neighborhood"], neighborhood_choices)
        show_rows(self.fields["partner"], partner_choices)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def to_filters(self) -> ActivityFilters:
        if not self.is_bound:
            return ActivityFilters()
        self.is_valid()
        data = self.cleaned_data
        neighborhood, partner = data.get("neighborhood"), data.get("partner")
        return ActivityFilters(
            mine=bool(data.get("mine")),
            neighborhood_id=neighborhood.pk if neighborhood else None,
            kind=data.get("kind") or "",
            partner_id=partner.pk if partner else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
