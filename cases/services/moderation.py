"""Moderation: what the public sees of residents' words and photos (issue 13, FixMyStreet Pro practice).

A moderator (permission ``cases.moderate``: supervisors, administrators) may
edit the public copy of an issue's description or a report's text, take a
report out of public view, and approve or hide a report's photo. The original
is never touched: staff keep reading ``Issue.description``, ``Report.text`` and
``Report.photo``. Every action needs a reason, writes an internal MODERATED
event (who, why, the public text before and after) that staff see on the
timeline and supervisors in the audit log, and resolves the queue's open items
about that text or photo, all in one transaction.

Photos are public only once approved: approval writes ``public_photo``, a copy
re-encoded from the already-clean original under a fresh random name (so its
URL says nothing of the original's and a hidden photo's URL never comes back);
hiding deletes that copy once the transaction has committed.
"""

from __future__ import annotations

import logging
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Event, Issue, ModerationItem, Report
from cases.photos import photo_clean
from cases.redaction import mask_text
from cases.services.issues import event_record
from core.text import clean_text

logger = logging.getLogger(__name__)

__all__ = [
    "MODERATE_PERMISSION",
    "can_moderate",
    "issue_public_text_edit",
    "report_public_text_edit",
    "report_hide",
    "report_unhide",
    "photo_approve",
    "photo_hide",
    "moderation_item_resolve",
]

MODERATE_PERMISSION = "cases.moderate"
REASON_MAX = 500
TEXT_MAX = 5000
TEXT_REASONS = (ModerationItem.Reason.MASKED, ModerationItem.Reason.FLAGGED)
PhotoState = Report.PhotoState


class Action:
    """The ``action`` a MODERATED event's data records."""

    ISSUE_TEXT = "issue_text"
    REPORT_TEXT = "report_text"
    REPORT_HIDE = "report_hide"
    REPORT_UNHIDE = "report_unhide"
    PHOTO_APPROVE = "photo_approve"
    PHOTO_HIDE = "photo_hide"
    RESOLVE = "resolve"


# --- helpers ------------------------------------------------------------------


def can_moderate(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(MODERATE_PERMISSION))


def _require_moderator(actor) -> None:
    if not can_moderate(actor):
        raise PermissionDenied(_("Only moderators may change what the public sees."))


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason: it is kept in the issue's audit trail.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX}})
    return reason


def _clean_text(text: str) -> str:
    empty = _("The public text cannot be empty. To take a report out of public view, hide it.")
    return clean_text(text, field="text", max_length=TEXT_MAX, empty_message=empty)


def _mask(text: str, names=()) -> str:
    """A moderator's text goes through the masker too: a slip of the keyboard is not published."""
    return mask_text(text, names=[name for name in names if name]).text


def _locked_report(report: Report) -> Report:
    """The report under its issue's row lock (every write to an issue serialises on that row)."""
    Issue.objects.select_for_update().only("id").get(pk=report.issue_id)
    return Report.objects.select_for_update().select_related("issue").get(pk=report.pk)


def _record(*, issue: Issue, actor, reason: str, action: str, report: Report | None, before, after) -> Event:
    return event_record(
        issue=issue,
        kind=Event.Kind.MODERATED,
        actor=actor,
        is_public=False,
        message=reason,
        data={"action": action, "report": report.pk if report else None, "before": before, "after": after},
    )


def _resolve_items(*, issue: Issue, report: Report | None, reasons, actor, now) -> int:
    """Close the queue's open items about this text or photo; returns how many."""
    items = ModerationItem.objects.filter(issue=issue, resolved_at__isnull=True, reason__in=list(reasons))
    items = items.filter(report=report) if report is not None else items.filter(report__isnull=True)
    return items.update(resolved_at=now, resolved_by=actor)


def _touch_issue(issue: Issue) -> None:
    """What the public sees changed: Open311's updated_datetime moves."""
    Issue.objects.filter(pk=issue.pk).update(updated_at=timezone.now())


# --- public text --------------------------------------------------------------


@transaction.atomic
def issue_public_text_edit(*, issue: Issue, text: str, reason: str, actor) -> Issue:
    """Replace the public copy of the issue's description; the description itself stays."""
    _require_moderator(actor)
    reason = _clean_reason(reason)
    text = _clean_text(text)
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    masked = _mask(text, names=issue.reports.exclude(reporter_name="").values_list("reporter_name", flat=True))
    before = issue.public_description
    issue.public_description = masked
    issue.save(update_fields=["public_description", "updated_at"])
    _record(issue=issue, actor=actor, reason=reason, action=Action.ISSUE_TEXT, report=None, before=before, after=masked)
    _resolve_items(issue=issue, report=None, reasons=TEXT_REASONS, actor=actor, now=timezone.now())
    return issue


@transaction.atomic
def report_public_text_edit(*, report: Report, text: str, reason: str, actor) -> Report:
    """Replace the public copy of a report's text; the resident's text stays for staff."""
    _require_moderator(actor)
    reason = _clean_reason(reason)
    text = _clean_text(text)
    report = _locked_report(report)
    masked = _mask(text, names=[report.reporter_name])
    before = report.public_text
    report.public_text = masked
    report.save(update_fields=["public_text"])
    _record(
        issue=report.issue,
        actor=actor,
        reason=reason,
        action=Action.REPORT_TEXT,
        report=report,
        before=before,
        after=masked,
    )
    _resolve_items(issue=report.issue, report=report, reasons=TEXT_REASONS, actor=actor, now=timezone.now())
    _touch_issue(report.issue)
    return report


# --- hiding a report ------------------------------------------------------------


@transaction.atomic
def report_hide(*, report: Report, reason: str, actor) -> Report:
    """Take a report (its text and photo) out of public view; the issue stays.

    The report's open text items are resolved (nothing of it is public any more); a photo still
    waiting keeps its item, since unhiding the report would not approve the photo.
    """
    _require_moderator(actor)
    reason = _clean_reason(reason)
    report = _locked_report(report)
    if report.is_hidden:
        raise ValidationError(_("This report is already hidden from the public."))
    report.is_hidden = True
    report.save(update_fields=["is_hidden"])
    _record(
        issue=report.issue,
        actor=actor,
        reason=reason,
        action=Action.REPORT_HIDE,
        report=report,
        before="visible",
        after="hidden",
    )
    _resolve_items(issue=report.issue, report=report, reasons=TEXT_REASONS, actor=actor, now=timezone.now())
    _touch_issue(report.issue)
    return report


@transaction.atomic
def report_unhide(*, report: Report, reason: str, actor) -> Report:
    """Show a hidden report again (its photo only if it was approved)."""
    _require_moderator(actor)
    reason = _clean_reason(reason)
    report = _locked_report(report)
    if not report.is_hidden:
        raise ValidationError(_("This report is not hidden."))
    report.is_hidden = False
    report.save(update_fields=["is_hidden"])
    _record(
        issue=report.issue,
        actor=actor,
        reason=reason,
        action=Action.REPORT_UNHIDE,
        report=report,
        before="hidden",
        after="visible",
    )
    _touch_issue(report.issue)
    return report


# --- photos -----------------------------------------------------------------------


def _public_copy(report: Report):
    """A fresh copy of the (already clean) original, re-encoded again, under a new random name."""
    try:
        with default_storage.open(report.photo.name, "rb") as handle:
            data = handle.read()
    except OSError:
        raise ValidationError(_("The photo's file is missing; it cannot be approved.")) from None
    return photo_clean(ContentFile(data, name="photo"))


def _delete_later(name: str) -> None:
    """Delete a stored file once the transaction commits (a rollback keeps the row's file)."""
    if name:
        transaction.on_commit(partial(_delete_file, name))


def _delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        logger.warning("Could not delete a hidden public photo copy; remove it by hand", exc_info=True)


@transaction.atomic
def photo_approve(*, report: Report, reason: str, actor) -> Report:
    """Make a report's photo (or an Open311 client's media link) public.

    A photo gets a public copy (``public_photo``); a link (``media_url``) is never fetched, it is
    only shown from now on. A report with neither has nothing to approve.
    """
    _require_moderator(actor)
    reason = _clean_reason(reason)
    report = _locked_report(report)
    if not (report.photo or report.media_url):
        raise ValidationError(_("This report has no photo to approve."))
    if report.photo_state == PhotoState.APPROVED:
        raise ValidationError(_("This photo is already approved."))
    before = report.photo_state
    old_copy = report.public_photo.name if report.public_photo else ""
    fields = ["photo_state"]
    new_copy = ""
    if report.photo:
        copy = _public_copy(report)
        # Stored under upload_to ("public/%Y/%m/") with the copy's random name.
        report.public_photo.save(copy.name, copy, save=False)
        new_copy = report.public_photo.name
        fields.append("public_photo")
    try:
        report.photo_state = PhotoState.APPROVED
        report.save(update_fields=fields)
        _photo_decided(report=report, actor=actor, reason=reason, action=Action.PHOTO_APPROVE, before=before)
    except Exception:
        # Nothing points at the new copy once this transaction rolls back.
        if new_copy:
            _delete_file(new_copy)
        raise
    if old_copy and old_copy != new_copy:
        _delete_later(old_copy)
    return report


@transaction.atomic
def photo_hide(*, report: Report, reason: str, actor) -> Report:
    """Keep a report's photo (or link) from the public: the public copy is deleted, the original stays."""
    _require_moderator(actor)
    reason = _clean_reason(reason)
    report = _locked_report(report)
    if not (report.photo or report.media_url):
        raise ValidationError(_("This report has no photo to hide."))
    if report.photo_state == PhotoState.HIDDEN:
        raise ValidationError(_("This photo is already hidden."))
    before = report.photo_state
    _delete_later(report.public_photo.name if report.public_photo else "")
    report.public_photo = ""
    report.photo_state = PhotoState.HIDDEN
    report.save(update_fields=["public_photo", "photo_state"])
    _photo_decided(report=report, actor=actor, reason=reason, action=Action.PHOTO_HIDE, before=before)
    return report


def _photo_decided(*, report: Report, actor, reason: str, action: str, before: str) -> None:
    """The timeline entry for a photo decision; the photo leaves the queue; Open311 sees the change."""
    _record(
        issue=report.issue,
        actor=actor,
        reason=reason,
        action=action,
        report=report,
        before=before,
        after=report.photo_state,
    )
    _resolve_items(
        issue=report.issue, report=report, reasons=[ModerationItem.Reason.PHOTO], actor=actor, now=timezone.now()
    )
    _touch_issue(report.issue)


# --- the queue ----------------------------------------------------------------------


@transaction.atomic
def moderation_item_resolve(*, item: ModerationItem, actor, reason: str = "") -> ModerationItem:
    """ "Looks fine, nothing to change": the item leaves the queue, the public text stays as it is.

    A photo is never resolved this way: it stays private until it is approved or hidden.
    """
    _require_moderator(actor)
    item = ModerationItem.objects.select_for_update(of=("self",)).select_related("issue", "report").get(pk=item.pk)
    if item.reason == ModerationItem.Reason.PHOTO:
        raise ValidationError(_("A photo is public only once approved: approve it or hide it."))
    if item.resolved_at is not None:
        raise ValidationError(_("Someone has already dealt with this item."))
    reason = (reason or "").strip()[:REASON_MAX] or _("Checked: nothing to change.")
    item.resolved_at = timezone.now()
    item.resolved_by = actor
    item.save(update_fields=["resolved_at", "resolved_by"])
    public = item.report.public_text if item.report else item.issue.public_description
    _record(
        issue=item.issue,
        actor=actor,
        reason=reason,
        action=Action.RESOLVE,
        report=item.report,
        before=public,
        after=public,
    )
    return item
