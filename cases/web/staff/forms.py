"""Forms of the staff issue pages: the list filters and one small form per issue action.

Each action is described once in ``ACTIONS`` (URL slug → form, the service call,
the statuses in which the page offers it). The forms check what a form can
check (required fields, lengths, a tracking code that exists); the services in
``cases.services`` stay the authority on transitions and raise
``ValidationError`` when an action does not fit the issue's state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cases import services
from cases.models import Approach, Category, Issue, Priority
from cases.response_templates import template_language, template_render
from cases.selectors.public import category_choices
from cases.selectors.response_templates import response_templates_for
from cases.selectors.staff import assignable_officer_choices, assignable_officers, issue_by_tracking_code
from core.widgets import show_rows, use_fast_selects
from partners.models import Neighborhood
from partners.selectors import neighborhood_choices

Status = Issue.Status


# --- list filters ---------------------------------------------------------------------


class IssueFilterForm(forms.Form):
    """GET filters of /issues/. Invalid values are reported beside the field and ignored."""

    STATUS_CHOICES = [
        ("", _("Any status")),
        ("open", _("Open (any open status)")),
        ("finished", _("Finished (resolved, closed, duplicate, referred)")),
        *Status.choices,
    ]
    OVERDUE_CHOICES = [("", _("Any")), ("yes", _("Overdue")), ("no", _("Not overdue"))]
    ESCALATION_CHOICES = [
        ("", _("Any")),
        ("0", _("Not escalated")),
        ("1", _("Level 1 or higher")),
        ("2", _("Level 2 or higher")),
        ("3", _("Level 3 or higher")),
    ]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Tracking code, words, address")}),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False, empty_label=_("Any category")
    )
    neighborhood = forms.ModelChoiceField(
        label=_("Neighborhood"),
        queryset=Neighborhood.objects.only("id", "name"),
        required=False,
        empty_label=_("Any neighborhood"),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", _("Any priority")), *Priority.choices], required=False
    )
    overdue = forms.ChoiceField(label=_("Overdue"), choices=OVERDUE_CHOICES, required=False)
    escalation = forms.ChoiceField(label=_("Escalation"), choices=ESCALATION_CHOICES, required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assignees = [("", _("Anyone")), ("me", _("Me")), ("unassigned", _("Unassigned")), *assignable_officer_choices()]
        # A callable: Django normalizes a list of choices on every assignment (field, widget,
        # the fast widget's copy), a few hundred officers each time; this is read when drawn.
        self.fields["assignee"].choices = lambda: assignees
        use_fast_selects(self)
        self.fields["assignee"].widget.plain_rows = lambda: assignees  # drawn as they are (core.widgets)
        show_rows(self.fields["category"], category_choices)
        show_rows(self.fields["neighborhood"], neighborhood_choices)

    def selector_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``issues_filtered`` from the fields that validated."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        kwargs: dict[str, Any] = {}
        if data.get("q"):
            kwargs["q"] = data["q"]
        if data.get("status"):
            kwargs["status"] = data["status"]
        if data.get("category"):
            kwargs["category"] = data["category"]
        if data.get("neighborhood"):
            kwargs["neighborhood"] = data["neighborhood"]
        if data.get("priority"):
            kwargs["priority"] = data["priority"]
        if data.get("overdue"):
            kwargs["overdue"] = data["overdue"] == "yes"
        if data.get("escalation"):
            kwargs["escalation_level"] = int(data["escalation"])
        if data.get("assignee"):
            kwargs["assignee"] = data["assignee"]
        return kwargs

    @property
    def active_count(self) -> int:
        return len(self.selector_kwargs())


# --- issue actions --------------------------------------------------------------------


# Acting on an issue nobody is assigned to offers to take it, ticked: the one who acts gets it
# (and the credit in the workload figures).
TAKE_ACTIONS = ("acknowledge", "note", "resolve", "hold", "refer")
# The name of each language a response template is filled in, for the hint under its select.
TEMPLATE_LANGUAGES = {"en": pgettext_lazy("in a sentence", "English"), "es": pgettext_lazy("in a sentence", "Spanish")}


class ActionForm(forms.Form):
    """Base of the action forms: knows the issue, the acting user and which action it is for.

    A form with ``template_target`` (the text field a resident reads) offers "Use a response
    template": the active templates for the issue's category (or any) and ``template_status`` (the
    status the action moves the issue into; None: the issue's current one). Each template's text,
    rendered in the issue's reporting language, goes to the page (``template_texts``) for the
    small script that fills the field; without the script, a chosen template's text is used when
    the field is left empty. ``response_templates``: the issue's templates read once by the page
    for all its forms (read here when not given).
    """

    template_target = ""
    template_status: str | None = None

    def __init__(self, *args, issue: Issue, user, action: str = "", response_templates=None, **kwargs):
        self.issue = issue
        self.user = user
        super().__init__(*args, **kwargs)
        self.template_texts: dict[str, str] = {}
        self.used_template = False
        if self.template_target:
            self._offer_templates(response_templates)
        if action in TAKE_ACTIONS and issue.assignee_id is None and user.has_perm("cases.work_issue"):
            self.fields["take"] = forms.BooleanField(
                label=_("Take it: assign this issue to me"), required=False, initial=True
            )
        use_fast_selects(self)

    def _offer_templates(self, response_templates) -> None:
        status = self.template_status or self.issue.status
        if response_templates is None:
            response_templates = response_templates_for(self.issue, [status])
        templates = [template for template in response_templates if template.status == status]
        if not templates:
            return
        language = template_language(self.issue.language)
        self.template_texts = {str(template.pk): template_render(template, self.issue) for template in templates}
        field = forms.ChoiceField(
            label=_("Use a response template"),
            required=False,
            choices=[("", _("None: write your own")), *[(str(template.pk), template.name) for template in templates]],
            help_text=gettext(
                "Fills the text in %(language)s, the language the issue was reported in; edit it before saving."
            )
            % {"language": TEMPLATE_LANGUAGES[language]},
            error_messages={"invalid_choice": _("That response template is not offered for this issue any more.")},
        )
        target_id = self.auto_id % self.add_prefix(self.template_target) if self.auto_id else ""
        field.widget.attrs.update({"data-template-fill": target_id, "data-template-texts": self.template_texts_id})
        self.fields["template"] = field
        self.fields[self.template_target].required = False
        # The select first, then the text it fills.
        self.order_fields(["template", self.template_target])

    @property
    def template_texts_id(self) -> str:
        return (self.auto_id % "template_texts") if self.auto_id else "template_texts"

    def clean(self):
        data = super().clean()
        if "template" not in self.fields:
            return data
        target = self.template_target
        if self.has_error(target) or self.has_error("template"):
            return data
        if (data.get(target) or "").strip():
            return data  # the officer's words, typed or a filled-in template edited
        chosen = data.get("template")
        if not chosen:
            self.add_error(target, gettext("Write the text, or choose a response template."))
            return data
        text = self.template_texts[chosen]
        limit = self.fields[target].max_length
        if limit and len(text) > limit:
            self.add_error(
                "template",
                gettext("That template is longer than %(n)d characters: write the text instead.") % {"n": limit},
            )
            return data
        data[target] = text
        self.used_template = True
        return data


class EmptyActionForm(ActionForm):
    pass


class AssignForm(ActionForm):
    officer = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=None,
        required=False,
        empty_label=_("Nobody (unassign)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        officer = self.fields["officer"]
        officer.queryset = assignable_officers()  # what a submitted id is checked against
        officer.error_messages["invalid_choice"] = _("Choose an active officer who works issues.")
        show_rows(officer, lambda: assignable_officer_choices(with_username=True))


class ApproachForm(ActionForm):
    approach = forms.ChoiceField(label=_("Approach"), choices=Approach.choices, widget=forms.RadioSelect)


class PriorityForm(ActionForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=300)


class NoteForm(ActionForm):
    template_target = "text"

    VISIBILITY_CHOICES = [
        ("internal", _("Internal: staff only")),
        ("public", _("Public: shown on the resident's status page")),
    ]
    text = forms.CharField(label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("Who sees it"), choices=VISIBILITY_CHOICES, initial="internal", widget=forms.RadioSelect
    )
    # For a note kept on the officer's phone and sent later (static/js/offline.js): the UUID the
    # device made for it (sent twice, it is added once), the status the officer saw on the page,
    # and "send anyway" once told the issue was finished meanwhile. All checked by the service.
    client_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    seen_status = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_status"].initial = self.issue.status

    def confirm_after_conflict(self) -> None:
        """Shown again after "finished meanwhile": the officer has now seen the status, so
        submitting this form again adds the note."""
        self.data = self.data.copy()
        self.data[self.add_prefix("seen_status")] = self.issue.status


class HoldForm(ActionForm):
    template_target = "reason"
    template_status = Status.ON_HOLD

    reason = forms.CharField(
        label=_("Reason for the hold"),
        max_length=300,
        help_text=_("Shown on the resident's status page. The resolution clock stops until resumed."),
    )


class DuplicateForm(ActionForm):
    tracking_code = forms.CharField(
        label=_("Duplicate of (tracking code)"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "CG-XXXX-XXXX", "autocapitalize": "characters"}),
        help_text=_("This issue's reports move to that issue."),
    )

    def clean_tracking_code(self):
        code = self.cleaned_data["tracking_code"]
        target = issue_by_tracking_code(self.user, code)
        if target is None:
            raise forms.ValidationError(_("No issue has the tracking code %(code)s."), params={"code": code.strip()})
        self.cleaned_data["target"] = target
        return target.tracking_code


class ReferForm(ActionForm):
    agency = forms.CharField(label=_("Agency"), max_length=160, help_text=_("e.g. Public Works, Code Enforcement"))
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResolveForm(ActionForm):
    template_target = "note"
    template_status = Status.RESOLVED

    note = forms.CharField(
        label=_("Resolution note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done. Shown on the resident's status page."),
    )


class CrimeReportForm(ActionForm):
    report_number = forms.CharField(label=_("Crime report number"), max_length=40)
    note = forms.CharField(
        label=_("Internal note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RecategorizeForm(ActionForm):
    category = forms.ModelChoiceField(
        label=_("New category"),
        queryset=Category.objects.filter(is_active=True),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose one of the categories listed."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True).exclude(pk=self.issue.category_id)


class ReopenForm(ActionForm):
    reason = forms.CharField(label=_("Why reopen?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# --- the action table -----------------------------------------------------------------


def _run_acknowledge(form, issue, user):
    services.issue_acknowledge(issue=issue, actor=user)
    return gettext("Issue acknowledged.")


def _run_assign(form, issue, user):
    officer = form.cleaned_data["officer"]
    services.issue_assign(issue=issue, officer=officer, actor=user)
    if officer is None:
        return gettext("Issue unassigned.")
    if officer.pk == user.pk:
        return gettext("Issue assigned to you.")
    return gettext("Issue assigned to %(name)s.") % {"name": officer.get_full_name() or officer.get_username()}


def _run_approach(form, issue, user):
    approach = form.cleaned_data["approach"]
    services.issue_set_approach(issue=issue, approach=approach, actor=user)
    return gettext("Approach set: %(approach)s.") % {"approach": Approach(approach).label}


def _run_priority(form, issue, user):
    priority = form.cleaned_data["priority"]
    services.issue_set_priority(issue=issue, priority=priority, actor=user, reason=form.cleaned_data["reason"])
    return gettext("Priority set to %(priority)s.") % {"priority": Priority(priority).label}


def _run_note(form, issue, user):
    # Response templates are written for residents: a note made from one (no script filled the
    # text in) is public, whatever the default "internal" left as it was.
    public = form.cleaned_data["visibility"] == "public" or form.used_template
    note = services.issue_add_note(
        issue=issue,
        actor=user,
        text=form.cleaned_data["text"],
        public=public,
        client_key=form.cleaned_data["client_key"],
        seen_status=form.cleaned_data["seen_status"],
        confirm=form.cleaned_data["confirm"],
    )
    if note.replayed:
        return gettext("This note was already added.")
    return gettext("Public note added.") if public else gettext("Internal note added.")


def _run_hold(form, issue, user):
    services.issue_hold(issue=issue, actor=user, reason=form.cleaned_data["reason"])
    return gettext("Issue on hold; the resolution clock is stopped.")


def _run_resume(form, issue, user):
    services.issue_resume(issue=issue, actor=user)
    return gettext("Issue resumed; the resolution clock runs again.")


def _run_duplicate(form, issue, user):
    target = form.cleaned_data["target"]
    services.issue_mark_duplicate(issue=issue, of=target, actor=user)
    return gettext("Marked as duplicate of %(code)s; its reports moved there.") % {"code": target.tracking_code}


def _run_refer(form, issue, user):
    agency = form.cleaned_data["agency"]
    services.issue_refer(issue=issue, agency=agency, actor=user, note=form.cleaned_data["note"])
    return gettext("Referred to %(agency)s.") % {"agency": agency}


def _run_resolve(form, issue, user):
    services.issue_resolve(issue=issue, actor=user, note=form.cleaned_data["note"])
    return gettext("Issue resolved.")


def _run_crime_report(form, issue, user):
    number = form.cleaned_data["report_number"]
    services.issue_record_crime_report(issue=issue, actor=user, report_number=number, note=form.cleaned_data["note"])
    return gettext("Crime report %(number)s recorded; the issue is closed.") % {"number": number}


def _run_reopen(form, issue, user):
    services.issue_reopen(issue=issue, actor=user, reason=form.cleaned_data["reason"])
    return gettext("Issue reopened with a new due time.")


def _run_recategorize(form, issue, user):
    category = form.cleaned_data["category"]
    services.issue_recategorize(issue=issue, category=category, actor=user)
    return gettext("Category changed to %(category)s.") % {"category": category.name}


def _run_close(form, issue, user):
    services.issue_close(issue=issue, actor=user)
    return gettext("Issue closed.")


@dataclass(frozen=True)
class IssueAction:
    slug: str
    label: Any
    form_class: type[ActionForm]
    run: Callable[[ActionForm, Issue, Any], str]
    danger: bool = False

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses the action starts from (``cases.services.TRANSITIONS``)."""
        return services.TRANSITIONS[self.slug]

    def offered_for(self, issue: Issue) -> bool:
        """Offered where the service would take it (``cases.services.TRANSITIONS``)."""
        return services.issue_action_allowed(issue, self.slug)


ACTIONS: dict[str, IssueAction] = {
    action.slug: action
    for action in [
        IssueAction("acknowledge", _("Acknowledge"), EmptyActionForm, _run_acknowledge),
        IssueAction("assign", _("Assign"), AssignForm, _run_assign),
        IssueAction("approach", _("Approach"), ApproachForm, _run_approach),
        IssueAction("priority", _("Priority"), PriorityForm, _run_priority),
        IssueAction("note", _("Add a note"), NoteForm, _run_note),
        IssueAction("hold", _("Put on hold"), HoldForm, _run_hold),
        IssueAction("resume", _("Resume"), EmptyActionForm, _run_resume),
        IssueAction("duplicate", _("Mark as duplicate"), DuplicateForm, _run_duplicate),
        IssueAction("refer", _("Refer to another agency"), ReferForm, _run_refer),
        IssueAction("resolve", _("Resolve"), ResolveForm, _run_resolve),
        IssueAction("crime-report", _("Became a crime report"), CrimeReportForm, _run_crime_report, True),
        IssueAction("reopen", _("Reopen"), ReopenForm, _run_reopen),
        IssueAction("close", _("Close"), EmptyActionForm, _run_close),
        IssueAction("recategorize", _("Change category"), RecategorizeForm, _run_recategorize),
    ]
}
