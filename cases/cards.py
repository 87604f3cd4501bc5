"""The issue cards of the staff lists (``/issues/``, ``/queue/``), written in Python.

A card is some twenty template tags and variables; twenty-five of them through the
template engine were the largest part of drawing a list page (about 5 ms of its
25). Here each card is one f-string: every value from the issue goes through
``escape`` (or ``format_html``), every label through ``gettext``, the due time
through the ``date`` filter in the active time zone, as the template did.
"""

from __future__ import annotations

from django.template.defaultfilters import date as date_filter
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

__all__ = ["issue_cards"]


def _badges(issue) -> str:
    badges = [format_html('<span class="badge status-{}">{}</span>', issue.status, issue.get_status_display())]
    if issue.priority in ("high", "urgent"):
        badges.append(format_html('<span class="badge warn">{}</span>', issue.get_priority_display()))
    if getattr(issue, "is_overdue", False):
        badges.append(format_html('<span class="badge overdue">{}</span>', gettext("Overdue")))
    if issue.escalation_level:
        label = gettext("Escalated L%(level)s") % {"level": issue.escalation_level}
        badges.append(format_html('<span class="badge escalated">{}</span>', label))
    if getattr(issue, "needs_decision", False):
        badges.append(format_html('<span class="badge bad">{}</span>', gettext("Needs a decision")))
    if getattr(issue, "has_unread_messages", False):
        badges.append(
            format_html(
                '<span class="badge warn" data-testid="unread-messages">{}</span>',
                gettext("New message from a resident"),
            )
        )
    return "\n      ".join(badges)


def _assignee(issue, user) -> str:
    if issue.assignee_id is None:
        return format_html("<em>{}</em>", gettext("unassigned"))
    if issue.assignee_id == user.pk:
        return escape(gettext("me"))
    assignee = issue.assignee
    return escape(assignee.get_full_name() or assignee.get_username())


def _card(issue, user) -> str:
    classes = "issue-card is-overdue" if getattr(issue, "is_overdue", False) else "issue-card"
    place = escape(issue.neighborhood.name) + (f" · {escape(issue.address)}" if issue.address else "")
    due = localtime(issue.due_at)
    meta = [
        f"<span>{escape(gettext('Priority'))}: {escape(issue.get_priority_display())}</span>",
        f"<span>{escape(gettext('Due'))}: "
        f'<time datetime="{escape(date_filter(due, "c"))}">{escape(date_filter(due, "M j, H:i"))}</time></span>',
        f"<span>{escape(gettext('Assignee'))}: {_assignee(issue, user)}</span>",
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
        f"      {_badges(issue)}\n"
        "    </div>\n"
        '    <div class="issue-card-body">\n'
        f"      <strong>{escape(issue.category.name)}</strong> · {place}\n"
        f'      <p class="summary">{escape(Truncator(issue.description).chars(140))}</p>\n'
        "    </div>\n"
        '    <div class="issue-card-meta">\n'
        f"      {meta_html}\n"
        "    </div>\n"
        "  </li>\n"
    )


def issue_cards(issues, user) -> SafeString:
    """``<ul class="issue-cards">`` of ``issues`` (annotated with ``is_overdue`` where the list knows it)."""
    items = "".join(_card(issue, user) for issue in issues)
    if not items:
        items = f'  <li class="empty">{escape(gettext("No issues match."))}</li>\n'
    # Every value above was escaped; the markup around it is ours.
    return mark_safe(f'<ul class="issue-cards">\n{items}</ul>')  # noqa: S308
