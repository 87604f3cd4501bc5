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

When a word holds a digit (a house number, a piece of a tracking code) only those
words are looked up in the index; the other words are checked on the rows they
find, through the same text spelled so that no index serves it
(``IssueFilterText``). A GIN bitmap scan reads the whole posting list of every
trigram it is given: for "4711 Main" the lists of "MAI" and "AIN" hold nearly
every address on a Main Street and grow with the table, while the issues holding
"4711" are few (at 5 000 000 issues: 1 990 index and heap pages instead of 7 336,
the same 3 406 rows found). Words without digits are all looked up as before.
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


class IssueFilterText(IssueSearchText):
    """The same text as ``IssueSearchText``, spelled differently (``|| ''``) so that the trigram
    index does not serve it: a word checked on the rows the indexed words found."""

    template = "UPPER(%(expressions)s || '')"


def search_words(text: str) -> list[str]:
    """The words a search looks for: split on spaces, at most ``MAX_WORDS``, upper-cased."""
    words = [word.upper() for word in (text or "").split() if word]
    return words[:MAX_WORDS]


def indexed_words(words: list[str]) -> list[str]:
    """The words a search looks up in the index: those holding a digit (at least a trigram long),
    or, when none does, all of them."""
    with_digits = [word for word in words if len(word) >= MIN_INDEXED_WORD and any(c.isdigit() for c in word)]
    return with_digits or words


def issue_text_search(queryset, text: str, *, also: Q | None = None, alias: str = "search_text"):
    """``queryset`` narrowed to issues containing every word of ``text`` — or matching ``also``
    (e.g. the tracking code the text spells) — unchanged when there are no words."""
    words = search_words(text)
    if not words:
        return queryset
    looked_up = indexed_words(words)
    filter_alias = f"{alias}_checked"
    condition = Q()
    for word in words:
        name = alias if word in looked_up else filter_alias
        condition &= Q(**{f"{name}__contains": word})
    if also is not None:
        condition = also | condition
    aliases = {alias: IssueSearchText()}
    if len(looked_up) < len(words):
        aliases[filter_alias] = IssueFilterText()
    return queryset.alias(**aliases).filter(condition)
