"""Outreach log pages: thin — parse the form, call a selector or a service, render."""

from __future__ import annotations

import csv
from dataclasses import replace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.client_keys import Conflict, answers_json, conflict_json, created_json, invalid_json
from core.exports import csv_cell, export_headings
from core.pagination import count_cap_for, page_from_request
from core.permissions import perm_required, staff_required
from outreach import selectors
from outreach.cards import activity_items
from outreach.forms import ActivityFilterForm, ActivityForm
from outreach.services import activity_create, activity_update
from partners.selectors import area_shown

PAGE_SIZE = 25
EXPORT_CHUNK = 500

log_required = perm_required("outreach.add_activity")
export_required = perm_required("cases.export_data")


def _form_page(request, form, activity, status):
    context = {"form": form, "activity": activity}
    return render(request, "outreach/activity_form.html", context, status=status)


def _filters(request):
    """The filter form, the filters, and the "my area / whole city" switch: the list and its
    export show the same activities."""
    form = ActivityFilterForm(request.GET or None)
    filters = form.to_filters()
    area, switch = area_shown(request.user, request.GET, place_params=("neighborhood",))
    if area is not None:
        filters = replace(filters, neighborhood_ids=area.neighborhood_ids)
    return form, filters, switch


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_required
@require_GET
def activity_list(request):
    form, filters, switch = _filters(request)
    activities = selectors.activity_list(request.user, filters)
    # The totals above the list count every matching activity, so the page needs no count of its own.
    page = page_from_request(request, activities, ("-starts_at", "-id"), size=PAGE_SIZE, count_cap=None)
    return render(
        request,
        "outreach/activity_list.html",
        {
            "form": form,
            "area": switch,
            "page": page,
            "items": activity_items(page.object_list),
            "totals": selectors.activity_totals_capped(activities, count_cap_for(PAGE_SIZE)),
            "query": _query_without_page(request),
            "can_export": request.user.has_perm("cases.export_data"),
        },
    )


class _Echo:
    """A file-like object csv.writer writes to; each row goes straight to the response."""

    def write(self, value):
        return value


EXPORT_HEADER = [
    "id",
    "kind",
    "title",
    "starts_at",
    "ends_at",
    "neighborhood",
    "beat",
    "district",
    "place",
    "officers",
    "partners",
    "attendance",
    "officer_hours",
    "languages",
    "issues",
    "follow_up_needed",
]


def _export_rows(activities, headings):
    yield headings
    for a in activities:
        yield [
            a.pk,
            a.kind,
            a.title,
            timezone.localtime(a.starts_at).isoformat(timespec="minutes"),
            timezone.localtime(a.ends_at).isoformat(timespec="minutes"),
            a.neighborhood.name,
            a.neighborhood.beat,
            a.neighborhood.district,
            a.place,
            "; ".join(u.get_full_name() or u.get_username() for u in a.officer_list),
            "; ".join(p.name for p in a.partner_list),
            a.attendance,
            a.hours,
            " ".join(a.languages or []),
            " ".join(i.tracking_code for i in a.issues.all()),
            "yes" if a.follow_up_needed else "no",
        ]


@export_required
@require_GET
def activity_export(request):
    """The filtered outreach log as CSV, streamed. No notes (free text) and no one's contact details."""
    _form, filters, _switch = _filters(request)
    activities = (
        selectors.activity_list(request.user, filters).prefetch_related("issues").iterator(chunk_size=EXPORT_CHUNK)
    )
    headings = export_headings(EXPORT_HEADER, request.GET)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        # The headings are translated here, in the request's language (the rows stream after it).
        (writer.writerow([csv_cell(v) for v in row]) for row in _export_rows(activities, headings)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="outreach-{stamp}.csv"'
    return response


@log_required
@require_http_methods(["GET", "POST"])
def activity_new(request):
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                activity = activity_create(
                    actor=request.user, client_key=form.cleaned_data["client_key"], **form.service_kwargs()
                )
            except ValidationError as error:
                form.add_service_error(error)
            except Conflict as conflict:
                if answers_json(request):
                    return conflict_json(conflict)
                form.add_error(None, conflict.message)
                return _form_page(request, form, None, 409)
            else:
                if activity.replayed:
                    messages.info(request, _("This outreach activity was already logged."))
                else:
                    messages.success(request, _("Outreach activity logged."))
                if answers_json(request):
                    # static/js/offline.js sent it (the form online, or the device's queue): it opens
                    # ``url`` itself, where the message shows.
                    return created_json(activity, url=activity.get_absolute_url())
                return redirect(activity.get_absolute_url())
        if answers_json(request):
            return invalid_json(form)
        status = 400
    else:
        form = ActivityForm(
            initial=ActivityForm.initial_for_new(request.user, problem_id=request.GET.get("problem")), user=request.user
        )
        status = 200
    return _form_page(request, form, None, status)


@staff_required
@require_GET
def activity_detail(request, pk):
    activity = selectors.activity_for_user(request.user, pk)
    return render(
        request,
        "outreach/activity_detail.html",
        {
            "activity": activity,
            "languages": selectors.language_labels(activity.languages),
            "revisions": selectors.activity_revisions(activity),
            "can_edit": selectors.can_edit_activity(request.user, activity),
        },
    )


@log_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk):
    activity = selectors.activity_for_user(request.user, pk)
    if not selectors.can_edit_activity(request.user, activity):
        raise PermissionDenied(_("Only the officers on this activity or a supervisor may edit it."))
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user, activity=activity)
        if form.is_valid():
            try:
                activity_update(activity=activity, actor=request.user, **form.service_kwargs())
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(activity.get_absolute_url())
        status = 400
    else:
        form = ActivityForm(initial=ActivityForm.initial_for(activity), user=request.user, activity=activity)
        status = 200
    return _form_page(request, form, activity, status)


@staff_required
@require_GET
def issue_search(request):
    """Search-as-you-type for the activity form: issues by tracking code or words of the text (JSON)."""
    results = [
        {
            "id": issue.pk,
            "tracking_code": issue.tracking_code,
            "label": f"{issue.tracking_code} · {issue.category} · {issue.neighborhood}",
            "detail": Truncator(issue.address or issue.description).chars(80),
            "status": issue.get_status_display(),
            "url": issue.get_absolute_url(),
        }
        for issue in selectors.issue_search(request.user, request.GET.get("q", ""))
    ]
    return JsonResponse({"results": results})
