""" "Is it fixed?": some days after an issue is resolved (``Category.fixed_check_days``, 7 by
default, 0 never), its reporter — a follower who reported it (``cases.notifications.residents``) —
is asked by email, with two links: yes and no. Each link is signed, names one question and one
answer, works for ``FIXED_CHECK_ANSWER_DAYS`` days, and only once: the first answer stays. "No"
reopens the issue as the status page's "not fixed" does. The worker asks (``fixed_checks_send``,
hourly, idempotent: one ``FixedCheck`` per reporter and resolution, unique in the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.models import Category, Event, FixedCheck, Follower, Issue, OutboxMessage
from cases.notifications.outbox import resident_email
from cases.services.issues import event_record, issue_reopen
from core.site import absolute_url

__all__ = ["FIXED_CHECK_ANSWER_DAYS", "FixedAnswer", "fixed_check_answer", "fixed_check_token", "fixed_checks_send"]

SALT = "cases.fixed_check"
FIXED_CHECK_ANSWER_DAYS = 30
# A worker that was down asks late, up to a week; an issue resolved longer ago is not asked.
CATCH_UP = timedelta(days=7)


def fixed_check_token(check: FixedCheck, answer: bool) -> str:
    return signing.dumps([check.pk, int(answer)], salt=SALT, compress=True)


def _question(check: FixedCheck, issue: Issue, follower: Follower) -> OutboxMessage:
    with translation.override(follower.language):
        context = {
            "code": issue.tracking_code,
            "category": issue.category.name,
            "yes_url": absolute_url(reverse("fixed_check_answer", args=[fixed_check_token(check, True)])),
            "no_url": absolute_url(reverse("fixed_check_answer", args=[fixed_check_token(check, False)])),
            "status_url": absolute_url(reverse("report_status", args=[issue.tracking_code])),
            "days": FIXED_CHECK_ANSWER_DAYS,
        }
    return resident_email(
        template="fixed_check",
        context=context,
        language=follower.language,
        recipient_email=follower.email,
        now=check.asked_at,
        issue=issue,
        dedupe_key=f"fixed:{check.pk}",
    )


def fixed_checks_send(*, now: datetime | None = None) -> int:
    """Ask every reporter whose issue was resolved its category's days ago and who was not asked
    about that resolution yet; the number asked."""
    now = now or timezone.now()
    asked = 0
    for category in Category.objects.filter(fixed_check_days__gt=0).only("pk", "fixed_check_days"):
        due = now - timedelta(days=category.fixed_check_days)
        with transaction.atomic():
            followers = list(
                Follower.objects.filter(
                    issue__category=category,
                    issue__status=Issue.Status.RESOLVED,
                    issue__outcome=Issue.Outcome.RESOLVED,
                    issue__resolved_at__lte=due,
                    issue__resolved_at__gt=due - CATCH_UP,
                    source=Follower.Source.REPORTER,
                    confirmed_at__isnull=False,
                    unsubscribed_at__isnull=True,
                )
                .select_related("issue", "issue__category")
                .order_by("pk")
            )
            for follower in followers:
                issue = follower.issue
                check, created = FixedCheck.objects.get_or_create(
                    follower=follower, issue=issue, resolved_at=issue.resolved_at, defaults={"asked_at": now}
                )
                if created:
                    _question(check, issue, follower).save(force_insert=True)
                    asked += 1
    return asked


@dataclass(frozen=True)
class FixedAnswer:
    """What became of an answer: "recorded", "already" (answered before: the first answer stays),
    "changed" (the issue is no longer that resolution), "expired" or "invalid"."""

    state: str
    check: FixedCheck | None = None


def fixed_check_answer(token: str, *, record: bool = True) -> FixedAnswer:
    """The answer a link carries, recorded (unless ``record`` is False: only looked up)."""
    try:
        pk, answer = signing.loads(token, salt=SALT, max_age=FIXED_CHECK_ANSWER_DAYS * 24 * 3600)
    except signing.SignatureExpired:
        return FixedAnswer("expired")
    except (signing.BadSignature, ValueError, TypeError):
        return FixedAnswer("invalid")
    with transaction.atomic():
        check = FixedCheck.objects.select_for_update().select_related("issue").filter(pk=pk).first()
        if check is None:
            return FixedAnswer("invalid")
        if check.answered_at is not None:
            return FixedAnswer("already", check)
        issue = check.issue
        if issue.status != Issue.Status.RESOLVED or issue.resolved_at != check.resolved_at:
            return FixedAnswer("changed", check)
        if not record:
            return FixedAnswer("asked", check)
        check.answered_at = timezone.now()
        check.fixed = bool(answer)
        check.save(update_fields=["answered_at", "fixed"])
        event_record(
            issue=issue,
            kind=Event.Kind.FEEDBACK,
            is_public=False,
            data={"fixed": check.fixed, "via": "email"},
            at=check.answered_at,
        )
        if not check.fixed:
            issue_reopen(issue=issue, actor=None, reason=_("The resident says it is not fixed."), by_resident=True)
    return FixedAnswer("recorded", check)
