"""Forms of the moderation actions: every one asks for a reason, kept in the audit trail."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.services.moderation import REASON_MAX, TEXT_MAX


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        help_text=_("Required. Kept in the issue's audit trail; never shown to the public."),
        error_messages={"required": _("Give a reason: it is kept in the issue's audit trail.")},
    )


class PublicTextForm(ReasonForm):
    text = forms.CharField(
        label=_("Public text"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the public reads. Emails, phone numbers and names are masked again on saving."),
        error_messages={
            "required": _("The public text cannot be empty. To take a report out of public view, hide it.")
        },
    )

    field_order = ["text", "reason"]


class ResolveForm(forms.Form):
    reason = forms.CharField(label=_("Note (optional)"), max_length=REASON_MAX, required=False)
