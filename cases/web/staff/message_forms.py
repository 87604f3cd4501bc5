"""Forms of the anonymous messages: the resident's message and the officer's reply.

The text is checked by the service (``cases.services.messages``: not empty, at most
2000 characters, no control characters); these forms only read it and carry the
service's error back beside the field.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.services.messages import MESSAGE_MAX_CHARS
from cases.web.public.forms import _AccessibleFormMixin


class ResidentMessageForm(_AccessibleFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        help_text=_(
            "Up to 2000 characters. You do not need to give your name or contact details. For an emergency, call 911."
        ),
        # No max_length here: the service says how long the text was, in the resident's language.
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MESSAGE_MAX_CHARS, "spellcheck": "true"}),
    )


class StaffReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply to the resident"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX_CHARS}),
    )
