"""Staff search over issues: words typed into /issues/ and the "link an issue" pickers.

Every word (up to ``MAX_WORDS``) must appear, in any case, somewhere in the
issue's tracking code, address or description. The three are searched as one
text, ``UPPER(tracking_code || ' ' || address || ' ' || description)``; on
PostgreSQL a trigram GIN index on exactly that expression
(``issue_search_trgm_idx``, migration 0016) serves the ``LIKE '%WORD%'``, so a
search reads the issues that contain the words rather than every issue. SQLite
(the embedded mode) runs the same condition without the index.

The expression here and the index's must stay the same text: the planner only
uses an expression index for the identical expression.
"""

from __future__ import annotations

from django.db.models import F, Func, Q, TextField

MAX_WORDS = 5
# Words shorter than a trigram cannot use the index; they still narrow a search with longer ones.
MIN_INDEXED_WORD = 3


class IssueSearchText(Func):
    """``UPPER(tracking_code || ' ' || address || ' ' || description)`` (the index's expression)."""

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self, **extra):
        super().__init__(F("tracking_code"), F("address"), F("description"), **extra)


def search_words(text: str) -> list[str]:
    """The words a search looks for: split on spaces, at most ``MAX_WORDS``, upper-cased."""
    words = [word.upper() for word in (text or "").split() if word]
    return words[:MAX_WORDS]


def issue_text_search(queryset, text: str, *, also: Q | None = None, alias: str = "search_text"):
    """``queryset`` narrowed to issues containing every word of ``text`` — or matching ``also``
    (e.g. the tracking code the text spells) — unchanged when there are no words."""
    words = search_words(text)
    if not words:
        return queryset
    condition = Q()
    for word in words:
        condition &= Q(**{f"{alias}__contains": word})
    if also is not None:
        condition = also | condition
    return queryset.alias(**{alias: IssueSearchText()}).filter(condition)
