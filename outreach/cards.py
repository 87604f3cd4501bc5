"""The outreach log's activity items (``/outreach/``), written in Python.

As with the issue cards (``cases/web/staff/cards.py``): an item is a date, a kind, two lists of
people and three plurals; twenty-five of them through the template engine were over half
of drawing the page (its ``{% for %}`` was 54 % of the view's time, sampled). Here each
item is one f-string: every value from an activity goes through ``escape``, every label
through ``gettext``/``ngettext`` (the template's own messages, so the translations are
the same), the times through the language's named formats in the active time zone.
"""

from __future__ import annotations

from django.template.defaultfilters import floatformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

from core.dates import DateWriter
from core.templatetags.numbers import plural_count

__all__ = ["activity_items"]


class _Words:
    """What every item of one answer says the same way, translated once per answer."""

    def __init__(self):
        from outreach.models import Activity

        self.kinds = {value: escape(label) for value, label in Activity.Kind.choices}
        self.starts = DateWriter("DATETIME_FORMAT")
        self.ends = DateWriter("TIME_FORMAT")
        self.follow_up = escape(gettext("Follow-up needed"))
        self.officers = escape(gettext("Officers"))
        self.partners = escape(gettext("Partners"))


def _officers(activity) -> str:
    names = [escape(u.get_full_name() or u.username) for u in activity.officer_list]
    return ", ".join(names) or "—"


def _partners(activity, words: _Words) -> str:
    if not activity.partner_list:
        return ""
    links = ", ".join(f'<a href="{escape(p.get_absolute_url())}">{escape(p.name)}</a>' for p in activity.partner_list)
    return f'\n      <br><span class="label">{words.partners}:</span> {links}'


def _figures(activity) -> str:
    attendance = ngettext("%(n)s attendee", "%(n)s attendees", activity.attendance) % {"n": activity.attendance}
    hours = floatformat(activity.hours, "-2")
    officer_hours = ngettext("%(h)s officer-hour", "%(h)s officer-hours", plural_count(activity.hours)) % {"h": hours}
    parts = [escape(attendance), escape(officer_hours)]
    issues = getattr(activity, "issue_count", 0)
    if issues:
        parts.append(escape(ngettext("%(n)s issue addressed", "%(n)s issues addressed", issues) % {"n": issues}))
    return " ·\n      ".join(parts)


def _item(activity, words: _Words) -> str:
    neighborhood = activity.neighborhood
    place = f" · {escape(activity.place)}" if activity.place else ""
    follow_up = f'\n      <span class="badge warn">{words.follow_up}</span>' if activity.follow_up_needed else ""
    kind = words.kinds.get(activity.kind) or escape(activity.kind)
    return (
        f'  <li class="card activity-item" data-activity-id="{activity.pk}">\n'
        f'    <div class="activity-when">{escape(words.starts(localtime(activity.starts_at)))}'
        f"–{escape(words.ends(localtime(activity.ends_at)))}</div>\n"
        f'    <h2 class="activity-title"><a href="{escape(activity.get_absolute_url())}">'
        f"{escape(activity.title)}</a></h2>\n"
        '    <p class="activity-meta">\n'
        f'      <span class="badge">{kind}</span>\n'
        f'      <a href="{escape(neighborhood.get_absolute_url())}">{escape(neighborhood.name)}</a>{place}{follow_up}\n'
        "    </p>\n"
        '    <p class="activity-people">\n'
        f'      <span class="label">{words.officers}:</span> {_officers(activity)}{_partners(activity, words)}\n'
        "    </p>\n"
        '    <p class="activity-figures">\n'
        f"      {_figures(activity)}\n"
        "    </p>\n"
        "  </li>\n"
    )


def activity_items(activities) -> SafeString:
    """The ``<li>`` items of ``<ul class="activity-list">`` for ``activities`` (as ``activity_list``
    reads them: officers and partners prefetched as ``officer_list``/``partner_list``, ``issue_count``)."""
    words = _Words()
    # Every value above was escaped; the markup around it is ours.
    return mark_safe("".join(_item(activity, words) for activity in activities))  # noqa: S308
