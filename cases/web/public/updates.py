"""Stopping an issue's update emails: the link in every update (``cases.notifications.residents``).

The page (GET) says which report the emails are about and offers one button; opening the link
changes nothing, so a mail scanner that follows links cannot stop them. A POST stops them: the
button, or a mail client's one-click unsubscribe (RFC 8058), which posts without a cookie or a
form token — the signed link is the authority, so the view takes no CSRF token.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cases.notifications.residents import follower_from_token, follower_unsubscribe


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
