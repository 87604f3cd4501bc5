"""Every write to an issue goes through here: pages, API, Open311, admin and tasks.

Each action locks the issue row (``select_for_update``) so two officers acting
at once cannot overwrite each other, checks the transition is allowed, saves
only the fields it changed, and records an Event with the actor — all in one
transaction. Rule violations raise ``django.core.exceptions.ValidationError``
with a message fit to show the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.figure_changes import local_day
from cases.message_keys import message_key_hash, message_key_new
from cases.models import (
    PRIORITY_ORDER,
    ApiClient,
    Approach,
    Category,
    ChangedDay,
    Event,
    Feedback,
    Follower,
    Issue,
    ModerationItem,
    OutboxMessage,
    Priority,
    Report,
    ResponseTemplate,
)
from cases.notifications.residents import reporter_follows, updates_enqueue
from cases.redaction import Masked, mask_text
from cases.response_templates import template_render
from cases.selectors.response_templates import response_template_auto_for
from cases.services.assignment import assignment_notice, officer_by_rule, rule_event, rule_for
from core.client_keys import Conflict, client_key_claim, client_key_parse, client_key_record
from core.inserts import Row, rows_insert
from core.site import absolute_url
from core.text import clean_text
from partners.models import Neighborhood
from partners.selectors import neighborhood_for_point

User = get_user_model()

__all__ = [
    "TRANSITIONS",
    "issue_action_allowed",
    "due_at_for",
    "event_record",
    "public_text_for",
    "issue_submit",
    "issue_acknowledge",
    "issue_assign",
    "issue_set_approach",
    "issue_set_priority",
    "next_priority",
    "issue_add_note",
    "IssueFinishedMeanwhile",
    "issue_hold",
    "issue_resume",
    "issue_mark_duplicate",
    "issue_refer",
    "issue_resolve",
    "issue_record_crime_report",
    "issue_close",
    "issue_reopen",
    "feedback_submit",
    "contact_view_record",
    "api_client_revoke",
]
Status = Issue.Status
# Priority.values builds its list (and the labels' lazy translations) on every call.
_PRIORITIES = frozenset(Priority.values)


# --- helpers ------------------------------------------------------------------


def due_at_for(*, category: Category, priority: str, start: datetime) -> datetime:
    """When an issue of this category and priority, opened at ``start``, is due (SLA in hours)."""
    return start + timedelta(hours=category.target_hours(priority))


def event_record(
    *,
    issue: Issue,
    kind: str,
    actor=None,
    message: str = "",
    is_public: bool = False,
    data: dict | None = None,
    at: datetime | None = None,
    names=(),
    update_note: str = "",
) -> Event:
    """A timeline entry. A public one's message is masked like residents' text (``names``: more
    names to hide, e.g. the issue's reporters'); staff read the words as typed in
    ``data["original_message"]``, kept only when masking changed something. ``update_note``: more
    public words the followers' email carries (an automatic response to this status change)."""
    data = data or {}
    if is_public and message:
        masked = mask_text(message, names=names).text
        if masked != message:
            data = {**data, "original_message": message}
            message = masked
    event = Event.objects.create(
        issue=issue,
        kind=kind,
        actor=actor,
        message=message,
        is_public=is_public,
        data=data,
        created_at=at or timezone.now(),
    )
    # The issue's followers hear about it (``cases.notifications.residents``).
    updates_enqueue(event, also=mask_text(update_note, names=names).text if update_note else "")
    return event


@dataclass(frozen=True)
class _AutoResponse:
    template: ResponseTemplate
    text: str


def _auto_response(issue: Issue) -> _AutoResponse | None:
    """The automatic response template for the status the issue just entered, rendered in the
    language it was reported in, or None when none applies. (Resolving and putting on hold carry
    the officer's own public words: no template for those statuses can be automatic.)"""
    template = response_template_auto_for(issue, issue.status)
    if template is None:
        return None
    return _AutoResponse(template=template, text=template_render(template, issue))


def _auto_note(issue: Issue, *, actor, auto: _AutoResponse | None, at: datetime) -> Event | None:
    """Record the automatic response as a public note (the path an officer's public note takes:
    masked, on the timeline and the status page), right after the status event it answers; that
    event's email to the followers already carries its words (``event_record``'s ``update_note``)."""
    if auto is None:
        return None
    return event_record(
        issue=issue,
        kind=Event.Kind.NOTE,
        actor=actor,
        message=auto.text,
        is_public=True,
        names=_reporter_names(issue),
        data={"response_template": auto.template.pk, "response_template_name": auto.template.name, "automatic": True},
        at=at,
    )


def _status_event(issue: Issue, *, kind: str, actor, at: datetime, **fields) -> Event:
    """A status change's public timeline event, answered by the automatic response template for
    the status it entered, if any: its words in that event's email to the followers, and as a
    public note right after it."""
    auto = _auto_response(issue)
    event = event_record(
        issue=issue, kind=kind, actor=actor, is_public=True, at=at, update_note=auto.text if auto else "", **fields
    )
    _auto_note(issue, actor=actor, auto=auto, at=at)
    return event


def public_text_for(*, text: str, issue: Issue | None = None, report: Report | None = None) -> str:
    """``text`` as the public may read it: masked, with the report's reporter name (or, for an
    issue's description, every reporter's name on the issue) hidden too. For the admin's edits,
    which bypass the submit path; moderators' edits go through cases.services.moderation."""
    if report is not None:
        names = [report.reporter_name]
    elif issue is not None and issue.pk is not None:
        names = _reporter_names(issue)
    else:
        names = []
    return mask_text(text, names=names).text


def _reporter_names(issue: Issue) -> list[str]:
    """The names residents gave on this issue's reports: staff text for the public must not carry them."""
    return list(
        Report.objects.filter(issue_id=issue.pk).exclude(reporter_name="").values_list("reporter_name", flat=True)
    )


def _locked(issue: Issue) -> Issue:
    """Re-read the issue under a row lock; the caller is inside transaction.atomic."""
    return Issue.objects.select_for_update().get(pk=issue.pk)


# The statuses each staff action may start from: the services refuse the rest, and the issue page
# offers an action only where ``issue_action_allowed`` says it may be taken.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledge": (Status.NEW,),
    "assign": tuple(Issue.OPEN_STATUSES),
    "approach": tuple(Issue.OPEN_STATUSES),
    "priority": tuple(Issue.OPEN_STATUSES),
    "note": tuple(Status.values),
    "hold": tuple(Issue.ESCALATING_STATUSES),
    "resume": (Status.ON_HOLD,),
    "duplicate": tuple(Issue.OPEN_STATUSES),
    "refer": tuple(Issue.OPEN_STATUSES),
    "resolve": tuple(Issue.OPEN_STATUSES),
    "crime-report": tuple(Issue.OPEN_STATUSES),
    "reopen": (Status.RESOLVED, Status.CLOSED, Status.REFERRED),
    "close": (Status.RESOLVED,),
    "recategorize": tuple(Issue.OPEN_STATUSES),
}


def issue_action_allowed(issue: Issue, action: str) -> bool:
    """Whether ``action`` (a key of ``TRANSITIONS``) may be taken on the issue as it stands."""
    if issue.status not in TRANSITIONS[action]:
        return False
    # A crime report is a police matter from then on: the issue stays closed.
    return not (action == "reopen" and issue.outcome == Issue.Outcome.CRIME_REPORT)


def _require(issue: Issue, transition: str, action: str) -> None:
    if issue.status not in TRANSITIONS[transition]:
        raise ValidationError(
            _("Cannot %(action)s an issue that is %(status)s.")
            % {"action": action, "status": issue.get_status_display().lower()}
        )


# --- intake ---------------------------------------------------------------------


def _resolve_place(*, lat, lng, neighborhood: Neighborhood | None) -> Neighborhood:
    if lat is not None and lng is not None:
        found = neighborhood_for_point(lat, lng)
        if found is None:
            raise ValidationError({"location": _("That point is outside every neighborhood we serve.")})
        return found
    if neighborhood is None:
        raise ValidationError({"location": _("Choose a point on the map, or a neighborhood.")})
    return neighborhood


def issue_submit(
    *,
    category: Category,
    text: str,
    channel: str = Report.Channel.WEB,
    language: str = "en",
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    neighborhood: Neighborhood | None = None,
    priority: str = Priority.NORMAL,
    anonymous: bool = False,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    contact_consent: bool = False,
    photo=None,
    join_issue: Issue | None = None,
    attributes: dict | None = None,
    open311_client: ApiClient | None = None,
    open311_token: str = "",
    media_url: str = "",
    actor=None,
    now: datetime | None = None,
    with_message_key: bool = False,
) -> Report:
    """A resident's (or officer's, or 311 app's) report: opens an issue or joins one ("me too").

    ``with_message_key`` (the web form): the report gets a private message key for anonymous
    messages (``cases.message_keys``). Only its hash is stored, in the report's own row; the
    key is handed back once, as ``report.message_key``, for the confirmation to show.

    Anonymous reports store no contact at all, whatever was typed. A new issue, its
    report, its first timeline event and the confirmation in the outbox are written
    together, in one statement on PostgreSQL (``core.inserts.rows_insert``): all of
    them or none.
    """
    now = now or timezone.now()
    text = clean_text(text, field="description")
    if not category.is_active:
        raise ValidationError({"category": _("This category no longer takes reports.")})
    if category.notice_stops:  # every channel: the notice says where to go instead
        where = f"{category.notice} {category.notice_url}".strip()
        raise ValidationError({"category": _("This is not reported here. %(notice)s") % {"notice": where}})
    if priority not in _PRIORITIES:
        raise ValidationError({"priority": _("Unknown priority.")})
    if anonymous:
        reporter_name = reporter_email = reporter_phone = ""
        contact_consent = False
    author = actor if getattr(actor, "is_authenticated", False) else None
    reporter_name = reporter_name.strip()[:120]
    # What the public reads: the same text with emails, phones and the reporter's own name masked.
    masked = mask_text(text, names=(reporter_name,))
    address = address.strip()[:200]
    masked_address = mask_text(address, names=(reporter_name,))
    message_key = message_key_new() if with_message_key else ""
    report = Report(
        text=text,
        public_text=masked.text,
        channel=channel,
        language=language[:8],
        is_anonymous=anonymous,
        reporter_name=reporter_name,
        reporter_email=reporter_email.strip(),
        reporter_phone=reporter_phone.strip()[:40],
        contact_consent=contact_consent,
        attributes=attributes or {},
        open311_client=open311_client,
        open311_token=open311_token,
        media_url=media_url,
        message_key_hash=message_key_hash(message_key) if message_key else "",
        created_by=author,
        created_at=now,
    )
    # Not a field: never saved, only returned to the caller.
    report.message_key = message_key
    if join_issue is not None:
        return _report_join(
            join_issue=join_issue, report=report, masked=masked, category=category, photo=photo, actor=author, now=now
        )
    place = _resolve_place(lat=lat, lng=lng, neighborhood=neighborhood)
    issue = Issue(
        category=category,
        neighborhood=place,
        lat=lat,
        lng=lng,
        address=address,
        public_address=masked_address.text,
        description=text,
        public_description=masked.text,
        priority=priority,
        created_at=now,
        due_at=due_at_for(category=category, priority=priority, start=now),
        report_count=1,
        language=report.language,
    )
    report.issue = issue
    if photo is not None:
        report.photo.save(photo.name, photo, save=False)
    _photo_pending(report)
    event = Event(
        issue=issue, kind=Event.Kind.CREATED, actor=author, is_public=True, data={"channel": channel}, created_at=now
    )
    rows = [
        Row(issue),
        Row(report, refs={"issue_id": 0}),
        Row(event, refs={"issue_id": 0}, json_refs={"data": {"report_id": 1}}),
    ]
    # An assignment rule gives it an officer at once (cases.services.assignment): no statement
    # when no rule fits; the timeline says which rule, in the same statement as the issue.
    rule = rule_for(category_id=category.pk, neighborhood=place)
    officer = officer_by_rule(rule) if rule is not None else None
    if officer is not None:
        issue.assignee = officer
        rows.append(Row(rule_event(issue=issue, rule=rule, officer=officer, now=now), refs={"issue_id": 0}))
    # A new issue's description is its first report's text: the text's queue item is the
    # description's (no report, as a moderator edits it), the photo's names the report.
    rows += [
        Row(item, refs={"issue_id": 0, "report_id": 1} if item.report is not None else {"issue_id": 0})
        for item in _moderation_items(
            issue=issue, report=report, masked=masked.combined(masked_address), now=now, text_of_issue=True
        )
    ]
    if report.reporter_email:
        rows.append(Row(_report_receipt(issue=issue, report=report, category=category, now=now), refs={"issue_id": 0}))
        if report.contact_consent:  # they hear about its updates (cases.notifications.residents)
            follower = Follower(
                email=report.reporter_email.lower(),
                language=report.language,
                source=Follower.Source.REPORTER,
                confirmed_at=now,
                created_at=now,
            )
            rows.append(Row(follower, refs={"issue_id": 0}))
    # The rollups' change log, in the same statement; the save signal rows_insert sends then
    # leaves it alone (cases.figure_changes).
    if settings.ROLLUP_CHANGE_LOG:
        rows.append(Row(ChangedDay(day=local_day(now), neighborhood_id=place.pk)))
        issue.figure_days_logged = True
    rows_insert(*rows)
    if officer is not None:
        assignment_notice(issue=issue, officer=officer, now=now).save(force_insert=True)
    return report


def _photo_pending(report: Report) -> None:
    """A photo, or a media link a 311 client sent, waits for a moderator before the public sees it."""
    if report.photo or report.media_url:
        report.photo_state = Report.PhotoState.PENDING


def _moderation_items(
    *, issue: Issue, report: Report, masked: Masked, now: datetime, text_of_issue: bool = False
) -> list[ModerationItem]:
    """Unsaved queue items for what a moderator should see of a new report: masked or doubtful text, a photo.

    Findings are counts by kind, never the values. Flagged text (a guess, or digits left as they
    were) outranks masked text: a moderator must read it.
    """
    items = []
    if masked.flagged or masked.changed:
        reason = ModerationItem.Reason.FLAGGED if masked.flagged else ModerationItem.Reason.MASKED
        items.append(
            ModerationItem(
                issue=issue,
                report=None if text_of_issue else report,
                reason=reason,
                findings=dict(masked.findings),
                created_at=now,
            )
        )
    if report.photo_state == Report.PhotoState.PENDING:
        items.append(ModerationItem(issue=issue, report=report, reason=ModerationItem.Reason.PHOTO, created_at=now))
    return items


@transaction.atomic
def _report_join(
    *, join_issue: Issue, report: Report, masked: Masked, category: Category, photo, actor, now: datetime
) -> Report:
    """ "Me too": the report joins an open issue of its kind, under the issue's row lock."""
    issue = _locked(join_issue)
    if not issue.is_open:
        raise ValidationError({"join_issue": _("That issue is no longer open; submit a new report instead.")})
    if issue.category_id != category.pk:
        raise ValidationError({"join_issue": _("That issue is about a different kind of problem.")})
    Issue.objects.filter(pk=issue.pk).update(report_count=F("report_count") + 1)
    issue.report_count += 1
    report.issue = issue
    if photo is not None:
        report.photo.save(photo.name, photo, save=False)
    _photo_pending(report)
    report.save()
    items = _moderation_items(issue=issue, report=report, masked=masked, now=now)
    if items:
        ModerationItem.objects.bulk_create(items)
    event_record(
        issue=issue,
        kind=Event.Kind.REPORT_ADDED,
        actor=actor,
        is_public=True,
        message=_("Another resident reported the same problem."),
        data={"channel": report.channel, "report_id": report.pk},
        at=now,
    )
    if report.reporter_email:
        _report_receipt(issue=issue, report=report, category=category, now=now).save(force_insert=True)
        reporter_follows(report=report, now=now)
    return report


def _report_receipt(*, issue: Issue, report: Report, category: Category, now: datetime) -> OutboxMessage:
    """The confirmation email to the resident (unsaved), with the tracking code, the date it is due
    and the status page's address (absolute, in the language of the page that took the report)."""
    status_url = absolute_url(reverse("report_status", args=[issue.tracking_code]))
    return OutboxMessage(
        channel=OutboxMessage.Channel.EMAIL,
        recipient_email=report.reporter_email,
        issue=issue,
        subject=(_("We received your report %(code)s") % {"code": issue.tracking_code})[:200],
        body=_(
            "Thank you. Your report about %(category)s has tracking code %(code)s.\n"
            "We expect to act on it by %(due)s. Follow it at %(url)s"
        )
        % {
            "category": category.name,
            "code": issue.tracking_code,
            "due": date_format(timezone.localtime(issue.due_at), "DATE_FORMAT"),
            "url": status_url,
        },
        url=status_url,
        next_attempt_at=now,
        created_at=now,
    )


# --- officer actions --------------------------------------------------------------


@transaction.atomic
def issue_acknowledge(*, issue: Issue, actor) -> Issue:
    issue = _locked(issue)
    _require(issue, "acknowledge", _("acknowledge"))
    now = timezone.now()
    issue.status = Status.ACKNOWLEDGED
    issue.acknowledged_at = now
    issue.save(update_fields=["status", "acknowledged_at", "updated_at"])
    _status_event(issue, kind=Event.Kind.ACKNOWLEDGED, actor=actor, at=now)
    return issue


@transaction.atomic
def issue_assign(*, issue: Issue, officer, actor) -> Issue:
    issue = _locked(issue)
    _require(issue, "assign", _("assign"))
    if officer is not None and (not officer.is_active or not officer.has_perm("cases.work_issue")):
        raise ValidationError({"officer": _("%(name)s cannot work issues.") % {"name": officer.get_username()}})
    previous = issue.assignee
    issue.assignee = officer
    fields = ["assignee", "updated_at"]
    if officer is not None and issue.status in (Status.NEW, Status.ACKNOWLEDGED):
        if issue.status == Status.NEW:
            issue.acknowledged_at = timezone.now()
            fields.append("acknowledged_at")
        issue.status = Status.IN_PROGRESS
        fields.append("status")
    issue.save(update_fields=fields)
    event = event_record(
        issue=issue,
        kind=Event.Kind.ASSIGNED,
        actor=actor,
        message=officer.get_full_name() or officer.get_username() if officer else _("Unassigned"),
        data={"from": previous.pk if previous else None, "to": officer.pk if officer else None},
    )
    if "status" in fields:  # taken up: the issue entered "in progress"
        auto = _auto_response(issue)
        _auto_note(issue, actor=actor, auto=auto, at=event.created_at)
    if officer is not None and officer != actor:
        # In the officer's language, not the assigning person's.
        assignment_notice(issue=issue, officer=officer, now=timezone.now()).save(force_insert=True)
    return issue


@transaction.atomic
def issue_set_approach(*, issue: Issue, approach: str, actor) -> Issue:
    issue = _locked(issue)
    _require(issue, "approach", _("change the approach of"))
    if approach not in Approach.values:
        raise ValidationError({"approach": _("Choose deter, problem-solve or enforce.")})
    previous = issue.approach
    issue.approach = approach
    issue.save(update_fields=["approach", "updated_at"])
    event_record(
        issue=issue,
        kind=Event.Kind.APPROACH,
        actor=actor,
        message=Approach(approach).label,
        data={"from": previous, "to": approach},
    )
    return issue


@transaction.atomic
def issue_set_priority(*, issue: Issue, priority: str, actor, reason: str = "") -> Issue:
    """Change the priority; due_at follows the category's target for the new priority."""
    issue = _locked(issue)
    _require(issue, "priority", _("change the priority of"))
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority.")})
    if priority == issue.priority:
        return issue
    previous = issue.priority
    # Keep any time already spent on hold: shift by the difference of targets.
    delta = timedelta(hours=issue.category.target_hours(priority) - issue.category.target_hours(previous))
    issue.priority = priority
    issue.due_at = max(issue.due_at + delta, issue.created_at + timedelta(minutes=1))
    issue.save(update_fields=["priority", "due_at", "updated_at"])
    event_record(
        issue=issue,
        kind=Event.Kind.PRIORITY,
        actor=actor,
        message=reason,
        data={"from": previous, "to": priority, "due_at": issue.due_at.isoformat()},
    )
    return issue


def next_priority(priority: str) -> str:
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


NOTE_CLIENT_KEY_KIND = "cases.note"


class IssueFinishedMeanwhile(Conflict):
    """A note written while the issue was open arrives after it was finished (an officer offline)."""

    code = "issue_finished"


@transaction.atomic
def issue_add_note(
    *,
    issue: Issue,
    actor,
    text: str,
    public: bool = False,
    client_key=None,
    seen_status: str | None = None,
    confirm: bool = False,
) -> Event:
    """A note on the issue's timeline (allowed in every status).

    ``client_key``: the UUID the officer's device made for this note (``core.client_keys``); a
    note already added with it is returned as it is (``replayed`` True) and nothing is written.
    ``seen_status``: the status the officer saw when writing it (a page kept on a phone may be
    hours old). If the issue was finished since, the note is refused with ``IssueFinishedMeanwhile``
    so the officer decides; ``confirm=True`` adds it anyway.
    """
    issue = _locked(issue)
    key = client_key_parse(client_key)
    if seen_status not in (None, "") and seen_status not in Status.values:
        raise ValidationError({"seen_status": _("Unknown status.")})
    if key is not None:
        made = client_key_claim(key=key, actor=actor, kind=NOTE_CLIENT_KEY_KIND)
        if made is not None:
            existing = Event.objects.filter(pk=made).first()
            if existing is None or existing.issue_id != issue.pk:
                raise Conflict(
                    _("This idempotency key was already used for another entry. Send it with a new key."),
                    code="client_key_reused",
                )
            existing.replayed = True
            return existing
    if (
        seen_status
        and not confirm
        and seen_status not in Issue.FINISHED_STATUSES
        and issue.status in Issue.FINISHED_STATUSES
    ):
        status = issue.get_status_display()
        raise IssueFinishedMeanwhile(
            _("This issue became “%(status)s” meanwhile. The note was not added: send it anyway or discard it.")
            % {"status": status},
            status=issue.status,
        )
    text = clean_text(text, field="text")
    event = event_record(
        issue=issue,
        kind=Event.Kind.NOTE,
        actor=actor,
        message=text,
        is_public=public,
        names=_reporter_names(issue) if public else (),
    )
    if key is not None:
        client_key_record(key=key, object_id=event.pk)
    event.replayed = False
    return event


@transaction.atomic
def issue_hold(*, issue: Issue, actor, reason: str) -> Issue:
    """Put on hold: the SLA clock stops until resumed."""
    issue = _locked(issue)
    _require(issue, "hold", _("put on hold"))
    reason = clean_text(reason, field="reason", max_length=300)
    now = timezone.now()
    status_before = issue.status
    issue.status = Status.ON_HOLD
    issue.hold_started_at = now
    issue.hold_reason = reason
    issue.save(update_fields=["status", "hold_started_at", "hold_reason", "updated_at"])
    # The reason is required and public: the officer's words answer (no automatic template for "on hold").
    event_record(
        issue=issue,
        kind=Event.Kind.HELD,
        actor=actor,
        message=reason,
        is_public=True,
        names=_reporter_names(issue),
        data={"status_before": status_before},
        at=now,
    )
    return issue


@transaction.atomic
def issue_resume(*, issue: Issue, actor) -> Issue:
    """Take off hold: due_at moves later by exactly the time spent on hold."""
    issue = _locked(issue)
    _require(issue, "resume", _("resume"))
    now = timezone.now()
    held = now - issue.hold_started_at
    held_event = issue.events.filter(kind=Event.Kind.HELD).order_by("-created_at").first()
    before = (held_event.data or {}).get("status_before") if held_event else None
    issue.status = before if before in Issue.ESCALATING_STATUSES else Status.ACKNOWLEDGED
    issue.due_at = issue.due_at + held
    issue.hold_started_at = None
    issue.hold_reason = ""
    issue.save(update_fields=["status", "due_at", "hold_started_at", "hold_reason", "updated_at"])
    event_record(
        issue=issue,
        kind=Event.Kind.RESUMED,
        actor=actor,
        is_public=True,
        data={"held_hours": round(held.total_seconds() / 3600, 2), "due_at": issue.due_at.isoformat()},
        at=now,
    )
    return issue


def _finish(issue: Issue, *, status: str, outcome: str, now: datetime) -> list[str]:
    issue.status = status
    issue.outcome = outcome
    issue.resolved_at = now
    issue.hold_started_at = None
    issue.needs_decision = False
    return ["status", "outcome", "resolved_at", "hold_started_at", "needs_decision", "updated_at"]


@transaction.atomic
def issue_mark_duplicate(*, issue: Issue, of: Issue, actor) -> Issue:
    """Merge into another open issue; this issue's reports move over."""
    issue = _locked(issue)
    _require(issue, "duplicate", _("mark as duplicate"))
    if of.pk == issue.pk:
        raise ValidationError({"duplicate_of": _("An issue cannot duplicate itself.")})
    target = _locked(of)
    if target.status == Status.DUPLICATE:
        target = _locked(target.duplicate_of)
    if not target.is_open:
        raise ValidationError({"duplicate_of": _("Merge into an open issue.")})
    now = timezone.now()
    moved = Report.objects.filter(issue=issue).update(issue=target)
    Issue.objects.filter(pk=target.pk).update(report_count=F("report_count") + moved)
    issue.report_count = 0
    issue.duplicate_of = target
    fields = _finish(issue, status=Status.DUPLICATE, outcome=Issue.Outcome.DUPLICATE, now=now)
    issue.save(update_fields=fields + ["duplicate_of", "report_count"])
    event_record(
        issue=issue,
        kind=Event.Kind.DUPLICATE,
        actor=actor,
        is_public=True,
        message=_("Merged into %(code)s.") % {"code": target.tracking_code},
        data={"into": target.pk, "reports_moved": moved},
        at=now,
    )
    event_record(
        issue=target,
        kind=Event.Kind.REPORT_ADDED,
        actor=actor,
        is_public=True,
        message=_("%(n)d report(s) merged from a duplicate.") % {"n": moved},
        data={"from": issue.pk, "reports_moved": moved},
        at=now,
    )
    return issue


@transaction.atomic
def issue_refer(*, issue: Issue, agency: str, actor, note: str = "") -> Issue:
    issue = _locked(issue)
    _require(issue, "refer", _("refer"))
    agency = clean_text(agency, field="agency", max_length=160)
    now = timezone.now()
    fields = _finish(issue, status=Status.REFERRED, outcome=Issue.Outcome.REFERRED, now=now)
    issue.referred_to = agency
    issue.resolution_note = note.strip()
    issue.save(update_fields=fields + ["referred_to", "resolution_note"])
    # The referral's note is internal (the resolution note): the public reads the agency, and the
    # automatic response when there is one.
    _status_event(
        issue,
        kind=Event.Kind.REFERRED,
        actor=actor,
        at=now,
        message=_("Referred to %(agency)s.") % {"agency": agency},
        data={"agency": agency},
    )
    return issue


@transaction.atomic
def issue_resolve(*, issue: Issue, actor, note: str) -> Issue:
    issue = _locked(issue)
    _require(issue, "resolve", _("resolve"))
    note = clean_text(note, field="note")
    now = timezone.now()
    fields = _finish(issue, status=Status.RESOLVED, outcome=Issue.Outcome.RESOLVED, now=now)
    issue.resolution_note = note
    issue.save(update_fields=fields + ["resolution_note"])
    # The resolution note is required and public: the officer's words answer (no automatic template
    # for "resolved").
    event_record(
        issue=issue,
        kind=Event.Kind.RESOLVED,
        actor=actor,
        is_public=True,
        message=note,
        at=now,
        names=_reporter_names(issue),
    )
    return issue


@transaction.atomic
def issue_record_crime_report(*, issue: Issue, actor, report_number: str, note: str = "") -> Issue:
    """The outcome the program exists to prevent: counted, with its report number."""
    issue = _locked(issue)
    _require(issue, "crime-report", _("record a crime report on"))
    report_number = clean_text(report_number, field="report_number", max_length=40)
    now = timezone.now()
    fields = _finish(issue, status=Status.CLOSED, outcome=Issue.Outcome.CRIME_REPORT, now=now)
    issue.closed_at = now
    issue.crime_report_number = report_number
    issue.resolution_note = note.strip()
    issue.save(update_fields=fields + ["closed_at", "crime_report_number", "resolution_note"])
    event_record(
        issue=issue,
        kind=Event.Kind.CRIME_REPORT,
        actor=actor,
        is_public=False,
        message=note.strip(),
        data={"report_number": report_number},
        at=now,
    )
    event_record(
        issue=issue, kind=Event.Kind.CLOSED, actor=actor, is_public=True, message=_("Closed by the department."), at=now
    )
    return issue


@transaction.atomic
def issue_close(*, issue: Issue, actor) -> Issue:
    issue = _locked(issue)
    _require(issue, "close", _("close"))
    now = timezone.now()
    issue.status = Status.CLOSED
    issue.closed_at = now
    issue.save(update_fields=["status", "closed_at", "updated_at"])
    # Only this plain closing answers with the automatic "closed" template: a crime report closes
    # too, but what the public reads of it stays the department's one line.
    _status_event(issue, kind=Event.Kind.CLOSED, actor=actor, at=now)
    return issue


@transaction.atomic
def issue_reopen(*, issue: Issue, actor, reason: str, by_resident: bool = False) -> Issue:
    """Open again: a fresh due_at from now, and escalation climbs again from level 0."""
    issue = _locked(issue)
    _require(issue, "reopen", _("reopen"))
    if issue.outcome == Issue.Outcome.CRIME_REPORT:
        raise ValidationError(_("An issue that became a crime report stays closed; open a new issue."))
    reason = clean_text(reason, field="reason", max_length=2000)
    now = timezone.now()
    issue.status = Status.ACKNOWLEDGED if issue.acknowledged_at else Status.NEW
    issue.outcome = ""
    issue.resolved_at = None
    issue.closed_at = None
    issue.referred_to = ""
    issue.resolution_note = ""
    issue.escalation_level = 0
    issue.needs_decision = False
    issue.reopen_count = F("reopen_count") + 1
    issue.due_at = due_at_for(category=issue.category, priority=issue.priority, start=now)
    issue.save(
        update_fields=[
            "status",
            "outcome",
            "resolved_at",
            "closed_at",
            "referred_to",
            "resolution_note",
            "escalation_level",
            "needs_decision",
            "reopen_count",
            "due_at",
            "updated_at",
        ]
    )
    issue.refresh_from_db(fields=["reopen_count"])
    event_record(
        issue=issue,
        kind=Event.Kind.REOPENED,
        actor=actor,
        is_public=True,
        message=reason,
        names=() if by_resident else _reporter_names(issue),
        data={"by_resident": by_resident, "due_at": issue.due_at.isoformat()},
        at=now,
    )
    _assign_by_rule(issue, now=now)
    return issue


def _assign_by_rule(issue: Issue, *, now: datetime) -> None:
    """An open issue nobody is assigned to goes where its assignment rule says, if one fits
    (reopened, or moved to another category); recorded and told as at filing."""
    if issue.assignee_id is not None:
        return
    rule = rule_for(category_id=issue.category_id, neighborhood=issue.neighborhood)
    officer = officer_by_rule(rule) if rule is not None else None
    if officer is None:
        return
    issue.assignee = officer
    issue.save(update_fields=["assignee", "updated_at"])
    event = rule_event(issue=issue, rule=rule, officer=officer, now=now)
    event_record(
        issue=issue,
        kind=event.kind,
        actor=None,
        is_public=False,
        message=event.message,
        data=event.data,
        at=now,
    )
    assignment_notice(issue=issue, officer=officer, now=now).save(force_insert=True)


@transaction.atomic
def issue_recategorize(*, issue: Issue, category: Category, actor) -> Issue:
    """Move an open issue to another category: its due time moves by the difference between the
    two categories' targets (time on hold stays counted), and an unassigned issue goes where the
    new category's assignment rule says."""
    issue = _locked(issue)
    _require(issue, "recategorize", _("change the category of"))
    if not category.is_active:
        raise ValidationError({"category": _("This category no longer takes reports.")})
    if category.pk == issue.category_id:
        raise ValidationError({"category": _("The issue is already in that category.")})
    previous = issue.category
    now = timezone.now()
    shift = due_at_for(category=category, priority=issue.priority, start=now) - due_at_for(
        category=previous, priority=issue.priority, start=now
    )
    issue.category = category
    issue.due_at = issue.due_at + shift
    issue.save(update_fields=["category", "due_at", "updated_at"])
    event_record(
        issue=issue,
        kind=Event.Kind.RECATEGORIZED,
        actor=actor,
        is_public=False,
        message=category.name_en,
        data={"from": previous.pk, "to": category.pk, "due_at": issue.due_at.isoformat()},
        at=now,
    )
    _assign_by_rule(issue, now=now)
    return issue


@transaction.atomic
def feedback_submit(*, issue: Issue, fixed: bool, satisfaction: int, comment: str = "") -> Feedback:
    """A resident says whether a resolved issue is really fixed; "not fixed" reopens it."""
    issue = _locked(issue)
    if issue.status not in (Status.RESOLVED, Status.CLOSED) or issue.outcome != Issue.Outcome.RESOLVED:
        raise ValidationError(_("Feedback is asked once the issue is resolved."))
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ValidationError({"satisfaction": _("Choose a number from 1 to 5.")})
    comment = clean_text(comment, field="comment", required=False, max_length=2000)
    now = timezone.now()
    feedback = Feedback.objects.create(
        issue=issue, fixed=fixed, satisfaction=satisfaction, comment=comment, created_at=now
    )
    event_record(
        issue=issue,
        kind=Event.Kind.FEEDBACK,
        is_public=False,
        message=comment,
        data={"fixed": fixed, "satisfaction": satisfaction},
        at=now,
    )
    if not fixed:
        issue_reopen(issue=issue, actor=None, reason=_("The resident says it is not fixed."), by_resident=True)
    return feedback


@transaction.atomic
def contact_view_record(*, issue: Issue, actor, reason: str, reason_code: str = Event.RevealReason.OTHER) -> Event:
    """Audit: a staff member saw residents' contact details on this issue, and why.

    ``reason`` is what the audit log shows (the chosen reason's words, or the text typed
    for "Other"); ``reason_code`` one of ``Event.RevealReason``. No reason, no record —
    and callers show the details only once this has returned.
    """
    reason = clean_text(reason, field="reason", max_length=300)
    if reason_code not in Event.RevealReason.values:
        raise ValidationError({"reason_code": _("Choose a reason from the list.")})
    return event_record(
        issue=issue,
        kind=Event.Kind.CONTACT_VIEWED,
        actor=actor,
        is_public=False,
        message=reason,
        data={"reason_code": str(reason_code)},
    )


@transaction.atomic
def api_client_revoke(*, client: ApiClient) -> ApiClient:
    client.is_active = False
    client.revoked_at = timezone.now()
    client.save(update_fields=["is_active", "revoked_at"])
    return client
