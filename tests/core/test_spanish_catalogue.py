"""The Spanish catalogue is complete: every entry translated, none fuzzy, the placeholders of each
translation those of its English, and the compiled catalogue (committed, what the app reads) the
one the ``.po`` file gives."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}|%%")


def entries() -> list[dict]:
    """The ``.po`` file's live entries: {"flags", "msgctxt", "msgid", "msgid_plural", "msgstr": [...]}."""
    found, entry, field = [], None, None

    def close():
        if entry is not None and not entry.get("obsolete"):
            found.append(entry)

    for raw in (CATALOGUE / "django.po").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": {}}
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += value
            else:
                entry[field] = (entry[field] or "") + value
        else:
            keyword, _, value = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if match:
                field = ("msgstr", int(match.group(1)))
            elif keyword == "msgstr":
                field = ("msgstr", 0)
            else:
                field = keyword
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] = ast.literal_eval(value)
            else:
                entry[field] = ast.literal_eval(value)
    close()
    return [e for e in found if e["msgid"]]  # the header's msgid is empty


def test_every_entry_is_translated_and_none_is_fuzzy():
    found = entries()
    assert len(found) > 1000  # the parser read the catalogue
    untranslated = [e["msgid"] for e in found if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in found if "fuzzy" in e["flags"]]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


def test_each_translation_keeps_the_placeholders_of_its_english():
    wrong = []
    for e in entries():
        for number, text in e["msgstr"].items():
            english = e["msgid"] if number == 0 or not e["msgid_plural"] else e["msgid_plural"]
            if set(PLACEHOLDER.findall(english)) - {"%(counter)s"} != set(PLACEHOLDER.findall(text)) - {"%(counter)s"}:
                wrong.append((e["msgid"], text))
    assert not wrong, wrong[:5]


def test_the_compiled_catalogue_is_the_po_files():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for e in entries():
        key = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if e["msgid_plural"]:
            got = catalogue.ngettext(key, e["msgid_plural"], 1)
        else:
            got = catalogue.gettext(key)
        if got != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert not stale, f"django.mo is older than django.po (run compilemessages): {stale[:5]}"
