"""Staff pages for issues: my queue, the filtered list, the detail page and its actions.

Views stay thin: selectors read (already scoped to the user), one service per
action writes. Every action is a plain POST form (redirect + message) that htmx
enhances: with ``HX-Request`` the view answers the ``#issue-main`` fragment
instead, so the page updates in place.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import services
from cases.photos import staff_photo_path
from cases.selectors import can_view_contacts, can_work_issue, issue_for_user, issue_queue_for
from cases.selectors.issues import issue_queue_branches
from cases.selectors.messages import with_unread_messages
from cases.selectors.response_templates import response_templates_for
from cases.selectors.staff import (
    issue_duplicates,
    issue_reports,
    issue_search,
    issue_timeline,
    issues_filtered,
    queue_summary,
    queue_window,
    with_overdue,
)
from cases.services import contact_view_record
from cases.web.staff.audit_forms import ContactRevealForm
from cases.web.staff.cards import issue_cards
from cases.web.staff.forms import ACTIONS, IssueFilterForm
from cases.web.staff.messages import issue_message_context
from cases.web.staff.moderation import moderation_context
from core.client_keys import Conflict, answers_json, conflict_json, invalid_json
from core.forms import form_add_service_errors
from core.pagination import page_from_request
from core.permissions import staff_required
from partners.selectors import area_shown

PAGE_SIZE = 25


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# The orders the lists are read in, each ending with the unique id (keyset pagination).
QUEUE_ORDER = ("due_at", "id")
LIST_ORDER = ("-created_at", "-id")
# Overdue issues: the most overdue first (and each neighborhood's overdue issues are then read
# in order from its open-by-due index, not found among all its issues).
OVERDUE_ORDER = ("due_at", "id")


def _map_points(page):
    """The page's issues as map points (from rows already loaded: no extra query)."""
    return [
        {
            "lat": issue.lat,
            "lng": issue.lng,
            "code": issue.tracking_code,
            "label": f"{issue.tracking_code} · {issue.category.name}",
            "url": issue.get_absolute_url(),
            "overdue": bool(getattr(issue, "is_overdue", False)),
        }
        for issue in page.object_list
        if issue.lat is not None and issue.lng is not None
    ]


@staff_required
@require_GET
def issue_queue(request):
    """My queue: assigned to me, and unassigned in my neighborhoods, by due time."""
    now = timezone.now()
    queryset = with_overdue(issue_queue_for(request.user), now)
    branches = issue_queue_branches(request.user)
    # One reading of the queue's first issues serves its figures and its first page.
    window = queue_window(queryset, branches=branches)
    page = page_from_request(
        request,
        with_unread_messages(queryset),
        QUEUE_ORDER,
        size=PAGE_SIZE,
        count_cap=None,
        branches=branches,
        first_ids=[row["id"] for row in window],
    )
    summary = queue_summary(request.user, queryset, now, branches=branches, window=window)
    context = {"page": page, "summary": summary, "now": now, "map_points": _map_points(page)}
    context["cards"] = issue_cards(page.object_list, request.user)
    return render(request, "issues/queue.html", context)


@staff_required
@require_GET
def issue_list(request):
    form = IssueFilterForm(request.GET or None)
    filters = form.selector_kwargs()
    area, switch = area_shown(request.user, request.GET, place_params=("neighborhood",))
    if area is not None:
        filters["neighborhood_ids"] = area.neighborhood_ids
    queryset = issues_filtered(request.user, **filters)
    order = OVERDUE_ORDER if filters.get("overdue") is True else LIST_ORDER
    page = page_from_request(request, with_unread_messages(queryset), order, size=PAGE_SIZE)
    context = {"form": form, "page": page, "map_points": _map_points(page), "area": switch}
    context["cards"] = issue_cards(page.object_list, request.user)
    context["most_overdue_first"] = order == OVERDUE_ORDER
    return render(request, "issues/list.html", context)


@staff_required
@require_GET
def issue_search_json(request):
    """Search-as-you-type for forms that link issues: ``?q=`` (tracking code or words), ``&open=1``."""
    try:
        limit = min(max(int(request.GET.get("limit", 10)), 1), 25)
    except ValueError:
        limit = 10
    open_only = request.GET.get("open", "") in {"1", "true", "yes"}
    results = issue_search(request.user, request.GET.get("q", ""), limit=limit, open_only=open_only)
    # Staff search: no reporter contact details, only what identifies the issue.
    return JsonResponse(
        {
            "results": [
                {
                    "id": issue.pk,
                    "tracking_code": issue.tracking_code,
                    "label": f"{issue.tracking_code} · {issue.category.name} · {issue.neighborhood.name}",
                    "category": issue.category.name,
                    "neighborhood": issue.neighborhood.name,
                    "status": issue.status,
                    "status_display": issue.get_status_display(),
                    "address": issue.address,
                    "description": issue.description[:140],
                    "url": issue.get_absolute_url(),
                }
                for issue in results
            ]
        }
    )


def _detail_context(request, issue, *, reveal=None, bound=None, reveal_form=None, moderation_bound=None):
    """Everything the detail page and its ``#issue-main`` fragment show.

    ``reveal`` (``contact_view_record``'s reason arguments) is only ever passed by
    ``issue_contacts_reveal``: the details are shown once the reveal and its reason are
    recorded. ``reveal_form`` is that form re-shown with its errors.
    """
    user = request.user
    may_work = can_work_issue(user, issue)
    may_see_contacts = can_view_contacts(user, issue)
    reports = list(issue_reports(issue))
    for report in reports:
        # Originals are served only through the staff view (MEDIA_ROOT is not public).
        report.staff_photo_url = staff_photo_path(issue.pk, report.pk) if report.photo else ""
    has_contacts = any(report.has_contact for report in reports)
    show_contacts = reveal is not None and may_see_contacts and has_contacts
    if show_contacts:
        # The audit trail records each time the details are actually shown, and why.
        contact_view_record(issue=issue, actor=user, **reveal)
    actions = []
    if may_work:
        # Every form's response templates in one query: the note's (the current status), the
        # resolve and hold forms' (the status they move the issue into).
        statuses = {issue.status, *(a.form_class.template_status for a in ACTIONS.values() if a.offered_for(issue))}
        templates = response_templates_for(issue, statuses - {None})
        for action in ACTIONS.values():
            if bound is not None and bound.slug == action.slug:
                actions.append({"spec": action, "form": bound.form, "failed": True})
            elif action.offered_for(issue):
                form = action.form_class(
                    issue=issue,
                    user=user,
                    auto_id=f"id_{action.slug}_%s",
                    action=action.slug,
                    response_templates=templates,
                )
                actions.append({"spec": action, "form": form, "failed": False})
    now = timezone.now()
    return {
        "issue": issue,
        "is_overdue": issue.status in issue.ESCALATING_STATUSES and issue.due_at < now,
        "reports": reports,
        "events": list(issue_timeline(issue)),
        "duplicates": list(issue_duplicates(issue)),
        "may_work": may_work,
        "may_see_contacts": may_see_contacts,
        "has_contacts": has_contacts,
        "show_contacts": show_contacts,
        "reveal_form": reveal_form or ContactRevealForm(),
        # Keyed for templates: "crime-report" → actions.crime_report.
        "actions": {item["spec"].slug.replace("-", "_"): item for item in actions},
        "is_htmx": _is_htmx(request),
        "now": now,
        "moderation": moderation_context(user, issue, reports, bound=moderation_bound),
    }


def _render_detail(request, issue, *, status=200, reply=None, **kwargs):
    context = _detail_context(request, issue, **kwargs)
    # Residents' anonymous conversations (cases.web.staff.messages); ``reply`` is a refused reply shown again.
    context.update(issue_message_context(request, issue, context["reports"], reply=reply))
    template = "issues/_issue_main.html" if context["is_htmx"] else "issues/detail.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


render_issue_detail = _render_detail  # the moderation views show the page again with their refused form


@staff_required
@require_GET
def issue_detail(request, pk):
    issue = issue_for_user(request.user, pk)
    return _render_detail(request, issue)


@staff_required
@require_POST
def issue_contacts_reveal(request, pk):
    """Show residents' contact details, once the reason is given and the view recorded.

    A POST, not a GET link: nothing prefetches or crawls it into a reveal. The details are
    shown on this very answer (no redirect to a page that would have to reveal them again),
    which is marked ``no-store`` so they do not linger in caches.
    """
    issue = issue_for_user(request.user, pk)
    if not can_view_contacts(request.user, issue):
        raise PermissionDenied(
            _("Contact details are visible only to the assignee, officers of this neighborhood and supervisors.")
        )
    form = ContactRevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Contact details were not shown: say why you need them."))
        status = 200 if _is_htmx(request) else 400
        return _render_detail(request, issue, status=status, reveal_form=form)
    response = _render_detail(request, issue, reveal=form.service_kwargs())
    patch_cache_control(response, private=True, no_store=True)
    return response


class _Bound:
    """The submitted action and its form, re-shown with its errors."""

    def __init__(self, slug, form):
        self.slug = slug
        self.form = form


@transaction.atomic
def _run_taking(spec, form, issue, user) -> str:
    """Run the action; with "take it" ticked, also assign the issue to whoever acts — after an
    acknowledgement (which starts from "new"), before anything else — both or neither."""
    take = form.cleaned_data.get("take")
    if take and spec.slug == "note" and not services.issue_action_allowed(issue, "assign"):
        # A note is taken in every status; one written on a page kept offline may arrive after the
        # issue was finished, when it can no longer be assigned: the note alone, then.
        take = False
    if take and spec.slug != "acknowledge":
        services.issue_assign(issue=issue, officer=user, actor=user)
    done = spec.run(form, issue, user)
    if take and spec.slug == "acknowledge":
        services.issue_assign(issue=issue, officer=user, actor=user)
    if not take:
        return done
    taken = gettext("It is assigned to you.")  # outside the f-string, where makemessages finds it
    return f"{done} {taken}"


@staff_required
@require_POST
def issue_action(request, pk, action):
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404(_("Unknown action."))
    issue = issue_for_user(request.user, pk)
    if not can_work_issue(request.user, issue):
        raise PermissionDenied(_("You may not act on issues outside your neighborhoods."))
    form = spec.form_class(request.POST, issue=issue, user=request.user, auto_id=f"id_{spec.slug}_%s", action=spec.slug)
    if form.is_valid():
        try:
            done = _run_taking(spec, form, issue, request.user)
        except ValidationError as error:
            form_add_service_errors(form, error)
        except Conflict as conflict:
            # A note written on a page kept while the issue was finished meanwhile: the officer decides.
            if answers_json(request):
                return conflict_json(conflict)
            messages.error(request, conflict.message)
            form.confirm_after_conflict()
            return _render_detail(
                request,
                issue_for_user(request.user, pk),
                status=200 if _is_htmx(request) else 409,
                bound=_Bound(spec.slug, form),
            )
        else:
            if answers_json(request):
                # The device's offline queue (static/js/offline.js) replays notes: done is enough.
                return JsonResponse({"message": done, "url": issue.get_absolute_url()}, status=201)
            messages.success(request, done)
            if _is_htmx(request):
                return _render_detail(request, issue_for_user(request.user, pk))
            return redirect(issue.get_absolute_url())
    if answers_json(request):
        return invalid_json(form)
    problems = " ".join(str(message) for errors in form.errors.values() for message in errors)
    messages.error(
        request, _("%(action)s: nothing was changed. %(problems)s") % {"action": spec.label, "problems": problems}
    )
    # htmx swaps only 2xx answers; the full page says 400 so clients and tests see the refusal.
    return _render_detail(
        request,
        issue_for_user(request.user, pk),
        status=200 if _is_htmx(request) else 400,
        bound=_Bound(spec.slug, form),
    )
