"""Choosing the language: the switcher on every page, and the staff member's profile page.

The switcher posts here (Django's ``set_language``, which sets the cookie and, on a public page,
goes to the same page in the chosen language); for a signed-in staff member the choice is also
their profile's, so it holds on every device they sign in on (``core.language``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from core.language import language_remember, supported
from partners.models import StaffProfile

LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]


def _profile_language_save(user, code: str) -> None:
    StaffProfile.objects.filter(user=user).update(language=code)


@require_POST
def language_set(request):
    response = set_language(request)
    code = supported(request.POST.get("language"))
    if code and response.status_code in (200, 302):
        language_remember(request, response, code)
        if request.user.is_authenticated:
            _profile_language_save(request.user, code)
    return response


class ProfileForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the pages and emails"),
        choices=LANGUAGE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose a language."),
            "invalid_choice": gettext_lazy("Choose a language."),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person's profile: the language of their pages and emails, and the password."""
    stored = StaffProfile.objects.filter(user=request.user).values_list("language", flat=True).first()
    form = ProfileForm(request.POST or None, initial={"language": stored or translation.get_language()})
    if request.method == "POST":
        if not form.is_valid():
            return render(
                request, "registration/profile.html", {"form": form, "has_profile": stored is not None}, status=400
            )
        code = form.cleaned_data["language"]
        _profile_language_save(request.user, code)
        translation.activate(code)
        messages.success(
            request,
            _("Saved: your pages and emails are now in English.")
            if code == "en"
            else _("Saved: your pages and emails are now in Spanish."),
        )
        response = redirect("profile")
        language_remember(request, response, code)
        return response
    return render(request, "registration/profile.html", {"form": form, "has_profile": stored is not None})
