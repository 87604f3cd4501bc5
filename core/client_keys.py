"""Client-made idempotency keys: an entry sent twice with the same key is written once.

An officer's phone keeps what was typed without a signal and sends it when the network returns,
and sends it again whenever it is not sure the server got it (an answer lost on the way back).
Each entry carries a UUID the device made; the service that writes the entry claims the key in
the same transaction (``client_key_claim``) and records what it made (``client_key_record``).

Two requests with one key at the same moment: the key is the primary key of ``ClientKey``, so
the second INSERT waits on the unique index until the first transaction ends, then fails (the
first committed: it reads the row and answers with what the first made) or succeeds (the first
rolled back: nothing was made, this one makes it). No check-then-insert window.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import ClientKey

__all__ = [
    "Conflict",
    "answers_json",
    "client_key_claim",
    "client_key_parse",
    "client_key_record",
    "client_keys_prune",
    "conflict_json",
    "created_json",
    "invalid_json",
]


class Conflict(Exception):
    """The request cannot be done as asked because of something that happened meanwhile (HTTP 409).

    ``code`` is machine-readable; ``message`` is for the person; ``details`` go to the API answer.
    """

    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None, **details):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


def client_key_parse(value, *, field: str = "client_key") -> uuid.UUID | None:
    """A key as given by a form field or a header: a UUID, or nothing (empty: no key)."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    value = str(value).strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        message = _("The idempotency key must be a UUID, e.g. 0b7f5a52-3c1e-4c55-9e8b-2f4d6a1c9e70.")
        raise ValidationError({field: message}, code="invalid_client_key") from None


def client_key_claim(*, key: uuid.UUID, actor, kind: str) -> int | None:
    """Claim ``key`` for an entry of ``kind`` by ``actor``, inside the caller's transaction.

    Answers None when the key is new (the caller writes the entry, then ``client_key_record``),
    or the id of the entry the key already made. A key used by someone else or for another kind
    of entry is refused (``Conflict``): keys are random, so that is a client bug or a guess.
    """
    for _attempt in range(2):
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives the IntegrityError
                ClientKey.objects.create(key=key, actor=actor, kind=kind)
        except IntegrityError:
            existing = ClientKey.objects.filter(key=key).first()
            if existing is None:
                continue  # the transaction holding it rolled back between our INSERT and our read
            if existing.actor_id != actor.pk or existing.kind != kind:
                raise Conflict(
                    _("This idempotency key was already used for another entry. Send it with a new key."),
                    code="client_key_reused",
                ) from None
            return existing.object_id
        else:
            return None
    raise Conflict(_("This entry is being sent right now. Try again in a moment."), code="client_key_busy")


def client_key_record(*, key: uuid.UUID, object_id: int) -> None:
    """What the claimed key made (same transaction as the entry)."""
    ClientKey.objects.filter(key=key).update(object_id=object_id)


# A device sends what it keeps as soon as it has a network again: hours or days, not months. Keys
# older than this are forgotten every night; an entry replayed after that would be written again.
CLIENT_KEYS_KEEP_DAYS = 90


def client_keys_prune(*, now: datetime | None = None, keep_days: int = CLIENT_KEYS_KEEP_DAYS) -> int:
    """Forget the keys made more than ``keep_days`` ago, in one statement. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    deleted, _by_model = ClientKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# The pages' answers to the device's offline queue (static/js/offline.js), which replays a form
# with ``Accept: application/json``: what it needs is done / refused and why, in the page's
# language, in the REST API's error shape.


def answers_json(request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _error(code: str, message: str, fields: dict | None = None, **details) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **details}}


def created_json(obj, *, url: str = "") -> JsonResponse:
    """Done: 201 both times; ``replayed`` says whether this request wrote it or an earlier one did."""
    body = {"id": obj.pk, "url": url, "replayed": bool(getattr(obj, "replayed", False))}
    return JsonResponse(body, status=201)


def conflict_json(conflict: Conflict) -> JsonResponse:
    return JsonResponse(_error(conflict.code, conflict.message, **conflict.details), status=409)


def invalid_json(form) -> JsonResponse:
    fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    summary = " ".join(message for messages in fields.values() for message in messages)
    return JsonResponse(_error("invalid", summary or _("The input is invalid."), fields), status=400)
