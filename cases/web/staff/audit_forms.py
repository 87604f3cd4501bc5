"""Forms of the audit trail: why contact details are revealed, and the audit log's filters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cases.models import Event, tracking_code_normalize
from cases.selectors.audit import AUDIT_ACTIONS, SYSTEM_ACTOR, audit_actor_choices, cursor_parse

RevealReason = Event.RevealReason
REASON_MAX = 300
# Dates outside these make no sense for the log (and the day after date.max does not exist).
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)


class ContactRevealForm(forms.Form):
    """The issue page's "Show contact details": a POST with the reason, recorded before showing them."""

    reason_code = forms.ChoiceField(
        label=_("Why do you need them?"),
        choices=[("", _("Choose a reason…")), *RevealReason.choices],
        error_messages={"required": _("Choose why you need the contact details.")},
    )
    reason_other = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=REASON_MAX,
        help_text=_("Required when the reason is “Other”."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reveal_%s")
        super().__init__(*args, **kwargs)
        self.fields["reason_other"].widget.attrs["aria-describedby"] = "id_reveal_reason_other_help"

    def clean(self):
        cleaned = super().clean()
        cleaned["reason_other"] = (cleaned.get("reason_other") or "").strip()
        if cleaned.get("reason_code") == RevealReason.OTHER and not cleaned["reason_other"]:
            self.add_error("reason_other", _("Say why you need the contact details."))
        return cleaned

    def service_kwargs(self) -> dict:
        """``reason`` in English (the audit log translates the chosen reason back), and its code."""
        code = self.cleaned_data["reason_code"]
        details = self.cleaned_data["reason_other"]
        if code == RevealReason.OTHER:
            reason = details
        else:
            with translation.override("en"):
                reason = str(RevealReason(code).label)
            if details:
                reason = f"{reason}: {details}"[:REASON_MAX]
        return {"reason": reason, "reason_code": code}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditFilterForm(forms.Form):
    """GET filters of /audit/ and /audit/export.csv; the keyset cursors ride along.

    The "who" filter exists only for readers of the whole log (the others see their own).
    Invalid input is reported beside its field and the page then lists nothing, so a
    mistyped filter is never mistaken for "no such entries".
    """

    ACTION_CHOICES = [
        ("", _("Any action")),
        ("reveal", _("Contact details shown")),
        ("moderation", _("Moderation")),
        ("erasure", _("Contact details erased (retention)")),
    ]

    who = forms.ChoiceField(label=_("Who"), required=False)
    action = forms.ChoiceField(label=_("Action"), choices=ACTION_CHOICES, required=False)
    issue = forms.CharField(
        label=_("Issue tracking code"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "CG-ABCD-2345", "autocomplete": "off"}),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    before = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    after = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)

    FILTERS = ("who", "action", "issue", "date_from", "date_to")

    def __init__(self, *args, whole_log: bool, **kwargs):
        kwargs.setdefault("auto_id", "id_audit_%s")
        super().__init__(*args, **kwargs)
        if whole_log:
            self.fields["who"].choices = [
                ("", _("Anyone")),
                (SYSTEM_ACTOR, _("System (retention)")),
                *audit_actor_choices(),
            ]
        else:
            del self.fields["who"]

    def clean_issue(self):
        text = self.cleaned_data["issue"].strip()
        if not text:
            return ""
        code = tracking_code_normalize(text)
        if code is None:
            raise forms.ValidationError(_("Enter a tracking code like CG-ABCD-2345."))
        return code

    def _clean_cursor(self, name):
        value = self.cleaned_data[name]
        if not value:
            return None
        cursor = cursor_parse(value)
        if cursor is None:
            raise forms.ValidationError(_("This page link is not valid; start again from the newest entries."))
        return cursor

    def clean_before(self):
        return self._clean_cursor("before")

    def clean_after(self):
        return self._clean_cursor("after")

    def _clean_date(self, name):
        day = self.cleaned_data[name]
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(_("Enter a date between 1900 and 9998."))
        return day

    def clean_date_from(self):
        return self._clean_date("date_from")

    def clean_date_to(self):
        return self._clean_date("date_to")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("“To” must be on or after “From”."))
        if cleaned.get("before") and cleaned.get("after"):
            raise forms.ValidationError(_("This page link is not valid; start again from the newest entries."))
        return cleaned

    @staticmethod
    def _day_start(day) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    def selector_kwargs(self) -> dict:
        """Keyword arguments for ``audit_events_filtered`` (call only when the form is valid)."""
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        return {
            "who": data.get("who", ""),
            "action": data.get("action") or "",
            "tracking_code": data.get("issue") or "",
            "since": self._day_start(start) if start else None,
            # "To" is a whole day in the site's time zone: up to the next day's start.
            "until": self._day_start(end + timedelta(days=1)) if end else None,
        }

    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.FILTERS)


assert set(dict(AuditFilterForm.ACTION_CHOICES)) - {""} == set(AUDIT_ACTIONS)
