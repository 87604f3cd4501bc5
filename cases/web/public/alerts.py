"""/alerts/ (and /es/alerts/): subscribe to a daily email of a neighborhood's new public reports
and resolutions; the emailed link that confirms it; the link in every digest that stops it
(``cases.notifications.alerts``). Pages opened from an email ask before they change anything;
stopping also takes a mail client's one-click POST (RFC 8058), so that view takes no CSRF token."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cases.notifications.alerts import (
    subscription_confirm,
    subscription_from_token,
    subscription_request,
    subscription_unsubscribe,
)
from cases.web.public.views import too_many
from core.ratelimit import rate_limit_reserve
from partners.models import Neighborhood


class AlertsForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Your email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "aria-describedby": "email-help"}),
        error_messages={
            "required": gettext_lazy("Enter your email address."),
            "invalid": gettext_lazy("Enter an email address like name@example.org."),
        },
    )
    neighborhoods = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Neighborhoods"),
        queryset=Neighborhood.objects.only("id", "name").order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one neighborhood.")},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def alerts(request):
    form = AlertsForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST":
        if not rate_limit_reserve(request, scope="alerts"):
            context["limit"] = _("You have asked several times in a short time. Please wait an hour and try again.")
            return too_many(render(request, "public/alerts.html", context))
        if not form.is_valid():
            return render(request, "public/alerts.html", context, status=400)
        subscription_request(
            email=form.cleaned_data["email"],
            neighborhoods=list(form.cleaned_data["neighborhoods"]),
            language=get_language() or "en",
        )
        context["sent"] = True
    return render(request, "public/alerts.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def alerts_confirm(request, token):
    subscription, state = subscription_confirm(token, confirm=request.method == "POST")
    status = {"ok": 200, "expired": 410, "invalid": 404}[state]
    confirmed = request.method == "POST" and subscription is not None
    names = sorted(n.name for n in subscription.neighborhoods.all()) if confirmed else []
    context = {"state": state, "confirmed": confirmed, "names": names}
    return render(request, "public/alerts_confirm.html", context, status=status)


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def alerts_stop(request, token):
    ours, subscription = subscription_from_token(token)
    if not ours:
        return render(request, "public/alerts_stop.html", {"invalid": True}, status=404)
    if subscription is None:  # stopped already
        return render(request, "public/alerts_stop.html", {"stopped": True})
    if request.method == "POST":
        subscription_unsubscribe(subscription)
        return render(request, "public/alerts_stop.html", {"stopped": True})
    return render(request, "public/alerts_stop.html", {"stopped": False})
