"""Personal details typed into free text, masked before the public reads it.

``mask_text`` takes what a resident (or an officer, in a public note) typed and
returns the text the public may read, what it hid (counts by kind, never the
values) and whether something that still looks personal was left for a
moderator to judge (``flagged``).

It masks
- email addresses, plain (``maria@example.com``) and spelled out to dodge
  filters: ``maria at example dot com``, ``maria [at] example [dot] com``,
  ``maria(at)example(dot)com``, ``maria @ example . com``, and in Spanish
  ``maria arroba example punto com``;
- phone numbers, found by ``phonenumbers``' matcher (US numbers in every usual
  shape, with extensions, and any number written with its ``+`` country code;
  a long run of digits the US pass does not take is tried as a Mexican number);
- the reporter's own name, each part of two letters or more as a whole word,
  whatever its case or accents ("María José Pérez" hides "maria", "Perez",
  "PÉREZ"), leaving particles such as "de", "la", "van" alone;
- a name the writer introduces ("my name is Dwayne Johnson", "me llamo
  Guadalupe Ramírez", "soy Ana"): the capitalised words after it, and those
  words wherever else they appear. That is a guess, so it also flags the text.

It flags, without masking, a run of seven or more digits that no phone rule took
(an account number, an unusual phone): the public copy keeps it until a
moderator decides.

The replacement marks are fixed, language-neutral symbols, because the public
copy is stored once and read in English and Spanish alike: ``[•••@•••]`` for an
email, ``[☎ •••]`` for a phone number, ``[•••]`` for a name. They hold no
letters or digits, so a later pass can never match inside one.

Nothing here touches models or the database: the data migration that fills the
public copies of old rows imports it as it is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import phonenumbers

__all__ = ["EMAIL_MARK", "NAME_MARK", "PHONE_MARK", "Masked", "mask_text", "name_parts"]

EMAIL_MARK = "[•••@•••]"
PHONE_MARK = "[☎ •••]"
NAME_MARK = "[•••]"


@dataclass(frozen=True)
class Masked:
    text: str
    # Kind ("email", "phone", "name", "digits") → how many were found; never the values.
    findings: dict[str, int] = field(default_factory=dict)
    flagged: bool = False

    @property
    def changed(self) -> bool:
        return any(kind != "digits" for kind in self.findings)

    def combined(self, other: Masked) -> Masked:
        """This text's findings with another's (an issue's address beside its description)."""
        findings = dict(self.findings)
        for kind, count in other.findings.items():
            findings[kind] = findings.get(kind, 0) + count
        return Masked(text=self.text, findings=findings, flagged=self.flagged or other.flagged)


# --- emails -------------------------------------------------------------------------

_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
# A literal "@", possibly with spaces around it; the final label is any word of two letters or more.
_PLAIN_EMAIL = re.compile(
    rf"(?<![\w.+\-]){_LOCAL}\s?@\s?{_LABEL}(?:\s?\.\s?{_LABEL})*\s?\.\s?[A-Za-z]{{2,24}}(?![\w@])"
)
# "at" / "arroba" and "dot" / "punto" spelled out, bare or in brackets. Spelled-out forms end in a
# known top-level domain so that "look at this dot" or "meet at the park" are not taken for emails.
_AT = r"(?:\s*[\[({<]\s*(?:at|arroba)\s*[\])}>]\s*|\s+(?:at|arroba)\s+|\s*@\s*)"
_DOT_WORD = r"(?:\s*[\[({<]\s*(?:dot|punto)\s*[\])}>]\s*|\s+(?:dot|punto)\s+)"
_DOT = rf"(?:{_DOT_WORD}|\s*\.\s*)"
_TLD = r"(?:com|net|org|edu|gov|mil|info|biz|io|co|us|mx|ar|cl|pe|ca|uk|fr|br|app|dev|email|mail)"
# After a literal "." these are ordinary words that start a sentence (". It is", ". Es muy"), so
# only a spelled-out "dot" / "punto" may end an address with them.
_TLD_SPELLED = rf"(?:{_TLD}|es|it|me|de|eu|tv|net)"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.+\-]){_LOCAL}{_AT}{_LABEL}(?:{_DOT}{_LABEL})*(?:{_DOT_WORD}{_TLD_SPELLED}|\s*\.\s*{_TLD})(?![\w])",
    re.IGNORECASE,
)
# Cheap tests before the spelled-out pattern (tens of microseconds) runs at all: a spelled "at"
# and something that ends like an address.
_AT_WORDS = ("at", "arroba")
_TLD_HINT = re.compile(rf"(?:(?:dot|punto)\W*{_TLD_SPELLED}|\.\s*{_TLD})\b", re.IGNORECASE)

# --- phones -------------------------------------------------------------------------

# Where a phone number could be: seven digits or more with only separators between them. The
# matcher costs a few hundred microseconds; this regex a few, so most texts never reach it.
_PHONE_HINT = re.compile(r"\d(?:[\s().\-/]{0,4}\d){6,}")
# A run of digits, single separators allowed between them, of seven digits or more.
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\d(?:[ .\-/]?\(?\)?\d){6,}(?![\w])")
# Shapes that are not personal: dates (2024-03-15, 03/15/2024) and times.
_NOT_PERSONAL = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_PHONE_REGIONS = ("US", "MX")
# Written with a "+" and eight to fifteen digits: a phone number in international form even when
# the matcher's metadata calls it invalid (old Mexican mobiles, "+52 1 55 …").
_PLUS_NUMBER = re.compile(r"(?<![\w+])\+\s?\d(?:[ .\-]?\(?\)?\d){7,14}(?![\w])")

# --- names --------------------------------------------------------------------------

# Words that join the parts of a name and are everyday words too: never masked on their own.
_PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "el", "y", "e", "da", "das", "do", "dos", "di", "du", "van", "von", "der"}
    | {"den", "le", "les", "st", "san", "santa", "mc", "mac", "bin", "ben", "al"}
)
_NAME_WORD = r"[A-ZÁÉÍÓÚÑÜÀÈÌÒÙÂÊÎÔÛÇ][\w'’\-]*"
_INTRO = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|i\s+am\s+called|me\s+llamo|mi\s+nombre\s+es|soy)\s+", re.IGNORECASE
)
# The name itself is case-sensitive: capitalised words, maybe joined by a particle ("Ana de la Cruz").
_INTRODUCED = re.compile(rf"{_NAME_WORD}(?:\s+(?:(?:de|del|la|los|las|y|van|von)\s+){{0,2}}{_NAME_WORD}){{0,3}}")
_INTRO_WORDS = ("name", "llamo", "nombre", "soy", "called")


def _fold_table() -> dict[int, str]:
    """Lower case without accents, one character for one, so positions in the folded text hold."""
    table = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0].lower()
        if len(base) == 1 and base != char:
            table[code] = base
    return table


_FOLD = _fold_table()


def _fold(text: str) -> str:
    # lower() keeps the length once "İ" (the one letter it expands) is folded by the table.
    return text.translate(_FOLD).lower()


def name_parts(names) -> list[str]:
    """The words of these names worth masking: two letters or more, folded, no particles, no repeats."""
    parts: list[str] = []
    for name in names:
        for word in re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)*", _fold(name or "")):
            if len(word) >= 2 and word not in _PARTICLES and word not in parts:
                parts.append(word)
    return parts


# --- the masker ---------------------------------------------------------------------


def mask_text(text: str, *, names=()) -> Masked:
    """``text`` with emails, phone numbers and these names masked (see the module)."""
    if not text:
        return Masked(text or "")
    findings: dict[str, int] = {}
    flagged = False

    def count(kind: str, n: int = 1) -> None:
        if n:
            findings[kind] = findings.get(kind, 0) + n

    if "@" in text:
        text, n = _PLAIN_EMAIL.subn(EMAIL_MARK, text)
        count("email", n)
    lower = text.lower()
    if any(word in lower for word in _AT_WORDS) and _TLD_HINT.search(text):
        text, n = _SPELLED_EMAIL.subn(EMAIL_MARK, text)
        count("email", n)

    if _PHONE_HINT.search(text):
        for region in _PHONE_REGIONS:
            spans = _phone_spans(text, region)
            if spans:
                text = _replace(text, spans, PHONE_MARK)
                count("phone", len(spans))
            if not _loose_digits(text):
                break
        if "+" in text:
            text, n = _PLUS_NUMBER.subn(PHONE_MARK, text)
            count("phone", n)
        loose = _loose_digits(text)
        if loose:
            count("digits", loose)
            flagged = True

    names = list(names)
    if any(word in lower for word in _INTRO_WORDS):
        for match in _INTRO.finditer(text):
            # "soy vecino": the word after must be capitalised, or it is not a name.
            introduced = _INTRODUCED.match(text, match.end())
            if introduced:
                names.append(introduced.group())
                flagged = True
    parts = name_parts(names)
    if parts:
        # Whole words; "Ana's" is Ana's, "d'Ana" too, but "Anastasia" and "Ana2" are not Ana.
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, parts)) + r")(?!\w)(?!['’](?!s\b)\w)")
        folded = _fold(text)
        spans = [(m.start(), m.end()) for m in pattern.finditer(folded)]
        if spans:
            text = _merge_names(text, spans)
            count("name", len(spans))
    return Masked(text, findings, flagged)


def _phone_spans(text: str, region: str) -> list[tuple[int, int]]:
    """Where the matcher finds phone numbers, looking only around runs of seven digits or more.

    The matcher parses every digit group it meets ("12th", "7:30"), a few hundred microseconds
    over a whole report; the windows hold only the candidates, with room for a "+" or "(" before
    and an extension ("ext 12") after.
    """
    windows: list[list[int]] = []
    for hint in _PHONE_HINT.finditer(text):
        start, end = max(hint.start() - 4, 0), min(hint.end() + 16, len(text))
        while end < len(text) and text[end].isdigit():
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [
        (start + match.start, start + match.end)
        for start, end in windows
        for match in phonenumbers.PhoneNumberMatcher(text[start:end], region)
    ]


def _replace(text: str, spans, mark: str) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(mark)
        last = end
    out.append(text[last:])
    return "".join(out)


def _merge_names(text: str, spans) -> str:
    """Each name part masked; "María [•••] [•••]" reads better as one mark, so adjacent parts merge."""
    out, last = [], 0
    for start, end in spans:
        gap = text[last:start]
        if out and out[-1] == NAME_MARK and gap.strip() == "":
            last = end
            continue
        out.append(gap)
        out.append(NAME_MARK)
        last = end
    out.append(text[last:])
    return "".join(out)


def _loose_digits(text: str) -> int:
    """How many runs of seven or more digits are left that are not dates."""
    return sum(1 for m in _DIGIT_RUN.finditer(text) if not _NOT_PERSONAL.fullmatch(m.group()))


# --- filling the public copies of rows written before masking ------------------------


def public_copies_fill(*, issue_model, report_model, event_model, batch_size: int = 500, redo: bool = False, out=None):
    """Write the public copies of existing rows, in batches by id, one UPDATE per batch.

    Takes the models as arguments so that the data migration can pass its historical
    models and the ``mask_public_text`` command the real ones. Rows whose public copy is
    already written are left alone unless ``redo`` (after the masker learned a new shape).
    Public timeline messages are masked in place, the words as typed kept for staff in
    ``data["original_message"]``. ``out(model_name, last_id, max_id, changed)`` hears of
    each batch. Returns {model name: rows changed}.
    """
    from django.db import transaction
    from django.db.models import Max

    def batches(queryset, fields):
        top = queryset.aggregate(top=Max("id"))["top"] or 0
        last = 0
        while last < top:
            rows = list(queryset.filter(id__gt=last).order_by("id").values_list("id", *fields)[:batch_size])
            if not rows:
                break
            last = rows[-1][0]
            yield rows, last, top

    done = {"issue": 0, "report": 0, "address": 0, "event": 0}

    reports = report_model.objects.exclude(text="")
    if not redo:
        reports = reports.filter(public_text="")
    for rows, last, top in batches(reports, ("text", "reporter_name")):
        changed = [report_model(id=pk, public_text=mask_text(text, names=(name,)).text) for pk, text, name in rows]
        with transaction.atomic():
            report_model.objects.bulk_update(changed, ["public_text"])
        done["report"] += len(changed)
        if out:
            out("report", last, top, done["report"])

    issues = issue_model.objects.exclude(description="")
    if not redo:
        issues = issues.filter(public_description="")

    def reporter_names(issue_ids) -> dict[int, list[str]]:
        names: dict[int, list[str]] = {}
        named = report_model.objects.filter(issue_id__in=set(issue_ids)).exclude(reporter_name="")
        for issue_id, name in named.values_list("issue_id", "reporter_name"):
            names.setdefault(issue_id, []).append(name)
        return names

    def fill_issue_copies(queryset, source: str, target: str, key: str) -> None:
        for rows, last, top in batches(queryset, (source,)):
            names = reporter_names(row[0] for row in rows)
            changed = [
                issue_model(id=pk, **{target: mask_text(text, names=names.get(pk, ())).text}) for pk, text in rows
            ]
            with transaction.atomic():
                issue_model.objects.bulk_update(changed, [target])
            done[key] += len(changed)
            if out:
                out(key, last, top, done[key])

    fill_issue_copies(issues, "description", "public_description", "issue")

    # The address a resident typed, published by Open311: a pass of its own, so that a
    # description a moderator rewrote is never overwritten by the masker's copy. (Migration
    # 0014's historical Issue has no public_address yet; 0015 adds it and runs this again.)
    if any(f.name == "public_address" for f in issue_model._meta.concrete_fields):
        addresses = issue_model.objects.exclude(address="")
        if not redo:
            addresses = addresses.filter(public_address="")
        fill_issue_copies(addresses, "address", "public_address", "address")

    events = event_model.objects.filter(is_public=True).exclude(message="")
    for rows, last, top in batches(events, ("message", "data", "issue_id")):
        names = reporter_names(row[3] for row in rows)
        changed = []
        for pk, message, data, issue_id in rows:
            data = data if isinstance(data, dict) else {}
            original = data.get("original_message") if redo else None
            if original is None and "original_message" in data:
                continue  # masked when it was recorded
            original = original or message
            masked = mask_text(original, names=names.get(issue_id, ())).text
            if masked != message:
                changed.append(event_model(id=pk, message=masked, data={**data, "original_message": original}))
        if changed:
            with transaction.atomic():
                event_model.objects.bulk_update(changed, ["message", "data"])
        done["event"] += len(changed)
        if out:
            out("event", last, top, done["event"])
    return done
