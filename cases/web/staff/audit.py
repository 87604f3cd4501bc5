"""The audit log (/audit/): every reveal of residents' contact details, every moderation
and every erasure by the retention task — who, when, which issue, why.

Holders of ``cases.view_audit`` (supervisors, administrators) read everyone's entries;
other staff read their own. Thin views: the form parses the filters, the selectors
scope, filter and page (keyset, newest first), the template shows.
"""

from __future__ import annotations

import csv

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.selectors.audit import (
    audit_action_label,
    audit_events_filtered,
    audit_page,
    audit_reason,
    audit_rows,
    may_read_whole_audit,
)
from cases.web.staff.audit_forms import AuditFilterForm
from core.exports import csv_cell, export_headings
from core.permissions import staff_required

PAGE_SIZE = 50
EXPORT_CHUNK = 500


def _form(request) -> tuple[AuditFilterForm, bool]:
    whole_log = may_read_whole_audit(request.user)
    return AuditFilterForm(request.GET or None, whole_log=whole_log), whole_log


def _render(request, form, whole_log, page=None, *, status=200):
    context = {
        "form": form,
        "whole_log": whole_log,
        "page": page,
        "rows": list(audit_rows(page.rows)) if page else [],
        "filtered": form.is_filtered(),
    }
    return render(request, "audit/log.html", context, status=status)


@staff_required
@require_GET
def audit_log(request):
    form, whole_log = _form(request)
    if form.is_bound and not form.is_valid():
        # Listed nothing rather than something unfiltered: the message says which filter to fix.
        return _render(request, form, whole_log)
    data = form.cleaned_data if form.is_bound else {}
    queryset = audit_events_filtered(request.user, **(form.selector_kwargs() if form.is_bound else {}))
    page = audit_page(queryset, before=data.get("before"), after=data.get("after"), size=PAGE_SIZE)
    return _render(request, form, whole_log, page)


class _Echo:
    """A file-like object csv.writer writes to; each row goes straight to the response."""

    def write(self, value):
        return value


EXPORT_HEADER = ["when", "who", "username", "action", "issue", "reason"]


def _export_rows(events, headings):
    """Who, when, which issue, what, why — never the contact details themselves."""
    yield headings
    for event in events:
        actor = event.actor
        yield [
            # To the second (csv_cell's default is the minute): an audit trail orders what happened.
            timezone.localtime(event.created_at).isoformat(timespec="seconds"),
            (actor.get_full_name() or actor.get_username()) if actor else "system",
            actor.get_username() if actor else "",
            audit_action_label(event),
            event.issue.tracking_code,
            audit_reason(event),
        ]


@staff_required
@require_GET
def audit_export(request):
    """The filtered log as CSV (all pages), streamed; an officer's holds only their own entries."""
    form, whole_log = _form(request)
    if form.is_bound and not form.is_valid():
        return _render(request, form, whole_log, status=400)
    queryset = audit_events_filtered(request.user, **(form.selector_kwargs() if form.is_bound else {}))
    events = queryset.order_by("-created_at", "-id").iterator(chunk_size=EXPORT_CHUNK)
    # The headings are translated here, in the request's language (the rows stream after it).
    headings = export_headings(EXPORT_HEADER, request.GET)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([csv_cell(v) for v in row]) for row in _export_rows(events, headings)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
