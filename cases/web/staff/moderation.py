"""Moderation pages: the supervisors' queue and the moderation forms of the issue page.

Thin views: a form reads the input, one service in ``cases.services.moderation``
does the work (permission, reason, event, queue items), the page says what
happened. Every form is a plain POST with CSRF; success redirects (POST/redirect/GET),
a refusal on the issue page shows it again with the typed text and the error (400).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cases.models import ModerationItem, Report
from cases.photos import staff_photo_path
from cases.selectors import issue_for_user
from cases.selectors.moderation import moderation_queue
from cases.services.moderation import (
    MODERATE_PERMISSION,
    can_moderate,
    issue_public_text_edit,
    moderation_item_resolve,
    photo_approve,
    photo_hide,
    report_hide,
    report_public_text_edit,
    report_unhide,
)
from cases.web.staff.moderation_forms import PublicTextForm, ReasonForm, ResolveForm
from core.forms import form_add_service_errors
from core.permissions import perm_required
from core.text import whole_number

moderator_required = perm_required(MODERATE_PERMISSION)


@dataclass(frozen=True)
class ModerationAction:
    slug: str
    label: str
    form_class: type[forms.Form]
    run: Callable  # (target, cleaned_data, actor) -> object
    done: str
    danger: bool = False


ISSUE_ACTIONS = {
    "public-text": ModerationAction(
        "public-text",
        gettext_lazy("Save public description"),
        PublicTextForm,
        lambda issue, data, actor: issue_public_text_edit(
            issue=issue, text=data["text"], reason=data["reason"], actor=actor
        ),
        gettext_lazy("The public description was changed. The original is kept for staff."),
    ),
}

REPORT_ACTIONS = {
    "public-text": ModerationAction(
        "public-text",
        gettext_lazy("Save public text"),
        PublicTextForm,
        lambda report, data, actor: report_public_text_edit(
            report=report, text=data["text"], reason=data["reason"], actor=actor
        ),
        gettext_lazy("The report's public text was changed. The original is kept for staff."),
    ),
    "hide": ModerationAction(
        "hide",
        gettext_lazy("Hide report from the public"),
        ReasonForm,
        lambda report, data, actor: report_hide(report=report, reason=data["reason"], actor=actor),
        gettext_lazy("The report is hidden from the public. Staff still see it."),
        danger=True,
    ),
    "unhide": ModerationAction(
        "unhide",
        gettext_lazy("Show report to the public again"),
        ReasonForm,
        lambda report, data, actor: report_unhide(report=report, reason=data["reason"], actor=actor),
        gettext_lazy("The report is public again."),
    ),
    "photo-approve": ModerationAction(
        "photo-approve",
        gettext_lazy("Approve photo"),
        ReasonForm,
        lambda report, data, actor: photo_approve(report=report, reason=data["reason"], actor=actor),
        gettext_lazy("The photo is approved: the public now sees a copy of it."),
    ),
    "photo-hide": ModerationAction(
        "photo-hide",
        gettext_lazy("Hide photo"),
        ReasonForm,
        lambda report, data, actor: photo_hide(report=report, reason=data["reason"], actor=actor),
        gettext_lazy("The photo is hidden from the public. Staff still see the original."),
        danger=True,
    ),
}


def _auto_id(target: str, slug: str) -> str:
    return f"id_mod_{target}_{slug}_%s"


def _report_offers(report: Report) -> list[str]:
    """Which report actions make sense now (the services refuse the others anyway)."""
    slugs = ["public-text", "unhide" if report.is_hidden else "hide"]
    if report.photo or report.media_url:
        if report.photo_state != Report.PhotoState.APPROVED:
            slugs.append("photo-approve")
        if report.photo_state != Report.PhotoState.HIDDEN:
            slugs.append("photo-hide")
    return slugs


def moderation_context(user, issue, reports, *, bound=None) -> dict | None:
    """The issue page's moderation forms, for moderators only (None for everyone else).

    ``bound`` is ``(key, form)`` of a refused submission, shown again with its errors.
    """
    if not can_moderate(user):
        return None
    bound_key, bound_form = bound if bound else (None, None)

    def form_for(key, spec, target, initial=None):
        if key == bound_key:
            return {"spec": spec, "form": bound_form, "failed": True}
        return {"spec": spec, "form": spec.form_class(initial=initial, auto_id=_auto_id(target, spec.slug))}

    issue_spec = ISSUE_ACTIONS["public-text"]
    entries = []
    for report in reports:
        target = f"r{report.pk}"
        actions = {}
        for slug in _report_offers(report):
            spec = REPORT_ACTIONS[slug]
            initial = {"text": report.public_text or report.text} if slug == "public-text" else None
            actions[slug.replace("-", "_")] = form_for(f"report:{report.pk}:{slug}", spec, target, initial)
        entries.append({"report": report, "actions": actions, "action_base": f"/moderation/reports/{report.pk}/"})
    return {
        "issue_text": form_for(
            "issue:public-text", issue_spec, "issue", {"text": issue.public_description or issue.description}
        ),
        "reports": entries,
    }


def _errors_text(form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def _queue_url(request) -> str:
    reason = request.POST.get("queue_reason", "")
    url = reverse("moderation_queue")
    return f"{url}?{urlencode({'reason': reason})}" if reason in ModerationItem.Reason.values else url


def _run(request, *, issue, key, spec, target, target_id):
    """Validate, run the service, answer: shared by the issue and report actions."""
    from_queue = request.POST.get("return_to") == "queue"
    form = spec.form_class(request.POST, auto_id=_auto_id(target_id, spec.slug))
    if form.is_valid():
        try:
            spec.run(target, form.cleaned_data, request.user)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, spec.done)
            return redirect(_queue_url(request) if from_queue else f"{issue.get_absolute_url()}#moderation")
    messages.error(
        request,
        _("%(action)s: nothing was changed. %(problems)s") % {"action": spec.label, "problems": _errors_text(form)},
    )
    if from_queue:
        return redirect(_queue_url(request))
    from cases.web.staff.views import render_issue_detail

    return render_issue_detail(request, issue, status=400, moderation_bound=(key, form))


@moderator_required
@require_POST
def issue_moderate(request, pk: int, action: str):
    spec = ISSUE_ACTIONS.get(action)
    if spec is None:
        raise Http404(_("Unknown action."))
    issue = issue_for_user(request.user, pk)
    return _run(request, issue=issue, key=f"issue:{action}", spec=spec, target=issue, target_id="issue")


@moderator_required
@require_POST
def report_moderate(request, report_id: int, action: str):
    spec = REPORT_ACTIONS.get(action)
    if spec is None:
        raise Http404(_("Unknown action."))
    report = get_object_or_404(Report.objects.only("id", "issue_id"), pk=report_id)
    issue = issue_for_user(request.user, report.issue_id)
    return _run(
        request, issue=issue, key=f"report:{report.pk}:{action}", spec=spec, target=report, target_id=f"r{report.pk}"
    )


@moderator_required
@require_POST
def item_resolve(request, item_id: int):
    item = get_object_or_404(ModerationItem.objects.only("id", "issue_id"), pk=item_id)
    issue_for_user(request.user, item.issue_id)  # 404 for an issue the user may not see
    form = ResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_errors_text(form))
        moderation_item_resolve(item=item, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, _("Nothing was changed. %(problems)s") % {"problems": " ".join(error.messages)})
    else:
        messages.success(request, _("Marked as checked: the public text stays as it is."))
    return redirect(_queue_url(request))


# --- the queue ----------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_encode(after: tuple[datetime, int]) -> str:
    """A page's keyset as a short URL-safe string: microseconds since the epoch and the id."""
    created_at, item_id = after
    delta = created_at - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}-{item_id}"


def cursor_decode(text: str) -> tuple[datetime, int] | None:
    micros, _sep, item_id = (text or "").partition("-")
    micros, item_id = whole_number(micros, max_digits=20), whole_number(item_id)
    if micros is None or item_id is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=micros), item_id
    except OverflowError:
        return None


@moderator_required
@require_GET
def queue(request):
    reason = request.GET.get("reason", "")
    if reason not in ModerationItem.Reason.values:
        reason = ""
    after = cursor_decode(request.GET.get("after", ""))
    page = moderation_queue(reason=reason, after=after)
    now = timezone.now()
    rows = []
    for item in page.items:
        report = item.report
        photo_url = ""
        if item.reason == ModerationItem.Reason.PHOTO and report is not None and report.photo:
            photo_url = staff_photo_path(item.issue_id, report.pk)
        rows.append(
            {
                "item": item,
                "public_text": report.public_text if report is not None else item.issue.public_description,
                "findings": sorted((item.findings or {}).items()) if isinstance(item.findings, dict) else [],
                "photo_url": photo_url,
                "photo_offers": _report_offers(report) if report is not None else [],
            }
        )
    next_url = ""
    if page.next_after is not None:
        params = {"after": cursor_encode(page.next_after)}
        if reason:
            params["reason"] = reason
        next_url = f"?{urlencode(params)}"
    return render(
        request,
        "moderation/queue.html",
        {
            "rows": rows,
            "reason": reason,
            "reasons": ModerationItem.Reason.choices,
            "is_first_page": after is None,
            "next_url": next_url,
            "now": now,
        },
    )
