"""The console email backend of the embedded mode, with contact details masked.

``make run`` has no mail server: email goes to the console, which is the log of
the worker. Django's console backend prints every message whole, ``To:`` header
and all, and residents' addresses must never reach a log line. This one writes
the same message with every recipient address masked (``maria.lopez@example.org``
→ ``m***@e***.org``) in ``To``, ``Cc``, ``Bcc`` and ``Reply-To``; display names are
dropped. Subject and body stay readable, except that e-mail addresses and phone
numbers in them are masked too.

The bodies the outbox writes today hold no resident's contact details (a receipt
names the category, the tracking code, the due date and the status link; digests
and problem notices list codes, categories and places; the resident's own text only
reaches staff in-app). Masking them as well costs nothing and keeps the promise if
a later message quotes what a resident typed.
"""

from __future__ import annotations

import copy
import re
from email.utils import getaddresses

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend

__all__ = ["MaskedConsoleEmailBackend", "mask_address", "mask_contacts"]

MASK = "***"
ADDRESS_HEADERS = {"to", "cc", "bcc", "reply-to"}  # lower case: header names are case-insensitive

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers as residents type them: international (+52 55 1234 5678), North American
# ((816) 555-0199, 816.555.0199, 8165550199) and local (555-0199). Shaped, not "any run of
# digits", so dates (2026-05-04 08:00), tracking codes and links stay as they are.
_PHONE = re.compile(
    r"(?<![\w/+-])(?:"
    r"\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}"
    r"|\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}"
    r"|\d{3}[ .-]\d{4}"
    r")(?![\w/-])"
)


def mask_address(address: str) -> str:
    """``maria.lopez@example.org`` → ``m***@e***.org``: the first letters and the top-level domain only."""
    local, _, domain = (address or "").strip().rpartition("@")
    if not local:
        local, domain = domain, ""
    masked = f"{local[:1]}{MASK}"
    if domain:
        name, dot, top = domain.rpartition(".")
        masked += f"@{name[:1]}{MASK}{dot}{top}" if name else f"@{top[:1]}{MASK}"
    return masked


def mask_contacts(text: str) -> str:
    """Mask the e-mail addresses and phone numbers in free text."""
    if not text:
        return text
    text = _EMAIL.sub(lambda m: mask_address(m.group(0)), text)
    return _PHONE.sub(f"[phone {MASK}]", text)


def _masked_list(addresses) -> list[str]:
    # Parsed from the caller's values, not the rendered header: Django encodes a non-ASCII
    # name or mailbox there (=?utf-8?…?=), which no longer parses as an address.
    return [mask_address(address) for _, address in getaddresses([str(a) for a in addresses or []])]


class MaskedConsoleEmailBackend(ConsoleEmailBackend):
    """Django's console backend, writing each message with its contact details masked."""

    def write_message(self, message):
        shown = copy.copy(message)  # the caller's message is left as it is
        shown.to = _masked_list(message.to)
        shown.cc = _masked_list(message.cc)
        shown.bcc = _masked_list(message.bcc)
        shown.reply_to = _masked_list(message.reply_to)
        shown.extra_headers = {
            name: ", ".join(_masked_list([value])) if name.lower() in ADDRESS_HEADERS else value
            for name, value in (message.extra_headers or {}).items()
        }
        shown.subject = mask_contacts(message.subject)
        shown.body = mask_contacts(message.body)
        if getattr(message, "alternatives", None):  # EmailMultiAlternatives: the HTML part too
            shown.alternatives = [
                alternative._replace(content=mask_contacts(alternative.content))
                if isinstance(alternative.content, str)
                else alternative
                for alternative in message.alternatives
            ]
        super().write_message(shown)
