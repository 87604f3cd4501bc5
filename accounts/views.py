"""Staff sign-in with a lockout after repeated failures, and sign-out.

Lockout: ``LOGIN_FAILURE_LIMIT`` failed attempts (default 5) for one username from
one IP address within ``LOGIN_FAILURE_WINDOW_SECONDS`` (default 900) lock that
username+IP pair for ``LOGIN_LOCKOUT_SECONDS`` (default 900). A second, wider
limit (``LOGIN_IP_FAILURE_LIMIT``, default 50 per window) stops one address from
spraying passwords across many usernames. Counters live in Django's cache (Redis
in the full mode and in tests), so every web process shares them and they expire
on their own.

No user enumeration: an unknown username and a wrong password get the same
message, and the lockout counts attempts whether or not the username exists; a
locked pair is refused before the password is even checked, so a correct
password during the lockout reveals nothing either.

The client address is found as for the resident form's rate limit
(``core.ratelimit.client_address``): ``REMOTE_ADDR``, or behind
``RATE_LIMIT_TRUSTED_PROXIES`` reverse proxies the address the nearest of them
appended to ``X-Forwarded-For`` — never a hop the client could have written
itself. Without that, every attempt behind the TLS proxy would come from the
proxy's address and the address-wide limit would lock out every user at once.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.permissions import STAFF_PERMISSION, SUPERVISOR_PERMISSION
from core.ratelimit import client_address

logger = logging.getLogger("commonground.accounts")


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def failure_limit() -> int:
    return _setting("LOGIN_FAILURE_LIMIT", 5)


def failure_window() -> int:
    return _setting("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)


def lockout_seconds() -> int:
    return _setting("LOGIN_LOCKOUT_SECONDS", 15 * 60)


def ip_failure_limit() -> int:
    return _setting("LOGIN_IP_FAILURE_LIMIT", 50)


def client_ip(request) -> str:
    return client_address(request).strip() or "unknown"


def _digest(value: str) -> str:
    # Keys hold a hash, not the username: cache dumps and key listings stay free of it.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _keys(username: str, ip: str) -> dict[str, str]:
    pair = _digest(f"{username.strip().casefold()}|{ip}")
    address = _digest(ip)
    return {
        "pair_failures": f"login:fail:{pair}",
        "pair_lock": f"login:lock:{pair}",
        "ip_failures": f"login:ipfail:{address}",
        "ip_lock": f"login:iplock:{address}",
    }


def _count(key: str, window: int) -> int:
    # add() is a no-op when the key exists, so the window starts at the first failure.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        return 1


def lock_remaining_seconds(username: str, ip: str) -> int:
    """Seconds left on a lock of this username+IP (or of the IP), 0 when not locked."""
    keys = _keys(username, ip)
    now = time.time()
    until = max(cache.get(keys["pair_lock"]) or 0, cache.get(keys["ip_lock"]) or 0)
    return max(0, math.ceil(until - now))


def failure_register(username: str, ip: str) -> int:
    """Count one failed attempt; lock the pair (or the IP) when a limit is reached.

    Returns the seconds of lockout now in force (0 when the attempt did not lock).
    """
    keys = _keys(username, ip)
    window, lock = failure_window(), lockout_seconds()
    pair_failures = _count(keys["pair_failures"], window)
    ip_failures = _count(keys["ip_failures"], window)
    until = time.time() + lock
    locked = 0
    if pair_failures >= failure_limit():
        cache.set(keys["pair_lock"], until, timeout=lock)
        cache.delete(keys["pair_failures"])
        locked = lock
        logger.warning("Sign-in locked for %s seconds after %s failures (ip=%s)", lock, pair_failures, ip)
    if ip_failures >= ip_failure_limit():
        cache.set(keys["ip_lock"], until, timeout=lock)
        cache.delete(keys["ip_failures"])
        locked = lock
        logger.warning("Sign-in locked for every username from ip=%s after %s failures", ip, ip_failures)
    return locked


def failures_clear(username: str, ip: str) -> None:
    """A successful sign-in forgets the pair's failures (not the IP-wide count)."""
    keys = _keys(username, ip)
    cache.delete_many([keys["pair_failures"], keys["pair_lock"]])


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-in attempts. Sign-in is locked for %(minutes)d minute; try again later.",
        "Too many failed sign-in attempts. Sign-in is locked for %(minutes)d minutes; try again later.",
        minutes,
    ) % {"minutes": minutes}


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing locked username+IP pairs before checking the password."""

    locked_seconds = 0  # set by clean() when the attempt is refused by a lock: the 429's Retry-After

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter a correct username and password (the password is case-sensitive). "
            "After %(limit)d failed attempts, sign-in is locked for %(minutes)d minutes."
        ),
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        ip = client_ip(self.request) if self.request is not None else "unknown"
        remaining = lock_remaining_seconds(username, ip)
        if remaining:
            self.locked_seconds = remaining
            raise forms.ValidationError(lockout_message(remaining), code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            locked_for = failure_register(username, ip)
            if locked_for:
                self.locked_seconds = locked_for
                raise forms.ValidationError(lockout_message(locked_for), code="locked") from None
            raise
        failures_clear(username, ip)
        return cleaned

    def get_invalid_login_error(self):
        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": failure_limit(), "minutes": max(1, lockout_seconds() // 60)},
        )


class LoginView(auth_views.LoginView):
    form_class = LockoutAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        """Without ``?next=``: supervisors land on the dashboard, officers on their queue."""
        user = self.request.user
        if user.has_perm(SUPERVISOR_PERMISSION):
            return "/dashboard/"
        if user.has_perm(STAFF_PERMISSION):
            return "/queue/"
        return super().get_default_redirect_url()

    def form_invalid(self, form):
        response = super().form_invalid(form)
        # A failed sign-in is not a success: say so to clients and tests alike.
        response.status_code = 429 if form.has_error("__all__", "locked") else 200
        if response.status_code == 429:
            # The seconds left on the lock: a client (or a password manager) knows when to retry.
            response["Retry-After"] = str(max(1, form.locked_seconds))
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link or a prefetch cannot sign anyone out."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You are signed out."))
        # What an officer's phone kept for working offline (the service worker's cached pages, the
        # entries waiting to send in IndexedDB) goes with the session: the next person to pick up
        # the device sees none of it. static/js/offline.js clears it too before the form is sent.
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
