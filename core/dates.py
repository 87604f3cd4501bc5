"""Dates written in the active language's named format, for code that writes many of them."""

from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format


class DateWriter:
    """``DateWriter("SHORT_DATETIME_FORMAT")(value)`` equals ``value|date:"SHORT_DATETIME_FORMAT"``.

    The format is looked up and parsed once, when the writer is made, rather than for every date
    as the filter does: a list page writes fifty of them. Make one per answer, in the answer's
    language (month names are translated as each date is written).
    """

    def __init__(self, name: str):
        self._pieces: list[tuple[str, bool]] = []
        # split() alternates literal text (even places) and format characters (odd places).
        for place, piece in enumerate(re_formatchars.split(str(get_format(name)))):
            if place % 2:
                self._pieces.append((piece, True))
            elif piece:
                self._pieces.append((re_escaped.sub(r"\1", piece), False))

    def __call__(self, value) -> str:
        written = DateFormat(value)
        return "".join(str(getattr(written, piece)()) if code else piece for piece, code in self._pieces)
