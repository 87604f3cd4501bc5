"""Addresses in one normal form, so that what a resident types meets what the city publishes.

"1200 Main Street", "1200 main st." and "1200 MAIN ST" are one key, ``1200 MAIN ST``:
upper case, accents and punctuation gone, the USPS abbreviations (Publication 28) of the
common street types, directions and unit words. Used when address points are imported
(the stored ``AddressPoint.search``) and on every query against them, the same way, so
the lookups are plain ``=`` / ``LIKE`` on one column in both databases.
"""

from __future__ import annotations

import re
import unicodedata

# Street types, as USPS Publication 28 abbreviates them (common ones, plus frequent misspellings).
STREET_TYPES = {
    "ALLEY": "ALY",
    "AVENUE": "AVE",
    "AV": "AVE",
    "AVEN": "AVE",
    "BOULEVARD": "BLVD",
    "BOUL": "BLVD",
    "BLV": "BLVD",
    "CIRCLE": "CIR",
    "COURT": "CT",
    "CROSSING": "XING",
    "DRIVE": "DR",
    "EXPRESSWAY": "EXPY",
    "FREEWAY": "FWY",
    "HIGHWAY": "HWY",
    "LANE": "LN",
    "PARKWAY": "PKWY",
    "PLACE": "PL",
    "PLAZA": "PLZ",
    "ROAD": "RD",
    "SQUARE": "SQ",
    "STREET": "ST",
    "STR": "ST",
    "TERRACE": "TER",
    "TRAFFICWAY": "TRFY",
    "TRAIL": "TRL",
    "WAY": "WAY",
}
DIRECTIONS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
UNITS = {"APARTMENT": "APT", "SUITE": "STE", "BUILDING": "BLDG", "FLOOR": "FL", "NUMBER": "#", "NO": "#"}
ORDINALS = {
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
    "ELEVENTH": "11TH",
    "TWELFTH": "12TH",
}
WORDS = {**STREET_TYPES, **DIRECTIONS, **UNITS, **ORDINALS}
WORDS.pop("NO")  # "No." is a unit word only before a number (below); alone it may be a name
# A street type typed halfway ("1200 Main Stre"): the last word of a query may be the start of one.
_TYPE_PREFIXES = {long: short for long, short in STREET_TYPES.items() if len(long) >= 5}

_MARKS = re.compile(r"[\u0300-\u036f]")
_NOT_WORD = re.compile(r"[^A-Z0-9#]+")


def _fold(text: str) -> str:
    """Upper case ASCII letters and digits, every other character a space ("Peña" → "PENA")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return _NOT_WORD.sub(" ", _MARKS.sub("", decomposed).upper().replace("#", " # ")).strip()


def tokens(text: str) -> list[str]:
    """The address's words in normal form, in order."""
    words = _fold(text).split()
    out = []
    for index, word in enumerate(words):
        if word in ("NO", "NUMBER") and index + 1 < len(words) and words[index + 1][:1].isdigit():
            out.append("#")
            continue
        out.append(WORDS.get(word, word))
    # "#" is kept as a word only where it means a unit number ("APT # 4" → "APT 4", "# 4" → "# 4").
    out = [word for i, word in enumerate(out) if word != "#" or i == 0 or out[i - 1] not in ("APT", "STE", "UNIT")]
    # "N.W." and "N W" are the one direction "NW".
    joined: list[str] = []
    for word in out:
        if word in ("E", "W") and joined and joined[-1] in ("N", "S"):
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def normalize(text: str) -> str:
    """``tokens`` joined by single spaces: the stored search key and the key a typed address is looked up by."""
    return " ".join(tokens(text))


def query_words(text: str) -> list[tuple[str, ...]]:
    """What a typed query must contain, word by word: each entry is the words any one of which will do.

    The last word may still be being typed: "1200 main stre" also accepts "ST", the type it begins.
    """
    words = tokens(text)
    alternatives = [(word,) for word in words]
    if words:
        last = words[-1]
        if len(last) >= 3 and last not in STREET_TYPES.values():
            begun = {short for long, short in _TYPE_PREFIXES.items() if long.startswith(last)}
            if len(begun) == 1:
                alternatives[-1] = (last, *begun)
    return alternatives
