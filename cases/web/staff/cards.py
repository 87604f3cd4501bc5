"""The issue cards of the staff lists (``/issues/``, ``/queue/``), written in Python.

A card is some twenty template tags and variables; twenty-five of them through the
template engine were the largest part of drawing a list page (about 5 ms of its
25). Here each card is one f-string: every value from the issue goes through
``escape`` (or ``format_html``), every label through ``gettext``, the due time
through the ``date`` filter in the active time zone, as the template did.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

from core.dates import DateWriter

__all__ = ["issue_cards", "problem_list_rows"]

SUMMARY_CHARS = 140


class _Words:
    """What every card of one answer says the same way, translated once per answer, not per card:
    the labels, the status and priority names, the due time's format."""

    def __init__(self):
        from cases.models import Issue, Priority

        self.statuses = {value: escape(label) for value, label in Issue.Status.choices}
        self.priorities = {value: escape(label) for value, label in Priority.choices}
        self.due_time = DateWriter("SHORT_DATETIME_FORMAT")
        self.overdue = escape(gettext("Overdue"))
        self.needs_decision = escape(gettext("Needs a decision"))
        self.unread = escape(gettext("New message from a resident"))
        self.priority = escape(gettext("Priority"))
        self.due = escape(gettext("Due"))
        self.assignee = escape(gettext("Assignee"))
        self.unassigned = escape(gettext("unassigned"))
        self.me = escape(gettext("me"))

    def status(self, value: str) -> str:
        return self.statuses.get(value) or escape(value)

    def priority_name(self, value: str) -> str:
        return self.priorities.get(value) or escape(value)


def _badges(issue, words: _Words) -> str:
    badges = [f'<span class="badge status-{escape(issue.status)}">{words.status(issue.status)}</span>']
    if issue.priority in ("high", "urgent"):
        badges.append(f'<span class="badge warn">{words.priority_name(issue.priority)}</span>')
    if getattr(issue, "is_overdue", False):
        badges.append(f'<span class="badge overdue">{words.overdue}</span>')
    if issue.escalation_level:
        label = gettext("Escalated L%(level)s") % {"level": issue.escalation_level}
        badges.append(f'<span class="badge escalated">{escape(label)}</span>')
    if getattr(issue, "needs_decision", False):
        badges.append(f'<span class="badge bad">{words.needs_decision}</span>')
    if getattr(issue, "has_unread_messages", False):
        badges.append(f'<span class="badge warn" data-testid="unread-messages">{words.unread}</span>')
    return "\n      ".join(badges)


def _assignee(issue, user, words: _Words) -> str:
    if issue.assignee_id is None:
        return f"<em>{words.unassigned}</em>"
    if issue.assignee_id == user.pk:
        return words.me
    assignee = issue.assignee
    return escape(assignee.get_full_name() or assignee.get_username())


def _summary(text: str) -> str:
    # Truncator counts characters after normalizing them, which never makes a text longer:
    # one of 140 characters or fewer is shown whole without asking it.
    return text if len(text) <= SUMMARY_CHARS else Truncator(text).chars(SUMMARY_CHARS)


def _card(issue, user, words: _Words) -> str:
    classes = "issue-card is-overdue" if getattr(issue, "is_overdue", False) else "issue-card"
    place = escape(issue.neighborhood.name) + (f" · {escape(issue.address)}" if issue.address else "")
    due = localtime(issue.due_at)
    shown = escape(words.due_time(due))
    meta = [
        f"<span>{words.priority}: {words.priority_name(issue.priority)}</span>",
        f'<span>{words.due}: <time datetime="{escape(due.isoformat())}">{shown}</time></span>',
        f"<span>{words.assignee}: {_assignee(issue, user, words)}</span>",
    ]
    reports = getattr(issue, "report_count", 1) or 1
    if reports > 1:
        text = ngettext("%(n)s report", "%(n)s reports", reports) % {"n": reports}
        meta.append(f"<span>{escape(text)}</span>")
    meta_html = "\n      ".join(meta)
    return (
        f'  <li class="{classes}">\n'
        '    <div class="issue-card-head">\n'
        f'      <a class="code" href="{escape(issue.get_absolute_url())}">{escape(issue.tracking_code)}</a>\n'
        f"      {_badges(issue, words)}\n"
        "    </div>\n"
        '    <div class="issue-card-body">\n'
        f"      <strong>{escape(issue.category.name)}</strong> · {place}\n"
        f'      <p class="summary">{escape(_summary(issue.description))}</p>\n'
        "    </div>\n"
        '    <div class="issue-card-meta">\n'
        f"      {meta_html}\n"
        "    </div>\n"
        "  </li>\n"
    )


def issue_cards(issues, user) -> SafeString:
    """``<ul class="issue-cards">`` of ``issues`` (annotated with ``is_overdue`` where the list knows it)."""
    words = _Words()
    items = "".join(_card(issue, user, words) for issue in issues)
    if not items:
        empty = gettext("No issues match.")  # outside the f-string, where makemessages finds it
        items = f'  <li class="empty">{escape(empty)}</li>\n'
    # Every value above was escaped; the markup around it is ours.
    return mark_safe(f'<ul class="issue-cards">\n{items}</ul>')  # noqa: S308


# --- the problems list's rows (/problems/) -----------------------------------------------------


class _ProblemWords:
    """The problems list's stage, source and outcome names and its date format, once per answer."""

    def __init__(self):
        from cases.models import Problem

        self.stages = {value: escape(label) for value, label in Problem.Stage.choices}
        self.sources = {value: escape(label) for value, label in Problem.Source.choices}
        self.outcomes = {value: escape(label) for value, label in Problem.Outcome.choices}
        self.opened = DateWriter("DATE_FORMAT")


def _problem_row(problem, words: _ProblemWords) -> str:
    source = f' <span class="badge warn">{words.sources.get(problem.source) or escape(problem.source)}</span>'
    outcome = problem.outcome and (words.outcomes.get(problem.outcome) or escape(problem.outcome))
    owner = problem.owner
    cells = [
        f'<a href="{escape(problem.get_absolute_url())}">{escape(problem.title)}</a>'
        + (source if problem.source != "manual" else ""),
        (words.stages.get(problem.stage) or escape(problem.stage))
        + (f'<br><span class="muted">{outcome}</span>' if outcome else ""),
        escape(problem.category.name) if problem.category and problem.category.name else "—",
        escape(problem.neighborhood.name) if problem.neighborhood and problem.neighborhood.name else "—",
        escape(owner.get_full_name() or owner.get_username()) if owner else "—",
    ]
    opened = escape(words.opened(localtime(problem.created_at)))
    return (
        f'    <tr data-problem="{problem.pk}">\n'
        + "".join(f"      <td>{cell}</td>\n" for cell in cells)
        + f'      <td class="num">{problem.open_issue_count} / {problem.issue_count}</td>\n'
        + f"      <td>{opened}</td>\n"
        + "    </tr>\n"
    )


def problem_list_rows(problems) -> SafeString:
    """The ``<tr>`` rows of the problems list for ``problems`` (``problem_list``'s: category,
    neighborhood and owner joined, ``issue_count`` and ``open_issue_count`` annotated)."""
    words = _ProblemWords()
    rows = "".join(_problem_row(problem, words) for problem in problems)
    if not rows:
        empty = gettext("No problems match.")  # outside the f-string, where makemessages finds it
        rows = f'    <tr><td colspan="7" class="muted">{escape(empty)}</td></tr>\n'
    # Every value above was escaped; the markup around it is ours.
    return mark_safe(rows)  # noqa: S308
