"""The private message key of a report: made once, shown once, stored only as a keyed hash.

The tracking code (``CG-XXXX-XXXX``) is public — Open311 publishes it as
``service_request_id`` — so it cannot be what lets someone read a report's
replies. The web form's reporter is therefore also given a message key, like a
Crime Stoppers tip password: 12 characters of the tracking code's unambiguous
alphabet (32 symbols, 5 bits each: 60 bits), grouped for reading aloud
(``K7QM-2XW9-PLT4``). Only ``HMAC-SHA256(key derived from SECRET_KEY, normalised
key)`` is stored (``Report.message_key_hash``): a copy of the database does not
give the keys back, and without the server's secret one cannot even test a guess
offline. This module has no dependencies on the services, so intake can use it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings
from django.utils.encoding import force_bytes

from cases.models import TRACKING_ALPHABET

__all__ = ["MESSAGE_KEY_LENGTH", "message_key_new", "message_key_normalize", "message_key_hash", "message_key_hashes"]

MESSAGE_KEY_LENGTH = 12
_SALT = "cases.message_key"
# Longer input is not a key; it is cut before hashing so the work stays the same whatever is sent.
_MAX_INPUT = 64


# 32 symbols: each is 5 bits of one draw, so every symbol is equally likely (no modulo bias).
_BITS_PER_SYMBOL = 5
assert len(TRACKING_ALPHABET) == 1 << _BITS_PER_SYMBOL


def message_key_new() -> str:
    """A fresh key, e.g. ``K7QM-2XW9-PLT4``: 60 bits from ``secrets``.

    One draw of 60 bits, cut into twelve 5-bit symbols: the same key space and the same
    uniform choice as twelve ``secrets.choice`` calls, without twelve reads of the system's
    random source.
    """
    bits = secrets.randbits(MESSAGE_KEY_LENGTH * _BITS_PER_SYMBOL)
    mask = (1 << _BITS_PER_SYMBOL) - 1
    body = "".join(TRACKING_ALPHABET[(bits >> (_BITS_PER_SYMBOL * i)) & mask] for i in range(MESSAGE_KEY_LENGTH))
    return f"{body[:4]}-{body[4:8]}-{body[8:]}"


def message_key_normalize(text: str) -> str:
    """'k7qm 2xw9-plt4' → 'K7QM2XW9PLT4': capitals, separators and spaces dropped.

    Whatever was typed gives a string to hash (a malformed key simply matches
    nothing), so a wrong key costs exactly what a right one costs.
    """
    raw = (text or "")[:_MAX_INPUT].upper()
    return "".join(ch for ch in raw if ch.isalnum())


@lru_cache(maxsize=16)
def _hmac_key(secret: str) -> bytes:
    """The HMAC key derived from a secret, as ``django.utils.crypto.salted_hmac`` derives it.

    Worked out once per secret and process rather than on every hash (a report and every
    unlock attempt hash a key, the latter once per secret in use).
    """
    return hashlib.sha256(force_bytes(_SALT) + force_bytes(secret)).digest()


def _hash_with(secret: str, normalized: str) -> str:
    # = salted_hmac(_SALT, normalized, secret=secret, algorithm="sha256").hexdigest()
    return hmac.new(_hmac_key(secret), force_bytes(normalized), hashlib.sha256).hexdigest()


def message_key_hash(key: str) -> str:
    """The stored form of a key: 64 hex characters, under the current SECRET_KEY."""
    return _hash_with(settings.SECRET_KEY, message_key_normalize(key))


def message_key_hashes(key: str) -> list[str]:
    """The key's hash under SECRET_KEY and each of SECRET_KEY_FALLBACKS.

    Rotating SECRET_KEY (the old one kept in SECRET_KEY_FALLBACKS) must not lock
    residents out of their conversations: a key made before the rotation still
    matches its stored hash. Every lookup computes all of them, right key or wrong.
    """
    normalized = message_key_normalize(key)
    secrets_in_use = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_hash_with(secret, normalized) for secret in secrets_in_use]
