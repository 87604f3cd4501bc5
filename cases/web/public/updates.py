"""Following an issue by email, and stopping: the status page's form, the link that confirms it
and the link in every update (``cases.notifications.residents``).

Pages opened from an email (confirm, stop) ask before they change anything: opening the link
shows one button, so a mail scanner that follows links neither confirms nor stops. Stopping also
takes a mail client's one-click POST (RFC 8058), which comes without a cookie or a form token —
the signed link is the authority there, so that view takes no CSRF token.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cases.notifications.residents import (
    follower_confirm,
    follower_from_token,
    follower_request,
    follower_unsubscribe,
)
from cases.selectors.public import public_issue_by_code
from cases.services.fixed_checks import fixed_check_answer
from cases.web.public.forms import FollowForm
from cases.web.public.views import too_many
from core.ratelimit import rate_limit_reserve


@never_cache
@require_http_methods(["GET", "POST"])
def report_follow(request, code):
    """The status page's "tell me too" form: a confirmation link to the address given. (Opened
    rather than sent — the language switcher on its answer does that — it is the status page's form.)"""
    issue = public_issue_by_code(code)
    if issue is None:
        return render(request, "public/not_found.html", {"code": code[:40]}, status=404)
    if request.method == "GET":
        return redirect(reverse("report_status", args=[issue.tracking_code]) + "#follow")
    form = FollowForm(request.POST)
    context = {"issue": issue, "form": form}
    if not rate_limit_reserve(request, scope="follow"):
        context["limit"] = _("You have asked several times in a short time. Please wait an hour and try again.")
        return too_many(render(request, "public/follow.html", context))
    if not form.is_valid():
        return render(request, "public/follow.html", context, status=400)
    follower_request(issue=issue, email=form.cleaned_data["email"], language=get_language() or "en")
    return render(request, "public/follow.html", {**context, "sent": True})


@never_cache
@require_http_methods(["GET", "POST"])
def follow_confirm(request, token):
    follower, state = follower_confirm(token, confirm=request.method == "POST")
    status = {"ok": 200, "expired": 410, "invalid": 404}[state]
    context = {"state": state, "code": follower.issue.tracking_code if follower else ""}
    context["confirmed"] = follower is not None and follower.confirmed_at is not None
    return render(request, "public/follow_confirm.html", context, status=status)


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def updates_stop(request, token):
    follower = follower_from_token(token)
    if follower is None:
        return render(request, "public/updates_stop.html", {"invalid": True}, status=404)
    if request.method == "POST":
        follower_unsubscribe(follower)
    context = {"code": follower.issue.tracking_code, "stopped": follower.unsubscribed_at is not None}
    return render(request, "public/updates_stop.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def fixed_check_answer_view(request, token):
    """A "yes" or "no" link from the "is it fixed?" email. Opening it shows the answer about to be
    sent, which the page sends at once (``fixed-answer.js``): one click for the resident, nothing
    for a mail scanner that opens links without running scripts. Without scripts, one button."""
    result = fixed_check_answer(token, record=request.method == "POST")
    status = {"expired": 410, "invalid": 404}.get(result.state, 200)
    check = result.check
    context = {
        "state": result.state,
        "code": check.issue.tracking_code if check else "",
        "fixed": check.fixed if check and check.answered_at else None,
        # After the answer, the trust survey is offered for the issue's neighborhood.
        "neighborhood_slug": check.issue.neighborhood.slug if check and result.state == "recorded" else "",
    }
    return render(request, "public/fixed_check.html", context, status=status)
