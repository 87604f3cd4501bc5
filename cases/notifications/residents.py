"""Residents kept in the loop: an issue's updates, by email, to whoever follows it.

Followers (``cases.models.Follower``) are the reporter who left an email and agreed to be
contacted, and anyone who followed the issue from its status page and confirmed. When an issue is
acknowledged, resolved, referred, closed, reopened or merged into another, each active follower
gets one email (``updates_enqueue``, called by ``cases.services.issues.event_record`` in the
transaction of the change): in the follower's language, plain text and HTML, the public note as
the status page shows it, absolute links (``core.site``) and a one-click unsubscribe link
(RFC 8058: ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers, added by the drain). The
outbox delivers them (``cases.notifications.drain``); a follower of a merged issue follows the
issue it was merged into from then on.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import Event, Follower, Issue, OutboxMessage, Report
from cases.notifications.outbox import resident_email
from core.site import absolute_url

__all__ = [
    "CONFIRM_MAX_AGE",
    "UPDATE_KINDS",
    "follower_confirm",
    "follower_from_token",
    "follower_request",
    "follower_unsubscribe",
    "reporter_follows",
    "unsubscribe_token",
    "updates_enqueue",
]

# The timeline entries a follower hears about (when public).
UPDATE_KINDS = (
    Event.Kind.ACKNOWLEDGED,
    Event.Kind.RESOLVED,
    Event.Kind.REFERRED,
    Event.Kind.CLOSED,
    Event.Kind.REOPENED,
    Event.Kind.DUPLICATE,
)
UNSUBSCRIBE_SALT = "cases.follower.unsubscribe"
CONFIRM_SALT = "cases.follower.confirm"
# How long the link that confirms a follower works (seconds).
CONFIRM_MAX_AGE = 7 * 24 * 3600


def reporter_follows(*, report: Report, now=None) -> Follower | None:
    """The reporter of ``report`` follows its issue, when they left an email and agreed to be contacted."""
    if not (report.reporter_email and report.contact_consent):
        return None
    follower, _ = Follower.objects.get_or_create(
        issue_id=report.issue_id,
        email=report.reporter_email.strip().lower(),
        defaults={
            "language": report.language,
            "source": Follower.Source.REPORTER,
            "confirmed_at": now or timezone.now(),
            "created_at": now or timezone.now(),
        },
    )
    return follower


def follower_request(*, issue: Issue, email: str, language: str, now=None) -> Follower | None:
    """Someone asks to follow ``issue`` from its status page: a follower waiting for confirmation,
    and an email with the link that confirms it (double opt-in: nobody can sign someone else up).
    None, and no email, when that address already follows it; the page answers the same either
    way, so it never tells whether an address follows an issue."""
    now = now or timezone.now()
    email = email.strip().lower()
    follower, created = Follower.objects.get_or_create(
        issue=issue,
        email=email,
        defaults={"language": language, "source": Follower.Source.FOLLOWER, "created_at": now},
    )
    if not created:
        if follower.active:
            return None
        # Waiting for confirmation, or stopped earlier: a new link; confirming starts the updates again.
        follower.language = language
        follower.confirmed_at = None
        follower.unsubscribed_at = None
        follower.save(update_fields=["language", "confirmed_at", "unsubscribed_at"])
    token = signing.dumps(follower.pk, salt=CONFIRM_SALT, compress=True)
    with translation.override(language):
        context = {
            "code": issue.tracking_code,
            "category": issue.category.name,
            "confirm_url": absolute_url(reverse("follower_confirm", args=[token])),
            "status_url": absolute_url(reverse("report_status", args=[issue.tracking_code])),
            "days": CONFIRM_MAX_AGE // 86400,
        }
    resident_email(
        template="follow_confirm", context=context, language=language, recipient_email=email, now=now, issue=issue
    ).save(force_insert=True)
    return follower


def follower_confirm(token: str, *, confirm: bool = True) -> tuple[Follower | None, str]:
    """The follower a confirmation link names, confirmed (unless ``confirm`` is False: only looked
    up), and what became of the link: "ok", "expired" or "invalid"."""
    try:
        pk = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        return None, "expired"
    except signing.BadSignature:
        return None, "invalid"
    follower = Follower.objects.select_related("issue").filter(pk=pk).first() if isinstance(pk, int) else None
    if follower is None:
        return None, "invalid"
    if confirm and follower.confirmed_at is None:
        follower.confirmed_at = timezone.now()
        follower.unsubscribed_at = None
        follower.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return follower, "ok"


def unsubscribe_token(follower: Follower) -> str:
    return signing.dumps(follower.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def follower_from_token(token: str) -> Follower | None:
    """The follower an unsubscribe link names, or None for a link that is not ours (or altered)."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Follower.objects.select_related("issue").filter(pk=pk).first() if isinstance(pk, int) else None


def follower_unsubscribe(follower: Follower) -> Follower:
    """No more updates to this follower (idempotent: the first time stays)."""
    if follower.unsubscribed_at is None:
        follower.unsubscribed_at = timezone.now()
        Follower.objects.filter(pk=follower.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=follower.unsubscribed_at
        )
    return follower


def _update_message(
    *, event: Event, issue: Issue, follower: Follower, merged_into: Issue | None, also: str = ""
) -> OutboxMessage:
    with translation.override(follower.language):
        status_url = absolute_url(reverse("report_status", args=[issue.tracking_code]))
        unsubscribe_url = absolute_url(reverse("follower_unsubscribe", args=[unsubscribe_token(follower)]))
        context = {
            "code": issue.tracking_code,
            "category": issue.category.name,
            "what": Event.Kind(event.kind).label,
            "note": "\n\n".join(
                part for part in (event.message if event.kind != Event.Kind.DUPLICATE else "", also) if part
            ),
            "merged_into": merged_into.tracking_code if merged_into else "",
            "merged_url": absolute_url(reverse("report_status", args=[merged_into.tracking_code]))
            if merged_into
            else "",
            "status_url": status_url,
            "unsubscribe_url": unsubscribe_url,
            "reporter": follower.source == Follower.Source.REPORTER,
        }
    return resident_email(
        template="issue_update",
        context=context,
        language=follower.language,
        recipient_email=follower.email,
        now=event.created_at,
        issue=issue,
        unsubscribe_url=unsubscribe_url,
        dedupe_key=f"update:{event.pk}:{follower.pk}",
    )


def updates_enqueue(event: Event, *, also: str = "") -> int:
    """Queue the email each active follower of the event's issue gets about it; the number queued.
    ``also``: public words the email carries after the event's own (an automatic response, which
    is a note of its own on the timeline, answering this status change)."""
    if not event.is_public or event.kind not in UPDATE_KINDS:
        return 0
    issue = event.issue
    followers = list(
        Follower.objects.filter(issue=issue, confirmed_at__isnull=False, unsubscribed_at__isnull=True).order_by("pk")
    )
    merged_into = issue.duplicate_of if event.kind == Event.Kind.DUPLICATE else None
    messages = [
        _update_message(event=event, issue=issue, follower=f, merged_into=merged_into, also=also) for f in followers
    ]
    OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
    if merged_into is not None:
        _follow_instead(issue, merged_into)
    return len(messages)


def _follow_instead(issue: Issue, target: Issue) -> None:
    """The followers of a merged issue follow the issue it was merged into (once each)."""
    already = set(Follower.objects.filter(issue=target).values_list("email", flat=True))
    Follower.objects.filter(issue=issue, email__in=already).delete()
    Follower.objects.filter(issue=issue).update(issue=target)
