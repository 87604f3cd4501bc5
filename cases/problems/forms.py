"""Forms of the SARA problem pages. They check what a form can check (lengths, choices, tracking
codes that exist); ``cases.services.problems`` stays the authority on what a Problem may do next."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Approach, Category, Issue, Problem
from cases.selectors.public import category_choices
from cases.selectors.staff import normalize_tracking_code
from core.widgets import show_rows, use_fast_selects
from partners.forms import PartnersField, partners_to_pick
from partners.models import Neighborhood
from partners.selectors import neighborhood_choices

User = get_user_model()

TEXTAREA = forms.Textarea(attrs={"rows": 3})


def problem_workers():
    """Active users who may work on problems (``cases.change_problem``): the owner choices."""
    permission = Permission.objects.filter(content_type__app_label="cases", codename="change_problem")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class ProblemFilterForm(forms.Form):
    stage = forms.ChoiceField(required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title")}),
    )
    district = forms.ChoiceField(label=_("District"), required=False)
    neighborhood = forms.ModelChoiceField(
        label=_("Neighborhood"),
        queryset=Neighborhood.objects.only("id", "name"),
        required=False,
        empty_label=_("Any neighborhood"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False, empty_label=_("Any category")
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=[("", _("Anyone")), ("me", _("Me"))])

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("active", _("Active")), ("", _("All")), *Problem.Stage.choices]
        self.fields["stage"].widget = forms.HiddenInput()
        self.fields["district"].choices = [("", _("Any district"))] + [(d, d) for d in districts]
        use_fast_selects(self)
        show_rows(self.fields["neighborhood"], neighborhood_choices)
        show_rows(self.fields["category"], category_choices)

    def selector_kwargs(self, user) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        stage = data.get("stage", "active") if self.is_bound and "stage" in self.data else "active"
        return {
            "stage": stage or "",
            "q": data.get("q", ""),
            "district": data.get("district", ""),
            "neighborhood_id": data["neighborhood"].pk if data.get("neighborhood") else None,
            "category_id": data["category"].pk if data.get("category") else None,
            "owner_id": user.pk if data.get("owner") == "me" else None,
        }


class TrackingCodesField(forms.CharField):
    """Tracking codes separated by spaces, commas or new lines → the Issues (all must exist)."""

    widget = forms.Textarea(attrs={"rows": 2, "placeholder": "CG-ABCD-2345, CG-…"})

    def clean(self, value):
        value = super().clean(value)
        raw = [part for part in re.split(r"[\s,;]+", value or "") if part]
        if len(raw) > 200:
            raise forms.ValidationError(gettext("Add at most 200 issues at a time."))
        codes, bad = [], []
        for part in raw:
            code = normalize_tracking_code(part)
            (codes if code else bad).append(code or part)
        if bad:
            raise forms.ValidationError(gettext("Not a tracking code: %(codes)s") % {"codes": ", ".join(bad)})
        issues = list(Issue.objects.filter(tracking_code__in=codes).select_related("problem"))
        missing = sorted(set(codes) - {i.tracking_code for i in issues})
        if missing:
            raise forms.ValidationError(gettext("No issue has the code %(codes)s.") % {"codes": ", ".join(missing)})
        return issues


class ProblemOpenForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.all(),
        required=False,
        help_text=_("Left empty: the category the grouped issues share."),
    )
    neighborhood = forms.ModelChoiceField(
        label=_("Neighborhood"),
        queryset=Neighborhood.objects.only("id", "name"),
        required=False,
        help_text=_("Left empty: the neighborhood the grouped issues share."),
    )
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Me"))
    issues = TrackingCodesField(label=_("Issues to group (tracking codes)"), required=False)
    note = forms.CharField(label=_("Why open it (optional)"), required=False, max_length=2000, widget=TEXTAREA)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = problem_workers()


class AdvanceForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=2000, widget=TEXTAREA)


class MoveForm(AdvanceForm):
    """A stage move: the button pressed names the stage. Any stage parses; whether the Problem may
    go there from where it stands is the service's to say (``cases.services.STAGE_MOVES``)."""

    to = forms.ChoiceField(label=_("Move to"), choices=Problem.Stage.choices, widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_move_%s")
        super().__init__(*args, **kwargs)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *Problem.Outcome.choices])
    note = forms.CharField(label=_("What the assessment showed"), required=False, max_length=5000, widget=TEXTAREA)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_close_%s")  # the move form beside it has a note too
        super().__init__(*args, **kwargs)


class AddIssuesForm(forms.Form):
    candidates = forms.TypedMultipleChoiceField(
        label=_("Open issues of this kind here"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    codes = TrackingCodesField(label=_("Or tracking codes"), required=False)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidate_issues = {i.pk: i for i in candidates}
        self.fields["candidates"].choices = [
            (i.pk, f"{i.tracking_code} · {i.address or i.description[:60]}") for i in candidates
        ]

    def clean(self):
        data = super().clean()
        issues = {i.pk: i for i in data.get("codes") or []}
        if data.get("candidates"):
            for issue in Issue.objects.filter(pk__in=data["candidates"]):
                issues.setdefault(issue.pk, issue)
        if not issues and not self.errors:
            raise forms.ValidationError(gettext("Choose at least one issue."))
        data["issues"] = list(issues.values())
        return data


class RemoveIssueForm(forms.Form):
    issue = forms.IntegerField(widget=forms.HiddenInput())
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)


class AnalysisForm(forms.Form):
    place = forms.CharField(
        label=_("Place: where does it happen, what about the place lets it happen?"),
        required=False,
        max_length=5000,
        widget=TEXTAREA,
    )
    harmed = forms.CharField(
        label=_("Those harmed (in aggregate): who suffers from it?"), required=False, max_length=5000, widget=TEXTAREA
    )
    causing = forms.CharField(
        label=_("Those causing it (in aggregate, behaviour — never profiles of people)"),
        required=False,
        max_length=5000,
        widget=TEXTAREA,
    )
    when = forms.CharField(label=_("When: times, days, seasons"), required=False, max_length=5000, widget=TEXTAREA)
    why = forms.CharField(
        label=_("Why it recurs: what keeps it going"), required=False, max_length=5000, widget=TEXTAREA
    )

    @classmethod
    def for_problem(cls, problem):
        return cls(
            initial={
                "place": problem.analysis_place,
                "harmed": problem.analysis_harmed,
                "causing": problem.analysis_causing,
                "when": problem.analysis_when,
                "why": problem.analysis_why,
            }
        )


class ResponseForm(forms.Form):
    approach = forms.ChoiceField(label=_("Approach"), required=False, choices=[("", "—"), *Approach.choices])
    plan = forms.CharField(label=_("Response plan"), required=False, max_length=5000, widget=forms.Textarea)
    # The outreach form's partner picker (partners.forms): search as you type, a list without JavaScript.
    partners = PartnersField(label=_("Partners involved"))

    def __init__(self, *args, problem=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Inactive partners stay selectable on a Problem that already names them.
        self.fields["partners"].queryset = partners_to_pick(problem.partners.values("pk") if problem else None)

    @classmethod
    def for_problem(cls, problem):
        return cls(
            problem=problem,
            initial={
                "approach": problem.approach,
                "plan": problem.response_plan,
                "partners": [p.pk for p in problem.partners.all()],
            },
        )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=5000, widget=TEXTAREA)


class OwnerForm(forms.Form):
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Nobody"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = problem_workers()
