"""Anonymous two-way messages between a report's holder and staff (Crime Stoppers practice).

The resident is known only by the report's private message key (``cases.message_keys``):
no account, no contact detail, and nothing identifying the device or the address is
written — not in these rows, not in the timeline, not in a log line. The timeline
records that a message came or a reply went (internal events, without the text);
the text lives only in ``ResidentMessage``, which no public page, Open311 answer
or public timeline reads. Staff replies are shown as "Community policing officer",
never by name.
"""

from __future__ import annotations

import hmac
import unicodedata
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from cases.message_keys import message_key_hash, message_key_hashes, message_key_new
from cases.models import Event, Issue, OutboxMessage, Report, ResidentMessage, tracking_code_normalize
from cases.notifications.outbox import outbox_enqueue
from cases.selectors.issues import can_work_issue
from cases.services.issues import event_record
from partners.models import StaffProfile

__all__ = [
    "MESSAGE_MAX_CHARS",
    "message_key_new",
    "message_key_hash",
    "report_for_message_key",
    "resident_message_send",
    "staff_reply_send",
    "resident_messages_mark_read",
    "staff_replies_mark_read",
]

MESSAGE_MAX_CHARS = 2000
Direction = ResidentMessage.Direction
# Line breaks and tabs are text; every other control or format character (NUL, escape
# sequences, bidirectional overrides that disguise what a message says) is refused.
_ALLOWED_CONTROLS = {"\n", "\t"}


def _clean_body(body: str) -> str:
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError({"body": _("Write a message.")})
    if len(text) > MESSAGE_MAX_CHARS:
        raise ValidationError(
            {
                "body": _("Keep your message under %(n)d characters (it has %(count)d).")
                % {"n": MESSAGE_MAX_CHARS, "count": len(text)}
            }
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in _ALLOWED_CONTROLS for ch in text):
        raise ValidationError(
            {"body": _("Your message holds invisible control characters. Type it again as plain text.")}
        )
    return text


def report_for_message_key(*, tracking_code: str, key: str) -> Report | None:
    """The report this key unlocks, when it belongs to the issue of ``tracking_code``; else None.

    The same work whatever is sent: the key's hashes are always computed, then one
    query by hash (report_message_key_idx) and code, whether the code exists or not,
    whether the key is well-formed or not. A report merged into another issue
    (a duplicate, or a duplicate of one) is still found under the code its holder has.
    """
    hashes = message_key_hashes(key)
    code = tracking_code_normalize(tracking_code) or (tracking_code or "")[:40].replace("\x00", "")
    report = (
        Report.objects.filter(message_key_hash__in=hashes)
        .filter(
            Q(issue__tracking_code=code)
            | Q(issue__duplicates__tracking_code=code)
            | Q(issue__duplicates__duplicates__tracking_code=code)
        )
        .select_related("issue")
        .only("id", "issue_id", "language", "message_key_hash", "issue__id", "issue__tracking_code")
        .first()
    )
    matched = False
    for candidate in hashes:
        # Every hash is compared, so a match under a fallback secret takes as long as one under the current.
        matched |= hmac.compare_digest(report.message_key_hash if report else "", candidate)
    return report if report is not None and matched else None


def _message_recipients(issue: Issue) -> list:
    """Who hears of a resident's message: the assignee, or else the staff of the issue's place
    (attached to its neighborhood or its whole district) who may work issues."""
    User = get_user_model()
    if issue.assignee_id:
        return list(User.objects.filter(pk=issue.assignee_id, is_active=True))
    district = issue.neighborhood.district if issue.neighborhood_id else ""
    # Districts are a JSON list: read in Python (a few rows; JSON containment is not portable to SQLite).
    user_ids = {
        user_id
        for user_id, districts in StaffProfile.objects.exclude(districts=[]).values_list("user_id", "districts")
        if district and district in (districts or [])
    }
    user_ids |= set(StaffProfile.objects.filter(neighborhoods=issue.neighborhood_id).values_list("user_id", flat=True))
    if not user_ids:
        return []
    perm = Permission.objects.get(content_type__app_label="cases", codename="work_issue")
    return list(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .filter(Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def resident_message_send(*, report: Report, body: str, language: str, now: datetime | None = None) -> ResidentMessage:
    """A message from the key holder: stored, an internal timeline entry, and a notification.

    Nothing about the sender is taken: not the address, not the browser. The
    notification says that a message came and where to read it, not what it says.
    """
    if not report.message_key_hash:
        raise ValidationError(_("This report has no private message key."))
    text = _clean_body(body)
    now = now or timezone.now()
    issue = Issue.objects.select_related("neighborhood").get(pk=report.issue_id)
    message = ResidentMessage.objects.create(
        issue=issue,
        report_id=report.pk,
        direction=Direction.FROM_RESIDENT,
        body=text,
        language=(language or "en")[:8],
        created_at=now,
    )
    event_record(
        issue=issue,
        kind=Event.Kind.MESSAGE_RECEIVED,
        is_public=False,
        data={"report_id": report.pk, "message_id": message.pk},
        at=now,
    )
    url = f"{issue.get_absolute_url()}#messages-{report.pk}"
    for recipient in _message_recipients(issue):
        # Staff pages have no per-user language: the department's, not the resident's.
        with override(settings.LANGUAGE_CODE):
            subject = _("A resident wrote about %(code)s") % {"code": issue.tracking_code}
            note = _("Read the message and reply on the issue page.")
        outbox_enqueue(
            channel=OutboxMessage.Channel.IN_APP,
            recipient=recipient,
            issue=issue,
            subject=subject,
            body=note,
            url=url,
            now=now,
        )
    return message


@transaction.atomic
def staff_reply_send(*, report: Report, body: str, actor, now: datetime | None = None) -> ResidentMessage:
    """A reply to the key holder, in the report's language as typed (no machine translation).

    Needs ``cases.add_residentmessage`` and the right to work the issue. The reply is
    private to the key holder: the timeline gets an internal entry without its text.
    """
    issue = Issue.objects.select_for_update().get(pk=report.issue_id)
    if not (actor.has_perm("cases.add_residentmessage") and can_work_issue(actor, issue)):
        raise PermissionDenied(_("You may not reply to residents on this issue."))
    if not report.message_key_hash:
        raise ValidationError(_("This resident has no private key, so cannot read a reply here."))
    text = _clean_body(body)
    now = now or timezone.now()
    message = ResidentMessage.objects.create(
        issue=issue,
        report_id=report.pk,
        direction=Direction.TO_RESIDENT,
        body=text,
        language=(report.language or "en")[:8],
        author=actor,
        created_at=now,
    )
    event_record(
        issue=issue,
        kind=Event.Kind.MESSAGE_REPLIED,
        actor=actor,
        is_public=False,
        data={"report_id": report.pk, "message_id": message.pk},
        at=now,
    )
    # Replying answers what the resident wrote before.
    ResidentMessage.objects.filter(
        report_id=report.pk, direction=Direction.FROM_RESIDENT, read_at__isnull=True, created_at__lte=now
    ).update(read_at=now)
    return message


def resident_messages_mark_read(*, issue: Issue, reports, user, now: datetime | None = None) -> int:
    """Staff who may work the issue have seen these reports' messages from residents (the issue page).

    Someone only reading the issue leaves them unread for the officers who answer them.
    By report, not issue: a report merged into another issue keeps its conversation.
    """
    if not can_work_issue(user, issue):
        return 0
    return ResidentMessage.objects.filter(
        report_id__in=[report.pk for report in reports], direction=Direction.FROM_RESIDENT, read_at__isnull=True
    ).update(read_at=now or timezone.now())


def staff_replies_mark_read(*, report: Report, now: datetime | None = None) -> int:
    """The key holder has seen the replies (the thread page)."""
    return ResidentMessage.objects.filter(
        report_id=report.pk, direction=Direction.TO_RESIDENT, read_at__isnull=True
    ).update(read_at=now or timezone.now())
