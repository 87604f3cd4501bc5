"""Public pages: the resident's report form, the status page, the code lookup.

Views parse input and call one service or selector. The form works with
JavaScript off: the "is this the same problem?" question is then asked on a
second, server-rendered step before anything is saved.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cases.models import TRACKING_ALPHABET, Category, Issue
from cases.photos import photo_stash, photo_stash_discard, public_photo_path
from cases.selectors.moderation import issue_public_photos
from cases.selectors.public import (
    SAME_PROBLEM_RADIUS_M,
    category_groups,
    feedback_is_open,
    neighborhood_outlines,
    public_categories,
    public_issue_by_code,
    public_location,
    public_neighborhoods,
    public_timeline,
    same_problem_candidates,
)
from cases.services import feedback_submit, issue_submit
from cases.web.public.forms import HONEYPOT_FIELD, FeedbackForm, FollowForm, ReportForm
from core.ratelimit import rate_limit_consume, rate_limit_exceeded, rate_limit_reserve, rate_limit_retry_after
from core.text import whole_number
from partners.models import Neighborhood

SUBMITTED_COOKIE = "cg_submitted"
_SUBMITTED_SALT = "cases.public.submitted"
_SUBMITTED_MAX_AGE = 30 * 60

# Service error keys → the form field the message belongs beside.
_SERVICE_FIELD = {
    "description": "description",
    "category": "category",
    "join_issue": "same_issue",
    "photo": "photo",
    "reporter_email": "reporter_email",
}


def _limit_message():
    return _(
        "You have sent several reports in a short time. To protect this service from abuse, "
        "please wait an hour and try again. For an emergency, call 911."
    )


def too_many(response):
    """A 429 says when the window resets, so a resident's browser or a client can wait that long."""
    response.status_code = 429
    response["Retry-After"] = str(rate_limit_retry_after())
    return response


def _render_form(request, form, *, status=200, candidates=None, photo_token="", form_error=""):
    categories = public_categories()
    selected_category = form["category"].value() if form.is_bound else form.initial.get("category")
    selected_neighborhood = form["neighborhood"].value() if form.is_bound else form.initial.get("neighborhood", "")
    context = {
        "form": form,
        "category_groups": category_groups(categories),
        "selected_category": str(selected_category or ""),
        "neighborhoods": list(public_neighborhoods()),
        "selected_neighborhood": str(selected_neighborhood or ""),
        "candidates": candidates,
        "candidate_category": form.cleaned_data.get("category") if candidates else None,
        "selected_same_issue": form["same_issue"].value() if form.is_bound else "",
        "photo_token": photo_token,
        "form_error": form_error,
        "honeypot_field": HONEYPOT_FIELD,
        "radius_m": SAME_PROBLEM_RADIUS_M,
    }
    return render(request, "public/report_form.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def report_form(request):
    if request.method == "GET":
        initial = {}
        wanted = whole_number(request.GET.get("category"), max_digits=11)
        if wanted is not None:
            initial["category"] = str(wanted)
        return _render_form(request, ReportForm(initial=initial))
    return _report_post(request)


def _report_post(request):
    # Counted now, in one cache call, and given back below wherever the form goes back unsaved:
    # only reports that are saved (and the honeypot's catches) count.
    reservation = rate_limit_reserve(request, scope="report")
    if not reservation:
        return too_many(_render_form(request, ReportForm(request.POST), form_error=_limit_message()))
    if request.POST.get(HONEYPOT_FIELD):
        # Counted like a report, so a bot that keeps trying is soon refused outright.
        return _render_form(
            request, ReportForm(), status=400, form_error=_("Your report could not be sent. Please try again.")
        )

    form = ReportForm(request.POST, request.FILES)
    previous_token = request.POST.get("photo_token", "")
    valid = form.is_valid()
    candidates = None
    join = None
    if valid:
        data = form.cleaned_data
        wants_to_know = data["same_issue"] == "" or data["same_issue"] != "new"
        if wants_to_know:
            candidates = same_problem_candidates(
                category=data["category"],
                lat=data.get("lat"),
                lng=data.get("lng"),
                neighborhood=None if data.get("lat") is not None else data.get("neighborhood"),
            )
        if data["same_issue"] not in ("", "new"):
            join = next((c for c in candidates if c.tracking_code == data["same_issue"]), None)
            if join is None:
                form.add_error(
                    "same_issue",
                    _("That issue is no longer open near this place. Choose another one or send a new report."),
                )
                valid = False
        elif data["same_issue"] == "" and candidates:
            # Ask before saving: the resident answers on this second step.
            reservation.release()
            return _render_form(request, form, candidates=candidates, photo_token=_keep_photo(form, previous_token))
    if not valid:
        reservation.release()
        if candidates is None:
            candidates = _candidates_despite_errors(form)
        return _render_form(request, form, candidates=candidates, photo_token=_keep_photo(form, previous_token))

    data = form.cleaned_data
    try:
        report = issue_submit(
            category=data["category"],
            text=data["description"],
            language=(get_language() or "en")[:8],
            lat=data.get("lat"),
            lng=data.get("lng"),
            address=data.get("address", ""),
            neighborhood=data.get("neighborhood"),
            anonymous=bool(data.get("anonymous")),
            reporter_name=data.get("reporter_name", ""),
            reporter_email=data.get("reporter_email", ""),
            reporter_phone=data.get("reporter_phone", ""),
            contact_consent=bool(data.get("contact_consent")),
            photo=form.photo_content,
            join_issue=Issue.objects.get(tracking_code=join.tracking_code) if join else None,
            actor=request.user,
            with_message_key=True,
        )
    except ValidationError as error:
        _service_errors_to_form(form, error)
        return _render_form(request, form, candidates=candidates, photo_token=_keep_photo(form, previous_token))
    if previous_token:
        photo_stash_discard(previous_token)
    issue = report.issue
    # Straight to the response: redirect() would first try the URL itself as a view name.
    status_url = _status_url(issue.tracking_code)
    response = HttpResponseRedirect(status_url)
    # The private message key rides to the confirmation in this signed, HttpOnly cookie — the one
    # place it exists outside the resident's hands — sent only to that status page, which deletes
    # it as it shows it: no other request of the browser carries the key.
    response.set_signed_cookie(
        SUBMITTED_COOKIE,
        json.dumps({"code": issue.tracking_code, "joined": join is not None, "key": report.message_key}),
        salt=_SUBMITTED_SALT,
        max_age=_SUBMITTED_MAX_AGE,
        path=status_url,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


# The status page's address differs from one report to the next in the code alone: reverse() walks
# the URL patterns on every call, so what stands around the code is worked out once per URLconf,
# script prefix and language. A code of other characters (never one of ours) goes through reverse().
_CODE_PLACEHOLDER = "CG-0000-0000"  # no "0" in a tracking code
_CODE_CHARS = frozenset(TRACKING_ALPHABET + "-")
_status_url_parts: dict[tuple, tuple[str, str]] = {}


def _status_url(code: str) -> str:
    """``reverse("report_status", kwargs={"code": code})``."""
    if not _CODE_CHARS.issuperset(code):
        return reverse("report_status", kwargs={"code": code})
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())
    parts = _status_url_parts.get(key)
    if parts is None:
        prefix, _placeholder, suffix = reverse("report_status", kwargs={"code": _CODE_PLACEHOLDER}).partition(
            _CODE_PLACEHOLDER
        )
        parts = _status_url_parts[key] = (prefix, suffix)
    return parts[0] + code + parts[1]


# What a refused form may carry back to the resident: everything they typed, except the photo
# (a file input cannot be filled in again, and nothing from a refused request is stored).
_REFILL_FIELDS = (
    "category",
    "description",
    "lat",
    "lng",
    "address",
    "neighborhood",
    "anonymous",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "contact_consent",
)
_REFILL_MAX_CHARS = 10_000


def report_form_after_csrf_failure(request):
    """The form again, filled in, after a failed CSRF check (config.errors.csrf_failure).

    The page was open too long or a cookie went missing: the resident did nothing
    wrong and must not lose what they typed. Nothing is validated or saved; the
    page carries a fresh token, so sending it again works. Status 403: the request
    itself was refused.
    """
    blank = ReportForm()
    initial = {}
    for name in _REFILL_FIELDS:
        value = blank.fields[name].widget.value_from_datadict(request.POST, {}, name)
        initial[name] = value[:_REFILL_MAX_CHARS] if isinstance(value, str) else value
    had_photo = bool(request.FILES.get("photo") or request.POST.get("photo_token"))
    message = _(
        "For your security, the form works only for a limited time and needs cookies, and this one had "
        "expired. We kept what you typed: check it and send it again."
    )
    if had_photo:
        # Outside the f-string: makemessages does not find a gettext call inside one.
        photo_lost = _("Your photo could not be kept: please attach it again.")
        message = f"{message} {photo_lost}"
    return _render_form(request, ReportForm(initial=initial), status=403, form_error=message)


def _candidates_despite_errors(form):
    """Keep the "same problem" question and its answer on screen while other fields are corrected."""
    data = form.cleaned_data
    if data.get("category") is None or data.get("same_issue") == "new":
        return None
    if any(form.errors.get(name) for name in ("lat", "lng", "neighborhood")):
        return None
    if data.get("lat") is None and data.get("neighborhood") is None:
        return None
    return same_problem_candidates(
        category=data["category"],
        lat=data.get("lat"),
        lng=data.get("lng"),
        neighborhood=None if data.get("lat") is not None else data.get("neighborhood"),
    )


def _keep_photo(form, previous_token: str) -> str:
    """The token that keeps an accepted photo across a re-displayed form (see photos.photo_stash)."""
    if form.photo_content is None:
        if previous_token:
            photo_stash_discard(previous_token)
        return ""
    if form.cleaned_data.get("photo") if hasattr(form, "cleaned_data") else False:
        # A new file came with this round: keep it, let the older one go.
        if previous_token:
            photo_stash_discard(previous_token)
        return photo_stash(form.photo_content)
    return previous_token


def _service_errors_to_form(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, errors in error.message_dict.items():
        if key == "location":
            field = "lat" if form.cleaned_data.get("lat") is not None else "neighborhood"
        else:
            field = _SERVICE_FIELD.get(key)
        for message in errors:
            form.add_error(field, message)


@require_GET
def report_same_problem(request):
    """The "is this the same problem?" list for the chosen category and point (HTML fragment for the form)."""
    category = whole_number(request.GET.get("category"), max_digits=12)
    lat = float_param(request.GET.get("lat"), 90)
    lng = float_param(request.GET.get("lng"), 180)
    neighborhood_id = whole_number(request.GET.get("neighborhood"), max_digits=12)
    if category is None:
        return HttpResponseBadRequest("category is required")
    category = Category.objects.filter(pk=category, is_active=True).first()
    if category is None:
        return HttpResponse("")
    neighborhood = None
    if lat is None or lng is None:
        lat = lng = None
        if neighborhood_id is not None:
            neighborhood = Neighborhood.objects.filter(pk=neighborhood_id).first()
    candidates = same_problem_candidates(category=category, lat=lat, lng=lng, neighborhood=neighborhood)
    if not candidates:
        return HttpResponse("")
    return render(
        request,
        "public/_same_problem.html",
        {"candidates": candidates, "candidate_category": category, "selected_same_issue": "", "in_form": True},
    )


def float_param(value, bound):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or not -bound <= number <= bound:
        return None
    return number


@require_GET
@cache_control(public=True, max_age=300)
def neighborhoods_geojson(request):
    """Neighborhood outlines for the form's map (drawn even when no map tiles are configured)."""
    return JsonResponse(neighborhood_outlines())


def _not_found(request, code=""):
    return render(request, "public/not_found.html", {"code": code[:40]}, status=404)


@never_cache
@require_GET
def report_lookup(request):
    code = request.GET.get("code", "").strip()
    if not code:
        return render(request, "public/lookup.html", {"code": ""})
    issue = public_issue_by_code(code)
    if issue is None:
        return _not_found(request, code)
    return redirect(reverse("report_status", kwargs={"code": issue.tracking_code}))


def public_photo_links(issue) -> list[str]:
    """URL paths of the issue's approved public photo copies, oldest first."""
    if not (issue.category.is_public and getattr(issue, "has_public_photos", True)):
        return []
    return [public_photo_path(report.pk, report.public_photo.name) for report in issue_public_photos(issue)]


@never_cache
@require_http_methods(["GET", "POST"])
def report_status(request, code):
    issue = public_issue_by_code(code)
    if issue is None:
        return _not_found(request, code)
    status = 200
    feedback_form = FeedbackForm() if feedback_is_open(issue) else None
    feedback_error = ""
    if request.method == "POST":
        if feedback_form is None:
            feedback_error = _("Feedback is asked once the issue is resolved.")
            status = 400
        elif request.POST.get(HONEYPOT_FIELD):
            rate_limit_consume(request, scope="feedback")
            feedback_error = _("Your answer could not be sent. Please try again.")
            status = 400
        elif rate_limit_exceeded(request, scope="feedback") or not rate_limit_consume(request, scope="feedback"):
            feedback_error = _limit_message()
            status = 429
        else:
            feedback_form = FeedbackForm(request.POST)
            if feedback_form.is_valid():
                data = feedback_form.cleaned_data
                try:
                    feedback_submit(
                        issue=issue, fixed=data["fixed"], satisfaction=data["satisfaction"], comment=data["comment"]
                    )
                except ValidationError as error:
                    feedback_error = " ".join(error.messages)
                    status = 400
                else:
                    if data["fixed"]:
                        messages.success(request, _("Thank you for telling us."))
                    else:
                        messages.success(
                            request, _("Thank you for telling us. We have reopened it and will look at it again.")
                        )
                    # Back to the page, which then offers the trust survey (``pulse_invite``).
                    return redirect(reverse("report_status", kwargs={"code": issue.tracking_code}) + "?feedback=sent")
    submitted = _submitted_notice(request, issue)
    response = render(
        request,
        "public/report_status.html",
        {
            "issue": issue,
            "timeline": public_timeline(issue),
            # Only approved public copies (cases.selectors.moderation); none for sensitive categories.
            "photos": public_photo_links(issue),
            "location": public_location(issue),
            "boundary_json": issue.neighborhood.boundary or None,
            "feedback_form": feedback_form,
            "feedback_error": feedback_error,
            "submitted": submitted,
            "honeypot_field": HONEYPOT_FIELD,
            "is_open": issue.is_open,
            # Anyone may follow it by email (a duplicate is followed under the issue it joined).
            "follow_form": None if issue.duplicate_of_id else FollowForm(),
            "pulse_invite": request.method == "GET" and request.GET.get("feedback") == "sent",
        },
        status=status,
    )
    if status == 429:
        too_many(response)
    if submitted:
        response.delete_cookie(SUBMITTED_COOKIE, path=request.path, samesite="Lax")
    return response


def _submitted_notice(request, issue):
    """The confirmation shown once, right after this browser filed the report."""
    raw = request.get_signed_cookie(SUBMITTED_COOKIE, default=None, salt=_SUBMITTED_SALT, max_age=_SUBMITTED_MAX_AGE)
    if not raw:
        return None
    try:
        notice = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(notice, dict) or notice.get("code") != issue.tracking_code:
        return None
    key = notice.get("key")
    return {"joined": bool(notice.get("joined")), "message_key": key if isinstance(key, str) else ""}
