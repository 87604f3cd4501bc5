"""Area alerts: a daily email of the new public reports and resolutions in the neighborhoods a
resident chose (``AreaSubscription``), started at ``/alerts/``.

Double opt-in as for following an issue (``cases.notifications.residents``): a subscription
waits until the link emailed to the address is opened and its button pressed, and the page
answers the same whether or not the address was subscribed. The worker writes the digests once
a day (``alert_digests_send``): one email per subscriber per day at most (a ``dedupe_key`` per
subscriber and day), none when nothing happened, covering what came since the last one
(``digested_until``). Every digest carries a one-click unsubscribe link (RFC 8058), which deletes
the subscription and its address; an address never confirmed is deleted once its link expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import AreaSubscription, OutboxMessage
from cases.notifications.outbox import resident_email
from cases.selectors.public import area_updates
from core.site import absolute_url

__all__ = [
    "CONFIRM_MAX_AGE",
    "alert_digests_send",
    "subscription_confirm",
    "subscription_from_token",
    "subscription_request",
    "subscription_unsubscribe",
]

CONFIRM_SALT = "cases.alerts.confirm"
STOP_SALT = "cases.alerts.stop"
CONFIRM_MAX_AGE = 7 * 24 * 3600
# The first digest covers the day before; a worker down for days catches up a week at most.
FIRST_WINDOW = timedelta(days=1)
LONGEST_WINDOW = timedelta(days=7)


def subscription_request(*, email: str, neighborhoods, language: str, now: datetime | None = None) -> None:
    """Ask for a daily digest of ``neighborhoods``: the subscription waits for its confirmation
    link, emailed now. An address already subscribed gets a new link; confirming it replaces its
    neighborhoods (so nobody can change someone else's choice without their inbox)."""
    now = now or timezone.now()
    email = email.strip().lower()
    subscription, _ = AreaSubscription.objects.get_or_create(
        email=email, defaults={"language": language, "created_at": now}
    )
    payload = {"s": subscription.pk, "n": sorted(n.pk for n in neighborhoods), "l": language}
    token = signing.dumps(payload, salt=CONFIRM_SALT, compress=True)
    names = ", ".join(sorted(n.name for n in neighborhoods))
    with translation.override(language):
        context = {
            "names": names,
            "confirm_url": absolute_url(reverse("alerts_confirm", args=[token])),
            "days": CONFIRM_MAX_AGE // 86400,
        }
    resident_email(template="alerts_confirm", context=context, language=language, recipient_email=email, now=now).save(
        force_insert=True
    )


def subscription_confirm(token: str, *, confirm: bool = True) -> tuple[AreaSubscription | None, str]:
    """The subscription a confirmation link names, confirmed with the link's neighborhoods (unless
    ``confirm`` is False: only looked up), and "ok", "expired" or "invalid"."""
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        pk, neighborhoods, language = payload["s"], payload["n"], payload["l"]
    except signing.SignatureExpired:
        return None, "expired"
    except (signing.BadSignature, KeyError, TypeError):
        return None, "invalid"
    subscription = AreaSubscription.objects.filter(pk=pk).first()
    if subscription is None:
        return None, "invalid"
    if confirm:
        with transaction.atomic():
            subscription.confirmed_at = timezone.now()
            subscription.unsubscribed_at = None
            subscription.language = language
            subscription.save(update_fields=["confirmed_at", "unsubscribed_at", "language"])
            subscription.neighborhoods.set(neighborhoods)
    return subscription, "ok"


def stop_token(subscription: AreaSubscription) -> str:
    return signing.dumps(subscription.pk, salt=STOP_SALT, compress=True)


def subscription_from_token(token: str) -> tuple[bool, AreaSubscription | None]:
    """Whether a stop link is one of ours, and the subscription it names (None once stopped)."""
    try:
        pk = signing.loads(token, salt=STOP_SALT)
    except signing.BadSignature:
        return False, None
    if not isinstance(pk, int):
        return False, None
    return True, AreaSubscription.objects.filter(pk=pk).first()


def subscription_unsubscribe(subscription: AreaSubscription) -> None:
    """No more digests: the subscription and its address are deleted (idempotent)."""
    AreaSubscription.objects.filter(pk=subscription.pk).delete()


def alert_digests_send(*, now: datetime | None = None) -> int:
    """Today's digest for every active subscriber with something new in their neighborhoods since
    their last one; the number of digests queued. Each neighborhood's news is read once a run."""
    now = now or timezone.now()
    # Never confirmed: the address goes once its link has expired.
    AreaSubscription.objects.filter(
        confirmed_at__isnull=True, created_at__lt=now - timedelta(seconds=CONFIRM_MAX_AGE)
    ).delete()
    subscriptions = list(
        AreaSubscription.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
        .prefetch_related("neighborhoods")
        .order_by("pk")
    )
    day = timezone.localdate(now).isoformat()
    sent_today = set(
        OutboxMessage.objects.filter(
            dedupe_key__in=[f"digest:{subscription.pk}:{day}" for subscription in subscriptions]
        ).values_list("dedupe_key", flat=True)
    )
    news: dict[int, list] = {}
    queued = 0
    for subscription in subscriptions:
        if f"digest:{subscription.pk}:{day}" in sent_today:
            continue  # one a day: what came since waits for tomorrow's
        since = max(subscription.digested_until or now - FIRST_WINDOW, now - LONGEST_WINDOW)
        places = sorted(subscription.neighborhoods.all(), key=lambda n: n.name)
        sections = []
        for place in places:
            if place.pk not in news:
                news[place.pk] = area_updates(neighborhood=place, now=now)
            entries = [entry for entry in news[place.pk] if since < entry.at <= now]
            if entries:
                sections.append((place, entries))
        with transaction.atomic():
            if sections:
                _digest(subscription, sections, now, day).save(force_insert=True)
                queued += 1
            AreaSubscription.objects.filter(pk=subscription.pk).update(digested_until=now)
    return queued


def _digest(subscription: AreaSubscription, sections, now: datetime, day: str) -> OutboxMessage:
    with translation.override(subscription.language):
        stop_url = absolute_url(reverse("alerts_stop", args=[stop_token(subscription)]))
        context = {
            "sections": [
                {
                    "name": place.name,
                    "feed_url": absolute_url(reverse("feed_neighborhood", args=[place.slug])),
                    "entries": [
                        {
                            "kind": entry.kind,
                            "code": entry.tracking_code,
                            "category": entry.category,
                            "text": entry.text,
                            "url": absolute_url(reverse("report_status", args=[entry.tracking_code])),
                        }
                        for entry in entries
                    ],
                }
                for place, entries in sections
            ],
            "count": sum(len(entries) for _, entries in sections),
            "unsubscribe_url": stop_url,
        }
    return resident_email(
        template="alerts_digest",
        context=context,
        language=subscription.language,
        recipient_email=subscription.email,
        now=now,
        unsubscribe_url=stop_url,
        dedupe_key=f"digest:{subscription.pk}:{day}",
    )
