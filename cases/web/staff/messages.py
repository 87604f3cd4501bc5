"""Anonymous two-way messages: the resident's side (under /report/<code>/messages/) and the staff reply.

The resident unlocks a conversation with the report's private message key (shown
once, at submit). A right key and a wrong one do the same work — the key's hashes,
one indexed query — and get the same kind of answer: a 303 redirect that sets (or
clears) the unlock cookie. Right: to the conversation; wrong: back to the status
page with "That key does not match", which says nothing of whether the tracking
code exists. Tries are counted per client address (hashed, as ``core.ratelimit``
does) and for every client together, before the key is looked at, so a refusal
(429) cannot tell a right key from a wrong one either.

The unlock cookie holds the report's id and its key's hash, signed, for
``MESSAGE_UNLOCK_SECONDS``; HttpOnly, SameSite=Strict, Secure in production, and
sent only to the conversation's own paths (one per language). The conversation
page is never cached and sends no referrer. Nothing about the sender — address,
browser — is written anywhere.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.signing import BadSignature
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import Report, ResidentMessage, tracking_code_normalize
from cases.selectors import issue_for_user
from cases.selectors.messages import can_reply_to_residents, message_threads
from cases.services import (
    report_for_message_key,
    resident_message_send,
    resident_messages_mark_read,
    staff_replies_mark_read,
    staff_reply_send,
)
from cases.web.staff.message_forms import ResidentMessageForm, StaffReplyForm
from core.forms import form_add_service_errors
from core.permissions import staff_required
from core.ratelimit import rate_limit_reserve, rate_limit_reserve_shared, rate_limit_retry_after

UNLOCK_COOKIE = "cg_messages"
_UNLOCK_SALT = "cases.messages.unlock"


class HttpResponseSeeOther(HttpResponseRedirect):
    """303: after a POST, the browser fetches the next page with GET."""

    status_code = 303


def _code_of(code: str) -> str:
    """The tracking code as the URLs spell it (what was typed, when it is not a code at all)."""
    return tracking_code_normalize(code) or code[:40]


def _thread_url(code: str) -> str:
    return reverse("report_messages", kwargs={"code": code})


def _thread_paths(code: str) -> list[tuple[str, str]]:
    """(cookie name, path) of the conversation in every language: /report/…/messages/, /es/report/…/messages/.

    One cookie per path, each named for its language: a response holds one cookie per name.
    """
    paths = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            path = _thread_url(code)
        name = UNLOCK_COOKIE if language == settings.LANGUAGE_CODE else f"{UNLOCK_COOKIE}_{language}"
        paths.append((name, path))
    return paths


def _private(response):
    """What the conversation's pages send: nothing to caches, no Referer header to another site.

    ``same-origin``, not ``no-referrer``: under ``no-referrer`` Chromium sends ``Origin: null``
    with the page's own form POSTs, and Django's CSRF check refuses them. Nothing leaves the
    site either way (the pages link nowhere else), and no URL here holds a secret: the key
    travels only in POST bodies.
    """
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _set_unlock(response, request, *, code: str, report: Report) -> None:
    value = json.dumps({"r": report.pk, "h": report.message_key_hash, "c": code})
    for name, path in _thread_paths(code):
        response.set_signed_cookie(
            name,
            value,
            salt=_UNLOCK_SALT,
            max_age=settings.MESSAGE_UNLOCK_SECONDS,
            path=path,
            httponly=True,
            samesite="Strict",
            secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
        )


def _clear_unlock(response, *, code: str) -> None:
    for name, path in _thread_paths(code):
        response.delete_cookie(name, path=path, samesite="Strict")


def _unlocked_report(request, code: str) -> Report | None:
    """The report whose conversation this browser unlocked for this code, or None."""
    # The browser sends only the cookie whose path is this page's.
    names = [name for name, _path in _thread_paths(code) if name in request.COOKIES]
    if not names:
        return None
    try:
        raw = request.get_signed_cookie(names[0], salt=_UNLOCK_SALT, max_age=settings.MESSAGE_UNLOCK_SECONDS)
        unlocked = json.loads(raw)
        report_id, key_hash, unlocked_code = int(unlocked["r"]), str(unlocked["h"]), str(unlocked["c"])
    except (KeyError, BadSignature, ValueError, TypeError):
        return None
    if unlocked_code != code or not key_hash:
        return None
    report = (
        Report.objects.select_related("issue")
        .only("id", "language", "message_key_hash", "issue_id", "issue__id", "issue__tracking_code")
        .filter(pk=report_id)
        .first()
    )
    # A key made again (or a report gone) ends the conversations unlocked with the old one.
    if report is None or not hmac.compare_digest(report.message_key_hash, key_hash):
        return None
    return report


def _too_many(request, code: str, *, rate: str, text: str):
    response = render(request, "public/messages_limit.html", {"code": code, "text": text}, status=429)
    response["Retry-After"] = str(rate_limit_retry_after(rate=rate))
    return _private(response)


def _tries_message() -> str:
    return _(
        "There have been too many tries of private keys. To protect residents' conversations, "
        "please wait an hour and try again. For an emergency, call 911."
    )


@never_cache
@require_POST
def message_unlock(request, code):
    """The key form's POST: the same work and the same kind of answer, right key or wrong."""
    code = _code_of(code)
    # Counted before the key is looked at: a refusal says nothing about the key.
    if not rate_limit_reserve(request, scope="message_key", rate=settings.MESSAGE_KEY_RATE_LIMIT):
        return _too_many(request, code, rate=settings.MESSAGE_KEY_RATE_LIMIT, text=_tries_message())
    if not rate_limit_reserve_shared(scope="message_key_all", rate=settings.MESSAGE_KEY_GLOBAL_RATE_LIMIT):
        return _too_many(request, code, rate=settings.MESSAGE_KEY_GLOBAL_RATE_LIMIT, text=_tries_message())
    report = report_for_message_key(tracking_code=code, key=request.POST.get("key", ""))
    if report is None:
        # To the error summary itself: the browser focuses a fragment's (focusable) target, so the
        # message is read first even without JavaScript; a fragment on the section would take the
        # focus away from the summary again.
        response = HttpResponseSeeOther(reverse("report_status", kwargs={"code": code}) + "?key=wrong#error-summary")
        _clear_unlock(response, code=code)
    else:
        response = HttpResponseSeeOther(_thread_url(code))
        _set_unlock(response, request, code=code, report=report)
    return _private(response)


def _locked_out(code: str):
    return _private(HttpResponseSeeOther(reverse("report_status", kwargs={"code": code}) + "?key=locked#error-summary"))


@never_cache
@require_http_methods(["GET", "POST"])
def message_thread(request, code):
    """The conversation: the messages in order, and a form to write another."""
    code = _code_of(code)
    report = _unlocked_report(request, code)
    if report is None:
        return _locked_out(code)
    status = 200
    form = ResidentMessageForm()
    if request.method == "POST":
        form = ResidentMessageForm(request.POST)
        # Per key: the report's id names the count; nothing about the sender does.
        sending = rate_limit_reserve_shared(
            scope="message_send", rate=settings.MESSAGE_SEND_RATE_LIMIT, identity=f"report{report.pk}"
        )
        if not sending:
            return _too_many(
                request,
                code,
                rate=settings.MESSAGE_SEND_RATE_LIMIT,
                text=_(
                    "You have sent many messages today. Please wait until tomorrow to write again. "
                    "For an emergency, call 911."
                ),
            )
        if form.is_valid():
            try:
                resident_message_send(report=report, body=form.cleaned_data["body"], language=get_language() or "en")
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                messages.success(request, _("Your message was sent. An officer will read it."))
                return _private(HttpResponseSeeOther(_thread_url(code)))
        # Only messages sent count: one sent back for correction gives its use back.
        sending.release()
        status = 400
    thread = list(
        ResidentMessage.objects.filter(report_id=report.pk)
        .only("id", "direction", "body", "created_at", "read_at")
        .order_by("created_at", "id")
    )
    if request.method == "GET":
        staff_replies_mark_read(report=report)
    response = render(
        request,
        "public/messages_thread.html",
        {"code": code, "thread": thread, "form": form, "report": report},
        status=status,
    )
    return _private(response)


@never_cache
@require_POST
def message_lock(request, code):
    """Close the conversation on this device (a shared phone, a library computer)."""
    code = _code_of(code)
    response = HttpResponseSeeOther(reverse("report_status", kwargs={"code": code}) + "?key=closed#messages")
    _clear_unlock(response, code=code)
    return _private(response)


@staff_required
@require_POST
def issue_message_reply(request, pk, report_pk):
    """An officer's reply to a report's key holder, from the issue page (403 outside their scope)."""
    issue = issue_for_user(request.user, pk)
    report = get_object_or_404(
        Report.objects.only("id", "issue_id", "language", "message_key_hash"), pk=report_pk, issue=issue
    )
    form = StaffReplyForm(request.POST)
    form.is_valid()
    anchor = f"{issue.get_absolute_url()}#messages-{report.pk}"
    try:
        staff_reply_send(report=report, body=form.cleaned_data.get("body", ""), actor=request.user)
    except ValidationError as error:
        messages.error(request, _("Your reply was not sent: %(problems)s") % {"problems": " ".join(error.messages)})
        from cases.web.staff.views import _render_detail

        return _render_detail(
            request, issue, status=400, reply={"report_id": report.pk, "body": form.cleaned_data.get("body", "")}
        )
    messages.success(request, _("Your reply was sent. The resident reads it with their private key."))
    return HttpResponseSeeOther(anchor)


def issue_message_context(request, issue, reports, *, reply=None) -> dict:
    """The issue page's "Messages with residents": its threads, and whether this user may reply.

    Seeing them here, as someone who works the issue, marks the residents' messages read
    (the page still shows which were new this time).
    """
    threads = message_threads(request.user, reports, reply=reply)
    if any(thread.unread for thread in threads):
        resident_messages_mark_read(issue=issue, reports=[thread.report for thread in threads], user=request.user)
    return {
        "message_threads": threads,
        "may_reply_to_residents": bool(threads) and can_reply_to_residents(request.user, issue),
        "reply_form": StaffReplyForm(),
    }
